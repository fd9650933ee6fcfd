"""The Azure Container Registry: pull access for the cluster, and artifact-cache rules for public images."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization, containerregistry

from infra.images import CacheRuleSpec
from infra.network import StackNetwork
from infra.private_link import PrivateLink
from settings.platform import RegistrySettings

# The private-link sub-resource of a registry and its DNS zone
# (https://learn.microsoft.com/azure/private-link/private-endpoint-dns#containers).
REGISTRY_GROUP_ID = "registry"
REGISTRY_DNS_ZONE = "privatelink.azurecr.io"
# Built-in role definition ids (the same in every tenant).
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
KEY_VAULT_SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"


def role_definition_id(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role
    )


class ContainerRegistry(pulumi.ComponentResource):
    """An ACR without admin user, readable by the cluster's kubelet, caching the apps' public repositories."""

    registry: containerregistry.Registry
    acr_pull: authorization.RoleAssignment
    cache_rules: dict[str, containerregistry.CacheRule]
    # The private endpoint with its DNS zone (registry.privateEndpoint), else None.
    private_link: PrivateLink | None

    def __init__(
        self,
        name: str,
        *,
        settings: RegistrySettings,
        resource_group_name: pulumi.Input[str],
        resource_group_id: pulumi.Output[str],
        location: str,
        tags: Mapping[str, str],
        kubelet_object_id: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        rules: Mapping[str, CacheRuleSpec],
        network: StackNetwork,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("aks-microservices:infra:ContainerRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Registry names are global and alphanumeric only (auto-naming would add a '-'): unless one is
        # configured, derive a stable one from the resource group's id (subscription + group).
        registry_name = settings.name or resource_group_id.apply(
            lambda rg_id: "aksregistry" + hashlib.sha256(rg_id.lower().encode()).hexdigest()[:10]
        )
        self.registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=registry_name,
            resource_group_name=resource_group_name,
            location=location,
            sku=containerregistry.SkuArgs(name=settings.sku),
            # Pulls use the kubelet's managed identity; no shared admin password exists.
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Enabled" if settings.public_network_access else "Disabled",
            zone_redundancy="Enabled" if settings.zone_redundancy else "Disabled",
            policies=_premium_policies(settings),
            tags=dict(tags),
            opts=child,
        )
        self.private_link = None
        if settings.private_endpoint:
            # Nodes pull over the VNet: the login server and its data endpoint resolve to the endpoint's addresses.
            self.private_link = PrivateLink(
                f"{name}-private-link",
                network.private_link_args(
                    target_id=self.registry.id, group_id=REGISTRY_GROUP_ID, dns_zone_name=REGISTRY_DNS_ZONE
                ),
                opts=child,
            )
        self.acr_pull = authorization.RoleAssignment(
            f"{name}-acr-pull",
            principal_id=kubelet_object_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(subscription_id, ACR_PULL_ROLE),
            scope=self.registry.id,
            description="AKS kubelet pulls images from the stack's registry.",
            opts=child,
        )
        credential_set, credential_reader = self._credential_set(
            name, settings, resource_group_name, subscription_id, child
        )
        rule_opts = pulumi.ResourceOptions(parent=self, depends_on=[credential_reader] if credential_reader else None)
        self.cache_rules = {
            upstream: containerregistry.CacheRule(
                f"{name}-cache-{rule.name}",
                cache_rule_name=rule.name,
                registry_name=self.registry.name,
                resource_group_name=resource_group_name,
                source_repository=rule.source_repository,
                target_repository=rule.target_repository,
                # Docker Hub credentials raise its anonymous pull limit; other upstreams are pulled anonymously.
                credential_set_resource_id=credential_set.id if credential_set and rule.from_docker_hub else None,
                opts=rule_opts,
            )
            for upstream, rule in rules.items()
        }
        self.register_outputs({"loginServer": self.registry.login_server})

    def _credential_set(
        self,
        name: str,
        settings: RegistrySettings,
        resource_group_name: pulumi.Input[str],
        subscription_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> tuple[containerregistry.CredentialSet | None, authorization.RoleAssignment | None]:
        credentials = settings.credential_set
        if not credentials.configured:
            return None, None
        credential_set = containerregistry.CredentialSet(
            f"{name}-docker-hub-credentials",
            credential_set_name="docker-hub",
            registry_name=self.registry.name,
            resource_group_name=resource_group_name,
            login_server="docker.io",
            # The credential set reads its Key Vault secrets with its own identity.
            identity=containerregistry.IdentityPropertiesArgs(type=containerregistry.ResourceIdentityType.SYSTEM_ASSIGNED),
            auth_credentials=[
                containerregistry.AuthCredentialArgs(
                    name=containerregistry.CredentialName.CREDENTIAL1,
                    username_secret_identifier=credentials.username_secret_id,
                    password_secret_identifier=credentials.password_secret_id,
                )
            ],
            opts=opts,
        )
        reader = authorization.RoleAssignment(
            f"{name}-docker-hub-credentials-reader",
            principal_id=credential_set.identity.apply(lambda identity: identity.principal_id),
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(subscription_id, KEY_VAULT_SECRETS_USER_ROLE),
            scope=credentials.key_vault_id,
            description="ACR credential set reads the Docker Hub credentials.",
            opts=opts,
        )
        return credential_set, reader


def _premium_policies(settings: RegistrySettings) -> containerregistry.PoliciesArgs | None:
    """Retention, export and quarantine policies: Premium features (settings reject them on other SKUs)."""
    if settings.sku != "Premium":
        return None
    retention = settings.retention_days
    return containerregistry.PoliciesArgs(
        retention_policy=containerregistry.RetentionPolicyArgs(
            status="enabled" if retention is not None else "disabled", days=retention
        ),
        export_policy=containerregistry.ExportPolicyArgs(status="enabled" if settings.exports_allowed else "disabled"),
        quarantine_policy=containerregistry.QuarantinePolicyArgs(status="enabled" if settings.quarantine else "disabled"),
    )
