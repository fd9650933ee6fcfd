"""Secure-by-default Pulumi components for Kubernetes workloads (contract: docs/design/components-contract.md)."""

from ._checks import InvalidArgsError
from .autoscaled_app import AutoscaledApp, AutoscaledAppArgs
from .connections import Connection, Endpoint
from .labels import recommended_labels, selector_labels
from .network_policy import NamespaceIsolation, Peer, Rule, WorkloadTraffic, workload_policies
from .object_store import MINIO_IMAGE, ObjectStore, ObjectStoreArgs
from .pod import (
    ContainerPort,
    EnvFromSecret,
    ExecProbe,
    HttpProbe,
    JvmHeap,
    Resources,
    SecretFile,
    SecretStoreVolume,
    SecurityOptOut,
    TcpProbe,
    WorkloadArgs,
)
from .pod_security import PodSecurity
from .service_account import service_account
from .stateful_store import PerReplicaStorage, SharedStorage, StatefulStore, StatefulStoreArgs
from .stateless_service import IngressPath, IngressRule, StatelessService, StatelessServiceArgs

__all__ = [
    "MINIO_IMAGE",
    "AutoscaledApp",
    "AutoscaledAppArgs",
    "Connection",
    "ContainerPort",
    "Endpoint",
    "EnvFromSecret",
    "ExecProbe",
    "HttpProbe",
    "IngressPath",
    "IngressRule",
    "InvalidArgsError",
    "JvmHeap",
    "NamespaceIsolation",
    "ObjectStore",
    "ObjectStoreArgs",
    "Peer",
    "PerReplicaStorage",
    "PodSecurity",
    "Resources",
    "Rule",
    "SecretFile",
    "SecretStoreVolume",
    "SecurityOptOut",
    "SharedStorage",
    "StatefulStore",
    "StatefulStoreArgs",
    "StatelessService",
    "StatelessServiceArgs",
    "TcpProbe",
    "WorkloadArgs",
    "WorkloadTraffic",
    "recommended_labels",
    "selector_labels",
    "service_account",
    "workload_policies",
]
