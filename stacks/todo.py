"""To Do (seed 002): todo-web -> todo-api -> MySQL InnoDBCluster `todo-mysql`, in namespace `todo`.

- The MySQL Operator comes from its Helm chart, in its own namespace `mysql-operator`; it turns the
  InnoDBCluster `todo-mysql` into StatefulSet and Service `todo-mysql` (3306 through the router) with a
  claim per instance.
- Secret `mysqlpwd` holds the root account the operator creates and, under `password`, the same password
  for todo-api, which reads the file `secrets/password` (the seed's Secret lacked that key).
- todo-api hard-codes host `todo-mysql`, user `root` and database `todo_db` but never creates the
  database: Job `todo-db-init` creates it, idempotently, once MySQL answers.
- todo-api (ClusterIP, autoscaled 2-5 at 80% CPU) reads the password from the mounted Secret; todo-web
  (LoadBalancer, Ingress, optionally a Gateway API HTTPRoute) calls `http://todo-api`.

Traffic: browser -> todo-web -> todo-api -> the router (Service todo-mysql) -> the MySQL servers; the Job reaches
the router too. The operator's pods (servers, router, the operator itself) are not created by this program, so
their connections are declared here from the operator's own labels and ports, each with its reason.
Pod security: namespace `todo` enforces `baseline` because of the operator's server pods (see
MYSQL_POD_SECURITY); todo-api and todo-web themselves run as non-root users.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import (
    AutoscaledApp,
    AutoscaledAppArgs,
    Connection,
    Endpoint,
    HttpProbe,
    IngressPath,
    IngressRule,
    Peer,
    PodSecurity,
    Resources,
    Rule,
    SecretFile,
    StatelessService,
    StatelessServiceArgs,
    WorkloadTraffic,
    recommended_labels,
    selector_labels,
    service_account,
    workload_policies,
)
from components.connections import CONNECTS_TO_ANNOTATION, connects_to_annotation
from components.labels import STORE_LABEL
from components.network_policy import network_policy
from components.pod import SECRET_STORE_VOLUME, SECRETS_STORE_CSI_DRIVER
from infra import AppSecrets, Platform, SecretShape
from settings import StackSettings
from settings.apps.todo import TodoSettings
from stacks.common import AppScope, isolated_namespace, open_app, pull_policy

APP = "todo"
NAMESPACE = "todo"

OPERATOR_NAMESPACE = "mysql-operator"
OPERATOR_CHART = "mysql-operator"
# Pinned: the InnoDBCluster below is validated against this chart's CRD (operator 9.1.0-2.2.2).
OPERATOR_CHART_VERSION = "2.2.2"
OPERATOR_REPOSITORY = "https://mysql.github.io/mysql-operator/"

MYSQL_CLUSTER = "todo-mysql"  # also the router Service todo-api dials (hard-coded in the image)
MYSQL_PORT = 3306
MYSQL_SECRET = "mysqlpwd"
# The operator reads rootUser/rootHost/rootPassword (InnoDBCluster `secretName`, MySQL Operator docs); todo-api
# reads `password`.
MYSQL_SECRET_KEYS = ("rootUser", "rootHost", "rootPassword", "password")
SECRET_HOLDER = "mysqlpwd-sync"
# Why the holder runs one pod, and may reach zero ready pods while its node is drained (the workload annotation).
SECRET_HOLDER_ALONE = (
    "it only mounts the secret store so that the driver syncs Secret mysqlpwd: the synced Secret stays while "
    "any pod mounts the store (todo-api's pods, kept by their disruption budget, do too), and the operator "
    "reads it only while it changes the cluster"
)
MYSQL_SERVER_RESOURCES = {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
MYSQL_ROUTER_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
DATABASE = "todo_db"  # hard-coded in todo-api
DB_INIT_JOB = "todo-db-init"
# A client matching the server line the operator runs; only the `mysql` CLI is used.
MYSQL_CLIENT_IMAGE = "mysql:8.4"

# What the operator (9.1.0, mysqloperator/controller/innodbcluster/{cluster,router}_objects.py) creates from the
# InnoDBCluster, and the Helm chart's operator Deployment: their pod labels and ports.
MYSQL_SERVER = MYSQL_CLUSTER  # StatefulSet todo-mysql, headless Service todo-mysql-instances
MYSQL_SERVER_PODS = {"component": "mysqld", "tier": "mysql", "mysql.oracle.com/cluster": MYSQL_CLUSTER}
MYSQL_X_PORT = 33060  # X protocol: the router's GR notifications and X routing
MYSQL_GR_PORT = 33061  # group replication (XCom) between the servers
MYSQL_ROUTER = f"{MYSQL_CLUSTER}-router"  # Deployment behind Service todo-mysql
MYSQL_ROUTER_PODS = {"component": "mysqlrouter", "tier": "mysql", "mysql.oracle.com/cluster": MYSQL_CLUSTER}
# Service todo-mysql's port 3306 targets the router's read-write port (spec.service.defaultPort mysql-rw).
ROUTER_RW_PORT = 6446
OPERATOR = "mysql-operator"  # the chart's Deployment
OPERATOR_PODS = {"name": "mysql-operator"}
# The operator creates the servers' account (and binds it to ClusterRole mysql-sidecar) under this name: their
# sidecar and init containers read and patch the cluster through the API, so it keeps its token.
MYSQL_SERVICE_ACCOUNT = f"{MYSQL_CLUSTER}-sidecar-sa"
MYSQL_POD_SECURITY = PodSecurity.baseline(
    "the MySQL Operator's server pods (InnoDBCluster todo-mysql) run their fixdatadir init container as root "
    "with CHOWN and FOWNER, and the operator sets no seccomp profile on its pods: only baseline admits them"
)
OPERATOR_POD_SECURITY = PodSecurity.baseline(
    "the mysql-operator chart's Deployment sets neither runAsNonRoot, a seccomp profile nor dropped capabilities, "
    "and the chart offers no value to add them: only baseline admits it"
)
# The Kubernetes API server, outside the pod network: an ipBlock on its port is as precise as a NetworkPolicy
# gets (it also allows any other address on that port). AKS serves the API on 443; other clusters behind the
# `kubernetes` Service use 443, 6443 (kubeadm, kind) or 8443 (Minikube).
AKS_API_PORTS = (443,)
OTHER_API_PORTS = (443, 6443, 8443)

API = "todo-api"
WEB = "todo-web"
# Both images are built `FROM node:18` without a USER and listen on port 80 (hard-coded in index.js). They need
# no root: `node index.js` only reads its code (COPY'd world-readable into /usr/src/app) and todo-api reads the
# mounted Secret, made group-readable for fsGroup. They run as the image's `node` user (1000) and the component
# lets them bind port 80 with the pod sysctl `net.ipv4.ip_unprivileged_port_start=80` (allowed by restricted).
PORT = 80
NODE_USER = 1000
# Only `latest` is published for ericgregory/todo-api and ericgregory/todo-web: the tag is a setting so a
# stack can pin a digest-like tag once one exists.
API_IMAGE = "ericgregory/todo-api"
WEB_IMAGE = "ericgregory/todo-web"
API_SECRETS_PATH = "/usr/src/app/secrets"  # WORKDIR /usr/src/app + `secrets/password`

# POST /, /update and /delete never answer (a known app bug); GET / reads the task list.
GET_ROOT = HttpProbe(path="/", timeout_seconds=3)
# Liveness is lenient: a single mysql2 connection per pod is only re-made by a restart, but a slow
# database must not cause one.
GET_ROOT_LIVENESS = HttpProbe(path="/", timeout_seconds=5, period_seconds=20, failure_threshold=3)


def images(settings: TodoSettings) -> set[str]:
    return {
        f"{API_IMAGE}:{settings.api_image_tag}",
        f"{WEB_IMAGE}:{settings.web_image_tag}",
        MYSQL_CLIENT_IMAGE,
    }


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    todo = settings.apps.todo
    scope = open_app(APP, NAMESPACE, settings, platform, pod_security=MYSQL_POD_SECURITY)
    namespace = scope.namespace_name

    operator = _mysql_operator(scope, settings)
    secrets = platform.app_secrets(
        APP, namespace,
        secrets={MYSQL_SECRET: SecretShape(keys=MYSQL_SECRET_KEYS, labels=_labels(MYSQL_SECRET, "database"))},
        readers=(API, DB_INIT_JOB, SECRET_HOLDER),
        opts=scope.opts(),
    )
    secret_name = _mysql_secret(scope, settings, secrets)
    router = _mysql_traffic(scope, platform)
    # The operator reads Secret `mysqlpwd` through the API, not from a volume: with a secret store, the holder
    # keeps it synced (the driver syncs only while a pod mounts the store) before the cluster is created.
    holder = _secret_holder(scope, secrets) if secrets.volume is not None else None
    cluster = _innodb_cluster(scope, todo, secret_name, [operator, *([holder] if holder else [])])
    db_init = _database_job(scope, secrets, secret_name, cluster, router)

    api = AutoscaledApp(
        API,
        AutoscaledAppArgs(
            service=StatelessServiceArgs(
                namespace=namespace,
                part_of=APP,
                component="api",
                image=scope.image(f"{API_IMAGE}:{todo.api_image_tag}"),
                image_pull_policy=pull_policy(todo.api_image_tag),
                deployment_name=API,
                service_type="ClusterIP",
                port=PORT,
                port_name="http",
                secret_files=(SecretFile(secret_name=secret_name, mount_path=API_SECRETS_PATH, mode=0o400),),
                secret_store=secrets.volume,
                readiness_probe=GET_ROOT,
                liveness_probe=GET_ROOT_LIVENESS,
                run_as_user=NODE_USER,
                run_as_group=NODE_USER,
                writable_paths=("/tmp",),
                # Host todo-mysql:3306 is baked into the image: the connection sets no env var.
                connects_to=(Connection(to=router, writes=True),),  # reads and writes table Todo
                zone_spread=scope.zone_spread,
                disruption_allowed=scope.single_replica(todo.api_min_replicas, "apps.todo.apiMinReplicas"),
            ),
            min_replicas=todo.api_min_replicas,
            max_replicas=todo.api_max_replicas,
            target_cpu_percent=todo.api_target_cpu_percent,
        ),
        # Started once todo_db exists, so its first pods do not crash-loop on a missing database.
        pulumi.ResourceOptions.merge(scope.opts(), pulumi.ResourceOptions(depends_on=[db_init])),
    )

    web_type = platform.external_service_type if todo.web_service_type == "auto" else todo.web_service_type
    host = settings.apps.ingress_host("todo", todo.host)  # apps.todo.host, else todo.<apps.domain>
    web = StatelessService(
        WEB,
        StatelessServiceArgs(
            namespace=namespace,
            part_of=APP,
            component="frontend",
            image=scope.image(f"{WEB_IMAGE}:{todo.web_image_tag}"),
            image_pull_policy=pull_policy(todo.web_image_tag),
            deployment_name=WEB,
            service_type=web_type,
            port=PORT,
            port_name="http",
            replicas=todo.web_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(todo.web_replicas, "apps.todo.webReplicas"),
            readiness_probe=GET_ROOT,
            liveness_probe=GET_ROOT_LIVENESS,
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=("/tmp",),
            # `http://todo-api`, baked into the image; POST /, /update and /delete write through it.
            connects_to=(Connection(to=api.endpoint, writes=True),),
            ingress=IngressRule(class_name=platform.ingress_class,
                                controller_namespace=platform.ingress_controller_namespace, host=host,
                                paths=(IngressPath(path="/"),))
            if todo.ingress
            else None,
        ),
        scope.opts(),
    )

    outputs: dict[str, pulumi.Input] = {
        "webUrl": web.load_balancer_address.apply(lambda address: f"http://{address}" if address else ""),
        "apiAddress": pulumi.Output.concat(api.host, f":{PORT}"),
        "mysqlAddress": pulumi.Output.concat(MYSQL_CLUSTER, ".", namespace, f".svc.cluster.local:{MYSQL_PORT}"),
    }
    if web_type == "NodePort":
        outputs["webNodePort"] = web.service.spec.apply(lambda spec: spec.ports[0].node_port)
    if todo.ingress:
        outputs["webIngressHost"] = host or "*"
    if todo.gateway_api.enabled:
        route = _http_route(scope, todo, web, host)
        outputs["webHttpRoute"] = route.id  # <namespace>/<name>
    return scope.finish(outputs)


def _labels(name: str, component: str) -> dict[str, str]:
    return recommended_labels(name=name, instance=APP, component=component, part_of=APP)


def _mysql_operator(scope: AppScope, settings: StackSettings) -> k8s.helm.v3.Release:
    """The MySQL Operator's Helm release (with its CRDs) in namespace `mysql-operator`."""
    operator_namespace = isolated_namespace(
        f"{APP}-mysql-operator-namespace", OPERATOR_NAMESPACE, part_of=APP, settings=settings,
        pod_security=OPERATOR_POD_SECURITY, parent=scope.app, component="database-operator",
    )
    return k8s.helm.v3.Release(
        f"{APP}-mysql-operator",
        name=OPERATOR_CHART,
        chart=OPERATOR_CHART,
        version=OPERATOR_CHART_VERSION,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=OPERATOR_REPOSITORY),
        namespace=operator_namespace.metadata.name,
        create_namespace=False,
        # A failed upgrade rolls back instead of leaving a half-updated operator.
        atomic=True,
        cleanup_on_fail=True,
        max_history=5,
        opts=pulumi.ResourceOptions(parent=scope.app),
    )


def _mysql_secret(scope: AppScope, settings: StackSettings, secrets: AppSecrets) -> pulumi.Output[str]:
    """Secret `mysqlpwd`: the operator's root account, and the same password as `password` for todo-api."""
    password = settings.secrets.secret_input("todoMysqlPassword")
    if password is None:
        password = random.RandomPassword(
            f"{APP}-mysql-password",
            length=32,
            special=False,
            # MySQL keeps the root password it was created with: replacing this one would lock todo-api out.
            opts=pulumi.ResourceOptions(parent=scope.app, protect=scope.data_protection),
        ).result
    password = pulumi.Output.secret(password)
    return secrets.provide(
        f"{APP}-mysqlpwd",
        name=MYSQL_SECRET,
        data={"rootUser": "root", "rootHost": "%", "rootPassword": password, "password": password},
        # The operator initialises MySQL with this root account: the Secret lives as long as the data.
        opts=scope.opts(stateful=True),
    )


def _secret_holder(scope: AppScope, secrets: AppSecrets) -> StatelessService:
    """Deployment `mysqlpwd-sync`: one idle pod that mounts the secret store, so the driver syncs Secret
    `mysqlpwd` before the InnoDBCluster exists and keeps it while the operator may read it (adding instances,
    re-creating the router), even when no todo-api pod runs. It runs the Job's mysql client image (already
    pulled, `sleep` in its coreutils) doing nothing."""
    return StatelessService(
        f"{APP}-{SECRET_HOLDER}",
        StatelessServiceArgs(
            namespace=scope.namespace_name,
            part_of=APP,
            component="secrets-sync",
            image=scope.image(MYSQL_CLIENT_IMAGE),
            deployment_name=SECRET_HOLDER,
            service_type=None,
            replicas=1,
            command=["sleep", "infinity"],
            resources=Resources(cpu_request="10m", memory_request="16Mi", cpu_limit="50m", memory_limit="32Mi"),
            probes_disabled_reason=(
                "the pod only holds the secret store's volume: it serves nothing, and it runs once the volume is "
                "mounted (which is what it is for)"
            ),
            secret_store=secrets.volume,
            zone_spread=scope.zone_spread,
            disruption_allowed=SECRET_HOLDER_ALONE,
        ),
        scope.opts(),
    )


def _innodb_cluster(
    scope: AppScope, todo: TodoSettings, secret_name: pulumi.Output[str], after: list[pulumi.Resource]
) -> k8s.apiextensions.CustomResource:
    claim_template: dict[str, pulumi.Input] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": todo.mysql_storage_size}},
    }
    if scope.platform.per_replica_storage_class is not None:
        claim_template["storageClassName"] = scope.platform.per_replica_storage_class
    return k8s.apiextensions.CustomResource(
        f"{APP}-mysql-cluster",
        api_version="mysql.oracle.com/v2",
        kind="InnoDBCluster",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=MYSQL_CLUSTER, namespace=scope.namespace.metadata.name,
            labels={**_labels(MYSQL_CLUSTER, "database"), STORE_LABEL: "true"},
        ),
        spec={
            "secretName": secret_name,
            # Named, not the namespace's `default`: the operator creates it if missing and binds it.
            "serviceAccountName": MYSQL_SERVICE_ACCOUNT,
            # The servers hold the data: a backup selects them (and so their claims) by this label.
            "podLabels": {STORE_LABEL: "true"},
            "instances": todo.mysql_instances,
            # Requests and limits for the operator's pods (merged into its pod specs by container name): without
            # them MySQL runs BestEffort, the first pod the kubelet evicts under memory pressure.
            "podSpec": {"containers": [{"name": "mysql", "resources": MYSQL_SERVER_RESOURCES}]},
            "router": {
                "instances": todo.mysql_router_instances,
                "podSpec": {"containers": [{"name": "router", "resources": MYSQL_ROUTER_RESOURCES}]},
            },
            "tlsUseSelfSigned": True,
            "datadirVolumeClaimTemplate": claim_template,
        },
        # The CRD and the operator come with the release (and the synced Secret with the holder); the cluster
        # holds the data.
        opts=pulumi.ResourceOptions.merge(scope.opts(stateful=True), pulumi.ResourceOptions(depends_on=after)),
    )


# Waits (bounded by the Job's deadline) until MySQL accepts root, then creates the database if missing.
DB_INIT_SECRETS = "/run/secrets/mysql"  # the root password as a file, read by the script only
DB_INIT_SCRIPT = f"""set -eu
# The mysql client reads the password from MYSQL_PWD: never on the command line, never in the pod spec.
MYSQL_PWD="$(cat {DB_INIT_SECRETS}/rootPassword)"
export MYSQL_PWD
until mysql --host={MYSQL_CLUSTER} --port={MYSQL_PORT} --user=root --execute='SELECT 1' >/dev/null; do
  echo "waiting for MySQL at {MYSQL_CLUSTER}:{MYSQL_PORT}"; sleep 5
done
mysql --host={MYSQL_CLUSTER} --port={MYSQL_PORT} --user=root --execute='CREATE DATABASE IF NOT EXISTS {DATABASE}'
echo "database {DATABASE} is ready"
"""


def _mysql_traffic(scope: AppScope, platform: Platform) -> Endpoint:
    """The traffic of the pods the operator runs, which no component declares; returns the router's endpoint.

    - router -> servers on 3306 (classic: bootstrap, metadata, routing) and 33060 (X: routing, GR notifications);
    - servers <-> servers on 3306 (clone, distributed recovery, the sidecars' shell sessions), 33060 and 33061
      (group replication), the three ports of Service todo-mysql-instances; servers -> the API server (their
      sidecar and init containers watch and patch the cluster);
    - operator (namespace mysql-operator) -> servers on 3306 and 33060 (its shell sessions), -> the API server.
      Nothing dials the operator: the chart's Service on 9443 has no caller (the chart registers no webhook).
    """
    namespace = scope.namespace_name
    api_server = Rule(peer=Peer.outside(), ports=AKS_API_PORTS if platform.kind == "aks" else OTHER_API_PORTS)
    # The router is the write endpoint: it sends writes to the group's primary. The servers' own addresses are
    # read endpoints (single-primary group replication: the secondaries run super_read_only); only clients that
    # find the primary from the group's metadata, the router and the operator, dial them.
    router = Endpoint(host=MYSQL_CLUSTER, port=MYSQL_PORT, target_port=ROUTER_RW_PORT, namespace=namespace,
                      workload=MYSQL_ROUTER, pod_labels=MYSQL_ROUTER_PODS)
    servers = [
        Endpoint(host=f"{MYSQL_CLUSTER}-instances", port=port, namespace=namespace, workload=MYSQL_SERVER,
                 pod_labels=MYSQL_SERVER_PODS, write_endpoint=router,
                 read_only="single-primary group replication: the secondaries run super_read_only")
        for port in (MYSQL_PORT, MYSQL_X_PORT)
    ]
    to_servers = tuple(Connection(to=endpoint, finds_primary=True) for endpoint in servers)
    opts = scope.opts()
    workload_policies(f"{APP}-mysql-router", WorkloadTraffic(
        workload=MYSQL_ROUTER, namespace=namespace, pod_labels=MYSQL_ROUTER_PODS, connects_to=to_servers,
    ), labels=_labels(MYSQL_ROUTER, "database"), opts=opts)
    workload_policies(f"{APP}-mysql-server", WorkloadTraffic(
        workload=MYSQL_SERVER, namespace=namespace, pod_labels=MYSQL_SERVER_PODS,
        peer_ports=(MYSQL_PORT, MYSQL_X_PORT, MYSQL_GR_PORT), outbound=(api_server,),
    ), labels=_labels(MYSQL_SERVER, "database"), opts=opts)
    workload_policies(f"{APP}-mysql-operator", WorkloadTraffic(
        workload=OPERATOR, namespace=OPERATOR_NAMESPACE, pod_labels=OPERATOR_PODS, connects_to=to_servers,
        outbound=(api_server,),
    ), labels=_labels(OPERATOR, "database-operator"), opts=opts)
    return router


def _database_job(
    scope: AppScope, secrets: AppSecrets, secret_name: pulumi.Output[str], cluster: k8s.apiextensions.CustomResource,
    router: Endpoint,
) -> k8s.batch.v1.Job:
    """Job `todo-db-init`: `CREATE DATABASE IF NOT EXISTS todo_db` once MySQL answers (safe to re-run)."""
    # TODO(component): components have no run-to-completion workload; this pod spec repeats pod.py's
    # secure defaults by hand (non-root, read-only root FS, drop ALL, seccomp, no token, own account,
    # requests+limits) and declares its one connection, to the router, with the same helpers.
    labels = _labels(DB_INIT_JOB, "database-init")
    to_router = (Connection(to=router, writes=True),)  # CREATE DATABASE
    store = secrets.volume
    account = service_account(f"{APP}-db-init-service-account", name=DB_INIT_JOB, namespace=scope.namespace_name,
                              labels=labels, annotations=store.service_account_annotations if store else None,
                              opts=scope.opts())
    volumes = [
        k8s.core.v1.VolumeArgs(
            name="mysql-root-password",
            secret=k8s.core.v1.SecretVolumeSourceArgs(
                secret_name=secret_name,
                default_mode=0o400,
                items=[k8s.core.v1.KeyToPathArgs(key="rootPassword", path="rootPassword")],
            ),
        )
    ]
    mounts = [k8s.core.v1.VolumeMountArgs(name="mysql-root-password", mount_path=DB_INIT_SECRETS, read_only=True)]
    if store is not None:
        # The same CSI volume pod.py gives a component's pods (SecretStoreVolume).
        volumes.append(k8s.core.v1.VolumeArgs(
            name=SECRET_STORE_VOLUME,
            csi=k8s.core.v1.CSIVolumeSourceArgs(driver=SECRETS_STORE_CSI_DRIVER, read_only=True,
                                                volume_attributes={"secretProviderClass": store.provider_class}),
        ))
        mounts.append(k8s.core.v1.VolumeMountArgs(name=SECRET_STORE_VOLUME, mount_path=store.mount_path,
                                                  read_only=True))
    workload_policies(f"{APP}-db-init", WorkloadTraffic(
        workload=DB_INIT_JOB, namespace=scope.namespace_name, pod_labels=selector_labels(DB_INIT_JOB, APP),
        connects_to=to_router,
    ), labels=labels, opts=scope.opts())
    return k8s.batch.v1.Job(
        f"{APP}-db-init",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=DB_INIT_JOB, namespace=scope.namespace.metadata.name, labels=labels),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=4,
            # The operator may take minutes to pull images and form the group; give up after 30.
            active_deadline_seconds=1800,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    labels={**labels, **(store.pod_labels if store else {})},
                    annotations={CONNECTS_TO_ANNOTATION: connects_to_annotation(to_router)},
                ),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    service_account_name=account.metadata.name,
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=10001,
                        run_as_group=10001,
                        # The secret file is group-readable (0440) by this group only.
                        fs_group=10001,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    volumes=volumes,
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="create-database",
                            image=scope.image(MYSQL_CLIENT_IMAGE),
                            image_pull_policy="IfNotPresent",
                            command=["sh", "-c", DB_INIT_SCRIPT],
                            volume_mounts=mounts,
                            resources=k8s.core.v1.ResourceRequirementsArgs(
                                requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "200m", "memory": "128Mi"}
                            ),
                            security_context=k8s.core.v1.SecurityContextArgs(
                                allow_privilege_escalation=False,
                                privileged=False,
                                read_only_root_filesystem=True,
                                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                            ),
                        )
                    ],
                ),
            ),
        ),
        opts=pulumi.ResourceOptions.merge(
            scope.opts(),
            pulumi.ResourceOptions(depends_on=[cluster], custom_timeouts=pulumi.CustomTimeouts(create="30m")),
        ),
    )


def _http_route(scope: AppScope, todo: TodoSettings, web: StatelessService,
                host: str | None) -> k8s.apiextensions.CustomResource:
    """HTTPRoute `todo-web`: every path on the configured Gateway to Service todo-web:80."""
    parent = {"name": todo.gateway_api.gateway_name}
    if todo.gateway_api.gateway_namespace is not None:
        parent["namespace"] = todo.gateway_api.gateway_namespace
    spec: dict[str, pulumi.Input] = {
        "parentRefs": [parent],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                "backendRefs": [{"name": WEB, "port": PORT}],
            }
        ],
    }
    if host is not None:
        spec["hostnames"] = [host]
    # The Gateway's data plane proxies to todo-web's pods from the Gateway's namespace (its pods' labels depend on
    # the Gateway API implementation, so the whole namespace is let in, on todo-web's port only).
    gateway_namespace = todo.gateway_api.gateway_namespace or scope.namespace_name
    network_policy(
        f"{APP}-web-from-gateway", name=f"{todo.gateway_api.gateway_name}-to-{WEB}", namespace=scope.namespace_name,
        pod_labels=selector_labels(WEB, APP), labels=_labels(WEB, "frontend"),
        ingress=[Rule(peer=Peer.pods(gateway_namespace), ports=(PORT,))], policy_types=["Ingress"], opts=scope.opts(),
    )
    return k8s.apiextensions.CustomResource(
        f"{APP}-web-httproute",
        api_version="gateway.networking.k8s.io/v1",
        kind="HTTPRoute",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=WEB, namespace=scope.namespace.metadata.name, labels=_labels(WEB, "frontend")),
        spec=spec,
        # After its backend Service, so the route never points at a missing backend.
        opts=pulumi.ResourceOptions.merge(scope.opts(), pulumi.ResourceOptions(depends_on=[web])),
    )
