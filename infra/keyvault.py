"""The stack's Key Vault, and each app's way into it: a workload identity and a SecretProviderClass.

The vault authorizes with Azure RBAC only (no access policies). Each app that reads secrets gets a
user-assigned identity, federated with the ServiceAccounts of exactly the pods that read them (subject
`system:serviceaccount:<namespace>:<account>`, the cluster's OIDC issuer) and granted `Key Vault Secrets
User` on this vault only. Its pods mount the app's SecretProviderClass through the Secrets Store CSI driver
(the cluster's `azureKeyvaultSecretsProvider` add-on), which syncs the Kubernetes Secrets the apps and the
MySQL operator read by name while a pod mounts the volume.

Sources of the shapes: the Azure provider's SecretProviderClass parameters
(https://learn.microsoft.com/azure/aks/csi-secrets-store-identity-access, workload identity section) and the
driver's `secretObjects`
(https://secrets-store-csi-driver.sigs.k8s.io/topics/sync-as-kubernetes-secret).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import authorization, keyvault, managedidentity

from components import SecretStoreVolume
from components.labels import recommended_labels
from infra.network import StackNetwork
from infra.platform import SecretShape, check_provided
from infra.private_link import PrivateLink
from infra.registry import KEY_VAULT_SECRETS_USER_ROLE, role_definition_id
from settings.platform import KeyVaultSettings

VAULT_GROUP_ID = "vault"
VAULT_DNS_ZONE = "privatelink.vaultcore.azure.net"
# The audience AKS workload identity tokens are exchanged for (Entra ID's token exchange).
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
# The Azure Workload Identity webhook's contract (https://azure.github.io/azure-workload-identity/docs/).
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"
SECRET_PROVIDER_CLASS = "key-vault-secrets"
SECRET_PROVIDER_API_VERSION = "secrets-store.csi.x-k8s.io/v1"


def vault_secret_name(app: str, secret: str, key: str) -> str:
    """Key Vault secret names allow letters, digits and '-' only (1-127)."""
    return re.sub(r"[^a-zA-Z0-9-]+", "-", f"{app}-{secret}-{key}")[:127]


def object_alias(secret: str, key: str) -> str:
    """The file the driver writes for one key (unique within the mount)."""
    return f"{secret}.{key}"


def provider_objects(app: str, secrets: Mapping[str, SecretShape]) -> str:
    """The Azure provider's `objects` parameter: a YAML string holding an array of YAML strings."""
    entries = [
        f"  - |\n    objectName: {vault_secret_name(app, name, key)}\n    objectType: secret\n"
        f"    objectAlias: {object_alias(name, key)}\n"
        for name, shape in secrets.items()
        for key in shape.keys
    ]
    return "array:\n" + "".join(entries)


class StackKeyVault(pulumi.ComponentResource):
    """The vault: RBAC authorization, soft delete, purge protection as configured."""

    vault: keyvault.Vault
    vault_name: pulumi.Output[str]
    tenant_id: pulumi.Output[str]

    def __init__(self, name: str, *, settings: KeyVaultSettings, resource_group_name: pulumi.Input[str],
                 resource_group_id: pulumi.Output[str], location: str, tags: Mapping[str, str],
                 tenant_id: pulumi.Input[str], protect: bool, network: StackNetwork,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-microservices:infra:StackKeyVault", name, None, opts)
        # Vault names are global (3-24 characters): unless configured, derived from the resource group's id.
        vault_name = settings.name or resource_group_id.apply(
            lambda rg_id: "kv" + hashlib.sha256(rg_id.lower().encode()).hexdigest()[:16]
        )
        self.vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=vault_name,
            resource_group_name=resource_group_name,
            location=location,
            tags=dict(tags),
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant_id,
                sku=keyvault.SkuArgs(family="A", name=settings.sku),
                # Azure RBAC decides who reads which secret; no access policies.
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=settings.soft_delete_retention_in_days,
                # Azure refuses `false` here (purge protection is irreversible): unset means off.
                enable_purge_protection=True if settings.purge_protection else None,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
                public_network_access="Enabled" if settings.public_network_access else "Disabled",
                # Without public access nothing but the private endpoint gets in; ARM (pulumi up) is not affected.
                network_acls=keyvault.NetworkRuleSetArgs(
                    default_action="Allow" if settings.public_network_access else "Deny", bypass="None"
                ),
            ),
            # The vault holds the stores' passwords: it lives as long as their data.
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.private_link = None
        if settings.private_endpoint:
            # The nodes' CSI provider reaches `<vault>.vault.azure.net` at the endpoint's address in the VNet.
            self.private_link = PrivateLink(
                f"{name}-private-link",
                network.private_link_args(target_id=self.vault.id, group_id=VAULT_GROUP_ID, dns_zone_name=VAULT_DNS_ZONE),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.vault_name = self.vault.name
        self.tenant_id = pulumi.Output.from_input(tenant_id)
        self.register_outputs({"vaultName": self.vault.name, "vaultUri": self.vault.properties.vault_uri})


class KeyVaultAppSecrets(pulumi.ComponentResource):
    """One app's secrets in the stack's vault (`AppSecrets` on AKS with `keyVault`).

    Children: `<name>-identity` (user-assigned identity), `<name>-federation-<account>` per reading
    ServiceAccount, `<name>-secrets-user` (role assignment on the vault), `<name>-provider-class`
    (SecretProviderClass `key-vault-secrets`) and, per `provide`, one vault secret per key."""

    volume: SecretStoreVolume

    def __init__(self, name: str, *, app: str, namespace: str, secrets: Mapping[str, SecretShape],
                 readers: Sequence[str], vault: StackKeyVault, oidc_issuer_url: pulumi.Input[str],
                 resource_group_name: pulumi.Input[str], location: str, tags: Mapping[str, str],
                 subscription_id: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None):
        if not readers:
            raise ValueError(f"app secrets of {app}: at least one reading ServiceAccount is needed")
        super().__init__("aks-microservices:infra:KeyVaultAppSecrets", name, None, opts)
        self._name = name
        self._app = app
        self._secrets = dict(secrets)
        self._vault = vault
        self._resource_group_name = resource_group_name
        child = pulumi.ResourceOptions(parent=self)
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=f"id-{app}-secrets",
            resource_group_name=resource_group_name,
            location=location,
            tags=dict(tags),
            opts=child,
        )
        # One federated credential per reading account: no other pod can exchange its token for this identity.
        # One after the other: Azure refuses concurrent federated credential writes on one identity.
        federations: list[managedidentity.FederatedIdentityCredential] = []
        for account in readers:
            federations.append(managedidentity.FederatedIdentityCredential(
                f"{name}-federation-{account}",
                federated_identity_credential_resource_name=account,
                resource_name_=self.identity.name,
                resource_group_name=resource_group_name,
                issuer=oidc_issuer_url,
                subject=f"system:serviceaccount:{namespace}:{account}",
                audiences=[WORKLOAD_IDENTITY_AUDIENCE],
                opts=pulumi.ResourceOptions(parent=self, depends_on=federations[-1:]),
            ))
        grant = authorization.RoleAssignment(
            f"{name}-secrets-user",
            principal_id=self.identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=role_definition_id(subscription_id, KEY_VAULT_SECRETS_USER_ROLE),
            scope=vault.vault.id,
            description=f"The {app} app's pods read its secrets from the stack's vault.",
            opts=child,
        )
        labels = recommended_labels(name=SECRET_PROVIDER_CLASS, instance=app, component="secrets", part_of=app)
        self.provider_class = k8s.apiextensions.CustomResource(
            f"{name}-provider-class",
            api_version=SECRET_PROVIDER_API_VERSION,
            kind="SecretProviderClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_PROVIDER_CLASS, namespace=namespace, labels=labels),
            spec={
                "provider": "azure",
                "parameters": {
                    "usePodIdentity": "false",
                    # A client id here selects workload identity: the driver exchanges the pod's token for it.
                    "clientID": self.identity.client_id,
                    "keyvaultName": vault.vault_name,
                    "tenantId": vault.tenant_id,
                    "objects": provider_objects(app, secrets),
                },
                # Synced only while a pod mounts the volume; deleted by the driver when the last one goes.
                "secretObjects": [
                    {
                        "secretName": secret,
                        "type": "Opaque",
                        "labels": dict(shape.labels),
                        "data": [{"objectName": object_alias(secret, key), "key": key} for key in shape.keys],
                    }
                    for secret, shape in secrets.items()
                ],
            },
            # Pods mounting the class wait for the identity to be federated and granted (and, with a private
            # endpoint, for the vault's name to resolve to it).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[
                *federations, grant, *([vault.private_link.dns_zone_group] if vault.private_link else []),
            ]),
        )
        self.volume = SecretStoreVolume(
            provider_class=self.provider_class.metadata.apply(lambda metadata: metadata["name"]),
            pod_labels={USE_LABEL: "true"},
            service_account_annotations={CLIENT_ID_ANNOTATION: self.identity.client_id},
        )
        self.register_outputs({"clientId": self.identity.client_id})

    def provide(self, resource_name: str, *, name: str, data: Mapping[str, pulumi.Input[str]],
                opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """One vault secret per key of Secret `name`; returns the name, settled once every value is stored.

        `resource_name` names the Kubernetes Secret elsewhere; the vault secrets are children of this component,
        named `<name>-<secret>-<key>`, protected as `opts` asks."""
        check_provided(self._secrets, name, data)
        stored = [
            keyvault.Secret(
                f"{self._name}-{name}-{key.lower().replace('_', '-')}",
                secret_name=vault_secret_name(self._app, name, key),
                vault_name=self._vault.vault_name,
                resource_group_name=self._resource_group_name,
                properties=keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value), content_type="text/plain"),
                opts=pulumi.ResourceOptions(parent=self, protect=opts.protect),
            )
            for key, value in data.items()
        ]
        return pulumi.Output.all(*(secret.id for secret in stored)).apply(lambda _: name)
