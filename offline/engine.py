"""The offline engine: run a Pulumi program under Pulumi's mocks and record what it registers.

One engine serves the tests and `python -m offline render`. It runs the real program (a function, or the
project's `__main__.py` for a named stack) with `pulumi.runtime` pointed at a recording mock monitor, waits
for every registration to settle, and returns a `Recording`: every resource with its type, name, parent,
provider, options and inputs (integral numbers as ints, secret inputs unwrapped but remembered).

Each run starts from fresh runtime state (settings, outstanding outputs, config, root stack, event loop), so
many programs can run in one process. For the length of a run the SDK's per-resource internals are swapped
for the faster equivalents of fastpath.py (with a pulumi version they were checked against).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import runpy
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.stack import run_in_stack

from .fastpath import FastPath, PlainProps, PlainRegisterResponse, for_installed_sdk
from .mocks import OfflineMocks
from .stack_config import StackConfig, StackConfigError, _read_yaml, load_stack_config

# This repository's folder and project name (when run from a checkout): the defaults of its own tests. Another
# project passes its folder (`run_stack(..., project_dir=...)`, `--project`) and its programs their project name.
PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_NAME = "aks-microservices"

# Resource types that carry a Kubernetes object but are not plain objects to apply with kubectl.
_NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


@dataclass
class RecordedResource:
    """One registration: its type token, logical name, URN, parent and provider, the resource options the engine
    sees, and its inputs as plain data (secrets unwrapped; `secret_paths` says where they were)."""

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
    """What one program run registered (`resources`, in registration order), its stack outputs (secret ones
    named in `secret_output_names`), every secret value it saw, the program's return value and the config."""

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


_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig


def _decode_struct(struct: struct_pb2.Struct, path: str, secret_paths: list[str]) -> Any:
    """Decode what the SDK sent, in one pass: secrets unwrapped (their paths noted), resource references as
    their URN, integral numbers as ints (the wire carries every number as a float), nulls dropped from maps."""
    fields = struct.fields
    sig = fields.get(_SIG)
    if sig is not None:
        kind = sig.string_value
        if kind == _SECRET_SIG:
            secret_paths.append(path or "<root>")
            return _decode_value(fields["value"], path, [])
        if kind == _RESOURCE_SIG:
            return fields["urn"].string_value
        return rpc.deserialize_properties(struct)  # assets and archives: rare, let the SDK decode them
    out = {}
    for key, value in fields.items():
        decoded = _decode_value(value, f"{path}.{key}" if path else key, secret_paths)
        if decoded is not None:
            out[key] = decoded
    return out


def _decode_value(value: struct_pb2.Value, path: str, secret_paths: list[str]) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return _decode_struct(value.struct_value, path, secret_paths)
    if kind == "list_value":
        return [_decode_value(item, f"{path}[{i}]", secret_paths) for i, item in enumerate(value.list_value.values)]
    return None


def _to_struct(value: dict) -> struct_pb2.Struct:
    # Plain JSON-shaped values (what the mocks return) need none of rpc.serialize_properties' coroutines.
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


class _InlineLoop(asyncio.SelectorEventLoop):
    """An event loop that runs the SDK's monitor calls in the calling thread.

    The SDK hands every engine RPC to the default executor so that a slow gRPC call does not block the
    event loop. The offline monitor answers in microseconds in-process, so the thread hop, its wake-ups
    and the future chaining are pure cost: the call runs at once and its result is a completed future.
    """

    def run_in_executor(self, executor, func, *args):
        if executor is not None:
            return super().run_in_executor(executor, func, *args)
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except BaseException as exc:  # handed back to the awaiting coroutine, as the executor would
            future.set_exception(exc)
        return future


async def _settle(await_all_outstanding_tasks: bool = True) -> None:
    """`pulumi.runtime.stack.wait_for_rpcs` with the same contract, in linear time.

    The SDK waits for outstanding outputs with `asyncio.wait(pending, FIRST_COMPLETED)` in a loop, which
    attaches and detaches a callback on every pending task per wake-up: quadratic in the number of
    resources. Awaiting the pending tasks one after another waits for exactly the same set (new ones are
    picked up on the next round) and re-raises the same errors.
    """
    rpc_manager = runtime_settings._get_rpc_manager()
    outputs = runtime_settings.SETTINGS.outputs
    while True:
        while rpc_manager.rpcs:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                # As the SDK: the failed RPC's error, caused by the first unhandled one.
                if rpc_manager.unhandled_exception is not None:
                    raise exn from rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with runtime_settings.SETTINGS.lock:
                    pending = list(outputs)
                    outputs.clear()
                if not pending:
                    break
                for task in pending:
                    await task
        if not rpc_manager.rpcs:
            break


def _no_stack_trace() -> source_pb2.StackTrace:
    return source_pb2.StackTrace()


@contextlib.contextmanager
def _fast_runtime(fast_path: FastPath | None, inline: bool):
    """Swap in the engine's linear-time settling, skip the per-resource stack trace, and install the fast
    path's equivalents of the SDK's per-resource internals (fastpath.py).

    The SDK walks and formats the Python stack (reading source lines) for every resource so the CLI can
    point at the line that declared it; the offline monitor never reads it, so it is pure cost here. With
    monitor calls run inline (_InlineLoop) they already run in the caller's context, so the SDK's wrapper that
    carries the context over to a pool thread (a context copy and a tracing attach per call) is not needed.
    """
    originals = (runtime_stack.wait_for_rpcs, runtime_resource._get_stack_trace, runtime_resource.wrap_with_context)
    runtime_stack.wait_for_rpcs = _settle
    runtime_resource._get_stack_trace = _no_stack_trace
    if inline:
        runtime_resource.wrap_with_context = _same_callable
    try:
        with fast_path.installed() if fast_path else contextlib.nullcontext():
            yield
    finally:
        runtime_stack.wait_for_rpcs, runtime_resource._get_stack_trace, runtime_resource.wrap_with_context = originals


def _same_callable(fn: Callable) -> Callable:
    return fn


class RecordingMonitor(runtime_mocks.MockMonitor):
    """Pulumi's mock monitor, plus a record of each registration with its options and secrets."""

    def __init__(self, mocks: OfflineMocks, recording: Recording, plain_responses: bool = False):
        super().__init__(mocks)
        self.recording = recording
        self.stack_urn: str | None = None
        # With the fast path installed the SDK decodes responses from plain data (fastpath.PlainStruct).
        self.plain_responses = plain_responses

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if type(request.object) is PlainProps:  # the fast path's registration (fastpath.py): decoded already
            plain_inputs, secret_paths = request.object.inputs, request.object.secret_paths
        else:
            secret_paths = []
            plain_inputs = _decode_struct(request.object, "", secret_paths)
        resource_id, state = self.mocks.new_resource(
            runtime_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=plain_inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=bool(request.custom),
            )
        )
        # The engine, not the SDK, marks `additional_secret_outputs` (e.g. RandomPassword.result) and
        # outputs computed from secret inputs as secret; do the same so secrets stay secrets downstream.
        secret_outputs = set(request.additionalSecretOutputs or ()) | {p.split(".")[0].split("[")[0] for p in secret_paths}
        wire_state = {k: rpc.wrap_rpc_secret(v) if k in secret_outputs else v for k, v in state.items()}
        self.resources[urn] = runtime_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
        self.recording.resources.append(
            RecordedResource(
                type=request.type,
                name=request.name,
                urn=urn,
                parent_urn=request.parent or None,
                provider=request.provider or None,
                inputs=plain_inputs,
                outputs=state,
                custom=bool(request.custom),
                protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace),
                replace_on_changes=tuple(request.replaceOnChanges or ()),
                ignore_changes=tuple(request.ignoreChanges or ()),
                retain_on_delete=bool(request.retainOnDelete),
                aliases=tuple(self._alias_urn(alias, request) for alias in request.aliases or ()),
                secret_paths=tuple(secret_paths),
                dependencies=tuple(request.dependencies or ()),
            )
        )
        if self.plain_responses:
            return PlainRegisterResponse(urn, resource_id or "", wire_state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=_to_struct(wire_state))

    def _alias_urn(self, alias, request) -> str:
        """The URN an alias names: given whole, or this resource's URN with the spec's changes applied."""
        if alias.urn:
            return alias.urn
        spec = alias.spec
        parent = (self.stack_urn or "") if spec.noParent else (spec.parentUrn or request.parent)
        return self.make_urn(parent, spec.type or request.type, spec.name or request.name)

    def RegisterResourceOutputs(self, request):
        if request.urn == self.stack_urn:
            outputs = rpc.deserialize_properties(request.outputs)
            for key, value in outputs.items():
                if rpc.is_rpc_secret(value):
                    self.recording.secret_output_names.add(key)
            self.recording.stack_outputs = _decode_struct(request.outputs, "", [])
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
            # MockSettings keeps the outputs set of the previous program; a failed program leaves its errored
            # outputs there on purpose (to raise at exit), and the next program would await them.
            outputs=set(),
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
    seed: int | None = None,
    collect_garbage: bool = True,
    fast_path: bool | FastPath = True,
) -> Recording:
    """Run `program` as a Pulumi program under the offline mocks and return what it registered.

    `config` is a StackConfig or a plain mapping of config keys (`ns:key` or bare keys of this project) to
    values; structured values are passed as JSON like the CLI does. Exceptions raised by the program
    propagate unchanged. `collect_garbage=False` (for one-shot processes such as the CLI) leaves the run's
    heap out of later garbage collections instead of scanning it once more when the run ends.
    `fast_path=False` runs the SDK's own per-resource internals instead of fastpath.py's equivalents, as does
    a pulumi version the fast path was not checked against (fastpath.CHECKED_SDK_VERSIONS); a FastPath
    instance is used as given, for tests that check it.
    """
    stack_config = config if isinstance(config, StackConfig) else _config_from_mapping(project, stack, config)
    recording = Recording(
        project=project,
        stack=stack,
        config={k: v for k, v in stack_config.values.items() if k not in stack_config.secret_keys},
    )
    mocks = OfflineMocks(seed=seed)
    installed = fast_path if isinstance(fast_path, FastPath) else for_installed_sdk() if fast_path else None
    monitor = RecordingMonitor(mocks, recording, plain_responses=installed is not None)
    # OFFLINE_THREADS=1 keeps the SDK's thread pool, to compare against.
    loop = asyncio.new_event_loop() if os.environ.get("OFFLINE_THREADS") else _InlineLoop()
    asyncio.set_event_loop(loop)
    recording._loop = loop
    _fresh_runtime(mocks, monitor, project, stack, stack_config)

    holder: dict[str, Any] = {}

    def body() -> None:
        holder["value"] = program()

    # A program keeps every resource, Output and future alive until it ends, so older-generation collections
    # would re-scan an ever larger heap: quadratic time for nothing they could free. Only the youngest
    # generation is collected during the run (it frees the short-lived cycles of settled futures, which keeps
    # peak memory down); the rest waits for the end of the run.
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], 1_000_000, 1_000_000)
    try:
        with _fast_runtime(installed, inline=isinstance(loop, _InlineLoop)):
            loop.run_until_complete(run_in_stack(body))
    finally:
        if not collect_garbage:
            gc.freeze()
        gc.set_threshold(*thresholds)
        recording.secret_values |= mocks.secret_values
        recording.secret_values |= _secret_config_values(stack_config)
        runtime_settings.ROOT.set(None)
    value = holder.get("value")
    recording.value = value
    return recording


@dataclass(frozen=True)
class SecretConfig:
    """A config value given to `run_stack(overrides=...)` as secret config, as `pulumi config set --secret` sets it."""

    value: Any


def _config_from_mapping(project: str, stack: str, config: dict[str, Any] | None) -> StackConfig:
    import json

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in (config or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, SecretConfig):
            secret_keys.add(full)
            value = value.value
        if isinstance(value, str):
            values[full] = value
        elif isinstance(value, bool):
            values[full] = "true" if value else "false"
        else:
            values[full] = json.dumps(value)
    return StackConfig(project=project, stack=stack, values=values, secret_keys=frozenset(secret_keys))


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


def stack_config(project_dir: Path, stack: str, overrides: dict[str, Any] | None = None) -> StackConfig:
    """The stack's config files, plus optional overrides (plain values, as `run` takes them)."""
    config = load_stack_config(project_dir, stack)
    if not overrides:
        return config
    extra = _config_from_mapping(config.project, stack, overrides)
    return StackConfig(
        project=config.project,
        stack=stack,
        values={**config.values, **extra.values},
        secret_keys=(config.secret_keys - set(extra.values)) | extra.secret_keys,
    )


def program_file(project_dir: Path) -> Path:
    """The Python program of the project in `project_dir`, as the Pulumi CLI finds it: `Pulumi.yaml`'s `main`
    (a folder with a `__main__.py`, or a `.py` file), else the project folder's `__main__.py`."""
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise StackConfigError(f"{project_dir}: not a Pulumi project (no Pulumi.yaml)")
    project = _read_yaml(project_file)
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise StackConfigError(f"{project_file}: runtime: the offline engine runs Python programs, got {runtime_name!r}")
    main = project.get("main")
    if main is not None and not isinstance(main, str):
        raise StackConfigError(f"{project_file}: main: expected a path relative to the project, got {main!r}")
    location = project_dir / main if main else project_dir
    path = location / "__main__.py" if location.is_dir() else location
    if not path.is_file():
        where = f"main: {main!r}" if main else "no main"
        raise StackConfigError(f"{project_file}: {where}: no Python program at {path}")
    return path


def run_main(project_dir: Path) -> Callable[[], Any]:
    """The project's program (program_file) as a program function, run as the Pulumi CLI runs it: from its own
    folder (the working directory and the first entry of `sys.path`)."""
    main = program_file(project_dir)

    def program() -> Any:
        previous = Path.cwd()
        with _project_on_path(main.parent):
            os.chdir(main.parent)
            try:
                return runpy.run_path(str(main), run_name="__main__")
            finally:
                os.chdir(previous)

    return program


def run_stack(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    overrides: dict[str, Any] | None = None,
    seed: int | None = None,
    collect_garbage: bool = True,
    fast_path: bool | FastPath = True,
) -> Recording:
    """Run the project's real `__main__.py` for a stack, with its config files (plus optional overrides)."""
    config = stack_config(project_dir, stack, overrides)
    return run(
        run_main(project_dir), stack=stack, project=config.project, config=config, seed=seed,
        collect_garbage=collect_garbage, fast_path=fast_path,
    )
