"""Realistic outputs for every resource type and function the program uses.

The offline engine answers for the Pulumi engine and the providers. Inputs are echoed as outputs (as a
provider would after create) and the values a real provider computes are filled in with plausible,
clearly-offline values so that dependent values resolve instead of staying unknown:

- ids shaped like the provider's (`<namespace>/<name>` for Kubernetes, ARM ids for Azure);
- Azure: resource names, the ACR login server, the AKS kubelet identity, OIDC issuer, FQDN, and the
  kubeconfig returned by `listManagedClusterUserCredentials`;
- Kubernetes: LoadBalancer Services get an address from TEST-NET-3 (203.0.113.0/24, RFC 5737), which
  never routes, so nobody mistakes it for a real endpoint;
- pulumi-random: `RandomPassword.result` is a fresh random string per run and stays a Pulumi secret.

Every generated secret value is remembered in `secret_values` so that the render can prove none leaks.
"""

from __future__ import annotations

import base64
import copy
import hashlib
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


# The input that names an Azure resource, per type; otherwise the provider auto-names from the logical name.
_AZURE_NAME_INPUTS = (
    "resourceName",
    "registryName",
    "workspaceName",
    "cacheRuleName",
    "credentialSetName",
    "agentPoolName",
    "roleAssignmentName",
    "vaultName",
    "accountName",
    "identityName",
    "solutionName",
    "dataCollectionRuleName",
    "dataCollectionRuleAssociationName",
    "federatedIdentityCredentialResourceName",
    "secretName",
    "resourceGroupName",
)


def _azure_name(type_: str, name: str, inputs: dict) -> str:
    if type_ == "azure-native:resources:ResourceGroup":
        return inputs.get("resourceGroupName") or f"{name}{_digest(name, length=8)}"
    for key in _AZURE_NAME_INPUTS[:-1]:
        if isinstance(inputs.get(key), str):
            return inputs[key]
    # Azure auto-naming appends a random suffix; registries allow only alphanumerics.
    suffix = _digest(type_, name, length=8)
    if type_.endswith(":Registry"):
        return "".join(ch for ch in name if ch.isalnum()) + suffix
    return f"{name}{suffix}"


def _arm_id(type_: str, resource_name: str, inputs: dict) -> str:
    module, kind = type_.split(":")[1:3]
    rg = inputs.get("resourceGroupName", "offline-rg")
    if type_ == "azure-native:resources:ResourceGroup":
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{resource_name}"
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/"
        f"Microsoft.{module.capitalize()}/{kind[0].lower()}{kind[1:]}s/{resource_name}"
    )


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


class OfflineMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and function calls with provider-shaped values."""

    def __init__(self) -> None:
        self.secret_values: set[str] = set()

    # Resources ---------------------------------------------------------------------------------------

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        type_, name, inputs = args.typ, args.name, args.inputs
        outputs = copy.deepcopy(inputs)
        if type_.startswith("pulumi:providers:"):
            return f"{name}-provider-id", outputs
        if type_.startswith("kubernetes:"):
            return self._kubernetes(type_, name, outputs)
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
        if type_ == "azure-native:containerregistry:Registry":
            outputs["loginServer"] = f"{resource_name.lower()}.azurecr.io"
        elif type_ == "azure-native:containerservice:ManagedCluster":
            location = outputs.get("location", "westeurope")
            node_rg = outputs.get("nodeResourceGroup") or f"MC_{outputs.get('resourceGroupName')}_{resource_name}"
            outputs["nodeResourceGroup"] = node_rg
            outputs["fqdn"] = f"{resource_name}-{_digest(resource_name)}.hcp.{location}.azmk8s.io"
            outputs["identityProfile"] = {
                "kubeletidentity": {
                    "clientId": _uuid_from(resource_name, "kubelet-client"),
                    "objectId": _uuid_from(resource_name, "kubelet-object"),
                    "resourceId": (
                        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{node_rg}/providers/"
                        f"Microsoft.ManagedIdentity/userAssignedIdentities/{resource_name}-agentpool"
                    ),
                }
            }
            outputs["identity"] = {
                **(outputs.get("identity") or {}),
                "principalId": _uuid_from(resource_name, "principal"),
                "tenantId": TENANT_ID,
            }
            if (outputs.get("oidcIssuerProfile") or {}).get("enabled"):
                outputs["oidcIssuerProfile"]["issuerURL"] = (
                    f"https://{location}.oic.prod-aks.azure.com/{TENANT_ID}/{_uuid_from(resource_name)}/"
                )
            outputs["provisioningState"] = "Succeeded"
        elif type_ == "azure-native:operationalinsights:Workspace":
            outputs["customerId"] = _uuid_from(resource_name, "customer")
        elif type_ == "azure-native:managedidentity:UserAssignedIdentity":
            outputs["clientId"] = _uuid_from(resource_name, "client")
            outputs["principalId"] = _uuid_from(resource_name, "principal")
            outputs["tenantId"] = TENANT_ID
        elif type_ == "azure-native:keyvault:Vault":
            outputs.setdefault("properties", {})["vaultUri"] = f"https://{resource_name}.vault.azure.net/"
        return arm_id, outputs

    def _random(self, type_: str, name: str, outputs: dict):
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
            value = "".join(secrets.choice(alphabet or string.ascii_letters) for _ in range(length))
            outputs["result"] = value
            if type_.endswith("RandomPassword"):
                self.secret_values.add(value)
                outputs["bcryptHash"] = "$2a$10$" + secrets.token_hex(26)
                self.secret_values.add(outputs["bcryptHash"])
            return f"{name}-{_digest(name)}", outputs
        if type_ == "random:index/randomId:RandomId":
            byte_length = int(outputs.get("byteLength", 8))
            raw = secrets.token_bytes(byte_length)
            outputs["hex"] = raw.hex()
            outputs["b64Url"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            outputs["dec"] = str(int.from_bytes(raw, "big"))
            return outputs["b64Url"], outputs
        if type_ == "random:index/randomUuid:RandomUuid":
            outputs["result"] = _uuid_from(name, secrets.token_hex(4))
            return outputs["result"], outputs
        return f"{name}-id", outputs

    # Functions ---------------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs):
        token, call_args = args.token, args.args
        if token == "azure-native:containerservice:listManagedClusterUserCredentials":
            cluster = call_args.get("resourceName", "aks")
            server = f"https://{cluster}-{_digest(cluster)}.hcp.offline.azmk8s.io:443"
            encoded = base64.b64encode(offline_kubeconfig(cluster, server).encode()).decode()
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
