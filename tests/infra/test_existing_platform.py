"""`platform: existing`: no Azure at all; the configured kubeconfig, context, storage classes, ingress and exposure."""

from __future__ import annotations

import pytest
from infra_runs import NO_APPS, platform_only

from offline.engine import run_stack

PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def local():
    return run_stack("local")


@pytest.fixture(scope="module")
def node_port_stack():
    # Behind a NodePort the browser-facing data-api address cannot be discovered: Smilr is told it.
    return run_stack(
        "local",
        overrides={
            "existing": {"exposure": "NodePort"},
            "apps": {"smilr": {"apiEndpoint": "http://192.168.49.2:30400/api"}},
        },
    )


def test_an_existing_cluster_gets_no_azure_resource_at_all(local):
    assert local.kubernetes_resources()  # the apps are deployed
    assert [r.type for r in local.resources if r.type.startswith("azure-native:")] == []
    assert "kubeconfig" not in local.stack_outputs
    assert local.stack_outputs["platform"] == "existing"


def test_every_kubernetes_resource_goes_to_the_configured_context(local):
    [provider] = local.of_type(PROVIDER)
    # Pulumi.local.yaml: the minikube context of the ambient kubeconfig.
    assert provider.inputs.get("context") == "minikube"
    assert "kubeconfig" not in provider.inputs
    kubernetes = [r for r in local.resources if r.custom and r.type.startswith("kubernetes:")]
    assert {r.provider_urn for r in kubernetes} == {provider.urn}


def test_a_given_kubeconfig_path_is_used():
    recording = platform_only(
        {**NO_APPS, "existing": {"kubeconfig": "/etc/kind/kubeconfig", "context": "kind-dev"}}, stack="local"
    )
    [provider] = recording.of_type(PROVIDER)
    assert provider.inputs["kubeconfig"] == "/etc/kind/kubeconfig"
    assert provider.inputs["context"] == "kind-dev"
    assert recording.value[0].outputs["kubeContext"] == "kind-dev"


def test_without_kubeconfig_or_context_the_ambient_kubeconfig_is_used():
    recording = platform_only({**NO_APPS, "existing": {"context": None}}, stack="local")
    [provider] = recording.of_type(PROVIDER)
    assert "kubeconfig" not in provider.inputs
    assert "context" not in provider.inputs


def test_storage_classes_default_to_the_cluster_default_and_follow_config():
    default, _ = platform_only(NO_APPS, stack="local").value
    assert default.per_replica_storage_class is None
    assert default.shared_storage_class is None
    configured = platform_only(
        {**NO_APPS, "existing": {"perReplicaStorageClass": "standard", "sharedStorageClass": "nfs-client"}}, stack="local"
    )
    platform, _ = configured.value
    assert (platform.per_replica_storage_class, platform.shared_storage_class) == ("standard", "nfs-client")
    # An existing cluster's storage classes are its own: none is created.
    assert configured.of_type("kubernetes:storage.k8s.io/v1:StorageClass") == []


def test_ingress_class_and_exposure_follow_config():
    platform, _ = platform_only(
        {**NO_APPS, "existing": {"ingressClass": "traefik", "exposure": "NodePort"}}, stack="local"
    ).value
    assert platform.kind == "existing"
    assert platform.ingress_class == "traefik"
    assert platform.external_service_type == "NodePort"
    default, _ = platform_only(NO_APPS, stack="local").value
    assert (default.ingress_class, default.external_service_type) == ("nginx", "LoadBalancer")


def test_images_are_pulled_from_their_public_registries():
    def rewrite(platform):
        return platform.image("mongo:7.0")

    recording = platform_only(NO_APPS, images={"mongo:7.0"}, stack="local", use=rewrite)
    assert recording.value[1] == "mongo:7.0"


def test_with_node_port_exposure_no_service_asks_for_a_load_balancer(node_port_stack):
    services = [o for o in node_port_stack.k8s_objects() if o["kind"] == "Service"]
    assert [s["metadata"]["name"] for s in services if s["spec"].get("type") == "LoadBalancer"] == []
    assert [s for s in services if s["spec"].get("type") == "NodePort"]


def test_ingresses_use_the_configured_ingress_class(local):
    ingresses = [o for o in local.k8s_objects() if o["kind"] == "Ingress"]
    assert {i["spec"]["ingressClassName"] for i in ingresses} <= {"nginx"}


def test_ingress_traffic_is_admitted_only_from_the_configured_controller_namespace():
    recording = run_stack("local", overrides={"existing": {"ingressControllerNamespace": "traefik-system"}})
    policies = [o for o in recording.k8s_objects() if o["kind"] == "NetworkPolicy"]
    admitted = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [])
        if "namespaceSelector" in peer and "podSelector" not in peer
    }
    assert "traefik-system" in admitted
    assert "ingress-nginx" not in admitted
