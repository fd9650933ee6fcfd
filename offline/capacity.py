"""Cluster capacity check: do the enabled apps fit the node pools at their largest?

`check_capacity(recording)` adds up the resource requests of every pod the stack can run at once and compares
them with what the node pools can allocate at their maximum size. The render prints the result and fails
(exit 1) when the requests do not fit: the cluster autoscaler cannot add nodes beyond a pool's maximum, so
such a stack leaves pods Pending at peak load.

Pods counted, each at the most replicas the stack allows:
- Deployment: the `maxReplicas` of the HorizontalPodAutoscaler that scales it, else `spec.replicas` (default 1);
- StatefulSet, ReplicaSet: `spec.replicas` (default 1); Pod: 1;
- Job (and CronJob): `spec.parallelism` (default 1), counted once: they run to completion;
- DaemonSet: one pod per node of the usable pools;
- InnoDBCluster (MySQL Operator): `instances` server pods and `router.instances` router pods, with the
  requests their `podSpec` gives (none given: counted as 0, and said so);
- a pod requests the larger of the sum of its containers and its largest init container (as the scheduler does).
Helm releases are not expanded (their charts' pods are not in the render): each is named in a note.

Capacity: on AKS, every node pool that workloads may use (not tainted NoSchedule/NoExecute: our pods tolerate
no taint) at its maximum node count (autoscaler `maxCount`, else `count`), times the allocatable CPU and memory
of its VM size. AKS-managed add-on pods (CNI agent, CSI node plugins, monitoring agent, app-routing nginx) also
request resources on those nodes, so the printed headroom should stay well above zero. On an existing cluster
the nodes are unknown offline: the stack may declare what they leave to its pods (`existing.allocatableCpu` and
`existing.allocatableMemory`, e.g. a laptop's kind or Minikube less its control plane) and is checked against
that; without it the check prints the requests and a note, and does not fail. When the requests do not fit,
the advice names the settings of the pools that run workloads (a disabled or tainted pool's would not help).
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

GIB = Decimal(2) ** 30
MIB = Decimal(2) ** 20
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"

# VM sizes: (vCPUs, memory GiB), from the Azure VM size pages on Microsoft Learn ("Sizes for virtual
# machines in Azure": Dv3/Dsv3, Dv4/Dsv4/Ddsv4, Dv5/Dsv5/Ddv5/Ddsv5, Dasv5/Dadsv5, Dsv6/Ddsv6/Dasv6 (4 GiB per
# vCPU); Esv3/Esv4/Esv5/Edsv5/Easv5 (8 GiB per vCPU); Fsv2 (2 GiB per vCPU); Bsv1 and DSv2 listed one by one).
# A size missing here is not guessed: the check says so and asks for an entry.
_MEMORY_PER_VCPU_SERIES = types.MappingProxyType({
    4: ("{n}_v3", "{n}s_v3", "{n}_v4", "{n}s_v4", "{n}ds_v4", "{n}_v5", "{n}s_v5", "{n}d_v5", "{n}ds_v5",
        "{n}as_v5", "{n}ads_v5", "{n}s_v6", "{n}ds_v6", "{n}as_v6"),
    8: ("{n}s_v3", "{n}s_v4", "{n}ds_v4", "{n}s_v5", "{n}ds_v5", "{n}as_v5", "{n}ads_v5"),
    2: ("{n}s_v2",),
})
_FAMILY_BY_RATIO = types.MappingProxyType({4: "D", 8: "E", 2: "F"})
VM_SIZES: Mapping[str, tuple[int, Decimal]] = types.MappingProxyType({
    **{
        f"Standard_{_FAMILY_BY_RATIO[ratio]}{pattern.format(n=n)}": (n, Decimal(n * ratio))
        for ratio, patterns in _MEMORY_PER_VCPU_SERIES.items()
        for pattern in patterns
        for n in (2, 4, 8, 16, 32)  # larger sizes break the ratio in some series (E64s_v3: 432 GiB)
    },
    "Standard_B2s": (2, Decimal(4)),
    "Standard_B2ms": (2, Decimal(8)),
    "Standard_B4ms": (4, Decimal(16)),
    "Standard_B8ms": (8, Decimal(32)),
    "Standard_B16ms": (16, Decimal(64)),
    "Standard_DS2_v2": (2, Decimal(7)),
    "Standard_DS3_v2": (4, Decimal(14)),
    "Standard_DS4_v2": (8, Decimal(28)),
    "Standard_DS5_v2": (16, Decimal(56)),
})

# AKS node resource reservations (Microsoft Learn, "Node resource reservations in AKS", AKS 1.29 and later):
# kube-reserved CPU by the node's core count; kube-reserved memory is the smaller of 20 MB per pod the node
# may run plus 50 MB, or 25% of the node's memory; plus the kubelet's `memory.available < 100Mi` eviction
# threshold. Max pods defaults to 250 with Azure CNI Overlay, 30 with Azure CNI (pod subnet), 110 with kubenet.
_RESERVED_MILLICORES = ((1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740))
_EVICTION_THRESHOLD = 100 * MIB


def _default_max_pods(network_profile: Mapping[str, Any]) -> int:
    if network_profile.get("networkPluginMode") == "overlay":
        return 250
    return 110 if network_profile.get("networkPlugin") == "kubenet" else 30


def allocatable(vm_size: str, max_pods: int) -> Amount | None:
    """What AKS leaves to pods on one node of `vm_size`, or None for a size missing from `VM_SIZES`."""
    if vm_size not in VM_SIZES:
        return None
    cores, memory_gib = VM_SIZES[vm_size]
    millicores = next((m for c, m in reversed(_RESERVED_MILLICORES) if cores >= c), _RESERVED_MILLICORES[0][1])
    memory = memory_gib * GIB
    kube_reserved = min(Decimal(20 * max_pods + 50) * MIB, memory / 4)
    return Amount(Decimal(cores) - Decimal(millicores) / 1000, memory - kube_reserved - _EVICTION_THRESHOLD)


# Quantities -----------------------------------------------------------------------------------------------

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?")
_SUFFIXES = types.MappingProxyType({
    None: Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
})


def quantity(value: Any) -> Decimal:
    """A Kubernetes quantity (`250m`, `1.5`, `512Mi`, `1G`, or a number) as a Decimal; unparsable: 0."""
    if isinstance(value, bool):
        return Decimal(0)
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _QUANTITY.fullmatch(str(value).strip())
    if match is None:
        return Decimal(0)
    number, suffix = match.groups()
    if suffix and suffix[0] in "eE":
        return Decimal(number + suffix)
    return Decimal(number) * _SUFFIXES[suffix]


# Amounts ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Amount:
    """CPU in cores and memory in bytes."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.cpu + other.cpu, self.memory + other.memory)

    def __sub__(self, other: Amount) -> Amount:
        return Amount(self.cpu - other.cpu, self.memory - other.memory)

    def __mul__(self, count: int) -> Amount:
        return Amount(self.cpu * count, self.memory * count)

    def fits_in(self, other: Amount) -> bool:
        return self.cpu <= other.cpu and self.memory <= other.memory

    def __str__(self) -> str:
        return f"{self.cpu:.1f} CPU / {self.memory / GIB:.1f} GiB"


def _requests(container: Mapping[str, Any]) -> Amount:
    requests = ((container.get("resources") or {}).get("requests")) or {}
    return Amount(quantity(requests.get("cpu", 0)), quantity(requests.get("memory", 0)))


def pod_requests(pod_spec: Mapping[str, Any]) -> Amount:
    """The scheduler's view: the sum over containers, or the largest init container if that is larger."""
    total = sum((_requests(c) for c in pod_spec.get("containers") or []), Amount())
    for init in pod_spec.get("initContainers") or []:
        one = _requests(init)
        total = Amount(max(total.cpu, one.cpu), max(total.memory, one.memory))
    return total


# Demand ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Demand:
    """`pods` pods of one workload (`Kind/namespace/name`), each requesting `per_pod`."""

    workload: str
    pods: int
    per_pod: Amount

    @property
    def total(self) -> Amount:
        return self.per_pod * self.pods


def _ref(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{metadata.get('namespace', '')}/{metadata.get('name', '')}"


def _count(value: Any, default: int = 1) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _template_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def workload_demands(objects: Iterable[Mapping[str, Any]], nodes: int = 0) -> tuple[list[Demand], list[str]]:
    """Every pod-running object as a Demand at its maximum replicas, and notes on what is not counted.
    `nodes` is the node count DaemonSets run on."""
    objects = list(objects)
    hpa_max: dict[tuple[str, str, str], int] = {}
    for obj in objects:
        if obj.get("kind") == "HorizontalPodAutoscaler":
            spec = obj.get("spec") or {}
            target = spec.get("scaleTargetRef") or {}
            key = (target.get("kind"), (obj.get("metadata") or {}).get("namespace"), target.get("name"))
            hpa_max[key] = _count(spec.get("maxReplicas"))

    demands: list[Demand] = []
    notes: list[str] = []
    for obj in objects:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        namespace, name = (obj.get("metadata") or {}).get("namespace"), (obj.get("metadata") or {}).get("name")
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = hpa_max.get((kind, namespace, name), _count(spec.get("replicas")))
            demands.append(Demand(_ref(obj), replicas, pod_requests(_template_spec(obj))))
        elif kind == "Job":
            demands.append(Demand(_ref(obj), _count(spec.get("parallelism")), pod_requests(_template_spec(obj))))
        elif kind == "CronJob":
            job = (spec.get("jobTemplate") or {}).get("spec") or {}
            pod = ((job.get("template") or {}).get("spec")) or {}
            demands.append(Demand(_ref(obj), _count(job.get("parallelism")), pod_requests(pod)))
        elif kind == "DaemonSet":
            demands.append(Demand(_ref(obj), nodes, pod_requests(_template_spec(obj))))
        elif kind == "Pod":
            demands.append(Demand(_ref(obj), 1, pod_requests(spec)))
        elif kind == "InnoDBCluster":
            demands.extend(_innodb_demands(obj, notes))
    return demands, notes


def _innodb_demands(obj: Mapping[str, Any], notes: list[str]) -> list[Demand]:
    spec = obj.get("spec") or {}
    router = spec.get("router") or {}
    # The CRD's defaults: 1 server instance, no router.
    parts = [("MySQL server", _count(spec.get("instances")), spec.get("podSpec") or {}),
             ("MySQL router", _count(router.get("instances"), 0), router.get("podSpec") or {})]
    demands = []
    for role, pods, pod_spec in parts:
        if not pods:
            continue
        per_pod = pod_requests(pod_spec)
        if per_pod == Amount():
            notes.append(f"{_ref(obj)}: its {pods} {role} pod(s) declare no requests (counted as 0)")
        demands.append(Demand(f"{_ref(obj)} ({role})", pods, per_pod))
    return demands


# Supply ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    name: str
    vm_size: str
    max_nodes: int
    per_node: Amount | None  # None: VM size unknown to VM_SIZES
    tainted: bool = False
    autoscaled: bool = False

    @property
    def usable(self) -> bool:
        return not self.tainted and self.max_nodes > 0

    def __str__(self) -> str:
        return f"{self.name} pool {self.max_nodes} x {self.vm_size}"


def _pool(name: str, profile: Mapping[str, Any], network_profile: Mapping[str, Any]) -> Pool:
    autoscaled = bool(profile.get("enableAutoScaling"))
    max_nodes = _count(profile.get("maxCount") if autoscaled else profile.get("count"), 0)
    max_pods = _count(profile.get("maxPods"), _default_max_pods(network_profile))
    taints = profile.get("nodeTaints") or []
    tainted = any(str(t).endswith((":NoSchedule", ":NoExecute")) for t in taints)
    return Pool(name, str(profile.get("vmSize")), max_nodes, allocatable(str(profile.get("vmSize")), max_pods),
                tainted, autoscaled)


def pool_settings(pool: Pool) -> tuple[str, str]:
    """The stack config keys that size `pool`: its node count (or autoscaler maximum) and its VM size."""
    if pool.name == "system":
        return ("cluster.systemPool.maxCount" if pool.autoscaled else "cluster.nodeCount", "cluster.systemPool.vmSize")
    if pool.name == "user":
        return "cluster.userPool.maxCount", "cluster.userPool.vmSize"
    return f"the {pool.name} pool's maxCount", f"the {pool.name} pool's vmSize"


def aks_pools(resources: Iterable[Any]) -> list[Pool]:
    """The node pools of the recorded AKS cluster (the cluster's own profiles and AgentPool resources)."""
    resources = list(resources)
    clusters = [r for r in resources if r.type == MANAGED_CLUSTER]
    network = (clusters[0].inputs.get("networkProfile") or {}) if clusters else {}
    pools = [
        _pool(profile.get("name", "system"), profile, network)
        for cluster in clusters
        for profile in cluster.inputs.get("agentPoolProfiles") or []
    ]
    pools += [_pool(r.inputs.get("agentPoolName") or r.name, r.inputs, network) for r in resources
              if r.type == AGENT_POOL]
    return pools


# The report ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CapacityReport:
    requests: Amount
    allocatable: Amount | None  # None: not checked (see `notes`)
    pools: tuple[Pool, ...] = ()
    demands: tuple[Demand, ...] = ()
    notes: tuple[str, ...] = ()
    # Pods too large for any single usable node: they can never be scheduled, whatever the pool size.
    oversized: tuple[Demand, ...] = field(default=())

    @property
    def checked(self) -> bool:
        return self.allocatable is not None

    @property
    def fits(self) -> bool:
        return not self.checked or (self.requests.fits_in(self.allocatable) and not self.oversized)

    @property
    def headroom(self) -> Amount | None:
        return None if self.allocatable is None else self.allocatable - self.requests

    def lines(self) -> list[str]:
        """What the render prints: the verdict line, then one line per note."""
        if not self.checked:
            first = f"capacity: requests {self.requests} at maximum replicas; not checked"
        else:
            usable = ", ".join(str(p) for p in self.pools if p.usable) or BUDGET_KEYS
            first = (f"capacity: requests {self.requests} of {self.allocatable} allocatable "
                     f"(headroom {self.headroom}; {usable})")
        return [first, *(f"  capacity note: {note}" for note in self.notes)]

    def error(self) -> str | None:
        """One line saying why the apps do not fit and what to change; None when they fit."""
        if self.fits:
            return None
        usable = [p for p in self.pools if p.usable]
        if self.oversized:
            largest = max(self.oversized, key=lambda d: (d.per_pod.memory, d.per_pod.cpu))
            sizes = " or ".join(pool_settings(p)[1] for p in usable)
            return (f"capacity: {largest.workload} requests {largest.per_pod} per pod, more than one node of "
                    f"any usable pool allocates: use a larger {sizes} or lower its requests")
        short = Amount(max(self.requests.cpu - self.allocatable.cpu, Decimal(0)),
                       max(self.requests.memory - self.allocatable.memory, Decimal(0)))
        if not self.pools:  # an existing cluster, against its declared budget
            return (f"capacity: the enabled apps request {self.requests} at their maximum replicas, more than the "
                    f"{self.allocatable} of {BUDGET_KEYS} (short by {short}): give the cluster more and raise "
                    "both, lower the apps' replicas, or turn an app off (apps.<app>.enabled: false)")
        # Name only the settings of the pools that run workloads: a disabled or tainted pool's are no help.
        raise_ = " or ".join(key for p in usable for key in pool_settings(p))
        return (f"capacity: the enabled apps request {self.requests} at their maximum replicas, more than the "
                f"{self.allocatable} the node pools allocate at their maximum size (short by {short}): raise "
                f"{raise_}, or lower the apps' replicas")


def check_capacity(recording: Any) -> CapacityReport:
    """Compare the recorded stack's requests with its node pools' capacity (see the module docstring)."""
    objects = recording.k8s_objects()
    pools = aks_pools(recording.resources)
    usable = [p for p in pools if p.usable]
    demands, notes = workload_demands(objects, nodes=sum(p.max_nodes for p in usable))
    notes += [f"Helm release {r.inputs.get('namespace', '')}/{r.inputs.get('name', r.name)}: its chart's pods "
              "are not counted" for r in recording.resources if r.type == HELM_RELEASE]
    requests = sum((d.total for d in demands), Amount())

    platform = recording.config.get(f"{recording.project}:platform")
    if not pools:
        budget = _existing_budget(recording) if platform == "existing" else None
        if budget is not None:
            return CapacityReport(requests, budget, demands=tuple(demands), notes=tuple(notes))
        why = (f"an existing cluster's nodes are not known offline (declare them with {BUDGET_KEYS})"
               if platform == "existing" else "the stack creates no AKS node pool")
        return CapacityReport(requests, None, demands=tuple(demands), notes=(why, *notes))
    unknown = [p for p in usable if p.per_node is None]
    if unknown:
        sizes = ", ".join(sorted({p.vm_size for p in unknown}))
        why = f"VM size {sizes} is not in offline/capacity.py's VM_SIZES table (add its vCPUs and memory)"
        return CapacityReport(requests, None, tuple(pools), tuple(demands), (why, *notes))
    if not usable:
        return CapacityReport(requests, Amount(), tuple(pools), tuple(demands),
                              ("every node pool is tainted: workloads have nowhere to run", *notes))
    supply = sum((p.per_node * p.max_nodes for p in usable), Amount())
    oversized = tuple(d for d in demands if d.pods and not any(d.per_pod.fits_in(p.per_node) for p in usable))
    return CapacityReport(requests, supply, tuple(pools), tuple(demands), tuple(notes), oversized)


BUDGET_KEYS = "existing.allocatableCpu / existing.allocatableMemory"


def _existing_budget(recording: Any) -> Amount | None:
    """What the stack declares an existing cluster leaves to its pods (`existing.allocatable*`), if it does."""
    import json

    raw = recording.config.get(f"{recording.project}:existing")
    existing = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    if not isinstance(existing, Mapping):
        return None
    cpu, memory = existing.get("allocatableCpu"), existing.get("allocatableMemory")
    if cpu is None or memory is None:
        return None
    return Amount(quantity(cpu), quantity(memory))
