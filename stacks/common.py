"""What every app shares: a parent component, its own namespace, and the options children need.

Each app is one `aks-microservices:apps:App` component named after the app. It holds the platform's
Kubernetes provider, so every child inherits it through parenting (no child names a provider itself),
and owns the app's Namespace. Component children get `scope.opts()`; stateful ones `scope.opts(stateful=True)`,
which adds Pulumi `protect` when the stack's `dataProtection` is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.labels import recommended_labels
from infra import Platform
from settings import StackSettings


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


def open_app(key: str, namespace: str, settings: StackSettings, platform: Platform) -> AppScope:
    """Create the app's parent component and namespace. The namespace name is part of the contract."""
    app = App(key, platform)
    labels = recommended_labels(name=namespace, instance=key, component="namespace", part_of=key)
    ns = k8s.core.v1.Namespace(
        f"{key}-namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels),
        # Deleting a namespace deletes every claim in it: protect it with the data.
        opts=pulumi.ResourceOptions(parent=app, protect=settings.data_protection),
    )
    return AppScope(
        key=key,
        namespace_name=namespace,
        app=app,
        namespace=ns,
        platform=platform,
        data_protection=settings.data_protection,
    )
