"""Settings of the To Do app (stack config `apps.todo`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import (
    DNS_LABEL,
    NAMESPACE,
    QUANTITY,
    ConfigError,
    boolean,
    integer,
    matching,
    one_of,
    optional,
    section,
    setting,
)

IMAGE_TAG = matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag such as latest or 1.2.3")
HOSTNAME = matching(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+", "a DNS name such as todo.example.com"
)
GATEWAY_NAME = matching(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", "a Gateway name (a DNS subdomain)")


@dataclass(frozen=True)
class TodoGatewayApiSettings:
    """Attach todo-web to an existing Gateway API Gateway with an HTTPRoute (the cluster must have Gateway API)."""

    enabled: bool = setting(
        "enabled", "Create HTTPRoute `todo-web` (gateway.networking.k8s.io/v1) for todo-web.", boolean, default=False
    )
    gateway_name: str = setting(
        "gatewayName", "The Gateway the route attaches to (the seed's example Gateway is `todo-org`).",
        GATEWAY_NAME, default="todo-org",
    )
    gateway_namespace: str | None = setting(
        "gatewayNamespace",
        "Namespace of that Gateway (its listeners must allow routes from namespace `todo`); unset: `todo`.",
        optional(DNS_LABEL), default=None,
    )


@dataclass(frozen=True)
class TodoSettings:
    enabled: bool = setting("enabled", "Deploy the To Do app (namespace `todo` and the MySQL Operator).", boolean,
                            default=True)
    api_image_tag: str = setting(
        "apiImageTag", "Tag of `ericgregory/todo-api` (only `latest` is published).", IMAGE_TAG, default="latest"
    )
    web_image_tag: str = setting(
        "webImageTag", "Tag of `ericgregory/todo-web` (only `latest` is published).", IMAGE_TAG, default="latest"
    )
    api_min_replicas: int = setting(
        "apiMinReplicas", "Fewest todo-api replicas the autoscaler keeps (seed: 2).", integer(1, 50), default=2
    )
    api_max_replicas: int = setting(
        "apiMaxReplicas", "Most todo-api replicas the autoscaler adds (seed: 5).", integer(1, 50), default=5
    )
    api_target_cpu_percent: int = setting(
        "apiTargetCpuPercent", "Average CPU utilization (% of the request) the autoscaler aims at (seed: 80).",
        integer(1, 100), default=80,
    )
    web_replicas: int = setting(
        "webReplicas",
        "todo-web replicas. The seed ran 1; 2 keep the public entry up while a node is drained.",
        integer(1, 50), default=2,
    )
    web_service_type: str = setting(
        "webServiceType",
        "Type of Service `todo-web` (the seed's LoadBalancer); `auto`: the platform's external Service type.",
        one_of("auto", "LoadBalancer", "NodePort", "ClusterIP"), default="auto",
    )
    ingress: bool = setting(
        "ingress", "Also expose todo-web through an Ingress `todo-web` on the platform's ingress class.", boolean,
        default=True,
    )
    host: str | None = setting(
        "host", "DNS name the Ingress and HTTPRoute match; unset: any host.", optional(HOSTNAME), default=None
    )
    mysql_instances: int = setting(
        "mysqlInstances", "MySQL server instances of InnoDBCluster `todo-mysql` (seed: 3).", integer(1, 9), default=3
    )
    mysql_router_instances: int = setting(
        "mysqlRouterInstances", "MySQL Router instances behind Service `todo-mysql` (seed: 1).", integer(1, 9),
        default=1,
    )
    mysql_storage_size: str = setting(
        "mysqlStorageSize", "Data volume of each MySQL instance.", QUANTITY, default="2Gi"
    )
    gateway_api: TodoGatewayApiSettings = section(
        "gatewayApi", "Gateway API routing for todo-web.", TodoGatewayApiSettings
    )

    def __post_init__(self) -> None:
        if self.api_max_replicas < self.api_min_replicas:
            raise ConfigError(
                f"{NAMESPACE}:apps.todo.apiMaxReplicas: expected an integer >= apiMinReplicas "
                f"({self.api_min_replicas}), got {self.api_max_replicas}"
            )

    def replicated_tiers(self) -> dict[str, int]:
        """Replica settings of the tiers that can run several pods (config key -> count): with
        `availability.allowSingleReplicaTiers` false each must be at least 2."""
        return {"apiMinReplicas": self.api_min_replicas, "webReplicas": self.web_replicas,
                "mysqlInstances": self.mysql_instances, "mysqlRouterInstances": self.mysql_router_instances}
