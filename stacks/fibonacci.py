"""Fibonacci calculator (seed 003): client, server and worker around Redis and Postgres, behind an nginx Ingress.

Redis is one StatefulSet whose pod 0 is the write primary (its stable per-pod DNS name under the headless
Service) while `redis-service` spreads reads over every pod, most of them read-only replicas. Data flow is
declared and checked (connections.py): the server reads through `REDIS_HOST` (redis-service) and writes
through `REDIS_HOST2` (pod 0); the worker image (`complex/worker/index.js` of mosabami/fib-calculator) sends
both its `BRPOP tasks` and its `HSET values` to `REDIS_HOST` and never reads `REDIS_HOST2`, so its
`REDIS_HOST` is pod 0: on a replica the pop and the write would answer `READONLY`. All pods mount the one shared
ReadWriteMany claim, but only pod 0 writes to it: pods 1..n replicate pod 0 with their persistence off, so the
data a read returns is what pod 0 wrote. Postgres keeps the entered indexes; its password is a generated
Secret that only the server and Postgres read (the worker gets Redis only).

Traffic is what the workloads declare: the server connects to Redis and Postgres, the worker to Redis only
(its pods cannot even open a connection to Postgres), Redis replicas to pod 0, and the ingress controller
reaches client-service and server-service, nothing else. The same connections carry the REDIS_*/PG* addresses.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from components import (
    Connection,
    EnvFromSecret,
    ExecProbe,
    HttpProbe,
    IngressPath,
    IngressRule,
    PerReplicaStorage,
    Resources,
    SecretFile,
    SharedStorage,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
    recommended_labels,
)
from infra import Platform, SecretShape
from settings import StackSettings
from settings.apps.fibonacci import FibonacciSettings
from stacks.common import open_app

KEY = "fibonacci"
NAMESPACE = "fibonacci"
UPPER_LIMIT = "60"
REDIS_PORT = 6379
POSTGRES_PORT = 5432
REDIS_STATEFULSET = "redis-statefulset"
REDIS_HEADLESS = "redis-headless"
POSTGRES_STATEFULSET = "postgres-statefulset"
SERVER_DEPLOYMENT = "server-deployment"
PASSWORD_SECRET = "pgpassword"
PASSWORD_KEY = "PGPASSWORD"
# Official redis and postgres (Debian) images: their redis/postgres users are uid/gid 999.
STORE_USER = 999
# The `node` user of the node images the three app images are built on; they would run as root but only read
# their code. npm writes its logs and update-check state below $HOME/.npm.
NODE_USER = 1000
NODE_WRITABLE_PATHS = ("/tmp", "/home/node/.npm")
# The client image runs the React dev server (`npm run start`: that is why the seed sets REACT_APP_UPPERLIMIT
# at run time, and why it needs 1 GiB) from /app, which caches its builds in node_modules/.cache.
CLIENT_WRITABLE_PATHS = (*NODE_WRITABLE_PATHS, "/app/node_modules/.cache")
# PGDATA is a directory Postgres creates inside the mount: initdb and the server insist on owning the data
# directory, and the subPath directory the kubelet creates is owned by root (group 999 via fsGroup).
POSTGRES_MOUNT = "/var/lib/postgresql/data"
POSTGRES_PGDATA = f"{POSTGRES_MOUNT}/pgdata"
# The password as a file (the image's POSTGRES_PASSWORD_FILE), not in the environment of every process.
POSTGRES_SECRETS = "/run/secrets/postgres"
# Why Postgres runs one pod, and may reach zero ready pods while its node is drained (the workload annotation).
POSTGRES_SINGLE_SERVER = (
    "one PostgreSQL server: the official image sets up no streaming replication and the server dials one "
    "host (postgres-service); a standby needs a replication setup the seed does not have"
)

# Pod 0 is the primary and the only writer of the shared volume (AOF + RDB in /data). The others replicate it
# with persistence off and their working directory (where a full resync lands its RDB) on a private emptyDir,
# so they never write to the shared volume. The ordinal is the suffix of the pod's hostname.
REDIS_START = f"""\
ordinal="${{HOSTNAME##*-}}"
if [ "$ordinal" = "0" ]; then
  exec redis-server --port {REDIS_PORT} --dir /data --appendonly yes
fi
exec redis-server --port {REDIS_PORT} --dir /tmp --save "" --appendonly no \\
  --replicaof {REDIS_STATEFULSET}-0.{REDIS_HEADLESS} {REDIS_PORT}
"""

CLIENT_RESOURCES = Resources(cpu_request="300m", memory_request="256Mi", cpu_limit="1000m", memory_limit="1024Mi")
SERVER_RESOURCES = Resources(cpu_request="200m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")
REDIS_RESOURCES = Resources(cpu_request="100m", memory_request="256Mi", cpu_limit="200m", memory_limit="512Mi")
POSTGRES_RESOURCES = Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")


def _image_refs(app: FibonacciSettings) -> dict[str, str]:
    # The seed ran redis:latest and postgres (untagged): pinned maintained lines, configurable.
    return {
        "client": f"mosabami/multi-client:{app.image_tag}",
        "server": f"mosabami/multi-server:{app.image_tag}",
        "worker": f"mosabami/multi-worker:{app.image_tag}",
        "redis": f"redis:{app.redis_tag}",
        "postgres": f"postgres:{app.postgres_tag}",
    }


def images(settings: FibonacciSettings) -> set[str]:
    return set(_image_refs(settings).values())


def _ingress_url(status) -> str:
    # Empty until the ingress controller publishes its address on the Ingress.
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    address = (ingress[0].ip or ingress[0].hostname or "") if ingress else ""
    return f"http://{address}/" if address else ""


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    app = settings.apps.fibonacci
    scope = open_app(KEY, NAMESPACE, settings, platform)
    refs = _image_refs(app)
    ns = scope.namespace_name
    host = settings.apps.ingress_host(KEY, app.ingress_host)  # apps.fibonacci.ingressHost, else fibonacci.<domain>

    # The password is set once, when Postgres initialises its data: keep it as long as the data (protected).
    password = settings.secrets.secret_input("fibonacciPostgresPassword")
    if password is None:
        password = random.RandomPassword(
            "fibonacci-postgres-password", length=32, special=False, opts=scope.opts(stateful=True)
        ).result
    # The pods that read it: Postgres (its password file) and the server (PGPASSWORD). On AKS with a vault they
    # mount the app's secret store, which syncs Secret `pgpassword` for them; elsewhere it is a plain Secret.
    secrets = platform.app_secrets(
        KEY, ns,
        secrets={PASSWORD_SECRET: SecretShape(
            keys=(PASSWORD_KEY,),
            labels=recommended_labels(name=PASSWORD_SECRET, instance=KEY, component="database", part_of=KEY),
        )},
        readers=(POSTGRES_STATEFULSET, SERVER_DEPLOYMENT),
        opts=scope.opts(),
    )
    password_secret_name = secrets.provide(
        "fibonacci-pgpassword", name=PASSWORD_SECRET, data={PASSWORD_KEY: password}, opts=scope.opts(stateful=True)
    )
    password_ref = EnvFromSecret(secret_name=password_secret_name, key=PASSWORD_KEY)

    redis = StatefulStore(
        "fibonacci-redis",
        StatefulStoreArgs(
            namespace=ns,
            part_of=KEY,
            component="cache",
            pod_labels={"component": "redis"},
            image=scope.image(refs["redis"]),
            container_name="redis",
            port=REDIS_PORT,
            port_name="redis",
            statefulset_name=REDIS_STATEFULSET,
            headless_service_name=REDIS_HEADLESS,
            service_name="redis-service",
            replicas=app.redis_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.redis_replicas, "apps.fibonacci.redisReplicas"),
            storage=SharedStorage(
                claim_name="shared-redis-pvc",
                size="5Gi",
                mount_path="/data",
                storage_class=platform.shared_storage_class,
            ),
            command=["sh", "-c", REDIS_START],
            resources=REDIS_RESOURCES,
            run_as_user=STORE_USER,
            run_as_group=STORE_USER,
            fs_group=STORE_USER,
            writable_paths=("/tmp",),
            # Replicas 1..n replicate pod 0 (`--replicaof`): the only traffic between Redis pods.
            peer_ports=(REDIS_PORT,),
            # Pods 1..n run --replicaof (read-only): redis-service is a read endpoint, pod 0 the write one.
            single_writer=True,
            protect=settings.data_protection,
        ),
        scope.opts(stateful=True),
    )

    # The seed's Deployment `postgres-deployment` with its claim, as a StatefulStore behind the same Service.
    postgres = StatefulStore(
        "fibonacci-postgres",
        StatefulStoreArgs(
            namespace=ns,
            part_of=KEY,
            component="database",
            pod_labels={"component": "postgres"},
            image=scope.image(refs["postgres"]),
            container_name="postgres",
            port=POSTGRES_PORT,
            port_name="postgres",
            statefulset_name=POSTGRES_STATEFULSET,
            headless_service_name="postgres-headless",
            service_name="postgres-service",
            storage=PerReplicaStorage(
                claim_name="postgres-storage",
                size="5Gi",
                mount_path=POSTGRES_MOUNT,
                sub_path="postgres",
                storage_class=platform.per_replica_storage_class,
            ),
            env={"PGDATA": POSTGRES_PGDATA, "POSTGRES_PASSWORD_FILE": f"{POSTGRES_SECRETS}/{PASSWORD_KEY}"},
            secret_files=(SecretFile(secret_name=password_secret_name, mount_path=POSTGRES_SECRETS,
                                     items={PASSWORD_KEY: PASSWORD_KEY}),),
            secret_store=secrets.volume,
            resources=POSTGRES_RESOURCES,
            # Ready when it accepts TCP connections (the entrypoint's first-run server listens on its socket only).
            readiness_probe=ExecProbe(command=["pg_isready", "-h", "127.0.0.1", "-p", str(POSTGRES_PORT)]),
            run_as_user=STORE_USER,
            run_as_group=STORE_USER,
            fs_group=STORE_USER,
            writable_paths=("/tmp", "/var/run/postgresql"),  # its unix socket and lock file
            zone_spread=scope.zone_spread,
            disruption_allowed=POSTGRES_SINGLE_SERVER,
            protect=settings.data_protection,
        ),
        scope.opts(stateful=True),
    )

    # The server (complex/server/index.js): `redisClient` on REDIS_HOST only reads (HGETALL values), while
    # `redisPublisher` on REDIS_HOST2 does every write (HSET, LPUSH tasks) and its HGET.
    server_to_redis = (
        Connection(to=redis.read_endpoint, env={"REDIS_HOST": "{host}", "REDIS_PORT": "{port}"}, writes=False),
        Connection(to=redis.write_endpoint, env={"REDIS_HOST2": "{fqdn}"}, writes=True),
    )
    # The worker (complex/worker/index.js) pops and writes through REDIS_HOST: pod 0, by its stable name
    # (REDIS_HOST2 as in the seed, although this image never reads it).
    worker_to_redis = (
        Connection(to=redis.write_endpoint, env={"REDIS_HOST": "{fqdn}", "REDIS_HOST2": "{fqdn}",
                                                 "REDIS_PORT": "{port}"}, writes=True),
    )

    server = StatelessService(
        "fibonacci-server",
        StatelessServiceArgs(
            namespace=ns,
            part_of=KEY,
            component="server",
            pod_labels={"component": "server"},
            image=scope.image(refs["server"]),
            container_name="server",
            deployment_name=SERVER_DEPLOYMENT,
            service_name="server-service",
            port=5000,
            port_name="http",
            replicas=app.server_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.server_replicas, "apps.fibonacci.serverReplicas"),
            env={"UPPERLIMIT": UPPER_LIMIT, "PGUSER": "postgres", "PGDATABASE": "postgres"},
            connects_to=(
                *server_to_redis,
                # Creates table `values` on connect and inserts every index.
                Connection(to=postgres.endpoint, env={"PGHOST": "{host}", "PGPORT": "{port}"}, writes=True),
            ),
            env_from_secrets={"PGPASSWORD": password_ref},
            secret_store=secrets.volume,
            resources=SERVER_RESOURCES,
            readiness_probe=HttpProbe(path="/", timeout_seconds=5),  # answers "Hi"
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=NODE_WRITABLE_PATHS,
        ),
        scope.opts(),
    )

    StatelessService(
        "fibonacci-worker",
        StatelessServiceArgs(
            namespace=ns,
            part_of=KEY,
            component="worker",
            pod_labels={"component": "worker"},
            image=scope.image(refs["worker"]),
            container_name="worker",
            deployment_name="worker-deployment",
            service_type=None,
            replicas=app.worker_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.worker_replicas, "apps.fibonacci.workerReplicas"),
            connects_to=worker_to_redis,  # Redis only: least privilege
            resources=SERVER_RESOURCES,
            probes_disabled_reason=(
                "the worker has no port and no health command: it blocks on a Redis queue, its client reconnects "
                "by itself, and the container restarts if the process exits"
            ),
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=NODE_WRITABLE_PATHS,
        ),
        scope.opts(),
    )

    client = StatelessService(
        "fibonacci-client",
        StatelessServiceArgs(
            namespace=ns,
            part_of=KEY,
            component="web",
            pod_labels={"component": "web"},
            image=scope.image(refs["client"]),
            container_name="client",
            deployment_name="client-deployment",
            service_name="client-service",
            port=3000,
            port_name="http",
            replicas=app.client_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.client_replicas, "apps.fibonacci.clientReplicas"),
            env={"REACT_APP_UPPERLIMIT": UPPER_LIMIT},
            resources=CLIENT_RESOURCES,
            readiness_probe=HttpProbe(path="/", timeout_seconds=5),
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=CLIENT_WRITABLE_PATHS,
            ingress=IngressRule(
                name="ingress-service",
                class_name=platform.ingress_class,
                controller_namespace=platform.ingress_controller_namespace,
                host=host,
                annotations={
                    "nginx.ingress.kubernetes.io/use-regex": "true",
                    "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
                },
                paths=(
                    IngressPath(path="/?(.*)", path_type="ImplementationSpecific"),
                    IngressPath(path="/api/?(.*)", path_type="ImplementationSpecific", backend=server.endpoint),
                ),
            ),
        ),
        scope.opts(),
    )

    if host:
        url: pulumi.Input[str] = f"http://{host}/"
    else:
        url = client.ingress.status.apply(_ingress_url)
    return scope.finish({
        "url": url,
        "redisPrimary": pulumi.Output.concat(redis.primary_host, f":{REDIS_PORT}"),
        "redisReads": pulumi.Output.concat(redis.host, f":{REDIS_PORT}"),
        "postgres": pulumi.Output.concat(postgres.host, f":{POSTGRES_PORT}"),
    })
