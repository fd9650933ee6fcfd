"""StatefulStore: a StatefulSet with its headless Service, an optional client Service and durable storage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import pulumi
import pulumi_kubernetes as k8s

from . import _checks as c
from .connections import Endpoint, publish, published
from .labels import STORE_LABEL, selector_labels
from .pod import (
    WorkloadArgs,
    disruption_budget,
    object_labels,
    object_meta,
    pod_template,
    selector,
    service_ports,
    workload_meta,
    workload_network_policies,
    workload_service_account,
)
from .stateless_service import dns_name

ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")
# Access modes that one node (or one pod) mounts: unusable by replicas spread over nodes.
SINGLE_NODE_MODES = ("ReadWriteOnce", "ReadWriteOncePod")
# A store's pods, StatefulSet and shared claim say they hold data (labels.STORE_LABEL). Not on claim templates:
# they are immutable, and a backed-up pod brings its claims anyway.
STORE_LABELS = {STORE_LABEL: "true"}


def _with_store_label(metadata: k8s.meta.v1.ObjectMetaArgs) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=metadata.name, namespace=metadata.namespace,
                                      labels={**(metadata.labels or {}), **STORE_LABELS},
                                      annotations=metadata.annotations)


# The controller labels pods `controller-revision-hash: <name>-<10 chars>`, a label value (<= 63).
MAX_STATEFULSET_NAME = 52
# Volume names pod.py generates; a claim must not collide with them.
_GENERATED_VOLUME = re.compile(r"(writable|secret)-[0-9]+")


def _check_storage(owner: str, storage: PerReplicaStorage | SharedStorage) -> None:
    c.check_dns_label(owner, "claim_name", storage.claim_name)
    if isinstance(storage.claim_name, str) and _GENERATED_VOLUME.fullmatch(storage.claim_name):
        c.fail(owner, "claim_name", "a name other than writable-N or secret-N (used for other volumes)",
               storage.claim_name)
    c.check_quantity(owner, "size", storage.size)
    c.check_abs_path(owner, "mount_path", storage.mount_path)
    if storage.storage_class is not None:
        c.check_pattern(owner, "storage_class", storage.storage_class, c.DNS_SUBDOMAIN,
                        "a StorageClass name (a DNS subdomain)", max_len=253)
    if storage.sub_path is not None:
        c.check_rel_path(owner, "sub_path", storage.sub_path)


@dataclass(frozen=True, kw_only=True)
class PerReplicaStorage:
    """A claim per replica from `volumeClaimTemplates` (claims are named `<claim_name>-<sts>-<ordinal>`).
    `storage_class=None` uses the cluster's default class."""

    claim_name: str
    size: str
    mount_path: str
    storage_class: str | None = None
    access_modes: Sequence[Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]] = (
        "ReadWriteOnce",
    )
    sub_path: str | None = None

    def __post_init__(self) -> None:
        _check_storage("PerReplicaStorage", self)
        c.check_sequence("PerReplicaStorage", "access_modes", self.access_modes)
        if not self.access_modes:
            c.fail("PerReplicaStorage", "access_modes", f"at least one of {', '.join(ACCESS_MODES)}",
                   self.access_modes)
        for mode in self.access_modes:
            c.check_one_of("PerReplicaStorage", "access_modes", mode, ACCESS_MODES)


@dataclass(frozen=True, kw_only=True)
class SharedStorage:
    """One PersistentVolumeClaim `claim_name` mounted by every replica. With more than one replica it must
    be mountable from several nodes (ReadWriteMany, e.g. Azure Files, or ReadOnlyMany)."""

    claim_name: str
    size: str
    mount_path: str
    storage_class: str | None = None
    access_mode: Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"] = "ReadWriteMany"
    sub_path: str | None = None

    def __post_init__(self) -> None:
        _check_storage("SharedStorage", self)
        c.check_one_of("SharedStorage", "access_mode", self.access_mode, ACCESS_MODES)


@dataclass(frozen=True, kw_only=True)
class StatefulStoreArgs(WorkloadArgs):
    """Pod fields: see `WorkloadArgs` (`port` is required). `headless_service_name` governs the pods' DNS
    names (`<sts>-<n>.<headless>`); `service_name` adds a ClusterIP Service for clients (None = none) on
    `service_port` (default `port`). Always `podManagementPolicy: OrderedReady`, `RollingUpdate`, claims
    retained when the set is deleted or scaled down, a PDB (maxUnavailable 1) from 2 replicas.
    `protect` sets Pulumi `protect` on the StatefulSet and the shared claim. `peer_ports` are the ports its
    pods dial on each other (replication): allowed between its own pods, nothing else is. Clients reach it only
    through their own declared connections to `endpoint` or `primary`. `single_writer`: pod 0 is the only pod
    that accepts writes (the others replicate it and refuse writes); `endpoint` is then a read endpoint and
    writers must connect to `primary` (connections.py refuses a writer on `endpoint`)."""

    statefulset_name: str
    headless_service_name: str
    storage: PerReplicaStorage | SharedStorage
    service_name: str | None = None
    service_port: int | None = None
    replicas: int = 1
    protect: bool = False
    peer_ports: Sequence[int] = ()
    single_writer: bool = False

    _port_required: ClassVar[bool] = True

    @property
    def workload_name(self) -> str | None:
        return self.statefulset_name if isinstance(self.statefulset_name, str) else None

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        c.check_pattern(owner, "statefulset_name", self.statefulset_name, c.DNS_LABEL,
                        f"a DNS-1123 label of at most {MAX_STATEFULSET_NAME} characters (the controller's "
                        "revision label appends 11)", max_len=MAX_STATEFULSET_NAME)
        c.check_service_name(owner, "headless_service_name", self.headless_service_name)
        if self.service_name is not None:
            c.check_service_name(owner, "service_name", self.service_name)
            if self.service_name == self.headless_service_name:
                c.fail(owner, "service_name", "a name other than headless_service_name", self.service_name)
        if self.service_port is not None:
            if self.service_name is None:
                c.fail(owner, "service_port", "None when there is no client Service (service_name None)",
                       self.service_port)
            c.check_port(owner, "service_port", self.service_port)
        c.check_int(owner, "replicas", self.replicas, lo=0)
        c.check_bool(owner, "protect", self.protect)
        c.check_bool(owner, "single_writer", self.single_writer)
        c.check_sequence(owner, "peer_ports", self.peer_ports)
        for port in self.peer_ports:
            c.check_port(owner, "peer_ports", port)
            if port not in self.container_ports():
                c.fail(owner, "peer_ports", f"ports of the container ({self.container_ports()})", port)
        c.check_type(owner, "storage", self.storage, (PerReplicaStorage, SharedStorage))
        if self.single_writer and self.service_name is None:
            c.fail(owner, "service_name", "a client Service for the reads when single_writer is set",
                   self.service_name)
        if isinstance(self.storage, SharedStorage) and self.replicas > 1 \
                and self.storage.access_mode in SINGLE_NODE_MODES:
            c.fail(owner, "replicas", f"at most 1 with SharedStorage access_mode {self.storage.access_mode!r} "
                   "(one node mounts it; use ReadWriteMany)", self.replicas)
        self.check_mount_paths({"storage.mount_path": self.storage.mount_path})


class StatefulStore(pulumi.ComponentResource):
    """StatefulSet `statefulset_name` + headless Service + optional client Service (+ shared claim, + PDB),
    ServiceAccount and NetworkPolicy named like the StatefulSet."""

    statefulset: k8s.apps.v1.StatefulSet
    headless_service: k8s.core.v1.Service
    service: k8s.core.v1.Service | None
    claim: k8s.core.v1.PersistentVolumeClaim | None
    pdb: k8s.policy.v1.PodDisruptionBudget | None
    network_policies: list[k8s.networking.v1.NetworkPolicy]
    primary_host: pulumi.Output[str]
    host: pulumi.Output[str]
    port: int
    endpoint: Endpoint
    primary: Endpoint
    read_endpoint: Endpoint
    write_endpoint: Endpoint

    def __init__(self, name: str, args: StatefulStoreArgs, opts: pulumi.ResourceOptions | None = None):
        """Declare the StatefulStore `name` (its children are named from it) as `args` describe it. `opts` are the
        component's resource options (provider, protect, aliases, ...), inherited by every child. Invalid
        `args` raise `InvalidArgsError` (one line naming the field and the value) before anything is
        registered."""
        if not isinstance(args, StatefulStoreArgs):
            raise TypeError(f"StatefulStore: args must be a StatefulStoreArgs, got {type(args).__name__}")
        super().__init__("aks-microservices:components:StatefulStore", name, None, opts)
        app = args.statefulset_name
        child = pulumi.ResourceOptions(parent=self)
        # None inherits the component's own `protect` (from the caller's opts) through `parent`.
        protect_data = True if args.protect else None

        # Headless: per-pod DNS records, published before readiness so peers can find each other at startup.
        self.headless_service = k8s.core.v1.Service(
            f"{name}-headless",
            metadata=object_meta(args, name=args.headless_service_name, app_name=app),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                publish_not_ready_addresses=True,
                selector=selector_labels(app, args.instance_label),
                ports=service_ports(args, service_port=args.port),
            ),
            opts=child,
        )
        self.service = None
        self.port = args.service_port or args.port
        if args.service_name is not None:
            self.service = k8s.core.v1.Service(
                f"{name}-service",
                metadata=object_meta(args, name=args.service_name, app_name=app),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type="ClusterIP",
                    selector=selector_labels(app, args.instance_label),
                    ports=service_ports(args, service_port=self.port),
                ),
                opts=child,
            )

        storage = args.storage
        mount = k8s.core.v1.VolumeMountArgs(name=storage.claim_name, mount_path=storage.mount_path,
                                            sub_path=storage.sub_path)
        claim_spec = k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=list(storage.access_modes) if isinstance(storage, PerReplicaStorage)
            else [storage.access_mode],
            storage_class_name=storage.storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": storage.size}),
        )
        self.claim = None
        volumes, templates = [], None
        if isinstance(storage, SharedStorage):
            self.claim = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-claim",
                metadata=_with_store_label(object_meta(args, name=storage.claim_name, app_name=app)),
                spec=claim_spec,
                # Pulumi never deletes the data: replacing or dropping the claim leaves it in the cluster (a
                # replacement then fails on the existing name instead of starting over on an empty volume).
                opts=pulumi.ResourceOptions(parent=self, protect=protect_data, retain_on_delete=True,
                                            delete_before_replace=True),
            )
            volumes = [k8s.core.v1.VolumeArgs(
                name=storage.claim_name,
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                    claim_name=storage.claim_name
                ),
            )]
        else:
            templates = [k8s.core.v1.PersistentVolumeClaimArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(name=storage.claim_name, labels=object_labels(args, app)),
                spec=claim_spec,
            )]

        account = workload_service_account(f"{name}-service-account", args, app_name=app, opts=child)
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=_with_store_label(workload_meta(args, name=app, app_name=app)),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                service_name=args.headless_service_name,
                replicas=args.replicas,
                selector=selector(args, app),
                template=pod_template(args, app_name=app, volumes=volumes, volume_mounts=[mount],
                                      service_account_name=account, component_labels=STORE_LABELS),
                pod_management_policy="OrderedReady",
                update_strategy=k8s.apps.v1.StatefulSetUpdateStrategyArgs(type="RollingUpdate"),
                # Data outlives the set: deleting or scaling down never deletes a claim.
                persistent_volume_claim_retention_policy=(
                    k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                        when_deleted="Retain", when_scaled="Retain"
                    )
                ),
                volume_claim_templates=templates,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=protect_data,
                # Claim templates, selector and serviceName are immutable: changing one replaces the set. Its name
                # is fixed, so the old set goes first; its claims stay (retention policy Retain) and the new set
                # adopts them by name (<template>-<set>-<ordinal>): downtime, not data loss. With `protect`
                # (dataProtection) Pulumi refuses the replacement outright.
                delete_before_replace=True,
                depends_on=[r for r in (self.headless_service, self.claim) if r is not None],
            ),
        )
        self.pdb = disruption_budget(f"{name}-pdb", args, app_name=app, opts=child) if args.replicas >= 2 else None

        pods = selector_labels(app, args.instance_label)
        client_service = self.service or self.headless_service
        client_name = args.service_name or args.headless_service_name
        # Pod 0 by its stable per-pod DNS name under the headless Service: the record follows the pod across
        # restarts and rescheduling (same name, new address; publishNotReadyAddresses keeps it while it
        # starts), and clients re-resolve it when they reconnect. Policies cannot single out pod 0, so the
        # primary endpoint admits its clients to the store's pods.
        self.primary = published(Endpoint(host=pulumi.Output.concat(f"{app}-0.", self.headless_service.metadata.name),
                                          port=args.port, namespace=args.namespace, workload=app, pod_labels=pods,
                                          label=f"{app}-0.{args.headless_service_name}:{args.port} (pod 0, the primary)"))
        # What clients dial: the client Service (the headless one without it). With a single writer it
        # balances over replicas that refuse writes: a read endpoint.
        read_only = None
        if args.single_writer:
            read_only = "its Service balances over every pod and only pod 0 accepts writes"
        self.endpoint = published(Endpoint(host=client_service.metadata.name, port=self.port, target_port=args.port,
                                           namespace=args.namespace, workload=app, pod_labels=pods,
                                           read_only=read_only, write_endpoint=self.primary if read_only else None,
                                           label=f"{client_name}:{self.port}"))
        self.read_endpoint = self.endpoint
        self.write_endpoint = self.primary if args.single_writer else self.endpoint
        self.primary_host = publish(pulumi.Output.all(
            self.headless_service.metadata.name, self.headless_service.metadata.namespace
        ).apply(lambda parts: f"{app}-0.{parts[0]}.{parts[1]}.svc.cluster.local"), self.primary)
        self.host = publish(dns_name(self.service or self.headless_service), self.endpoint)
        self.network_policies = workload_network_policies(name, args, app_name=app, peer_ports=args.peer_ports,
                                                          opts=child)
        self.register_outputs({
            "statefulset_name": app,
            "primary_host": self.primary_host,
            "host": self.host,
            "port": self.port,
        })
