"""Platform settings: where the apps run (a new AKS cluster, or an existing cluster). Owned by infra/.

These keys sit at the top level of the `aks-microservices:` namespace (an inline group): `platform` picks
the kind, `azure`, `cluster`, `network`, `registry`, `monitoring`, `storage`, `ingress`, `keyVault` and `backup`
describe the AKS platform,
`existing` describes a cluster that someone else runs. A section that does not apply to the stack's
platform must be left out, so that a setting never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from settings.schema import (
    NAMESPACE,
    Check,
    ConfigError,
    Invalid,
    boolean,
    integer,
    list_of,
    matching,
    one_of,
    optional,
    quantity,
    section,
    setting,
)

# Checks ------------------------------------------------------------------------------------------------

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

REGION = matching(r"[a-z][a-z0-9]{1,39}", 'an Azure region name such as "westeurope" (lowercase letters and digits)')
RESOURCE_GROUP_NAME = matching(
    r"[-\w.()]{0,89}[-\w()]", "an Azure resource group name (1-90 letters, digits, '-', '_', '.', '()'; no final '.')"
)
CLUSTER_NAME = matching(
    r"[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?",
    "an AKS cluster name (1-63 letters, digits, '-', '_'; starting and ending with a letter or digit)",
)
REGISTRY_NAME = matching(r"[a-zA-Z0-9]{5,50}", "a container registry name (5-50 letters and digits, globally unique)")
VM_SIZE = matching(r"Standard_[A-Za-z0-9_]+", 'an Azure VM size such as "Standard_D4s_v5"')
OBJECT_ID = matching(_UUID, "Entra ID object ids (UUIDs)")
KEY_VAULT_SECRET_ID = matching(
    r"https://[a-zA-Z0-9-]{3,24}\.vault\.azure\.net/secrets/[a-zA-Z0-9-]{1,127}(/[0-9a-fA-F]{32})?",
    'a Key Vault secret URI such as "https://myvault.vault.azure.net/secrets/dockerhub-user"',
)
KEY_VAULT_ID = matching(
    rf"/subscriptions/{_UUID}/resourceGroups/[-\w.()]+/providers/Microsoft\.KeyVault/vaults/[a-zA-Z0-9-]{{3,24}}",
    "the ARM id of a Key Vault (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>)",
)
DNS_ZONE_ID = matching(
    rf"/subscriptions/{_UUID}/resourceGroups/[-\w.()]+/providers/Microsoft\.Network/(dnszones|privateDnsZones)/[a-zA-Z0-9.-]+",
    "ARM ids of Azure DNS zones or private DNS zones",
)
# A StorageClass / IngressClass name is a DNS-1123 subdomain.
K8S_NAME = matching(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    "a Kubernetes object name (lowercase letters, digits, '-', '.')",
)
PATH_OR_CONTENT = matching(r"(?s)\S.*", "a path to a kubeconfig file")
CONTEXT = matching(r"\S+", "a kubeconfig context name")
EMAIL = matching(r"[^@\s]+@[^@\s]+\.[^@\s]+", "email addresses (name@example.com)")
# Key Vault names are global: 3-24 letters, digits and '-', starting with a letter, no '--', no final '-'.
KEY_VAULT_NAME = matching(
    r"(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]",
    "a Key Vault name (3-24 letters, digits and single '-', starting with a letter, globally unique)",
)


def _zone(value: Any) -> str:
    # YAML users write zones as numbers or strings; Azure wants the strings "1", "2", "3".
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        value = str(value)
    if value not in ("1", "2", "3"):
        raise ValueError
    return value


def _unique(check: Check) -> Check:
    def convert(value: Any) -> tuple:
        items = check.convert(value)
        if len(set(items)) != len(items):
            raise ValueError
        return items

    return Check(check.allowed + " without duplicates", convert)


ZONES = _unique(list_of(Check('availability zones "1", "2", "3"', _zone)))


def _cidr(value: Any) -> str:
    # strict: "10.240.1.0/16" (host bits set) is a typo more often than not.
    if not isinstance(value, str):
        raise TypeError
    return str(ipaddress.IPv4Network(value, strict=True))


def _ipv4(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return str(ipaddress.IPv4Address(value))


CIDR = Check('an IPv4 CIDR range such as "10.240.0.0/16" (no host bits set)', _cidr)
IPV4 = Check('an IPv4 address such as "10.0.0.10"', _ipv4)

_TAG_KEY = re.compile(r"[^<>%&\\?/]{1,512}")


# Azure allows 50 tags per resource (Microsoft Learn, "Use tags to organize your Azure resources", Limitations);
# the stack always adds `project` and `stack`.
MAX_USER_TAGS = 50 - 2


def _tags(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise TypeError
    if len(value) > MAX_USER_TAGS:
        raise Invalid(shown=f"{len(value)} tags", hint=f"Azure allows 50 tags per resource and the stack adds "
                      f"`project` and `stack`: at most {MAX_USER_TAGS} here")
    for key, tag in value.items():
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise Invalid(entry=str(key), shown=repr(key), allowed="a tag name of 1-512 characters, none of <>%&\\?/")
        if not isinstance(tag, str) or len(tag) > 256:
            shown = f'"{tag[:20]}..." ({len(tag)} characters)' if isinstance(tag, str) else repr(tag)
            raise Invalid(entry=key, shown=shown, allowed="a tag value: a string of at most 256 characters")
    return dict(value)


TAGS = Check(f"a map of at most {MAX_USER_TAGS} tags: tag name (1-512 characters, none of <>%&\\?/) to a string of "
             "at most 256 characters", _tags)

# Sections -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AzureSettings:
    location: str = setting("location", "Azure region of every Azure resource.", REGION, default="westeurope")
    resource_group_name: str | None = setting(
        "resourceGroupName",
        "Name of the resource group to create; unset: `aks-resource-group` plus a random suffix.",
        optional(RESOURCE_GROUP_NAME),
        default=None,
    )
    tags: Mapping[str, str] = setting(
        "tags",
        "Extra tags on every Azure resource (`project` and `stack` tags are always set).",
        TAGS,
        default_factory=dict,
    )


OS_DISK_TYPE = one_of("Managed", "Ephemeral")
OS_DISK_SIZE = integer(30, 2048)


@dataclass(frozen=True)
class SystemPoolSettings:
    vm_size: str = setting("vmSize", "VM size of the system node pool.", VM_SIZE, default="Standard_D2s_v5")
    os_disk_type: str = setting(
        "osDiskType",
        "OS disk of the system nodes: `Ephemeral` (on the VM's cache or temp disk: no disk cost, faster reimage; the "
        "VM size must have one at least osDiskSizeGb large, e.g. Standard_D4ds_v5) or `Managed` (any size).",
        OS_DISK_TYPE,
        default="Managed",
    )
    os_disk_size_gb: int = setting(
        "osDiskSizeGb", "OS disk size of the system nodes (GiB).", OS_DISK_SIZE, default=128
    )
    min_count: int | None = setting(
        "minCount",
        "Cluster autoscaler minimum of the system pool; set together with maxCount (unset: fixed at nodeCount).",
        optional(integer(1, 100)),
        default=None,
    )
    max_count: int | None = setting(
        "maxCount",
        "Cluster autoscaler maximum of the system pool; set together with minCount.",
        optional(integer(1, 100)),
        default=None,
    )


@dataclass(frozen=True)
class UserPoolSettings:
    enabled: bool = setting(
        "enabled",
        "Run workloads on a separate, autoscaled user node pool; the system pool then only runs critical add-ons.",
        boolean,
        default=True,
    )
    vm_size: str = setting("vmSize", "VM size of the user node pool.", VM_SIZE, default="Standard_D4s_v5")
    os_disk_type: str = setting(
        "osDiskType", "OS disk of the user nodes: `Ephemeral` or `Managed` (as systemPool.osDiskType).", OS_DISK_TYPE, default="Managed"
    )
    os_disk_size_gb: int = setting("osDiskSizeGb", "OS disk size of the user nodes (GiB).", OS_DISK_SIZE, default=128)
    min_count: int = setting("minCount", "Cluster autoscaler minimum of the user pool.", integer(0, 100), default=2)
    max_count: int = setting("maxCount", "Cluster autoscaler maximum of the user pool.", integer(1, 100), default=5)


@dataclass(frozen=True)
class ClusterSettings:
    name: str | None = setting(
        "name",
        "Name of the AKS cluster; unset: `aks-cluster` plus a random suffix.",
        optional(CLUSTER_NAME),
        default=None,
    )
    node_count: int = setting(
        "nodeCount",
        "Nodes of the system pool (its initial count when its autoscaler is on). The Smilr seed assumes 3.",
        integer(1, 100),
        default=3,
    )
    system_pool: SystemPoolSettings = section("systemPool", "The system node pool.", SystemPoolSettings)
    user_pool: UserPoolSettings = section("userPool", "The user node pool for workloads.", UserPoolSettings)
    zones: tuple[str, ...] = setting(
        "zones",
        "Availability zones of both node pools (the region must offer them); empty: no zone pinning.",
        ZONES,
        default=(),
    )
    sku_tier: str = setting(
        "skuTier",
        "AKS control plane tier: `Free` for dev, `Standard` (uptime SLA) for production.",
        one_of("Free", "Standard"),
        default="Free",
    )
    upgrade_channel: str = setting(
        "upgradeChannel",
        "Automatic Kubernetes upgrade channel.",
        one_of("none", "patch", "stable", "rapid", "node-image"),
        default="patch",
    )
    node_os_upgrade_channel: str = setting(
        "nodeOsUpgradeChannel",
        "Automatic node OS upgrade channel.",
        one_of("None", "Unmanaged", "NodeImage", "SecurityPatch"),
        default="NodeImage",
    )
    entra_id: bool = setting(
        "entraId",
        "Authenticate cluster users with Entra ID (AKS-managed AAD); `pulumi up` then needs `kubelogin` and `az login`.",
        boolean,
        default=False,
    )
    azure_rbac: bool = setting(
        "azureRbac",
        "Authorize cluster users with Azure RBAC (needs entraId); the deploying identity gets RBAC Cluster Admin.",
        boolean,
        default=False,
    )
    admin_group_object_ids: tuple[str, ...] = setting(
        "adminGroupObjectIds",
        "Entra ID groups that are cluster admins (needs entraId).",
        _unique(list_of(OBJECT_ID)),
        default=(),
    )
    disable_local_accounts: bool = setting(
        "disableLocalAccounts",
        "Disable the static local admin account, so only Entra ID identities reach the API (needs entraId).",
        boolean,
        default=False,
    )
    private_cluster: bool = setting(
        "privateCluster",
        "API server on a private address in the stack's VNet only (no public endpoint); `pulumi up` must then run "
        "from a network that reaches the VNet. Changing it recreates the cluster.",
        boolean,
        default=False,
    )
    authorized_ip_ranges: tuple[str, ...] = setting(
        "authorizedIpRanges",
        "Address ranges allowed to reach the public API server (the deployer's egress); empty: any address. "
        "Not with privateCluster.",
        _unique(list_of(CIDR)),
        default=(),
    )
    encryption_at_host: bool = setting(
        "encryptionAtHost",
        "Encrypt the nodes' temp disks, OS and data disk caches on the VM host (no charge; the subscription needs "
        "the Microsoft.Compute/EncryptionAtHost feature registered).",
        boolean,
        default=False,
    )
    max_pods: int = setting(
        "maxPods", "Pods per node of both pools (explicit; with Azure CNI overlay up to 250).", integer(30, 250), default=110
    )
    azure_policy: bool = setting(
        "azurePolicy",
        "Azure Policy add-on (Gatekeeper): audits or denies workloads against assigned policies (no charge; its pods "
        "take about 0.1 vCPU and 300 MiB on the system pool).",
        boolean,
        default=False,
    )
    defender: bool = setting(
        "defender",
        "Microsoft Defender for Containers sensor, reporting to the stack's Log Analytics workspace (needs "
        "monitoring.containerInsights; Defender for Containers is billed per vCore of the nodes).",
        boolean,
        default=False,
    )
    image_cleaner_interval_hours: int | None = setting(
        "imageCleanerIntervalHours",
        "Image Cleaner: remove unused, vulnerable images from the nodes every so many hours; null: off.",
        optional(integer(24, 2160)),
        default=168,
    )

    @property
    def system_autoscaled(self) -> bool:
        return self.system_pool.min_count is not None


@dataclass(frozen=True)
class CredentialSetSettings:
    username_secret_id: str | None = setting(
        "usernameSecretId",
        "Key Vault secret holding the Docker Hub user name (raises Docker Hub pull limits for the cache).",
        optional(KEY_VAULT_SECRET_ID),
        default=None,
    )
    password_secret_id: str | None = setting(
        "passwordSecretId",
        "Key Vault secret holding a Docker Hub access token.",
        optional(KEY_VAULT_SECRET_ID),
        default=None,
    )
    key_vault_id: str | None = setting(
        "keyVaultId",
        "ARM id of the Key Vault holding both secrets; the credential set's identity is granted Key Vault Secrets User there.",
        optional(KEY_VAULT_ID),
        default=None,
    )

    @property
    def configured(self) -> bool:
        return self.username_secret_id is not None


@dataclass(frozen=True)
class RegistrySettings:
    name: str | None = setting(
        "name",
        "Name of the Azure Container Registry (global); unset: `aksregistry` plus 10 hex digits derived from the resource group id.",
        optional(REGISTRY_NAME),
        default=None,
    )
    sku: str = setting("sku", "Registry SKU.", one_of("Basic", "Standard", "Premium"), default="Basic")
    public_network_access: bool = setting(
        "publicNetworkAccess",
        "Registry reachable from the internet; false: only through its private endpoint (needs privateEndpoint).",
        boolean,
        default=True,
    )
    private_endpoint: bool = setting(
        "privateEndpoint",
        "A private endpoint in the stack's VNet with the privatelink.azurecr.io zone (Premium only; about 7 USD a "
        "month plus traffic).",
        boolean,
        default=False,
    )
    zone_redundancy: bool = setting(
        "zoneRedundancy", "Zone-redundant registry storage (Premium only; set at creation).", boolean, default=False
    )
    retention_days: int | None = setting(
        "retentionDays",
        "Delete untagged manifests after so many days (Premium only); null: keep them.",
        optional(integer(0, 365)),
        default=None,
    )
    exports_allowed: bool = setting(
        "exportsAllowed",
        "Allow `az acr import`/export of images to other registries; false needs Premium and publicNetworkAccess false.",
        boolean,
        default=True,
    )
    quarantine: bool = setting(
        "quarantine",
        "Quarantine new images until a scanner marks them Passed (Premium, preview). Not with cacheImages: "
        "images the cache rules pull in would be quarantined and nothing here marks them.",
        boolean,
        default=False,
    )
    cache_images: bool = setting(
        "cacheImages",
        "Serve the apps' public images through ACR artifact-cache rules and pull them from the registry.",
        boolean,
        default=True,
    )
    credential_set: CredentialSetSettings = section(
        "credentialSet",
        "Optional Docker Hub credentials (Key Vault secrets) for the cache rules; all three keys or none.",
        CredentialSetSettings,
    )


@dataclass(frozen=True)
class MonitoringSettings:
    container_insights: bool = setting(
        "containerInsights",
        "Container Insights: a Log Analytics workspace and the AKS monitoring add-on (turn off for cheap dev stacks).",
        boolean,
        default=True,
    )
    retention_in_days: int = setting(
        "retentionInDays", "Log Analytics retention.", integer(30, 730), default=30
    )
    control_plane_logs: bool = setting(
        "controlPlaneLogs",
        "Send the control plane's resource logs (kube-audit-admin, guard, kube-controller-manager, "
        "cluster-autoscaler) to the Log Analytics workspace (needs containerInsights); production turns it on.",
        boolean,
        default=False,
    )
    prometheus: bool = setting(
        "prometheus",
        "Azure Monitor managed Prometheus: an Azure Monitor workspace, its data collection endpoint, rule and "
        "association, and the cluster's metrics profile; production turns it on.",
        boolean,
        default=False,
    )
    alerts: bool = setting(
        "alerts",
        "The AKS recommended Prometheus alert rules (node CPU and memory, pod restarts, OOM kills, PVC usage, "
        "unavailable deployment replicas), sent to an action group (needs prometheus and alertEmails).",
        boolean,
        default=False,
    )
    alert_emails: tuple[str, ...] = setting(
        "alertEmails",
        "Email receivers of the alerts' action group (the on-call rota).",
        _unique(list_of(EMAIL)),
        default=(),
    )


@dataclass(frozen=True)
class KeyVaultSettings:
    enabled: bool = setting(
        "enabled",
        "Keep the stack's generated secrets in a Key Vault it creates; pods read them through the Secrets Store "
        "CSI driver with a workload identity per app (off: plain Kubernetes Secrets, as on an existing cluster).",
        boolean,
        default=True,
    )
    name: str | None = setting(
        "name",
        "Name of the vault (global); unset: `kv` plus 16 hex digits derived from the resource group id.",
        optional(KEY_VAULT_NAME),
        default=None,
    )
    sku: str = setting("sku", "Vault SKU (`premium` adds HSM-backed keys).", one_of("standard", "premium"),
                       default="standard")
    soft_delete_retention_in_days: int = setting(
        "softDeleteRetentionInDays",
        "Days a deleted vault or secret stays recoverable (7 for dev, 90 for production).",
        integer(7, 90),
        default=90,
    )
    public_network_access: bool = setting(
        "publicNetworkAccess",
        "Vault reachable from the internet; false: only through its private endpoint (needs privateEndpoint). "
        "`pulumi up` writes secrets through Azure Resource Manager, which is not affected.",
        boolean,
        default=True,
    )
    private_endpoint: bool = setting(
        "privateEndpoint",
        "A private endpoint in the stack's VNet with the privatelink.vaultcore.azure.net zone, through which the "
        "nodes' Secrets Store CSI provider reads the vault (about 7 USD a month plus traffic).",
        boolean,
        default=False,
    )
    purge_protection: bool = setting(
        "purgeProtection",
        "Forbid purging deleted secrets before their retention ends (cannot be turned off again; off for dev "
        "stacks that are torn down and re-created under the same name).",
        boolean,
        default=True,
    )


@dataclass(frozen=True)
class BackupSettings:
    enabled: bool = setting(
        "enabled",
        "Azure Backup for AKS: a backup vault, the backup extension, trusted access and scheduled backups of "
        "every store's volumes (its StatefulSets' claims, shared claims and the InnoDBCluster's); production turns it on.",
        boolean,
        default=False,
    )
    frequency: str = setting(
        "frequency",
        "How often the stores are backed up (`weekly` is not verified against the AKS backup API, whose portal "
        "offers hourly and daily schedules).",
        one_of("daily", "weekly"),
        default="daily",
    )
    retention_in_days: int = setting(
        "retentionInDays",
        "Days each backup is kept in the operational tier (snapshots in the cluster's node resource group).",
        integer(1, 360),
        default=30,
    )


@dataclass(frozen=True)
class StorageSettings:
    per_replica_class_name: str = setting(
        "perReplicaClassName",
        "StorageClass (Azure Disk, ReadWriteOnce) for per-replica volumes.",
        K8S_NAME,
        default="managed-retain-disk",
    )
    per_replica_sku: str = setting(
        "perReplicaSku",
        "Azure Disk SKU of per-replica volumes (ZRS survives a zone outage).",
        one_of("Standard_LRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Premium_LRS", "Premium_ZRS"),
        default="StandardSSD_LRS",
    )
    shared_class_name: str = setting(
        "sharedClassName",
        "StorageClass (Azure Files, ReadWriteMany) for volumes shared by all replicas.",
        K8S_NAME,
        default="azurefile-retain-rwx",
    )
    shared_sku: str = setting(
        "sharedSku",
        "Azure Files SKU of shared volumes (Premium shares are provisioned at 100 GiB minimum).",
        one_of("Standard_LRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS"),
        default="Premium_LRS",
    )
    shared_mount_uid: int = setting(
        "sharedMountUid",
        "Owner uid of files on shared volumes (SMB has no POSIX owners; the mode is 0777 so any uid can write).",
        integer(0, 2147483647),
        default=0,
    )
    shared_mount_gid: int = setting(
        "sharedMountGid", "Owner gid of files on shared volumes.", integer(0, 2147483647), default=0
    )


@dataclass(frozen=True)
class IngressSettings:
    controller_exposure: str = setting(
        "controllerExposure",
        "How the app-routing nginx controller is reachable: a public (`External`) or internal load balancer, "
        "or per its annotations (`AnnotationControlled`).",
        one_of("External", "Internal", "AnnotationControlled"),
        default="External",
    )
    dns_zone_resource_ids: tuple[str, ...] = setting(
        "dnsZoneResourceIds",
        "Azure DNS zones in which app routing manages records for Ingress hosts.",
        _unique(list_of(DNS_ZONE_ID)),
        default=(),
    )


@dataclass(frozen=True)
class ExistingClusterSettings:
    kubeconfig: str | None = setting(
        "kubeconfig",
        "Path to the kubeconfig of the cluster; unset: the ambient kubeconfig ($KUBECONFIG or ~/.kube/config).",
        optional(PATH_OR_CONTENT),
        default=None,
    )
    context: str | None = setting(
        "context", "Context of the kubeconfig to use; unset: its current context.", optional(CONTEXT), default=None
    )
    per_replica_storage_class: str | None = setting(
        "perReplicaStorageClass",
        "StorageClass for per-replica (ReadWriteOnce) volumes; unset: the cluster's default class.",
        optional(K8S_NAME),
        default=None,
    )
    shared_storage_class: str | None = setting(
        "sharedStorageClass",
        "StorageClass for shared (ReadWriteMany) volumes; unset: the cluster's default class.",
        optional(K8S_NAME),
        default=None,
    )
    ingress_class: str = setting(
        "ingressClass", "IngressClass of the cluster's ingress controller.", K8S_NAME, default="nginx"
    )
    ingress_controller_namespace: str = setting(
        "ingressControllerNamespace",
        "Namespace the ingress controller runs in: NetworkPolicies admit Ingress traffic only from it.",
        K8S_NAME,
        default="ingress-nginx",
    )
    exposure: str = setting(
        "exposure",
        "How public Services are exposed: `LoadBalancer` (cloud, `minikube tunnel`, MetalLB) or `NodePort`.",
        one_of("LoadBalancer", "NodePort"),
        default="LoadBalancer",
    )
    # The nodes of an existing cluster are unknown offline: a declared budget lets the capacity check run.
    allocatable_cpu: str | None = setting(
        "allocatableCpu",
        "CPU the cluster's nodes leave to the apps' pods (after its own control plane and add-ons); the render "
        "fails when the apps request more. Set together with allocatableMemory; unset: not checked.",
        optional(quantity("2 or 3500m")),
        default=None,
    )
    allocatable_memory: str | None = setting(
        "allocatableMemory",
        "Memory the cluster's nodes leave to the apps' pods; set together with allocatableCpu; unset: not checked.",
        optional(quantity("7Gi or 7500Mi")),
        default=None,
    )

    def __post_init__(self) -> None:
        if (self.allocatable_cpu is None) != (self.allocatable_memory is None):
            given, missing = (("allocatableCpu", "allocatableMemory") if self.allocatable_cpu is not None
                              else ("allocatableMemory", "allocatableCpu"))
            raise ConfigError(f"{NAMESPACE}:existing.{missing}: expected a quantity when existing.{given} is set "
                              "(the capacity budget needs both), got null")


@dataclass(frozen=True)
class NetworkSettings:
    """The stack-owned virtual network (infra/network.py) and the cluster's overlay ranges."""

    address_space: str = setting(
        "addressSpace", "Address space of the stack's virtual network.", CIDR, default="10.240.0.0/16"
    )
    node_subnet_prefix: str = setting(
        "nodeSubnetPrefix",
        "Subnet of both node pools (with Azure CNI overlay only nodes take VNet addresses: a /22 holds 1019).",
        CIDR,
        default="10.240.0.0/22",
    )
    private_endpoint_subnet_prefix: str = setting(
        "privateEndpointSubnetPrefix",
        "Subnet of the private endpoints (registry, Key Vault).",
        CIDR,
        default="10.240.4.0/24",
    )
    pod_cidr: str = setting(
        "podCidr",
        "Azure CNI overlay pod range (private to the cluster; must not overlap the VNet or the service range).",
        CIDR,
        default="10.244.0.0/16",
    )
    service_cidr: str = setting(
        "serviceCidr",
        "Kubernetes Service range (must not overlap the VNet or the pod range).",
        CIDR,
        default="10.0.0.0/16",
    )
    dns_service_ip: str = setting(
        "dnsServiceIp",
        "Cluster DNS Service address, inside serviceCidr (not its first address).",
        IPV4,
        default="10.0.0.10",
    )


# The group ------------------------------------------------------------------------------------------------

_AKS_ONLY = ("azure", "cluster", "network", "registry", "monitoring", "storage", "ingress", "keyVault", "backup")


@dataclass(frozen=True)
class PlatformSettings:
    kind: str = setting(
        "platform",
        "`aks`: create an AKS cluster and an Azure Container Registry; `existing`: deploy to the cluster of a kubeconfig, no Azure.",
        one_of("aks", "existing"),
        default="aks",
    )
    azure: AzureSettings = section("azure", "Azure placement of the AKS platform.", AzureSettings)
    cluster: ClusterSettings = section("cluster", "The AKS cluster.", ClusterSettings)
    network: NetworkSettings = section("network", "The stack's virtual network and the cluster's address ranges.", NetworkSettings)
    registry: RegistrySettings = section("registry", "The Azure Container Registry.", RegistrySettings)
    monitoring: MonitoringSettings = section("monitoring", "Azure Monitor for the cluster.", MonitoringSettings)
    storage: StorageSettings = section("storage", "StorageClasses created on AKS.", StorageSettings)
    ingress: IngressSettings = section("ingress", "AKS app routing (managed nginx).", IngressSettings)
    key_vault: KeyVaultSettings = section("keyVault", "The stack's Key Vault for its generated secrets.", KeyVaultSettings)
    backup: BackupSettings = section("backup", "Azure Backup for AKS of the stores' volumes.", BackupSettings)
    existing: ExistingClusterSettings = section(
        "existing", "An existing cluster (`platform: existing`).", ExistingClusterSettings
    )

    def __post_init__(self) -> None:
        # Keys of this inline group sit at the top level, so their full paths are fixed.
        if self.kind == "aks":
            _reject_changed("existing", self.existing, 'no value with platform "aks" (set platform: existing to use it)')
            _check_cluster(self.cluster)
            _check_network(self.network)
            _check_defender(self)
            _check_registry(self.registry)
            _check_storage(self.storage)
            _check_monitoring(self.monitoring)
            _check_backup(self.backup)
            _check_key_vault(self.key_vault)
        else:
            for key in _AKS_ONLY:
                attr = re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), key)
                _reject_changed(key, getattr(self, attr), 'no value with platform "existing" (it applies to platform "aks")')


def _fail(key: str, value: Any, allowed: str) -> None:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    raise ConfigError(f"{NAMESPACE}:{key}: expected {allowed}, got {shown}")


def _check_cluster(cluster: ClusterSettings) -> None:
    system = cluster.system_pool
    if (system.min_count is None) != (system.max_count is None):
        given_key, value = (
            ("cluster.systemPool.minCount", system.min_count)
            if system.max_count is None
            else ("cluster.systemPool.maxCount", system.max_count)
        )
        _fail(given_key, value, "minCount and maxCount set together (both or neither)")
    if system.min_count is not None and system.max_count is not None:
        if system.min_count > system.max_count:
            _fail("cluster.systemPool.minCount", system.min_count, f"at most systemPool.maxCount ({system.max_count})")
        if not system.min_count <= cluster.node_count <= system.max_count:
            _fail(
                "cluster.nodeCount",
                cluster.node_count,
                f"an integer from systemPool.minCount to systemPool.maxCount ({system.min_count}-{system.max_count})",
            )
    if cluster.private_cluster and cluster.authorized_ip_ranges:
        _fail(
            "cluster.authorizedIpRanges",
            list(cluster.authorized_ip_ranges),
            "[] when cluster.privateCluster is true (a private API server has no public endpoint to restrict)",
        )
    _check_os_disk("cluster.systemPool", cluster.system_pool.vm_size, cluster.system_pool.os_disk_type, cluster.system_pool.os_disk_size_gb)
    if cluster.user_pool.enabled:
        _check_os_disk("cluster.userPool", cluster.user_pool.vm_size, cluster.user_pool.os_disk_type, cluster.user_pool.os_disk_size_gb)
    user = cluster.user_pool
    if user.min_count > user.max_count:
        _fail("cluster.userPool.minCount", user.min_count, f"at most userPool.maxCount ({user.max_count})")
    if not cluster.entra_id:
        for key, value in (
            ("azureRbac", cluster.azure_rbac),
            ("disableLocalAccounts", cluster.disable_local_accounts),
        ):
            if value:
                _fail(f"cluster.{key}", value, "false unless cluster.entraId is true")
        if cluster.admin_group_object_ids:
            _fail("cluster.adminGroupObjectIds", list(cluster.admin_group_object_ids), "[] unless cluster.entraId is true")
    elif not cluster.azure_rbac and not cluster.admin_group_object_ids:
        # Entra ID with Kubernetes RBAC: only admin groups' members may use the API, the deployer included.
        _fail(
            "cluster.adminGroupObjectIds",
            [],
            "at least one group (with the deploying identity in it) when entraId is on and azureRbac is off",
        )


# Where an ephemeral OS disk can live: the VM's cache or its temp (resource) disk, whichever is larger (GiB),
# from the VM size pages of https://learn.microsoft.com/azure/virtual-machines/sizes (Ddsv5, Dadsv5, Edsv5,
# Dsv3, DSv2). AKS places the OS disk on the cache if it fits, else on the temp disk
# (https://learn.microsoft.com/azure/aks/concepts-storage#ephemeral-os-disk).
EPHEMERAL_OS_DISK_CAPACITY_GIB = {
    **{f"Standard_D{n}ds_v5": 75 * n // 2 for n in (2, 4, 8, 16, 32, 48, 64, 96)},
    **{f"Standard_D{n}ads_v5": 75 * n // 2 for n in (2, 4, 8, 16, 32, 48, 64, 96)},
    **{f"Standard_E{n}ds_v5": 75 * n // 2 for n in (2, 4, 8, 16, 20, 32, 48, 64, 96)},
    "Standard_D2s_v3": 50, "Standard_D4s_v3": 100, "Standard_D8s_v3": 200, "Standard_D16s_v3": 400,
    "Standard_DS2_v2": 86, "Standard_DS3_v2": 172, "Standard_DS4_v2": 344, "Standard_DS5_v2": 688,
}
# v4 and later sizes without a `d` in their feature letters have neither a temp disk nor a cache to speak of
# (Standard_D4s_v5: "Temp storage: remote storage only"): no ephemeral OS disk at all.
_DISKLESS = re.compile(r"Standard_[A-Z]+[0-9]+(-[0-9]+)?[a-ce-z]*_v[4-9]")


def _check_os_disk(pool: str, vm_size: str, disk_type: str, size_gb: int) -> None:
    if disk_type != "Ephemeral":
        return
    if _DISKLESS.fullmatch(vm_size):
        _fail(
            f"{pool}.osDiskType",
            disk_type,
            f"Managed with vmSize {vm_size} (it has no cache or temp disk for an ephemeral OS disk; "
            "pick a size with a `d`, e.g. Standard_D4ds_v5)",
        )
    capacity = EPHEMERAL_OS_DISK_CAPACITY_GIB.get(vm_size)
    if capacity is not None and size_gb > capacity:
        _fail(
            f"{pool}.osDiskSizeGb",
            size_gb,
            f"at most {capacity} for an ephemeral OS disk on {vm_size} (its cache or temp disk)",
        )


def _check_network(network: NetworkSettings) -> None:
    vnet = ipaddress.IPv4Network(network.address_space)
    subnets = {
        "network.nodeSubnetPrefix": ipaddress.IPv4Network(network.node_subnet_prefix),
        "network.privateEndpointSubnetPrefix": ipaddress.IPv4Network(network.private_endpoint_subnet_prefix),
    }
    for key, subnet in subnets.items():
        if not subnet.subnet_of(vnet):
            _fail(key, str(subnet), f"a range inside network.addressSpace ({vnet})")
    node, endpoints = subnets.values()
    if node.overlaps(endpoints):
        _fail("network.privateEndpointSubnetPrefix", str(endpoints), f"a range that does not overlap network.nodeSubnetPrefix ({node})")
    pods = ipaddress.IPv4Network(network.pod_cidr)
    services = ipaddress.IPv4Network(network.service_cidr)
    # Overlay pod and Service ranges are private to the cluster, but routing breaks if they meet the VNet.
    if pods.overlaps(vnet):
        _fail("network.podCidr", str(pods), f"a range that does not overlap network.addressSpace ({vnet})")
    if services.overlaps(vnet):
        _fail("network.serviceCidr", str(services), f"a range that does not overlap network.addressSpace ({vnet})")
    if services.overlaps(pods):
        _fail("network.serviceCidr", str(services), f"a range that does not overlap network.podCidr ({pods})")
    dns = ipaddress.IPv4Address(network.dns_service_ip)
    if dns not in services or dns == services.network_address:
        _fail("network.dnsServiceIp", str(dns), f"an address inside network.serviceCidr ({services}), not its first")


def _check_registry(registry: RegistrySettings) -> None:
    premium_only = [
        ("privateEndpoint", registry.private_endpoint, True),
        ("zoneRedundancy", registry.zone_redundancy, True),
        ("retentionDays", registry.retention_days, None),
        ("exportsAllowed", registry.exports_allowed, False),
        ("quarantine", registry.quarantine, True),
    ]
    if registry.sku != "Premium":
        for key, value, premium_value in premium_only:
            if (value is not None) if premium_value is None else (value == premium_value):
                _fail(f"registry.{key}", value, f"its default unless registry.sku is Premium (got sku {registry.sku})")
    if not registry.public_network_access and not registry.private_endpoint:
        _fail("registry.publicNetworkAccess", False, "true unless registry.privateEndpoint is true (nodes could not pull)")
    if not registry.exports_allowed and registry.public_network_access:
        _fail("registry.exportsAllowed", False, "true unless registry.publicNetworkAccess is false (Azure refuses it)")
    if registry.quarantine and registry.cache_images:
        _fail(
            "registry.quarantine",
            True,
            "false while registry.cacheImages is true (cached images would stay quarantined: nothing marks them Passed)",
        )
    credentials = registry.credential_set
    values = {
        "usernameSecretId": credentials.username_secret_id,
        "passwordSecretId": credentials.password_secret_id,
        "keyVaultId": credentials.key_vault_id,
    }
    given_keys = [key for key, value in values.items() if value is not None]
    if given_keys and len(given_keys) < len(values):
        missing = next(key for key, value in values.items() if value is None)
        _fail(f"registry.credentialSet.{missing}", None, "a value: usernameSecretId, passwordSecretId and keyVaultId go together")
    if given_keys and not registry.cache_images:
        _fail("registry.credentialSet.usernameSecretId", credentials.username_secret_id, "no value when registry.cacheImages is false")


def _check_defender(platform: PlatformSettings) -> None:
    if platform.cluster.defender and not platform.monitoring.container_insights:
        _fail("cluster.defender", True, "false unless monitoring.containerInsights is true (Defender reports to its workspace)")


def _check_storage(storage: StorageSettings) -> None:
    if storage.per_replica_class_name == storage.shared_class_name:
        _fail("storage.sharedClassName", storage.shared_class_name, "a name other than storage.perReplicaClassName")


def _check_monitoring(monitoring: MonitoringSettings) -> None:
    if monitoring.control_plane_logs and not monitoring.container_insights:
        _fail("monitoring.controlPlaneLogs", True, "false unless monitoring.containerInsights is true (the logs go to its workspace)")
    if monitoring.alerts and not monitoring.prometheus:
        _fail("monitoring.alerts", True, "false unless monitoring.prometheus is true (the rules query its metrics)")
    if monitoring.alerts and not monitoring.alert_emails:
        _fail("monitoring.alertEmails", [], "at least one email address when monitoring.alerts is true")


def _check_key_vault(vault: KeyVaultSettings) -> None:
    if not vault.public_network_access and not vault.private_endpoint:
        _fail("keyVault.publicNetworkAccess", False, "true unless keyVault.privateEndpoint is true (pods could not read it)")


def _check_backup(backup: BackupSettings) -> None:
    # A weekly backup kept less than a week leaves days with no restore point at all.
    if backup.enabled and backup.frequency == "weekly" and backup.retention_in_days < 7:
        _fail("backup.retentionInDays", backup.retention_in_days, "at least 7 with backup.frequency weekly")


def _reject_changed(path: str, value: Any, allowed: str) -> None:
    """Reject the first key of a section that differs from its default."""
    changed = _first_changed(path, value, type(value)())
    if changed is not None:
        key, given_value = changed
        _fail(key, given_value, allowed)


def _first_changed(path: str, value: Any, default: Any) -> tuple[str, Any] | None:
    for f in dataclasses.fields(value):
        if "key" not in f.metadata:
            continue
        key = f"{path}.{f.metadata['key']}"
        mine, theirs = getattr(value, f.name), getattr(default, f.name)
        if dataclasses.is_dataclass(mine):
            found = _first_changed(key, mine, theirs)
            if found is not None:
                return found
        elif mine != theirs:
            return key, list(mine) if isinstance(mine, tuple) else mine
    return None
