"""Smilr (seed 000) as the dev stack renders it: the facts of /work/shared/apps.md, wired outputs, no secrets."""

import re

import pulumi
import pulumi_kubernetes as k8s
import pytest

from infra.platform import Platform
from offline.engine import run, run_stack
from offline.validate import validate_object
from settings import load_settings
from stacks import smilr

NS = "smilr"


@pytest.fixture(scope="module")
def stack():
    return run_stack("dev")


@pytest.fixture(scope="module")
def without_smilr():
    return run_stack("dev", overrides={"apps": {"smilr": {"enabled": False}}})


def objects_in(recording, namespace):
    return [o for o in recording.k8s_objects() if o["metadata"].get("namespace") == namespace]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def only_container(workload):
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def selects(service, workload):
    labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads_in(recording, namespace):
    return [o for o in objects_in(recording, namespace) if o["kind"] in ("Deployment", "StatefulSet")]


def assert_selects_only(recording, service_name, kind, workload_name):
    service = recording.k8s("Service", service_name, NS)
    chosen = [f"{w['kind']}/{w['metadata']['name']}" for w in workloads_in(recording, NS) if selects(service, w)]
    assert chosen == [f"{kind}/{workload_name}"]


def load_balancer_ip(recording, service_name):
    resource = recording.k8s_resource("Service", service_name, NS)
    return resource.outputs["status"]["loadBalancer"]["ingress"][0]["ip"]


def image_is(container, reference):
    # The platform may pull through a registry cache: the public reference ends the pulled one.
    return re.fullmatch(rf"(.*/)?(library/)?{re.escape(reference)}", container["image"]) is not None


# MongoDB -------------------------------------------------------------------------------------------------

def test_smilr_lives_in_its_own_namespace(stack):
    assert stack.k8s("Namespace", "smilr")
    kinds = {o["kind"] for o in objects_in(stack, NS)}
    assert {"Deployment", "StatefulSet", "Service"} <= kinds


def test_smilr_mongodb_is_a_statefulset_named_mongodb_governed_by_a_headless_service_mongodb(stack):
    mongodb = stack.k8s("StatefulSet", "mongodb", NS)
    headless = stack.k8s("Service", "mongodb", NS)
    assert mongodb["spec"]["serviceName"] == "mongodb"
    assert mongodb["spec"]["replicas"] == 1
    assert headless["spec"]["clusterIP"] == "None"
    assert_selects_only(stack, "mongodb", "StatefulSet", "mongodb")


def test_smilr_mongodb_listens_on_27017_and_clients_reach_it_through_mongodb_svc(stack):
    container = only_container(stack.k8s("StatefulSet", "mongodb", NS))
    assert [p["containerPort"] for p in container["ports"]] == [27017]
    service = stack.k8s("Service", "mongodb-svc", NS)
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(27017, 27017)]
    assert_selects_only(stack, "mongodb-svc", "StatefulSet", "mongodb")


def test_smilr_mongodb_keeps_its_data_on_a_500M_disk_claim_template_mongo_vol_at_data_db(stack):
    mongodb = stack.k8s("StatefulSet", "mongodb", NS)
    (template,) = mongodb["spec"]["volumeClaimTemplates"]
    assert template["metadata"]["name"] == "mongo-vol"
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert template["spec"]["resources"]["requests"]["storage"] == "500M"
    platform = stack.value["platform"]
    assert template["spec"].get("storageClassName") == stack.resolve(platform.per_replica_storage_class)
    mounts = {m["mountPath"]: m["name"] for m in only_container(mongodb)["volumeMounts"]}
    assert mounts["/data/db"] == "mongo-vol"


def test_smilr_mongodb_runs_a_maintained_mongo_release_as_the_mongodb_user(stack):
    mongodb = stack.k8s("StatefulSet", "mongodb", NS)
    container = only_container(mongodb)
    match = re.fullmatch(r"(.*/)?(library/)?mongo:(\d+)\.(\d+)(\S*)", container["image"])
    assert match, container["image"]
    assert int(match[3]) >= 7  # 3.4 (the seed's) and 6.0 are past their end of life
    security = pod_spec(mongodb)["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"], security["fsGroup"]) == (999, 999, 999)
    assert security["runAsNonRoot"] is True


def test_smilr_mongodb_is_protected_with_its_data(stack):
    assert stack.k8s_resource("StatefulSet", "mongodb", NS).protect is True


# data-api ----------------------------------------------------------------------------------------------

def test_smilr_data_api_runs_3_replicas_of_smilr_data_api_on_port_4000(stack):
    data_api = stack.k8s("Deployment", "data-api", NS)
    assert data_api["spec"]["replicas"] == 3
    container = only_container(data_api)
    assert image_is(container, "smilr/data-api:latest")
    assert [p["containerPort"] for p in container["ports"]] == [4000]


def test_smilr_data_api_finds_mongo_through_mongodb_svc_in_its_namespace(stack):
    env = env_of(only_container(stack.k8s("Deployment", "data-api", NS)))
    assert env["MONGO_CONNSTR"]["value"] == "mongodb://mongodb-svc.smilr"


def test_smilr_data_api_svc_is_a_load_balancer_from_80_to_4000(stack):
    service = stack.k8s("Service", "data-api-svc", NS)
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 4000)]
    assert_selects_only(stack, "data-api-svc", "Deployment", "data-api")


def test_smilr_data_api_is_ready_on_api_health_and_survives_mongo_not_being_ready(stack):
    container = only_container(stack.k8s("Deployment", "data-api", NS))
    readiness = container["readinessProbe"]
    assert readiness["httpGet"]["path"] == "/api/health"
    assert readiness["httpGet"]["port"] == 4000
    liveness, startup = container["livenessProbe"], container["startupProbe"]
    # Liveness must not follow the database (it answers 503 while Mongo is down) and must be patient.
    assert liveness.get("httpGet", {}).get("path") != "/api/health"
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 60
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


# frontend ----------------------------------------------------------------------------------------------

def test_smilr_frontend_runs_3_replicas_of_smilr_frontend_on_port_3000(stack):
    frontend = stack.k8s("Deployment", "frontend", NS)
    assert frontend["spec"]["replicas"] == 3
    container = only_container(frontend)
    assert image_is(container, "smilr/frontend:latest")
    assert [p["containerPort"] for p in container["ports"]] == [3000]


def test_smilr_frontend_svc_is_a_load_balancer_from_80_to_3000(stack):
    service = stack.k8s("Service", "frontend-svc", NS)
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 3000)]
    assert_selects_only(stack, "frontend-svc", "Deployment", "frontend")


def test_smilr_frontend_api_endpoint_is_the_data_api_load_balancer_address(stack):
    env = env_of(only_container(stack.k8s("Deployment", "frontend", NS)))
    # The address exists only as the Service's output (the provider fills status.loadBalancer).
    address = load_balancer_ip(stack, "data-api-svc")
    assert env["API_ENDPOINT"]["value"] == f"http://{address}/api"
    assert address != load_balancer_ip(stack, "frontend-svc")


def test_smilr_node_services_run_as_the_node_user_with_writable_tmp(stack):
    for name in ("data-api", "frontend"):
        deployment = stack.k8s("Deployment", name, NS)
        security = pod_spec(deployment)["securityContext"]
        assert (security["runAsUser"], security["runAsGroup"]) == (1000, 1000)
        container = only_container(deployment)
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_every_smilr_object_is_valid_for_kubernetes_and_labelled_part_of_smilr(stack):
    version = stack.value["settings"].kubernetes_version
    for obj in objects_in(stack, NS):
        assert validate_object(obj, version) == [], f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "smilr"


# Outputs, secrets, switches -----------------------------------------------------------------------------

def test_smilr_stack_outputs_give_its_public_endpoints_and_mongo_address(stack):
    outputs = stack.stack_outputs["smilr"]
    assert outputs["frontendUrl"] == f"http://{load_balancer_ip(stack, 'frontend-svc')}"
    assert outputs["apiEndpoint"] == f"http://{load_balancer_ip(stack, 'data-api-svc')}/api"
    assert outputs["mongodb"] == "mongodb-svc.smilr.svc.cluster.local:27017"


def test_no_secret_value_appears_in_smilr_env_literals_or_outputs(stack):
    literals = [
        e.get("value") or ""
        for w in workloads_in(stack, NS)
        for c in pod_spec(w)["containers"]
        for e in c.get("env") or []
    ]
    texts = [*literals, repr(stack.stack_outputs.get("smilr"))]
    assert stack.secret_values  # the stack has secrets (other apps, platform): none may leak here
    assert not [s for s in stack.secret_values for text in texts if s in text]


def test_disabling_smilr_removes_all_of_its_objects(stack, without_smilr):
    assert objects_in(stack, NS)
    assert objects_in(without_smilr, NS) == []
    assert [o for o in without_smilr.k8s_objects() if o["metadata"]["name"] == NS and o["kind"] == "Namespace"] == []
    assert [r.name for r in without_smilr.resources if r.name.startswith("smilr")] == []
    assert "smilr" not in without_smilr.stack_outputs
    assert "knote" in without_smilr.stack_outputs  # the other apps stay


def test_smilr_images_are_exactly_the_images_its_pods_run(stack):
    declared = smilr.images(_dev_settings().apps.smilr)
    running = [c for w in workloads_in(stack, NS) for c in pod_spec(w)["containers"]]
    assert {ref for ref in declared for c in running if image_is(c, ref)} == declared
    assert all(any(image_is(c, ref) for ref in declared) for c in running)


def test_smilr_replicas_below_one_are_a_one_line_config_error():
    with pytest.raises(pulumi.RunError) as error:
        run_stack("dev", overrides={"apps": {"smilr": {"dataApiReplicas": -1}}})
    message = str(error.value)
    assert message == "aks-microservices:apps.smilr.dataApiReplicas: expected an integer >= 1, got -1"


def test_smilr_on_a_nodeport_cluster_needs_the_api_endpoint_in_config():
    def program():
        platform = Platform(
            kind="existing", provider=k8s.Provider("k8s"), per_replica_storage_class=None,
            shared_storage_class=None, ingress_class="nginx", ingress_controller_namespace="ingress-nginx",
            external_service_type="NodePort",
        )
        return smilr.deploy(load_settings(), platform)

    with pytest.raises(ValueError) as error:
        run(program)
    assert str(error.value) == (
        "aks-microservices:apps.smilr.apiEndpoint: expected the data API's public URL when Services are "
        "exposed as NodePort, got null: set it to http://<node address>:30400/api, "
        "the data-api's nodePort (apps.smilr.apiNodePort); on Minikube: "
        "http://$(minikube ip):30400/api"
    )
    recording = run(program, config={"apps": {"smilr": {"apiEndpoint": "http://smilr-api.example.com/api"}}})
    env = env_of(only_container(recording.k8s("Deployment", "frontend", NS)))
    assert env["API_ENDPOINT"]["value"] == "http://smilr-api.example.com/api"
    assert recording.k8s("Service", "data-api-svc", NS)["spec"]["type"] == "NodePort"



def test_smilr_on_a_nodeport_stack_without_api_endpoint_fails_before_any_resource():
    with pytest.raises(pulumi.RunError) as error:
        run_stack("local", overrides={"existing": {"exposure": "NodePort"}})
    assert str(error.value) == (
        "aks-microservices:apps.smilr.apiEndpoint: expected the data API's public URL when Services are "
        "exposed as NodePort (existing.exposure), got null: set it to http://<node address>:30400/api, "
        "the data-api's nodePort (apps.smilr.apiNodePort); on Minikube: "
        "http://$(minikube ip):30400/api"
    )


def _dev_settings():
    """The dev stack's settings, loaded the way the program loads them (inside a run of its config)."""
    from offline.engine import PROJECT_DIR, run, stack_config

    return run(load_settings, config=stack_config(PROJECT_DIR, "dev")).value


def test_mongodb_second_start_reopens_its_data_and_nothing_seeds_it(stack):
    # Restart safety: the mongo image initialises (root user, /docker-entrypoint-initdb.d) only when /data/db
    # is empty, and the data-api only connects at start (benc-uk/smilr node/data-api/core/database.js): a
    # second start against existing data reopens it. So the data dir is on a per-replica claim, kept when
    # the set is deleted or scaled down, and no init script or MONGO_INITDB_* setting is given.
    mongodb = stack.k8s("StatefulSet", "mongodb", NS)
    mounts = {m["mountPath"]: m["name"] for m in only_container(mongodb)["volumeMounts"]}
    assert mounts["/data/db"] in [t["metadata"]["name"] for t in mongodb["spec"]["volumeClaimTemplates"]]
    assert mongodb["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert "/docker-entrypoint-initdb.d" not in mounts
    assert not [e for e in only_container(mongodb).get("env") or [] if e["name"].startswith("MONGO_INITDB")]
