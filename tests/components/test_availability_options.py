"""The components' availability options: `disruption_allowed` (the workload annotation the drain and zone-loss
checks read) and `zone_spread` (soft or hard topology spread over zones)."""

import pytest

from components import (
    InvalidArgsError,
    ObjectStore,
    ObjectStoreArgs,
    PerReplicaStorage,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
)
from offline.engine import run

ANNOTATION = "aks-microservices.io/disruption-allowed"
ZONE = "topology.kubernetes.io/zone"
NODE = "kubernetes.io/hostname"


def service(**overrides):
    fields = dict(namespace="shop", part_of="shop", component="web", image="nginx:1.27", port=8080,
                  deployment_name="web", replicas=1)
    fields.update(overrides)
    return run(lambda: StatelessService("web", StatelessServiceArgs(**fields)))


def store(**overrides):
    fields = dict(namespace="shop", part_of="shop", component="database", image="postgres:16", port=5432,
                  statefulset_name="db", headless_service_name="db-headless", service_name="db",
                  storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data"))
    fields.update(overrides)
    return run(lambda: StatefulStore("db", StatefulStoreArgs(**fields)))


def annotated(recording) -> dict[str, str]:
    """kind/name -> reason, for every object that carries the annotation."""
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["annotations"][ANNOTATION]
            for o in recording.k8s_objects() if ANNOTATION in (o["metadata"].get("annotations") or {})}


def zone_rules(workload: dict) -> dict[str, str]:
    spread = workload["spec"]["template"]["spec"]["topologySpreadConstraints"]
    return {c["topologyKey"]: c["whenUnsatisfiable"] for c in spread}


def test_a_declared_reason_lands_on_the_deployment_metadata_only():
    recording = service(disruption_allowed="a demo page; nobody pages on it")
    assert annotated(recording) == {"Deployment/web": "a demo page; nobody pages on it"}


def test_a_declared_reason_lands_on_the_statefulset_metadata_only():
    recording = store(disruption_allowed="one server, no replication")
    assert annotated(recording) == {"StatefulSet/db": "one server, no replication"}


def test_an_object_store_passes_its_reason_to_its_statefulset():
    recording = run(lambda: ObjectStore("minio", ObjectStoreArgs(namespace="shop", part_of="shop",
                                                                   disruption_allowed="single-node MinIO")))
    assert annotated(recording) == {"StatefulSet/minio": "single-node MinIO"}


def test_no_reason_no_annotation_even_with_one_replica():
    assert annotated(service()) == {}
    assert annotated(store()) == {}


@pytest.mark.parametrize("reason", ["", "   ", 3])
def test_an_empty_or_non_text_reason_is_refused(reason):
    with pytest.raises(InvalidArgsError, match="disruption_allowed"):
        StatelessServiceArgs(namespace="shop", part_of="shop", component="web", image="nginx:1.27", port=8080,
                             deployment_name="web", disruption_allowed=reason)


def test_the_annotation_cannot_be_smuggled_in_through_annotations():
    with pytest.raises(InvalidArgsError, match="disruption_allowed"):
        StatelessServiceArgs(namespace="shop", part_of="shop", component="web", image="nginx:1.27", port=8080,
                             deployment_name="web", annotations={ANNOTATION: "sneaky"})


def test_zone_spread_is_soft_by_default_on_nodes_and_zones():
    assert zone_rules(service(replicas=3).k8s("Deployment", "web")) == {NODE: "ScheduleAnyway",
                                                                         ZONE: "ScheduleAnyway"}


def test_hard_zone_spread_makes_zones_do_not_schedule_and_leaves_nodes_a_preference():
    assert zone_rules(service(replicas=3, zone_spread="hard").k8s("Deployment", "web")) == {
        NODE: "ScheduleAnyway", ZONE: "DoNotSchedule"}
    assert zone_rules(store(replicas=3, zone_spread="hard").k8s("StatefulSet", "db")) == {
        NODE: "ScheduleAnyway", ZONE: "DoNotSchedule"}


def test_a_hard_zone_spread_honours_taints_so_cordoned_or_lost_zones_are_no_domain():
    spread = service(replicas=3, zone_spread="hard").k8s("Deployment", "web")["spec"]["template"]["spec"][
        "topologySpreadConstraints"]
    policies = {c["topologyKey"]: c.get("nodeTaintsPolicy") for c in spread}
    assert policies == {NODE: None, ZONE: "Honor"}


def test_an_unknown_zone_spread_is_refused_naming_the_values():
    with pytest.raises(InvalidArgsError, match=r"zone_spread.*'soft'.*'hard'"):
        StatelessServiceArgs(namespace="shop", part_of="shop", component="web", image="nginx:1.27", port=8080,
                             deployment_name="web", zone_spread="DoNotSchedule")


def test_client_ip_affinity_keeps_each_client_on_one_pod_and_is_off_by_default():
    assert "sessionAffinity" not in service().k8s("Service", "web")["spec"]
    sticky = service(replicas=2, service_type="LoadBalancer", session_affinity="ClientIP").k8s("Service", "web")
    assert sticky["spec"]["sessionAffinity"] == "ClientIP"


def test_session_affinity_without_a_service_is_refused():
    with pytest.raises(InvalidArgsError, match="session_affinity"):
        StatelessServiceArgs(namespace="shop", part_of="shop", component="worker", image="worker:1", port=None,
                             deployment_name="worker", service_type=None, session_affinity="ClientIP",
                             probes_disabled_reason="no port")
