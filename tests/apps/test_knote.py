"""Knote (seed 001) as the dev stack renders it: the facts of /work/shared/apps.md, wired Secrets, no leaks."""

import re

import pulumi
import pytest

from offline.engine import run_stack
from offline.validate import validate_object
from settings import load_settings
from stacks import knote

NS = "knote"


@pytest.fixture(scope="module")
def stack():
    return run_stack("dev")


@pytest.fixture(scope="module")
def plain():
    """The same stack with plain Kubernetes Secrets (`keyVault.enabled: false`), as on an existing cluster."""
    return run_stack("dev", overrides={"keyVault": {"enabled": False}})


@pytest.fixture(scope="module")
def without_knote():
    return run_stack("dev", overrides={"apps": {"knote": {"enabled": False}}})


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


def selects(service, workload):
    labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def assert_selects_only(recording, service_name, kind, workload_name):
    service = recording.k8s("Service", service_name, NS)
    chosen = [f"{w['kind']}/{w['metadata']['name']}" for w in workloads_in(recording, NS) if selects(service, w)]
    assert chosen == [f"{kind}/{workload_name}"]


def image_is(container, reference):
    # The platform may pull through a registry cache: the public reference ends the pulled one.
    return re.fullmatch(rf"(.*/)?(library/)?{re.escape(reference)}", container["image"]) is not None


def image_repository_is(container, repository):
    return re.fullmatch(rf"(.*/)?(library/)?{re.escape(repository)}:[^/]+", container["image"]) is not None


def claim_template_mounted_at(statefulset, path):
    mounts = {m["mountPath"]: m["name"] for m in only_container(statefulset)["volumeMounts"]}
    templates = {t["metadata"]["name"]: t["spec"] for t in statefulset["spec"].get("volumeClaimTemplates") or []}
    return templates[mounts[path]]


def secret_ref(env_var):
    return env_var["valueFrom"]["secretKeyRef"]


# knote -------------------------------------------------------------------------------------------------

def test_knote_lives_in_its_own_namespace(stack):
    assert stack.k8s("Namespace", "knote")


def test_knote_runs_10_replicas_of_knote_js_2_0_0_on_port_3000(stack):
    deployment = stack.k8s("Deployment", "knote", NS)
    assert deployment["spec"]["replicas"] == 10
    container = only_container(deployment)
    assert image_is(container, "learnk8s/knote-js:2.0.0")
    assert [p["containerPort"] for p in container["ports"]] == [3000]


def test_knote_service_is_a_load_balancer_from_80_to_3000(stack):
    service = stack.k8s("Service", "knote", NS)
    assert service["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(80, 3000)]
    assert_selects_only(stack, "knote", "Deployment", "knote")


def test_knote_dials_mongo_and_minio_by_their_service_names(stack):
    env = env_of(only_container(stack.k8s("Deployment", "knote", NS)))
    assert env["MONGO_URL"]["value"] == "mongodb://mongo:27017/dev"
    assert env["MINIO_HOST"]["value"] == "minio"


@pytest.mark.parametrize("variant", ["stack", "plain"])
def test_knote_reads_its_minio_keys_from_the_secret_minio_itself_reads(variant, request):
    stack = request.getfixturevalue(variant)
    knote_env = env_of(only_container(stack.k8s("Deployment", "knote", NS)))
    minio_env = env_of(only_container(stack.k8s("StatefulSet", "minio", NS)))
    access, secret = secret_ref(knote_env["MINIO_ACCESS_KEY"]), secret_ref(knote_env["MINIO_SECRET_KEY"])
    assert "value" not in knote_env["MINIO_ACCESS_KEY"] and "value" not in knote_env["MINIO_SECRET_KEY"]
    assert access["name"] == secret["name"]
    if variant == "plain":
        keys = set(stack.k8s("Secret", access["name"], NS)["stringData"])
    else:  # synced from Key Vault by the app's SecretProviderClass
        [synced] = stack.k8s("SecretProviderClass", "key-vault-secrets", NS)["spec"]["secretObjects"]
        assert synced["secretName"] == access["name"]
        keys = {item["key"] for item in synced["data"]}
    assert {access["key"], secret["key"]} <= keys
    assert access["key"] != secret["key"]
    # MinIO reads its own credentials from the same Secret, mounted as files (MINIO_ROOT_*_FILE).
    [volume] = [v for v in pod_spec(stack.k8s("StatefulSet", "minio", NS))["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == access["name"]
    files = {e["value"].rsplit("/", 1)[1] for name, e in minio_env.items() if name.endswith("_FILE")}
    assert files == {access["key"], secret["key"]}


def test_knote_minio_credentials_are_generated_and_recorded_as_secret(plain):
    stack = plain
    knote_env = env_of(only_container(stack.k8s("Deployment", "knote", NS)))
    name = secret_ref(knote_env["MINIO_ACCESS_KEY"])["name"]
    resource = stack.k8s_resource("Secret", name, NS)
    assert any(path.startswith("stringData") for path in resource.secret_paths)
    values = set(resource.inputs["stringData"].values())
    assert values <= stack.secret_values
    assert {"mykey", "mysecret"}.isdisjoint(values)  # the seed's clear-text keys


def test_only_knote_is_reachable_from_outside(stack):
    exposed = [
        s["metadata"]["name"]
        for s in objects_in(stack, NS)
        if s["kind"] == "Service" and s["spec"].get("type", "ClusterIP") != "ClusterIP"
    ]
    assert exposed == ["knote"]
    assert [o for o in objects_in(stack, NS) if o["kind"] == "Ingress"] == []


# mongo -------------------------------------------------------------------------------------------------

def test_knote_mongo_is_a_statefulset_behind_service_mongo_on_27017(stack):
    assert [o for o in objects_in(stack, NS) if o["kind"] == "Deployment" and o["metadata"]["name"] == "mongo"] == []
    service = stack.k8s("Service", "mongo", NS)
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(27017, 27017)]
    assert_selects_only(stack, "mongo", "StatefulSet", "mongo")
    container = only_container(stack.k8s("StatefulSet", "mongo", NS))
    assert image_repository_is(container, "mongo")
    assert [p["containerPort"] for p in container["ports"]] == [27017]


def test_knote_mongo_keeps_its_data_on_a_256Mi_read_write_once_claim_at_data_db(stack):
    mongo = stack.k8s("StatefulSet", "mongo", NS)
    claim = claim_template_mounted_at(mongo, "/data/db")
    assert claim["resources"]["requests"]["storage"] == "256Mi"
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert stack.k8s_resource("StatefulSet", "mongo", NS).protect is True


def test_knote_mongo_runs_as_the_mongodb_user(stack):
    security = pod_spec(stack.k8s("StatefulSet", "mongo", NS))["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"], security["fsGroup"]) == (999, 999, 999)


# minio -------------------------------------------------------------------------------------------------

def test_knote_minio_serves_s3_behind_service_minio_on_9000(stack):
    assert [o for o in objects_in(stack, NS) if o["kind"] == "Deployment" and o["metadata"]["name"] == "minio"] == []
    service = stack.k8s("Service", "minio", NS)
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(9000, 9000)]
    assert_selects_only(stack, "minio", "StatefulSet", "minio")
    container = only_container(stack.k8s("StatefulSet", "minio", NS))
    assert image_repository_is(container, "minio/minio")
    assert container["args"][:2] == ["server", "/storage"]


def test_knote_minio_keeps_pictures_on_a_256Mi_claim_at_storage(stack):
    minio = stack.k8s("StatefulSet", "minio", NS)
    claim = claim_template_mounted_at(minio, "/storage")
    assert claim["resources"]["requests"]["storage"] == "256Mi"
    assert stack.k8s("StatefulSet", "minio", NS)["spec"]["replicas"] == 1


def test_every_knote_object_is_valid_for_kubernetes_and_labelled_part_of_knote(stack):
    version = stack.value["settings"].kubernetes_version
    for obj in objects_in(stack, NS):
        assert validate_object(obj, version) == [], f"{obj['kind']}/{obj['metadata']['name']}"
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "knote"


# Outputs, secrets, switches -----------------------------------------------------------------------------

def test_knote_stack_outputs_give_its_url_and_store_addresses(stack):
    outputs = stack.stack_outputs["knote"]
    address = stack.k8s_resource("Service", "knote", NS).outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert outputs["url"] == f"http://{address}"
    assert outputs["mongo"] == "mongo.knote.svc.cluster.local:27017"
    assert outputs["minio"] == "minio.knote.svc.cluster.local:9000"


def test_no_secret_value_appears_in_knote_env_literals_or_outputs(stack):
    literals = [
        e.get("value") or ""
        for w in workloads_in(stack, NS)
        for c in pod_spec(w)["containers"]
        for e in c.get("env") or []
    ]
    texts = [*literals, repr(stack.stack_outputs.get("knote"))]
    assert stack.secret_values
    assert not [s for s in stack.secret_values for text in texts if s in text]


def test_knote_images_are_exactly_the_images_its_pods_run(stack):
    declared = knote.images(_dev_settings().apps.knote)
    running = [c for w in workloads_in(stack, NS) for c in pod_spec(w)["containers"]]
    assert {ref for ref in declared for c in running if image_is(c, ref)} == declared
    assert all(any(image_is(c, ref) for ref in declared) for c in running)


def test_disabling_knote_removes_all_of_its_objects(stack, without_knote):
    assert objects_in(stack, NS)
    assert objects_in(without_knote, NS) == []
    assert [o for o in without_knote.k8s_objects() if o["kind"] == "Namespace" and o["metadata"]["name"] == NS] == []
    assert [r.name for r in without_knote.resources if r.name.startswith("knote")] == []
    assert "knote" not in without_knote.stack_outputs
    assert "smilr" in without_knote.stack_outputs  # the other apps stay


def test_knote_replicas_below_one_are_a_one_line_config_error():
    with pytest.raises(pulumi.RunError) as error:
        run_stack("dev", overrides={"apps": {"knote": {"replicas": -1}}})
    assert str(error.value) == "aks-microservices:apps.knote.replicas: expected an integer >= 1, got -1"


def _dev_settings():
    """The dev stack's settings, loaded the way the program loads them (inside a run of its config)."""
    from offline.engine import PROJECT_DIR, run, stack_config

    return run(load_settings, config=stack_config(PROJECT_DIR, "dev")).value


def test_knote_second_start_reuses_its_notes_and_bucket(stack):
    # Restart safety: knote (learnk8s/knote-js 04-05/index.js) only connects to Mongo and creates bucket
    # image-storage when `bucketExists` says it is missing; Mongo and MinIO reopen their data dirs. A second
    # start changes nothing, provided both data dirs are on claims that outlive the pods.
    for name, path in (("mongo", "/data/db"), ("minio", "/storage")):
        store = stack.k8s("StatefulSet", name, NS)
        assert claim_template_mounted_at(store, path)["accessModes"] == ["ReadWriteOnce"]
        assert store["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    assert not [e for e in only_container(stack.k8s("StatefulSet", "mongo", NS)).get("env") or []
                if e["name"].startswith("MONGO_INITDB")]
