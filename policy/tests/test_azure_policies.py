"""Azure policies: no registry admin user anywhere, no AKS local accounts in production."""

from __future__ import annotations

import pytest
from aks_policies.azure import aks_local_accounts_disabled_in_production, registry_admin_user_disabled
from harness import UNKNOWN_STRING, check_resource

REGISTRY = "azure-native:containerregistry:Registry"
CLUSTER = "azure-native:containerservice:ManagedCluster"


@pytest.mark.parametrize("registry_type", [REGISTRY, "azure-native:containerregistry/v20230701:Registry"])
def test_a_registry_with_its_admin_user_enabled_is_a_violation(registry_type):
    [violation] = check_resource(registry_admin_user_disabled, registry_type,
                                 {"adminUserEnabled": True, "sku": {"name": "Basic"}}, name="acr")
    assert violation.startswith("registry acr: adminUserEnabled is true")


def test_the_classic_azure_provider_registry_is_checked_too():
    assert len(check_resource(registry_admin_user_disabled, "azure:containerservice/registry:Registry",
                              {"adminEnabled": True})) == 1


@pytest.mark.parametrize("props", [{"adminUserEnabled": False}, {"sku": {"name": "Premium"}}])
def test_a_registry_with_the_admin_user_off_or_unset_passes(props):
    assert check_resource(registry_admin_user_disabled, REGISTRY, props) == []


@pytest.mark.parametrize("props", [{"disableLocalAccounts": False}, {}])
def test_a_production_cluster_with_local_accounts_is_a_violation(props):
    [violation] = check_resource(aks_local_accounts_disabled_in_production, CLUSTER, props, name="aks", stack="prod")
    assert "production stack 'prod'" in violation and "disableLocalAccounts is not true" in violation


def test_a_production_cluster_with_local_accounts_disabled_passes():
    props = {"disableLocalAccounts": True, "aadProfile": {"managed": True, "enableAzureRBAC": True}}
    assert check_resource(aks_local_accounts_disabled_in_production, CLUSTER, props, stack="prod") == []


def test_other_stacks_may_keep_local_accounts_and_production_is_configurable():
    props = {"disableLocalAccounts": False}
    assert check_resource(aks_local_accounts_disabled_in_production, CLUSTER, props, stack="dev") == []
    config = {"productionStacks": ["live"]}
    assert check_resource(aks_local_accounts_disabled_in_production, CLUSTER, props, stack="prod", config=config) == []
    assert len(check_resource(aks_local_accounts_disabled_in_production, CLUSTER, props, stack="live",
                              config=config)) == 1


def test_a_value_not_known_during_preview_is_left_to_the_update():
    assert check_resource(aks_local_accounts_disabled_in_production, CLUSTER,
                          {"disableLocalAccounts": UNKNOWN_STRING}, stack="prod") == []
