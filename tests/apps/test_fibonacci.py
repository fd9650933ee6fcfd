"""Fibonacci calculator (seed 003) as the dev stack renders it: the facts of /work/shared/apps.md, the Redis
primary/replica split, the password Secret, the Ingress, and no leaks."""

import json
import re
import runpy
import shlex
import subprocess
from pathlib import Path

import pulumi
import pytest

from offline.engine import PROJECT_DIR, run, run_stack
from offline.stack_config import StackConfig, load_stack_config
from offline.validate import validate_object
from settings import load_settings
from stacks import fibonacci

NS = "fibonacci"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"


@pytest.fixture(scope="module")
def stack():
    return run_stack("dev")


@pytest.fixture(scope="module")
def plain():
    """The same stack with plain Kubernetes Secrets (`keyVault.enabled: false`), as on an existing cluster."""
    return run_stack("dev", overrides={"keyVault": {"enabled": False}})


@pytest.fixture(scope="module")
def without_fibonacci():
    return run_stack("dev", overrides={"apps": {"fibonacci": {"enabled": False}}})


def objects_in(recording, namespace):
    return [o for o in recording.k8s_objects() if o["metadata"].get("namespace") == namespace]


def workloads_in(recording, namespace):
    return [o for o in objects_in(recording, namespace) if o["kind"] in ("Deployment", "StatefulSet")]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def only_container(workload):
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def literal_env(container):
    return {name: e["value"] for name, e in env_of(container).items() if "value" in e}


def selects(service, workload):
    labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def assert_selects_only(recording, service_name, kind, workload_name):
    service = recording.k8s("Service", service_name, NS)
    chosen = [f"{w['kind']}/{w['metadata']['name']}" for w in workloads_in(recording, NS) if selects(service, w)]
    assert chosen == [f"{kind}/{workload_name}"]


def ports_of(recording, service_name):
    return [(p["port"], p["targetPort"]) for p in recording.k8s("Service", service_name, NS)["spec"]["ports"]]


def image_is(container, reference):
    # The platform may pull through a registry cache: the public reference ends the pulled one.
    return re.fullmatch(rf"(.*/)?(library/)?{re.escape(reference)}", container["image"]) is not None


def pinned_tag(container, repository):
    match = re.fullmatch(rf"(.*/)?(library/)?{re.escape(repository)}:([^/]+)", container["image"])
    assert match, container["image"]
    return match[3]


def resources(container):
    r = container["resources"]
    return (r["requests"]["cpu"], r["requests"]["memory"], r["limits"]["cpu"], r["limits"]["memory"])


def secret_ref(env_var):
    return env_var["valueFrom"]["secretKeyRef"]


def platform_of(recording):
    return recording.value["platform"]


# client / server / worker ------------------------------------------------------------------------------

def test_fibonacci_lives_in_its_own_namespace(stack):
    assert stack.k8s("Namespace", "fibonacci")


def test_fibonacci_client_is_one_web_pod_of_multi_client_v1_on_3000(stack):
    client = stack.k8s("Deployment", "client-deployment", NS)
    assert client["spec"]["replicas"] == 1
    assert client["spec"]["template"]["metadata"]["labels"]["component"] == "web"
    container = only_container(client)
    assert image_is(container, "mosabami/multi-client:v1")
    assert [p["containerPort"] for p in container["ports"]] == [3000]
    assert literal_env(container) == {"REACT_APP_UPPERLIMIT": "60"}
    assert resources(container) == ("300m", "256Mi", "1000m", "1024Mi")
    assert ports_of(stack, "client-service") == [(3000, 3000)]
    assert_selects_only(stack, "client-service", "Deployment", "client-deployment")


def test_fibonacci_server_is_two_server_pods_of_multi_server_v1_on_5000(stack):
    server = stack.k8s("Deployment", "server-deployment", NS)
    assert server["spec"]["replicas"] == 2
    assert server["spec"]["template"]["metadata"]["labels"]["component"] == "server"
    container = only_container(server)
    assert image_is(container, "mosabami/multi-server:v1")
    assert [p["containerPort"] for p in container["ports"]] == [5000]
    assert resources(container) == ("200m", "256Mi", "500m", "512Mi")
    assert ports_of(stack, "server-service") == [(5000, 5000)]
    assert_selects_only(stack, "server-service", "Deployment", "server-deployment")


def test_fibonacci_server_env_is_the_seeds_with_the_password_from_secret_pgpassword(stack):
    env = env_of(only_container(stack.k8s("Deployment", "server-deployment", NS)))
    literals = literal_env(only_container(stack.k8s("Deployment", "server-deployment", NS)))
    assert {k: v for k, v in literals.items() if k != "REDIS_HOST2"} == {
        "UPPERLIMIT": "60",
        "REDIS_HOST": "redis-service",
        "REDIS_PORT": "6379",
        "PGUSER": "postgres",
        "PGHOST": "postgres-service",
        "PGPORT": "5432",
        "PGDATABASE": "postgres",
    }
    assert set(env) == {*literals, "PGPASSWORD"}
    assert secret_ref(env["PGPASSWORD"]) == {"name": "pgpassword", "key": "PGPASSWORD"}


def test_fibonacci_redis_host2_is_the_stores_primary_host_output_not_the_seeds_literal(stack):
    outputs = stack.stack_outputs["fibonacci"]
    for name in ("server-deployment", "worker-deployment"):
        value = literal_env(only_container(stack.k8s("Deployment", name, NS)))["REDIS_HOST2"]
        # The store's output: pod 0 of the StatefulSet under its headless Service, fully qualified.
        assert value == "redis-statefulset-0.redis-headless.fibonacci.svc.cluster.local"
        assert outputs["redisPrimary"] == f"{value}:6379"


def test_fibonacci_worker_is_three_worker_pods_without_port_or_service(stack):
    worker = stack.k8s("Deployment", "worker-deployment", NS)
    assert worker["spec"]["replicas"] == 3
    assert worker["spec"]["template"]["metadata"]["labels"]["component"] == "worker"
    container = only_container(worker)
    assert image_is(container, "mosabami/multi-worker:v1")
    assert not container.get("ports")
    assert resources(container) == ("200m", "256Mi", "500m", "512Mi")
    services = [o for o in objects_in(stack, NS) if o["kind"] == "Service"]
    assert [s["metadata"]["name"] for s in services if selects(s, worker)] == []


def test_fibonacci_worker_gets_only_the_redis_env_and_no_database_secret(stack):
    container = only_container(stack.k8s("Deployment", "worker-deployment", NS))
    env = env_of(container)
    assert set(env) == {"REDIS_HOST", "REDIS_HOST2", "REDIS_PORT"}
    assert all("valueFrom" not in e for e in env.values())
    assert not container.get("envFrom")
    assert not [v for v in pod_spec(stack.k8s("Deployment", "worker-deployment", NS)).get("volumes") or []
                if "secret" in v]


# redis -------------------------------------------------------------------------------------------------

def test_fibonacci_redis_is_a_three_pod_statefulset_under_redis_headless(stack):
    redis = stack.k8s("StatefulSet", "redis-statefulset", NS)
    assert redis["spec"]["replicas"] == 3
    assert redis["spec"]["serviceName"] == "redis-headless"
    assert stack.k8s("Service", "redis-headless", NS)["spec"]["clusterIP"] == "None"
    assert_selects_only(stack, "redis-headless", "StatefulSet", "redis-statefulset")
    container = only_container(redis)
    assert pinned_tag(container, "redis") != "latest"
    assert [p["containerPort"] for p in container["ports"]] == [6379]
    assert resources(container) == ("100m", "256Mi", "200m", "512Mi")


def test_fibonacci_redis_reads_go_through_redis_service_on_6379(stack):
    assert stack.k8s("Service", "redis-service", NS)["spec"]["type"] == "ClusterIP"
    assert ports_of(stack, "redis-service") == [(6379, 6379)]
    assert_selects_only(stack, "redis-service", "StatefulSet", "redis-statefulset")


def test_fibonacci_redis_pods_share_one_5Gi_read_write_many_claim_at_data(stack):
    claim = stack.k8s("PersistentVolumeClaim", "shared-redis-pvc", NS)
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claim["spec"].get("storageClassName") == stack.resolve(platform_of(stack).shared_storage_class)
    redis = stack.k8s("StatefulSet", "redis-statefulset", NS)
    volumes = {v["name"]: v for v in pod_spec(redis)["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in only_container(redis)["volumeMounts"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == "shared-redis-pvc"
    assert not redis["spec"].get("volumeClaimTemplates")
    assert stack.k8s_resource("PersistentVolumeClaim", "shared-redis-pvc", NS).protect is True


def redis_server_args(stack, tmp_path, hostname):
    """Run the Redis container's command with a stand-in `redis-server` that prints its arguments."""
    container = only_container(stack.k8s("StatefulSet", "redis-statefulset", NS))
    fake = tmp_path / "redis-server"
    fake.write_text('#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done\n')
    fake.chmod(0o755)
    command = [*container["command"], *(container.get("args") or [])]
    result = subprocess.run(
        command, env={"HOSTNAME": hostname, "PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=10,
    )
    return result.stdout.splitlines()


def option(args, name):
    index = args.index(name)
    return args[index + 1]


def test_fibonacci_redis_pod_0_is_the_primary_that_persists_to_the_shared_volume(stack, tmp_path):
    args = redis_server_args(stack, tmp_path, "redis-statefulset-0")
    assert "--replicaof" not in args and "--slaveof" not in args
    assert option(args, "--dir") == "/data"
    assert option(args, "--appendonly") == "yes"


@pytest.mark.parametrize("hostname", ["redis-statefulset-1", "redis-statefulset-2"])
def test_fibonacci_redis_other_pods_replicate_pod_0_with_persistence_off(stack, tmp_path, hostname):
    args = redis_server_args(stack, tmp_path, hostname)
    index = args.index("--replicaof")
    assert args[index + 1: index + 3] == ["redis-statefulset-0.redis-headless", "6379"]
    assert option(args, "--appendonly") == "no"
    assert option(args, "--save") == ""
    # Not even a resync's RDB may land on the shared volume.
    assert not option(args, "--dir").startswith("/data")


def redis_pod_accepting_writes(stack, tmp_path, host):
    """Which Redis pod a client dialling `host` reaches, and whether that pod takes writes (it runs without
    --replicaof: Redis replicas are read-only by default, `replica-read-only yes`,
    https://redis.io/docs/latest/operate/oss_and_stack/management/replication/). `None` for a Service name
    (any pod behind it)."""
    pod = host.split(".")[0]
    if not re.fullmatch(r"redis-statefulset-\d+", pod) or host.split(".")[1] != "redis-headless":
        return None
    return "--replicaof" not in redis_server_args(stack, tmp_path, pod)


def test_fibonacci_worker_pops_and_writes_only_on_the_redis_primary(stack, tmp_path):
    # complex/worker/index.js (mosabami/fib-calculator@9b5beb3): BRPOP tasks and HSET values both go to
    # REDIS_HOST; REDIS_HOST2 is read but never used. Both are writes: REDIS_HOST must be the primary.
    env = literal_env(only_container(stack.k8s("Deployment", "worker-deployment", NS)))
    assert redis_pod_accepting_writes(stack, tmp_path, env["REDIS_HOST"]) is True
    headless = stack.k8s("Service", "redis-headless", NS)["spec"]
    # The per-pod name resolves while pod 0 restarts (the record follows the pod: same name, new address).
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True


def test_fibonacci_server_reads_through_redis_service_and_writes_only_on_the_primary(stack, tmp_path):
    # complex/server/index.js: `redisClient` (REDIS_HOST) only runs HGETALL; `redisPublisher` (REDIS_HOST2) runs
    # HSET and LPUSH.
    env = literal_env(only_container(stack.k8s("Deployment", "server-deployment", NS)))
    assert env["REDIS_HOST"] == "redis-service"
    assert redis_pod_accepting_writes(stack, tmp_path, env["REDIS_HOST2"]) is True


def test_fibonacci_workers_and_servers_declare_what_they_do_with_redis(stack):
    # The connects-to annotation lists every address a pod dials: the worker dials pod 0 only.
    annotation = "aks-microservices/connects-to"
    worker = stack.k8s("Deployment", "worker-deployment", NS)["spec"]["template"]["metadata"]["annotations"]
    assert worker[annotation] == "redis-statefulset-0.redis-headless:6379"
    server = stack.k8s("Deployment", "server-deployment", NS)["spec"]["template"]["metadata"]["annotations"]
    assert server[annotation].split(",")[:2] == ["redis-service:6379", "redis-statefulset-0.redis-headless:6379"]


def test_fibonacci_postgres_second_start_keeps_its_data_and_the_servers_table(stack):
    # Restart safety: the postgres entrypoint runs initdb only when PGDATA is empty (docker-library/postgres
    # docker-entrypoint.sh, `if [ -z "$DATABASE_ALREADY_EXISTS" ]`), and the server creates its table with
    # `CREATE TABLE IF NOT EXISTS values` on every connection: a second start against existing data changes
    # nothing. PGDATA must therefore live on the claim, kept across restarts.
    postgres = stack.k8s("StatefulSet", "postgres-statefulset", NS)
    env = literal_env(only_container(postgres))
    mounts = {m["mountPath"]: m["name"] for m in only_container(postgres)["volumeMounts"]}
    assert env["PGDATA"].startswith("/var/lib/postgresql/data/")
    assert mounts["/var/lib/postgresql/data"] == "postgres-storage"
    assert postgres["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_fibonacci_redis_second_start_of_pod_0_reloads_its_append_only_file(stack, tmp_path):
    # Pod 0 keeps AOF + RDB on the shared claim; the worker seeds nothing at start. Replicas start empty and
    # resync from pod 0 (their persistence is off), so no restart overwrites pod 0's data.
    args = redis_server_args(stack, tmp_path, "redis-statefulset-0")
    assert option(args, "--dir") == "/data" and option(args, "--appendonly") == "yes"


def test_fibonacci_redis_runs_as_the_redis_user(stack):
    security = pod_spec(stack.k8s("StatefulSet", "redis-statefulset", NS))["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"], security["fsGroup"]) == (999, 999, 999)


# postgres ----------------------------------------------------------------------------------------------

def test_fibonacci_postgres_is_a_statefulset_behind_postgres_service_on_5432(stack):
    assert not [o for o in objects_in(stack, NS) if o["kind"] == "Deployment" and "postgres" in o["metadata"]["name"]]
    assert stack.k8s("Service", "postgres-service", NS)["spec"]["type"] == "ClusterIP"
    assert ports_of(stack, "postgres-service") == [(5432, 5432)]
    (postgres,) = [w for w in workloads_in(stack, NS) if selects(stack.k8s("Service", "postgres-service", NS), w)]
    assert postgres["kind"] == "StatefulSet"
    container = only_container(postgres)
    assert pinned_tag(container, "postgres") != "latest"
    assert [p["containerPort"] for p in container["ports"]] == [5432]
    assert resources(container) == ("250m", "256Mi", "500m", "512Mi")


def postgres_statefulset(stack):
    service = stack.k8s("Service", "postgres-service", NS)
    (postgres,) = [w for w in workloads_in(stack, NS) if selects(service, w)]
    return postgres


def test_fibonacci_postgres_keeps_pgdata_on_a_5Gi_disk_claim_with_sub_path_postgres(stack):
    postgres = postgres_statefulset(stack)
    container = only_container(postgres)
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/var/lib/postgresql/data"]
    assert mount["subPath"] == "postgres"
    (template,) = postgres["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == mount["name"]
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert template["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert template["spec"].get("storageClassName") == stack.resolve(platform_of(stack).per_replica_storage_class)
    pgdata = literal_env(container).get("PGDATA", "/var/lib/postgresql/data")
    assert pgdata.startswith("/var/lib/postgresql/data")


def test_fibonacci_postgres_password_comes_from_secret_pgpassword_as_a_file(stack):
    postgres = postgres_statefulset(stack)
    container = only_container(postgres)
    env = env_of(container)
    assert "POSTGRES_PASSWORD" not in env  # the official image reads POSTGRES_PASSWORD_FILE instead
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    [volume] = [v for v in pod_spec(postgres)["volumes"] if v.get("secret", {}).get("secretName") == "pgpassword"]
    mount = mounts[volume["name"]]
    assert mount["readOnly"] is True
    [item] = volume["secret"]["items"]
    assert item["key"] == "PGPASSWORD"
    assert env["POSTGRES_PASSWORD_FILE"]["value"] == f"{mount['mountPath']}/{item['path']}"
    security = pod_spec(postgres)["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"], security["fsGroup"]) == (999, 999, 999)


def test_fibonacci_pgpassword_is_a_generated_secret_kept_secret(plain):
    stack = plain
    secret = stack.k8s_resource("Secret", "pgpassword", NS)
    assert set(secret.inputs["stringData"]) == {"PGPASSWORD"}
    assert "stringData" in secret.secret_paths or "stringData.PGPASSWORD" in secret.secret_paths
    password = secret.inputs["stringData"]["PGPASSWORD"]
    assert password != "postgres_password"  # the seed's
    assert password in stack.secret_values
    app = next(r for r in stack.resources if r.type == "aks-microservices:apps:App" and r.name == "fibonacci")
    assert [r for r in stack.of_type(RANDOM_PASSWORD) if r.parent_urn == app.urn]
    assert secret.protect is True


def test_a_configured_postgres_password_replaces_the_generated_one():
    # A stack whose `secrets` map is Pulumi secret config (as `pulumi config set --secret --path` makes it).
    config = load_stack_config(PROJECT_DIR, "dev")
    key = f"{config.project}:secrets"
    config = StackConfig(
        project=config.project,
        stack="dev",
        values={**config.values, key: json.dumps({"fibonacciPostgresPassword": "given-Passw0rd"}),
                f"{config.project}:keyVault": json.dumps({"enabled": False})},
        secret_keys=config.secret_keys | {key},
    )
    recording = run(lambda: runpy.run_path(str(Path(PROJECT_DIR) / "__main__.py")), stack="dev", config=config)
    secret = recording.k8s_resource("Secret", "pgpassword", NS)
    assert secret.inputs["stringData"]["PGPASSWORD"] == "given-Passw0rd"
    assert any(path.startswith("stringData") for path in secret.secret_paths)
    app = next(r for r in recording.resources if r.type == "aks-microservices:apps:App" and r.name == "fibonacci")
    assert [r for r in recording.of_type(RANDOM_PASSWORD) if r.parent_urn == app.urn] == []


# ingress -----------------------------------------------------------------------------------------------

def test_fibonacci_ingress_service_routes_api_to_the_server_and_the_rest_to_the_client(stack):
    ingress = stack.k8s("Ingress", "ingress-service", NS)
    assert ingress["spec"]["ingressClassName"] == platform_of(stack).ingress_class
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/rewrite-target"] == "/$1"
    (rule,) = ingress["spec"]["rules"]
    routes = {
        p["path"]: (p["pathType"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
        for p in rule["http"]["paths"]
    }
    assert routes == {
        "/?(.*)": ("ImplementationSpecific", "client-service", 3000),
        "/api/?(.*)": ("ImplementationSpecific", "server-service", 5000),
    }


def test_fibonacci_services_are_cluster_internal_behind_the_ingress(stack):
    services = [o for o in objects_in(stack, NS) if o["kind"] == "Service"]
    assert {s["spec"].get("type", "ClusterIP") for s in services} == {"ClusterIP"}


def test_every_fibonacci_object_is_valid_for_kubernetes_and_labelled_part_of_fibonacci(stack):
    version = stack.value["settings"].kubernetes_version
    for obj in objects_in(stack, NS):
        assert validate_object(obj, version) == [], f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "fibonacci"


# Outputs, secrets, switches -----------------------------------------------------------------------------

def test_fibonacci_stack_outputs_give_the_store_addresses(stack):
    outputs = stack.stack_outputs["fibonacci"]
    assert outputs["redisReads"] == "redis-service.fibonacci.svc.cluster.local:6379"
    assert outputs["postgres"] == "postgres-service.fibonacci.svc.cluster.local:5432"
    assert "url" in outputs


@pytest.mark.parametrize("variant", ["stack", "plain"])
def test_no_secret_value_appears_in_fibonacci_env_literals_or_outputs(variant, request):
    stack = request.getfixturevalue(variant)
    literals = [
        e.get("value") or ""
        for w in workloads_in(stack, NS)
        for c in pod_spec(w)["containers"]
        for e in c.get("env") or []
    ]
    commands = [shlex.join(c.get("command") or []) for w in workloads_in(stack, NS) for c in pod_spec(w)["containers"]]
    texts = [*literals, *commands, repr(stack.stack_outputs.get("fibonacci"))]
    [password] = [r.outputs["result"] for r in stack.of_type(RANDOM_PASSWORD) if r.name == "fibonacci-postgres-password"]
    assert password in stack.secret_values
    assert not [s for s in stack.secret_values for text in texts if s in text]


def test_fibonacci_images_are_exactly_the_images_its_pods_run(stack):
    declared = fibonacci.images(_dev_settings().apps.fibonacci)
    running = [c for w in workloads_in(stack, NS) for c in pod_spec(w)["containers"]]
    assert {ref for ref in declared for c in running if image_is(c, ref)} == declared
    assert all(any(image_is(c, ref) for ref in declared) for c in running)


def test_disabling_fibonacci_removes_all_of_its_objects(stack, without_fibonacci):
    assert objects_in(stack, NS)
    assert objects_in(without_fibonacci, NS) == []
    assert [o for o in without_fibonacci.k8s_objects()
            if o["kind"] == "Namespace" and o["metadata"]["name"] == NS] == []
    assert [r.name for r in without_fibonacci.resources if r.name.startswith("fibonacci")] == []
    assert "fibonacci" not in without_fibonacci.stack_outputs
    assert "knote" in without_fibonacci.stack_outputs  # the other apps stay


def test_fibonacci_worker_replicas_below_one_are_a_one_line_config_error():
    with pytest.raises(pulumi.RunError) as error:
        run_stack("dev", overrides={"apps": {"fibonacci": {"workerReplicas": -1}}})
    assert str(error.value) == "aks-microservices:apps.fibonacci.workerReplicas: expected an integer >= 1, got -1"


def _dev_settings():
    """The dev stack's settings, loaded the way the program loads them (inside a run of its config)."""
    from offline.engine import PROJECT_DIR, run, stack_config

    return run(load_settings, config=stack_config(PROJECT_DIR, "dev")).value
