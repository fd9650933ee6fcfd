"""Secrets from a SecretProviderClass: a component-level option that knows only Kubernetes (a CSI volume, the pod
labels and ServiceAccount annotations its provider needs), never which provider or cloud is behind the class."""

import pytest

from components import (
    InvalidArgsError,
    ObjectStore,
    ObjectStoreArgs,
    SecretStoreVolume,
    StatelessService,
    StatelessServiceArgs,
)
from offline.engine import run

STORE = SecretStoreVolume(provider_class="app-secrets", pod_labels={"example.com/use": "true"},
                          service_account_annotations={"example.com/client-id": "abc"})


def web(**overrides) -> StatelessServiceArgs:
    fields = dict(namespace="shop", part_of="shop", component="web", image="nginx:1.27", port=8080,
                  deployment_name="web")
    fields.update(overrides)
    return StatelessServiceArgs(**fields)


def test_a_workload_with_a_secret_store_mounts_its_class_read_only_with_the_given_label_and_annotation(
        assert_manifests_valid):
    recording = run(lambda: StatelessService("web", web(secret_store=STORE)))
    assert_manifests_valid(recording)
    pod = recording.k8s("Deployment", "web", "shop")["spec"]["template"]
    [volume] = [v for v in pod["spec"]["volumes"] if "csi" in v]
    assert volume["csi"] == {"driver": "secrets-store.csi.k8s.io", "readOnly": True,
                             "volumeAttributes": {"secretProviderClass": "app-secrets"}}
    [mount] = [m for m in pod["spec"]["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert mount == {"name": volume["name"], "mountPath": "/mnt/secrets-store", "readOnly": True}
    assert pod["metadata"]["labels"]["example.com/use"] == "true"
    account = recording.k8s("ServiceAccount", "web", "shop")
    assert account["metadata"]["annotations"] == {"example.com/client-id": "abc"}
    assert account["automountServiceAccountToken"] is False  # the provider's token comes from the driver


def test_without_a_secret_store_nothing_of_it_appears():
    recording = run(lambda: StatelessService("web", web()))
    pod = recording.k8s("Deployment", "web", "shop")["spec"]["template"]
    assert [v for v in pod["spec"].get("volumes") or [] if "csi" in v] == []
    assert "annotations" not in recording.k8s("ServiceAccount", "web", "shop")["metadata"]


def test_an_object_store_whose_secret_comes_from_a_store_generates_credentials_but_creates_no_secret():
    def program():
        minio = ObjectStore("minio", ObjectStoreArgs(namespace="shop", part_of="shop", create_secret=False,
                                                     secret_store=STORE))
        return minio

    recording = run(program)
    assert [o for o in recording.k8s_objects() if o["kind"] == "Secret"] == []
    pod = recording.k8s("StatefulSet", "minio", "shop")["spec"]["template"]
    assert [v["csi"]["volumeAttributes"] for v in pod["spec"]["volumes"] if "csi" in v] == [
        {"secretProviderClass": "app-secrets"}]
    # MinIO still reads its files from Secret minio-credentials, which the store syncs.
    assert [v["secret"]["secretName"] for v in pod["spec"]["volumes"] if "secret" in v] == ["minio-credentials"]
    minio = recording.value
    assert set(minio.credentials) == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
    assert len(recording.of_type("random:index/randomPassword:RandomPassword")) == 2


@pytest.mark.parametrize(("fields", "message"), [
    (dict(provider_class="Not_A_Name"), "provider_class"),
    (dict(provider_class="ok", mount_path="relative"), "mount_path"),
    (dict(provider_class="ok", pod_labels={"app.kubernetes.io/name": "x"}), "pod_labels"),
])
def test_a_bad_secret_store_is_one_line_naming_the_field(fields, message):
    with pytest.raises(InvalidArgsError, match=rf"SecretStoreVolume\.{message}"):
        SecretStoreVolume(**fields)


def test_a_secret_store_mount_path_may_not_collide_and_its_annotations_need_the_components_own_account():
    with pytest.raises(InvalidArgsError, match=r"secret_store\.mount_path"):
        web(secret_store=STORE, writable_paths=("/mnt/secrets-store",))
    with pytest.raises(InvalidArgsError, match="service_account_name"):
        web(secret_store=STORE, service_account_name="shared")
