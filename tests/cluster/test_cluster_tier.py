"""The rendered dev stack on a real control plane: applied, scheduled, drained, zone-failed and rolled.

The scenarios run in file order on one cluster (see conftest.py); each starts from the settled cluster.
"""

from __future__ import annotations

import time

import pytest
from stackload import disruption_allowed, ref
from tier import (
    OUT_OF_SERVICE,
    admission_failures,
    apply_objects,
    drain,
    hpa_targets,
    not_at_desired_state,
    node_ready,
    scale,
    set_taint,
    set_unschedulable,
    unschedulable,
    wait_settled,
    workload_refs,
)

SETTLE_TIMEOUT = 120.0
DRAIN_TIMEOUT = 45.0


def app_namespaces(stack) -> set[str]:
    return {o["metadata"]["name"] for o in stack.objects if o["kind"] == "Namespace"}


def reset(cluster) -> float:
    """Every node alive, schedulable, untainted by us; HPA targets at their minimum; everything settled."""
    kube, sim = cluster.kube, cluster.sim
    dead = [n for n, node in sim.nodes.items() if not node.alive]
    for name in sim.nodes:
        set_unschedulable(kube, name, False)
        set_taint(kube, name, OUT_OF_SERVICE, present=False)
    if dead:
        sim.set_alive(dead, True)
        kube.wait_for("nodes Ready again", lambda: all(node_ready(kube, n) == "True" for n in dead), 60)
    for workload, (low, _high) in hpa_targets(cluster.stack).items():
        scale(kube, workload, low)
    return wait_settled(kube, workload_refs(cluster.stack), SETTLE_TIMEOUT)


@pytest.fixture(scope="module")
def applied(cluster):
    started = time.monotonic()
    result = apply_objects(cluster.kube, cluster.stack.objects)
    cluster.apply_result = result
    cluster.timings["apply"] = round(time.monotonic() - started, 1)
    return result


def test_every_rendered_object_is_accepted_with_strict_field_validation(cluster, applied):
    assert applied.refused == []
    skipped = [s.split(":")[0] for s in applied.skipped]
    # Only the InnoDBCluster is left out: its CRD comes with the MySQL Operator's chart, not rendered.
    assert all(s.startswith("InnoDBCluster/") for s in skipped), applied.skipped
    cluster.report.add("Apply", [
        f"{len(applied.applied)} objects applied (server-side apply, fieldValidation=Strict), "
        f"{len(applied.refused)} refused, in {cluster.timings['apply']} s.",
        *[f"- skipped {s}" for s in applied.skipped],
    ])


def test_every_workload_reaches_its_desired_state_and_no_pod_is_refused_admission(cluster, applied):
    kube, stack = cluster.kube, cluster.stack
    try:
        seconds = wait_settled(kube, workload_refs(stack), SETTLE_TIMEOUT)
    finally:
        refused = admission_failures(kube, app_namespaces(stack))
    assert refused == [], "pods refused admission: " + "; ".join(refused)
    assert unschedulable(kube, app_namespaces(stack)) == []
    cluster.timings["first settle"] = round(seconds, 1)
    cluster.report.add("Desired state", [
        f"{len(workload_refs(stack))} Deployments, StatefulSets and Jobs at their desired state "
        f"{seconds:.1f} s after apply; no FailedCreate event, no unschedulable pod."])
