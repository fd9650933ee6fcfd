import re

import pulumi
import pytest

from components import AutoscaledApp, AutoscaledAppArgs, Resources, StatelessServiceArgs
from components.labels import selector_labels
from offline.engine import run

COMPONENT = "aks-microservices:components:AutoscaledApp"


def todo_api(**overrides) -> StatelessServiceArgs:
    fields = dict(namespace="todo", part_of="todo", component="api", image="ericgregory/todo-api:latest", port=80,
                  deployment_name="todo-api")
    fields.update(overrides)
    return StatelessServiceArgs(**fields)


def render(opts=None, service=None, **overrides):
    return run(lambda: AutoscaledApp("todo-api", AutoscaledAppArgs(service=service or todo_api(), **overrides),
                                     opts))


def test_the_autoscaled_deployment_leaves_spec_replicas_unset_for_the_hpa():
    assert "replicas" not in render().k8s("Deployment", "todo-api")["spec"]


def test_an_autoscaling_v2_hpa_named_like_the_deployment_targets_it_with_the_defaults():
    hpa = render().k8s("HorizontalPodAutoscaler", "todo-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["metadata"]["namespace"] == "todo"
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "todo-api"},
        "minReplicas": 2,
        "maxReplicas": 5,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
    }


def test_cpu_and_memory_targets_and_bounds_are_configurable():
    hpa = render(min_replicas=3, max_replicas=10, target_cpu_percent=60, target_memory_percent=75,
                 scale_down_stabilization_seconds=60).k8s("HorizontalPodAutoscaler", "todo-api")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert [(m["resource"]["name"], m["resource"]["target"]["averageUtilization"]) for m in hpa["spec"]["metrics"]] \
        == [("cpu", 60), ("memory", 75)]
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 60


def test_a_memory_only_target_works_without_a_cpu_request():
    service = todo_api(resources=Resources(cpu_request=None))
    hpa = render(service=service, target_cpu_percent=None, target_memory_percent=70).k8s(
        "HorizontalPodAutoscaler", "todo-api")
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["memory"]


def test_a_pdb_protects_the_minimum_when_at_least_two_replicas_always_run():
    pdb = render().k8s("PodDisruptionBudget", "todo-api")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == {"matchLabels": selector_labels("todo-api", "todo")}


def test_there_is_no_pdb_when_the_hpa_may_scale_to_one_unless_asked():
    assert not render(min_replicas=1).of_type("kubernetes:policy/v1:PodDisruptionBudget")
    assert not render(service=todo_api(pdb=False)).of_type("kubernetes:policy/v1:PodDisruptionBudget")


def test_the_app_keeps_its_service_and_secure_pod_defaults():
    recording = render()
    assert recording.k8s("Service", "todo-api")["spec"]["type"] == "ClusterIP"
    pod = recording.k8s("Deployment", "todo-api")["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["resources"]["requests"]["cpu"] == "100m"


def test_children_are_a_stateless_service_and_an_hpa_named_from_the_component():
    recording = render()
    component = recording.of_type(COMPONENT)[0]
    children = {r.name: r.type for r in recording.children_of(component.urn)}
    assert children == {
        "todo-api-app": "aks-microservices:components:StatelessService",
        "todo-api-hpa": "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    }
    app = recording.of_type("aks-microservices:components:StatelessService")[0]
    assert {r.name for r in recording.children_of(app.urn)} == {
        "todo-api-app-deployment", "todo-api-app-service", "todo-api-app-pdb", "todo-api-app-service-account",
        "todo-api-app-network-policy",
    }


def test_user_opts_such_as_protect_reach_every_descendant():
    recording = render(opts=pulumi.ResourceOptions(protect=True))
    assert all(r.protect for r in recording.resources)


def test_outputs_give_the_service_dns_name_and_port():
    recording = render()
    app = recording.value
    assert recording.resolve(app.host) == "todo-api.todo.svc.cluster.local"
    assert app.port == 80
    assert app.hpa is not None and app.app.deployment is not None


def test_every_object_is_valid_and_labelled(assert_manifests_valid, assert_recommended_labels):
    recording = render(target_memory_percent=90)
    assert_manifests_valid(recording)
    assert_recommended_labels(recording, name="todo-api", instance="todo", component="api", part_of="todo")


ERRORS = [
    ({"min_replicas": 0}, "AutoscaledAppArgs.min_replicas: expected an integer >= 1, got 0"),
    ({"max_replicas": 0}, "AutoscaledAppArgs.max_replicas: expected an integer >= 1, got 0"),
    ({"min_replicas": 4, "max_replicas": 3},
     "AutoscaledAppArgs.max_replicas: expected an integer >= min_replicas (4), got 3"),
    ({"target_cpu_percent": 0}, "AutoscaledAppArgs.target_cpu_percent: expected an integer >= 1, got 0"),
    ({"target_memory_percent": -5}, "AutoscaledAppArgs.target_memory_percent: expected an integer >= 1, got -5"),
    ({"target_cpu_percent": None},
     "AutoscaledAppArgs.target_cpu_percent: expected a CPU or memory target (both are None), got None"),
    ({"scale_down_stabilization_seconds": 7200},
     "AutoscaledAppArgs.scale_down_stabilization_seconds: expected an integer 0-3600, got 7200"),
    ({"service": todo_api(replicas=3)},
     "AutoscaledAppArgs.service.replicas: expected 1 (the default) or None: the HPA owns the replica count, got 3"),
    ({"service": todo_api(resources=Resources(cpu_request=None))},
     "AutoscaledAppArgs.target_cpu_percent: expected None when service.resources.cpu_request is None "
     "(utilization is a percentage of the request), got 80"),
    ({"service": {"deployment_name": "todo-api"}},
     "AutoscaledAppArgs.service: expected a StatelessServiceArgs, got {'deployment_name': 'todo-api'}"),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS)
def test_args_reject_bad_fields_naming_the_field_and_value(overrides, message):
    fields = {"service": todo_api(), **overrides}
    with pytest.raises(ValueError, match=re.escape(message)):
        AutoscaledAppArgs(**fields)

