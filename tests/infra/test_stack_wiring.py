"""The whole dev stack on AKS: one Kubernetes provider from the cluster's credentials, kept secret; storage classes."""

from __future__ import annotations

import pytest
import yaml
from infra_runs import NO_APPS, platform_only

PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def dev(dev_stack):
    return dev_stack


@pytest.fixture(scope="module")
def cluster_provider(dev):
    [provider] = dev.of_type(PROVIDER)
    return provider


def test_every_kubernetes_resource_of_the_stack_uses_the_clusters_provider(dev, cluster_provider):
    kubernetes = [r for r in dev.resources if r.custom and r.type.startswith("kubernetes:")]
    assert len(kubernetes) > 20  # the apps are in it, not only the platform
    assert {r.provider_urn for r in kubernetes} == {cluster_provider.urn}


def test_the_provider_is_built_from_the_clusters_user_credentials_and_kept_secret(dev, cluster_provider):
    assert "kubeconfig" in cluster_provider.secret_paths
    kubeconfig = yaml.safe_load(cluster_provider.inputs["kubeconfig"])
    assert kubeconfig["kind"] == "Config"
    cluster_name = dev.stack_outputs["clusterName"]
    # listManagedClusterUserCredentials was asked for this cluster: its kubeconfig names it.
    assert kubeconfig["current-context"] == cluster_name
    assert kubeconfig["clusters"][0]["cluster"]["server"].startswith(f"https://{cluster_name}-")


def test_kubeconfig_is_exported_only_as_a_secret(dev, cluster_provider):
    assert "kubeconfig" in dev.secret_output_names
    assert dev.stack_outputs["kubeconfig"] == cluster_provider.inputs["kubeconfig"]


def test_stores_get_a_retained_azure_disk_class_that_binds_where_the_pod_runs(dev):
    disk = dev.k8s("StorageClass", "managed-retain-disk")
    assert disk["provisioner"] == "disk.csi.azure.com"
    assert disk["volumeBindingMode"] == "WaitForFirstConsumer"
    assert disk["reclaimPolicy"] == "Retain"
    assert disk["allowVolumeExpansion"] is True
    assert disk["parameters"]["skuName"] == "StandardSSD_LRS"


def test_shared_volumes_get_a_retained_premium_azure_files_class_that_non_root_pods_can_write(dev):
    files = dev.k8s("StorageClass", "azurefile-retain-rwx")
    assert files["provisioner"] == "file.csi.azure.com"
    assert files["parameters"]["skuName"] == "Premium_LRS"
    assert files["reclaimPolicy"] == "Retain"
    options = set(files["mountOptions"])
    assert {"dir_mode=0777", "file_mode=0777", "mfsymlinks", "cache=strict", "nosharesock"} <= options


def test_storage_classes_carry_the_recommended_labels(dev):
    for name in ("managed-retain-disk", "azurefile-retain-rwx"):
        labels = dev.k8s("StorageClass", name)["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == name
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert {"app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/part-of"} <= set(labels)


def test_apps_are_told_the_storage_class_names_and_the_classes_exist_first():
    recording = platform_only(
        {**NO_APPS, "storage": {"perReplicaClassName": "fast-disk", "sharedClassName": "shared-files", "sharedMountUid": 999, "sharedMountGid": 999}}
    )
    platform, _ = recording.value
    assert recording.resolve(platform.per_replica_storage_class) == "fast-disk"
    assert recording.resolve(platform.shared_storage_class) == "shared-files"
    assert {"uid=999", "gid=999"} <= set(recording.k8s("StorageClass", "shared-files")["mountOptions"])
    [provider] = recording.of_type(PROVIDER)
    assert {r.provider_urn for r in recording.kubernetes_resources()} == {provider.urn}
