"""The real stacks comply: every policy runs over what each stack registers (exported by `make policy-test`)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from aks_policies import ALL_POLICIES
from aks_policies.workloads import no_mutable_image_tags
from harness import check_all

PACK_DIR = Path(__file__).resolve().parent.parent
EXPORTS = PACK_DIR.parent / "build" / "policy"
CONFIG = json.loads((PACK_DIR / "config.json").read_text())
STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in PACK_DIR.parent.glob("Pulumi.*.yaml"))


def exported(stack: str) -> list[dict]:
    path = EXPORTS / f"{stack}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make policy-test` (it exports every stack before these tests)")
    return json.loads(path.read_text())


def test_every_stack_of_the_project_is_exported():
    assert {"dev", "prod", "local"} <= set(STACKS)
    for stack in STACKS:
        assert exported(stack), stack


@pytest.mark.parametrize("stack", STACKS)
def test_the_stack_passes_every_policy(stack):
    assert check_all(ALL_POLICIES, exported(stack), CONFIG) == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_export_holds_the_apps_workloads_so_the_policies_had_something_to_judge(stack):
    kinds = {item["props"].get("kind") for item in exported(stack) if item["custom"]}
    assert {"Deployment", "StatefulSet", "Service", "Job"} <= kinds
    # Secrets are Kubernetes Secrets, or (AKS with a Key Vault) SecretProviderClasses that sync them.
    assert kinds & {"Secret", "SecretProviderClass"}


def test_production_has_a_cluster_without_local_accounts_that_the_policy_would_catch():
    resources = copy.deepcopy(exported("prod"))
    [cluster] = [r for r in resources if r["type"] == "azure-native:containerservice:ManagedCluster"]
    cluster["props"]["disableLocalAccounts"] = False
    violations = check_all(ALL_POLICIES, resources, CONFIG)
    assert [v for v in violations if v.startswith("aks-local-accounts-disabled-in-production")]


def test_the_to_do_images_pass_only_because_the_pack_config_allows_them_by_name():
    # ericgregory/todo-api and todo-web publish only `latest` (shared/apps.md).
    violations = check_all([no_mutable_image_tags], exported("dev"), {})
    flagged = " ".join(violations)
    assert "ericgregory/todo-api:latest" in flagged and "ericgregory/todo-web:latest" in flagged
