"""The AKS platform as the dev stack configures it, and as config overrides change it."""

from __future__ import annotations

import pytest
from infra_runs import NO_APPS, platform_only

from offline.engine import run_stack

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"


def only(recording, type_):
    [resource] = recording.of_type(type_)
    return resource


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev", overrides=NO_APPS)


@pytest.fixture(scope="module")
def dev_cluster(dev):
    return only(dev, CLUSTER).inputs


@pytest.fixture(scope="module")
def tuned():
    """A production-like cluster: Standard tier, zones 1-2, autoscaled system pool, Entra ID with Azure RBAC."""
    return platform_only(
        {
            "kubernetesVersion": "1.32",
            "cluster": {
                "nodeCount": 4,
                "zones": ["1", "2"],
                "skuTier": "Standard",
                "upgradeChannel": "stable",
                "nodeOsUpgradeChannel": "SecurityPatch",
                "systemPool": {"vmSize": "Standard_D4ds_v5", "minCount": 3, "maxCount": 6},
                "userPool": {"vmSize": "Standard_D8s_v5", "minCount": 1, "maxCount": 7},
                "entraId": True,
                "azureRbac": True,
                "disableLocalAccounts": True,
            },
            "monitoring": {"containerInsights": False},
            "ingress": {"controllerExposure": "Internal"},
        }
    )


def test_cluster_uses_azure_cni_overlay_with_cilium_enforcing_network_policies(dev_cluster):
    network = dev_cluster["networkProfile"]
    assert network["networkPlugin"] == "azure"
    assert network["networkPluginMode"] == "overlay"
    assert network["networkDataplane"] == "cilium"
    assert network["networkPolicy"] == "cilium"


def test_oidc_issuer_and_workload_identity_are_on(dev, dev_cluster):
    assert dev_cluster["oidcIssuerProfile"] == {"enabled": True}
    assert dev_cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert dev.stack_outputs["oidcIssuerUrl"].startswith("https://")


def test_app_routing_runs_managed_nginx_and_apps_get_its_ingress_class(dev_cluster):
    routing = dev_cluster["ingressProfile"]["webAppRouting"]
    assert routing["enabled"] is True
    assert routing["nginx"]["defaultIngressControllerType"] == "External"
    platform, _ = platform_only(NO_APPS).value
    assert platform.ingress_class == "webapprouting.kubernetes.azure.com"
    assert platform.external_service_type == "LoadBalancer"


def test_key_vault_secrets_provider_addon_is_on_with_rotation(dev_cluster):
    addon = dev_cluster["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert addon["enabled"] is True
    assert addon["config"]["enableSecretRotation"] == "true"


def test_cluster_identity_is_system_assigned_and_rbac_is_on(dev_cluster):
    assert dev_cluster["identity"] == {"type": "SystemAssigned"}
    assert dev_cluster["enableRBAC"] is True


def test_kubernetes_version_is_the_root_setting(dev_cluster, tuned):
    assert dev_cluster["kubernetesVersion"] == "1.33"
    assert only(tuned, CLUSTER).inputs["kubernetesVersion"] == "1.32"


def test_system_pool_has_three_nodes_and_keeps_to_critical_addons_when_a_user_pool_exists(dev_cluster):
    [system] = dev_cluster["agentPoolProfiles"]
    assert system["mode"] == "System"
    assert system["count"] == 3
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["enableAutoScaling"] is False


def test_workloads_get_an_autoscaled_user_pool_in_the_configured_zones(dev, dev_cluster):
    pool = only(dev, AGENT_POOL).inputs
    assert pool["mode"] == "User"
    assert pool["resourceName"] == only(dev, CLUSTER).outputs["name"]
    assert (pool["enableAutoScaling"], pool["minCount"], pool["maxCount"]) == (True, 2, 5)
    # Pulumi.dev.yaml spreads both pools over zones 1-3.
    assert pool["availabilityZones"] == ["1", "2", "3"]
    assert dev_cluster["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    assert "count" in only(dev, AGENT_POOL).ignore_changes


def test_autoscaler_bounds_zones_and_vm_sizes_follow_config(tuned):
    cluster = only(tuned, CLUSTER)
    [system] = cluster.inputs["agentPoolProfiles"]
    assert (system["enableAutoScaling"], system["minCount"], system["maxCount"], system["count"]) == (True, 3, 6, 4)
    assert system["vmSize"] == "Standard_D4ds_v5"
    assert system["availabilityZones"] == ["1", "2"]
    pool = only(tuned, AGENT_POOL).inputs
    assert (pool["minCount"], pool["maxCount"], pool["vmSize"]) == (1, 7, "Standard_D8s_v5")
    assert pool["availabilityZones"] == ["1", "2"]
    # The autoscaler owns the system pool's count once it runs; the stable channel owns the minor version.
    assert "agentPoolProfiles[0].count" in cluster.ignore_changes
    assert "kubernetesVersion" in cluster.ignore_changes


def test_without_a_user_pool_the_system_pool_runs_workloads_untainted():
    recording = platform_only({**NO_APPS, "cluster": {"userPool": {"enabled": False}}})
    [system] = only(recording, CLUSTER).inputs["agentPoolProfiles"]
    assert "nodeTaints" not in system
    assert recording.of_type(AGENT_POOL) == []


def test_sku_tier_and_upgrade_channels_follow_config(dev_cluster, tuned):
    assert dev_cluster["sku"] == {"name": "Base", "tier": "Free"}
    assert dev_cluster["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    cluster = only(tuned, CLUSTER).inputs
    assert cluster["sku"]["tier"] == "Standard"
    assert cluster["autoUpgradeProfile"] == {"upgradeChannel": "stable", "nodeOSUpgradeChannel": "SecurityPatch"}


def test_entra_id_uses_managed_aad_with_azure_rbac_and_no_local_accounts(dev_cluster, tuned):
    assert "aadProfile" not in dev_cluster
    assert dev_cluster["disableLocalAccounts"] is False
    cluster = only(tuned, CLUSTER)
    assert cluster.inputs["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
    assert cluster.inputs["disableLocalAccounts"] is True
    # The deploying identity may manage Kubernetes objects, and the provider waits for that grant.
    [admin] = [r for r in tuned.of_type(ROLE_ASSIGNMENT) if r.inputs["roleDefinitionId"].endswith(AKS_RBAC_CLUSTER_ADMIN)]
    assert admin.inputs["scope"] == cluster.outputs["id"]


def test_entra_id_kubeconfig_gets_tokens_from_the_azure_cli_session_not_a_device_code_prompt(tuned):
    platform, _ = tuned.value
    kubeconfig = tuned.resolve(platform.outputs["kubeconfig"])
    assert "devicecode" not in kubeconfig
    assert "azurecli" in kubeconfig
    assert "kubelogin" in kubeconfig


def test_container_insights_sends_the_cluster_to_its_log_analytics_workspace(dev, dev_cluster):
    workspace = only(dev, "azure-native:operationalinsights:Workspace")
    agent = dev_cluster["addonProfiles"]["omsagent"]
    assert agent["enabled"] is True
    assert agent["config"]["logAnalyticsWorkspaceResourceID"] == workspace.outputs["id"]
    rule = only(dev, "azure-native:monitor:DataCollectionRule").inputs
    assert rule["destinations"]["logAnalytics"][0]["workspaceResourceId"] == workspace.outputs["id"]
    association = only(dev, "azure-native:monitor:DataCollectionRuleAssociation").inputs
    assert association["resourceUri"] == only(dev, CLUSTER).outputs["id"]
    assert association["dataCollectionRuleId"] == only(dev, "azure-native:monitor:DataCollectionRule").outputs["id"]


def test_container_insights_can_be_turned_off_for_cheap_stacks(tuned):
    assert "omsagent" not in only(tuned, CLUSTER).inputs["addonProfiles"]
    assert tuned.of_type("azure-native:operationalinsights:Workspace") == []
    assert tuned.of_type("azure-native:monitor:DataCollectionRule") == []


def test_ingress_controller_exposure_follows_config(tuned):
    routing = only(tuned, CLUSTER).inputs["ingressProfile"]["webAppRouting"]
    assert routing["nginx"]["defaultIngressControllerType"] == "Internal"


def test_everything_lives_in_the_configured_resource_group_region_and_tags(dev):
    group = only(dev, "azure-native:resources:ResourceGroup")
    assert group.inputs["resourceGroupName"] == "rg-aks-microservices-dev"
    assert group.inputs["location"] == "westeurope"
    for resource in dev.resources:
        if resource.type.startswith("azure-native:") and "location" in resource.inputs:
            assert resource.inputs["location"] == "westeurope", resource.name
        if resource.type.startswith("azure-native:") and resource.type != ROLE_ASSIGNMENT and "tags" in resource.inputs:
            assert resource.inputs["tags"]["environment"] == "dev", resource.name
            assert resource.inputs["tags"]["stack"] == "dev", resource.name
    assert only(dev, CLUSTER).inputs["resourceGroupName"] == group.outputs["name"]


def test_cluster_is_protected_while_data_protection_is_on(dev):
    # Deleting the cluster deletes its node resource group, and every store's disk in it.
    assert only(dev, CLUSTER).protect is True
    unprotected = platform_only({**NO_APPS, "dataProtection": False})
    assert only(unprotected, CLUSTER).protect is False


def test_outputs_name_the_cluster_registry_and_resource_group(dev):
    outputs = dev.stack_outputs
    cluster = only(dev, CLUSTER).outputs
    assert outputs["clusterName"] == cluster["name"] == "aks-microservices-dev"
    assert outputs["clusterId"] == cluster["id"]
    assert outputs["resourceGroupName"] == "rg-aks-microservices-dev"
    registry = only(dev, "azure-native:containerregistry:Registry").outputs
    assert outputs["registryLoginServer"] == registry["loginServer"]
    assert outputs["registryLoginServer"].endswith(".azurecr.io")
