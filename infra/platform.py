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
    # How a public Service is exposed where an app does not use an Ingress: LoadBalancer or NodePort.
    external_service_type: str
    # Maps a public image reference (e.g. `mongo:7.0`) to what the cluster pulls (e.g. an ACR cache path).
    image: Callable[[str], pulumi.Input[str]] = field(default=lambda ref: ref)
    outputs: dict[str, pulumi.Input] = field(default_factory=dict)


def build_platform(settings: StackSettings, images: Iterable[str]) -> Platform:
    """Create the platform's resources. `images` are the public images the enabled apps use."""
    del images  # the AKS platform derives its registry cache rules from them
    provider = k8s.Provider("k8s", opts=pulumi.ResourceOptions())
    return Platform(
        kind=settings.platform.kind,
        provider=provider,
        per_replica_storage_class=None,
        shared_storage_class=None,
        ingress_class="nginx",
        external_service_type="LoadBalancer",
    )
