"""What every app shares: a parent component, its own namespace, and the options children need.

Each app is one `aks-microservices:apps:App` component named after the app. It holds the platform's
Kubernetes provider, so every child inherits it through parenting (no child names a provider itself),
and owns the app's Namespace. Component children get `scope.opts()`; stateful ones `scope.opts(stateful=True)`,
which adds Pulumi `protect` when the stack's `dataProtection` is on.

Every app namespace is closed by default: Pod Security Admission enforces `restricted` unless the app says
why it cannot (`PodSecurity.baseline(reason)`), and NetworkPolicies `default-deny` and `allow-dns` isolate
every pod until a workload's declared connections and exposure open exactly what they need.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import NamespaceIsolation, PodSecurity
from components.labels import recommended_labels
from infra import Platform
from settings import StackSettings
from settings.availability import AvailabilitySettings


class App(pulumi.ComponentResource):
    """The parent of one application's resources."""

    def __init__(self, name: str, platform: Platform):
        super().__init__(
            "aks-microservices:apps:App",
            name,
            None,
            pulumi.ResourceOptions(providers={"kubernetes": platform.provider}),
        )


@dataclass(frozen=True)
class AppScope:
    """One app's parent component, namespace and shared settings."""

    key: str
    namespace_name: str
    app: App
    namespace: k8s.core.v1.Namespace
    platform: Platform
    data_protection: bool
    availability: AvailabilitySettings

    @property
    def zone_spread(self) -> str:
        """Every workload's zone spread (`availability.zoneSpread`)."""
        return self.availability.zone_spread

    def single_replica(self, replicas: int | None, key: str) -> str | None:
        """The disruption-allowed reason of a tier that could run several pods but is set to one (`key`, e.g.
        `apps.homics.gatewayReplicas`): only where the stack allows it (settings refuse it otherwise)."""
        if replicas is None or replicas >= 2:
            return None
        if not self.availability.allow_single_replica_tiers:  # settings refuse this first; never annotate it
            raise ValueError(f"{key}: {replicas} replica with availability.allowSingleReplicaTiers false")
        return (f"one replica ({key}: {replicas}) in a stack that allows single-replica tiers "
                "(availability.allowSingleReplicaTiers): a drain of its node stops it until the pod is rescheduled")

    def opts(self, stateful: bool = False, **extra) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self.app,
            depends_on=[self.namespace],
            protect=self.data_protection if stateful else None,
            **extra,
        )

    def image(self, reference: str) -> pulumi.Input[str]:
        return self.platform.image(reference)

    def finish(self, outputs: dict[str, pulumi.Input]) -> dict[str, pulumi.Input]:
        self.app.register_outputs(outputs)
        return outputs


RESTRICTED = PodSecurity()


def open_app(key: str, namespace: str, settings: StackSettings, platform: Platform,
             pod_security: PodSecurity = RESTRICTED) -> AppScope:
    """Create the app's parent component and its isolated namespace. The namespace name is part of the contract."""
    app = App(key, platform)
    ns = isolated_namespace(f"{key}-namespace", namespace, part_of=key, settings=settings,
                            pod_security=pod_security, parent=app,
                            # Deleting a namespace deletes every claim in it: protect it with the data.
                            protect=settings.data_protection)
    return AppScope(
        key=key,
        namespace_name=namespace,
        app=app,
        namespace=ns,
        platform=platform,
        data_protection=settings.data_protection,
        availability=settings.availability,
    )


def isolated_namespace(resource_name: str, name: str, *, part_of: str, settings: StackSettings,
                       pod_security: PodSecurity, parent: pulumi.Resource, protect: bool = False,
                       component: str = "namespace") -> k8s.core.v1.Namespace:
    """Namespace `name` with its Pod Security labels, and its NetworkPolicies `default-deny` and `allow-dns`
    (child `<resource_name>-isolation`)."""
    labels = recommended_labels(name=name, instance=part_of, component=component, part_of=part_of)
    namespace = k8s.core.v1.Namespace(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=name,
            labels={**labels, **pod_security.labels(settings.kubernetes_version)},
            annotations=pod_security.annotations() or None,
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    NamespaceIsolation(f"{resource_name}-isolation", namespace=name, labels=labels,
                       opts=pulumi.ResourceOptions(parent=parent, depends_on=[namespace]))
    return namespace


def pull_policy(tag: str) -> str:
    """`Always` for the mutable `latest` tag, so every node runs the build the tag names now (Kubernetes' own
    default for `latest`); `IfNotPresent` for pinned tags, so pod starts do not depend on the registry."""
    return "Always" if tag == "latest" else "IfNotPresent"


def public_service_type(platform: Platform) -> str:
    """How a seed's LoadBalancer Service is exposed: as one on AKS; as the cluster offers elsewhere."""
    return platform.external_service_type if platform.kind == "existing" else "LoadBalancer"
