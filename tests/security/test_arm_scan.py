"""`make scan`, ARM side: the prod stack's Azure resources as an ARM template, read the way Checkov reads it.

Checkov's arm checks look values up by ARM path in each resource (checkov/arm/checks/resource/*.py of
bridgecrewio/checkov 3.3.30, e.g. AKSEphemeralOSDisks.py reads `properties/agentPoolProfiles/[0]/osDiskType`,
ACRPublicNetworkAccessDisabled.py `properties/publicNetworkAccess`). These tests pin that the template puts
prod's posture exactly there, so that `make scan` (real Checkov, in CI) judges what the stack deploys, and
that every ARM skip still stands for a reason the stack's config makes true.
"""

from __future__ import annotations

import importlib
import inspect
import json

import pytest
from test_scan import _fake_checkov

from offline.engine import PROJECT_DIR
from offline.render import render
from scan.arm_template import ARM_TYPES, UnmappedType, arm_resource, arm_template
from scan.checkov_scan import FRAMEWORKS, Skip, evaluate, load_skips, main

ARM = FRAMEWORKS["arm"]
SKIPS = PROJECT_DIR / "scan" / "checkov-arm-skips.yaml"


def _resources_json(stack: str, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp(stack)
    render(stack, out)
    return json.loads((out / "resources.json").read_text())


@pytest.fixture(scope="module")
def prod_resources(tmp_path_factory) -> list[dict]:
    return _resources_json("prod", tmp_path_factory)


@pytest.fixture(scope="module")
def prod_template(prod_resources) -> dict:
    return arm_template(prod_resources)


def by_type(template: dict, arm_type: str) -> list[dict]:
    return [r for r in template["resources"] if r["type"] == arm_type]


def one(template: dict, arm_type: str) -> dict:
    [resource] = by_type(template, arm_type)
    return resource


def checkov_name(resource: dict) -> str:
    return f"{resource['type']}.{resource['name']}"


# The template ------------------------------------------------------------------------------------------------

def test_the_template_is_a_deployment_template_checkov_parses(prod_template):
    # checkov/arm/parser/parser.py: a file without $schema and contentVersion is not an ARM template.
    assert "deploymentTemplate.json" in prod_template["$schema"]
    assert prod_template["contentVersion"] == "1.0.0.0"


def test_every_azure_resource_of_prod_is_in_the_template_except_its_resource_group(prod_resources, prod_template):
    azure = [r for r in prod_resources if r["type"].startswith("azure-native:")]
    groups = [r for r in azure if r["type"] == "azure-native:resources:ResourceGroup"]
    assert len(groups) == 2  # the stack's and (Azure Backup for AKS) the snapshot group
    assert len(prod_template["resources"]) == len(azure) - len(groups)
    assert {r["type"] for r in prod_template["resources"]} == {
        ARM_TYPES[r["type"]].type for r in azure if r["type"] != "azure-native:resources:ResourceGroup"
    }


def test_api_versions_are_the_ones_the_installed_sdk_calls(prod_template):
    for token, arm in ARM_TYPES.items():
        _, module, kind = token.split(":")
        source = inspect.getsource(getattr(importlib.import_module(f"pulumi_azure_native.{module}"), kind))
        for resource in by_type(prod_template, arm.type):
            assert f"Uses Azure REST API version {resource['apiVersion']}." in source, token


def test_child_resources_are_named_under_their_parent_and_extensions_carry_their_scope(prod_template):
    cluster = one(prod_template, "Microsoft.ContainerService/managedClusters")
    assert cluster["name"] == "aks-microservices-prod"
    assert one(prod_template, "Microsoft.ContainerService/managedClusters/agentPools")["name"] == "aks-microservices-prod/user"
    assert {r["name"] for r in by_type(prod_template, "Microsoft.Network/virtualNetworks/subnets")} == {
        "aks-network-vnetbee78914/nodes", "aks-network-vnetbee78914/private-endpoints"}
    for grant in by_type(prod_template, "Microsoft.Authorization/roleAssignments"):
        assert grant["scope"].startswith("/subscriptions/") and "scope" not in grant["properties"]


def test_envelope_keys_stay_beside_properties_and_naming_inputs_are_dropped(prod_template):
    registry = one(prod_template, "Microsoft.ContainerRegistry/registries")
    assert registry["sku"] == {"name": "Premium"} and registry["location"] == "westeurope"
    assert "tags" in registry and "sku" not in registry["properties"]
    assert not {"registryName", "resourceGroupName", "location"} & set(registry["properties"])


def test_a_key_vault_keeps_its_own_properties_block_and_a_secret_is_named_under_its_vault():
    vault = arm_resource({"type": "azure-native:keyvault:Vault", "name": "kv", "inputs": {
        "vaultName": "kv-prod", "resourceGroupName": "rg", "location": "westeurope",
        "properties": {"enableRbacAuthorization": True, "publicNetworkAccess": "Disabled"}}})
    assert vault["name"] == "kv-prod" and vault["location"] == "westeurope"
    assert vault["properties"] == {"enableRbacAuthorization": True, "publicNetworkAccess": "Disabled"}
    secret = arm_resource({"type": "azure-native:keyvault:Secret", "name": "s", "inputs": {
        "vaultName": "kv-prod", "secretName": "db", "properties": {"contentType": "text/plain"}}})
    assert (secret["type"], secret["name"]) == ("Microsoft.KeyVault/vaults/secrets", "kv-prod/db")


def test_a_type_the_table_does_not_map_is_an_error_naming_it():
    with pytest.raises(UnmappedType, match=r"azure-native:cache:Redis .*add its ARM type to ARM_TYPES"):
        arm_resource({"type": "azure-native:cache:Redis", "name": "redis", "inputs": {}})


# What the checks read on prod --------------------------------------------------------------------------------

def test_prod_pools_pass_the_node_checks_where_checkov_reads_them(prod_template):
    cluster = one(prod_template, "Microsoft.ContainerService/managedClusters")["properties"]
    first_pool = cluster["agentPoolProfiles"][0]
    assert first_pool["osDiskType"] == "Ephemeral"  # CKV_AZURE_226
    assert first_pool["enableEncryptionAtHost"] is True  # CKV_AZURE_227
    assert first_pool["maxPods"] >= 50  # CKV_AZURE_168
    user = one(prod_template, "Microsoft.ContainerService/managedClusters/agentPools")["properties"]
    assert user["enableEncryptionAtHost"] is True and user["maxPods"] >= 50
    assert cluster["disableLocalAccounts"] is True  # CKV_AZURE_141


def test_prod_registry_passes_the_network_and_zone_checks_where_checkov_reads_them(prod_template):
    registry = one(prod_template, "Microsoft.ContainerRegistry/registries")["properties"]
    assert registry["publicNetworkAccess"] == "Disabled"  # CKV_AZURE_139
    assert registry["zoneRedundancy"] == "Enabled"  # CKV_AZURE_233 fails only on "Disabled"


def test_dev_would_fail_the_checks_prod_fixes_which_is_why_only_prod_is_scanned(tmp_path_factory):
    dev = arm_template(_resources_json("dev", tmp_path_factory))
    first_pool = one(dev, "Microsoft.ContainerService/managedClusters")["properties"]["agentPoolProfiles"][0]
    assert (first_pool["osDiskType"], first_pool["enableEncryptionAtHost"]) == ("Managed", False)
    assert one(dev, "Microsoft.ContainerRegistry/registries")["properties"]["publicNetworkAccess"] == "Enabled"


# The ARM skip file -------------------------------------------------------------------------------------------

def test_every_arm_skip_names_a_resource_of_the_prod_template_with_a_reason(prod_template):
    names = {checkov_name(r) for r in prod_template["resources"]}
    skips = load_skips(SKIPS, ARM)
    assert skips
    for skip in skips:
        assert skip.obj in names, skip
        assert len(skip.reason) >= 60, f"{skip.check} {skip.obj}: say why the finding is accepted"


def test_no_check_that_prod_fixes_is_skipped():
    fixed = {"CKV_AZURE_226", "CKV_AZURE_227", "CKV_AZURE_168", "CKV_AZURE_233", "CKV_AZURE_139", "CKV_AZURE_141"}
    assert not fixed & {s.check for s in load_skips(SKIPS, ARM)}


def test_the_authorized_ranges_skip_stands_only_because_prod_is_a_private_cluster(prod_template):
    assert "CKV_AZURE_6" in {s.check for s in load_skips(SKIPS, ARM)}
    access = one(prod_template, "Microsoft.ContainerService/managedClusters")["properties"]["apiServerAccessProfile"]
    assert access["enablePrivateCluster"] is True


def test_the_quarantine_skip_stands_only_because_prod_caches_its_images(prod_template):
    assert "CKV_AZURE_166" in {s.check for s in load_skips(SKIPS, ARM)}
    assert by_type(prod_template, "Microsoft.ContainerRegistry/registries/cacheRules")
    registry = one(prod_template, "Microsoft.ContainerRegistry/registries")["properties"]
    assert registry["policies"]["quarantinePolicy"] == {"status": "disabled"}


def test_the_rotation_skip_stands_only_because_rotation_is_on_as_a_string(prod_template):
    addon = one(prod_template, "Microsoft.ContainerService/managedClusters")["properties"]["addonProfiles"]
    assert addon["azureKeyvaultSecretsProvider"]["config"]["enableSecretRotation"] == "true"


def test_an_arm_skip_names_checkovs_resource_not_a_wildcard(tmp_path):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n- check: CKV_AZURE_6\n  objects: ['Microsoft.ContainerService/managedClusters.*']\n"
                    "  reason: the cluster is private so ranges do not apply\n")
    # `*` is not part of an ARM name: the one-line error names the entry.
    with pytest.raises(Exception, match=r"skips\[0\]: objects: expected <ARM type>.<name>"):
        load_skips(path, ARM)


# The runner on ARM ---------------------------------------------------------------------------------------------

def _arm_report(failed: list[tuple[str, str]]) -> dict:
    return {
        "check_type": "arm",
        "results": {"failed_checks": [{"check_id": c, "check_name": f"name of {c}", "resource": r,
                                       "file_path": "/template.json"} for c, r in failed]},
        "summary": {"passed": 5, "failed": len(failed), "skipped": 0, "parsing_errors": 0, "resource_count": 2},
    }


def test_arm_failures_are_attributed_to_checkovs_resource_name_and_skipped_per_resource():
    cluster = "Microsoft.ContainerService/managedClusters.aks"
    skips = [Skip("CKV_AZURE_6", cluster, "private cluster, no public endpoint")]
    outcome = evaluate(_arm_report([("CKV_AZURE_6", cluster), ("CKV_AZURE_6", "Microsoft.ContainerService/managedClusters.other")]),
                       skips, framework=ARM)
    assert [(f.check, f.obj) for f in outcome.failed] == [("CKV_AZURE_6", "Microsoft.ContainerService/managedClusters.other")]
    assert len(outcome.skipped) == 1


def test_the_runner_runs_checkovs_arm_framework_on_the_template_folder(tmp_path, capsys):
    template_dir = tmp_path / "arm"
    template_dir.mkdir()
    skips = tmp_path / "skips.yaml"
    skips.write_text("skips: []\n")
    checkov = _fake_checkov(tmp_path, _arm_report([("CKV_AZURE_139", "Microsoft.ContainerRegistry/registries.acr")]))
    code = main(["--framework", "arm", "--manifests", str(template_dir), "--skips", str(skips), "--checkov", str(checkov)])
    call = json.loads((tmp_path / "call.json").read_text())
    assert code == 1
    assert call["argv"][:4] == ["--directory", str(template_dir.resolve()), "--framework", "arm"]
    assert capsys.readouterr().out.splitlines()[0] == (
        "FAILED CKV_AZURE_139 Microsoft.ContainerRegistry/registries.acr: name of CKV_AZURE_139 (/template.json)")


def test_make_scan_scans_the_prod_stacks_azure_resources_after_the_manifests():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    recipe = makefile.split("\nscan:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert "--framework arm" not in lines[0] and "--skips scan/checkov-skips.yaml" in lines[0]
    assert lines[-1].startswith("$(PY) scan/checkov_scan.py --framework arm --manifests $(ARM_OUT)/arm")
    assert "--skips scan/checkov-arm-skips.yaml" in lines[-1]
    assert "ARM_STACK ?= prod" in makefile
