"""The stack-owned virtual network: a subnet for the node pools and one for private endpoints.

AKS runs in `node_subnet` (Azure CNI overlay: only nodes take VNet addresses, pods get overlay addresses).
Private endpoints of the stack's Azure services (the registry, a Key Vault) go into
`private_endpoint_subnet`; `private_link_args(...)` fills in everything a `PrivateLink` needs from here:

    from infra.private_link import PrivateLink
    PrivateLink(f"{name}-vault-link", network.private_link_args(
        target_id=vault.id, group_id="vault", dns_zone_name="privatelink.vaultcore.azure.net"), opts=child)
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import network

from infra.private_link import PrivateLinkArgs
from settings.platform import NetworkSettings


class StackNetwork(pulumi.ComponentResource):
    """A VNet with `node_subnet` (both node pools) and `private_endpoint_subnet` (private endpoints)."""

    virtual_network: network.VirtualNetwork
    node_subnet: network.Subnet
    private_endpoint_subnet: network.Subnet

    def __init__(
        self,
        name: str,
        *,
        settings: NetworkSettings,
        resource_group_name: pulumi.Input[str],
        location: str,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("aks-microservices:infra:StackNetwork", name, None, opts)
        self._resource_group_name = resource_group_name
        self._location = location
        self._tags = dict(tags)
        self.virtual_network = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=resource_group_name,
            location=location,
            address_space=network.AddressSpaceArgs(address_prefixes=[settings.address_space]),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_subnet = network.Subnet(
            f"{name}-nodes",
            subnet_name="nodes",
            resource_group_name=resource_group_name,
            virtual_network_name=self.virtual_network.name,
            address_prefix=settings.node_subnet_prefix,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.private_endpoint_subnet = network.Subnet(
            f"{name}-private-endpoints",
            subnet_name="private-endpoints",
            resource_group_name=resource_group_name,
            virtual_network_name=self.virtual_network.name,
            address_prefix=settings.private_endpoint_subnet_prefix,
            # Nothing in this subnet initiates connections to the internet.
            default_outbound_access=False,
            # One subnet operation at a time per VNet: Azure rejects concurrent ones (AnotherOperationInProgress).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.node_subnet]),
        )
        self.register_outputs(
            {
                "virtualNetworkId": self.virtual_network.id,
                "nodeSubnetId": self.node_subnet.id,
                "privateEndpointSubnetId": self.private_endpoint_subnet.id,
            }
        )

    def private_link_args(
        self, *, target_id: pulumi.Input[str], group_id: str, dns_zone_name: str
    ) -> PrivateLinkArgs:
        """What a `PrivateLink` to `target_id` needs: its endpoint in `private_endpoint_subnet`, its private
        DNS zone (e.g. `privatelink.azurecr.io`) linked to this VNet, in this network's resource group."""
        return PrivateLinkArgs(
            target_id=target_id,
            group_id=group_id,
            dns_zone_name=dns_zone_name,
            subnet_id=self.private_endpoint_subnet.id,
            virtual_network_id=self.virtual_network.id,
            resource_group_name=self._resource_group_name,
            location=self._location,
            tags=self._tags,
        )
