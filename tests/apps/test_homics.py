"""HOMicS marketplace (seed 004) as the dev stack deploys it: the facts of /work/shared/apps.md, checked on
what the real program registers under the offline engine."""

from __future__ import annotations

import copy
import json
import sqlite3

import pulumi_kubernetes as k8s
import pytest

from infra import Platform
from offline.engine import PROJECT_DIR, run, run_stack
from offline.stack_config import load_stack_config
from offline.validate import validate_object
from settings import ConfigError, load_settings
from settings.apps.homics import HomicsSettings
from stacks import homics

PART_OF = "app.kubernetes.io/part-of"
JAVA_SERVICES = {  # deployment -> (container, image, port, Service)
    "gateway-deployment": ("gateway", "homics/gateway:1.0.0", 8080, "gateway"),
    "user-deployment": ("user", "homics/user-activity:1.0.0", 9001, "user"),
    "monolith-deployment": ("monolith", "homics/monolith:1.0.0", 8090, "monolith"),
    "stats-deployment": ("stats", "homics/stats:1.0.0", 9002, "stats"),
    "stock-deployment": ("stock", "homics/stock:1.0.0", 9003, "stock"),
}


def _apps_with_homics(**settings) -> dict:
    """The dev stack's `apps` config with some HOMicS keys overridden (other apps untouched)."""
    raw = load_stack_config(PROJECT_DIR, "dev").values.get("aks-microservices:apps")
    apps = json.loads(raw) if raw else {}
    apps["homics"] = {**apps.get("homics", {}), **settings}
    return apps


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def upgraded():
    return run_stack("dev", overrides={"apps": _apps_with_homics(userActivityVersion="2.0.0")})


@pytest.fixture(scope="module")
def without_homics():
    return run_stack("dev", overrides={"apps": _apps_with_homics(enabled=False)})


def _homics_alone(kind: str, config: dict | None = None):
    """Only HOMicS, on a platform of the given kind (`existing`: a kubeconfig's cluster, no Azure)."""

    def program():
        platform = Platform(
            kind=kind,
            provider=k8s.Provider("k8s"),
            per_replica_storage_class=None,
            shared_storage_class=None,
            ingress_class="nginx", ingress_controller_namespace="ingress-nginx",
            external_service_type="LoadBalancer",
        )
        return homics.deploy(load_settings(), platform)

    return run(program, config=config)


@pytest.fixture(scope="module")
def on_existing_cluster():
    return _homics_alone("existing")


@pytest.fixture(scope="module")
def behind_ingress():
    return _homics_alone("aks", {"apps": {"homics": {"gatewayExposure": "Ingress", "gatewayHost": "shop.example.com"}}})


def _is_image(image: str, reference: str) -> bool:
    """`reference` pulled directly or through a registry cache (`<registry>/.../<reference>`)."""
    return image == reference or image.endswith("/" + reference)


def _container(workload: dict) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def _selects(service: dict, workload: dict) -> bool:
    selector = service["spec"]["selector"]
    return bool(selector) and all(_pod_labels(workload).get(k) == v for k, v in selector.items())


def _workloads(recording) -> list[dict]:
    return [o for o in recording.k8s_objects()
            if o["kind"] in ("Deployment", "StatefulSet") and o["metadata"].get("namespace") == "homics"]


def _homics_objects(recording) -> list[dict]:
    return [o for o in recording.k8s_objects() if (o["metadata"].get("labels") or {}).get(PART_OF) == "homics"]


# Every object ------------------------------------------------------------------------------------------------


def test_every_homics_object_is_valid_for_kubernetes_and_labelled_part_of_homics(dev, behind_ingress):
    for recording in (dev, behind_ingress):
        objects = [o for o in recording.k8s_objects() if o["metadata"].get("namespace") == "homics"
                   or (o["kind"] == "Namespace" and o["metadata"]["name"] == "homics")]
        assert len(objects) >= 17
        for obj in objects:
            label = f"{obj['kind']}/{obj['metadata']['name']}"
            assert validate_object(obj, "1.33") == [], label
            labels = obj["metadata"]["labels"]
            assert labels[PART_OF] == "homics", label
            assert labels["app.kubernetes.io/managed-by"] == "pulumi", label


# Namespace, names, images and ports --------------------------------------------------------------------------


def test_homics_objects_live_in_namespace_homics(dev):
    dev.k8s("Namespace", "homics")
    namespaced = [o for o in _homics_objects(dev) if o["kind"] != "Namespace"]
    assert namespaced
    assert {o["metadata"]["namespace"] for o in namespaced} == {"homics"}


@pytest.mark.parametrize("deployment", JAVA_SERVICES)
def test_each_service_runs_its_image_and_port_in_the_seeds_deployment(dev, deployment):
    container_name, image, port, _ = JAVA_SERVICES[deployment]
    container = _container(dev.k8s("Deployment", deployment, "homics"))
    assert container["name"] == container_name
    assert _is_image(container["image"], image)
    assert [p["containerPort"] for p in container["ports"]] == [port]


@pytest.mark.parametrize("deployment", JAVA_SERVICES)
def test_each_service_name_and_port_baked_into_the_images_reaches_its_pods(dev, deployment):
    _, _, port, service_name = JAVA_SERVICES[deployment]
    service = dev.k8s("Service", service_name, "homics")
    [service_port] = service["spec"]["ports"]
    assert service_port["port"] == port
    workload = dev.k8s("Deployment", deployment, "homics")
    assert service_port["targetPort"] in (port, _container(workload)["ports"][0]["name"])
    assert [w["metadata"]["name"] for w in _workloads(dev) if _selects(service, w)] == [deployment]


def test_monolith_service_selects_the_monolith_not_the_user_pods(dev):
    service = dev.k8s("Service", "monolith", "homics")
    assert _selects(service, dev.k8s("Deployment", "monolith-deployment", "homics"))
    assert not _selects(service, dev.k8s("Deployment", "user-deployment", "homics"))


# user-activity: readiness, replicas, rolling update ----------------------------------------------------------


def test_user_activity_is_ready_when_it_serves_its_version(dev):
    probe = _container(dev.k8s("Deployment", "user-deployment", "homics"))["readinessProbe"]
    assert probe["httpGet"]["path"] == "/user/internal/version"
    assert probe["httpGet"]["port"] == 9001
    assert probe["initialDelaySeconds"] == 3
    assert probe["periodSeconds"] == 3


def test_user_activity_keeps_two_ready_pods_through_a_rolling_update(dev):
    spec = dev.k8s("Deployment", "user-deployment", "homics")["spec"]
    assert spec["replicas"] == 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert _container(dev.k8s("Deployment", "user-deployment", "homics"))["livenessProbe"]  # a crash is restarted


def test_user_activity_version_2_0_0_changes_only_the_user_image(dev, upgraded):
    before = {(o["kind"], o["metadata"]["name"]): o for o in _homics_objects(dev)}
    after = {(o["kind"], o["metadata"]["name"]): o for o in _homics_objects(upgraded)}
    assert before.keys() == after.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert changed == [("Deployment", "user-deployment")]
    old, new = before[changed[0]], after[changed[0]]
    assert _is_image(_container(old)["image"], "homics/user-activity:1.0.0")
    assert _is_image(_container(new)["image"], "homics/user-activity:2.0.0")
    new = copy.deepcopy(new)  # the recording is shared by the suite (tests/conftest.py): never change it
    _container(new)["image"] = _container(old)["image"]
    assert new == old


# JVM pods ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", JAVA_SERVICES)
def test_jvm_services_get_realistic_resources_a_startup_budget_and_a_writable_tmp(dev, deployment):
    workload = dev.k8s("Deployment", deployment, "homics")
    container = _container(workload)
    assert container["resources"]["requests"]["memory"] == "512Mi"
    assert container["resources"]["limits"]["memory"] == "768Mi"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    volumes = {v["name"]: v for v in workload["spec"]["template"]["spec"]["volumes"]}
    [tmp] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


# homics-db (H2) ----------------------------------------------------------------------------------------------


def test_homics_db_is_h2_on_1521_and_81_with_its_data_dir_on_a_claim(dev):
    statefulset = dev.k8s("StatefulSet", "homics-db", "homics")
    container = _container(statefulset)
    assert _is_image(container["image"], "oscarfonts/h2:1.4.197")
    assert sorted(p["containerPort"] for p in container["ports"]) == [81, 1521]
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    assert mount["mountPath"] == "/opt/h2-data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_homics_db_service_exposes_1521_and_81_to_the_database_pod(dev):
    service = dev.k8s("Service", "homics-db", "homics")
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert sorted(p["port"] for p in service["spec"]["ports"]) == [81, 1521]
    assert [w["metadata"]["name"] for w in _workloads(dev) if _selects(service, w)] == ["homics-db"]


# Kafka -------------------------------------------------------------------------------------------------------


def test_kafka_is_a_3x_kraft_node_advertising_kafka_9092(dev):
    statefulset = dev.k8s("StatefulSet", "kafka", "homics")
    container = _container(statefulset)
    repository, tag = container["image"].rsplit(":", 1)
    assert repository.endswith("kafka") and tag.startswith("3.")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["CLUSTER_ID"]


def test_kafka_keeps_its_log_on_a_claim(dev):
    statefulset = dev.k8s("StatefulSet", "kafka", "homics")
    container = _container(statefulset)
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == claim["metadata"]["name"]]
    log_dirs = {e["name"]: e.get("value") for e in container["env"]}["KAFKA_LOG_DIRS"]
    assert log_dirs.startswith(mount["mountPath"].rstrip("/") + "/")


def test_kafka_service_serves_9092_from_the_kafka_pod(dev):
    service = dev.k8s("Service", "kafka", "homics")
    assert [p["port"] for p in service["spec"]["ports"]] == [9092]
    assert [w["metadata"]["name"] for w in _workloads(dev) if _selects(service, w)] == ["kafka"]


@pytest.mark.parametrize("store", ["homics-db", "kafka"])
def test_stores_keep_their_claims_and_are_protected(dev, store):
    statefulset = dev.k8s("StatefulSet", store, "homics")
    assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain",
                                                                           "whenScaled": "Retain"}
    assert dev.k8s_resource("StatefulSet", store, "homics").protect


def test_kafkas_writable_root_filesystem_is_a_recorded_opt_out(dev):
    pod = dev.k8s("StatefulSet", "kafka", "homics")["spec"]["template"]
    assert "config" in pod["metadata"]["annotations"]["aks-microservices/security-opt-out"]
    context = _container(dev.k8s("StatefulSet", "kafka", "homics"))["securityContext"]
    assert context["readOnlyRootFilesystem"] is False
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}


def test_h2_runs_as_non_root_and_binds_its_console_port_81_through_the_pod_sysctl(dev):
    pod = dev.k8s("StatefulSet", "homics-db", "homics")["spec"]["template"]
    assert "aks-microservices/security-opt-out" not in (pod["metadata"].get("annotations") or {})
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "81"}]
    assert _container(dev.k8s("StatefulSet", "homics-db", "homics"))["securityContext"]["capabilities"] == {
        "drop": ["ALL"]
    }


# Gateway exposure --------------------------------------------------------------------------------------------


def test_gateway_is_a_load_balancer_on_aks(dev):
    service = dev.k8s("Service", "gateway", "homics")
    assert service["spec"]["type"] == "LoadBalancer"
    ip = dev.k8s_resource("Service", "gateway", "homics").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert dev.stack_outputs["homics"]["gatewayUrl"] == f"http://{ip}:8080"


def test_gateway_is_a_node_port_on_an_existing_cluster_as_in_the_seed(on_existing_cluster):
    service = on_existing_cluster.k8s("Service", "gateway", "homics")
    assert service["spec"]["type"] == "NodePort"
    assert [p["port"] for p in service["spec"]["ports"]] == [8080]


def test_gateway_can_sit_behind_an_ingress(behind_ingress):
    assert behind_ingress.k8s("Service", "gateway", "homics")["spec"]["type"] == "ClusterIP"
    ingress = behind_ingress.k8s("Ingress", "gateway", "homics")
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "shop.example.com"
    [path] = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "gateway", "port": {"number": 8080}}


def test_only_the_gateway_is_reachable_from_outside(dev):
    public = [o["metadata"]["name"] for o in _homics_objects(dev)
              if o["kind"] == "Service" and o["spec"].get("type") in ("LoadBalancer", "NodePort")]
    assert public == ["gateway"]
    assert not [o for o in _homics_objects(dev) if o["kind"] == "Ingress"]


# Outputs and the on/off switch -------------------------------------------------------------------------------


def test_outputs_give_the_stores_in_cluster_addresses(dev):
    outputs = dev.stack_outputs["homics"]
    assert outputs["databaseAddress"] == "homics-db.homics.svc.cluster.local:1521"
    assert outputs["kafkaBootstrap"] == "kafka.homics.svc.cluster.local:9092"


def test_disabling_homics_removes_every_object(without_homics):
    assert not _homics_objects(without_homics)
    assert not [o for o in without_homics.k8s_objects() if o["metadata"].get("namespace") == "homics"]
    assert not [r for r in without_homics.resources if r.name == "homics" or r.name.startswith("homics-")]
    assert "homics" not in without_homics.stack_outputs


def test_the_images_the_platform_caches_are_the_images_the_pods_run(dev):
    used = {_container(w)["image"] for w in _workloads(dev)}
    references = homics.images(HomicsSettings())
    assert len(references) == len(used) == 7
    for reference in references:
        assert any(_is_image(image, reference) for image in used), reference


# Config ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"userReplicas": 1}, "aks-microservices:apps.homics.userReplicas: expected an integer from 2 to 20, got 1"),
        ({"kafkaVersion": "4.0.0"}, "aks-microservices:apps.homics.kafkaVersion: expected a Kafka 3.x version"),
        ({"gatewayExposure": "ingress"}, "aks-microservices:apps.homics.gatewayExposure: expected one of"),
        ({"userActivityVersion": "2.0 .0"}, "aks-microservices:apps.homics.userActivityVersion: expected an image tag"),
    ],
)
def test_a_bad_homics_setting_is_one_line_naming_the_key(settings, message):
    with pytest.raises(ConfigError) as error:
        run(load_settings, config={"apps": {"homics": settings}})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


# JVM heaps ---------------------------------------------------------------------------------------------------

MIB = 1024 * 1024
# Every JVM of the app and the variable its heap bound must be in: the Spring Boot images and H2 run `java`
# directly (homics/handson docker/*/Dockerfile: `CMD ["java", "-jar", ...]`; oscarfonts/h2: `CMD java -cp ...`),
# which reads JAVA_TOOL_OPTIONS itself; Kafka's start script puts KAFKA_HEAP_OPTS (else -Xmx1G) on the command line.
JVMS = {**{name: "JAVA_TOOL_OPTIONS" for name in JAVA_SERVICES}, "homics-db": "JAVA_TOOL_OPTIONS",
        "kafka": "KAFKA_HEAP_OPTS"}


def _bytes(quantity: str) -> int:
    units = {"Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB}
    return int(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize(("workload", "variable"), JVMS.items())
def test_each_jvms_heap_bound_is_below_its_memory_limit_with_room_for_the_rest_of_the_jvm(dev, workload, variable):
    kind = "Deployment" if workload.endswith("-deployment") else "StatefulSet"
    container = _container(dev.k8s(kind, workload, "homics"))
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    options = env[variable].split()
    heaps = [o for o in options if o.startswith("-Xmx")]
    assert len(heaps) == 1, options
    assert heaps[0].endswith("m")
    heap = int(heaps[0][4:-1]) * MIB
    limit = _bytes(container["resources"]["limits"]["memory"])
    # Metaspace, thread stacks and code cache of a Spring Boot JVM take well over 150 MiB: at most 75%.
    assert 0 < heap <= 0.75 * limit
    assert limit - heap >= 150 * MIB


def test_the_jvm_heap_bounds_follow_the_memory_limit(dev):
    # Derived, not typed in: the services share one limit, so they get one bound; Kafka's larger limit a larger one.
    def heap(kind, name):
        env = {e["name"]: e.get("value") for e in _container(dev.k8s(kind, name, "homics")).get("env") or []}
        return env.get("JAVA_TOOL_OPTIONS") or env.get("KAFKA_HEAP_OPTS")

    limits = {name: _container(dev.k8s("Deployment", name, "homics"))["resources"]["limits"]["memory"]
              for name in JAVA_SERVICES}
    assert len(set(limits.values())) == 1
    assert len({heap("Deployment", name) for name in JAVA_SERVICES}) == 1
    assert heap("StatefulSet", "kafka") != heap("Deployment", "monolith-deployment")


# Restart safety: a second start against existing data ---------------------------------------------------------
# What the images do with their H2 databases at start (homics/handson@2f3d6b1, branch exercise-7-corrected,
# */src/main/resources): Hibernate `ddl-auto: update` everywhere (adds what is missing, drops nothing), and
# Spring Boot 2.1's DataSourceInitializer runs `data.sql` at every start because it counts any H2 as embedded
# (spring-boot PR #23693 changed that in 2.4). Its populator (Spring's ScriptUtils) splits the script on `;`
# and runs each statement; with `spring.datasource.continue-on-error` a failing statement is logged and
# skipped, without it the first failure fails the application context. The scripts below keep the shape of
# the images' (which statements, on which ids) with placeholder values; SQLite with foreign keys on stands in
# for H2: both refuse to delete a row another table still references.

MONOLITH_DATA_SQL = """delete  from article;
INSERT INTO article (id, price, name, description, image)
VALUES (1, 3, 'a', 'first', 'a.png'), (2, 2, 'b', 'second', 'b.png'), (3, 1, 'c', 'third', 'c.png');"""
STOCK_DATA_SQL = """insert into article_stock select * from (
select 1, 3 union
select 2, 1
) x where not exists(select * from article_stock);"""
MONOLITH_SCHEMA = (
    "create table article (id bigint primary key, price real, name varchar, description varchar, image varchar)",
    "create table order_line (id bigint primary key, quantity integer, article_id bigint references article (id))",
)


class ContextFailed(Exception):
    """The application context failed to start (the pod crash-loops)."""


def spring_start(db: sqlite3.Connection, script: str, env: dict) -> None:
    """Spring Boot 2.1 running `script` as its data.sql, with the container's environment."""
    continue_on_error = env.get("SPRING_DATASOURCE_CONTINUEONERROR", "false").lower() == "true"
    for statement in filter(str.strip, script.split(";")):
        try:
            db.execute(statement)
        except sqlite3.DatabaseError as error:
            if not continue_on_error:
                raise ContextFailed(f"{statement.split()[0]}: {error}") from None


def h2(*schema: str) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("pragma foreign_keys = on")
    for statement in schema:
        db.execute(statement)
    return db


def _env(recording, deployment: str) -> dict:
    return {e["name"]: e.get("value") for e in _container(recording.k8s("Deployment", deployment, "homics"))
            .get("env") or []}


def test_monolith_first_start_on_an_empty_database_gets_the_seed_articles(dev):
    db = h2(*MONOLITH_SCHEMA)
    spring_start(db, MONOLITH_DATA_SQL, _env(dev, "monolith-deployment"))
    assert db.execute("select id from article order by id").fetchall() == [(1,), (2,), (3,)]


def test_monolith_second_start_with_a_cart_item_keeps_articles_and_orders(dev):
    env = _env(dev, "monolith-deployment")
    db = h2(*MONOLITH_SCHEMA)
    spring_start(db, MONOLITH_DATA_SQL, env)
    db.execute("insert into order_line values (1, 2, 2)")
    spring_start(db, MONOLITH_DATA_SQL, env)  # the restart: must not fail
    assert db.execute("select id, name from article order by id").fetchall() == [(1, "a"), (2, "b"), (3, "c")]
    assert db.execute("select article_id, quantity from order_line").fetchall() == [(2, 2)]


def test_monolith_second_start_without_orders_rewrites_the_same_articles(dev):
    env = _env(dev, "monolith-deployment")
    db = h2(*MONOLITH_SCHEMA)
    spring_start(db, MONOLITH_DATA_SQL, env)
    spring_start(db, MONOLITH_DATA_SQL, env)
    assert db.execute("select count(*) from article").fetchone() == (3,)


def test_the_images_own_data_script_alone_fails_the_second_start_once_a_cart_holds_an_item():
    # The defect the monolith's environment corrects: with the image's defaults the restart fails for good.
    db = h2(*MONOLITH_SCHEMA)
    spring_start(db, MONOLITH_DATA_SQL, {})
    db.execute("insert into order_line values (1, 1, 1)")
    with pytest.raises(ContextFailed, match="delete: FOREIGN KEY constraint failed"):
        spring_start(db, MONOLITH_DATA_SQL, {})


def test_stock_second_start_leaves_its_stock_untouched(dev):
    env = _env(dev, "stock-deployment")
    db = h2("create table article_stock (article_id bigint primary key, quantity integer)")
    spring_start(db, STOCK_DATA_SQL, env)
    db.execute("update article_stock set quantity = 0 where article_id = 1")  # someone bought the last ones
    spring_start(db, STOCK_DATA_SQL, env)
    assert db.execute("select * from article_stock order by article_id").fetchall() == [(1, 0), (2, 1)]


@pytest.mark.parametrize("deployment", ["user-deployment", "stats-deployment", "gateway-deployment"])
def test_user_activity_stats_and_gateway_run_no_data_script_so_a_second_start_changes_nothing(dev, deployment):
    # They ship no data.sql (the gateway has no datasource at all): their start only adds missing tables.
    # Their environment keeps the images' datasource untouched.
    assert not [name for name in _env(dev, deployment) if name.startswith("SPRING_")]


def test_kafka_second_start_reuses_its_formatted_log_with_the_same_cluster_id(dev):
    # apache/kafka's docker/jvm/launch formats the log dir with CLUSTER_ID at every start and lets "already
    # formatted" pass; the broker refuses a log dir formatted for another cluster id. So the id is a constant
    # of the stack, the same on every render, and the log dir is on the claim.
    kafka = dev.k8s("StatefulSet", "kafka", "homics")
    env = {e["name"]: e.get("value") for e in _container(kafka)["env"]}
    assert env["CLUSTER_ID"] == homics.KAFKA_CLUSTER_ID
    assert env["KAFKA_LOG_DIRS"].startswith(_container(kafka)["volumeMounts"][-1]["mountPath"] + "/")
