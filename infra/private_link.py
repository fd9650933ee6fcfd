"""A private endpoint to an Azure service, with the private DNS zone that makes its name resolve to it.

Per Azure's private endpoint DNS guidance (https://learn.microsoft.com/azure/private-link/private-endpoint-dns):
the endpoint's NIC gets an address in the subnet, a private DNS zone named for the service
(`privatelink.azurecr.io`, `privatelink.vaultcore.azure.net`) is linked to the VNet, and the endpoint's DNS
zone group writes the service's records into that zone, so the service's public name resolves to the
private address from inside the VNet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import network, privatedns


@dataclass(frozen=True)
class PrivateLinkArgs:
    """`target_id`: the ARM id of the service; `group_id`: its private-link sub-resource (`registry`, `vault`);
    `dns_zone_name`: the service's private-link zone. `StackNetwork.private_link_args` fills in the rest."""

    target_id: pulumi.Input[str]
    group_id: str
    dns_zone_name: str
    subnet_id: pulumi.Input[str]
    virtual_network_id: pulumi.Input[str]
    resource_group_name: pulumi.Input[str]
    location: str
    tags: Mapping[str, str] = field(default_factory=dict)


class PrivateLink(pulumi.ComponentResource):
    """`endpoint` in the subnet, `dns_zone` linked to the VNet by `vnet_link`, records by `dns_zone_group`."""

    dns_zone: privatedns.PrivateZone
    vnet_link: privatedns.VirtualNetworkLink
    endpoint: network.PrivateEndpoint
    dns_zone_group: network.PrivateDnsZoneGroup

    def __init__(self, name: str, args: PrivateLinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-microservices:infra:PrivateLink", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.dns_zone = privatedns.PrivateZone(
            f"{name}-dns-zone",
            private_zone_name=args.dns_zone_name,
            resource_group_name=args.resource_group_name,
            location="global",  # private DNS zones are global resources
            tags=tags,
            opts=child,
        )
        self.vnet_link = privatedns.VirtualNetworkLink(
            f"{name}-vnet-link",
            private_zone_name=self.dns_zone.name,
            resource_group_name=args.resource_group_name,
            location="global",
            virtual_network=privatedns.SubResourceArgs(id=args.virtual_network_id),
            # Resolution only: the VMs of the VNet do not register their own names in a service's zone.
            registration_enabled=False,
            tags=tags,
            opts=child,
        )
        self.endpoint = network.PrivateEndpoint(
            f"{name}-endpoint",
            resource_group_name=args.resource_group_name,
            location=args.location,
            subnet=network.SubnetArgs(id=args.subnet_id),
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=f"{name}-{args.group_id}",
                    private_link_service_id=args.target_id,
                    group_ids=[args.group_id],
                )
            ],
            tags=tags,
            opts=child,
        )
        self.dns_zone_group = network.PrivateDnsZoneGroup(
            f"{name}-dns-zone-group",
            private_dns_zone_group_name="default",
            private_endpoint_name=self.endpoint.name,
            resource_group_name=args.resource_group_name,
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(name=args.dns_zone_name.replace(".", "-"), private_dns_zone_id=self.dns_zone.id)
            ],
            # Records resolve only once the zone is linked to the VNet.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.vnet_link]),
        )
        self.register_outputs({"endpointId": self.endpoint.id, "dnsZoneId": self.dns_zone.id})
