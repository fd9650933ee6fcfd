"""The monthly cost estimate (offline/cost.py): in summary.md and the README, and it follows the stack."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from offline.cost import PRICES_AS_OF, PRICES_SOURCE, estimate, estimate_recording, readme_table
from offline.engine import PROJECT_DIR, run_stack
from offline.render import render
from offline.stack_config import available_stacks

DEV = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]


def _dev_with_cluster(**changes) -> dict:
    """The dev stack's cluster section with some keys changed (overrides replace a whole section)."""
    cluster = {**DEV["aks-microservices:cluster"], **changes}
    return {"cluster": cluster}


def _line(cost, starts: str):
    return next(line for line in cost.lines if line.item.startswith(starts))


@pytest.fixture(scope="module")
def dev():
    return estimate_recording(run_stack("dev"))


def test_the_dev_estimate_prices_each_pool_at_its_minimum_and_maximum_size(dev):
    user = _line(dev, "user pool")
    assert user.quantity == "2-5, autoscaled"
    assert user.high == user.low * 5 / 2 > 0
    system = _line(dev, "system pool")
    assert system.low == system.high > 0
    assert dev.low < dev.high


def test_a_larger_user_vm_size_raises_the_estimate(dev):
    pool = {**DEV["aks-microservices:cluster"]["userPool"], "vmSize": "Standard_D8s_v5"}
    bigger = estimate_recording(run_stack("dev", overrides=_dev_with_cluster(userPool=pool)))
    # D8s_v5 has twice the vCPUs and memory of D4s_v5 and costs twice as much (same series, linear pricing).
    assert _line(bigger, "user pool").high == 2 * _line(dev, "user pool").high
    assert bigger.high > dev.high and bigger.low > dev.low


def test_more_user_nodes_at_most_raise_only_the_maximum(dev):
    pool = {**DEV["aks-microservices:cluster"]["userPool"], "maxCount": 7}
    more = estimate_recording(run_stack("dev", overrides=_dev_with_cluster(userPool=pool)))
    per_node = _line(dev, "user pool").high / 5
    os_disk = _line(dev, "node OS disks").high / 8  # 3 system + 5 user nodes
    assert more.high - dev.high == 2 * (per_node + os_disk)
    assert more.low == dev.low


def test_a_fixed_system_pool_of_more_nodes_costs_more(dev):
    more = estimate_recording(run_stack("dev", overrides=_dev_with_cluster(nodeCount=5)))
    assert _line(more, "system pool").low == _line(dev, "system pool").low * 5 / 3
    assert more.low > dev.low


def test_the_standard_tier_and_a_premium_registry_are_priced(dev):
    assert _line(dev, "AKS control plane, Free").high == 0
    prod = estimate_recording(run_stack("prod"))
    assert _line(prod, "AKS control plane, Standard").high > 0
    assert _line(prod, "container registry, Premium").high > _line(dev, "container registry, Basic").high


def test_log_analytics_is_said_to_be_usage_based_only_where_the_workspace_exists(dev):
    assert any("Log Analytics" in note and "usage-based" in note for note in dev.notes)
    quiet = estimate_recording(run_stack("dev", overrides={"monitoring": {"containerInsights": False}}))
    assert not any("Log Analytics" in note for note in quiet.notes)


def test_an_existing_cluster_costs_nothing_in_azure():
    assert not estimate_recording(run_stack("local")).priced


# Volumes -------------------------------------------------------------------------------------------------

def _aks(tier: str = "Free") -> list[dict]:
    return [{"type": "azure-native:containerservice:ManagedCluster", "name": "aks",
             "inputs": {"sku": {"tier": tier}, "agentPoolProfiles": []}}]


def _claim(size: str, storage_class: str | None) -> dict:
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "n"},
            "spec": {"storageClassName": storage_class, "resources": {"requests": {"storage": size}}}}


def _class(name: str, provisioner: str, sku: str) -> dict:
    return {"kind": "StorageClass", "metadata": {"name": name}, "provisioner": provisioner,
            "parameters": {"skuName": sku}}


def test_a_disk_is_billed_at_the_size_tier_its_claim_rounds_up_to():
    disk = _class("d", "disk.csi.azure.com", "StandardSSD_LRS")
    small = estimate([disk, _claim("2Gi", "d")], _aks())
    tier = estimate([disk, _claim("4Gi", "d")], _aks())
    larger = estimate([disk, _claim("5Gi", "d")], _aks())
    assert _line(small, "disks of d").high == _line(tier, "disks of d").high < _line(larger, "disks of d").high


def test_a_premium_file_share_is_billed_at_its_100_gib_minimum():
    files = _class("f", "file.csi.azure.com", "Premium_LRS")
    one = _line(estimate([files, _claim("5Gi", "f")], _aks()), "file shares of f")
    big = _line(estimate([files, _claim("200Gi", "f")], _aks()), "file shares of f")
    assert one.quantity == "1 (100 GiB)"
    assert big.high == 2 * one.high


def test_statefulset_claims_count_once_per_replica():
    disk = _class("d", "disk.csi.azure.com", "Premium_LRS")
    template = {"metadata": {"name": "data"}, "spec": {"storageClassName": "d",
                                                       "resources": {"requests": {"storage": "1Gi"}}}}
    store = {"kind": "StatefulSet", "metadata": {"name": "s", "namespace": "n"},
             "spec": {"replicas": 3, "volumeClaimTemplates": [template]}}
    three = _line(estimate([disk, store], _aks()), "disks of d")
    one = _line(estimate([disk, _claim("1Gi", "d")], _aks()), "disks of d")
    assert three.quantity == "3" and three.high == 3 * one.high


def test_an_unknown_vm_size_is_named_not_guessed():
    resources = [{"type": "azure-native:containerservice:ManagedCluster", "name": "aks",
                  "inputs": {"agentPoolProfiles": [{"name": "system", "vmSize": "Standard_Z9_v9", "count": 2}]}}]
    cost = estimate([], resources)
    assert not [line for line in cost.lines if "pool" in line.item]
    assert "system pool: VM size Standard_Z9_v9 is not in the price table, not priced" in cost.notes


# Where it is shown -----------------------------------------------------------------------------------------

def test_summary_md_carries_the_estimate_marked_as_one_with_its_date_and_source(tmp_path):
    result = render("dev", tmp_path / "dev", progress=lambda _: None)
    summary = (tmp_path / "dev" / "summary.md").read_text()
    section = summary.split("## Estimated monthly cost", 1)[1]
    assert "An estimate, not a quote" in section
    assert PRICES_AS_OF in section and PRICES_SOURCE in section
    assert f"**{result.cost.total()}**" in section
    assert result.cost.high > Decimal(0)


def test_the_readme_environments_table_is_the_estimate_of_each_stack():
    readme = (PROJECT_DIR / "README.md").read_text()
    table = readme.split("<!-- cost-estimates:begin -->\n", 1)[1].split("<!-- cost-estimates:end -->", 1)[0]
    assert table == readme_table(PROJECT_DIR, available_stacks(PROJECT_DIR)), "stale: run `make docs`"
