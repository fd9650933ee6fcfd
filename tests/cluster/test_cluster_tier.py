"""The rendered dev stack on a real control plane: applied, scheduled, drained, zone-failed and rolled.

The scenarios run in file order on one cluster (see conftest.py); each starts from the settled cluster.
"""

from __future__ import annotations

import time

import decoys
import pytest
from observe import workload_of
from stackload import disruption_allowed, load, ref
from tier import (
    OUT_OF_SERVICE,
    admission_failures,
    apply_objects,
    drain,
    hpa_targets,
    lost_every_ready_pod,
    node_ready,
    scale,
    set_taint,
    set_unschedulable,
    settled_or_stuck,
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


def guarded(stack) -> list[str]:
    """The workloads that must keep a ready pod: every Deployment and StatefulSet without the annotation."""
    return [ref(w) for w in stack.workloads() if not disruption_allowed(w)]


def deploy_decoys(cluster, objects, namespace: str, settle: bool = True) -> list[str]:
    applied = apply_objects(cluster.kube, [decoys.namespace(cluster.stack, namespace), *objects])
    assert applied.refused == [], applied.refused
    refs = [ref(o) for o in objects if o["kind"] == "Deployment"]
    if settle:
        wait_settled(cluster.kube, refs, 60)
    return refs


def remove_namespace(cluster, namespace: str) -> None:
    cluster.kube.delete(f"/api/v1/namespaces/{namespace}")


def minimum_table(windows: dict[str, object], workloads) -> list[str]:
    lines = ["| workload | fewest ready pods | where |", "| --- | --- | --- |"]
    for workload in sorted(workloads):
        lows = {label: w.minimum.get(workload, 0) for label, w in windows.items()}
        fewest = min(lows.values())
        where = ", ".join(label for label, low in lows.items() if low == fewest)
        lines.append(f"| {workload} | {fewest} | {where if len(where) < 120 else 'several'} |")
    return lines


def test_the_hpa_target_at_max_replicas_still_schedules(cluster, applied):
    kube, stack = cluster.kube, cluster.stack
    reset(cluster)
    targets = hpa_targets(stack)
    assert targets, "the dev stack has an HPA"
    started = time.monotonic()
    for workload, (_low, high) in targets.items():
        scale(kube, workload, high)  # what the HPA does at peak load (no metrics server here)
    _seconds, stuck = settled_or_stuck(kube, workload_refs(stack), 60)
    assert stuck == [], "at maximum replicas: " + "; ".join(stuck)
    assert unschedulable(kube, app_namespaces(stack)) == []
    cluster.report.add("Maximum size", [
        f"Pools at maximum ({', '.join(f'{p.max_nodes} x {p.vm_size} {p.name}' for p in stack.pools)}); "
        + ", ".join(f"{w} scaled to maxReplicas {high}" for w, (_l, high) in targets.items())
        + f": everything scheduled and ready in {time.monotonic() - started:.1f} s."])


def test_every_node_drains_and_no_guarded_workload_loses_every_ready_pod(cluster, applied):
    kube, sim, stack = cluster.kube, cluster.sim, cluster.stack
    reset(cluster)
    decoy = deploy_decoys(cluster, decoys.colocated(stack, "tier-drain"), "tier-drain")
    refs = workload_refs(stack) + decoy
    windows, results, blocked, rows = {}, [], [], []
    started = time.monotonic()
    for node in sorted(sim.nodes):
        with cluster.tracker.window() as window:
            result = drain(kube, node, DRAIN_TIMEOUT)
            recovered, stuck = settled_or_stuck(kube, refs, 30)
            set_unschedulable(kube, node, False)
            wait_settled(kube, refs, SETTLE_TIMEOUT)
        windows[node], results = window, [*results, result]
        blocked += [f"drain of {node}: {b}" for b in result.blocked]
        zeros = [w for w in guarded(stack) if window.minimum.get(w, 0) == 0]
        rows.append(f"| {node} | {result.evicted} | {result.seconds} | {recovered} | {window.seconds} | "
                    f"{'; '.join(stuck) or '-'} | {', '.join(zeros) or '-'} |")
    cluster.drain_windows = windows
    cluster.report.add("Drains", [
        f"Every node drained in turn (cordon, eviction API honouring the PDBs, {DRAIN_TIMEOUT:.0f} s bound), "
        f"then uncordoned once everything that could recover elsewhere had: {time.monotonic() - started:.0f} s.",
        "", "| node | pods evicted | drain s | recovered s (cordoned) | scenario s | stuck while cordoned | "
        "guarded workloads at 0 ready |", "| --- | --- | --- | --- | --- | --- | --- |", *rows, "",
        "Fewest ready pods per workload over all drains (annotated: allowed to reach 0):", "",
        *minimum_table(windows, [ref(w) for w in stack.workloads()]),
    ])
    assert blocked == [], "drains that did not complete: " + "; ".join(blocked)
    lost = [f"drain of {node}: {line}" for node, w in windows.items() for line in lost_every_ready_pod(w, guarded(stack))]
    assert lost == [], "workloads without aks-microservices.io/disruption-allowed lost every ready pod: " + "; ".join(lost)


def test_the_drain_check_fails_on_a_workload_a_drain_empties(cluster):
    windows = getattr(cluster, "drain_windows", None)
    if windows is None:
        pytest.fail("the drain scenario did not run")
    lost = [line for w in windows.values() for line in lost_every_ready_pod(w, ["Deployment/tier-drain/colocated"])]
    remove_namespace(cluster, "tier-drain")
    assert any(line.startswith("Deployment/tier-drain/colocated: 0 ready") for line in lost), \
        f"two replicas on one node with a PDB allowing 2 evictions should reach 0 ready in its node's drain: {lost}"


def test_the_drain_check_names_a_pod_whose_budget_blocks_the_drain(cluster):
    kube = cluster.kube
    deploy_decoys(cluster, decoys.unevictable(cluster.stack, "tier-block"), "tier-block")
    pod = kube.items("/api/v1/namespaces/tier-block/pods")[0]
    node = pod["spec"]["nodeName"]
    try:
        result = drain(kube, node, timeout=5)
    finally:
        set_unschedulable(kube, node, False)
        remove_namespace(cluster, "tier-block")
    assert [b for b in result.blocked if b.startswith(f"pod tier-block/{pod['metadata']['name']}: eviction refused")
            and "disruption budget" in b and "PDB unevictable" in b], result.blocked


def test_a_zone_loss_leaves_every_guarded_workload_a_ready_pod(cluster, applied):
    kube, sim, stack = cluster.kube, cluster.sim, cluster.stack
    reset(cluster)
    zones = sim.zones()
    zone = max(sorted(zones), key=lambda z: len(zones[z]))  # the zone with the most nodes
    lost_nodes = zones[zone]
    decoy = deploy_decoys(cluster, decoys.one_zone(stack, "tier-zone", zone), "tier-zone")
    refs = workload_refs(stack) + decoy
    on_lost = {workload_of(p) for p in kube.items("/api/v1/pods") if p["spec"].get("nodeName") in lost_nodes}
    stores = sorted(w for w in on_lost if w and w.startswith("StatefulSet/"))
    marks = {}
    with cluster.tracker.window() as window:
        started = time.monotonic()
        sim.set_alive(lost_nodes, False)  # the kubelets stop: no lease, no pod updates
        kube.wait_for("the lost zone's nodes NotReady", lambda: all(node_ready(kube, n) != "True" for n in lost_nodes), 60)
        marks["nodes NotReady"] = round(time.monotonic() - started, 1)
        settled_or_stuck(kube, [r for r in refs if r.startswith("Deployment/")], 45)
        marks["deployments recovered or stuck"] = round(time.monotonic() - started, 1)
        for node in lost_nodes:  # what an operator does once the nodes are known to be down
            set_taint(kube, node, OUT_OF_SERVICE, present=True)
        marks["out-of-service taint"] = round(time.monotonic() - started, 1)
        kube.wait_for("pods on the lost nodes force-deleted by the pod GC", lambda: not [
            p for p in kube.items("/api/v1/pods") if p["spec"].get("nodeName") in lost_nodes], 60)
        marks["lost pods gone"] = round(time.monotonic() - started, 1)
        _seconds, stuck = settled_or_stuck(kube, refs, 30)
        marks["stores settled or stuck"] = round(time.monotonic() - started, 1)
    cluster.zone_window = window
    pods = kube.items("/api/v1/pods")
    zone_of = {n.name: n.zone for n in sim.nodes.values()}
    store_lines = []
    for store in stores:
        mine = [p for p in pods if workload_of(p) == store]
        placed = [f"{p['metadata']['name']} on {p['spec']['nodeName']} ({zone_of.get(p['spec']['nodeName'])})"
                  for p in mine if p["spec"].get("nodeName")]
        why = [line.split(": ", 1)[1] for line in stuck if line.startswith(store)]
        store_lines.append(f"- {store}: " + ("cannot come back: " + "; ".join(why) if why
                                               else "came back: " + ", ".join(placed)))
    reset(cluster)
    cluster.report.add("Zone loss", [
        f"Zone {zone} ({len(lost_nodes)} nodes: {', '.join(lost_nodes)}) stopped; timeline (s): "
        + ", ".join(f"{k} {v}" for k, v in marks.items()) + f"; scenario {window.seconds} s.",
        "", "Single-replica and other stores that had a pod in the lost zone:", *store_lines, "",
        "Fewest ready pods per workload during the zone loss:", "",
        *minimum_table({zone: window}, [ref(w) for w in stack.workloads()]),
    ])
    lost = lost_every_ready_pod(window, guarded(stack))
    assert lost == [], f"losing zone {zone}: workloads without the annotation lost every ready pod: " + "; ".join(lost)


def test_the_zone_check_fails_on_a_workload_pinned_to_the_lost_zone(cluster):
    window = getattr(cluster, "zone_window", None)
    if window is None:
        pytest.fail("the zone scenario did not run")
    lost = lost_every_ready_pod(window, ["Deployment/tier-zone/one-zone"])
    remove_namespace(cluster, "tier-zone")
    assert any(line.startswith("Deployment/tier-zone/one-zone: 0 ready") for line in lost), \
        f"two replicas pinned to the lost zone should reach 0 ready: {lost}"


def rollout_minimum(cluster, objects, workload: str) -> tuple[int, float]:
    with cluster.tracker.window() as window:
        applied = apply_objects(cluster.kube, objects)
        assert applied.refused == [], applied.refused
        wait_settled(cluster.kube, [workload], SETTLE_TIMEOUT)
    return window.minimum.get(workload, 0), window.seconds


def test_homics_user_activity_rolls_to_2_0_0_keeping_two_ready_pods(cluster, applied):
    reset(cluster)
    rolled = load(cluster.stack.name, overrides={"apps": {"homics": {"userActivityVersion": "2.0.0"}}})
    workload = "Deployment/homics/user-deployment"
    fewest, seconds = rollout_minimum(cluster, rolled.objects, workload)
    images = {c["image"] for p in cluster.kube.items("/api/v1/namespaces/homics/pods")
              if workload_of(p) == workload and not p["metadata"].get("deletionTimestamp")
              for c in p["spec"]["containers"]}
    cluster.report.add("Rollout", [f"{workload} 1.0.0 -> 2.0.0 (re-rendered with apps.homics.userActivityVersion: "
                                   f"2.0.0, applied): {seconds} s, fewest ready pods {fewest}; images now {sorted(images)}."])
    assert all(i.endswith(":2.0.0") for i in images), images
    assert fewest >= 2, f"{workload} fell to {fewest} ready pods during the rollout"


def test_the_rollout_check_fails_on_a_rollout_that_takes_a_ready_pod_away(cluster):
    objects = decoys.careless_rollout(cluster.stack, "tier-rollout")
    workload = deploy_decoys(cluster, objects, "tier-rollout")[0]
    fewest, _ = rollout_minimum(cluster, decoys.with_image(objects, objects[-1]["spec"]["template"]["spec"]
                                                           ["containers"][0]["image"].replace(":1.0.0", ":2.0.0")),
                                workload)
    remove_namespace(cluster, "tier-rollout")
    assert fewest < 2, "maxUnavailable 1 on two replicas should drop to 1 ready pod"


def test_the_admission_check_fails_on_a_privileged_pod(cluster):
    deploy_decoys(cluster, decoys.privileged(cluster.stack, "tier-psa"), "tier-psa", settle=False)
    refused = cluster.kube.wait_for("a FailedCreate event", lambda: admission_failures(cluster.kube, {"tier-psa"}), 30)
    remove_namespace(cluster, "tier-psa")
    assert any("violates PodSecurity" in line and "privileged" in line for line in refused), refused


def test_the_scheduling_check_fails_on_a_request_no_node_allocates(cluster):
    deploy_decoys(cluster, decoys.oversized(cluster.stack, "tier-size"), "tier-size", settle=False)
    pending = cluster.kube.wait_for("an unschedulable pod", lambda: unschedulable(cluster.kube, {"tier-size"}), 30)
    remove_namespace(cluster, "tier-size")
    assert any("Insufficient cpu" in line for line in pending), pending


def test_at_minimum_pool_size_what_does_not_fit_is_reported(cluster, applied):
    """Last: it removes nodes. The pools at their minimum, the HPA target at its maximum."""
    kube, sim, stack = cluster.kube, cluster.sim, cluster.stack
    reset(cluster)
    for workload, (_low, high) in hpa_targets(stack).items():
        scale(kube, workload, high)
    settled_or_stuck(kube, workload_refs(stack), 60)
    removed = []
    for pool in stack.pools:
        extra = sorted(n for n, node in sim.nodes.items() if node.pool == pool)[pool.min_nodes:]
        for node in extra:  # the autoscaler's scale-down: pods go, then the node
            set_unschedulable(kube, node, True)
            for pod in kube.items("/api/v1/pods", fieldSelector=f"spec.nodeName={node}"):
                kube.delete(f"/api/v1/namespaces/{pod['metadata']['namespace']}/pods/{pod['metadata']['name']}")
            kube.wait_for(f"{node} empty", lambda n=node: not kube.items("/api/v1/pods", fieldSelector=f"spec.nodeName={n}"), 30)
            sim.remove_node(node)
            removed.append(node)
    _seconds, stuck = settled_or_stuck(kube, workload_refs(stack), 45)
    behind = [line.split(" — ")[0] for line in stuck]
    unexplained = [line for line in stuck if line.endswith("not stuck on scheduling")]
    cluster.report.add("Minimum size", [
        f"Pools at minimum ({', '.join(f'{p.min_nodes} x {p.vm_size} {p.name}' for p in stack.pools)}; removed "
        f"{', '.join(removed) or 'none'}), HPA targets at maxReplicas: {len(behind)} workload(s) do not fit:",
        *[f"- {line}" for line in stuck or ["(everything fits)"]]])
    assert unexplained == [], "workloads behind for a reason other than scheduling: " + "; ".join(unexplained)
