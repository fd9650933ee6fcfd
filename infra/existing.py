"""`platform: existing`: deploy to a cluster someone else runs. No Azure resource at all."""

from __future__ import annotations

import os

import pulumi
import pulumi_kubernetes as k8s

from infra.images import DeclaredImages
from infra.platform import Platform
from settings import StackSettings


class ExistingCluster(pulumi.ComponentResource):
    """The Kubernetes provider of an existing cluster, from the configured kubeconfig and context."""

    def __init__(self, name: str, settings: StackSettings, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-microservices:infra:ExistingCluster", name, None, opts)
        existing = settings.platform.existing
        # Neither kubeconfig nor context: the provider uses the ambient kubeconfig ($KUBECONFIG or
        # ~/.kube/config), which is what the user chose by configuring `platform: existing` alone.
        kubeconfig = os.path.expanduser(existing.kubeconfig) if existing.kubeconfig else None
        self.provider = k8s.Provider(
            f"{name}-kubernetes",
            kubeconfig=kubeconfig,
            context=existing.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


def build_existing_platform(settings: StackSettings, images: frozenset[str]) -> Platform:
    existing = settings.platform.existing
    cluster = ExistingCluster("existing", settings)
    declared = DeclaredImages.of(images)

    def image(reference: str) -> str:
        # Pulled from its public registry as written; checked so that a mistake shows here, not on AKS.
        declared.require(reference)
        return reference

    outputs: dict[str, pulumi.Input] = {"platform": "existing"}
    if existing.context:
        outputs["kubeContext"] = existing.context
    return Platform(
        kind="existing",
        provider=cluster.provider,
        per_replica_storage_class=existing.per_replica_storage_class,
        shared_storage_class=existing.shared_storage_class,
        ingress_class=existing.ingress_class,
        # Default: where ingress-nginx (its Helm chart, Minikube's and kind's add-ons) runs.
        ingress_controller_namespace=existing.ingress_controller_namespace,
        external_service_type=existing.exposure,
        image=image,
        outputs=outputs,
    )
