"""Realistic outputs for every resource type and function the program uses.

The offline engine answers for the Pulumi engine and the providers. Inputs are echoed as outputs (as a
provider would after create) and the values a real provider computes are filled in with plausible,
clearly-offline values so that dependent values resolve instead of staying unknown:

- ids shaped like the provider's (`<namespace>/<name>` for Kubernetes, ARM ids for Azure);
- Azure: resource names and ARM ids (child and extension resources nested like ARM nests them), the ACR
  login server, system-assigned identities, the AKS kubelet and add-on identities, OIDC issuer, FQDN,
  versions, and the kubeconfig returned by `listManagedClusterUserCredentials` (a kubelogin exec
  kubeconfig for `format: exec`, as Entra ID clusters return); user-assigned identities' client and principal
  ids, the Key Vault URI, the backup extension's identity, the Azure Monitor workspace's query endpoint;
- Kubernetes: LoadBalancer Services get an address from TEST-NET-3 (203.0.113.0/24, RFC 5737), which
  never routes, so nobody mistakes it for a real endpoint;
- pulumi-random: `RandomPassword.result` is a fresh random string per run and stays a Pulumi secret.

Every generated secret value is remembered in `secret_values` so that the render can prove none leaks.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import random
import secrets
import string

import pulumi

SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
OFFLINE_LB_PREFIX = "203.0.113."


def _digest(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _uuid_from(*parts: str) -> str:
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# The input that names an Azure resource, per type; without it the provider auto-names from the logical name.
_AZURE_NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:containerservice:AgentPool": "agentPoolName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:containerregistry:CacheRule": "cacheRuleName",
    "azure-native:containerregistry:CredentialSet": "credentialSetName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:monitor:DataCollectionRule": "dataCollectionRuleName",
    "azure-native:monitor:DataCollectionRuleAssociation": "associationName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:keyvault:Secret": "secretName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "azure-native:operationsmanagement:Solution": "solutionName",
    "azure-native:dataprotection:BackupVault": "vaultName",
    "azure-native:dataprotection:BackupPolicy": "backupPolicyName",
    "azure-native:dataprotection:BackupInstance": "backupInstanceName",
    "azure-native:kubernetesconfiguration:Extension": "extensionName",
    "azure-native:containerservice:TrustedAccessRoleBinding": "trustedAccessRoleBindingName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:monitor:AzureMonitorWorkspace": "azureMonitorWorkspaceName",
    "azure-native:monitor:DataCollectionEndpoint": "dataCollectionEndpointName",
    "azure-native:monitor:DiagnosticSetting": "name",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:alertsmanagement:PrometheusRuleGroup": "ruleGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
}

# Resource provider namespace and collection of each type, for ARM ids.
_ARM_TYPES = {
    "azure-native:containerservice:ManagedCluster": ("Microsoft.ContainerService", "managedClusters"),
    "azure-native:containerregistry:Registry": ("Microsoft.ContainerRegistry", "registries"),
    "azure-native:operationalinsights:Workspace": ("Microsoft.OperationalInsights", "workspaces"),
    "azure-native:monitor:DataCollectionRule": ("Microsoft.Insights", "dataCollectionRules"),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault", "vaults"),
    "azure-native:storage:StorageAccount": ("Microsoft.Storage", "storageAccounts"),
    "azure-native:managedidentity:UserAssignedIdentity": ("Microsoft.ManagedIdentity", "userAssignedIdentities"),
    "azure-native:dataprotection:BackupVault": ("Microsoft.DataProtection", "backupVaults"),
    "azure-native:monitor:AzureMonitorWorkspace": ("Microsoft.Monitor", "accounts"),
    "azure-native:monitor:DataCollectionEndpoint": ("Microsoft.Insights", "dataCollectionEndpoints"),
    "azure-native:monitor:ActionGroup": ("Microsoft.Insights", "actionGroups"),
    "azure-native:alertsmanagement:PrometheusRuleGroup": ("Microsoft.AlertsManagement", "prometheusRuleGroups"),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network", "virtualNetworks"),
    "azure-native:network:PrivateEndpoint": ("Microsoft.Network", "privateEndpoints"),
    "azure-native:privatedns:PrivateZone": ("Microsoft.Network", "privateDnsZones"),
}
# Child resources: (parent ARM type, input naming the parent, child collection).
_ARM_CHILDREN = {
    "azure-native:containerservice:AgentPool": ("azure-native:containerservice:ManagedCluster", "resourceName", "agentPools"),
    "azure-native:containerregistry:CacheRule": ("azure-native:containerregistry:Registry", "registryName", "cacheRules"),
    "azure-native:containerregistry:CredentialSet": (
        "azure-native:containerregistry:Registry",
        "registryName",
        "credentialSets",
    ),
    "azure-native:keyvault:Secret": ("azure-native:keyvault:Vault", "vaultName", "secrets"),
    "azure-native:dataprotection:BackupPolicy": ("azure-native:dataprotection:BackupVault", "vaultName", "backupPolicies"),
    "azure-native:dataprotection:BackupInstance": (
        "azure-native:dataprotection:BackupVault",
        "vaultName",
        "backupInstances",
    ),
    "azure-native:containerservice:TrustedAccessRoleBinding": (
        "azure-native:containerservice:ManagedCluster",
        "resourceName",
        "trustedAccessRoleBindings",
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "azure-native:managedidentity:UserAssignedIdentity",
        "resourceName",
        "federatedIdentityCredentials",
    ),
    "azure-native:network:Subnet": ("azure-native:network:VirtualNetwork", "virtualNetworkName", "subnets"),
    "azure-native:network:PrivateDnsZoneGroup": (
        "azure-native:network:PrivateEndpoint",
        "privateEndpointName",
        "privateDnsZoneGroups",
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        "azure-native:privatedns:PrivateZone",
        "privateZoneName",
        "virtualNetworkLinks",
    ),
}
# Extension resources live under the resource they apply to: (input naming that resource, provider, collection).
_ARM_EXTENSIONS = {
    "azure-native:authorization:RoleAssignment": ("scope", "Microsoft.Authorization", "roleAssignments"),
    "azure-native:monitor:DataCollectionRuleAssociation": (
        "resourceUri",
        "Microsoft.Insights",
        "dataCollectionRuleAssociations",
    ),
    "azure-native:monitor:DiagnosticSetting": ("resourceUri", "Microsoft.Insights", "diagnosticSettings"),
}


def _azure_name(type_: str, name: str, inputs: dict) -> str:
    key = _AZURE_NAME_INPUTS.get(type_)
    if key and isinstance(inputs.get(key), str):
        return inputs[key]
    # Role assignment names are GUIDs; the provider generates one.
    if type_ == "azure-native:authorization:RoleAssignment":
        return _uuid_from(type_, name)
    # Azure auto-naming appends a random suffix; registries allow only alphanumerics.
    suffix = _digest(type_, name, length=8)
    if type_.endswith(":Registry"):
        return "".join(ch for ch in name if ch.isalnum()) + suffix
    return f"{name}{suffix}"


def _arm_id(type_: str, resource_name: str, inputs: dict) -> str:
    rg = inputs.get("resourceGroupName", "offline-rg")
    group = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups"
    if type_ == "azure-native:resources:ResourceGroup":
        return f"{group}/{resource_name}"
    if type_ in _ARM_EXTENSIONS:
        target_key, namespace, collection = _ARM_EXTENSIONS[type_]
        return f"{inputs.get(target_key, '')}/providers/{namespace}/{collection}/{resource_name}"
    if type_ in _ARM_CHILDREN:
        parent_type, parent_key, collection = _ARM_CHILDREN[type_]
        parent_id = _arm_id(parent_type, str(inputs.get(parent_key, "offline-parent")), inputs)
        return f"{parent_id}/{collection}/{resource_name}"
    module, kind = type_.split(":")[1:3]
    namespace, collection = _ARM_TYPES.get(type_, (f"Microsoft.{module.capitalize()}", f"{kind[0].lower()}{kind[1:]}s"))
    return f"{group}/{rg}/providers/{namespace}/{collection}/{resource_name}"


def offline_kubeconfig(cluster_name: str, server: str) -> str:
    """A syntactically real kubeconfig whose credentials are an offline placeholder."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster_name}\n  cluster:\n    server: {server}\n"
        "    certificate-authority-data: b2ZmbGluZS1wbGFjZWhvbGRlcg==\n"
        f"contexts:\n- name: {cluster_name}\n  context:\n    cluster: {cluster_name}\n    user: {cluster_name}-user\n"
        f"current-context: {cluster_name}\n"
        f"users:\n- name: {cluster_name}-user\n  user:\n    token: offline-placeholder-token\n"
    )


AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"  # the AKS AAD server application, the same everywhere


def offline_exec_kubeconfig(cluster_name: str, server: str) -> str:
    """The kubeconfig AKS returns for Entra ID clusters: credentials come from `kubelogin` (device code)."""
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster_name}\n  cluster:\n    server: {server}\n"
        "    certificate-authority-data: b2ZmbGluZS1wbGFjZWhvbGRlcg==\n"
        f"contexts:\n- name: {cluster_name}\n  context:\n    cluster: {cluster_name}\n"
        f"    user: clusterUser_offline_{cluster_name}\n"
        f"current-context: {cluster_name}\n"
        f"users:\n- name: clusterUser_offline_{cluster_name}\n  user:\n    exec:\n"
        "      apiVersion: client.authentication.k8s.io/v1beta1\n      command: kubelogin\n"
        "      args:\n      - get-token\n      - --environment\n      - AzurePublicCloud\n"
        f"      - --server-id\n      - {AKS_AAD_SERVER_ID}\n"
        "      - --client-id\n      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a\n"
        f"      - --tenant-id\n      - {TENANT_ID}\n      - --login\n      - devicecode\n"
        "      provideClusterInfo: false\n"
    )


def _patch_version(version: object) -> str | None:
    # AKS accepts a minor version ("1.33") and runs its latest patch.
    if not isinstance(version, str):
        return None
    return f"{version}.3" if version.count(".") == 1 else version


class OfflineMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and function calls with provider-shaped values."""

    def __init__(self, seed: int | None = None) -> None:
        self.secret_values: set[str] = set()
        # Unseeded: fresh secrets every run. Seeded: each resource's values depend only on (seed, type, name),
        # so two engines that register in different orders still generate the same values.
        self._seed = seed

    def _rng(self, type_: str, name: str) -> random.Random:
        if self._seed is None:
            return secrets.SystemRandom()
        return random.Random(f"{self._seed}/{type_}/{name}")

    # Resources ---------------------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        type_, name, inputs = args.typ, args.name, args.inputs
        if type_.startswith("kubernetes:"):
            # Only the top level and metadata are touched below: copy those, share the rest (never mutated).
            outputs = dict(inputs)
            if isinstance(inputs.get("metadata"), dict):
                outputs["metadata"] = dict(inputs["metadata"])
            return self._kubernetes(type_, name, outputs)
        outputs = copy.deepcopy(inputs)
        if type_.startswith("pulumi:providers:"):
            return f"{name}-provider-id", outputs
        if type_.startswith("azure-native:"):
            return self._azure(type_, name, outputs)
        if type_.startswith("random:"):
            return self._random(type_, name, outputs)
        return f"{name}-id", outputs

    def _kubernetes(self, type_: str, name: str, outputs: dict):
        metadata = outputs.setdefault("metadata", {})
        if isinstance(metadata, dict):
            # Without an explicit name the provider auto-names; the render flags such objects.
            metadata.setdefault("name", f"{name}-{_digest(type_, name, length=8)}")
            namespace = metadata.get("namespace")
            object_id = f"{namespace}/{metadata['name']}" if namespace else metadata["name"]
        else:
            object_id = name
        if type_ == "kubernetes:core/v1:Service":
            spec = outputs.get("spec") or {}
            if spec.get("type") == "LoadBalancer":
                address = OFFLINE_LB_PREFIX + str(int(_digest(type_, name, length=4), 16) % 200 + 10)
                outputs["status"] = {"loadBalancer": {"ingress": [{"ip": address}]}}
        if type_ == "kubernetes:helm.sh/v3:Release":
            outputs["status"] = {"name": outputs.get("name", name), "status": "deployed", "revision": 1}
        return object_id, outputs

    def _azure(self, type_: str, name: str, outputs: dict):
        resource_name = _azure_name(type_, name, outputs)
        arm_id = _arm_id(type_, resource_name, outputs)
        outputs["name"] = resource_name
        outputs["id"] = arm_id
        outputs.setdefault("azureApiVersion", "offline")
        identity = outputs.get("identity")
        if isinstance(identity, dict) and "SystemAssigned" in str(identity.get("type", "")):
            identity["principalId"] = _uuid_from(arm_id, "principal")
            identity["tenantId"] = TENANT_ID
        if type_ == "azure-native:containerregistry:Registry":
            outputs["loginServer"] = f"{resource_name.lower()}.azurecr.io"
            outputs["provisioningState"] = "Succeeded"
        elif type_ == "azure-native:containerservice:ManagedCluster":
            self._managed_cluster(resource_name, arm_id, outputs)
        elif type_ == "azure-native:containerservice:AgentPool":
            outputs["provisioningState"] = "Succeeded"
            outputs["nodeImageVersion"] = "AKSAzureLinux-V3gen2-offline"
            outputs["currentOrchestratorVersion"] = _patch_version(outputs.get("orchestratorVersion"))
        elif type_ == "azure-native:operationalinsights:Workspace":
            outputs["customerId"] = _uuid_from(resource_name, "customer")
        elif type_ == "azure-native:managedidentity:UserAssignedIdentity":
            outputs["clientId"] = _uuid_from(resource_name, "client")
            outputs["principalId"] = _uuid_from(resource_name, "principal")
            outputs["tenantId"] = TENANT_ID
        elif type_ == "azure-native:kubernetesconfiguration:Extension":
            # The extension's identity (the backup extension's, which is granted on its storage account).
            cluster = outputs.get("clusterName", "offline-cluster")
            outputs["id"] = arm_id = (
                f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{outputs.get('resourceGroupName', 'offline-rg')}"
                f"/providers/Microsoft.ContainerService/managedClusters/{cluster}"
                f"/providers/Microsoft.KubernetesConfiguration/extensions/{resource_name}"
            )
            outputs["aksAssignedIdentity"] = {
                "principalId": _uuid_from(arm_id, "principal"),
                "tenantId": TENANT_ID,
                "type": "SystemAssigned",
            }
            outputs["provisioningState"] = "Succeeded"
        elif type_ == "azure-native:storage:BlobContainer":
            account = outputs.get("accountName", "offlineaccount")
            outputs["id"] = arm_id = (
                f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{outputs.get('resourceGroupName', 'offline-rg')}"
                f"/providers/Microsoft.Storage/storageAccounts/{account}/blobServices/default/containers/{resource_name}"
            )
        elif type_ == "azure-native:monitor:AzureMonitorWorkspace":
            outputs["accountId"] = _uuid_from(resource_name, "account")
            outputs["metrics"] = {
                "internalId": f"mac_{_uuid_from(resource_name, 'account')}",
                "prometheusQueryEndpoint": f"https://{resource_name}.{outputs.get('location', 'westeurope')}"
                ".prometheus.monitor.azure.com",
            }
        elif type_ == "azure-native:keyvault:Vault":
            outputs.setdefault("properties", {})["vaultUri"] = f"https://{resource_name}.vault.azure.net/"
        elif type_ == "azure-native:containerregistry:CacheRule":
            outputs["provisioningState"] = "Succeeded"
            outputs["creationDate"] = "2025-01-01T00:00:00Z"
        elif type_ in (
            "azure-native:containerregistry:CredentialSet",
            "azure-native:network:VirtualNetwork",
            "azure-native:network:Subnet",
        ):
            outputs["provisioningState"] = "Succeeded"
        elif type_ == "azure-native:network:PrivateEndpoint":
            self._private_endpoint(resource_name, outputs)
        elif type_ == "azure-native:privatedns:PrivateZone":
            outputs["numberOfRecordSets"] = 1
            outputs["provisioningState"] = "Succeeded"
        elif type_ == "azure-native:privatedns:VirtualNetworkLink":
            outputs["virtualNetworkLinkState"] = "Completed"
            outputs["provisioningState"] = "Succeeded"
        return arm_id, outputs

    @staticmethod
    def _private_endpoint(resource_name: str, outputs: dict) -> None:
        """Azure gives the endpoint a NIC in its subnet and approves a connection to a resource of the same owner."""
        subnet_id = str((outputs.get("subnet") or {}).get("id", ""))
        rg = outputs.get("resourceGroupName", "offline-rg")
        outputs["networkInterfaces"] = [
            {
                "id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/Microsoft.Network/"
                f"networkInterfaces/{resource_name}.nic.{_uuid_from(resource_name, 'nic')}"
            }
        ]
        for connection in outputs.get("privateLinkServiceConnections") or []:
            if isinstance(connection, dict):
                connection["privateLinkServiceConnectionState"] = {
                    "status": "Approved",
                    "description": "Auto-Approved",
                    "actionsRequired": "None",
                }
        outputs["subnet"] = {"id": subnet_id}
        outputs["provisioningState"] = "Succeeded"

    @staticmethod
    def _managed_cluster(resource_name: str, arm_id: str, outputs: dict) -> None:
        """What AKS computes: node resource group, FQDN, versions, and the identities of kubelet and add-ons."""
        location = outputs.get("location", "westeurope")
        node_rg = outputs.get("nodeResourceGroup") or f"MC_{outputs.get('resourceGroupName')}_{resource_name}_{location}"
        outputs["nodeResourceGroup"] = node_rg
        prefix = f"{outputs.get('dnsPrefix', resource_name)}-{_digest(resource_name)}"
        access = outputs.get("apiServerAccessProfile") or {}
        if access.get("enablePrivateCluster"):
            # A private cluster's API server name lives in an AKS-managed privatelink zone; it has a public
            # name only with enablePrivateClusterPublicFQDN.
            outputs["privateFQDN"] = f"{prefix}.{_uuid_from(resource_name, 'private')}.privatelink.{location}.azmk8s.io"
            if access.get("enablePrivateClusterPublicFQDN"):
                outputs["fqdn"] = f"{prefix}.hcp.{location}.azmk8s.io"
        else:
            outputs["fqdn"] = f"{prefix}.hcp.{location}.azmk8s.io"
        outputs["azurePortalFQDN"] = f"{prefix}.portal.hcp.{location}.azmk8s.io"
        outputs["currentKubernetesVersion"] = _patch_version(outputs.get("kubernetesVersion"))
        outputs["powerState"] = {"code": "Running"}

        def user_identity(role: str) -> dict:
            return {
                "clientId": _uuid_from(resource_name, role, "client"),
                "objectId": _uuid_from(resource_name, role, "object"),
                "resourceId": (
                    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{node_rg}/providers/"
                    f"Microsoft.ManagedIdentity/userAssignedIdentities/{role}-{resource_name}"
                ),
            }

        outputs["identityProfile"] = {"kubeletidentity": user_identity("agentpool")}
        outputs["identity"] = {
            **(outputs.get("identity") or {}),
            "principalId": _uuid_from(resource_name, "principal"),
            "tenantId": TENANT_ID,
        }
        for addon, profile in (outputs.get("addonProfiles") or {}).items():
            if isinstance(profile, dict) and profile.get("enabled"):
                profile["identity"] = user_identity(addon.lower())
        web_app_routing = (outputs.get("ingressProfile") or {}).get("webAppRouting") or {}
        if web_app_routing.get("enabled"):
            web_app_routing["identity"] = user_identity("webapprouting")
        if (outputs.get("oidcIssuerProfile") or {}).get("enabled"):
            outputs["oidcIssuerProfile"]["issuerURL"] = (
                f"https://{location}.oic.prod-aks.azure.com/{TENANT_ID}/{_uuid_from(resource_name)}/"
            )
        if outputs.get("aadProfile"):
            outputs["aadProfile"].setdefault("tenantID", TENANT_ID)
        outputs["provisioningState"] = "Succeeded"

    def _random(self, type_: str, name: str, outputs: dict):
        rng = self._rng(type_, name)
        length = int(outputs.get("length", 16))
        if type_ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
            alphabet = ""
            if outputs.get("upper", True):
                alphabet += string.ascii_uppercase
            if outputs.get("lower", True):
                alphabet += string.ascii_lowercase
            if outputs.get("numeric", outputs.get("number", True)):
                alphabet += string.digits
            if outputs.get("special", True):
                alphabet += outputs.get("overrideSpecial") or "!#$%&*()-_=+[]{}<>:?"
            value = "".join(rng.choice(alphabet or string.ascii_letters) for _ in range(length))
            outputs["result"] = value
            if type_.endswith("RandomPassword"):
                self.secret_values.add(value)
                outputs["bcryptHash"] = "$2a$10$" + rng.getrandbits(208).to_bytes(26, "big").hex()
                self.secret_values.add(outputs["bcryptHash"])
            return f"{name}-{_digest(name)}", outputs
        if type_ == "random:index/randomId:RandomId":
            byte_length = int(outputs.get("byteLength", 8))
            raw = rng.getrandbits(8 * byte_length).to_bytes(byte_length, "big")
            outputs["hex"] = raw.hex()
            outputs["b64Url"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            outputs["dec"] = str(int.from_bytes(raw, "big"))
            return outputs["b64Url"], outputs
        if type_ == "random:index/randomUuid:RandomUuid":
            outputs["result"] = _uuid_from(name, str(rng.getrandbits(32)))
            return outputs["result"], outputs
        return f"{name}-id", outputs

    # Functions ---------------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs):
        token, call_args = args.token, args.args
        if token == "azure-native:containerservice:listManagedClusterUserCredentials":
            cluster = call_args.get("resourceName", "aks")
            server = f"https://{cluster}-{_digest(cluster)}.hcp.offline.azmk8s.io:443"
            # Entra ID clusters hand out an exec (kubelogin) kubeconfig when asked for `format: exec`.
            if call_args.get("format") == "exec":
                kubeconfig = offline_exec_kubeconfig(cluster, server)
            else:
                kubeconfig = offline_kubeconfig(cluster, server)
            encoded = base64.b64encode(kubeconfig.encode()).decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}
        if token == "azure-native:containerservice:listManagedClusterAdminCredentials":
            cluster = call_args.get("resourceName", "aks")
            server = f"https://{cluster}-{_digest(cluster)}.hcp.offline.azmk8s.io:443"
            encoded = base64.b64encode(offline_kubeconfig(cluster, server).encode()).decode()
            return {"kubeconfigs": [{"name": "clusterAdmin", "value": encoded}]}
        if token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": _uuid_from("client"),
                "objectId": _uuid_from("object"),
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        if token == "azure-native:authorization:getRoleDefinition":
            return {"id": call_args.get("roleDefinitionId", ""), "roleName": "offline"}
        return {}
