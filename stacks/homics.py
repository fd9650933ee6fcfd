"""HOMicS marketplace (seed 004) in namespace `homics`: a gateway in front of user-activity, the monolith,
stats and stock, which share the H2 database `homics-db` and talk through Kafka.

The images' configuration hard-codes the names and ports they dial (`homics-db:1521`, `user:9001`,
`monolith:8090`, `stats:9002`, `stock:9003`, `kafka:9092`): every Service name here is a contract.
The seed's corrections: the monolith's Service selects the monolith's pods (the original selected
`app=user`), and the database and Kafka keep their data on volumes.

Traffic is declared, so it is also all that is allowed: the gateway connects to user, monolith, stats and
stock; those four connect to `homics-db:1521` and `kafka:9092`; only the gateway is reachable from outside.
The addresses are baked into the images, so the connections set no env var.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components import (
    Connection,
    ContainerPort,
    HttpProbe,
    IngressPath,
    IngressRule,
    PerReplicaStorage,
    Resources,
    SecurityOptOut,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
    TcpProbe,
)
from components.pod import Probe
from infra import Platform
from settings import StackSettings
from settings.apps.homics import HomicsSettings
from stacks.common import AppScope, open_app

APP = "homics"
NAMESPACE = "homics"

# Spring Boot services on a JVM: realistic requests, room for the heap, and a startup budget (5 s x 60)
# before liveness takes over, so a slow JVM start is not killed.
JVM_RESOURCES = Resources(cpu_request="250m", memory_request="512Mi", cpu_limit="1000m", memory_limit="768Mi")
JVM_STARTUP = TcpProbe(period_seconds=5, failure_threshold=60)
# Spring Boot's embedded Tomcat unpacks into java.io.tmpdir: the only path the services write.
JVM_WRITABLE = ("/tmp",)

GATEWAY_PORT = 8080
# The gateway keeps each login in its own memory (Spring Security form login, no shared session store), so with
# two or more gateway pods a client must stay on one: ClientIP affinity on Service `gateway`, and ingress-nginx's
# cookie affinity behind an Ingress
# (https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#session-affinity).
GATEWAY_INGRESS_AFFINITY = {"nginx.ingress.kubernetes.io/affinity": "cookie"}
USER_PORT = 9001
MONOLITH_PORT = 8090
STATS_PORT = 9002
STOCK_PORT = 9003
# The seed's readiness probe: user-activity is ready once it serves its version (on 9001, after 3 s, every 3 s).
USER_READINESS = HttpProbe(path="/user/internal/version", port=USER_PORT, initial_delay_seconds=3, period_seconds=3)

DB = "homics-db"
H2_IMAGE = "oscarfonts/h2:1.4.197"  # the apps' H2 1.4 client; newer H2 files are not readable by it
H2_TCP_PORT = 1521
H2_WEB_PORT = 81
H2_DATA = "/opt/h2-data"  # the image's DATA_DIR and -baseDir
# Why each store runs one pod, and may reach zero ready pods while its node is drained (the workload annotation).
H2_SINGLE_SERVER = (
    "one H2 server process owns the database files and H2 has no replication: the apps dial the one server "
    "jdbc:h2:tcp://homics-db:1521"
)
# oscarfonts/h2 has no USER, but needs no root: its command names both ports (`-webPort 81 -tcpPort 1521`), the
# jar under /opt/h2 is world-readable and it writes only below -baseDir (the volume, group-writable through
# fsGroup). The console's port 81 is bound without root or NET_BIND_SERVICE: the component sets the pod's
# `net.ipv4.ip_unprivileged_port_start` to 81, a namespaced sysctl Pod Security `restricted` allows.

KAFKA = "kafka"
KAFKA_PORT = 9092
KAFKA_CONTROLLER_PORT = 9093
KAFKA_MOUNT = "/var/lib/kafka/data"  # the image's data volume
# A directory below the mount: a fresh volume's lost+found is not a topic-partition directory.
KAFKA_LOG_DIR = f"{KAFKA_MOUNT}/kraft-combined-logs"
# Fixed: the KRaft metadata on the volume is formatted with it (a base64 UUID, not a secret).
KAFKA_CLUSTER_ID = "aG9taWNzLWthZmthLTAwMQ"
# The image's user `appuser` (1000) owns /opt/kafka; group 1000 makes the volume writable to it.
KAFKA_UID = 1000
KAFKA_SINGLE_NODE = (
    "single-node KRaft broker and controller: the controller quorum is this one node and every topic has "
    "replication factor 1; a second broker needs a three-voter quorum and replicated topics"
)
KAFKA_WRITES_CONFIG = SecurityOptOut(
    reason=(
        "apache/kafka renders server.properties and log4j files into /opt/kafka/config (and logs into "
        "/opt/kafka/logs) at every start, next to files of the image: the root filesystem stays writable."
    ),
    writable_root_filesystem=True,
)


def images(settings: HomicsSettings) -> set[str]:
    return {
        f"homics/gateway:{settings.gateway_version}",
        f"homics/user-activity:{settings.user_activity_version}",
        f"homics/monolith:{settings.monolith_version}",
        f"homics/stats:{settings.stats_version}",
        f"homics/stock:{settings.stock_version}",
        H2_IMAGE,
        _kafka_image(settings),
    }


def _kafka_image(settings: HomicsSettings) -> str:
    # Kafka 3.x in KRaft mode (no ZooKeeper): the apps' clients are Kafka 1.x era, and brokers from 4.0 on
    # refuse clients older than 2.1 (the compose file's wurstmeister/kafka:1.0.0 is long unmaintained).
    return f"apache/kafka:{settings.kafka_version}"


def gateway_exposure(settings: HomicsSettings, platform: Platform) -> str:
    """NodePort on an existing cluster (the seed), LoadBalancer on AKS, unless configured."""
    if settings.gateway_exposure != "auto":
        return settings.gateway_exposure
    return "NodePort" if platform.kind == "existing" else "LoadBalancer"


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    homics = settings.apps.homics
    scope = open_app(APP, NAMESPACE, settings, platform)

    database = _database(scope, homics)
    kafka = _kafka(scope, homics)
    # Every service of the marketplace keeps its data in H2 and talks through Kafka.
    backends = (Connection(to=database.endpoint), Connection(to=kafka.endpoint))

    services = [
        _java_service(
            scope, "user", image=f"homics/user-activity:{homics.user_activity_version}", port=USER_PORT,
            replicas=homics.user_replicas, replicas_key="userReplicas", component="user-activity", readiness=USER_READINESS, connects_to=backends,
        ),
        _java_service(
            scope, "monolith", image=f"homics/monolith:{homics.monolith_version}", port=MONOLITH_PORT,
            replicas=homics.monolith_replicas, replicas_key="monolithReplicas", component="monolith", connects_to=backends,
        ),
        _java_service(
            scope, "stats", image=f"homics/stats:{homics.stats_version}", port=STATS_PORT,
            replicas=homics.stats_replicas, replicas_key="statsReplicas", component="stats", connects_to=backends,
        ),
        _java_service(
            scope, "stock", image=f"homics/stock:{homics.stock_version}", port=STOCK_PORT,
            replicas=homics.stock_replicas, replicas_key="stockReplicas", component="stock", connects_to=backends,
        ),
    ]

    exposure = gateway_exposure(homics, platform)
    ingress = None
    if exposure == "Ingress":
        ingress = IngressRule(name="gateway", class_name=platform.ingress_class,
                              controller_namespace=platform.ingress_controller_namespace, host=homics.gateway_host,
                              paths=(IngressPath(path="/"),), annotations=GATEWAY_INGRESS_AFFINITY)
    gateway = _java_service(
        scope, "gateway", image=f"homics/gateway:{homics.gateway_version}", port=GATEWAY_PORT,
        replicas=homics.gateway_replicas, replicas_key="gatewayReplicas", component="gateway",
        connects_to=tuple(Connection(to=service.endpoint) for service in services),
        service_type="ClusterIP" if exposure == "Ingress" else exposure, ingress=ingress,
        session_affinity="ClientIP",
    )

    outputs: dict[str, pulumi.Input] = {
        "gatewayExposure": exposure,
        "databaseAddress": pulumi.Output.concat(database.host, f":{H2_TCP_PORT}"),
        "kafkaBootstrap": pulumi.Output.concat(kafka.host, f":{KAFKA_PORT}"),
    }
    if exposure == "LoadBalancer":
        outputs["gatewayUrl"] = gateway.load_balancer_address.apply(
            lambda address: f"http://{address}:{GATEWAY_PORT}" if address else ""
        )
    elif exposure == "NodePort":
        outputs["gatewayNodePort"] = gateway.service.spec.apply(lambda spec: spec.ports[0].node_port)
    else:
        outputs["gatewayIngressHost"] = homics.gateway_host or "*"
    return scope.finish(outputs)


def _java_service(
    scope: AppScope,
    name: str,
    *,
    image: str,
    port: int,
    replicas: int,
    replicas_key: str,
    component: str,
    connects_to: Sequence[Connection],
    readiness: Probe | None = None,
    service_type: str = "ClusterIP",
    ingress: IngressRule | None = None,
    session_affinity: str = "None",
) -> StatelessService:
    """Deployment `<name>-deployment` (container `<name>`) behind Service `<name>`, as in the seed."""
    return StatelessService(
        f"{APP}-{name}",
        StatelessServiceArgs(
            namespace=scope.namespace_name,
            part_of=APP,
            component=component,
            image=scope.image(image),
            deployment_name=f"{name}-deployment",
            container_name=name,
            service_name=name,
            service_type=service_type,
            port=port,
            port_name="http",
            replicas=replicas,
            resources=JVM_RESOURCES,
            readiness_probe=readiness,
            startup_probe=JVM_STARTUP,
            writable_paths=JVM_WRITABLE,
            connects_to=connects_to,
            ingress=ingress,
            session_affinity=session_affinity,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(replicas, f"apps.homics.{replicas_key}"),
        ),
        scope.opts(),
    )


def _database(scope: AppScope, homics: HomicsSettings) -> StatefulStore:
    """H2 server `homics-db`: TCP 1521 for the apps (databases created on first connect), console on 81."""
    return StatefulStore(
        f"{APP}-db",
        StatefulStoreArgs(
            namespace=scope.namespace_name,
            part_of=APP,
            component="database",
            image=scope.image(H2_IMAGE),
            statefulset_name=DB,
            headless_service_name=f"{DB}-headless",
            service_name=DB,
            port=H2_TCP_PORT,
            port_name="h2",
            extra_ports=(ContainerPort(name="console", port=H2_WEB_PORT),),
            storage=PerReplicaStorage(
                claim_name="h2-data",
                size=homics.database_storage_size,
                mount_path=H2_DATA,
                storage_class=scope.platform.per_replica_storage_class,
            ),
            resources=JVM_RESOURCES,
            startup_probe=JVM_STARTUP,
            writable_paths=JVM_WRITABLE,
            zone_spread=scope.zone_spread,
            disruption_allowed=H2_SINGLE_SERVER,
        ),
        scope.opts(stateful=True),
    )


def _kafka(scope: AppScope, homics: HomicsSettings) -> StatefulStore:
    """Single-node KRaft Kafka (broker and controller) advertising `kafka:9092`, its log on a volume."""
    return StatefulStore(
        f"{APP}-kafka",
        StatefulStoreArgs(
            namespace=scope.namespace_name,
            part_of=APP,
            component="messaging",
            image=scope.image(_kafka_image(homics)),
            statefulset_name=KAFKA,
            headless_service_name=f"{KAFKA}-headless",
            service_name=KAFKA,
            port=KAFKA_PORT,
            port_name="kafka",
            env=_kafka_env(),
            storage=PerReplicaStorage(
                claim_name="kafka-data",
                size=homics.kafka_storage_size,
                mount_path=KAFKA_MOUNT,
                storage_class=scope.platform.per_replica_storage_class,
            ),
            # The broker heap is capped below so it fits the 1Gi limit with the JVM's own overhead.
            resources=Resources(cpu_request="250m", memory_request="768Mi", cpu_limit="1000m", memory_limit="1Gi"),
            startup_probe=JVM_STARTUP,
            run_as_user=KAFKA_UID,
            run_as_group=KAFKA_UID,
            fs_group=KAFKA_UID,
            security_opt_out=KAFKA_WRITES_CONFIG,
            zone_spread=scope.zone_spread,
            disruption_allowed=KAFKA_SINGLE_NODE,
        ),
        scope.opts(stateful=True),
    )


def _kafka_env() -> dict[str, str]:
    listeners: Sequence[str] = (f"PLAINTEXT://:{KAFKA_PORT}", f"CONTROLLER://:{KAFKA_CONTROLLER_PORT}")
    return {
        "CLUSTER_ID": KAFKA_CLUSTER_ID,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": ",".join(listeners),
        # Clients connect to what the broker advertises: the Service name baked into the apps.
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{KAFKA}:{KAFKA_PORT}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{KAFKA_CONTROLLER_PORT}",
        "KAFKA_LOG_DIRS": KAFKA_LOG_DIR,
        # One broker: internal topics cannot have more than one replica.
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        # The apps never create their topics (IMPACT_STOCK, ACKNOWLEDGE_STOCK, STATS): the broker does.
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "true",
        "KAFKA_HEAP_OPTS": "-Xms512m -Xmx512m",
    }
