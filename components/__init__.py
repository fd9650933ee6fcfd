"""Secure-by-default Pulumi components for Kubernetes workloads (contract: docs/design/components-contract.md)."""

from ._checks import InvalidArgsError
from .autoscaled_app import AutoscaledApp, AutoscaledAppArgs
from .labels import recommended_labels, selector_labels
from .object_store import MINIO_IMAGE, ObjectStore, ObjectStoreArgs
from .pod import (
    ContainerPort,
    EnvFromSecret,
    ExecProbe,
    HttpProbe,
    Resources,
    SecretFile,
    SecurityOptOut,
    TcpProbe,
    WorkloadArgs,
)
from .stateful_store import PerReplicaStorage, SharedStorage, StatefulStore, StatefulStoreArgs
from .stateless_service import IngressPath, IngressRule, StatelessService, StatelessServiceArgs

__all__ = [
    "MINIO_IMAGE",
    "AutoscaledApp",
    "AutoscaledAppArgs",
    "ContainerPort",
    "EnvFromSecret",
    "ExecProbe",
    "HttpProbe",
    "IngressPath",
    "IngressRule",
    "InvalidArgsError",
    "ObjectStore",
    "ObjectStoreArgs",
    "PerReplicaStorage",
    "Resources",
    "SecretFile",
    "SecurityOptOut",
    "SharedStorage",
    "StatefulStore",
    "StatefulStoreArgs",
    "StatelessService",
    "StatelessServiceArgs",
    "TcpProbe",
    "WorkloadArgs",
    "recommended_labels",
    "selector_labels",
]
