"""What an operator does to the cluster, through the real API: apply, scale, drain, take a zone away; and what
the tier reads back: refusals, admission failures, unschedulable pods, workloads not at their desired state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from kube import Kube, KubeError
from simnodes import SimCluster
from stackload import Stack, ref

OUT_OF_SERVICE = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}


@dataclass
class Applied:
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "ref: why"
    refused: list[str] = field(default_factory=list)  # "ref: the API's message"


def apply_objects(kube: Kube, objects, crd_timeout: float = 30.0) -> Applied:
    result = Applied()
    crds_pending: list[str] = []
    for obj in objects:
        if obj["kind"] != "CustomResourceDefinition" and crds_pending:
            kube.wait_for("CRDs established", lambda names=tuple(crds_pending): all(_established(kube, n) for n in names),
                          crd_timeout)
            crds_pending.clear()
        try:
            kube.path(obj)
        except LookupError as e:
            result.skipped.append(f"{ref(obj)}: {e} (its CRD is not in the render)")
            continue
        try:
            kube.apply(obj)
        except KubeError as e:
            result.refused.append(f"{ref(obj)}: {e.payload.get('message') or e}")
            continue
        result.applied.append(ref(obj))
        if obj["kind"] == "CustomResourceDefinition":
            crds_pending.append(obj["metadata"]["name"])
    return result


def _established(kube: Kube, name: str) -> bool:
    crd = kube.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    return any(c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or [])


# Reading state ---------------------------------------------------------------------------------------------

def admission_failures(kube: Kube, namespaces=None) -> list[str]:
    """Pods a controller could not create (`FailedCreate` events: PodSecurity, quota, ...), with the message."""
    out = []
    for event in kube.items("/api/v1/events", fieldSelector="reason=FailedCreate"):
        involved = event.get("involvedObject") or {}
        if namespaces is not None and involved.get("namespace") not in namespaces:
            continue
        out.append(f"{involved.get('kind')}/{involved.get('namespace')}/{involved.get('name')}: {event.get('message')}")
    return sorted(set(out))


def unschedulable(kube: Kube, namespaces=None) -> list[str]:
    """Pending pods the scheduler could not place, with its reason."""
    out = []
    for pod in kube.items("/api/v1/pods", fieldSelector="status.phase=Pending"):
        meta = pod["metadata"]
        if namespaces is not None and meta["namespace"] not in namespaces:
            continue
        for c in (pod.get("status") or {}).get("conditions") or []:
            if c["type"] == "PodScheduled" and c["status"] == "False":
                out.append(f"pod {meta['namespace']}/{meta['name']}: {c.get('reason')}: {c.get('message')}")
    return sorted(out)


def workload_path(workload_ref: str) -> str:
    kind, namespace, name = workload_ref.split("/")
    plural = {"Deployment": "apps/v1/namespaces/{ns}/deployments", "StatefulSet": "apps/v1/namespaces/{ns}/statefulsets",
              "Job": "batch/v1/namespaces/{ns}/jobs"}[kind]
    return f"/apis/{plural.format(ns=namespace)}/{name}"


def not_at_desired_state(kube: Kube, refs) -> list[str]:
    """Each workload of `refs` that is not where its spec says, with what it has."""
    out = []
    for workload in refs:
        try:
            obj = kube.get(workload_path(workload))
        except KubeError as e:
            out.append(f"{workload}: {e}")
            continue
        spec, status = obj["spec"], obj.get("status") or {}
        current = status.get("observedGeneration", 0) >= obj["metadata"].get("generation", 0)
        if workload.startswith("Job/"):
            if status.get("succeeded", 0) < spec.get("completions", 1):
                out.append(f"{workload}: {status.get('succeeded', 0)}/{spec.get('completions', 1)} succeeded")
            continue
        want = spec.get("replicas", 1)
        ready, updated = status.get("readyReplicas", 0), status.get("updatedReplicas", 0)
        total = status.get("replicas", 0)
        if workload.startswith("StatefulSet/"):
            updated = want if status.get("currentRevision") == status.get("updateRevision") else updated
        if not (current and ready == want and updated == want and total == want):
            out.append(f"{workload}: {ready}/{want} ready, {updated} updated, {total} pods")
    return out


def wait_settled(kube: Kube, refs, timeout: float) -> float:
    """Seconds until every workload of `refs` is at its desired state; TimeoutError names those that are not."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        behind = not_at_desired_state(kube, refs)
        if not behind:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"not at desired state within {timeout:.0f}s: " + "; ".join(behind)
                               + "".join(f"; {u}" for u in unschedulable(kube)))
        time.sleep(0.3)


def scale(kube: Kube, workload: str, replicas: int) -> None:
    kube.request("PATCH", workload_path(workload) + "/scale", {"spec": {"replicas": replicas}},
                 content_type="application/merge-patch+json")


def workload_refs(stack: Stack, kinds=("Deployment", "StatefulSet", "Job")) -> list[str]:
    return [ref(o) for o in stack.objects if o["kind"] in kinds]


def hpa_targets(stack: Stack) -> dict[str, tuple[int, int]]:
    """Workload ref -> (minReplicas, maxReplicas) of the HPA scaling it."""
    out = {}
    for obj in stack.objects:
        if obj["kind"] == "HorizontalPodAutoscaler":
            target = obj["spec"]["scaleTargetRef"]
            out[f"{target['kind']}/{obj['metadata']['namespace']}/{target['name']}"] = (
                obj["spec"].get("minReplicas", 1), obj["spec"]["maxReplicas"])
    return out


# Drains ----------------------------------------------------------------------------------------------------

@dataclass
class DrainResult:
    node: str
    seconds: float
    evicted: int
    blocked: list[str]  # pods left on the node at the bound, each with why


def set_unschedulable(kube: Kube, node: str, value: bool) -> None:
    kube.request("PATCH", f"/api/v1/nodes/{node}", {"spec": {"unschedulable": value or None}},
                 content_type="application/merge-patch+json")


def drain(kube: Kube, node: str, timeout: float, retry: float = 0.5) -> DrainResult:
    """`kubectl drain` (cordon, then the eviction API for every pod, retried while a PDB refuses, until no pod
    is left on the node), bounded by `timeout`. The node stays cordoned."""
    started = time.monotonic()
    set_unschedulable(kube, node, True)
    last_refusal: dict[str, str] = {}
    evicted: set[str] = set()
    while True:
        pods = kube.items("/api/v1/pods", fieldSelector=f"spec.nodeName={node}")
        if not pods:
            return DrainResult(node, round(time.monotonic() - started, 1), len(evicted), [])
        if time.monotonic() - started > timeout:
            blocked = []
            for pod in pods:
                meta = pod["metadata"]
                key = f"{meta['namespace']}/{meta['name']}"
                why = last_refusal.get(key) or ("terminating, not finalized" if meta.get("deletionTimestamp")
                                                 else "not evicted")
                blocked.append(f"pod {key}: {why}")
            return DrainResult(node, round(time.monotonic() - started, 1), len(evicted), blocked)
        for pod in pods:
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            key = f"{meta['namespace']}/{meta['name']}"
            try:
                kube.request("POST", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/eviction",
                             {"apiVersion": "policy/v1", "kind": "Eviction",
                              "metadata": {"name": meta["name"], "namespace": meta["namespace"]}})
                evicted.add(key)
            except KubeError as e:
                if e.status == 404:
                    continue
                last_refusal[key] = f"eviction refused (HTTP {e.status}): {e.payload.get('message')}" + \
                    _budget_state(kube, pod)
        time.sleep(retry)


def _budget_state(kube: Kube, pod: dict) -> str:
    namespace = pod["metadata"]["namespace"]
    labels = pod["metadata"].get("labels") or {}
    for pdb in kube.items(f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets"):
        selector = (pdb["spec"].get("selector") or {}).get("matchLabels") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            s = pdb.get("status") or {}
            return (f" [PDB {pdb['metadata']['name']}: {s.get('currentHealthy')} healthy, "
                    f"{s.get('desiredHealthy')} desired, {s.get('disruptionsAllowed')} disruptions allowed]")
    return ""


# Zone loss -------------------------------------------------------------------------------------------------

def node_ready(kube: Kube, node: str) -> str:
    obj = kube.get(f"/api/v1/nodes/{node}")
    return next((c["status"] for c in obj["status"].get("conditions", []) if c["type"] == "Ready"), "Unknown")


def set_taint(kube: Kube, node: str, taint: dict, present: bool) -> None:
    obj = kube.get(f"/api/v1/nodes/{node}")
    taints = [t for t in obj["spec"].get("taints") or [] if t["key"] != taint["key"]]
    if present:
        taints.append(taint)
    kube.request("PATCH", f"/api/v1/nodes/{node}", {"spec": {"taints": taints}},
                 content_type="application/merge-patch+json")


def stop_nodes(sim: SimCluster, names: list[str]) -> None:
    sim.set_alive(names, False)


def settled_or_stuck(kube: Kube, refs, timeout: float) -> tuple[float, list[str]]:
    """Wait until every workload of `refs` is at its desired state, or each one that is not has a pod the
    scheduler cannot place (waiting longer would not change that); (seconds, the lines of what is stuck)."""
    from observe import workload_of

    started = time.monotonic()
    while True:
        behind = not_at_desired_state(kube, refs)
        if not behind:
            return round(time.monotonic() - started, 1), []
        stuck: dict[str, str] = {}
        for pod in kube.items("/api/v1/pods", fieldSelector="status.phase=Pending"):
            for c in (pod.get("status") or {}).get("conditions") or []:
                if c["type"] == "PodScheduled" and c["status"] == "False" and c.get("reason") == "Unschedulable":
                    stuck.setdefault(workload_of(pod) or "", f"pod {pod['metadata']['name']}: {c.get('message')}")
        behind_refs = [line.split(":")[0] for line in behind]
        if all(b in stuck for b in behind_refs) or time.monotonic() - started > timeout:
            return round(time.monotonic() - started, 1), [
                f"{line} — {stuck.get(b, 'not stuck on scheduling')}" for line, b in zip(behind, behind_refs, strict=True)]
        time.sleep(0.3)


def lost_every_ready_pod(window, workloads) -> list[str]:
    """Workloads of `workloads` that had no ready pod at some moment of `window` (or the observation broke)."""
    if window.gaps:
        return [f"the pod watch broke {window.gaps} time(s) during the scenario: ready counts not fully observed"]
    return [f"{w}: 0 ready pods, first {window.first_low.get(w, 0)} s into the scenario"
            for w in workloads if window.minimum.get(w, 0) == 0]
