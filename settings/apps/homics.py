"""Settings of the HOMicS marketplace (stack config `apps.homics`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import QUANTITY, boolean, integer, matching, one_of, optional, setting

VERSION = matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag such as 1.0.0")
# Brokers from Kafka 4.0 on refuse clients older than 2.1; the apps' clients are Kafka 1.x era.
KAFKA_3 = matching(r"3\.[0-9]+\.[0-9]+", "a Kafka 3.x version such as 3.9.1 (4.0+ brokers refuse the apps' clients)")
HOSTNAME = matching(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+", "a DNS name such as shop.example.com"
)


@dataclass(frozen=True)
class HomicsSettings:
    enabled: bool = setting("enabled", "Deploy the HOMicS marketplace (namespace `homics`).", boolean, default=True)
    user_activity_version: str = setting(
        "userActivityVersion",
        "Tag of `homics/user-activity`; the seed rolls it from 1.0.0 to 2.0.0 without downtime.",
        VERSION, default="1.0.0",
    )
    gateway_version: str = setting("gatewayVersion", "Tag of `homics/gateway`.", VERSION, default="1.0.0")
    monolith_version: str = setting("monolithVersion", "Tag of `homics/monolith`.", VERSION, default="1.0.0")
    stats_version: str = setting("statsVersion", "Tag of `homics/stats`.", VERSION, default="1.0.0")
    stock_version: str = setting("stockVersion", "Tag of `homics/stock`.", VERSION, default="1.0.0")
    kafka_version: str = setting("kafkaVersion", "Tag of `apache/kafka` (KRaft, single node).", KAFKA_3,
                                 default="3.9.1")
    user_replicas: int = setting(
        "userReplicas", "user-activity replicas; at least 2 so that a crash never takes it down (seed: 2).",
        integer(2, 20), default=2,
    )
    gateway_replicas: int = setting("gatewayReplicas", "Gateway replicas (seed: 1).", integer(1, 20), default=1)
    monolith_replicas: int = setting("monolithReplicas", "Monolith replicas (seed: 1).", integer(1, 20), default=1)
    stats_replicas: int = setting("statsReplicas", "Stats replicas.", integer(1, 20), default=1)
    stock_replicas: int = setting("stockReplicas", "Stock replicas.", integer(1, 20), default=1)
    gateway_exposure: str = setting(
        "gatewayExposure",
        "How Service `gateway` (the public entry) is reached: `auto` is NodePort on an existing cluster "
        "(as in the seed) and LoadBalancer on AKS; `Ingress` adds Ingress `gateway` to a ClusterIP Service.",
        one_of("auto", "NodePort", "LoadBalancer", "Ingress"), default="auto",
    )
    gateway_host: str | None = setting(
        "gatewayHost", "DNS name the gateway Ingress matches (with gatewayExposure Ingress); unset: any host.",
        optional(HOSTNAME), default=None,
    )
    database_storage_size: str = setting(
        "databaseStorageSize", "Volume of the H2 database `homics-db` (/opt/h2-data).", QUANTITY, default="1Gi"
    )
    kafka_storage_size: str = setting("kafkaStorageSize", "Volume of the Kafka log.", QUANTITY, default="2Gi")

    def replicated_tiers(self) -> dict[str, int]:
        """Replica settings of the tiers that can run several pods (config key -> count): with
        `availability.allowSingleReplicaTiers` false each must be at least 2."""
        return {"userReplicas": self.user_replicas, "gatewayReplicas": self.gateway_replicas,
                "monolithReplicas": self.monolith_replicas, "statsReplicas": self.stats_replicas,
                "stockReplicas": self.stock_replicas}
