"""The StorageClasses the stores use on AKS: Azure Disk per replica, Azure Files shared by all replicas."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.labels import recommended_labels
from settings.platform import StorageSettings

DISK_CSI = "disk.csi.azure.com"
FILE_CSI = "file.csi.azure.com"


def _labels(class_name: str) -> dict[str, str]:
    return recommended_labels(name=class_name, instance="platform", component="storage", part_of="aks-microservices")


def per_replica_storage_class(
    name: str, storage: StorageSettings, opts: pulumi.ResourceOptions
) -> k8s.storage.v1.StorageClass:
    """Azure Disk (ReadWriteOnce) for per-replica volumes.

    `WaitForFirstConsumer` creates each disk in the zone of the node that runs its pod (a zonal LRS disk
    cannot attach elsewhere); `Retain` keeps the disk when its claim is deleted.
    """
    return k8s.storage.v1.StorageClass(
        f"{name}-per-replica-storage-class",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=storage.per_replica_class_name, labels=_labels(storage.per_replica_class_name)),
        provisioner=DISK_CSI,
        parameters={"skuName": storage.per_replica_sku},
        reclaim_policy="Retain",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=opts,
    )


def shared_storage_class(name: str, storage: StorageSettings, opts: pulumi.ResourceOptions) -> k8s.storage.v1.StorageClass:
    """Azure Files (SMB, ReadWriteMany) for volumes that every replica mounts.

    SMB has no POSIX ownership: files belong to the mount's uid/gid and their mode comes from the mount
    options, so 0777 lets non-root pods (whatever their uid) write. `mfsymlinks` gives symlinks,
    `cache=strict` keeps readers consistent with the writer, `nosharesock` gives each mount its own
    connection, `actimeo=30` caches attributes briefly, `nobrl` skips byte-range locks that SMB would
    forward to the server (they break SQLite-style locking).
    """
    return k8s.storage.v1.StorageClass(
        f"{name}-shared-storage-class",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=storage.shared_class_name, labels=_labels(storage.shared_class_name)),
        provisioner=FILE_CSI,
        parameters={"skuName": storage.shared_sku},
        reclaim_policy="Retain",
        volume_binding_mode="Immediate",
        allow_volume_expansion=True,
        mount_options=[
            "dir_mode=0777",
            "file_mode=0777",
            f"uid={storage.shared_mount_uid}",
            f"gid={storage.shared_mount_gid}",
            "mfsymlinks",
            "cache=strict",
            "nosharesock",
            "actimeo=30",
            "nobrl",
        ],
        opts=opts,
    )
