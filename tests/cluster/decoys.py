"""Deliberately broken renders: copies of a rendered workload with one thing wrong, applied in a namespace of
their own (`tier-<purpose>`, the Pod Security labels of a rendered app namespace) so that the tier's checks
can be shown to fail on them while the stack itself stays untouched.

The base is the rendered `Deployment/homics/user-deployment` (restricted-compliant pod, a 3 s readiness delay);
each decoy gets its own ServiceAccount, labels and selector, and tiny requests unless the breakage is the
request itself.
"""

from __future__ import annotations

import copy

from stackload import Stack

BASE = ("Deployment", "homics", "user-deployment")
NAME_LABEL, INSTANCE_LABEL = "app.kubernetes.io/name", "app.kubernetes.io/instance"


def _find(stack: Stack, kind: str, namespace: str | None, name: str) -> dict:
    for obj in stack.objects:
        meta = obj["metadata"]
        if obj["kind"] == kind and meta["name"] == name and meta.get("namespace") == namespace:
            return obj
    raise KeyError(f"{kind}/{namespace}/{name} is not rendered")


def namespace(stack: Stack, name: str) -> dict:
    """A namespace enforcing what the base workload's namespace enforces."""
    source = _find(stack, "Namespace", None, BASE[1])
    labels = {k: v for k, v in source["metadata"]["labels"].items() if k.startswith("pod-security.kubernetes.io/")}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def workload(stack: Stack, namespace_name: str, name: str, replicas: int = 2) -> list[dict]:
    """A ServiceAccount and a Deployment copied from the base; edit the Deployment (the last item)."""
    deployment = copy.deepcopy(_find(stack, *BASE))
    labels = {NAME_LABEL: name, INSTANCE_LABEL: "tier"}
    deployment["metadata"] = {"name": name, "namespace": namespace_name, "labels": labels}
    spec = deployment["spec"]
    spec["replicas"] = replicas
    spec["selector"] = {"matchLabels": dict(labels)}
    template = spec["template"]
    template["metadata"] = {"labels": dict(labels)}
    template["spec"]["serviceAccountName"] = name
    template["spec"].pop("topologySpreadConstraints", None)
    for container in template["spec"]["containers"]:
        container["resources"] = {"requests": {"cpu": "10m", "memory": "16Mi"},
                                  "limits": {"cpu": "100m", "memory": "64Mi"}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace_name},
               "automountServiceAccountToken": False}
    return [account, deployment]


def budget(namespace_name: str, name: str, max_unavailable) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": namespace_name},
            "spec": {"maxUnavailable": max_unavailable,
                     "selector": {"matchLabels": {NAME_LABEL: name, INSTANCE_LABEL: "tier"}}}}


def colocated(stack: Stack, namespace_name: str, name: str = "colocated") -> list[dict]:
    """Two replicas that must share a node (required pod affinity on the hostname) and a PDB that lets a
    drain take both: a drain of that node leaves it no ready pod."""
    objects = workload(stack, namespace_name, name)
    objects[-1]["spec"]["template"]["spec"]["affinity"] = {"podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{
            "labelSelector": {"matchLabels": {NAME_LABEL: name}}, "topologyKey": "kubernetes.io/hostname"}]}}
    return [*objects, budget(namespace_name, name, 2)]


def unevictable(stack: Stack, namespace_name: str, name: str = "unevictable") -> list[dict]:
    """One replica under a PDB that allows no eviction: every drain of its node blocks."""
    objects = workload(stack, namespace_name, name, replicas=1)
    return [*objects, budget(namespace_name, name, 0)]


def one_zone(stack: Stack, namespace_name: str, zone: str, name: str = "one-zone") -> list[dict]:
    """Two replicas pinned to one zone: losing that zone leaves it no ready pod."""
    objects = workload(stack, namespace_name, name)
    objects[-1]["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}}}
    return [*objects, budget(namespace_name, name, 1)]


def privileged(stack: Stack, namespace_name: str, name: str = "privileged") -> list[dict]:
    """A container asking for privileged mode in a namespace enforcing restricted."""
    objects = workload(stack, namespace_name, name, replicas=1)
    container = objects[-1]["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {**container["securityContext"], "privileged": True,
                                    "allowPrivilegeEscalation": True}
    return objects


def oversized(stack: Stack, namespace_name: str, name: str = "oversized") -> list[dict]:
    """A pod requesting more CPU than any node of the pools allocates."""
    objects = workload(stack, namespace_name, name, replicas=1)
    cores = max(p.cpu_capacity for p in stack.pools) * 2
    objects[-1]["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": str(cores), "memory": "1Gi"}, "limits": {"cpu": str(cores), "memory": "1Gi"}}
    return objects


def careless_rollout(stack: Stack, namespace_name: str, name: str = "careless-rollout") -> list[dict]:
    """Two replicas rolled with maxUnavailable 1, maxSurge 0: the rollout takes one ready pod away first."""
    objects = workload(stack, namespace_name, name)
    objects[-1]["spec"]["strategy"] = {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    return objects


def with_image(objects: list[dict], image: str) -> list[dict]:
    out = copy.deepcopy(objects)
    out[-1]["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return out
