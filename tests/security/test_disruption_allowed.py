"""Which workloads each stack allows to reach zero ready pods during a node drain or a zone loss.

The contract (read by the control-plane tier): a Deployment or StatefulSet that may lose every ready pod
carries the annotation `aks-microservices.io/disruption-allowed` with its reason; every other workload keeps
at least one. The expected lists are the apps' facts (shared/apps.md): the stores that run as one server
(H2, single-node KRaft Kafka, MongoDB without a replica set, PostgreSQL, single-node MinIO) always; in dev
also the tiers the seeds run with one pod; in prod nothing else, because prod refuses single-pod tiers.
"""

from __future__ import annotations

import pytest

from offline.engine import run, run_stack
from settings import ConfigError, load_settings

ANNOTATION = "aks-microservices.io/disruption-allowed"
STORES_THAT_CANNOT_REPLICATE = {
    "fibonacci/postgres-statefulset",
    "homics/homics-db",
    "homics/kafka",
    "knote/minio",
    "knote/mongo",
    "smilr/mongodb",
}
# The seeds' one-pod tiers (apps.md): the Fibonacci client, and HOMicS gateway, monolith, stats and stock.
SEEDS_SINGLE_POD_TIERS = {
    "fibonacci/client-deployment",
    "homics/gateway-deployment",
    "homics/monolith-deployment",
    "homics/stats-deployment",
    "homics/stock-deployment",
}

# On AKS with Key Vault: the one idle pod that keeps the CSI driver syncing Secret mysqlpwd for the operator.
SECRET_HOLDERS = {"todo/mysqlpwd-sync"}


def workloads(stack: str) -> list[dict]:
    return [o for o in run_stack(stack).k8s_objects() if o["kind"] in ("Deployment", "StatefulSet")]


def declared(stack: str) -> dict[str, str]:
    return {f"{w['metadata']['namespace']}/{w['metadata']['name']}": w["metadata"]["annotations"][ANNOTATION]
            for w in workloads(stack) if ANNOTATION in (w["metadata"].get("annotations") or {})}


def min_pods(workload: dict, objects: list[dict]) -> int:
    for obj in objects:
        target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        if obj["kind"] == "HorizontalPodAutoscaler" and target.get("name") == workload["metadata"]["name"] \
                and obj["metadata"]["namespace"] == workload["metadata"]["namespace"]:
            return obj["spec"].get("minReplicas", 1)
    return workload["spec"].get("replicas", 1)


def test_dev_declares_exactly_the_stores_and_the_seeds_single_pod_tiers():
    assert set(declared("dev")) == STORES_THAT_CANNOT_REPLICATE | SEEDS_SINGLE_POD_TIERS | SECRET_HOLDERS


def test_dev_says_why_each_seed_tier_may_go_down_naming_its_replica_setting():
    reasons = declared("dev")
    assert "apps.homics.gatewayReplicas: 1" in reasons["homics/gateway-deployment"]
    assert "apps.fibonacci.clientReplicas: 1" in reasons["fibonacci/client-deployment"]
    assert all("availability.allowSingleReplicaTiers" in reasons[w] for w in SEEDS_SINGLE_POD_TIERS)


def test_prod_declares_only_the_stores_that_cannot_replicate_and_the_secret_holder():
    assert set(declared("prod")) == STORES_THAT_CANNOT_REPLICATE | SECRET_HOLDERS


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_every_reason_is_real_text_and_the_stores_say_why_they_cannot_replicate(stack):
    reasons = declared(stack)
    assert all(len(reason.strip()) > 20 for reason in reasons.values()), reasons
    if "homics/homics-db" in reasons:  # local runs without HOMicS (sized for a laptop)
        assert "replication" in reasons["homics/homics-db"] and "quorum" in reasons["homics/kafka"]
    assert "replica set" in reasons["smilr/mongodb"] and "distributed mode" in reasons["knote/minio"]


@pytest.mark.parametrize("stack", ["dev", "prod", "local"])
def test_every_workload_of_fewer_than_two_pods_is_declared(stack):
    objects = run_stack(stack).k8s_objects()
    undeclared = [f"{w['metadata']['namespace']}/{w['metadata']['name']}" for w in workloads(stack)
                  if min_pods(w, objects) < 2 and ANNOTATION not in (w["metadata"].get("annotations") or {})]
    assert undeclared == []


def test_prod_runs_every_undeclared_workload_at_two_or_more_pods_with_a_budget():
    objects = run_stack("prod").k8s_objects()
    budgets = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects if o["kind"] == "PodDisruptionBudget"}
    weak = [f"{w['metadata']['namespace']}/{w['metadata']['name']}" for w in workloads("prod")
            if ANNOTATION not in (w["metadata"].get("annotations") or {})
            and (min_pods(w, objects) < 2 or (w["metadata"]["namespace"], w["metadata"]["name"]) not in budgets)]
    assert weak == []


def test_summary_lists_every_declared_workload_with_its_reason(tmp_path):
    from offline.render import render

    result = render("dev", tmp_path / "dev", progress=lambda _: None)
    summary = (result.out / "summary.md").read_text()
    section = summary.split("## Allowed to reach zero ready pods", 1)[1].split("\n## ", 1)[0]
    for key, reason in declared("dev").items():
        name = key.split("/")[1]
        assert f"| {name} |" in section and reason in section, key


def refusal(config: dict) -> str:
    with pytest.raises(ConfigError) as error:
        run(load_settings, config={"availability": {"allowSingleReplicaTiers": False}, **config})
    assert "\n" not in str(error.value)
    return str(error.value)


def test_refusing_single_replica_tiers_names_the_first_tier_set_to_one():
    # With the defaults, To Do's MySQL router (1 instance, as the seed) comes first.
    assert refusal({}) == (
        "aks-microservices:apps.todo.mysqlRouterInstances: expected an integer >= 2 when "
        "availability.allowSingleReplicaTiers is false (one pod goes down with its node), got 1"
    )


def test_refusing_single_replica_tiers_skips_a_disabled_app():
    message = refusal({"apps": {"todo": {"mysqlRouterInstances": 2}, "fibonacci": {"enabled": False}}})
    assert message.startswith("aks-microservices:apps.homics.gatewayReplicas: expected an integer >= 2")


def test_a_hard_zone_spread_on_aks_without_zones_is_refused():
    with pytest.raises(ConfigError) as error:
        run(load_settings, config={"availability": {"zoneSpread": "hard"}})
    assert str(error.value).startswith('aks-microservices:availability.zoneSpread: expected "soft" when '
                                       "cluster.zones is empty")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_homics_gateway_keeps_each_client_on_the_pod_that_holds_its_login(stack):
    # Its logins live in the pod's memory: with two gateway pods (prod) a client must not hop between them.
    assert run_stack(stack).k8s("Service", "gateway", "homics")["spec"]["sessionAffinity"] == "ClientIP"


def test_the_homics_gateway_behind_an_ingress_uses_cookie_affinity():
    recording = run_stack("dev", overrides={"apps": {"homics": {"gatewayExposure": "Ingress"}}})
    annotations = recording.k8s("Ingress", "gateway", "homics")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"


ZONES_HARD = {"cluster": {"zones": ["1", "2", "3"]}, "availability": {"zoneSpread": "hard"}}


@pytest.mark.parametrize(("storage", "key", "sku"), [
    ({"sharedSku": "Premium_ZRS"}, "perReplicaSku", "StandardSSD_LRS"),
    ({"perReplicaSku": "Premium_ZRS"}, "sharedSku", "Premium_LRS"),
])
def test_a_hard_zone_spread_on_aks_needs_zone_redundant_volumes(storage, key, sku):
    with pytest.raises(ConfigError) as error:
        run(load_settings, config={**ZONES_HARD, "storage": storage})
    assert str(error.value) == (
        f'aks-microservices:storage.{key}: expected a zone-redundant SKU (ending in "_ZRS") with '
        'availability.zoneSpread "hard" (a store on a zonal volume cannot come back while its zone is down), '
        f'got "{sku}"'
    )


def test_prod_keeps_every_store_on_zone_redundant_storage_classes():
    classes = {o["metadata"]["name"]: o for o in run_stack("prod").k8s_objects() if o["kind"] == "StorageClass"}
    assert {name: c["parameters"]["skuName"] for name, c in classes.items()} == {
        "managed-retain-disk": "StandardSSD_ZRS", "azurefile-retain-rwx": "Premium_ZRS"}
    claims = [t["spec"].get("storageClassName") for w in workloads("prod") if w["kind"] == "StatefulSet"
              for t in w["spec"].get("volumeClaimTemplates") or []]
    claims += [o["spec"].get("storageClassName") for o in run_stack("prod").k8s_objects()
               if o["kind"] == "PersistentVolumeClaim"]
    assert claims and set(claims) <= set(classes)


@pytest.mark.parametrize(("stack", "rule"), [("dev", "ScheduleAnyway"), ("prod", "DoNotSchedule")])
def test_every_workload_spreads_over_zones_softly_in_dev_and_hard_in_prod_and_over_nodes_softly(stack, rule):
    spreads = {f"{w['metadata']['namespace']}/{w['metadata']['name']}": {
        c["topologyKey"]: c["whenUnsatisfiable"] for c in w["spec"]["template"]["spec"]["topologySpreadConstraints"]}
        for w in workloads(stack)}
    expected = {"topology.kubernetes.io/zone": rule, "kubernetes.io/hostname": "ScheduleAnyway"}
    assert spreads and {w: s for w, s in spreads.items() if s != expected} == {}


def test_prod_runs_the_mysql_operators_servers_and_routers_at_two_or_more():
    # The operator's StatefulSet and router Deployment are not rendered: their counts are the InnoDBCluster's.
    spec = run_stack("prod").k8s("InnoDBCluster", "todo-mysql", "todo")["spec"]
    assert spec["instances"] >= 2 and spec["router"]["instances"] >= 2


def test_prod_fits_each_zones_share_at_the_pools_maximum_and_everything_in_two_zones():
    # A hard spread (maxSkew 1) puts at most ceil(pods / zones) pods of a tier in one zone; the worst case puts
    # every single-pod store in the same zone. The autoscaler spreads the user pool's maximum over the zones.
    import math

    from offline.capacity import Amount, aks_pools, check_capacity, workload_demands

    recording = run_stack("prod")
    [pool] = recording.of_type("azure-native:containerservice:AgentPool")
    zones = len(pool.inputs["availabilityZones"])
    [user] = [p for p in aks_pools(recording.resources) if p.usable]
    assert zones == 3 and user.max_nodes == 9
    demands, _ = workload_demands(recording.k8s_objects())
    per_zone_nodes = user.max_nodes // zones
    zone_share = sum((d.per_pod * math.ceil(d.pods / zones) for d in demands), Amount())
    assert zone_share.fits_in(user.per_node * per_zone_nodes), (zone_share, user)
    # A zone lost: every pod at its maximum fits the other zones' nodes.
    assert check_capacity(recording).requests.fits_in(user.per_node * (per_zone_nodes * (zones - 1)))


def test_prod_keeps_the_strict_availability_settings_and_dev_the_cheap_ones():
    import yaml

    from offline.engine import PROJECT_DIR

    def availability(stack: str) -> dict:
        config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
        return config["aks-microservices:availability"]

    assert availability("prod") == {"zoneSpread": "hard", "allowSingleReplicaTiers": False}
    assert availability("dev") == {"zoneSpread": "soft", "allowSingleReplicaTiers": True}


def test_prod_with_its_extra_replicas_still_passes_the_capacity_check():
    from offline.capacity import check_capacity

    report = check_capacity(run_stack("prod"))
    assert report.checked and report.fits and report.error() is None
