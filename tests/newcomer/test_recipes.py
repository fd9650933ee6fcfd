"""Every recipe of the README renders as written (issue 13): the block is read from the README itself."""

from __future__ import annotations

import re
import shlex
from decimal import Decimal

import pytest
import yaml
from readme_recipes import README, apply_config_set_commands, project_with, recipe

from offline.capacity import GIB, Amount, check_capacity
from offline.engine import PROJECT_DIR, run_stack
from offline.render import render

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
WORKSPACE = "azure-native:operationalinsights:Workspace"


def _quiet(_line: str) -> None:
    pass


# The cheap throwaway stack ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cheap(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cheap")
    project = project_with(tmp, {"cheap": recipe("cheap-stack")})
    return render("cheap", tmp / "out", project_dir=project, progress=_quiet)


def test_the_cheap_stack_renders_valid_and_fits_its_one_pool(cheap):
    assert cheap.errors == []
    report = cheap.capacity
    assert report.checked and report.fits
    assert [(p.name, p.vm_size, p.max_nodes, p.usable) for p in report.pools] == [
        ("system", "Standard_D4s_v5", 2, True)]


def test_the_cheap_stack_has_no_user_pool_no_zones_no_workspace_and_nothing_protected(cheap):
    resources = cheap.recording.resources
    [cluster] = [r for r in resources if r.type == CLUSTER]
    [system] = cluster.inputs["agentPoolProfiles"]
    assert "availabilityZones" not in system and not system.get("nodeTaints")
    assert not [r for r in resources if r.type in (AGENT_POOL, WORKSPACE)]
    assert not [r.name for r in resources if r.protect]


def test_the_cheap_stack_runs_all_five_apps(cheap):
    namespaces = {o["metadata"]["name"] for o in cheap.recording.k8s_objects() if o["kind"] == "Namespace"}
    assert {"smilr", "knote", "todo", "fibonacci", "homics"} <= namespaces


def test_the_readme_states_the_cheap_stacks_requests_as_the_render_computes_them(cheap):
    stated = re.search(r"at one replica they request\s+([\d.]+) CPU / ([\d.]+) GiB of the ([\d.]+) CPU / "
                       r"([\d.]+) GiB", README.read_text())
    assert stated, "README lost the cheap stack's figures"
    report = cheap.capacity
    assert stated.groups() == (f"{report.requests.cpu:.1f}", f"{report.requests.memory / GIB:.1f}",
                               f"{report.allocatable.cpu:.1f}", f"{report.allocatable.memory / GIB:.1f}")


def test_without_the_replica_cuts_the_cheap_pool_is_too_small_and_the_advice_names_the_system_pool(tmp_path):
    config = yaml.safe_load(recipe("cheap-stack"))
    del config["config"]["aks-microservices:apps"]
    config["config"]["aks-microservices:cluster"]["systemPool"]["vmSize"] = "Standard_D2s_v5"
    project = project_with(tmp_path, {"cheaper": yaml.safe_dump(config)})
    report = check_capacity(run_stack("cheaper", project_dir=project))
    assert not report.fits
    error = report.error()
    assert "raise cluster.nodeCount or cluster.systemPool.vmSize, or lower the apps' replicas" in error
    assert "userPool" not in error


# Minikube with NodePorts -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def minikube(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("minikube")
    local = (PROJECT_DIR / "Pulumi.local.yaml").read_text()
    project = project_with(tmp, {"local": apply_config_set_commands(local, recipe("minikube-nodeport"))})
    return render("local", tmp / "out", project_dir=project, progress=_quiet)


def test_the_minikube_nodeport_recipe_renders_valid(minikube):
    assert minikube.errors == []


def test_the_minikube_recipe_hands_browsers_the_node_address_and_the_fixed_node_port(minikube):
    service = minikube.recording.k8s("Service", "data-api-svc", "smilr")["spec"]
    assert service["type"] == "NodePort"
    [port] = service["ports"]
    frontend = minikube.recording.k8s("Deployment", "frontend", "smilr")["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in frontend["containers"][0]["env"]}
    assert env["API_ENDPOINT"] == f"http://192.168.49.2:{port['nodePort']}/api"
    assert port["nodePort"] == 30400


# The local stack on a laptop -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local_report():
    return check_capacity(run_stack("local"))


def test_the_local_stack_fits_the_laptop_budget_it_declares(local_report):
    assert local_report.checked and local_report.fits
    assert local_report.allocatable == Amount(Decimal(3), 7 * GIB)
    # 4 CPUs / 8 GiB less what the cluster's own pods request.
    assert local_report.requests.fits_in(Amount(Decimal(3), 7 * GIB))


def test_the_readme_states_the_local_requests_as_the_render_computes_them(local_report):
    stated = re.search(r"<!-- local-requests -->(.*?)<!-- /local-requests -->", README.read_text()).group(1)
    assert stated == str(local_report.requests)


def test_the_local_stack_with_homics_and_the_six_cpu_budget_the_readme_gives_fits():
    local = yaml.safe_load((PROJECT_DIR / "Pulumi.local.yaml").read_text())["config"]
    apps = {**local["aks-microservices:apps"], "homics": {"enabled": True}}
    existing = {**local["aks-microservices:existing"], "allocatableCpu": "5", "allocatableMemory": "11Gi"}
    report = check_capacity(run_stack("local", overrides={"apps": apps, "existing": existing}))
    assert report.fits


def test_an_existing_cluster_over_its_budget_fails_with_advice_for_that_platform():
    report = check_capacity(run_stack("local", overrides={"apps": {}}))  # every app at its default replicas
    assert not report.fits
    error = report.error()
    assert "existing.allocatableCpu / existing.allocatableMemory" in error
    assert "cluster." not in error


# Providers and quickstart ----------------------------------------------------------------------------------

# azure-native module -> Azure resource provider namespace (Microsoft Learn, "Resource providers for Azure
# services"). A module missing here fails the test: add it, and its namespace to the README's list.
PROVIDER_NAMESPACES = {
    "authorization": "Microsoft.Authorization",
    "containerregistry": "Microsoft.ContainerRegistry",
    "containerservice": "Microsoft.ContainerService",
    "monitor": "Microsoft.Insights",
    "operationalinsights": "Microsoft.OperationalInsights",
    "resources": "Microsoft.Resources",  # registered in every subscription
    "keyvault": "Microsoft.KeyVault",
    "network": "Microsoft.Network",
    "privatedns": "Microsoft.Network",
    "dataprotection": "Microsoft.DataProtection",
    "kubernetesconfiguration": "Microsoft.KubernetesConfiguration",
    "alertsmanagement": "Microsoft.AlertsManagement",
    "dashboard": "Microsoft.Dashboard",
    "managedidentity": "Microsoft.ManagedIdentity",
    "storage": "Microsoft.Storage",
}
# Types whose module spans several providers.
TYPE_NAMESPACES = {"azure-native:monitor:AzureMonitorWorkspace": "Microsoft.Monitor"}
# What AKS creates in the node resource group: scale sets, load balancer and public IPs, disks and shares.
AKS_NODE_RESOURCE_PROVIDERS = {"Microsoft.Compute", "Microsoft.Network", "Microsoft.Storage"}


def test_the_readme_registers_every_provider_the_stacks_resource_types_need():
    types = {r.type for stack in ("dev", "prod") for r in run_stack(stack).resources
             if r.type.startswith("azure-native:")}
    missing = {t for t in types if t not in TYPE_NAMESPACES and t.split(":")[1] not in PROVIDER_NAMESPACES}
    assert not missing, f"add the resource provider namespace of {missing}"
    needed = {TYPE_NAMESPACES.get(t) or PROVIDER_NAMESPACES[t.split(":")[1]] for t in types}
    needed = needed - {"Microsoft.Resources"} | AKS_NODE_RESOURCE_PROVIDERS
    registered = {shlex.split(line)[-1] for line in recipe("providers").splitlines() if line.strip()}
    assert registered == needed


def test_the_quickstart_inits_the_stack_and_sets_the_local_backend_passphrase():
    commands = [line.split("#", 1)[0].strip() for line in recipe("pulumi-up").splitlines()]
    assert "pulumi stack init dev" in commands and not any(c.startswith("pulumi stack select") for c in commands)
    assert commands.index("pulumi login --local") < commands.index("pulumi up")
    assert any(c.startswith("export PULUMI_CONFIG_PASSPHRASE=") for c in commands)
    assert (PROJECT_DIR / "Pulumi.dev.yaml").is_file()


def test_the_readme_names_the_azure_role_the_role_assignments_need():
    assert run_stack("dev").of_type("azure-native:authorization:RoleAssignment")
    text = " ".join(README.read_text().split())
    assert "needs `Owner`, or `Contributor` plus `User Access Administrator`" in text


def test_the_teardown_recipe_turns_protection_off_through_the_program_then_destroys():
    commands = [line.split("#", 1)[0].strip() for line in recipe("teardown").splitlines() if line.strip()]
    assert commands == ["pulumi config set dataProtection false", "pulumi up", "pulumi destroy"]
    protected = {r.name for r in run_stack("dev").resources if r.protect}
    assert protected, "dev protects its cluster and stores: the recipe is needed"
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    key, value = shlex.split(commands[0])[3:]
    unprotected = run_stack("dev", overrides={**{k.split(":", 1)[1]: v for k, v in config.items()}, key: value})
    assert not [r.name for r in unprotected.resources if r.protect]
