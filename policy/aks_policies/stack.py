"""Policies that look across the stack's resources: which pods a Service exposes, which values are secrets."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from ._props import UNKNOWN, config_list, describe, get, items, kubernetes_kind, type_chain, workload

# The components that build stores: a Service below one of them fronts stored data.
DEFAULT_STORE_COMPONENTS = (
    "aks-microservices:components:StatefulStore",
    "aks-microservices:components:ObjectStore",
)
# Shorter values (a user name such as `root`) are too common to call a literal that contains one a leak.
DEFAULT_MIN_SECRET_LENGTH = 8


def _labels_match(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _string_map(node: Any) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        return {}
    return {key: get(node, key) for key in node}


def _check_store_load_balancers(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = dict(args.get_config() or {})
    store_components = set(config_list(config, "storeComponentTypes", DEFAULT_STORE_COMPONENTS))
    # Pod labels of every StatefulSet, by namespace: what a store Service would select.
    store_pods: list[tuple[Any, dict[str, Any], str]] = []
    for resource in args.resources:
        if kubernetes_kind(resource.resource_type) == "StatefulSet":
            found = workload(resource.resource_type, resource.props, resource.name)
            if found is not None:
                store_pods.append((get(resource.props, "metadata", "namespace"),
                                   _string_map(get(found.pod_metadata, "labels")), found.label))
    for resource in args.resources:
        if kubernetes_kind(resource.resource_type) != "Service" or get(resource.props, "spec", "type") != "LoadBalancer":
            continue
        label = describe("Service", resource.props, resource.name)
        owner = next((t for t in type_chain(resource.urn)[:-1] if t in store_components), None)
        if owner is not None:
            report_violation(f"{label} is a LoadBalancer inside a {owner.rsplit(':', 1)[-1]}: stores stay "
                             "inside the cluster (ClusterIP or headless)", resource.urn)
            continue
        selector = _string_map(get(resource.props, "spec", "selector"))
        namespace = get(resource.props, "metadata", "namespace")
        for store_namespace, labels, store in store_pods:
            if store_namespace == namespace and _labels_match(selector, labels):
                report_violation(f"{label} is a LoadBalancer that selects the pods of {store}: stores stay inside "
                                 "the cluster (ClusterIP or headless)", resource.urn)
                break


no_store_load_balancers = StackValidationPolicy(
    name="no-load-balancer-for-stores",
    description="No Service of type LoadBalancer fronts a store (a StatefulSet, or a store component's Service).",
    validate=_check_store_load_balancers,
    config_schema=PolicyConfigSchema(properties={
        "storeComponentTypes": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_STORE_COMPONENTS),
            "description": "Component types whose Services front stored data.",
        },
    }),
)


def _secret_values(args: StackValidationArgs, min_length: int) -> Iterator[tuple[str, str]]:
    """(value, where) for every known value of every Kubernetes Secret of the stack."""
    for resource in args.resources:
        if kubernetes_kind(resource.resource_type) != "Secret":
            continue
        label = describe("Secret", resource.props, resource.name)
        for field, encoded in (("stringData", False), ("data", True)):
            for key, value in _string_map(get(resource.props, field)).items():
                if not isinstance(value, str):
                    continue  # unknown until the deployment (e.g. a generated password)
                if encoded:
                    try:
                        value = base64.b64decode(value, validate=True).decode()
                    except (binascii.Error, UnicodeDecodeError):
                        continue
                if len(value) >= min_length:
                    yield value, f"{label} key {key}"
    # Key Vault secrets (what a SecretProviderClass syncs into Kubernetes Secrets at run time).
    for resource in args.resources:
        if re.fullmatch(r"azure-native:keyvault(/v[0-9a-z]+)?:Secret", resource.resource_type):
            value = get(resource.props, "properties", "value")
            if isinstance(value, str) and len(value) >= min_length:
                yield value, f"Key Vault secret {get(resource.props, 'secretName', default=resource.name)}"


def _check_secret_values_in_env(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = dict(args.get_config() or {})
    min_length = int(config.get("minSecretLength") or DEFAULT_MIN_SECRET_LENGTH)
    secrets = list(_secret_values(args, min_length))
    if not secrets:
        return
    for resource in args.resources:
        found = workload(resource.resource_type, resource.props, resource.name)
        if found is None:
            continue
        for container in found.containers():
            for variable in items(container.spec, "env"):
                value = get(variable, "value")
                if value is UNKNOWN or not isinstance(value, str):
                    continue
                for secret, where in secrets:
                    if secret in value:
                        report_violation(
                            f"{found.label} {container.label}: env {get(variable, 'name')} holds the value of "
                            f"{where} as a literal; read it with valueFrom.secretKeyRef", resource.urn)
                        break


no_secret_values_in_env = StackValidationPolicy(
    name="no-secret-values-in-env-literals",
    description="No container env literal contains the value of a Secret of the stack.",
    validate=_check_secret_values_in_env,
    config_schema=PolicyConfigSchema(properties={
        "minSecretLength": {
            "type": "integer", "default": DEFAULT_MIN_SECRET_LENGTH,
            "description": "Secret values shorter than this are not searched for (too common to be telling).",
        },
    }),
)

POLICIES = [no_store_load_balancers, no_secret_values_in_env]
