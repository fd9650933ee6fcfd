"""Every stack file renders like dev does; prod is production-shaped, dev is cheap, local needs no Azure."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from offline.engine import PROJECT_DIR
from offline.render import render
from offline.stack_config import available_stacks

STACKS = available_stacks(PROJECT_DIR)
APP_NAMESPACES = {"smilr", "knote", "todo", "fibonacci", "homics"}
CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("environments")
    return {stack: render(stack, out / stack, project_dir=PROJECT_DIR, progress=lambda _: None) for stack in STACKS}


def objects(result, kind: str) -> dict[str, dict]:
    found = {}
    for path in (result.out / "k8s").rglob(f"{kind.lower()}-*.yaml"):
        manifest = yaml.safe_load(path.read_text())
        if manifest["kind"] == kind:
            found[manifest["metadata"]["name"]] = manifest
    return found


def others(result, resource_type: str) -> list[dict]:
    return [r for r in json.loads((result.out / "resources.json").read_text()) if r["type"] == resource_type]


def test_the_project_has_a_dev_a_prod_and_a_local_stack():
    assert {"dev", "prod", "local"} <= set(STACKS)


def enabled_apps(stack: str) -> set[str]:
    """The apps a stack file does not turn off (each defaults to enabled)."""
    config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
    apps = config.get("aks-microservices:apps") or {}
    return {app for app in APP_NAMESPACES if (apps.get(app) or {}).get("enabled", True) is not False}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_renders_the_apps_it_enables_schema_valid(rendered, stack):
    result = rendered[stack]
    assert result.errors == []
    assert set(objects(result, "Namespace")) & APP_NAMESPACES == enabled_apps(stack)


def test_dev_and_prod_run_all_five_apps_and_local_all_but_homics_for_a_laptop():
    assert enabled_apps("dev") == enabled_apps("prod") == APP_NAMESPACES
    assert enabled_apps("local") == APP_NAMESPACES - {"homics"}


@pytest.mark.parametrize("stack", STACKS)
def test_no_secret_of_any_stack_appears_in_its_rendered_files(rendered, stack):
    result = rendered[stack]
    secrets = result.recording.secret_values
    assert secrets  # each stack generates passwords
    for path in result.out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for secret in secrets:
                assert secret not in text, f"{secret[:3]}... leaked into {path}"
                assert base64.b64encode(secret.encode()).decode() not in text, path


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_key_vault_secret_values_are_redacted_in_resources_json_while_the_render_knows_them(rendered, stack):
    from offline.redact import REDACTED

    result = rendered[stack]
    resources = json.loads((result.out / "resources.json").read_text())
    vault_secrets = [r for r in resources if r["type"] == "azure-native:keyvault:Secret"]
    assert len(vault_secrets) == 7  # pgpassword 1, minio-credentials 2, mysqlpwd 4
    assert {r["inputs"]["properties"]["value"] for r in vault_secrets} == {REDACTED}
    # What was redacted is what the stack generated: the recording holds the real values.
    recorded = [r for r in result.recording.of_type("azure-native:keyvault:Secret")
                if r.inputs["properties"]["value"] in result.recording.secret_values]
    assert len(recorded) == 5  # all but mysqlpwd's fixed rootUser and rootHost


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_gets_its_operator_stack_manifest(rendered, stack):
    manifest = yaml.safe_load((rendered[stack].out / "gitops" / "stack.yaml").read_text())
    assert manifest["kind"] == "Stack"
    assert manifest["spec"]["stack"].endswith(f"/aks-microservices/{stack}")


# prod: production-shaped -------------------------------------------------------------------------------

def test_prod_runs_the_standard_tier_across_three_zones_with_autoscaled_pools(rendered):
    [cluster] = others(rendered["prod"], CLUSTER)
    assert cluster["inputs"]["sku"]["tier"] == "Standard"
    [system] = cluster["inputs"]["agentPoolProfiles"]
    [user] = [pool["inputs"] for pool in others(rendered["prod"], AGENT_POOL)]
    for pool in (system, user):
        assert pool["availabilityZones"] == ["1", "2", "3"]
        assert pool["enableAutoScaling"] is True
        assert 3 <= pool["minCount"] < pool["maxCount"]  # at least a node per zone, room to grow


def test_prod_admits_only_entra_id_users(rendered):
    [cluster] = others(rendered["prod"], CLUSTER)
    assert cluster["inputs"]["aadProfile"]["managed"] is True
    assert cluster["inputs"]["aadProfile"]["enableAzureRBAC"] is True
    assert cluster["inputs"]["disableLocalAccounts"] is True


def test_prod_has_a_premium_registry_without_admin_user(rendered):
    [registry] = others(rendered["prod"], REGISTRY)
    assert registry["inputs"]["sku"]["name"] == "Premium"
    assert registry["inputs"]["adminUserEnabled"] is False


def test_prod_protects_every_store_and_the_cluster(rendered):
    recording = rendered["prod"].recording
    assert [r.protect for r in recording.of_type(CLUSTER)] == [True]
    statefulsets = recording.of_type("kubernetes:apps/v1:StatefulSet")
    assert statefulsets and all(r.protect for r in statefulsets)


@pytest.mark.parametrize(
    ("namespace", "kind", "name", "replicas"),
    [  # the seeds' scale-out numbers (shared/apps.md)
        ("smilr", "Deployment", "data-api", 3),
        ("smilr", "Deployment", "frontend", 3),
        ("knote", "Deployment", "knote", 10),
        ("fibonacci", "Deployment", "server-deployment", 2),
        ("fibonacci", "Deployment", "worker-deployment", 3),
        ("fibonacci", "StatefulSet", "redis-statefulset", 3),
        ("homics", "Deployment", "user-deployment", 2),
    ],
)
def test_prod_runs_the_seeds_replica_counts(rendered, namespace, kind, name, replicas):
    manifest = rendered["prod"].recording.k8s(kind, name, namespace)
    assert manifest["spec"]["replicas"] == replicas


def test_prod_autoscales_todo_api_from_2_to_5_at_80_percent_cpu(rendered):
    hpa = rendered["prod"].recording.k8s("HorizontalPodAutoscaler", "todo-api", "todo")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80


# dev: cheap ---------------------------------------------------------------------------------------------

def test_dev_is_cheap_free_tier_small_system_nodes_basic_registry_no_entra_id(rendered):
    [cluster] = others(rendered["dev"], CLUSTER)
    assert cluster["inputs"]["sku"]["tier"] == "Free"
    assert cluster["inputs"]["agentPoolProfiles"][0]["vmSize"] == "Standard_D2s_v5"  # 2 vCPU
    assert "aadProfile" not in cluster["inputs"]
    [registry] = others(rendered["dev"], REGISTRY)
    assert registry["inputs"]["sku"]["name"] == "Basic"


def test_dev_costs_less_than_prod_on_every_platform_dimension(rendered):
    [dev], [prod] = others(rendered["dev"], CLUSTER), others(rendered["prod"], CLUSTER)
    [dev_pool] = [p["inputs"] for p in others(rendered["dev"], AGENT_POOL)]
    [prod_pool] = [p["inputs"] for p in others(rendered["prod"], AGENT_POOL)]
    assert dev_pool["minCount"] < prod_pool["minCount"] and dev_pool["maxCount"] < prod_pool["maxCount"]
    dev_workspace = others(rendered["dev"], "azure-native:operationalinsights:Workspace")
    prod_workspace = others(rendered["prod"], "azure-native:operationalinsights:Workspace")
    assert dev_workspace[0]["inputs"]["retentionInDays"] < prod_workspace[0]["inputs"]["retentionInDays"]
    assert dev["inputs"]["sku"]["tier"] != prod["inputs"]["sku"]["tier"]


# local: no Azure ----------------------------------------------------------------------------------------

def test_local_creates_nothing_in_azure_and_deploys_to_the_configured_kube_context(rendered):
    resources = json.loads((rendered["local"].out / "resources.json").read_text())
    assert not [r for r in resources if r["type"].startswith("azure-native:")]
    [provider] = [r for r in resources if r["type"] == "pulumi:providers:kubernetes"]
    assert provider["inputs"]["context"] == "minikube"
    assert objects(rendered["local"], "StorageClass") == {}  # the cluster's own classes serve the claims


@pytest.mark.parametrize("stack", STACKS)
def test_every_child_is_named_from_its_parent_so_a_renamed_component_keeps_its_children(rendered, stack):
    # A child inherits its parent's alias only if its name starts with the parent's (see tests/examples/test_aliases.py).
    resources = rendered[stack].recording.resources
    by_urn = {r.urn: r for r in resources}
    strays = [f"{by_urn[r.parent_urn].name} -> {r.name}" for r in resources
              if r.parent_urn in by_urn and not by_urn[r.parent_urn].custom
              and not r.name.startswith(by_urn[r.parent_urn].name)]
    assert strays == []
