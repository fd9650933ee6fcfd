"""The stack-owned VNet: AKS in its node subnet, private endpoints in theirs, overlay ranges clear of both."""

from __future__ import annotations

import ipaddress

import pytest
from infra_runs import NO_APPS, main_until_error

from infra.network import StackNetwork
from infra.private_link import PrivateLink
from offline.engine import run, run_stack
from settings.platform import NetworkSettings

VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
N = "aks-microservices"


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    return run_stack(request.param, overrides=NO_APPS)


def subnets(recording) -> dict[str, dict]:
    return {r.inputs["subnetName"]: r for r in recording.of_type(SUBNET)}


def test_the_stack_owns_one_vnet_with_a_node_subnet_and_a_private_endpoint_subnet(stack):
    [vnet] = stack.of_type(VNET)
    space = ipaddress.ip_network(vnet.inputs["addressSpace"]["addressPrefixes"][0])
    found = subnets(stack)
    assert set(found) == {"nodes", "private-endpoints"}
    for subnet in found.values():
        assert subnet.inputs["virtualNetworkName"] == vnet.outputs["name"]
        assert ipaddress.ip_network(subnet.inputs["addressPrefix"]).subnet_of(space)


def test_both_node_pools_run_in_the_node_subnet_and_keep_their_zones(stack):
    node_subnet_id = subnets(stack)["nodes"].outputs["id"]
    [cluster] = stack.of_type(CLUSTER)
    [system] = cluster.inputs["agentPoolProfiles"]
    [user] = stack.of_type(AGENT_POOL)
    assert system["vnetSubnetID"] == node_subnet_id
    assert user.inputs["vnetSubnetID"] == node_subnet_id
    assert system["availabilityZones"] == user.inputs["availabilityZones"] == ["1", "2", "3"]


def test_overlay_pods_and_services_use_ranges_outside_the_vnet(stack):
    [cluster] = stack.of_type(CLUSTER)
    network = cluster.inputs["networkProfile"]
    [vnet] = stack.of_type(VNET)
    space = ipaddress.ip_network(vnet.inputs["addressSpace"]["addressPrefixes"][0])
    pods, services = ipaddress.ip_network(network["podCidr"]), ipaddress.ip_network(network["serviceCidr"])
    assert network["networkPluginMode"] == "overlay"
    assert not pods.overlaps(space) and not services.overlaps(space) and not pods.overlaps(services)
    assert ipaddress.ip_address(network["dnsServiceIP"]) in services


def test_the_cluster_identity_may_manage_load_balancers_and_nics_in_the_vnet(stack):
    [cluster] = stack.of_type(CLUSTER)
    [vnet] = stack.of_type(VNET)
    [grant] = [r for r in stack.of_type(ROLE_ASSIGNMENT) if r.inputs["roleDefinitionId"].endswith(NETWORK_CONTRIBUTOR)]
    assert grant.inputs["scope"] == vnet.outputs["id"]
    assert grant.inputs["principalId"] == cluster.outputs["identity"]["principalId"]


def test_the_private_endpoint_subnet_is_created_after_the_node_subnet():
    # Azure rejects two subnet operations on one VNet at the same time.
    recording = run_stack("dev", overrides=NO_APPS)
    found = subnets(recording)
    assert found["nodes"].urn in found["private-endpoints"].dependencies


def test_a_private_link_puts_an_endpoint_in_the_subnet_and_its_dns_zone_on_the_vnet():
    def program():
        # What a Key Vault (or any other service) does: its link through the network's helper.
        network = StackNetwork("net", settings=NetworkSettings(), resource_group_name="rg", location="westeurope", tags={})
        PrivateLink(
            "vault-link",
            network.private_link_args(
                target_id="/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
                group_id="vault",
                dns_zone_name="privatelink.vaultcore.azure.net",
            ),
        )

    recording = run(program, stack="dev")
    [zone] = recording.of_type("azure-native:privatedns:PrivateZone")
    [vnet_link] = recording.of_type("azure-native:privatedns:VirtualNetworkLink")
    [endpoint] = recording.of_type("azure-native:network:PrivateEndpoint")
    [group] = recording.of_type("azure-native:network:PrivateDnsZoneGroup")
    [vnet] = recording.of_type(VNET)
    assert zone.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    assert vnet_link.inputs["virtualNetwork"]["id"] == vnet.outputs["id"]
    assert vnet_link.inputs["privateZoneName"] == "privatelink.vaultcore.azure.net"
    assert vnet_link.inputs["registrationEnabled"] is False
    assert endpoint.inputs["subnet"]["id"] == subnets(recording)["private-endpoints"].outputs["id"]
    [connection] = endpoint.inputs["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["vault"]
    assert connection["privateLinkServiceId"].endswith("/vaults/kv")
    assert group.inputs["privateEndpointName"] == endpoint.outputs["name"]
    assert group.inputs["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == zone.outputs["id"]
    assert vnet_link.urn in group.dependencies


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"network": {"nodeSubnetPrefix": "10.1.0.0/22"}},
            f'{N}:network.nodeSubnetPrefix: expected a range inside network.addressSpace (10.240.0.0/16), got "10.1.0.0/22"',
        ),
        (
            {"network": {"privateEndpointSubnetPrefix": "10.240.2.0/24"}},
            f"{N}:network.privateEndpointSubnetPrefix: expected a range that does not overlap network.nodeSubnetPrefix "
            '(10.240.0.0/22), got "10.240.2.0/24"',
        ),
        (
            {"network": {"podCidr": "10.240.128.0/17"}},
            f'{N}:network.podCidr: expected a range that does not overlap network.addressSpace (10.240.0.0/16), got "10.240.128.0/17"',
        ),
        (
            {"network": {"serviceCidr": "10.244.0.0/20", "dnsServiceIp": "10.244.0.10"}},
            f'{N}:network.serviceCidr: expected a range that does not overlap network.podCidr (10.244.0.0/16), got "10.244.0.0/20"',
        ),
        (
            {"network": {"dnsServiceIp": "10.1.0.10"}},
            f'{N}:network.dnsServiceIp: expected an address inside network.serviceCidr (10.0.0.0/16), not its first, got "10.1.0.10"',
        ),
        (
            {"network": {"addressSpace": "10.240.1.0/16"}},
            f'{N}:network.addressSpace: expected an IPv4 CIDR range such as "10.240.0.0/16" (no host bits set), got "10.240.1.0/16"',
        ),
    ],
    ids=lambda value: value.split(":")[1].split(" ")[0] if isinstance(value, str) else None,
)
def test_bad_network_config_stops_the_program_with_one_line(overrides, message):
    recording, error = main_until_error("dev", overrides)
    assert str(error) == message
    assert recording.resources == []
