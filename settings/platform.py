"""Platform settings: where the apps run (a new AKS cluster, or an existing cluster). Owned by infra/.

These keys sit at the top level of the `aks-microservices:` namespace (an inline group): `platform` picks
the kind, `azure`, `cluster`, `registry`, `monitoring`, `storage` and `ingress` describe the AKS platform,
`existing` describes a cluster that someone else runs. A section that does not apply to the stack's
platform must be left out, so that a setting never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from settings.schema import (
    NAMESPACE,
    Check,
    ConfigError,
    boolean,
    integer,
    list_of,
    matching,
    one_of,
    optional,
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

_TAG_KEY = re.compile(r"[^<>%&\\?/]{1,512}")


def _tags(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict):
        raise TypeError
    for key, tag in value.items():
        if not isinstance(key, str) or not _TAG_KEY.fullmatch(key):
            raise ValueError
        if not isinstance(tag, str) or len(tag) > 256:
            raise ValueError
    return dict(value)


TAGS = Check("a map of tag name (1-512 characters, none of <>%&\\?/) to a string of at most 256 characters", _tags)

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


@dataclass(frozen=True)
class SystemPoolSettings:
    vm_size: str = setting("vmSize", "VM size of the system node pool.", VM_SIZE, default="Standard_D2s_v5")
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
        "frequency", "How often the stores are backed up.", one_of("daily", "weekly"), default="daily"
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


# The group ------------------------------------------------------------------------------------------------

_AKS_ONLY = ("azure", "cluster", "registry", "monitoring", "storage", "ingress", "keyVault", "backup")


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
            _check_registry(self.registry)
            _check_storage(self.storage)
            _check_monitoring(self.monitoring)
            _check_backup(self.backup)
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


def _check_registry(registry: RegistrySettings) -> None:
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
