import json
import re

import pulumi
import pytest

from components import (
    MINIO_IMAGE,
    EnvFromSecret,
    ObjectStore,
    ObjectStoreArgs,
    PerReplicaStorage,
    SharedStorage,
    StatelessService,
    StatelessServiceArgs,
)
from offline.engine import run

COMPONENT = "aks-microservices:components:ObjectStore"
PASSWORD = "random:index/randomPassword:RandomPassword"


def render(opts=None, **overrides):
    fields = dict(namespace="knote", part_of="knote")
    fields.update(overrides)
    return run(lambda: ObjectStore("minio", ObjectStoreArgs(**fields), opts))


def minio_container(recording) -> dict:
    return recording.k8s("StatefulSet", "minio")["spec"]["template"]["spec"]["containers"][0]


# Objects -------------------------------------------------------------------------------------------------

def test_creates_a_minio_statefulset_its_services_and_a_credentials_secret():
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in render().k8s_objects())
    assert kinds == [("NetworkPolicy", "minio"), ("Secret", "minio-credentials"), ("Service", "minio"),
                     ("Service", "minio-headless"), ("ServiceAccount", "minio"), ("StatefulSet", "minio")]


def test_minio_runs_a_pinned_release_with_one_replica():
    recording = render()
    assert re.fullmatch(r"minio/minio:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", MINIO_IMAGE)
    assert minio_container(recording)["image"] == MINIO_IMAGE
    assert recording.k8s("StatefulSet", "minio")["spec"]["replicas"] == 1


def test_minio_serves_its_data_mount_and_keeps_its_certs_dir_on_a_writable_tmp():
    container = minio_container(render())
    assert container["args"] == ["server", "/storage", "--certs-dir", "/tmp/certs"]
    assert {"name": "writable-0", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "data", "mountPath": "/storage"} in container["volumeMounts"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_data_claim_defaults_to_256mi_read_write_once():
    template = render().k8s("StatefulSet", "minio")["spec"]["volumeClaimTemplates"][0]
    assert template["metadata"]["name"] == "data"
    assert template["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "256Mi"}}}


def test_the_s3_port_is_served_by_the_minio_service_and_probed_on_minio_health_endpoints():
    recording = render()
    assert recording.k8s("Service", "minio")["spec"]["ports"] == [
        {"name": "s3", "port": 9000, "targetPort": 9000, "protocol": "TCP"}
    ]
    container = minio_container(recording)
    assert container["readinessProbe"]["httpGet"] == {"path": "/minio/health/ready", "port": 9000, "scheme": "HTTP"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/minio/health/live", "port": 9000, "scheme": "HTTP"}


def test_service_name_port_and_storage_are_configurable():
    storage = PerReplicaStorage(claim_name="blobs", size="1Gi", mount_path="/export", storage_class="managed-csi")
    recording = render(service_name="blobs", port=9100, storage=storage)
    assert recording.k8s("Service", "blobs")["spec"]["ports"][0]["port"] == 9100
    container = recording.k8s("StatefulSet", "blobs")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["server", "/export"]
    assert recording.k8s("Secret", "blobs-credentials")


# Credentials ---------------------------------------------------------------------------------------------

def test_root_credentials_are_generated_as_alphanumeric_random_passwords():
    passwords = {r.name: r.inputs for r in render().of_type(PASSWORD)}
    assert passwords["minio-access-key"]["length"] >= 20
    assert passwords["minio-secret-key"]["length"] >= 40
    assert all(p["special"] is False for p in passwords.values())


def test_the_secret_holds_the_generated_credentials_as_string_data_marked_secret():
    recording = render()
    secret = recording.k8s_resource("Secret", "minio-credentials")
    assert secret.inputs["type"] == "Opaque"
    assert set(secret.inputs["stringData"]) == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
    assert "stringData" in secret.secret_paths
    generated = {r.name: r.outputs["result"] for r in recording.of_type(PASSWORD)}
    assert secret.inputs["stringData"] == {"MINIO_ROOT_USER": generated["minio-access-key"],
                                           "MINIO_ROOT_PASSWORD": generated["minio-secret-key"]}
    assert set(generated.values()) <= recording.secret_values


def test_minio_reads_its_root_credentials_from_the_secret_mounted_as_files():
    recording = render()
    container = minio_container(recording)
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/run/secrets/minio"]
    [volume] = [v for v in recording.k8s("StatefulSet", "minio")["spec"]["template"]["spec"]["volumes"]
                if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == "minio-credentials" and mount["readOnly"] is True
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "MINIO_ROOT_USER_FILE": "/run/secrets/minio/MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD_FILE": "/run/secrets/minio/MINIO_ROOT_PASSWORD",
    }


def test_no_credential_appears_outside_the_secret():
    recording = render()
    others = json.dumps([o for o in recording.k8s_objects() if o["kind"] != "Secret"])
    secrets = {r.outputs["result"] for r in recording.of_type(PASSWORD)}
    assert secrets and not any(value in others for value in secrets)


def test_given_credentials_replace_the_generated_ones_and_stay_secret():
    recording = render(access_key="knote-admin", secret_key="a-long-enough-secret")
    assert not recording.of_type(PASSWORD)
    secret = recording.k8s_resource("Secret", "minio-credentials")
    assert secret.inputs["stringData"] == {"MINIO_ROOT_USER": "knote-admin",
                                           "MINIO_ROOT_PASSWORD": "a-long-enough-secret"}
    assert "stringData" in secret.secret_paths


# Outputs -------------------------------------------------------------------------------------------------

def test_outputs_let_an_app_wire_the_credentials_by_reference_without_seeing_them():
    def program():
        store = ObjectStore("minio", ObjectStoreArgs(namespace="knote", part_of="knote"))
        StatelessService("knote", StatelessServiceArgs(
            namespace="knote", part_of="knote", component="web", image="learnk8s/knote-js:2.0.0", port=3000,
            deployment_name="knote", service_type="LoadBalancer", service_port=80,
            env={"MINIO_HOST": "minio"},
            env_from_secrets={
                "MINIO_ACCESS_KEY": EnvFromSecret(secret_name=store.secret_name, key=store.access_key_key),
                "MINIO_SECRET_KEY": EnvFromSecret(secret_name=store.secret_name, key=store.secret_key_key),
            },
        ))
        return store

    recording = run(program)
    store = recording.value
    assert recording.resolve(store.secret_name) == "minio-credentials"
    assert (store.access_key_key, store.secret_key_key) == ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")
    env = recording.k8s("Deployment", "knote")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[1:] == [
        {"name": "MINIO_ACCESS_KEY",
         "valueFrom": {"secretKeyRef": {"name": "minio-credentials", "key": "MINIO_ROOT_USER"}}},
        {"name": "MINIO_SECRET_KEY",
         "valueFrom": {"secretKeyRef": {"name": "minio-credentials", "key": "MINIO_ROOT_PASSWORD"}}},
    ]


def test_outputs_give_the_service_dns_name_and_port():
    recording = render()
    store = recording.value
    assert recording.resolve(store.host) == "minio.knote.svc.cluster.local"
    assert store.port == 9000
    assert store.statefulset is not None and store.service is not None and store.secret is not None


# Pulumi options ------------------------------------------------------------------------------------------

def test_children_are_named_from_the_component_name_and_parented_to_it():
    recording = render()
    component = recording.of_type(COMPONENT)[0]
    assert {r.name: r.type for r in recording.children_of(component.urn)} == {
        "minio-access-key": PASSWORD,
        "minio-secret-key": PASSWORD,
        "minio-credentials": "kubernetes:core/v1:Secret",
        "minio-store": "aks-microservices:components:StatefulStore",
    }


def test_protect_guards_the_data_and_the_credentials_but_not_the_services():
    recording = render(protect=True)
    assert sorted(r.name for r in recording.resources if r.protect) == [
        "minio-access-key", "minio-credentials", "minio-secret-key", "minio-store-statefulset",
    ]


def test_user_opts_such_as_protect_reach_every_descendant():
    assert all(r.protect for r in render(opts=pulumi.ResourceOptions(protect=True)).resources)


def test_every_object_is_valid_and_labelled(assert_manifests_valid, assert_recommended_labels):
    recording = render()
    assert_manifests_valid(recording)
    assert_recommended_labels(recording, name="minio", instance="knote", component="object-store",
                              part_of="knote")


# Validation ----------------------------------------------------------------------------------------------

ERRORS = [
    ({"namespace": "Knote"}, "ObjectStoreArgs.namespace: expected a DNS-1123 label"),
    ({"part_of": ""}, "ObjectStoreArgs.part_of: expected a non-empty string or Output, got ''"),
    ({"service_name": "9minio"},
     "ObjectStoreArgs.service_name: expected a DNS-1035 label of at most 52 characters, got '9minio'"),
    ({"service_name": "m" * 53}, "ObjectStoreArgs.service_name: expected a DNS-1035 label of at most 52 characters"),
    ({"port": 0}, "ObjectStoreArgs.port: expected an integer 1-65535, got 0"),
    ({"storage": SharedStorage(claim_name="d", size="1Gi", mount_path="/d")},
     "ObjectStoreArgs.storage: expected a PerReplicaStorage, got SharedStorage("),
    ({"args": "server /storage"}, "ObjectStoreArgs.args: expected a list or tuple, got 'server /storage'"),
    ({"labels": {"app.kubernetes.io/part-of": "x"}}, "ObjectStoreArgs.labels: expected no key of"),
    ({"access_key": "ab"},
     "ObjectStoreArgs.access_key: expected None (generated) or a string of at least 3 characters, "
     "got a str (value hidden: secret)"),
    ({"secret_key": "short"},
     "ObjectStoreArgs.secret_key: expected None (generated) or a string of at least 8 characters, "
     "got a str (value hidden: secret)"),
    ({"protect": 1}, "ObjectStoreArgs.protect: expected True or False, got 1"),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS)
def test_args_reject_bad_fields_naming_the_field_and_value(overrides, message):
    fields = {"namespace": "knote", "part_of": "knote", **overrides}
    with pytest.raises(ValueError, match=re.escape(message)):
        ObjectStoreArgs(**fields)


def test_a_rejected_credential_is_not_echoed_in_the_error():
    with pytest.raises(ValueError) as error:
        ObjectStoreArgs(namespace="knote", part_of="knote", secret_key="hunter2")
    assert "hunter2" not in str(error.value)
