"""MongoDB as a StatefulStore, as both Smilr and Knote run it (one replica, a disk of its own)."""

from __future__ import annotations

import pulumi

from components import PerReplicaStorage, Resources, StatefulStore, StatefulStoreArgs
from stacks.common import AppScope

PORT = 27017
# The official mongo image's `mongodb` user and group.
USER = 999
# MongoDB sizes its cache from the node's memory, not the container's limit: cap it below the limit.
ARGS = ("--wiredTigerCacheSizeGB", "0.25")
RESOURCES = Resources(cpu_request="100m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi")
# The seeds' mongo 3.4 and 6.0 are past their end of life; 7.0 is maintained and still speaks to both apps'
# Node drivers (3.x, OP_MSG). Each app's `mongoTag` setting can change it.
DEFAULT_TAG = "7.0"
# Why it runs one pod, and may reach zero ready pods while its node is drained (the workload annotation).
SINGLE_SERVER = (
    "one mongod without a replica set: the apps' connection strings name one host, and a second member "
    "needs a replica set (rs.initiate, a replicaSet connection string) the apps are not configured for"
)


def mongodb_store(
    name: str,
    scope: AppScope,
    *,
    image: pulumi.Input[str],
    container_name: str,
    statefulset_name: str,
    headless_service_name: str,
    service_name: str,
    claim_name: str,
    size: str,
) -> StatefulStore:
    """A single MongoDB with its data at /data/db on a per-replica disk of the platform's class."""
    return StatefulStore(
        name,
        StatefulStoreArgs(
            namespace=scope.namespace_name,
            part_of=scope.key,
            component="database",
            image=image,
            container_name=container_name,
            port=PORT,
            port_name="mongodb",
            statefulset_name=statefulset_name,
            headless_service_name=headless_service_name,
            service_name=service_name,
            storage=PerReplicaStorage(
                claim_name=claim_name,
                size=size,
                mount_path="/data/db",
                storage_class=scope.platform.per_replica_storage_class,
            ),
            args=ARGS,
            resources=RESOURCES,
            run_as_user=USER,
            run_as_group=USER,
            fs_group=USER,
            writable_paths=("/tmp",),  # mongod's unix socket
            protect=scope.data_protection,
            zone_spread=scope.zone_spread,
            disruption_allowed=SINGLE_SERVER,
        ),
        scope.opts(stateful=True),
    )
