"""Policies on the Azure platform: the registry and the AKS cluster (azure-native, and the classic azure provider)."""

from __future__ import annotations

import re

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from ._props import UNKNOWN, config_list, get, stack_of

_REGISTRY = re.compile(r"azure-native:containerregistry(/v[0-9a-z]+)?:Registry")
_CLASSIC_REGISTRY = "azure:containerservice/registry:Registry"
_CLUSTER = re.compile(r"azure-native:containerservice(/v[0-9a-z]+)?:ManagedCluster")
_CLASSIC_CLUSTER = "azure:containerservice/kubernetesCluster:KubernetesCluster"
DEFAULT_PRODUCTION_STACKS = ("prod", "production")


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

POLICIES = [registry_admin_user_disabled, aks_local_accounts_disabled_in_production]
