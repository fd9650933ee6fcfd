"""Production keeps its secrets in Key Vault, backs up its stores, logs its control plane, runs managed Prometheus
and alerts someone: the real prod stack passes, and each piece dropped from it is caught."""

from __future__ import annotations

import copy

import pytest
from aks_policies import ALL_POLICIES
from aks_policies.azure import production_secrets_backups_and_signals
from harness import check_all, check_stack, resource
from test_rendered_stacks import CONFIG, exported

POLICY = production_secrets_backups_and_signals.name
CLUSTER = "azure-native:containerservice:ManagedCluster"
VAULT = "azure-native:keyvault:Vault"
BACKUP_INSTANCE = "azure-native:dataprotection:BackupInstance"
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
MONITOR_WORKSPACE = "azure-native:monitor:AzureMonitorWorkspace"
RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
ACTION_GROUP = "azure-native:monitor:ActionGroup"


def _violations_after(change, stack: str = "prod") -> list[str]:
    resources = copy.deepcopy(exported(stack))
    change(resources)
    return [v for v in check_all(ALL_POLICIES, resources, CONFIG) if v.startswith(POLICY)]


def _drop(resource_type):
    def change(resources):
        resources[:] = [r for r in resources if r["type"] != resource_type]
    return change


def test_the_prod_stack_has_every_piece():
    assert _violations_after(lambda resources: None) == []


@pytest.mark.parametrize(("resource_type", "gap"), [
    (VAULT, "no Key Vault holds its secrets"),
    (BACKUP_INSTANCE, "its stores are not backed up"),
    (EXTENSION, "its stores are not backed up"),
    (DIAGNOSTIC_SETTING, "control-plane logs"),
    (MONITOR_WORKSPACE, "no managed Prometheus"),
    (RULE_GROUP, "no alert rules"),
    (ACTION_GROUP, "no alert rules"),
])
def test_production_without_a_piece_is_caught_naming_it(resource_type, gap):
    [violation] = _violations_after(_drop(resource_type))
    assert f"production stack 'prod': {gap}" in violation


def test_a_vault_without_purge_protection_or_a_cluster_without_metrics_is_caught():
    def weaken(resources):
        for item in resources:
            if item["type"] == VAULT:
                item["props"]["properties"].pop("enablePurgeProtection", None)
            if item["type"] == CLUSTER:
                item["props"].pop("azureMonitorProfile", None)
    violations = _violations_after(weaken)
    assert any("has no purge protection" in v for v in violations)
    assert any("no managed Prometheus" in v for v in violations)


def test_a_missing_control_plane_category_is_named():
    def drop_guard(resources):
        for item in resources:
            if item["type"] == DIAGNOSTIC_SETTING:
                item["props"]["logs"] = [log for log in item["props"]["logs"] if log["category"] != "guard"]
    [violation] = _violations_after(drop_guard)
    assert "control-plane logs ['guard']" in violation


def test_dev_and_clusters_it_does_not_create_are_not_judged():
    # Dev turns backups, logs, Prometheus and alerts off (cheap); the same program's prod must have them.
    assert [v for v in check_all(ALL_POLICIES, exported("dev"), CONFIG) if v.startswith(POLICY)] == []
    assert [v for v in check_all(ALL_POLICIES, exported("local"), CONFIG) if v.startswith(POLICY)] == []
    vault = resource(VAULT, {"properties": {}}, name="kv")
    assert check_stack(production_secrets_backups_and_signals, [vault]) == []  # no cluster: not an AKS stack
