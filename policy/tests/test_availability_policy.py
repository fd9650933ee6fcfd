"""workloads-survive-disruption-in-production: 2+ pods, a PDB and a hard zone spread, or a declared reason."""

from __future__ import annotations

from aks_policies.availability import workloads_survive_disruption_in_production as policy
from harness import check_stack, resource, urn
from manifests import DEPLOYMENT, deployment, pod_spec

PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
ANNOTATION = "aks-microservices.io/disruption-allowed"
HARD = [{"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}]
SOFT = [{**HARD[0], "whenUnsatisfiable": "ScheduleAnyway"}]


def web(replicas: int | None = 2, spread=HARD, reason: str | None = None) -> dict:
    manifest = deployment(pod_spec(topologySpreadConstraints=spread))
    if replicas is None:
        del manifest["spec"]["replicas"]
    else:
        manifest["spec"]["replicas"] = replicas
    if reason is not None:
        manifest["metadata"]["annotations"] = {ANNOTATION: reason}
    return manifest


def budget() -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}}


def hpa(min_replicas: int) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                     "minReplicas": min_replicas, "maxReplicas": 5}}


def check(*manifests: tuple[str, dict], stack: str = "prod") -> list[str]:
    resources = [resource(kind, props, name=props["metadata"]["name"],
                          resource_urn=urn(kind, props["metadata"]["name"] + kind[-3:], stack=stack))
                 for kind, props in manifests]
    return [message for message, _ in check_stack(policy, resources)]


def test_two_pods_with_a_budget_and_a_hard_zone_spread_pass():
    assert check((DEPLOYMENT, web()), (PDB, budget())) == []


def test_one_pod_without_budget_nor_hard_spread_is_named_with_every_problem():
    [message] = check((DEPLOYMENT, web(replicas=1, spread=SOFT)))
    assert message.startswith("Deployment shop/web of production stack 'prod' runs 1 pod, has no "
                              "PodDisruptionBudget, does not spread over topology.kubernetes.io/zone with "
                              "DoNotSchedule")


def test_a_soft_zone_spread_is_a_violation_even_with_pods_and_budget():
    [message] = check((DEPLOYMENT, web(spread=SOFT)), (PDB, budget()))
    assert "does not spread over topology.kubernetes.io/zone" in message and "runs" not in message


def test_an_autoscaled_workload_counts_the_hpa_minimum():
    assert check((DEPLOYMENT, web(replicas=None)), (HPA, hpa(2)), (PDB, budget())) == []
    [message] = check((DEPLOYMENT, web(replicas=None)), (HPA, hpa(1)), (PDB, budget()))
    assert "runs 1 pod" in message


def test_a_declared_reason_exempts_the_workload():
    assert check((DEPLOYMENT, web(replicas=1, spread=SOFT, reason="one H2 server, no replication"))) == []


def test_an_empty_reason_does_not():
    assert check((DEPLOYMENT, web(replicas=1, reason="  ")), (PDB, budget()))


def test_non_production_stacks_are_not_judged():
    assert check((DEPLOYMENT, web(replicas=1, spread=SOFT)), stack="dev") == []


def test_prod_passes_and_would_fail_if_a_store_lost_its_declared_reason():
    import copy

    from aks_policies import ALL_POLICIES
    from harness import check_all
    from test_rendered_stacks import CONFIG, exported

    resources = copy.deepcopy(exported("prod"))
    assert [v for v in check_all(ALL_POLICIES, resources, CONFIG) if v.startswith(policy.name)] == []
    [kafka] = [r for r in resources if r["props"].get("kind") == "StatefulSet" and r["props"]["metadata"]["name"] == "kafka"]
    del kafka["props"]["metadata"]["annotations"][ANNOTATION]
    violations = [v for v in check_all(ALL_POLICIES, resources, CONFIG) if v.startswith(policy.name)]
    assert len(violations) == 1 and "StatefulSet homics/kafka" in violations[0] and "runs 1 pod" in violations[0]
