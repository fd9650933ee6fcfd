"""The offline engine: run a Pulumi program under Pulumi's mocks and record what it registers.

One engine serves the tests and `python -m offline render`. It runs the real program (a function, or the
project's `__main__.py` for a named stack) with `pulumi.runtime` pointed at a recording mock monitor, waits
for every registration to settle, and returns a `Recording`: every resource with its type, name, parent,
provider, options and inputs (integral numbers as ints, secret inputs unwrapped but remembered).

Each run starts from fresh runtime state (settings, config, root stack, event loop), so many programs can
run in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import runpy
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from .mocks import OfflineMocks
from .stack_config import StackConfig, load_stack_config

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_NAME = "aks-microservices"

# Resource types that carry a Kubernetes object but are not plain objects to apply with kubectl.
_NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


@dataclass
class RecordedResource:
    type: str
    name: str
    urn: str
    parent_urn: str | None
    provider: str | None
    inputs: dict
    outputs: dict
    custom: bool
    protect: bool = False
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    retain_on_delete: bool = False
    aliases: tuple[str, ...] = ()
    secret_paths: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()  # URNs of resources this one waits for (depends_on and inputs)

    @property
    def is_kubernetes_object(self) -> bool:
        return (
            self.custom
            and self.type.startswith("kubernetes:")
            and not self.type.startswith(_NOT_MANIFESTS)
            and not self.type.endswith("Patch")
            and "apiVersion" in self.inputs
            and "kind" in self.inputs
        )

    @property
    def provider_urn(self) -> str | None:
        # A provider reference is `<urn>::<id>`; URNs themselves contain `::`.
        return self.provider.rsplit("::", 1)[0] if self.provider else None


@dataclass
class Recording:
    project: str
    stack: str
    resources: list[RecordedResource] = field(default_factory=list)
    stack_outputs: dict = field(default_factory=dict)
    secret_output_names: set[str] = field(default_factory=set)
    # Every secret the run generated (RandomPassword results) or read from secret config: none may leak.
    secret_values: set[str] = field(default_factory=set)
    value: Any = None
    config: dict[str, str] = field(default_factory=dict)  # the config values the program saw (no secrets)
    _loop: asyncio.AbstractEventLoop | None = None

    # Queries ------------------------------------------------------------------------------------------

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self, urn: str) -> RecordedResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def kubernetes_resources(self) -> list[RecordedResource]:
        return [r for r in self.resources if r.is_kubernetes_object]

    def k8s_objects(self) -> list[dict]:
        return [r.inputs for r in self.kubernetes_resources()]

    def k8s(self, kind: str, name: str, namespace: str | None = None) -> dict:
        """The manifest of one Kubernetes object, by kind and metadata.name (and namespace if given)."""
        matches = [
            obj
            for obj in self.k8s_objects()
            if obj.get("kind") == kind
            and obj.get("metadata", {}).get("name") == name
            and (namespace is None or obj.get("metadata", {}).get("namespace") == namespace)
        ]
        if len(matches) == 1:
            return matches[0]
        existing = sorted(f"{o.get('kind')}/{o.get('metadata', {}).get('name')}" for o in self.k8s_objects())
        if not matches:
            raise KeyError(f"no {kind}/{name} (namespace {namespace}); objects: {', '.join(existing)}")
        raise KeyError(f"{len(matches)} objects {kind}/{name}: pass the namespace")

    def k8s_resource(self, kind: str, name: str, namespace: str | None = None) -> RecordedResource:
        target = self.k8s(kind, name, namespace)
        return next(r for r in self.kubernetes_resources() if r.inputs is target)

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent_urn == urn]

    def resolve(self, value: Any) -> Any:
        """Resolve an Output created during the run (its future settled before the run ended)."""
        if isinstance(value, pulumi.Output):
            assert self._loop is not None
            return self._loop.run_until_complete(value.future())
        return value


def _integral(value: Any) -> Any:
    # The wire format carries every number as a float; integral ones were ints in the program.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _unwrap_secrets(value: Any, path: str, secret_paths: list[str], secret_values: set[str]) -> Any:
    if rpc.is_rpc_secret(value):
        inner = rpc.unwrap_rpc_secret(value)
        secret_paths.append(path or "<root>")
        _collect_strings(inner, secret_values)
        return _unwrap_secrets(inner, path, [], set())
    if isinstance(value, dict):
        return {
            k: _unwrap_secrets(v, f"{path}.{k}" if path else k, secret_paths, secret_values)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_unwrap_secrets(v, f"{path}[{i}]", secret_paths, secret_values) for i, v in enumerate(value)]
    return value


def _collect_strings(value: Any, into: set[str]) -> None:
    if isinstance(value, str):
        if value:
            into.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect_strings(v, into)
    elif isinstance(value, list):
        for v in value:
            _collect_strings(v, into)


def _plain(value: Any) -> Any:
    # Resource references arrive as Resource objects; record them by URN like the engine would.
    if isinstance(value, pulumi.Resource):
        return getattr(value, "_offline_urn", None) or repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class RecordingMonitor(runtime_mocks.MockMonitor):
    """Pulumi's mock monitor, plus a record of each registration with its options and secrets."""

    def __init__(self, mocks: OfflineMocks, recording: Recording):
        super().__init__(mocks)
        self.recording = recording
        self.stack_urn: str | None = None

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        raw_inputs = rpc.deserialize_properties(request.object)
        secret_paths: list[str] = []
        plain_inputs = _unwrap_secrets(raw_inputs, "", secret_paths, set())
        resource_id, state = self.mocks.new_resource(
            runtime_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=plain_inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=request.custom or False,
            )
        )
        # The engine, not the SDK, marks `additional_secret_outputs` (e.g. RandomPassword.result) and
        # outputs computed from secret inputs as secret; do the same so secrets stay secrets downstream.
        secret_outputs = set(request.additionalSecretOutputs) | {p.split(".")[0].split("[")[0] for p in secret_paths}
        wire_state = {k: rpc.wrap_rpc_secret(v) if k in secret_outputs else v for k, v in state.items()}
        obj_proto = _sync_await(rpc.serialize_properties(wire_state, {}))
        self.resources[urn] = runtime_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        self.recording.resources.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=urn,
                parent_urn=request.parent or None,
                provider=request.provider or None,
                inputs=_integral(_plain(plain_inputs)),
                outputs=_integral(_plain(state)),
                custom=bool(request.custom),
                protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace),
                replace_on_changes=tuple(request.replaceOnChanges),
                ignore_changes=tuple(request.ignoreChanges),
                retain_on_delete=bool(request.retainOnDelete),
                aliases=tuple(spec.urn or spec.spec.name for spec in request.aliases),
                secret_paths=tuple(secret_paths),
                dependencies=tuple(request.dependencies),
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=obj_proto)

    def RegisterResourceOutputs(self, request):
        if request.urn == self.stack_urn:
            outputs = rpc.deserialize_properties(request.outputs)
            for key, value in outputs.items():
                if rpc.is_rpc_secret(value):
                    self.recording.secret_output_names.add(key)
            self.recording.stack_outputs = _integral(_unwrap_secrets(outputs, "", [], set()))
        return super().RegisterResourceOutputs(request)


def _fresh_runtime(
    mocks: OfflineMocks, monitor: RecordingMonitor, project: str, stack: str, config: StackConfig | None
):
    """Point Pulumi's runtime at the mocks with no state left from an earlier program."""
    runtime_settings.ROOT.set(None)
    features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    runtime_settings.configure(
        runtime_mocks.MockSettings(
            monitor=monitor,
            monitor_features=features,
            engine=runtime_mocks.MockEngine(None),
            project=project,
            stack=stack,
            dry_run=False,
            organization="organization",
            callbacks=None,
        )
    )
    values = dict(config.values) if config else {}
    secret_keys = list(config.secret_keys) if config else []
    runtime_config.set_all_config(values, secret_keys)


def run(
    program: Callable[[], Any],
    *,
    stack: str = "test",
    project: str = PROJECT_NAME,
    config: StackConfig | dict[str, Any] | None = None,
) -> Recording:
    """Run `program` as a Pulumi program under the offline mocks and return what it registered.

    `config` is a StackConfig or a plain mapping of config keys (`ns:key` or bare keys of this project) to
    values; structured values are passed as JSON like the CLI does. Exceptions raised by the program
    propagate unchanged.
    """
    stack_config = config if isinstance(config, StackConfig) else _config_from_mapping(project, stack, config)
    recording = Recording(
        project=project,
        stack=stack,
        config={k: v for k, v in stack_config.values.items() if k not in stack_config.secret_keys},
    )
    mocks = OfflineMocks()
    monitor = RecordingMonitor(mocks, recording)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    recording._loop = loop
    _fresh_runtime(mocks, monitor, project, stack, stack_config)

    holder: dict[str, Any] = {}

    def body() -> None:
        holder["value"] = program()

    try:
        loop.run_until_complete(run_in_stack(body))
    finally:
        recording.secret_values |= mocks.secret_values
        recording.secret_values |= _secret_config_values(stack_config)
        runtime_settings.ROOT.set(None)
    value = holder.get("value")
    recording.value = value
    return recording


def _config_from_mapping(project: str, stack: str, config: dict[str, Any] | None) -> StackConfig:
    import json

    values: dict[str, str] = {}
    for key, value in (config or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, str):
            values[full] = value
        elif isinstance(value, bool):
            values[full] = "true" if value else "false"
        else:
            values[full] = json.dumps(value)
    return StackConfig(project=project, stack=stack, values=values)


def _secret_config_values(config: StackConfig) -> set[str]:
    return {config.values[key] for key in config.secret_keys if key in config.values}


@contextlib.contextmanager
def _project_on_path(project_dir: Path) -> Iterable[None]:
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    try:
        yield
    finally:
        if added:
            sys.path.remove(str(project_dir))


def run_stack(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    overrides: dict[str, Any] | None = None,
) -> Recording:
    """Run the project's real `__main__.py` for a stack, with its config files (plus optional overrides)."""
    config = load_stack_config(project_dir, stack)
    if overrides:
        extra = _config_from_mapping(config.project, stack, overrides)
        config = StackConfig(
            project=config.project,
            stack=stack,
            values={**config.values, **extra.values},
            secret_keys=config.secret_keys - set(extra.values),
        )
    main = project_dir / "__main__.py"
    with _project_on_path(project_dir):
        return run(lambda: runpy.run_path(str(main), run_name="__main__"), stack=stack,
                   project=config.project, config=config)
