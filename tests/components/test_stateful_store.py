import re

import pulumi
import pytest

from components import (
    InvalidArgsError,
    PerReplicaStorage,
    SharedStorage,
    StatefulStore,
    StatefulStoreArgs,
    TcpProbe,
)
from components.labels import STORE_LABEL, selector_labels
from offline.engine import run

COMPONENT = "aks-microservices:components:StatefulStore"
MONGO_STORAGE = PerReplicaStorage(claim_name="mongo-vol", size="500M", mount_path="/data/db")
REDIS_STORAGE = SharedStorage(claim_name="shared-redis-pvc", size="5Gi", mount_path="/data",
                              storage_class="azurefile-csi-premium")


def mongo_args(**overrides) -> StatefulStoreArgs:
    fields = dict(namespace="smilr", part_of="smilr", component="database", image="mongo:6.0", port=27017,
                  statefulset_name="mongodb", headless_service_name="mongodb", service_name="mongodb-svc",
                  storage=MONGO_STORAGE, writable_paths=("/tmp",))
    fields.update(overrides)
    return StatefulStoreArgs(**fields)


def redis_args(**overrides) -> StatefulStoreArgs:
    fields = dict(namespace="fib", part_of="fib", component="cache", image="redis:7.4", port=6379,
                  statefulset_name="redis-statefulset", headless_service_name="redis-headless",
                  service_name="redis-service", replicas=3, storage=REDIS_STORAGE)
    fields.update(overrides)
    return StatefulStoreArgs(**fields)


def render(args: StatefulStoreArgs, opts=None, name: str = "store"):
    return run(lambda: StatefulStore(name, args, opts))


# Objects -------------------------------------------------------------------------------------------------

def test_creates_a_statefulset_a_headless_service_and_a_client_service_with_the_given_names():
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in render(mongo_args()).k8s_objects())
    assert kinds == [("NetworkPolicy", "mongodb"), ("Service", "mongodb"), ("Service", "mongodb-svc"),
                     ("ServiceAccount", "mongodb"), ("StatefulSet", "mongodb")]


def test_the_headless_service_has_no_cluster_ip_and_publishes_pods_before_they_are_ready():
    spec = render(redis_args()).k8s("Service", "redis-headless")["spec"]
    assert spec == {
        "clusterIP": "None",
        "publishNotReadyAddresses": True,
        "selector": selector_labels("redis-statefulset", "fib"),
        "ports": [{"name": "main", "port": 6379, "targetPort": 6379, "protocol": "TCP"}],
    }


def test_the_client_service_is_a_cluster_ip_on_the_service_port():
    spec = render(mongo_args(service_port=27018)).k8s("Service", "mongodb-svc")["spec"]
    assert spec == {
        "type": "ClusterIP",
        "selector": selector_labels("mongodb", "smilr"),
        "ports": [{"name": "main", "port": 27018, "targetPort": 27017, "protocol": "TCP"}],
    }


def test_without_a_service_name_only_the_headless_service_exists_and_is_the_host():
    recording = render(mongo_args(statefulset_name="mongo", headless_service_name="mongo", service_name=None))
    assert [r.inputs["metadata"]["name"] for r in recording.of_type("kubernetes:core/v1:Service")] == ["mongo"]
    assert recording.resolve(recording.value.host) == "mongo.smilr.svc.cluster.local"
    assert recording.value.service is None


def test_the_statefulset_is_governed_by_the_headless_service_and_rolls_out_in_order():
    spec = render(redis_args()).k8s("StatefulSet", "redis-statefulset")["spec"]
    assert spec["serviceName"] == "redis-headless"
    assert spec["replicas"] == 3
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate"}
    assert spec["selector"] == {"matchLabels": selector_labels("redis-statefulset", "fib")}


@pytest.mark.parametrize("args", [mongo_args(), redis_args()], ids=["per-replica", "shared"])
def test_claims_are_retained_when_the_set_is_deleted_or_scaled_down(args):
    spec = render(args).k8s("StatefulSet", args.statefulset_name)["spec"]
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_per_replica_storage_is_a_labelled_claim_template_mounted_at_its_path():
    storage = PerReplicaStorage(claim_name="pgdata", size="5Gi", mount_path="/var/lib/postgresql/data",
                                sub_path="postgres", storage_class="managed-csi")
    recording = render(mongo_args(storage=storage))
    spec = recording.k8s("StatefulSet", "mongodb")["spec"]
    set_labels = recording.k8s("StatefulSet", "mongodb")["metadata"]["labels"]
    # The set's labels but the store marker, which claim templates (immutable) never had.
    template_labels = {k: v for k, v in set_labels.items() if k != STORE_LABEL}
    assert spec["volumeClaimTemplates"] == [{
        "metadata": {"name": "pgdata", "labels": template_labels},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "managed-csi",
                 "resources": {"requests": {"storage": "5Gi"}}},
    }]
    mounts = spec["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "pgdata", "mountPath": "/var/lib/postgresql/data", "subPath": "postgres"} in mounts
    assert not recording.of_type("kubernetes:core/v1:PersistentVolumeClaim")


def test_per_replica_storage_without_a_class_uses_the_cluster_default():
    template = render(mongo_args()).k8s("StatefulSet", "mongodb")["spec"]["volumeClaimTemplates"][0]
    assert "storageClassName" not in template["spec"]
    assert template["spec"]["resources"] == {"requests": {"storage": "500M"}}


def test_shared_storage_is_one_claim_mounted_by_every_replica():
    recording = render(redis_args())
    claim = recording.k8s("PersistentVolumeClaim", "shared-redis-pvc")
    assert claim["metadata"]["namespace"] == "fib"
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "azurefile-csi-premium",
                             "resources": {"requests": {"storage": "5Gi"}}}
    pod = recording.k8s("StatefulSet", "redis-statefulset")["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "shared-redis-pvc",
                               "persistentVolumeClaim": {"claimName": "shared-redis-pvc"}}]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "shared-redis-pvc", "mountPath": "/data"}]
    assert "volumeClaimTemplates" not in recording.k8s("StatefulSet", "redis-statefulset")["spec"]


def test_shared_read_write_once_storage_is_fine_for_a_single_replica():
    storage = SharedStorage(claim_name="data", size="1Gi", mount_path="/data", access_mode="ReadWriteOnce")
    claim = render(redis_args(replicas=1, storage=storage)).k8s("PersistentVolumeClaim", "data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_store_pods_keep_the_secure_defaults_and_probe_the_port():
    pod = render(mongo_args()).k8s("StatefulSet", "mongodb")["spec"]["template"]
    spec, container = pod["spec"], pod["spec"]["containers"][0]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["fsGroup"] == 10001
    assert spec["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["readinessProbe"]["tcpSocket"] == {"port": 27017}
    assert container["livenessProbe"]["tcpSocket"] == {"port": 27017}
    assert "matchLabelKeys" not in spec["topologySpreadConstraints"][0]


def test_per_ordinal_behaviour_comes_from_command_and_args_using_the_hostname():
    args = redis_args(command=["sh", "-c"], args=[
        'if [ "${HOSTNAME##*-}" = 0 ]; then exec redis-server; '
        "else exec redis-server --replicaof redis-statefulset-0.redis-headless 6379 --save ''; fi"
    ], readiness_probe=TcpProbe())
    container = render(args).k8s("StatefulSet", "redis-statefulset")["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"]
    assert "--replicaof redis-statefulset-0.redis-headless 6379" in container["args"][0]


def test_a_pdb_allows_one_disruption_from_two_replicas():
    assert render(redis_args()).k8s("PodDisruptionBudget", "redis-statefulset")["spec"]["maxUnavailable"] == 1
    assert not render(mongo_args()).of_type("kubernetes:policy/v1:PodDisruptionBudget")


# Pulumi options ------------------------------------------------------------------------------------------

def test_children_are_named_from_the_component_name_and_parented_to_it():
    recording = render(redis_args(), name="redis")
    component = recording.of_type(COMPONENT)[0]
    assert sorted(r.name for r in recording.children_of(component.urn)) == [
        "redis-claim", "redis-headless", "redis-network-policy", "redis-pdb", "redis-service",
        "redis-service-account", "redis-statefulset",
    ]


def test_protect_guards_the_data_but_not_the_services():
    recording = render(redis_args(protect=True), name="redis")
    protected = sorted(r.name for r in recording.resources if r.protect)
    assert protected == ["redis-claim", "redis-statefulset"]


def test_user_opts_such_as_protect_reach_every_child():
    recording = render(mongo_args(), opts=pulumi.ResourceOptions(protect=True))
    component = recording.of_type(COMPONENT)[0]
    assert component.protect
    assert all(r.protect for r in recording.children_of(component.urn))


# Outputs and whole-output checks -------------------------------------------------------------------------

def test_outputs_give_the_primary_pod_host_the_client_host_and_port():
    recording = render(redis_args())
    store = recording.value
    assert recording.resolve(store.primary_host) == "redis-statefulset-0.redis-headless.fib.svc.cluster.local"
    assert recording.resolve(store.host) == "redis-service.fib.svc.cluster.local"
    assert store.port == 6379
    assert store.statefulset is not None and store.headless_service is not None and store.claim is not None


@pytest.mark.parametrize("args", [mongo_args(), redis_args()], ids=["per-replica", "shared"])
def test_every_object_is_valid_and_labelled(args, assert_manifests_valid, assert_recommended_labels):
    recording = render(args)
    assert_manifests_valid(recording)
    assert_recommended_labels(recording, name=args.statefulset_name, component=args.component)


# Validation ----------------------------------------------------------------------------------------------

ERRORS = [
    ({"statefulset_name": "m" * 53}, "StatefulStoreArgs.statefulset_name: expected a DNS-1123 label of at most 52 "
                                     "characters (the controller's revision label appends 11), got 'mmm"),
    ({"headless_service_name": "Mongo"}, "StatefulStoreArgs.headless_service_name: expected a DNS-1035 label"),
    ({"service_name": "mongodb"},
     "StatefulStoreArgs.service_name: expected a name other than headless_service_name, got 'mongodb'"),
    ({"port": None}, "StatefulStoreArgs.port: expected an integer 1-65535, got None"),
    ({"service_name": None, "service_port": 27017},
     "StatefulStoreArgs.service_port: expected None when there is no client Service (service_name None), got 27017"),
    ({"replicas": -1}, "StatefulStoreArgs.replicas: expected an integer >= 0, got -1"),
    ({"replicas": None}, "StatefulStoreArgs.replicas: expected an integer >= 0, got None"),
    ({"protect": "yes"}, "StatefulStoreArgs.protect: expected True or False, got 'yes'"),
    ({"storage": None}, "StatefulStoreArgs.storage: expected a PerReplicaStorage or SharedStorage, got None"),
    ({"storage": SharedStorage(claim_name="d", size="1Gi", mount_path="/d", access_mode="ReadWriteOnce"),
      "replicas": 3},
     "StatefulStoreArgs.replicas: expected at most 1 with SharedStorage access_mode 'ReadWriteOnce' (one node "
     "mounts it; use ReadWriteMany), got 3"),
    ({"writable_paths": ("/data/db",)},
     "StatefulStoreArgs.storage.mount_path: expected a mount path not used by another volume, got '/data/db'"),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS)
def test_args_reject_bad_fields_naming_the_field_and_value(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        mongo_args(**overrides)


STORAGE_ERRORS = [
    (lambda: PerReplicaStorage(claim_name="Data", size="1Gi", mount_path="/d"),
     "PerReplicaStorage.claim_name: expected a DNS-1123 label"),
    (lambda: PerReplicaStorage(claim_name="writable-0", size="1Gi", mount_path="/d"),
     "PerReplicaStorage.claim_name: expected a name other than writable-N or secret-N (used for other volumes), "
     "got 'writable-0'"),
    (lambda: PerReplicaStorage(claim_name="data", size="5 GB", mount_path="/d"),
     "PerReplicaStorage.size: expected a Kubernetes quantity such as '250m', '0.5', '128Mi', '1Gi' or '500M', "
     "got '5 GB'"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="data"),
     "PerReplicaStorage.mount_path: expected an absolute path below '/' without '..' or ':', got 'data'"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/d", access_modes="ReadWriteOnce"),
     "PerReplicaStorage.access_modes: expected a list or tuple, got 'ReadWriteOnce'"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/d", access_modes=()),
     "PerReplicaStorage.access_modes: expected at least one of ReadWriteOnce, ReadOnlyMany, ReadWriteMany, "
     "ReadWriteOncePod, got ()"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/d", access_modes=("RWO",)),
     "PerReplicaStorage.access_modes: expected one of 'ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', "
     "'ReadWriteOncePod', got 'RWO'"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/d", storage_class="Premium SSD"),
     "PerReplicaStorage.storage_class: expected a StorageClass name (a DNS subdomain), got 'Premium SSD'"),
    (lambda: PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/d", sub_path="/postgres"),
     "PerReplicaStorage.sub_path: expected a relative path without '..', got '/postgres'"),
    (lambda: SharedStorage(claim_name="data", size="1Gi", mount_path="/d", access_mode="ReadWriteSome"),
     "SharedStorage.access_mode: expected one of 'ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', "
     "'ReadWriteOncePod', got 'ReadWriteSome'"),
]


@pytest.mark.parametrize(("build", "message"), STORAGE_ERRORS)
def test_storage_types_reject_bad_fields_naming_the_field_and_value(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


@pytest.mark.parametrize("args", [mongo_args(), redis_args()], ids=["per-replica", "shared"])
def test_a_stores_pods_set_and_shared_claim_carry_the_store_label_a_backup_selects(args):
    recording = render(args)
    statefulset = recording.k8s("StatefulSet", args.statefulset_name)
    assert statefulset["metadata"]["labels"][STORE_LABEL] == "true"
    assert statefulset["spec"]["template"]["metadata"]["labels"][STORE_LABEL] == "true"
    for template in statefulset["spec"].get("volumeClaimTemplates") or []:
        assert STORE_LABEL not in template["metadata"]["labels"]  # immutable: changing it would replace the set
    for claim in (o for o in recording.k8s_objects() if o["kind"] == "PersistentVolumeClaim"):
        assert claim["metadata"]["labels"][STORE_LABEL] == "true"


def test_the_store_label_is_the_components_own():
    with pytest.raises(InvalidArgsError, match=STORE_LABEL):
        mongo_args(pod_labels={STORE_LABEL: "false"})
