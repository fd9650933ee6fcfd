"""The example stack (examples/existing-cluster) reuses the components on an existing cluster, offline."""

from __future__ import annotations

import pytest

from offline.engine import PROJECT_DIR, run_stack
from offline.stack_config import load_stack_config
from offline.validate import validate_object

EXAMPLE = PROJECT_DIR / "examples" / "existing-cluster"
NAMESPACE = "guestbook"


@pytest.fixture(scope="module")
def example(installed_package):
    return run_stack("kind", project_dir=EXAMPLE)


def test_the_example_is_a_project_of_its_own():
    config = load_stack_config(EXAMPLE, "kind")
    assert config.project == "components-example"
    assert config.values["components-example:context"] == "kind-kind"


def test_it_creates_no_cloud_resources_and_one_provider_for_the_configured_context(example):
    assert not [r for r in example.resources if r.type.startswith(("azure", "random"))]
    [provider] = example.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-kind"
    for resource in example.kubernetes_resources():
        assert resource.provider_urn == provider.urn, resource.name


def test_its_workloads_come_from_the_components_with_their_names_and_defaults(example):
    components = {r.type.rsplit(":", 1)[-1] for r in example.resources if r.type.startswith("aks-microservices:components:")}
    assert {"StatelessService", "StatefulStore"} <= components
    greeter = example.k8s("Deployment", "greeter", NAMESPACE)
    assert greeter["spec"]["replicas"] == 2
    pod = greeter["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    assert container["env"] == [{"name": "REDIS_HOST", "value": "redis.guestbook.svc.cluster.local"}]
    redis = example.k8s("StatefulSet", "redis", NAMESPACE)
    assert redis["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 999
    assert redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert example.k8s("Service", "greeter", NAMESPACE)["spec"]["type"] == "ClusterIP"


def test_every_object_is_valid_kubernetes_and_carries_the_recommended_labels(example):
    for manifest in example.k8s_objects():
        assert validate_object(manifest, "1.33") == [], manifest["metadata"]["name"]
        labels = manifest["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "guestbook", manifest["metadata"]["name"]


def test_its_outputs_are_the_components_outputs(example):
    assert example.stack_outputs["greeter"]["host"] == "greeter.guestbook.svc.cluster.local"
    assert example.stack_outputs["redis"] == {"host": "redis.guestbook.svc.cluster.local", "port": 6379}


def test_a_wrong_service_type_stops_the_example_with_one_line(installed_package):
    with pytest.raises(Exception, match="components-example:serviceType: expected ClusterIP or LoadBalancer"):
        run_stack("kind", project_dir=EXAMPLE, overrides={"components-example:serviceType": "NodePort"})


def _network_model():
    # tests/security's independent model of NetworkPolicy semantics (not a package: loaded by path).
    import importlib.util
    import sys
    from pathlib import Path

    if "network_model" not in sys.modules:  # the same file tests/security imports under that name
        path = Path(__file__).parents[1] / "security" / "network_model.py"
        spec = importlib.util.spec_from_file_location("network_model", path)
        sys.modules["network_model"] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["network_model"]


def test_the_greeter_reaches_redis_and_dns_with_no_namespace_wide_policy(example):
    model_module = _network_model()
    objects = example.k8s_objects()
    assert not [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] in ("allow-dns", "default-deny")]
    parties = {p.name: p for p in model_module.workload_parties(objects)}
    greeter, redis = parties[f"{NAMESPACE}/greeter"], parties[f"{NAMESPACE}/redis"]
    kube_dns = model_module.Party("kube-system/coredns", "kube-system", labels={"k8s-app": "kube-dns"},
                                  ports=frozenset({(53, "UDP"), (53, "TCP")}))
    model = model_module.NetworkModel(objects)
    assert model.allows(greeter, redis, 6379)
    assert model.allows(greeter, kube_dns, 53, "UDP") and model.allows(greeter, kube_dns, 53, "TCP")
    assert not model.allows(greeter, redis, 6380)
