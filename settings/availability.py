"""Availability settings (stack config `availability`): how the apps' workloads ride out node drains and
zone losses. Dev keeps the seeds' replica counts and soft spreading; prod refuses single-pod tiers and
spreads hard over zones (Pulumi.prod.yaml)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, one_of, setting


@dataclass(frozen=True)
class AvailabilitySettings:
    zone_spread: str = setting(
        "zoneSpread",
        "Topology spread of every workload over `topology.kubernetes.io/zone`: `soft` (`ScheduleAnyway`, a "
        "preference that never leaves a pod pending) or `hard` (`DoNotSchedule`: a pod waits rather than pile "
        "into one zone, so a zone loss never takes every pod of a tier; on AKS it needs `cluster.zones` and ZRS "
        "storage, elsewhere every node must carry the zone label or pods stay Pending). "
        "Spreading over nodes stays `ScheduleAnyway`.",
        one_of("soft", "hard"),
        default="soft",
    )
    allow_single_replica_tiers: bool = setting(
        "allowSingleReplicaTiers",
        "`true`: a tier that could run several pods may run one (the seeds' counts), and is then declared "
        "allowed to reach zero ready pods during a drain (annotation `aks-microservices.io/disruption-allowed`); "
        "`false`: every such replica setting must be at least 2 (each tier then has a PodDisruptionBudget). "
        "Stores that cannot replicate are always declared, with their reason.",
        boolean,
        default=True,
    )
