"""ServiceAccount: an identity of its own for each workload, which never hands its pods an API token.

Pods never run as the namespace's `default` account: each workload gets one named like it, so permissions (a
Role, a workload identity federation) can later be granted to exactly one workload. The token is not mounted
(`automountServiceAccountToken: false` here and on every pod): nothing in these apps calls the Kubernetes API.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s


def service_account(resource_name: str, *, name: str, namespace: pulumi.Input[str], labels: Mapping[str, str],
                    annotations: Mapping[str, pulumi.Input[str]] | None = None,
                    opts: pulumi.ResourceOptions) -> k8s.core.v1.ServiceAccount:
    """ServiceAccount `name` in `namespace`, without an automatically mounted token."""
    return k8s.core.v1.ServiceAccount(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels),
                                            annotations=dict(annotations) if annotations else None),
        automount_service_account_token=False,
        opts=opts,
    )
