"""Build the platform for the configured kind and describe it to the apps as a `Platform`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from settings import StackSettings


@dataclass(frozen=True)
class Platform:
    """What an app needs from the platform. Every Kubernetes resource of the stack uses `provider`."""

    kind: str
    provider: k8s.Provider
    # Storage classes for per-replica (ReadWriteOnce) and shared (ReadWriteMany) volumes; None = cluster default.
    per_replica_storage_class: pulumi.Input[str] | None
    shared_storage_class: pulumi.Input[str] | None
    ingress_class: str
    # Namespace of the ingress class's controller pods: app NetworkPolicies let only it in to Ingress backends.
    ingress_controller_namespace: str
    # How a public Service is exposed where an app does not use an Ingress: LoadBalancer or NodePort.
    external_service_type: str
    # Maps a public image reference (e.g. `mongo:7.0`) to what the cluster pulls (e.g. an ACR cache path).
    # Only images the enabled apps declare (their `images()`) may be passed: anything else raises ValueError.
    image: Callable[[str], pulumi.Input[str]] = field(default=lambda ref: ref)
    outputs: dict[str, pulumi.Input] = field(default_factory=dict)
    # The ACR login server on AKS; None on an existing cluster.
    registry_login_server: pulumi.Input[str] | None = None
    # The cluster's OIDC issuer (workload identity federation) on AKS; None on an existing cluster.
    oidc_issuer_url: pulumi.Input[str] | None = None


def build_platform(settings: StackSettings, images: Iterable[str]) -> Platform:
    """Create the platform's resources. `images` are the public images the enabled apps use.

    On AKS, one ACR cache rule is created per upstream repository among `images`, and `Platform.image`
    rewrites those references to the registry (when `registry.cacheImages` is on).
    """
    # Imported here: both modules build on `Platform`, defined above.
    from infra.aks import build_aks_platform
    from infra.existing import build_existing_platform

    images = frozenset(images)
    if settings.platform.kind == "aks":
        return build_aks_platform(settings, images)
    return build_existing_platform(settings, images)
