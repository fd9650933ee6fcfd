"""The stack as the tier applies it: the rendered objects (from the offline engine, redacted exactly as
`make render` writes them) in dependency order, and the node pools it asks AKS for.

Order: Namespaces (their Pod Security labels must exist before any pod), CustomResourceDefinitions,
StorageClasses, then what pods reference (ServiceAccounts, Secrets, ConfigMaps, claims, Services), policy
objects, the workloads, their autoscalers, and the rest. Objects whose kind the server does not serve (the
InnoDBCluster: the MySQL Operator's Helm chart, which carries its CRD, is not rendered) are skipped and named.
CRDs an AKS add-on installs are applied as the add-on would: the Key Vault secrets provider add-on brings the
Secrets Store CSI driver and its SecretProviderClass CRD (the copy the render validates against).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import yaml

from offline.capacity import VM_SIZES, _default_max_pods, allocatable
from offline.engine import PROJECT_DIR, Recording, run, run_main, stack_config
from offline.redact import Redactor
from offline.render import _ordered

DISRUPTION_ALLOWED = "aks-microservices.io/disruption-allowed"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")

_ORDER = ("Namespace", "CustomResourceDefinition", "StorageClass", "PriorityClass", "ServiceAccount", "Secret",
          "ConfigMap", "PersistentVolumeClaim", "Service", "Role", "RoleBinding", "NetworkPolicy",
          "PodDisruptionBudget", "StatefulSet", "Deployment", "Job", "CronJob", "HorizontalPodAutoscaler")


# AKS add-on (addonProfiles key) -> the CRD files it installs (offline/schemas/crds/).
ADDON_CRDS = {"azureKeyvaultSecretsProvider": ("secrets-store-csi-driver-v1.6.0-secretproviderclasses.yaml",)}


def addon_crds(recording: Recording) -> list[dict]:
    """The CRDs of the add-ons the stack's AKS cluster enables (none on an existing cluster)."""
    crds = []
    for cluster in recording.of_type("azure-native:containerservice:ManagedCluster"):
        for addon, files in ADDON_CRDS.items():
            if ((cluster.inputs.get("addonProfiles") or {}).get(addon) or {}).get("enabled"):
                for file in files:
                    crd = yaml.safe_load((PROJECT_DIR / "offline" / "schemas" / "crds" / file).read_text())
                    crd.pop("status", None)  # the server's to set
                    crds.append(crd)
    return crds


def rank(obj: dict) -> int:
    return _ORDER.index(obj["kind"]) if obj["kind"] in _ORDER else len(_ORDER)


def manifests(recording: Recording) -> list[dict]:
    """Every rendered Kubernetes object, redacted as on disk, in apply order (stable within a kind)."""
    redactor = Redactor(recording.secret_values)
    objects = [_ordered(redactor.manifest(r.inputs, r.secret_paths))
               for r in sorted(recording.kubernetes_resources(), key=lambda r: r.urn)]
    return sorted(objects, key=rank)


def ref(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj['kind']}/{meta.get('namespace', '')}/{meta.get('name', '')}".replace("//", "/")


def disruption_allowed(workload: dict) -> str | None:
    """The reason the stack gives for letting this workload reach zero ready pods, or None."""
    reason = ((workload.get("metadata") or {}).get("annotations") or {}).get(DISRUPTION_ALLOWED)
    return reason.strip() if isinstance(reason, str) and reason.strip() else None


@dataclass(frozen=True)
class PoolShape:
    """One AKS node pool as the stack declares it."""

    name: str
    mode: str  # System or User
    vm_size: str
    min_nodes: int
    max_nodes: int
    zones: tuple[str, ...]
    taints: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    cpu_millis: int  # allocatable per node (offline/capacity.py: VM size minus AKS's reservations)
    memory_bytes: int
    cpu_capacity: int
    memory_capacity: int
    max_pods: int


@dataclass(frozen=True)
class Stack:
    name: str
    location: str
    objects: tuple[dict, ...]
    pools: tuple[PoolShape, ...]

    def workloads(self) -> list[dict]:
        return [o for o in self.objects if o["kind"] in WORKLOAD_KINDS]


def _profiles(recording: Recording) -> list[dict]:
    clusters = recording.of_type("azure-native:containerservice:ManagedCluster")
    profiles = [dict(p) for c in clusters for p in c.inputs.get("agentPoolProfiles") or []]
    for pool in recording.of_type("azure-native:containerservice:AgentPool"):
        profiles.append({**pool.inputs, "name": pool.inputs.get("agentPoolName") or pool.name})
    return profiles


def _merged(base, extra):
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in extra.items()}}
    return extra


def with_setting(stack: str, overrides: dict) -> dict:
    """`overrides` merged into the stack file's own values: the engine replaces a top-level key whole, and
    `apps: {homics: {...}}` alone would drop every other app setting of the stack."""
    config = stack_config(PROJECT_DIR, stack)
    out = {}
    for key, value in overrides.items():
        current = config.values.get(f"{config.project}:{key}")
        out[key] = _merged(json.loads(current) if current is not None else None, value)
    return out


def load(stack: str = "dev", overrides: dict | None = None) -> Stack:
    """The stack rendered, with `overrides` merged into its stack file's settings (see `with_setting`)."""
    # A run of its own, not the suite's shared recordings (tests/conftest.py): the tier applies exactly what
    # the program registers, whatever another test did to a shared copy.
    config = stack_config(PROJECT_DIR, stack, with_setting(stack, overrides) if overrides else None)
    recording = run(run_main(PROJECT_DIR), stack=stack, project=config.project, config=config)
    clusters = recording.of_type("azure-native:containerservice:ManagedCluster")
    network = (clusters[0].inputs.get("networkProfile") or {}) if clusters else {}
    location = clusters[0].inputs.get("location", "westeurope") if clusters else "westeurope"
    shapes = []
    for profile in _profiles(recording):
        name = profile.get("name")
        vm_size = str(profile.get("vmSize"))
        autoscaled = bool(profile.get("enableAutoScaling"))
        count = int(profile.get("count") or 0)
        low = int(profile.get("minCount") or count) if autoscaled else count
        high = int(profile.get("maxCount") or count) if autoscaled else count
        max_pods = int(profile.get("maxPods") or _default_max_pods(network))
        per_node = allocatable(vm_size, max_pods)  # the render's capacity check uses the same table
        if per_node is None:
            raise LookupError(f"pool {name}: VM size {vm_size} is not in offline/capacity.py's VM_SIZES")
        cores, memory_gib = VM_SIZES[vm_size]
        shapes.append(PoolShape(
            name=name, mode=str(profile.get("mode", "User")), vm_size=vm_size, min_nodes=low, max_nodes=high,
            zones=tuple(profile.get("availabilityZones") or ()), taints=tuple(profile.get("nodeTaints") or ()),
            labels=tuple(sorted((profile.get("nodeLabels") or {}).items())),
            cpu_millis=int(per_node.cpu * 1000), memory_bytes=int(per_node.memory),
            cpu_capacity=int(cores), memory_capacity=int(memory_gib * 2**30), max_pods=max_pods,
        ))
    objects = sorted(addon_crds(recording) + manifests(recording), key=rank)
    return Stack(stack, str(location), tuple(objects), tuple(shapes))


def edited(stack: Stack, kind: str, namespace: str, name: str, edit) -> Stack:
    """A copy of the stack with one object changed by `edit(obj)` (the deliberately broken renders)."""
    objects = []
    hit = False
    for obj in stack.objects:
        meta = obj["metadata"]
        if obj["kind"] == kind and meta.get("namespace") == namespace and meta["name"] == name:
            obj = copy.deepcopy(obj)
            edit(obj)
            hit = True
        objects.append(obj)
    if not hit:
        raise KeyError(f"{kind}/{namespace}/{name} is not in the rendered {stack.name} stack")
    return Stack(stack.name, stack.location, tuple(objects), stack.pools)
