"""Build the platform for the configured kind and describe it to the apps as a `Platform`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components import SecretStoreVolume
from settings import StackSettings


@dataclass(frozen=True)
class SecretShape:
    """One Kubernetes Secret an app's pods read: its keys and the labels of the object. Values come later
    (`AppSecrets.provide`), so a store's pods can be declared before the passwords they mount exist."""

    keys: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=dict)


class AppSecrets(Protocol):
    """Where one app's secrets live and how its pods read them.

    `volume` is what a reading pod mounts (None: plain Kubernetes Secrets, nothing to mount); `provide` stores
    the values of one declared Secret and returns its name as an Output that settles once pods can read it."""

    volume: SecretStoreVolume | None

    def provide(self, resource_name: str, *, name: str, data: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> pulumi.Output[str]: ...


class KubernetesSecrets:
    """Plain Kubernetes Secrets (`platform: existing`, or AKS without `keyVault`): `provide` creates the Secret."""

    volume: SecretStoreVolume | None = None

    def __init__(self, namespace: str, secrets: Mapping[str, SecretShape]):
        self._namespace = namespace
        self._secrets = dict(secrets)

    def provide(self, resource_name: str, *, name: str, data: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        shape = check_provided(self._secrets, name, data)
        secret = k8s.core.v1.Secret(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._namespace, labels=dict(shape.labels)),
            type="Opaque",
            # string_data: the provider marks it secret and stores it base64-encoded as data.
            string_data={key: pulumi.Output.secret(value) for key, value in data.items()},
            opts=opts,
        )
        return secret.metadata.name


def check_provided(secrets: Mapping[str, SecretShape], name: str, data: Mapping[str, pulumi.Input[str]]) -> SecretShape:
    """The declared shape of Secret `name`; ValueError when `data` has other keys than declared."""
    shape = secrets.get(name)
    if shape is None:
        raise ValueError(f"app secrets: Secret {name!r} was not declared (declared: {sorted(secrets)})")
    if sorted(data) != sorted(shape.keys):
        raise ValueError(f"app secrets: Secret {name!r} expects keys {sorted(shape.keys)}, got {sorted(data)}")
    return shape


def kubernetes_secrets(app: str, namespace: str, *, secrets: Mapping[str, SecretShape], readers: Sequence[str],
                       opts: pulumi.ResourceOptions) -> AppSecrets:
    """`Platform.app_secrets` without a secret store: every Secret is a Kubernetes Secret the stack creates."""
    return KubernetesSecrets(namespace, secrets)


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
    # Where an app keeps its secrets: `app_secrets(app, namespace, secrets=..., readers=..., opts=...)`, with
    # `readers` the ServiceAccounts of the pods that read them. Kubernetes Secrets unless the platform has a
    # secret store (AKS with `keyVault`: Key Vault, read through the Secrets Store CSI driver).
    app_secrets: Callable[..., AppSecrets] = kubernetes_secrets


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
