"""A node drain or a zone loss never takes a replicated tier below one ready pod.

Every Deployment or StatefulSet that runs at least two pods (its replicas, or its HPA's minimum) needs a
PodDisruptionBudget that selects exactly its pods and, at every replica count it may run at, lets at least
one pod be evicted (or node drains and upgrades block) while keeping at least one (or a drain empties the
tier). Its pods spread over nodes and zones. A PDB on a single-pod workload that allows no eviction blocks
every drain and is an error too.
"""

from __future__ import annotations

import math

import pytest

from offline.engine import run_stack

SPREAD_KEYS = {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@pytest.fixture(scope="module")
def dev_objects():
    return run_stack("dev").k8s_objects()


def _selects(selector: dict, labels: dict) -> bool:
    if set(selector) - {"matchLabels"}:
        raise AssertionError(f"only matchLabels selectors are supported here, got {selector}")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _scaled(value, pods: int) -> int:
    # Kubernetes rounds percentages up, for maxUnavailable and minAvailable alike.
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * pods / 100)
    return int(value)


def evictions_allowed(pdb_spec: dict, pods: int) -> int:
    """How many of `pods` healthy pods the budget lets a drain evict at once."""
    if "maxUnavailable" in pdb_spec:
        return max(min(_scaled(pdb_spec["maxUnavailable"], pods), pods), 0)
    if "minAvailable" in pdb_spec:
        return max(pods - _scaled(pdb_spec["minAvailable"], pods), 0)
    return 0


def replica_counts(workload: dict, objects: list[dict]) -> list[int]:
    """The replica counts the workload may run at: its HPA's min and max, else its fixed replicas."""
    namespace, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    for obj in objects:
        target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        if obj["kind"] == "HorizontalPodAutoscaler" and obj["metadata"]["namespace"] == namespace \
                and target.get("kind") == workload["kind"] and target.get("name") == name:
            return [obj["spec"].get("minReplicas", 1), obj["spec"]["maxReplicas"]]
    return [workload["spec"].get("replicas", 1)]


def disruption_problems(objects: list[dict]) -> list[str]:
    """Every breach of the rules in the module docstring, one line each."""
    problems = []
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for budget in budgets:
        namespace = budget["metadata"]["namespace"]
        selected = [w for w in workloads if w["metadata"]["namespace"] == namespace
                    and _selects(budget["spec"]["selector"], w["spec"]["template"]["metadata"]["labels"])]
        if len(selected) != 1:
            names = [w["metadata"]["name"] for w in selected]
            problems.append(f"PDB {namespace}/{budget['metadata']['name']} selects the pods of {names}, not one workload")
    for workload in workloads:
        namespace, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
        where = f"{workload['kind']} {namespace}/{name}"
        labels = workload["spec"]["template"]["metadata"]["labels"]
        mine = [b for b in budgets if b["metadata"]["namespace"] == namespace
                and _selects(b["spec"]["selector"], labels)]
        counts = replica_counts(workload, objects)
        if min(counts) < 2:
            for budget in mine:
                if evictions_allowed(budget["spec"], min(counts)) < 1 and min(counts) > 0:
                    problems.append(f"{where}: PDB {budget['metadata']['name']} blocks every drain of its single pod")
            continue
        if len(mine) != 1:
            problems.append(f"{where}: runs {min(counts)}+ pods but has {len(mine)} PodDisruptionBudgets (needs one)")
            continue
        budget = mine[0]["spec"]
        for pods in counts:
            allowed = evictions_allowed(budget, pods)
            if allowed < 1:
                problems.append(f"{where}: at {pods} replicas its PDB allows no eviction (drains would block)")
            elif pods - allowed < 1:
                problems.append(f"{where}: at {pods} replicas its PDB lets a drain evict every pod")
        spread = workload["spec"]["template"]["spec"].get("topologySpreadConstraints") or []
        spread_keys = {c["topologyKey"] for c in spread if _selects(c.get("labelSelector") or {}, labels)}
        missing = SPREAD_KEYS - spread_keys
        if missing:
            problems.append(f"{where}: its pods do not spread over {sorted(missing)}")
    return problems


# The dev stack ----------------------------------------------------------------------------------------------

def test_every_replicated_tier_of_the_dev_stack_survives_a_drain_and_a_zone_loss(dev_objects):
    assert disruption_problems(dev_objects) == []


def test_the_replicated_tiers_of_apps_md_have_disruption_budgets(dev_objects):
    """Facts of apps.md: these tiers run at least two pods, so each has a budget of its own."""
    replicated = {
        ("smilr", "data-api"), ("smilr", "frontend"), ("knote", "knote"), ("todo", "todo-api"),
        ("fibonacci", "server-deployment"), ("fibonacci", "worker-deployment"), ("fibonacci", "redis-statefulset"),
        ("homics", "user-deployment"),
    }
    budgets = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in dev_objects
               if o["kind"] == "PodDisruptionBudget"}
    assert replicated <= budgets


def test_single_pod_stores_have_no_budget_that_blocks_a_drain(dev_objects):
    budgets = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in dev_objects
               if o["kind"] == "PodDisruptionBudget"}
    for store in (("smilr", "mongodb"), ("knote", "mongo"), ("knote", "minio"), ("fibonacci", "postgres-statefulset")):
        assert store not in budgets


# The checker can fail ----------------------------------------------------------------------------------------

def _deployment(name: str, replicas: int, spread: bool = True) -> dict:
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "shop"}
    constraints = [{"topologyKey": key, "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": labels}} for key in sorted(SPREAD_KEYS)] if spread else []
    return {"kind": "Deployment", "metadata": {"namespace": "shop", "name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"topologySpreadConstraints": constraints}}}}


def _budget(name: str, selector: dict, **spec) -> dict:
    return {"kind": "PodDisruptionBudget", "metadata": {"namespace": "shop", "name": name},
            "spec": {"selector": {"matchLabels": selector}, **spec}}


WEB = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop"}


def test_a_budget_with_max_unavailable_1_on_three_replicas_passes():
    assert disruption_problems([_deployment("web", 3), _budget("web", WEB, maxUnavailable=1)]) == []


def test_min_available_equal_to_the_replicas_is_flagged_as_blocking_drains():
    problems = disruption_problems([_deployment("web", 3), _budget("web", WEB, minAvailable=3)])
    assert problems == ["Deployment shop/web: at 3 replicas its PDB allows no eviction (drains would block)"]


def test_max_unavailable_zero_is_flagged_as_blocking_drains():
    assert "allows no eviction" in disruption_problems([_deployment("web", 2), _budget("web", WEB, maxUnavailable=0)])[0]


def test_a_budget_that_lets_a_drain_evict_every_pod_is_flagged():
    problems = disruption_problems([_deployment("web", 2), _budget("web", WEB, maxUnavailable="100%")])
    assert problems == ["Deployment shop/web: at 2 replicas its PDB lets a drain evict every pod"]


def test_a_replicated_workload_without_a_budget_is_flagged():
    assert disruption_problems([_deployment("web", 2)]) == [
        "Deployment shop/web: runs 2+ pods but has 0 PodDisruptionBudgets (needs one)"]


def test_a_budget_selecting_two_workloads_is_flagged():
    objects = [_deployment("web", 2), _deployment("api", 2),
               _budget("both", {"app.kubernetes.io/instance": "shop"}, maxUnavailable=1)]
    assert "PDB shop/both selects the pods of ['web', 'api'], not one workload" in disruption_problems(objects)


def test_a_replicated_workload_without_zone_spread_is_flagged():
    problems = disruption_problems([_deployment("web", 2, spread=False), _budget("web", WEB, maxUnavailable=1)])
    assert problems == ["Deployment shop/web: its pods do not spread over "
                        "['kubernetes.io/hostname', 'topology.kubernetes.io/zone']"]


def test_an_autoscaled_workload_is_checked_at_its_minimum_replicas():
    hpa = {"kind": "HorizontalPodAutoscaler", "metadata": {"namespace": "shop", "name": "web"},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 5}}
    web = _deployment("web", 1)
    del web["spec"]["replicas"]
    assert "allows no eviction" in disruption_problems([web, hpa, _budget("web", WEB, minAvailable=2)])[0]


def test_a_blocking_budget_on_a_single_pod_is_flagged():
    problems = disruption_problems([_deployment("web", 1), _budget("web", WEB, minAvailable=1)])
    assert problems == ["Deployment shop/web: PDB web blocks every drain of its single pod"]
