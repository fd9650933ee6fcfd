"""Write a stack's Azure resources (the offline render's resources.json) out as an ARM template for Checkov.

    python scan/arm_template.py --resources build/prod/resources.json --out build/prod/arm/template.json

Checkov's `arm` framework reads deployment templates: `{"$schema", "contentVersion", "resources": [...]}`,
each resource `{type, apiVersion, name, location, tags, sku, identity, ..., properties}`, and its checks look
at ARM paths such as `properties/agentPoolProfiles/[0]/osDiskType` (checkov/arm/checks/resource/*.py).
azure-native takes the same properties flattened beside the resource's naming inputs, so the template is:

- `type` from the table below (azure-native token -> ARM resource type, the input holding its name, and for
  child resources the input naming the parent, which makes the ARM name `parent/child`);
- `apiVersion`: the REST API version the installed azure-native SDK module calls ("Uses Azure REST API
  version ..." in each resource class);
- the ARM envelope keys (location, tags, sku, identity, kind, zones) kept at the top, extension resources'
  target (`scope` of a role assignment, `resourceUri` of a rule association) as `scope`, and every other
  input under `properties`.

The resource group itself is the deployment's scope, not a resource of a resource-group template; Pulumi's
own resources (components, providers) and Kubernetes objects are not Azure resources. A type missing from
the table is an error: map it here so that the scan sees it.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
# ARM resource envelope: these inputs stay beside `properties`.
ENVELOPE = ("location", "tags", "sku", "identity", "kind", "zones", "extendedLocation", "plan")
NOT_RESOURCES = ("azure-native:resources:ResourceGroup",)


@dataclass(frozen=True)
class ArmType:
    type: str
    name_input: str
    parent_input: str | None = None  # child resource: the input naming its parent
    scope_input: str | None = None  # extension resource: the input naming the resource it applies to
    parent_path: str = ""  # a fixed segment between parent and child (blob containers: `default`)
    # The parent resource's ARM type and name inputs, for extension resources named by a parent's name
    # (a cluster extension's `clusterName`): the scope is then that resource's id in the resource group.
    scope_of: tuple[str, str] | None = None
    # SDK input names that ARM spells differently (a storage account's `networkRuleSet` is ARM's `networkAcls`).
    renames: tuple[tuple[str, str], ...] = ()


ARM_TYPES: Mapping[str, ArmType] = {
    "azure-native:containerservice:ManagedCluster": ArmType("Microsoft.ContainerService/managedClusters", "resourceName"),
    "azure-native:containerservice:AgentPool": ArmType(
        "Microsoft.ContainerService/managedClusters/agentPools", "agentPoolName", parent_input="resourceName"
    ),
    "azure-native:containerregistry:Registry": ArmType("Microsoft.ContainerRegistry/registries", "registryName"),
    "azure-native:containerregistry:CacheRule": ArmType(
        "Microsoft.ContainerRegistry/registries/cacheRules", "cacheRuleName", parent_input="registryName"
    ),
    "azure-native:containerregistry:CredentialSet": ArmType(
        "Microsoft.ContainerRegistry/registries/credentialSets", "credentialSetName", parent_input="registryName"
    ),
    "azure-native:operationalinsights:Workspace": ArmType("Microsoft.OperationalInsights/workspaces", "workspaceName"),
    "azure-native:monitor:DataCollectionRule": ArmType("Microsoft.Insights/dataCollectionRules", "dataCollectionRuleName"),
    "azure-native:monitor:DataCollectionRuleAssociation": ArmType(
        "Microsoft.Insights/dataCollectionRuleAssociations", "associationName", scope_input="resourceUri"
    ),
    "azure-native:authorization:RoleAssignment": ArmType(
        "Microsoft.Authorization/roleAssignments", "roleAssignmentName", scope_input="scope"
    ),
    "azure-native:network:VirtualNetwork": ArmType("Microsoft.Network/virtualNetworks", "virtualNetworkName"),
    "azure-native:network:Subnet": ArmType(
        "Microsoft.Network/virtualNetworks/subnets", "subnetName", parent_input="virtualNetworkName"
    ),
    "azure-native:network:PrivateEndpoint": ArmType("Microsoft.Network/privateEndpoints", "privateEndpointName"),
    "azure-native:network:PrivateDnsZoneGroup": ArmType(
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "privateDnsZoneGroupName", parent_input="privateEndpointName"
    ),
    "azure-native:privatedns:PrivateZone": ArmType("Microsoft.Network/privateDnsZones", "privateZoneName"),
    "azure-native:privatedns:VirtualNetworkLink": ArmType(
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "virtualNetworkLinkName", parent_input="privateZoneName"
    ),
    # Key Vault and workload identity (infra/keyvault.py).
    "azure-native:keyvault:Vault": ArmType("Microsoft.KeyVault/vaults", "vaultName"),
    "azure-native:keyvault:Secret": ArmType("Microsoft.KeyVault/vaults/secrets", "secretName", parent_input="vaultName"),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName"
    ),
    "azure-native:managedidentity:FederatedIdentityCredential": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
        "federatedIdentityCredentialResourceName",
        parent_input="resourceName",
    ),
    # Azure Backup for AKS (infra/backup.py).
    "azure-native:dataprotection:BackupVault": ArmType("Microsoft.DataProtection/backupVaults", "vaultName"),
    "azure-native:dataprotection:BackupPolicy": ArmType(
        "Microsoft.DataProtection/backupVaults/backupPolicies", "backupPolicyName", parent_input="vaultName"
    ),
    "azure-native:dataprotection:BackupInstance": ArmType(
        "Microsoft.DataProtection/backupVaults/backupInstances", "backupInstanceName", parent_input="vaultName"
    ),
    "azure-native:storage:StorageAccount": ArmType(
        "Microsoft.Storage/storageAccounts", "accountName", renames=(("networkRuleSet", "networkAcls"),)
    ),
    "azure-native:storage:BlobContainer": ArmType(
        "Microsoft.Storage/storageAccounts/blobServices/containers", "containerName", parent_input="accountName",
        parent_path="default",
    ),
    "azure-native:kubernetesconfiguration:Extension": ArmType(
        "Microsoft.KubernetesConfiguration/extensions", "extensionName",
        scope_of=("Microsoft.ContainerService/managedClusters", "clusterName"),
    ),
    "azure-native:containerservice:TrustedAccessRoleBinding": ArmType(
        "Microsoft.ContainerService/managedClusters/trustedAccessRoleBindings", "trustedAccessRoleBindingName",
        parent_input="resourceName",
    ),
    # Signals (infra/signals.py).
    "azure-native:monitor:DiagnosticSetting": ArmType(
        "Microsoft.Insights/diagnosticSettings", "name", scope_input="resourceUri"
    ),
    "azure-native:monitor:AzureMonitorWorkspace": ArmType("Microsoft.Monitor/accounts", "azureMonitorWorkspaceName"),
    "azure-native:monitor:DataCollectionEndpoint": ArmType(
        "Microsoft.Insights/dataCollectionEndpoints", "dataCollectionEndpointName"
    ),
    "azure-native:monitor:ActionGroup": ArmType("Microsoft.Insights/actionGroups", "actionGroupName"),
    "azure-native:alertsmanagement:PrometheusRuleGroup": ArmType(
        "Microsoft.AlertsManagement/prometheusRuleGroups", "ruleGroupName"
    ),
}

_API_VERSION = re.compile(r"Uses Azure REST API version ([0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?)")


class UnmappedType(Exception):
    """An Azure resource type this module cannot write as ARM."""


@cache
def api_version(token: str) -> str:
    """The REST API version the installed azure-native SDK uses for `token` (e.g. 2025-09-01)."""
    _, module, kind = token.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module.split('/')[0]}"), kind)
    found = _API_VERSION.search(inspect.getsource(cls))
    if not found:
        raise UnmappedType(f"{token}: no 'Uses Azure REST API version' in the SDK's {cls.__name__}")
    return found[1]


def arm_resource(entry: Mapping[str, Any]) -> dict[str, Any]:
    token, inputs = entry["type"], dict(entry.get("inputs") or {})
    arm = ARM_TYPES.get(token)
    if arm is None:
        raise UnmappedType(f"{token} ({entry.get('name')}): add its ARM type to ARM_TYPES in scan/arm_template.py")
    name = str(inputs.pop(arm.name_input, None) or entry["name"])
    if arm.parent_input:
        parent = inputs.pop(arm.parent_input)
        name = f"{parent}/{arm.parent_path}/{name}" if arm.parent_path else f"{parent}/{name}"
    resource_group = inputs.pop("resourceGroupName", None)
    resource: dict[str, Any] = {"type": arm.type, "apiVersion": api_version(token), "name": name}
    if arm.scope_input:
        resource["scope"] = inputs.pop(arm.scope_input)
    if arm.scope_of:
        scope_type, scope_name_input = arm.scope_of
        resource["scope"] = (f"[resourceId('{resource_group}', '{scope_type}', '{inputs.pop(scope_name_input)}')]")
        for key in ("clusterRp", "clusterResourceName"):
            inputs.pop(key, None)
    for key in ENVELOPE:
        if key in inputs:
            resource[key] = inputs.pop(key)
    for sdk_name, arm_name in arm.renames:
        if sdk_name in inputs:
            inputs[arm_name] = inputs.pop(sdk_name)
    properties = dict(inputs.pop("properties", None) or {})  # types whose SDK input is ARM's `properties`
    properties.update(inputs)
    resource["properties"] = properties
    return resource


def arm_template(resources: list[Mapping[str, Any]]) -> dict[str, Any]:
    azure = [r for r in resources if r["type"].startswith("azure-native:") and r["type"] not in NOT_RESOURCES]
    return {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "metadata": {"generator": "scan/arm_template.py (from the offline render's resources.json)"},
        "resources": [arm_resource(r) for r in azure],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="arm_template", description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=Path, required=True, help="resources.json of a render")
    parser.add_argument("--out", type=Path, required=True, help="the ARM template to write")
    args = parser.parse_args(argv)
    try:
        template = arm_template(json.loads(args.resources.read_text()))
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read {args.resources}: {error} (render first: make render STACK=...)", file=sys.stderr)
        return 2
    except UnmappedType as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(template, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(template['resources'])} Azure resources to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
