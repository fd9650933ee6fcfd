"""The enabled apps, at their maximum replicas, fit the node pools at their maximum size (offline/capacity.py).

Allocatable figures are computed here from AKS's published reservation rules (kube-reserved CPU by core count;
memory: the smaller of 20 MiB per pod + 50 MiB and 25% of the node, plus a 100 MiB eviction threshold; 250
pods per node with Azure CNI Overlay), not read back from the module.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

import offline.__main__ as cli
from offline.capacity import (
    Amount,
    aks_pools,
    allocatable,
    check_capacity,
    pod_requests,
    quantity,
    workload_demands,
)
from offline.engine import PROJECT_DIR, run_stack

MIB = Decimal(2) ** 20
GIB = Decimal(2) ** 30
# Standard_D4s_v5: 4 vCPUs, 16 GiB. Reserved: 140m; min(20 * 250 + 50 MiB, 4 GiB) = 4 GiB; eviction 100 MiB.
D4S_V5 = Amount(Decimal("3.86"), (16384 - 4096 - 100) * MIB)
# The same with cluster.maxPods 110 (Pulumi.dev.yaml): min(20 * 110 + 50 MiB, 4 GiB) = 2250 MiB.
D4S_V5_110_PODS = Amount(Decimal("3.86"), (16384 - 2250 - 100) * MIB)
# Standard_D2s_v5: 2 vCPUs, 8 GiB. Reserved: 100m; min(5050 MiB, 2 GiB) = 2 GiB; eviction 100 MiB.
D2S_V5 = Amount(Decimal("1.9"), (8192 - 2048 - 100) * MIB)


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def dev_report(dev):
    return check_capacity(dev)


def _demand(report, workload: str):
    return next(d for d in report.demands if d.workload == workload)


# Node allocatable ------------------------------------------------------------------------------------------

def test_an_aks_node_allocates_its_vm_size_less_the_aks_reservations():
    assert allocatable("Standard_D4s_v5", 250) == D4S_V5
    assert allocatable("Standard_D2s_v5", 250) == D2S_V5
    # With few pods per node the per-pod rule is the smaller one: 20 MiB * 30 + 50 MiB = 650 MiB.
    assert allocatable("Standard_D4s_v5", 30) == Amount(Decimal("3.86"), (16384 - 650 - 100) * MIB)


def test_an_unknown_vm_size_is_not_guessed():
    assert allocatable("Standard_Z99_v9", 250) is None


# The dev stack ---------------------------------------------------------------------------------------------

def test_the_dev_stack_fits_its_node_pools_at_their_maximum_size(dev_report):
    assert dev_report.checked and dev_report.fits
    assert dev_report.error() is None


def test_only_the_user_pool_counts_because_the_system_pool_is_tainted_for_critical_add_ons(dev_report):
    # Pulumi.dev.yaml: user pool Standard_D4s_v5 with maxCount 5, maxPods 110; the system pool carries CriticalAddonsOnly.
    assert dev_report.allocatable == D4S_V5_110_PODS * 5
    assert [(p.name, p.usable) for p in dev_report.pools] == [("system", False), ("user", True)]


def test_workloads_count_at_their_maximum_replicas(dev_report):
    assert _demand(dev_report, "Deployment/todo/todo-api").pods == 5  # HPA max (apps.md: 2-5)
    assert _demand(dev_report, "Deployment/knote/knote").pods == 10
    assert _demand(dev_report, "StatefulSet/fibonacci/redis-statefulset").pods == 3
    assert _demand(dev_report, "Job/todo/todo-db-init").pods == 1


def test_the_fibonacci_tiers_request_what_apps_md_gives_them(dev_report):
    expected = {  # workload: (pods, CPU, memory) from apps.md
        "Deployment/fibonacci/client-deployment": (1, "0.3", 256),
        "Deployment/fibonacci/server-deployment": (2, "0.2", 256),
        "Deployment/fibonacci/worker-deployment": (3, "0.2", 256),
        "StatefulSet/fibonacci/redis-statefulset": (3, "0.1", 256),
        "StatefulSet/fibonacci/postgres-statefulset": (1, "0.25", 256),
    }
    for workload, (pods, cpu, memory_mib) in expected.items():
        demand = _demand(dev_report, workload)
        assert (demand.pods, demand.per_pod) == (pods, Amount(Decimal(cpu), memory_mib * MIB)), workload


def test_the_requests_are_the_sum_over_every_pod_the_stack_can_run(dev_report, dev):
    pods = sum(d.pods for d in dev_report.demands)
    workloads = [o for o in dev.k8s_objects() if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert pods >= len(workloads) + 4  # every workload, plus the MySQL servers and router
    assert dev_report.requests == sum((d.total for d in dev_report.demands), Amount())


def test_the_mysql_operators_pods_count_and_its_helm_chart_is_named_not_silently_skipped(dev_report):
    assert _demand(dev_report, "InnoDBCluster/todo/todo-mysql (MySQL server)").pods == 3  # apps.md: instances 3
    assert _demand(dev_report, "InnoDBCluster/todo/todo-mysql (MySQL router)").pods == 1
    assert "Helm release mysql-operator/mysql-operator: its chart's pods are not counted" in dev_report.notes


def test_the_mysql_pods_declare_requests_so_they_are_counted_and_never_best_effort(dev_report):
    for role in ("MySQL server", "MySQL router"):
        per_pod = _demand(dev_report, f"InnoDBCluster/todo/todo-mysql ({role})").per_pod
        assert per_pod.cpu > 0 and per_pod.memory > 0, role


def test_the_report_line_shows_requests_allocatable_and_headroom(dev_report):
    line = dev_report.lines()[0]
    headroom = dev_report.allocatable - dev_report.requests
    assert line == (f"capacity: requests {dev_report.requests} of {D4S_V5_110_PODS * 5} allocatable (headroom {headroom}; "
                    "user pool 5 x Standard_D4s_v5)")
    assert str(D4S_V5_110_PODS * 5) == "19.3 CPU / 68.5 GiB"


def test_an_existing_cluster_is_not_checked_but_its_requests_are_printed():
    report = check_capacity(run_stack("local"))
    assert not report.checked and report.fits
    assert report.lines()[0].startswith("capacity: requests ")
    assert "an existing cluster's nodes are not known offline" in report.notes


# The render fails when the apps do not fit --------------------------------------------------------------

def _project_with_stack(tmp_path: Path, name: str, cluster: dict, apps: dict) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for file in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / file, project / file)
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    config["config"]["aks-microservices:cluster"].update(cluster)
    config["config"]["aks-microservices:apps"] = apps
    (project / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(config))
    return project


def test_a_render_whose_apps_do_not_fit_prints_why_and_exits_1(tmp_path, capsys, monkeypatch):
    # Fibonacci alone, with 6 workers: apps.md's 300m + 2 x 200m + 6 x 200m + 3 x 100m + 250m = 2.45 CPU and
    # 13 pods x 256Mi; one Standard_D2s_v5 node allocates 1.9 CPU.
    small = {"userPool": {"enabled": True, "vmSize": "Standard_D2s_v5", "minCount": 1, "maxCount": 1}}
    apps = {app: {"enabled": app == "fibonacci"} for app in ("smilr", "knote", "todo", "fibonacci", "homics")}
    apps["fibonacci"]["workerReplicas"] = 6
    project = _project_with_stack(tmp_path, "small", small, apps)
    monkeypatch.setattr(cli, "PROJECT_DIR", project)
    code = cli.main(["render", "--stack", "small", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    requests = Amount(Decimal("2.45"), 13 * 256 * MIB)
    assert code == 1
    assert f"capacity: requests {requests} of {D2S_V5} allocatable (headroom {D2S_V5 - requests};" in err
    error = next(line for line in err.splitlines() if line.startswith("capacity: the enabled apps request"))
    assert f"request {requests} at their maximum replicas, more than the {D2S_V5} the node pools allocate" in error
    assert f"(short by {Amount(requests.cpu - D2S_V5.cpu, Decimal(0))})" in error
    assert "raise cluster.userPool.maxCount or cluster.userPool.vmSize" in error
    assert "Traceback" not in err


# Pools, pods and quantities ----------------------------------------------------------------------------------

def _cluster(profile: dict, *pools: dict):
    resources = [SimpleNamespace(type="azure-native:containerservice:ManagedCluster", name="aks",
                                 inputs={"agentPoolProfiles": [profile], "networkProfile": {"networkPluginMode": "overlay"}})]
    resources += [SimpleNamespace(type="azure-native:containerservice:AgentPool", name=f"pool-{i}", inputs=pool)
                  for i, pool in enumerate(pools)]
    return resources


def test_an_untainted_system_pool_runs_workloads_at_its_fixed_or_maximum_count():
    fixed = aks_pools(_cluster({"name": "system", "vmSize": "Standard_D2s_v5", "count": 3}))
    assert [(p.max_nodes, p.usable) for p in fixed] == [(3, True)]
    scaled = aks_pools(_cluster({"name": "system", "vmSize": "Standard_D2s_v5", "count": 3,
                                 "enableAutoScaling": True, "minCount": 3, "maxCount": 6}))
    assert scaled[0].max_nodes == 6


def test_a_pool_tainted_no_schedule_runs_no_workload():
    pools = aks_pools(_cluster({"name": "system", "vmSize": "Standard_D2s_v5", "count": 3,
                                "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"]},
                               {"agentPoolName": "user", "vmSize": "Standard_D4s_v5", "enableAutoScaling": True,
                                "minCount": 0, "maxCount": 2}))
    assert [(p.name, p.usable, p.max_nodes) for p in pools] == [("system", False, 3), ("user", True, 2)]


def _recording(objects: list[dict], resources) -> SimpleNamespace:
    return SimpleNamespace(k8s_objects=lambda: objects, resources=resources, config={}, project="aks-microservices")


def _deployment(name: str, replicas: int, cpu: str, memory: str) -> dict:
    container = {"name": name, "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    return {"kind": "Deployment", "metadata": {"namespace": "shop", "name": name},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [container]}}}}


def test_a_pod_larger_than_any_node_fails_even_when_the_sum_fits():
    pools = _cluster({"name": "system", "vmSize": "Standard_D2s_v5", "count": 10})
    report = check_capacity(_recording([_deployment("big", 1, "3", "1Gi")], pools))
    assert not report.fits
    assert report.error() == ("capacity: Deployment/shop/big requests 3.0 CPU / 1.0 GiB per pod, more than one node "
                              "of any usable pool allocates: use a larger cluster.userPool.vmSize or lower its requests")


def test_an_unknown_vm_size_is_reported_and_not_checked():
    report = check_capacity(_recording([], _cluster({"name": "system", "vmSize": "Standard_Z9_v9", "count": 3})))
    assert not report.checked and report.fits
    assert "Standard_Z9_v9 is not in offline/capacity.py's VM_SIZES table" in report.notes[0]


def test_a_pod_requests_the_larger_of_its_containers_sum_and_its_largest_init_container():
    spec = {"containers": [{"resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                           {"resources": {"requests": {"cpu": "200m"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "400m", "memory": "32Mi"}}}]}
    assert pod_requests(spec) == Amount(Decimal("0.4"), 64 * MIB)  # CPU: the init container; memory: the sum


def test_mysql_cluster_pods_count_with_the_requests_of_their_pod_spec():
    cluster = {"kind": "InnoDBCluster", "metadata": {"namespace": "todo", "name": "db"},
               "spec": {"instances": 3, "router": {"instances": 2},
                        "podSpec": {"containers": [{"name": "mysql", "resources": {"requests": {"cpu": "500m",
                                                                                                "memory": "1Gi"}}}]}}}
    demands, notes = workload_demands([cluster])
    assert [(d.pods, d.per_pod) for d in demands] == [(3, Amount(Decimal("0.5"), GIB)), (2, Amount())]
    assert notes == ["InnoDBCluster/todo/db: its 2 MySQL router pod(s) declare no requests (counted as 0)"]


@pytest.mark.parametrize(("text", "value"), [
    ("250m", Decimal("0.25")), ("1", Decimal(1)), ("1.5", Decimal("1.5")), ("128Mi", 128 * MIB),
    ("1Gi", GIB), ("500M", Decimal(500_000_000)), ("1e3", Decimal(1000)), (2, Decimal(2)),
])
def test_quantities_are_read_like_kubernetes_reads_them(text, value):
    assert quantity(text) == value
