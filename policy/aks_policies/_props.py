"""Reading resource properties as the policy engine hands them over.

During `pulumi preview` some values are not known yet (an address, a generated password); the engine's
property proxies raise `UnknownValueError` on reading one, which would skip the whole policy for the
resource. `get` turns such a value into `UNKNOWN` instead, so a policy judges everything that is known and
leaves only the unknown value out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import UnknownValueError


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()

# Workload kinds and where their pod template lives: (pod metadata path, pod spec path).
_TEMPLATE = (("spec", "template", "metadata"), ("spec", "template", "spec"))
POD_PATHS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Pod": (("metadata",), ("spec",)),
    "Deployment": _TEMPLATE,
    "StatefulSet": _TEMPLATE,
    "DaemonSet": _TEMPLATE,
    "ReplicaSet": _TEMPLATE,
    "ReplicationController": _TEMPLATE,
    "Job": _TEMPLATE,
    "CronJob": (("spec", "jobTemplate", "spec", "template", "metadata"),
                ("spec", "jobTemplate", "spec", "template", "spec")),
}
# Pods that run to completion: probes make no sense for them.
RUN_TO_COMPLETION = frozenset({"Job", "CronJob"})
_KUBERNETES_TYPE = re.compile(r"kubernetes:(?:[a-z0-9.]+/)?v[0-9a-z]+:(?P<kind>[A-Za-z]+)")


def get(node: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` below `node`; `default` when absent, `UNKNOWN` when not known during preview."""
    for key in path:
        try:
            if isinstance(key, int):
                if isinstance(node, (str, bytes)) or not isinstance(node, Sequence) or key >= len(node):
                    return default
            elif not isinstance(node, Mapping):
                return default
            node = node[key]
        except KeyError:
            return default
        except UnknownValueError:
            return UNKNOWN
        if node is None:
            return default
    return node


def items(node: Any, *path: str) -> list[Any]:
    """The list at `path` (empty when absent or unknown)."""
    value = get(node, *path)
    if value is UNKNOWN or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return []
    return [get(value, i) for i in range(len(value))]


def kubernetes_kind(resource_type: str) -> str | None:
    """`Deployment` for `kubernetes:apps/v1:Deployment`; None for other providers and for Patch resources."""
    match = _KUBERNETES_TYPE.fullmatch(resource_type)
    if not match or match["kind"].endswith("Patch"):
        return None
    return match["kind"]


def stack_of(urn: str) -> str:
    """The stack name in a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    return urn.split("::", 1)[0].rsplit(":", 1)[-1]


def type_chain(urn: str) -> list[str]:
    """The types of a resource's ancestors and itself, outermost first (from its URN)."""
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def describe(kind: str, props: Any, fallback_name: str) -> str:
    """`Deployment smilr/data-api`: how violations name a Kubernetes object."""
    name = get(props, "metadata", "name")
    namespace = get(props, "metadata", "namespace")
    name = name if isinstance(name, str) else fallback_name
    return f"{kind} {namespace}/{name}" if isinstance(namespace, str) else f"{kind} {name}"


@dataclass(frozen=True)
class Container:
    name: str
    init: bool
    spec: Any

    @property
    def label(self) -> str:
        return f"{'init container' if self.init else 'container'} {self.name!r}"


@dataclass(frozen=True)
class Workload:
    """A resource that carries a pod template, with the parts the policies read."""

    kind: str
    label: str
    pod_metadata: Any
    pod_spec: Any

    def annotation(self, key: str) -> Any:
        return get(self.pod_metadata, "annotations", key)

    def containers(self, *, init: bool = True) -> Iterator[Container]:
        groups = (("containers", False), ("initContainers", True)) if init else (("containers", False),)
        for field, is_init in groups:
            for i, spec in enumerate(items(self.pod_spec, field)):
                name = get(spec, "name")
                yield Container(name=name if isinstance(name, str) else f"#{i}", init=is_init, spec=spec)


def workload(resource_type: str, props: Any, name: str) -> Workload | None:
    """The workload view of a resource, or None when it has no pod template (or its template is unknown)."""
    kind = kubernetes_kind(resource_type)
    if kind not in POD_PATHS:
        return None
    metadata_path, spec_path = POD_PATHS[kind]
    pod_spec = get(props, *spec_path)
    if not isinstance(pod_spec, Mapping):
        return None
    pod_metadata = get(props, *metadata_path)
    return Workload(kind=kind, label=describe(kind, props, name),
                    pod_metadata=pod_metadata if isinstance(pod_metadata, Mapping) else {}, pod_spec=pod_spec)


def config_list(config: Mapping[str, Any], key: str, default: Sequence[str]) -> list[str]:
    """A list of strings from the policy's config, or its default."""
    value = config.get(key) if config else None
    if value is None:
        return list(default)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"policy config {key!r}: expected a list of strings, got {value!r}")
    return [str(v) for v in value]
