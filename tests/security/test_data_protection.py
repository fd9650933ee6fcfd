"""Nothing is lost: stores keep their volumes, and `pulumi destroy` or a replacement cannot drop their data.

The seeds say it in words ("you don't want to lose your data"); these tests check it on what the real program
registers for the dev stack, with `dataProtection` on (its default) and off (a throwaway stack).
"""

from __future__ import annotations

import pytest
import yaml

from offline.engine import PROJECT_DIR, run_stack
from settings import StackSettings

STATEFULSET = "kubernetes:apps/v1:StatefulSet"
CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
VAULT_SECRET = "azure-native:keyvault:Secret"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
# Kinds whose objects hold data on volumes (the operator turns an InnoDBCluster into a StatefulSet).
DATA_KINDS = ("StatefulSet", "PersistentVolumeClaim", "InnoDBCluster")
# Every store of apps.md, by namespace: the StatefulSets and the InnoDBCluster that must keep their data.
STORES = {
    ("smilr", "mongodb"), ("knote", "mongo"), ("knote", "minio"), ("todo", "todo-mysql"),
    ("fibonacci", "redis-statefulset"), ("fibonacci", "postgres-statefulset"), ("homics", "homics-db"),
    ("homics", "kafka"),
}


@pytest.fixture(scope="module")
def protected():
    return run_stack("dev")  # Pulumi.dev.yaml: dataProtection true


@pytest.fixture(scope="module")
def throwaway():
    return run_stack("dev", overrides={"dataProtection": False})


def _ns_name(resource) -> tuple[str, str]:
    metadata = resource.inputs.get("metadata") or {}
    return metadata.get("namespace", ""), metadata.get("name", "")


def _data_resources(recording):
    return [r for r in recording.kubernetes_resources() if r.inputs.get("kind") in DATA_KINDS]


def _store_secret_names(recording) -> set[tuple[str, str]]:
    """Secrets a store reads its credentials from: pod env/volumes of StatefulSets, an InnoDBCluster's secretName.
    Losing one locks the app out of data initialised with it."""
    names = set()
    for obj in recording.k8s_objects():
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] == "InnoDBCluster":
            names.add((namespace, obj["spec"]["secretName"]))
        if obj["kind"] != "StatefulSet":
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in pod["containers"]:
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    names.add((namespace, ref["name"]))
        for volume in pod.get("volumes") or []:
            if "secret" in volume:
                names.add((namespace, volume["secret"]["secretName"]))
    return names


# Retention ------------------------------------------------------------------------------------------------

def test_every_store_of_the_five_apps_is_a_stateful_resource_of_the_dev_stack(protected):
    found = {_ns_name(r) for r in _data_resources(protected) if r.inputs["kind"] != "PersistentVolumeClaim"}
    assert found == STORES


def test_every_statefulset_keeps_its_claims_when_deleted_or_scaled_down(protected):
    for obj in protected.k8s_objects():
        if obj["kind"] == "StatefulSet":
            policy = obj["spec"].get("persistentVolumeClaimRetentionPolicy")
            assert policy == {"whenDeleted": "Retain", "whenScaled": "Retain"}, obj["metadata"]["name"]


def test_every_storage_class_the_stack_creates_keeps_the_disk_when_its_claim_is_deleted(protected):
    classes = [o for o in protected.k8s_objects() if o["kind"] == "StorageClass"]
    assert {c["metadata"]["name"] for c in classes} == {"managed-retain-disk", "azurefile-retain-rwx"}
    for storage_class in classes:
        assert storage_class["reclaimPolicy"] == "Retain", storage_class["metadata"]["name"]


def test_every_claim_uses_a_storage_class_that_retains_its_volume(protected):
    """No claim falls back to the cluster's default class, whose reclaim policy on AKS is Delete."""
    retained = {o["metadata"]["name"] for o in protected.k8s_objects()
                if o["kind"] == "StorageClass" and o.get("reclaimPolicy") == "Retain"}
    claims = []
    for obj in protected.k8s_objects():
        if obj["kind"] == "StatefulSet":
            claims += [(obj["metadata"]["name"], t["spec"]) for t in obj["spec"].get("volumeClaimTemplates") or []]
        elif obj["kind"] == "PersistentVolumeClaim":
            claims.append((obj["metadata"]["name"], obj["spec"]))
        elif obj["kind"] == "InnoDBCluster":
            claims.append((obj["metadata"]["name"], obj["spec"]["datadirVolumeClaimTemplate"]))
    assert len(claims) >= len(STORES)
    for owner, spec in claims:
        assert spec.get("storageClassName") in retained, f"{owner}: class {spec.get('storageClassName')!r}"


# Pulumi protect --------------------------------------------------------------------------------------------

def test_with_data_protection_every_statefulset_claim_and_mysql_cluster_is_protected(protected):
    unprotected = [f"{r.inputs['kind']} {_ns_name(r)}" for r in _data_resources(protected) if not r.protect]
    assert unprotected == []


def test_with_data_protection_every_namespace_holding_a_store_is_protected(protected):
    """Deleting a namespace deletes every claim in it."""
    holding = {_ns_name(r)[0] for r in _data_resources(protected)}
    namespaces = {r.inputs["metadata"]["name"]: r for r in protected.of_type(NAMESPACE)}
    assert holding <= set(namespaces)
    assert [name for name in sorted(holding) if not namespaces[name].protect] == []


def test_with_data_protection_generated_store_passwords_are_protected(protected):
    """A store keeps the password it was initialised with: a new one would lock its app out."""
    passwords = protected.of_type(RANDOM_PASSWORD)
    assert passwords, "the dev stack generates its store passwords"
    assert [p.name for p in passwords if not p.protect] == []


@pytest.fixture(scope="module")
def protected_plain():
    """Plain Kubernetes Secrets on AKS (`keyVault.enabled: false`), as on an existing cluster."""
    return run_stack("dev", overrides={"keyVault": {"enabled": False}})


def _stored(recording) -> dict[tuple[str, str], list]:
    """Where each Secret's values are kept: the Kubernetes Secret itself, or the vault secrets it is synced from
    (named `<app>-<secret>-<key>`; each of these apps is named like its namespace)."""
    stored: dict[tuple[str, str], list] = {}
    for resource in recording.of_type(SECRET):
        stored.setdefault(_ns_name(resource), []).append(resource)
    for spc in (o for o in recording.k8s_objects() if o["kind"] == "SecretProviderClass"):
        namespace = spc["metadata"]["namespace"]
        for synced in spc["spec"]["secretObjects"]:
            prefix = f"{namespace}-{synced['secretName']}-"
            stored[(namespace, synced["secretName"])] = [
                r for r in recording.of_type(VAULT_SECRET) if r.inputs["secretName"].startswith(prefix)
            ]
    return stored


@pytest.mark.parametrize("variant", ["protected", "protected_plain"])
def test_with_data_protection_the_fibonacci_and_minio_credential_secrets_are_protected(variant, request):
    stored = _stored(request.getfixturevalue(variant))
    for key in (("fibonacci", "pgpassword"), ("knote", "minio-credentials")):
        assert stored[key], key
        assert all(r.protect for r in stored[key]), key


@pytest.mark.parametrize("variant", ["protected", "protected_plain"])
def test_with_data_protection_every_secret_a_store_reads_its_credentials_from_is_protected(variant, request):
    recording = request.getfixturevalue(variant)
    stored = _stored(recording)
    store_secrets = _store_secret_names(recording)
    assert ("todo", "mysqlpwd") in store_secrets
    assert sorted(key for key in store_secrets if not stored.get(key)) == []
    assert sorted(key for key in store_secrets if not all(r.protect for r in stored[key])) == []


def test_with_data_protection_the_key_vault_holding_the_store_passwords_is_protected(protected, throwaway):
    [vault] = protected.of_type("azure-native:keyvault:Vault")
    assert vault.protect is True
    [vault] = throwaway.of_type("azure-native:keyvault:Vault")
    assert vault.protect is False


def test_without_data_protection_nothing_is_protected(throwaway):
    assert [f"{r.type} {r.name}" for r in throwaway.resources if r.protect] == []


def test_data_protection_is_on_by_default_and_in_every_aks_stack_file():
    """Only a throwaway stack (a local cluster) turns it off."""
    assert StackSettings().data_protection is True
    stack_files = sorted(PROJECT_DIR.glob("Pulumi.*.yaml"))
    assert any(f.name == "Pulumi.dev.yaml" for f in stack_files)
    for path in stack_files:
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        if config.get("aks-microservices:platform", "aks") == "aks":
            assert config.get("aks-microservices:dataProtection", True) is True, path.name


# Replacement ------------------------------------------------------------------------------------------------

def test_a_statefulset_replacement_deletes_the_old_set_first_so_the_new_one_adopts_its_retained_claims(protected):
    """Claim templates are immutable: changing one replaces the set. Its name is fixed, so the old set goes
    first; its claims stay (Retain) and the new set adopts them by name. Under dataProtection, `protect` makes
    Pulumi refuse the replacement outright (tests/security/test_data_claim_templates.py explains the safe path)."""
    assert [r.name for r in protected.of_type(STATEFULSET) if not r.delete_before_replace] == []


def test_pulumi_never_deletes_a_shared_claim_it_replaces_or_drops(protected):
    claims = protected.of_type(CLAIM)
    assert claims, "the Fibonacci Redis claim shared-redis-pvc"
    assert [r.name for r in claims if not (r.retain_on_delete and r.delete_before_replace)] == []
