"""Strict schema validation of rendered Kubernetes objects, offline.

Built-in kinds: the strict JSON schemas of the `kubernetes-validate` package for the stack's Kubernetes
version (unknown fields are errors). Custom resources: the `openAPIV3Schema` of their CRD (copied into
`offline/schemas/crds/`), with the CRD's defaults applied first as the API server does, and made strict
(an object schema that declares properties and does not preserve unknown fields rejects other fields, as
`kubectl apply --validate=strict` does).

Validators are built once per kind and reused: schema loading dominates validation time otherwise.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

CRD_DIR = Path(__file__).resolve().parent / "schemas" / "crds"
# The version a project's objects are validated against when neither the caller nor an extension names one.
DEFAULT_KUBERNETES_VERSION = "1.33"

# Kinds that live outside namespaces; every other kind must carry metadata.namespace.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "APIService",
        "CSIDriver",
        "CSINode",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "GatewayClass",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeSnapshotClass",
        "ClusterKopfPeering",
    }
)

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


@dataclass(frozen=True)
class ValidationIssue:
    kind: str
    name: str
    message: str


@functools.cache
def _crd_schemas() -> dict[str, dict]:
    schemas: dict[str, dict] = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        for key, entry in json.loads(path.read_text()).items():
            schemas[key] = entry["schema"]
    return schemas


def _strict(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def apply_defaults(obj: Any, schema: dict) -> Any:
    """Fill in the CRD's declared defaults, recursively, like the API server does before validation."""
    if isinstance(obj, dict) and schema.get("type") == "object":
        for prop, sub in (schema.get("properties") or {}).items():
            if prop not in obj and "default" in sub:
                obj[prop] = copy.deepcopy(sub["default"])
            if prop in obj:
                obj[prop] = apply_defaults(obj[prop], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in obj:
                if key not in (schema.get("properties") or {}):
                    obj[key] = apply_defaults(obj[key], extra)
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in obj]
    return obj


def crd_schemas_from_yaml(paths: list[Path]) -> dict[str, dict]:
    """The `openAPIV3Schema` of every version of every CustomResourceDefinition in `paths` (upstream CRD YAML
    files, several documents each), keyed `<group>/<version>/<Kind>` like the bundled ones."""
    import yaml

    schemas: dict[str, dict] = {}
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc.get("spec") or {}
            for version in spec.get("versions") or []:
                schema = ((version or {}).get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    schemas[f"{spec.get('group')}/{version.get('name')}/{(spec.get('names') or {}).get('kind')}"] = schema
    return schemas


@functools.cache
def _crd_validator(key: str) -> tuple[jsonschema.protocols.Validator, dict]:
    return _validator_for_crd(_crd_schemas()[key])


def _validator_for_crd(crd_schema: dict) -> tuple[jsonschema.protocols.Validator, dict]:
    schema = copy.deepcopy(crd_schema)
    # The API server accepts apiVersion, kind and metadata on every object, declared or not.
    properties = schema.setdefault("properties", {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties.setdefault("metadata", {"type": "object"})
    strict = _strict(schema)
    # A CRD may constrain metadata (e.g. name length) but ObjectMeta's other fields stay allowed.
    strict["properties"]["metadata"].pop("additionalProperties", None)
    return jsonschema.Draft202012Validator(strict), schema


def supported_version(version: str) -> bool:
    """Whether `version` is a Kubernetes minor version (`1.N`) that kubernetes-validate has schemas for."""
    return bool(re.fullmatch(r"1\.\d+", version)) and version in {kv_utils.major_minor(v) for v in kv_utils.all_versions()}


@functools.cache
def _builtin_validator(kind: str, api_version: str, version: str) -> jsonschema.protocols.Validator:
    versions = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= version]
    if not versions:
        raise kubernetes_validate.VersionNotSupportedError(version=version)
    schema_dir = f"v{versions[-1]}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv_utils.schema_contents(
            f"kubernetes-json-schema/{schema_dir}/{kind.lower()}-{group_version}.json", version
        )
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(kind=kind, version=version, api_version=api_version) from None
    definitions = kv_utils.schema_contents(f"kubernetes-json-schema/{schema_dir}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _location(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<root>"


def explicit_identity_problems(obj: dict) -> list[str]:
    """This repository's rule (a Pulumi program may leave both to the provider, which auto-names objects and puts
    them in its default namespace): every object names itself, and every namespaced one its namespace."""
    metadata = obj.get("metadata") or {}
    problems = []
    if not metadata.get("name"):
        problems.append("metadata.name must be set explicitly (object names are part of the contract)")
    if obj.get("kind") not in CLUSTER_SCOPED_KINDS and not metadata.get("namespace"):
        problems.append("metadata.namespace must be set on a namespaced kind")
    return problems


def validate_object(obj: dict, kubernetes_version: str, *, explicit_identity: bool = True,
                    crds: dict[str, dict] | None = None) -> list[str]:
    """All problems with one object, as messages; empty when it is valid. `explicit_identity`: also this
    repository's rule that names and namespaces are set (explicit_identity_problems). `crds`: schemas of more
    custom resources (crd_schemas_from_yaml), besides the bundled ones."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return ["apiVersion and kind are required"]
    problems: list[str] = explicit_identity_problems(obj) if explicit_identity else []
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if name and not _DNS_SUBDOMAIN.fullmatch(str(name)):
        problems.append(f"metadata.name {name!r} is not a valid DNS subdomain")
    if kind in CLUSTER_SCOPED_KINDS and metadata.get("namespace"):
        problems.append(f"metadata.namespace must not be set on cluster-scoped {kind}")

    if crds and f"{api_version}/{kind}" in crds:
        validator, schema = _validator_for_crd(crds[f"{api_version}/{kind}"])
        defaulted = apply_defaults(copy.deepcopy(obj), schema)
        return problems + [f"{_location(e)}: {e.message}"
                           for e in sorted(validator.iter_errors(defaulted), key=lambda e: list(e.absolute_path))]
    if f"{api_version}/{kind}" not in _crd_schemas():
        try:
            validator = _builtin_validator(kind, api_version, kubernetes_version)
        except kubernetes_validate.SchemaNotFoundError:
            return [
                *problems,
                f"no schema for {api_version} {kind}: not a Kubernetes {kubernetes_version} kind, and no CRD "
                "for it in offline/schemas/crds (a project names its own in [tool.aks-microservices.offline] crds)",
            ]
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            problems.append(f"{_location(error)}: {error.message}")
        return problems

    validator, schema = _crd_validator(f"{api_version}/{kind}")
    defaulted = apply_defaults(copy.deepcopy(obj), schema)
    for error in sorted(validator.iter_errors(defaulted), key=lambda e: list(e.absolute_path)):
        problems.append(f"{_location(error)}: {error.message}")
    return problems
