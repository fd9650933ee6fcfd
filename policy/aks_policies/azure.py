"""Policies on the Azure platform: the registry and the AKS cluster (azure-native, and the classic azure provider)."""

from __future__ import annotations

import re

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._props import UNKNOWN, config_list, get, items, stack_of

_REGISTRY = re.compile(r"azure-native:containerregistry(/v[0-9a-z]+)?:Registry")
_CLASSIC_REGISTRY = "azure:containerservice/registry:Registry"
_CLUSTER = re.compile(r"azure-native:containerservice(/v[0-9a-z]+)?:ManagedCluster")
_CLASSIC_CLUSTER = "azure:containerservice/kubernetesCluster:KubernetesCluster"
_AGENT_POOL = re.compile(r"azure-native:containerservice(/v[0-9a-z]+)?:AgentPool")
_CLASSIC_NODE_POOL = "azure:containerservice/kubernetesClusterNodePool:KubernetesClusterNodePool"
DEFAULT_PRODUCTION_STACKS = ("prod", "production")
# Ranges that admit every address: an authorized-ranges list holding one restricts nothing.
_ANY_ADDRESS = ("0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "::/0")


def _check_registry_admin(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _REGISTRY.fullmatch(args.resource_type):
        field = "adminUserEnabled"
    elif args.resource_type == _CLASSIC_REGISTRY:
        field = "adminEnabled"
    else:
        return
    # Unset is Azure's default: disabled. Unknown cannot be judged before the update.
    if get(args.props, field) is True:
        report_violation(f"registry {args.name}: {field} is true; pull with the cluster's managed identity "
                         "(AcrPull) and push with Entra ID identities instead of the shared admin user", None)


registry_admin_user_disabled = ResourceValidationPolicy(
    name="registry-admin-user-disabled",
    description="Container registries keep the shared admin user disabled.",
    validate=_check_registry_admin,
)


def _check_local_accounts(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _CLUSTER.fullmatch(args.resource_type):
        field = "disableLocalAccounts"
        disabled = get(args.props, field)
    elif args.resource_type == _CLASSIC_CLUSTER:
        field = "localAccountDisabled"
        disabled = get(args.props, field)
    else:
        return
    stack = stack_of(args.urn)
    production = set(config_list(dict(args.get_config() or {}), "productionStacks", DEFAULT_PRODUCTION_STACKS))
    if stack not in production or disabled is UNKNOWN:
        return
    if disabled is not True:
        report_violation(f"AKS cluster {args.name} of production stack {stack!r}: {field} is not true; turn on "
                         "Entra ID and disable the static admin account (cluster.disableLocalAccounts)", None)


aks_local_accounts_disabled_in_production = ResourceValidationPolicy(
    name="aks-local-accounts-disabled-in-production",
    description="AKS clusters of production stacks have local accounts disabled (Entra ID users only).",
    validate=_check_local_accounts,
    config_schema=PolicyConfigSchema(properties={
        "productionStacks": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_PRODUCTION_STACKS),
            "description": "Stack names that are production.",
        },
    }),
)

def _production_stack(args: ResourceValidationArgs) -> str | None:
    """The stack's name when it is a production stack (policy config `productionStacks`), else None."""
    stack = stack_of(args.urn)
    production = set(config_list(dict(args.get_config() or {}), "productionStacks", DEFAULT_PRODUCTION_STACKS))
    return stack if stack in production else None


_PRODUCTION_SCHEMA = PolicyConfigSchema(properties={
    "productionStacks": {
        "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_PRODUCTION_STACKS),
        "description": "Stack names that are production.",
    },
})


def _check_api_server(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _CLUSTER.fullmatch(args.resource_type):
        private = get(args.props, "apiServerAccessProfile", "enablePrivateCluster")
        ranges = get(args.props, "apiServerAccessProfile", "authorizedIPRanges")
        fields = "apiServerAccessProfile.enablePrivateCluster / authorizedIPRanges"
    elif args.resource_type == _CLASSIC_CLUSTER:
        private = get(args.props, "privateClusterEnabled")
        ranges = get(args.props, "apiServerAccessProfile", "authorizedIpRanges")
        fields = "privateClusterEnabled / apiServerAccessProfile.authorizedIpRanges"
    else:
        return
    stack = _production_stack(args)
    if stack is None or private is UNKNOWN or ranges is UNKNOWN or private is True:
        return
    listed = [r for r in (ranges or []) if isinstance(r, str)]
    if not listed or any(r in _ANY_ADDRESS for r in listed):
        report_violation(f"AKS cluster {args.name} of production stack {stack!r}: its API server is reachable from any "
                         f"address ({fields}); make it private (cluster.privateCluster) or list the deployer's "
                         "egress ranges (cluster.authorizedIpRanges)", None)


aks_api_server_not_public_in_production = ResourceValidationPolicy(
    name="aks-api-server-not-public-in-production",
    description="AKS clusters of production stacks have a private API server or authorized IP ranges.",
    validate=_check_api_server,
    config_schema=_PRODUCTION_SCHEMA,
)


def _check_host_encryption(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _CLUSTER.fullmatch(args.resource_type):
        pools = [(get(p, "name", default="#0"), get(p, "enableEncryptionAtHost"))
                 for p in items(args.props, "agentPoolProfiles")]
    elif _AGENT_POOL.fullmatch(args.resource_type):
        pools = [(get(args.props, "agentPoolName", default=args.name), get(args.props, "enableEncryptionAtHost"))]
    elif args.resource_type == _CLASSIC_CLUSTER:
        pools = [(get(args.props, "defaultNodePool", "name", default="default"),
                  get(args.props, "defaultNodePool", "hostEncryptionEnabled"))]
    elif args.resource_type == _CLASSIC_NODE_POOL:
        pools = [(get(args.props, "name", default=args.name), get(args.props, "hostEncryptionEnabled"))]
    else:
        return
    stack = _production_stack(args)
    if stack is None:
        return
    for pool, enabled in pools:
        if enabled is not UNKNOWN and enabled is not True:
            report_violation(f"node pool {pool!s} of {args.name} in production stack {stack!r}: encryption at host is "
                             "off; temp disks and disk caches stay unencrypted (cluster.encryptionAtHost)", None)


aks_host_encryption_in_production = ResourceValidationPolicy(
    name="aks-host-encryption-in-production",
    description="Every node pool of a production stack encrypts its temp disks and disk caches at the host.",
    validate=_check_host_encryption,
    config_schema=_PRODUCTION_SCHEMA,
)


def _check_registry_network(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if _REGISTRY.fullmatch(args.resource_type):
        field, value = "publicNetworkAccess", get(args.props, "publicNetworkAccess")
        public = value != "Disabled"  # unset is Azure's default: Enabled
    elif args.resource_type == _CLASSIC_REGISTRY:
        field, value = "publicNetworkAccessEnabled", get(args.props, "publicNetworkAccessEnabled")
        public = value is not False  # unset: true
    else:
        return
    stack = _production_stack(args)
    if stack is None or value is UNKNOWN:
        return
    if public:
        report_violation(f"registry {args.name} of production stack {stack!r}: {field} lets the internet reach it; "
                         "pull over its private endpoint instead (registry.publicNetworkAccess: false, "
                         "registry.privateEndpoint: true)", None)


registry_not_public_in_production = ResourceValidationPolicy(
    name="registry-not-public-in-production",
    description="Container registries of production stacks are off the public network (private endpoint only).",
    validate=_check_registry_network,
    config_schema=_PRODUCTION_SCHEMA,
)

_VAULT = re.compile(r"azure-native:keyvault(/v[0-9a-z]+)?:Vault")
_BACKUP_INSTANCE = re.compile(r"azure-native:dataprotection(/v[0-9a-z]+)?:BackupInstance")
_BACKUP_EXTENSION = re.compile(r"azure-native:kubernetesconfiguration(/v[0-9a-z]+)?:Extension")
_DIAGNOSTIC_SETTING = re.compile(r"azure-native:(monitor|insights)(/v[0-9a-z]+)?:DiagnosticSetting")
_MONITOR_WORKSPACE = re.compile(r"azure-native:monitor(/v[0-9a-z]+)?:AzureMonitorWorkspace")
_RULE_GROUP = re.compile(r"azure-native:alertsmanagement(/v[0-9a-z]+)?:PrometheusRuleGroup")
_ACTION_GROUP = re.compile(r"azure-native:(monitor|insights)(/v[0-9a-z]+)?:ActionGroup")
CONTROL_PLANE_LOGS = ("kube-audit-admin", "guard", "kube-controller-manager", "cluster-autoscaler")


def _of_type(args: StackValidationArgs, pattern: re.Pattern) -> list:
    return [r for r in args.resources if pattern.fullmatch(r.resource_type)]


def _production_gaps(args: StackValidationArgs) -> list[str]:
    """What a production AKS stack lacks of: its secrets in a Key Vault, backups, control-plane logs, managed
    Prometheus with the cluster's metrics on, and alerts that reach someone. Unknown values are not judged."""
    clusters = _of_type(args, _CLUSTER)
    gaps = []
    vaults = _of_type(args, _VAULT)
    if not vaults:
        gaps.append("no Key Vault holds its secrets (keyVault.enabled)")
    for vault in vaults:
        for field, key in (("enableRbacAuthorization", "RBAC authorization"), ("enablePurgeProtection", "purge protection (keyVault.purgeProtection)")):
            value = get(vault.props, "properties", field)
            if value is not UNKNOWN and value is not True:
                gaps.append(f"Key Vault {vault.name} has no {key}")
    if not _of_type(args, _BACKUP_INSTANCE) or not [e for e in _of_type(args, _BACKUP_EXTENSION)
                                                    if get(e.props, "extensionType") == "microsoft.dataprotection.kubernetes"]:
        gaps.append("its stores are not backed up: no Azure Backup for AKS extension and backup instance (backup.enabled)")
    logged: set[str] = set()
    for setting in _of_type(args, _DIAGNOSTIC_SETTING):
        for log in items(setting.props, "logs"):
            if get(log, "enabled") is True and isinstance(get(log, "category"), str):
                logged.add(get(log, "category"))
    missing_logs = [c for c in CONTROL_PLANE_LOGS if c not in logged]
    if missing_logs:
        gaps.append(f"control-plane logs {missing_logs} are not sent to a workspace (monitoring.controlPlaneLogs)")
    metrics_on = [c for c in clusters if get(c.props, "azureMonitorProfile", "metrics", "enabled") in (True, UNKNOWN)]
    if not _of_type(args, _MONITOR_WORKSPACE) or not metrics_on:
        gaps.append("no managed Prometheus: an Azure Monitor workspace and the cluster's metrics profile (monitoring.prometheus)")
    receivers = [g for g in _of_type(args, _ACTION_GROUP) if items(g.props, "emailReceivers")]
    if not _of_type(args, _RULE_GROUP) or not receivers:
        gaps.append("no alert rules sent to an action group with email receivers (monitoring.alerts, monitoring.alertEmails)")
    return gaps


def _check_production_operations(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    clusters = _of_type(args, _CLUSTER)
    if not clusters:
        return  # not an AKS stack: nothing of this is Azure's to provide
    stack = stack_of(clusters[0].urn)
    production = set(config_list(dict(args.get_config() or {}), "productionStacks", DEFAULT_PRODUCTION_STACKS))
    if stack not in production:
        return
    for gap in _production_gaps(args):
        report_violation(f"production stack {stack!r}: {gap}", None)


production_secrets_backups_and_signals = StackValidationPolicy(
    name="production-secrets-backups-and-signals",
    description="Production AKS stacks keep secrets in an RBAC, purge-protected Key Vault, back up their stores "
                "with Azure Backup for AKS, send control-plane logs to a workspace, run managed Prometheus and "
                "alert an action group.",
    validate=_check_production_operations,
    config_schema=_PRODUCTION_SCHEMA,
)

POLICIES = [
    registry_admin_user_disabled,
    aks_local_accounts_disabled_in_production,
    aks_api_server_not_public_in_production,
    aks_host_encryption_in_production,
    registry_not_public_in_production,
    production_secrets_backups_and_signals,
]
