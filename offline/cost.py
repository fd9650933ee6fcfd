"""A monthly cost estimate of a rendered AKS stack, from the price table below. An estimate, not a quote.

`estimate(manifests, resources)` reads what the render wrote (the Kubernetes objects and resources.json's
entries) and prices what is billed per hour or per month whatever the traffic: the AKS control-plane tier, the
node pools' VMs and their OS disks (at the pools' minimum and maximum sizes), the registry SKU, the standard
load balancer and its public IPs, and the volumes the claims provision (disks by size tier, file shares by
provisioned size). Usage-based charges are listed, not priced: Log Analytics ingestion (Container Insights),
bandwidth, load-balancer data processed, disk and file transactions.

The price table: Azure list prices in USD, pay-as-you-go, Linux, region East US, 730 hours a month, as
published on azure.microsoft.com/pricing (virtual machines, managed disks, Azure Files, container registry,
AKS, load balancer, IP addresses) and queryable from the Azure Retail Prices API
(https://prices.azure.com/api/retail/prices). They were transcribed by hand (PRICES_AS_OF), not fetched by the
build: this project is built without network access to Azure. Other regions differ (West Europe, where the
stacks run, is typically some 10-20% dearer for VMs), and prices change: re-check before relying on a figure.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .capacity import GIB, quantity

PRICES_AS_OF = "2025-06 (transcribed by hand; not re-checked from the build machine)"
PRICES_REGION = "eastus"
PRICES_SOURCE = "azure.microsoft.com/pricing and the Azure Retail Prices API (prices.azure.com/api/retail/prices)"
HOURS_PER_MONTH = Decimal(730)

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
WORKSPACE = "azure-native:operationalinsights:Workspace"

# USD per hour, Linux pay-as-you-go.
VM_HOURLY: Mapping[str, Decimal] = types.MappingProxyType({
    "Standard_B2s": Decimal("0.0416"), "Standard_B2ms": Decimal("0.0832"), "Standard_B4ms": Decimal("0.166"),
    "Standard_D2s_v3": Decimal("0.096"), "Standard_D4s_v3": Decimal("0.192"), "Standard_D8s_v3": Decimal("0.384"),
    "Standard_D2s_v5": Decimal("0.096"), "Standard_D4s_v5": Decimal("0.192"), "Standard_D8s_v5": Decimal("0.384"),
    "Standard_D16s_v5": Decimal("0.768"),
    "Standard_D2ds_v5": Decimal("0.113"), "Standard_D4ds_v5": Decimal("0.226"), "Standard_D8ds_v5": Decimal("0.452"),
    "Standard_D2as_v5": Decimal("0.086"), "Standard_D4as_v5": Decimal("0.172"), "Standard_D8as_v5": Decimal("0.344"),
    "Standard_E2s_v5": Decimal("0.126"), "Standard_E4s_v5": Decimal("0.252"), "Standard_E8s_v5": Decimal("0.504"),
    "Standard_F2s_v2": Decimal("0.0846"), "Standard_F4s_v2": Decimal("0.169"), "Standard_F8s_v2": Decimal("0.338"),
})
# USD per hour of the cluster's control plane by `sku.tier`.
AKS_TIER_HOURLY = types.MappingProxyType({"Free": Decimal(0), "Standard": Decimal("0.10"), "Premium": Decimal("0.60")})
# USD per day by registry SKU.
REGISTRY_DAILY = types.MappingProxyType({"Basic": Decimal("0.1666"), "Standard": Decimal("0.6666"),
                                         "Premium": Decimal("1.6666")})
LOAD_BALANCER_HOURLY = Decimal("0.025")  # Standard load balancer, first 5 rules
PUBLIC_IP_HOURLY = Decimal("0.005")  # Standard static public IPv4
# Managed disks are billed by size tier (the provisioned size rounded up to the next tier): GiB -> USD/month.
DISK_TIERS: Mapping[str, tuple[tuple[int, Decimal], ...]] = types.MappingProxyType({
    "StandardSSD_LRS": ((4, Decimal("0.30")), (8, Decimal("0.60")), (16, Decimal("1.20")), (32, Decimal("2.40")),
                        (64, Decimal("4.80")), (128, Decimal("9.60")), (256, Decimal("19.20")),
                        (512, Decimal("38.40"))),
    "Premium_LRS": ((4, Decimal("0.60")), (8, Decimal("1.20")), (16, Decimal("2.40")), (32, Decimal("5.28")),
                    (64, Decimal("10.21")), (128, Decimal("19.71")), (256, Decimal("37.96")),
                    (512, Decimal("73.22"))),
    "Standard_LRS": ((32, Decimal("1.54")), (64, Decimal("3.01")), (128, Decimal("5.89")), (256, Decimal("11.33")),
                     (512, Decimal("21.76"))),
})
ZRS_DISK_FACTOR = Decimal("1.5")  # ZRS disks cost about half as much again as LRS (approximation)
# Azure Files, USD per provisioned (Premium) or stored (Standard) GiB and month; Premium shares: 100 GiB minimum.
FILES_GIB_MONTHLY = types.MappingProxyType({"Premium_LRS": Decimal("0.16"), "Premium_ZRS": Decimal("0.20"),
                                            "Standard_LRS": Decimal("0.06"), "Standard_ZRS": Decimal("0.075")})
PREMIUM_SHARE_MIN_GIB = 100
# AKS gives a node an ephemeral OS disk (free, on the VM's temp disk) when the pool sets no osDiskType and the
# 128 GiB default fits the size's temp disk (the `d` sizes from 4 vCPUs: 150 GiB), else a managed 128 GiB
# OS disk, Premium SSD (P10) for `s` sizes (Microsoft Learn, "Ephemeral OS disks" in AKS node pools).
OS_DISK_MONTHLY = Decimal("19.71")
EPHEMERAL_OS_SIZES = re.compile(r"Standard_[DE](4|8|16|32|48|64)a?ds_v[56]")
# AKS's built-in default StorageClass (`default`, managed-csi) when a claim names none.
AKS_DEFAULT_DISK_SKU = "StandardSSD_LRS"

USAGE_BASED = ("bandwidth, load-balancer data processed, disk and file-share transactions: usage-based, not "
               "estimated",)


@dataclass(frozen=True)
class Line:
    item: str
    quantity: str
    unit_price: str
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[Line, ...] = ()
    notes: tuple[str, ...] = ()
    priced: bool = True  # False: the stack creates no Azure resource (an existing cluster)

    @property
    def low(self) -> Decimal:
        return sum((line.low for line in self.lines), Decimal(0))

    @property
    def high(self) -> Decimal:
        return sum((line.high for line in self.lines), Decimal(0))

    def total(self) -> str:
        return _range(self.low, self.high)

    def markdown(self) -> str:
        lines = ["## Estimated monthly cost", ""]
        if not self.priced:
            return "\n".join([*lines, "No Azure resources: this stack creates nothing billed by Azure.", ""])
        lines += [
            f"**An estimate, not a quote: about {self.total()} a month** (from the pools at their minimum size to "
            "their maximum). List prices in USD, pay-as-you-go, Linux, "
            f"{PRICES_REGION}, {HOURS_PER_MONTH} hours a month, from the table in `offline/cost.py` "
            f"({PRICES_AS_OF}; source: {PRICES_SOURCE}). Other regions and later prices differ.",
            "",
            "| item | quantity | unit price | per month |",
            "| --- | --- | --- | --- |",
            *(f"| {x.item} | {x.quantity} | {x.unit_price} | {_range(x.low, x.high)} |" for x in self.lines),
            f"| **total** | | | **{self.total()}** |",
            "",
            *(f"- {note}" for note in self.notes),
            "",
        ]
        return "\n".join(lines)


def _money(value: Decimal) -> str:
    return f"${value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"


def _range(low: Decimal, high: Decimal) -> str:
    return _money(low) if _money(low) == _money(high) else f"{_money(low)}-{_money(high)}"


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


@dataclass(frozen=True)
class _Pool:
    name: str
    vm_size: str
    low: int
    high: int
    managed_os_disk: bool = True


def _pools(resources: Iterable[Mapping[str, Any]]) -> list[_Pool]:
    pools = []
    for r in resources:
        profiles = (r["inputs"].get("agentPoolProfiles") or []) if r["type"] == MANAGED_CLUSTER else (
            [{**r["inputs"], "name": r["inputs"].get("agentPoolName") or r["name"]}] if r["type"] == AGENT_POOL else [])
        for p in profiles:
            count = _count(p.get("count"), 0)
            if p.get("enableAutoScaling"):
                low, high = _count(p.get("minCount"), count), _count(p.get("maxCount"), count)
            else:
                low = high = count
            os_disk = p.get("osDiskType") or ("Ephemeral" if EPHEMERAL_OS_SIZES.fullmatch(str(p.get("vmSize")))
                                               else "Managed")
            pools.append(_Pool(str(p.get("name")), str(p.get("vmSize")), low, high, os_disk == "Managed"))
    return sorted(pools, key=lambda pool: pool.name != "system")  # the system pool first


@dataclass
class _Claims:
    """Volumes the claims provision, by StorageClass."""

    by_class: dict[str | None, list[tuple[Decimal, int]]] = field(default_factory=dict)

    def add(self, spec: Mapping[str, Any], count: int) -> None:
        size = quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage", 0))
        self.by_class.setdefault(spec.get("storageClassName"), []).append((size, count))


def _claims(manifests: Iterable[Mapping[str, Any]]) -> _Claims:
    claims = _Claims()
    for obj in manifests:
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        if kind == "PersistentVolumeClaim":
            claims.add(spec, 1)
        elif kind == "StatefulSet":
            for template in spec.get("volumeClaimTemplates") or []:
                claims.add(template.get("spec") or {}, _count(spec.get("replicas"), 1))
        elif kind == "InnoDBCluster" and spec.get("datadirVolumeClaimTemplate"):
            claims.add(spec["datadirVolumeClaimTemplate"], _count(spec.get("instances"), 1))
    return claims


def _disk_price(sku: str, size_gib: Decimal) -> Decimal | None:
    base = sku.replace("_ZRS", "_LRS")
    tiers = DISK_TIERS.get(base)
    if tiers is None:
        return None
    price = next((p for tier, p in tiers if size_gib <= tier), None)
    if price is None:
        return None
    return price * ZRS_DISK_FACTOR if sku.endswith("_ZRS") else price


def _storage_classes(manifests: Iterable[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """StorageClass name -> (kind "disk" or "files", SKU) for the Azure CSI classes the stack creates."""
    classes = {}
    for obj in manifests:
        if obj.get("kind") != "StorageClass":
            continue
        provisioner = obj.get("provisioner", "")
        sku = (obj.get("parameters") or {}).get("skuName", "")
        kind = "disk" if provisioner == "disk.csi.azure.com" else "files" if provisioner == "file.csi.azure.com" else ""
        if kind and sku:
            classes[(obj.get("metadata") or {}).get("name")] = (kind, sku)
    return classes


def _external_load_balancers(manifests: Iterable[Mapping[str, Any]]) -> int:
    """LoadBalancer Services with a public frontend (each gets a public IP)."""
    count = 0
    for obj in manifests:
        spec = obj.get("spec") or {}
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        internal = annotations.get("service.beta.kubernetes.io/azure-load-balancer-internal") == "true"
        if obj.get("kind") == "Service" and spec.get("type") == "LoadBalancer" and not internal:
            count += 1
    return count


def estimate(manifests: list[Mapping[str, Any]], resources: list[Mapping[str, Any]]) -> CostEstimate:
    """The monthly estimate of a rendered stack (see the module docstring)."""
    clusters = [r for r in resources if r["type"] == MANAGED_CLUSTER]
    if not clusters:
        return CostEstimate(priced=False)
    lines: list[Line] = []
    notes: list[str] = list(USAGE_BASED)
    cluster = clusters[0]["inputs"]

    tier = ((cluster.get("sku") or {}).get("tier")) or "Free"
    hourly = AKS_TIER_HOURLY.get(tier)
    if hourly is None:
        notes.append(f"AKS tier {tier}: not in the price table, not priced")
    else:
        lines.append(Line(f"AKS control plane, {tier} tier", "1", f"${hourly}/h", *(hourly * HOURS_PER_MONTH,) * 2))

    nodes_low = nodes_high = 0
    for pool in _pools(resources):
        price = VM_HOURLY.get(pool.vm_size)
        if pool.managed_os_disk:
            nodes_low, nodes_high = nodes_low + pool.low, nodes_high + pool.high
        if price is None:
            notes.append(f"{pool.name} pool: VM size {pool.vm_size} is not in the price table, not priced")
            continue
        count = str(pool.low) if pool.low == pool.high else f"{pool.low}-{pool.high}, autoscaled"
        lines.append(Line(f"{pool.name} pool, {pool.vm_size}", count, f"${price}/h",
                          price * HOURS_PER_MONTH * pool.low, price * HOURS_PER_MONTH * pool.high))
    if nodes_high:
        lines.append(Line("node OS disks, managed 128 GiB Premium SSD (P10)", _span(nodes_low, nodes_high),
                          f"${OS_DISK_MONTHLY}/month", OS_DISK_MONTHLY * nodes_low, OS_DISK_MONTHLY * nodes_high))

    for registry in (r for r in resources if r["type"] == REGISTRY):
        sku = ((registry["inputs"].get("sku") or {}).get("name")) or "Basic"
        daily = REGISTRY_DAILY.get(sku)
        if daily is None:
            notes.append(f"registry SKU {sku}: not in the price table, not priced")
            continue
        monthly = daily * HOURS_PER_MONTH / 24
        lines.append(Line(f"container registry, {sku}", "1", f"${daily}/day", monthly, monthly))

    public = _external_load_balancers(manifests)
    lines.append(Line("standard load balancer (first 5 rules)", "1", f"${LOAD_BALANCER_HOURLY}/h",
                      *(LOAD_BALANCER_HOURLY * HOURS_PER_MONTH,) * 2))
    # One outbound IP of the cluster, one per public LoadBalancer Service, one for app routing's nginx.
    routing = 1 if (((cluster.get("ingressProfile") or {}).get("webAppRouting") or {}).get("enabled")) else 0
    ips = 1 + public + routing
    lines.append(Line("public IPs (outbound, LoadBalancer Services, app routing)", str(ips),
                      f"${PUBLIC_IP_HOURLY}/h", *(PUBLIC_IP_HOURLY * HOURS_PER_MONTH * ips,) * 2))

    classes = _storage_classes(manifests)
    for name, volumes in sorted(_claims(manifests).by_class.items(), key=lambda item: str(item[0])):
        kind, sku = classes.get(name, ("disk", AKS_DEFAULT_DISK_SKU) if name is None else ("", ""))
        count = sum(n for _, n in volumes)
        label = name or "the cluster's default class"
        if kind == "disk":
            prices = [(_disk_price(sku, size / GIB), n) for size, n in volumes]
            if any(p is None for p, _ in prices):
                notes.append(f"volumes of {label} ({sku}): a size or SKU not in the price table, not priced")
                continue
            total = sum((p * n for p, n in prices), Decimal(0))
            lines.append(Line(f"disks of {label}, {sku}", str(count), "by size tier", total, total))
        elif kind == "files":
            per_gib = FILES_GIB_MONTHLY.get(sku)
            if per_gib is None:
                notes.append(f"file shares of {label} ({sku}): not in the price table, not priced")
                continue
            minimum = PREMIUM_SHARE_MIN_GIB if sku.startswith("Premium") else 0
            gib = sum((max(size / GIB, Decimal(minimum)) * n for size, n in volumes), Decimal(0))
            lines.append(Line(f"file shares of {label}, {sku}", f"{count} ({gib:.0f} GiB)", f"${per_gib}/GiB",
                              gib * per_gib, gib * per_gib))
        else:
            notes.append(f"{count} volume(s) of StorageClass {label}: not an Azure disk or file class, not priced")

    if any(r["type"] == WORKSPACE for r in resources):
        notes.insert(0, "Log Analytics (monitoring.containerInsights) is billed per GB ingested: usage-based, not "
                        "estimated, on top of this")
    return CostEstimate(tuple(lines), tuple(notes))


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


def estimate_recording(recording: Any) -> CostEstimate:
    """The estimate of a recorded run (what the render would write), for tests and the README table."""
    others = [{"type": r.type, "name": r.name, "inputs": r.inputs} for r in recording.resources
              if not r.is_kubernetes_object]
    return estimate(recording.k8s_objects(), others)


def readme_table(project_dir: Any, stacks: Iterable[str]) -> str:
    """The README's per-stack table (`make docs` writes it between the cost-estimates markers)."""
    from .engine import run_stack

    rows = ["| stack | estimated monthly cost | main items |", "| --- | --- | --- |"]
    for stack in stacks:
        cost = estimate_recording(run_stack(stack, project_dir=project_dir))
        if not cost.priced:
            rows.append(f"| `{stack}` | none billed by Azure | an existing cluster |")
            continue
        top = sorted(cost.lines, key=lambda line: line.high, reverse=True)[:3]
        items = "; ".join(f"{line.item} ({line.quantity}): {_range(line.low, line.high)}" for line in top)
        rows.append(f"| `{stack}` | {cost.total()} | {items} |")
    return "\n".join(rows) + "\n"
