"""Workloads shaped like the ones the components build: compliant unless a test changes them."""

from __future__ import annotations

import copy
from typing import Any

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def compliant_container(**changes: Any) -> dict[str, Any]:
    container = {
        "name": "web",
        "image": "myregistry.azurecr.io/team/web:1.4.2",
        "ports": [{"name": "main", "containerPort": 8080}],
        "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                {"name": "LOG_LEVEL", "value": "info"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"tcpSocket": {"port": 8080}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
    }
    container.update(changes)
    return container


def pod_spec(*containers: dict[str, Any], **changes: Any) -> dict[str, Any]:
    spec = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
        "containers": list(containers) or [compliant_container()],
    }
    spec.update(changes)
    return spec


def deployment(spec: dict[str, Any] | None = None, annotations: dict[str, str] | None = None,
               name: str = "web", namespace: str = "shop") -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": {"app.kubernetes.io/name": name}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                 "template": {"metadata": metadata, "spec": copy.deepcopy(spec or pod_spec())}},
    }
