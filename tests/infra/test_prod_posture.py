"""Production posture on Azure: each setting's effect on what dev and prod register, and its bad combinations.

Prod: private API server, encryption at host, ephemeral OS disks, explicit maxPods, Azure Policy, Defender,
Image Cleaner, a Premium zone-redundant registry reached only over its private endpoint. Dev: the cheap side
of each, still usable from a laptop.
"""

from __future__ import annotations

import pytest
from infra_runs import NO_APPS, main_until_error

from offline.engine import run_stack

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
WORKSPACE = "azure-native:operationalinsights:Workspace"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
VNET = "azure-native:network:VirtualNetwork"
N = "aks-microservices"


def only(recording, type_):
    [resource] = recording.of_type(type_)
    return resource


def registry_link(recording, type_):
    """The one resource of `type_` in the registry's private link (the Key Vault has its own)."""
    [resource] = [r for r in recording.of_type(type_) if r.name.startswith("aks-registry-")]
    return resource


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev", overrides=NO_APPS)


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod", overrides=NO_APPS)


def pools(recording) -> dict[str, dict]:
    """Both node pools' inputs by name: the system pool inside the cluster, the user pool as its own resource."""
    [system] = only(recording, CLUSTER).inputs["agentPoolProfiles"]
    user = only(recording, AGENT_POOL).inputs
    return {"system": system, "user": user}


# API server ------------------------------------------------------------------------------------------------

def test_prod_api_server_is_private_with_an_aks_managed_private_dns_zone(prod):
    access = only(prod, CLUSTER).inputs["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True
    assert access["privateDNSZone"] == "system"
    assert access["enablePrivateClusterPublicFQDN"] is False
    assert "authorizedIPRanges" not in access


def test_prod_api_server_has_only_a_private_name(prod):
    outputs = only(prod, CLUSTER).outputs
    assert outputs["privateFQDN"].endswith(".privatelink.westeurope.azmk8s.io")
    assert "fqdn" not in outputs


def test_dev_api_server_is_public_so_a_laptop_reaches_it(dev):
    access = only(dev, CLUSTER).inputs["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False}
    assert only(dev, CLUSTER).outputs["fqdn"].endswith(".hcp.westeurope.azmk8s.io")


def test_authorized_ip_ranges_restrict_a_public_api_server():
    recording = run_stack("dev", overrides={**NO_APPS, "cluster": {"authorizedIpRanges": ["203.0.113.0/28"]}})
    access = only(recording, CLUSTER).inputs["apiServerAccessProfile"]
    assert access == {"enablePrivateCluster": False, "authorizedIPRanges": ["203.0.113.0/28"]}


# Nodes -------------------------------------------------------------------------------------------------------

def test_prod_pools_encrypt_at_host_on_ephemeral_os_disks_that_fit_the_temp_disk(prod):
    for name, pool in pools(prod).items():
        assert pool["enableEncryptionAtHost"] is True, name
        assert pool["osDiskType"] == "Ephemeral", name
        # Standard_D4ds_v5: a 150 GiB temp disk holds the 128 GiB OS disk.
        assert (pool["vmSize"], pool["osDiskSizeGB"]) == ("Standard_D4ds_v5", 128), name
        assert pool["availabilityZones"] == ["1", "2", "3"], name


def test_dev_pools_use_managed_os_disks_without_host_encryption(dev):
    for name, pool in pools(dev).items():
        assert pool["enableEncryptionAtHost"] is False, name
        assert pool["osDiskType"] == "Managed", name
        assert pool["availabilityZones"] == ["1", "2", "3"], name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_pools_set_max_pods_explicitly(stack, dev, prod):
    recording = {"dev": dev, "prod": prod}[stack]
    assert {pool["maxPods"] for pool in pools(recording).values()} == {110}


def test_max_pods_setting_reaches_both_pools():
    recording = run_stack("dev", overrides={**NO_APPS, "cluster": {"maxPods": 60}})
    assert {pool["maxPods"] for pool in pools(recording).values()} == {60}


def test_prod_runs_azure_policy_and_defender_reporting_to_the_stacks_workspace(prod):
    cluster = only(prod, CLUSTER).inputs
    assert cluster["addonProfiles"]["azurepolicy"] == {"enabled": True}
    defender = cluster["securityProfile"]["defender"]
    assert defender["securityMonitoring"] == {"enabled": True}
    assert defender["logAnalyticsWorkspaceResourceId"] == only(prod, WORKSPACE).outputs["id"]


def test_dev_runs_neither_azure_policy_nor_defender(dev):
    cluster = only(dev, CLUSTER).inputs
    assert "azurepolicy" not in cluster["addonProfiles"]
    assert "defender" not in cluster["securityProfile"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_image_cleaner_runs_weekly(stack, dev, prod):
    recording = {"dev": dev, "prod": prod}[stack]
    assert only(recording, CLUSTER).inputs["securityProfile"]["imageCleaner"] == {"enabled": True, "intervalHours": 168}


def test_image_cleaner_is_off_when_its_interval_is_null():
    recording = run_stack("dev", overrides={**NO_APPS, "cluster": {"imageCleanerIntervalHours": None}})
    assert only(recording, CLUSTER).inputs["securityProfile"]["imageCleaner"] == {"enabled": False}


# Registry ----------------------------------------------------------------------------------------------------

def test_prod_registry_is_premium_zone_redundant_off_the_internet_with_retention_and_no_exports(prod):
    registry = only(prod, REGISTRY).inputs
    assert registry["sku"] == {"name": "Premium"}
    assert registry["publicNetworkAccess"] == "Disabled"
    assert registry["zoneRedundancy"] == "Enabled"
    assert registry["policies"] == {
        "retentionPolicy": {"status": "enabled", "days": 30},
        "exportPolicy": {"status": "disabled"},
        # Quarantine would hold the cache rules' images (nothing marks them Passed).
        "quarantinePolicy": {"status": "disabled"},
    }


def test_prod_registry_is_reached_over_a_private_endpoint_whose_zone_is_linked_to_the_vnet(prod):
    registry = only(prod, REGISTRY)
    endpoint = registry_link(prod, ENDPOINT).inputs
    [connection] = endpoint["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"] == registry.outputs["id"]
    assert connection["groupIds"] == ["registry"]
    zone = registry_link(prod, ZONE)
    assert zone.inputs["privateZoneName"] == "privatelink.azurecr.io"
    assert registry_link(prod, ZONE_LINK).inputs["virtualNetwork"]["id"] == only(prod, VNET).outputs["id"]
    assert registry_link(prod, ZONE_GROUP).inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.outputs["id"]


def test_dev_registry_is_basic_and_public_without_an_endpoint(dev):
    registry = only(dev, REGISTRY).inputs
    assert registry["sku"] == {"name": "Basic"}
    assert registry["publicNetworkAccess"] == "Enabled"
    assert registry["zoneRedundancy"] == "Disabled"
    assert "policies" not in registry  # retention, export and quarantine policies are Premium features
    assert dev.of_type(ENDPOINT) == [] and dev.of_type(ZONE) == []


def test_prod_pods_pull_through_the_cache_only_once_the_registry_resolves_privately():
    recording = run_stack("prod", overrides={"apps": {app: {"enabled": app == "knote"}
                                                      for app in ("smilr", "knote", "todo", "fibonacci", "homics")}})
    login_server = only(recording, REGISTRY).outputs["loginServer"]
    zone_group = registry_link(recording, ZONE_GROUP).urn
    [knote] = [r for r in recording.resources if r.type == "kubernetes:apps/v1:Deployment"
               and r.inputs["metadata"]["name"] == "knote"]
    [container] = knote.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{login_server}/learnk8s/knote-js:2.0.0"
    assert zone_group in knote.dependencies


# Bad combinations: one line each, before anything is registered ----------------------------------------------

ERRORS = [
    (
        {"cluster": {"userPool": {"osDiskType": "Ephemeral"}}},
        f'{N}:cluster.userPool.osDiskType: expected Managed with vmSize Standard_D4s_v5 (it has no cache or temp disk '
        'for an ephemeral OS disk; pick a size with a `d`, e.g. Standard_D4ds_v5), got "Ephemeral"',
    ),
    (
        {"cluster": {"systemPool": {"vmSize": "Standard_D2ds_v5", "osDiskType": "Ephemeral", "osDiskSizeGb": 128}}},
        f"{N}:cluster.systemPool.osDiskSizeGb: expected at most 75 for an ephemeral OS disk on Standard_D2ds_v5 "
        "(its cache or temp disk), got 128",
    ),
    (
        {"cluster": {"privateCluster": True, "authorizedIpRanges": ["203.0.113.0/28"]}},
        f"{N}:cluster.authorizedIpRanges: expected [] when cluster.privateCluster is true (a private API server has "
        "no public endpoint to restrict), got ['203.0.113.0/28']",
    ),
    (
        {"cluster": {"authorizedIpRanges": ["203.0.113.1/28"]}},
        f'{N}:cluster.authorizedIpRanges: expected a list of an IPv4 CIDR range such as "10.240.0.0/16" (no host bits '
        "set) without duplicates, got ['203.0.113.1/28']",
    ),
    (
        {"cluster": {"defender": True}, "monitoring": {"containerInsights": False}},
        f"{N}:cluster.defender: expected false unless monitoring.containerInsights is true (Defender reports to its "
        "workspace), got True",
    ),
    (
        {"cluster": {"maxPods": 500}},
        f"{N}:cluster.maxPods: expected an integer from 30 to 250, got 500",
    ),
    (
        {"registry": {"privateEndpoint": True}},
        f"{N}:registry.privateEndpoint: expected its default unless registry.sku is Premium (got sku Basic), got True",
    ),
    (
        {"registry": {"retentionDays": 7}},
        f"{N}:registry.retentionDays: expected its default unless registry.sku is Premium (got sku Basic), got 7",
    ),
    (
        {"registry": {"sku": "Premium", "publicNetworkAccess": False}},
        f"{N}:registry.publicNetworkAccess: expected true unless registry.privateEndpoint is true (nodes could not "
        "pull), got False",
    ),
    (
        {"registry": {"sku": "Premium", "exportsAllowed": False}},
        f"{N}:registry.exportsAllowed: expected true unless registry.publicNetworkAccess is false (Azure refuses it), "
        "got False",
    ),
    (
        {"registry": {"sku": "Premium", "quarantine": True}},
        f"{N}:registry.quarantine: expected false while registry.cacheImages is true (cached images would stay "
        "quarantined: nothing marks them Passed), got True",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS, ids=[m.split(":")[1] for _, m in ERRORS])
def test_bad_posture_config_stops_the_program_with_one_line(overrides, message):
    recording, error = main_until_error("dev", overrides)
    assert str(error) == message
    assert recording.resources == []


def test_quarantine_is_accepted_on_premium_once_images_are_not_cached():
    recording = run_stack("dev", overrides={**NO_APPS, "registry": {"sku": "Premium", "quarantine": True, "cacheImages": False}})
    assert only(recording, REGISTRY).inputs["policies"]["quarantinePolicy"] == {"status": "enabled"}
