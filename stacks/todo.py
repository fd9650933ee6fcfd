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
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import (
    AutoscaledApp,
    AutoscaledAppArgs,
    HttpProbe,
    IngressPath,
    IngressRule,
    SecretFile,
    SecurityOptOut,
    StatelessService,
    StatelessServiceArgs,
    recommended_labels,
)
from infra import Platform
from settings import StackSettings
from settings.apps.todo import TodoSettings
from stacks.common import AppScope, open_app

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
DATABASE = "todo_db"  # hard-coded in todo-api
DB_INIT_JOB = "todo-db-init"
# A client matching the server line the operator runs; only the `mysql` CLI is used.
MYSQL_CLIENT_IMAGE = "mysql:8.4"

API = "todo-api"
WEB = "todo-web"
# Both images are built `FROM node:18` without a USER and listen on port 80 (hard-coded in index.js).
PORT = 80
# Only `latest` is published for ericgregory/todo-api and ericgregory/todo-web: the tag is a setting so a
# stack can pin a digest-like tag once one exists.
API_IMAGE = "ericgregory/todo-api"
WEB_IMAGE = "ericgregory/todo-web"
API_SECRETS_PATH = "/usr/src/app/secrets"  # WORKDIR /usr/src/app + `secrets/password`

ROOT_ON_PORT_80 = SecurityOptOut(
    reason=(
        "ericgregory/todo-api and todo-web are node:18 images without a USER that bind port 80 "
        "(hard-coded): they run as root with only NET_BIND_SERVICE added back."
    ),
    run_as_root=True,
    add_capabilities=("NET_BIND_SERVICE",),
)
# POST /, /update and /delete never answer (a known app bug); GET / reads the task list.
GET_ROOT = HttpProbe(path="/", timeout_seconds=3)
# Liveness is lenient: a single mysql2 connection per pod is only re-made by a restart, but a slow
# database must not cause one.
GET_ROOT_LIVENESS = HttpProbe(path="/", timeout_seconds=5, period_seconds=20, failure_threshold=3)
CONNECTS_TO = "aks-microservices/connects-to"


def images(settings: TodoSettings) -> set[str]:
    return {
        f"{API_IMAGE}:{settings.api_image_tag}",
        f"{WEB_IMAGE}:{settings.web_image_tag}",
        MYSQL_CLIENT_IMAGE,
    }


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    todo = settings.apps.todo
    scope = open_app(APP, NAMESPACE, settings, platform)
    namespace = scope.namespace.metadata.name

    operator = _mysql_operator(scope)
    secret = _mysql_secret(scope, settings)
    cluster = _innodb_cluster(scope, todo, secret, operator)
    db_init = _database_job(scope, secret, cluster)

    api = AutoscaledApp(
        API,
        AutoscaledAppArgs(
            service=StatelessServiceArgs(
                namespace=namespace,
                part_of=APP,
                component="api",
                image=scope.image(f"{API_IMAGE}:{todo.api_image_tag}"),
                deployment_name=API,
                service_type="ClusterIP",
                port=PORT,
                port_name="http",
                secret_files=(SecretFile(secret_name=secret.metadata.name, mount_path=API_SECRETS_PATH, mode=0o400),),
                readiness_probe=GET_ROOT,
                liveness_probe=GET_ROOT_LIVENESS,
                security_opt_out=ROOT_ON_PORT_80,
                pod_annotations={CONNECTS_TO: MYSQL_CLUSTER},
            ),
            min_replicas=todo.api_min_replicas,
            max_replicas=todo.api_max_replicas,
            target_cpu_percent=todo.api_target_cpu_percent,
        ),
        # Started once todo_db exists, so its first pods do not crash-loop on a missing database.
        pulumi.ResourceOptions.merge(scope.opts(), pulumi.ResourceOptions(depends_on=[db_init])),
    )

    web_type = platform.external_service_type if todo.web_service_type == "auto" else todo.web_service_type
    web = StatelessService(
        WEB,
        StatelessServiceArgs(
            namespace=namespace,
            part_of=APP,
            component="frontend",
            image=scope.image(f"{WEB_IMAGE}:{todo.web_image_tag}"),
            deployment_name=WEB,
            service_type=web_type,
            port=PORT,
            port_name="http",
            replicas=todo.web_replicas,
            readiness_probe=GET_ROOT,
            liveness_probe=GET_ROOT_LIVENESS,
            security_opt_out=ROOT_ON_PORT_80,
            pod_annotations={CONNECTS_TO: API},
            ingress=IngressRule(class_name=platform.ingress_class, host=todo.host, paths=(IngressPath(path="/"),))
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
        outputs["webIngressHost"] = todo.host or "*"
    if todo.gateway_api.enabled:
        route = _http_route(scope, todo, web)
        outputs["webHttpRoute"] = route.id  # <namespace>/<name>
    return scope.finish(outputs)


def _labels(name: str, component: str) -> dict[str, str]:
    return recommended_labels(name=name, instance=APP, component=component, part_of=APP)


def _mysql_operator(scope: AppScope) -> k8s.helm.v3.Release:
    """The MySQL Operator's Helm release (with its CRDs) in namespace `mysql-operator`."""
    operator_namespace = k8s.core.v1.Namespace(
        f"{APP}-mysql-operator-namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=OPERATOR_NAMESPACE, labels=_labels(OPERATOR_NAMESPACE, "database-operator")
        ),
        opts=pulumi.ResourceOptions(parent=scope.app),
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


def _mysql_secret(scope: AppScope, settings: StackSettings) -> k8s.core.v1.Secret:
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
    return k8s.core.v1.Secret(
        f"{APP}-mysqlpwd",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=MYSQL_SECRET, namespace=scope.namespace.metadata.name, labels=_labels(MYSQL_SECRET, "database")
        ),
        type="Opaque",
        string_data={"rootUser": "root", "rootHost": "%", "rootPassword": password, "password": password},
        opts=scope.opts(),
    )


def _innodb_cluster(
    scope: AppScope, todo: TodoSettings, secret: k8s.core.v1.Secret, operator: k8s.helm.v3.Release
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
            name=MYSQL_CLUSTER, namespace=scope.namespace.metadata.name, labels=_labels(MYSQL_CLUSTER, "database")
        ),
        spec={
            "secretName": secret.metadata.name,
            "instances": todo.mysql_instances,
            "router": {"instances": todo.mysql_router_instances},
            "tlsUseSelfSigned": True,
            "datadirVolumeClaimTemplate": claim_template,
        },
        # The CRD and the operator come with the release; the cluster holds the data.
        opts=pulumi.ResourceOptions.merge(scope.opts(stateful=True), pulumi.ResourceOptions(depends_on=[operator])),
    )


# Waits (bounded by the Job's deadline) until MySQL accepts root, then creates the database if missing.
DB_INIT_SCRIPT = f"""set -eu
until mysql --host={MYSQL_CLUSTER} --port={MYSQL_PORT} --user=root --execute='SELECT 1' >/dev/null; do
  echo "waiting for MySQL at {MYSQL_CLUSTER}:{MYSQL_PORT}"; sleep 5
done
mysql --host={MYSQL_CLUSTER} --port={MYSQL_PORT} --user=root --execute='CREATE DATABASE IF NOT EXISTS {DATABASE}'
echo "database {DATABASE} is ready"
"""


def _database_job(
    scope: AppScope, secret: k8s.core.v1.Secret, cluster: k8s.apiextensions.CustomResource
) -> k8s.batch.v1.Job:
    """Job `todo-db-init`: `CREATE DATABASE IF NOT EXISTS todo_db` once MySQL answers (safe to re-run)."""
    # TODO(component): components have no run-to-completion workload; this pod spec repeats pod.py's
    # secure defaults by hand (non-root, read-only root FS, drop ALL, seccomp, no token, requests+limits).
    labels = _labels(DB_INIT_JOB, "database-init")
    return k8s.batch.v1.Job(
        f"{APP}-db-init",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=DB_INIT_JOB, namespace=scope.namespace.metadata.name, labels=labels),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=4,
            # The operator may take minutes to pull images and form the group; give up after 30.
            active_deadline_seconds=1800,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={CONNECTS_TO: MYSQL_CLUSTER}),
                spec=k8s.core.v1.PodSpecArgs(
                    restart_policy="Never",
                    automount_service_account_token=False,
                    enable_service_links=False,
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=10001,
                        run_as_group=10001,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[
                        k8s.core.v1.ContainerArgs(
                            name="create-database",
                            image=scope.image(MYSQL_CLIENT_IMAGE),
                            image_pull_policy="IfNotPresent",
                            command=["sh", "-c", DB_INIT_SCRIPT],
                            env=[
                                # The mysql client reads the password from MYSQL_PWD: never on the command line.
                                k8s.core.v1.EnvVarArgs(
                                    name="MYSQL_PWD",
                                    value_from=k8s.core.v1.EnvVarSourceArgs(
                                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(
                                            name=secret.metadata.name, key="rootPassword"
                                        )
                                    ),
                                )
                            ],
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


def _http_route(scope: AppScope, todo: TodoSettings, web: StatelessService) -> k8s.apiextensions.CustomResource:
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
    if todo.host is not None:
        spec["hostnames"] = [todo.host]
    return k8s.apiextensions.CustomResource(
        f"{APP}-web-httproute",
        api_version="gateway.networking.k8s.io/v1",
        kind="HTTPRoute",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=WEB, namespace=scope.namespace.metadata.name, labels=_labels(WEB, "frontend")),
        spec=spec,
        # After its backend Service, so the route never points at a missing backend.
        opts=pulumi.ResourceOptions.merge(scope.opts(), pulumi.ResourceOptions(depends_on=[web])),
    )
