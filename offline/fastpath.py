"""Faster equivalents of the Pulumi SDK's per-resource internals, for the offline engine only.

Under mocks every registration answers at once, so what a program costs is the SDK's own per-resource
bookkeeping: on a stack of StatelessServices, 17 tasks and 26 tracked Outputs per resource (2 and 4 with
these replacements), a coroutine and a chain of ABC checks per serialized value, type metadata recomputed for
every nested value, and a protobuf round trip of every request and response. Each
replacement here computes exactly what the SDK function computes for the values it handles, and hands
anything else (Outputs inside values, resources, assets, unions, unknowns, errors) to the SDK's own
function, so behaviour and error messages stay the SDK's:

- `contains_unknowns`: skips scalars instead of recursing into them.
- `create_urn`, `collapse_alias_to_urn`: one Output computed directly instead of a chain of four to eight.
  (`do_register` builds a URN for every resource that only a monitor-less run reads, and every Kubernetes
  resource carries two or three legacy-type aliases.)
- `transfer_properties`: one future per property Output instead of four futures and a task; not tracked apart
  from the registration that settles it, and settled from plain data without a search for an Unknown.
- `serialize_property`: plain values (scalars, lists, dicts, input types) serialized without a coroutine
  per scalar; type metadata looked up once per type.
- `translate_output_properties`: the same, for the way back.
- `pulumi.get`, `pulumi.set`: where an input or output type keeps its values, looked up once per class.
- `RPCManager.do_rpc`: an RPC (a registration) runs in the task that wraps it, with a plain future standing
  for it in the list the program's end waits on, instead of a second task.
- `pulumi.log.debug`: nothing built for a debug message the mock engine's logger would drop.
- `resource_types`, `resource_pulumi_to_py_names`: a class's annotations resolved once per run, not once
  per response.
- `serialize_properties` (for a registration), `resource_pb2.RegisterResourceRequest` (in
  pulumi.runtime.resource), `resolve_outputs`: a registration's properties reach the monitor as plain data
  (`PlainProps`, already decoded as the monitor would decode the protobuf Struct), not as a Struct built
  value by value in Python and decoded again.
- `deserialize_properties`: a response the monitor hands over as plain data
  (`PlainStruct`) is decoded as the protobuf round trip would have decoded it (numbers as floats, nulls
  dropped from maps, secrets pushed up), without building the protobuf.

`tests/offline/test_fastpath.py` checks each replacement against the SDK's function, and
`tests/offline/test_baseline.py` checks a whole stack against Pulumi's stock mock monitor.

The replacements follow the SDK's internals of the versions in CHECKED_SDK_VERSIONS. With any other pulumi
version the engine runs the SDK's own internals (correct, slower) and warns; to move the pin, add the new
version here and let test_fastpath.py check it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import importlib.metadata
import inspect
import logging
import typing
import warnings
from collections import abc
from enum import Enum
from typing import Any, get_args, get_origin

import pulumi
from google.protobuf import struct_pb2
from pulumi import _types
from pulumi import log as pulumi_log
from pulumi import resource as pulumi_resource
from pulumi.output import Output, Unknown, _OutputData
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc, rpc_manager
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.proto import resource_pb2

CHECKED_SDK_VERSIONS = ("3.272.0",)

_SCALARS = frozenset({str, int, float, bool, type(None)})
# Values translate_output_properties returns as they are unless their type is an enum (floats may become ints).
_KEPT_SCALARS = frozenset({str, int, bool, type(None)})
_DICT_TYPES = (dict, typing.Dict, abc.Mapping, typing.Mapping)  # noqa: UP006 - the SDK checks these exact types
_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig


def for_installed_sdk() -> FastPath | None:
    """A FastPath if the installed pulumi SDK is one it was checked against; else None, with a warning."""
    version = importlib.metadata.version("pulumi")
    if version in CHECKED_SDK_VERSIONS:
        return FastPath()
    warnings.warn(
        f"offline engine: the fast path was checked against pulumi {', '.join(CHECKED_SDK_VERSIONS)}, not {version};"
        " running the SDK's own internals (correct, slower). To use it, add the version to"
        " offline/fastpath.py CHECKED_SDK_VERSIONS and run tests/offline/test_fastpath.py.",
        RuntimeWarning,
        stacklevel=3,
    )
    return None


class _Unhandled(Exception):
    """A value the fast path does not handle: the SDK's own function takes it from the start."""


class PlainStruct:
    """A response's properties as plain data, standing in for the protobuf Struct the SDK would decode."""

    __slots__ = ("value",)

    def __init__(self, value: dict):
        self.value = value

    def to_struct(self) -> struct_pb2.Struct:
        struct = struct_pb2.Struct()
        struct.update(self.value)
        return struct


class PlainRegisterResponse:
    """What `do_register` reads of a RegisterResourceResponse, with the properties as a PlainStruct."""

    __slots__ = ("id", "object", "propertyDependencies", "result", "unknown", "urn")

    def __init__(self, urn: str, id: str, properties: dict):
        self.urn = urn
        self.id = id
        self.object = PlainStruct(properties)
        self.propertyDependencies: dict = {}
        self.result = resource_pb2.Result.SUCCESS
        self.unknown = False


class PlainProps:
    """A registration's serialized properties as plain data, standing in for the protobuf Struct.

    `raw` is what the SDK would have put into the Struct; `inputs` and `secret_paths` are that Struct as the
    offline monitor decodes it (offline.engine._decode_struct): secrets unwrapped and their paths noted,
    resource references as URNs, integral numbers as ints, nulls dropped from maps."""

    __slots__ = ("inputs", "raw", "secret_paths")

    def __init__(self, raw: dict, inputs: dict, secret_paths: list[str]):
        self.raw = raw
        self.inputs = inputs
        self.secret_paths = secret_paths

    def to_struct(self) -> struct_pb2.Struct:
        struct = struct_pb2.Struct()
        for key, value in self.raw.items():
            struct[key] = value
        return struct


class _ForwardNestedTypes(type):
    def __getattr__(cls, name: str) -> Any:  # nested message types (PropertyDependencies, ...)
        return getattr(resource_pb2.RegisterResourceRequest, name)


class PlainRegisterResourceRequest(metaclass=_ForwardNestedTypes):
    """`resource_pb2.RegisterResourceRequest` as the SDK builds it in `do_register`, fields kept as given
    (`object` may be PlainProps); the offline monitor reads the same fields."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)


class _ResourceProtos:
    """`resource_pb2` as pulumi.runtime.resource sees it: the real module but for RegisterResourceRequest."""

    RegisterResourceRequest = PlainRegisterResourceRequest

    def __getattr__(self, name: str) -> Any:
        return getattr(resource_pb2, name)


# Set (in the task that registers a resource, which inherits it) while the SDK prepares a registration, so
# serialize_properties knows its Struct goes only to RegisterResourceRequest and resolve_outputs.
_REGISTERING: contextvars.ContextVar[bool] = contextvars.ContextVar("offline_registering", default=False)
_PREPARING_REGISTRATION: contextvars.ContextVar[bool] = contextvars.ContextVar("offline_preparing", default=False)


# Unknowns ------------------------------------------------------------------------------------------------


def contains_unknowns(value: Any) -> bool:
    """`rpc.contains_unknowns`: whether an Unknown is reachable through dict values and list items."""
    if type(value) in _SCALARS:
        return False
    return _has_unknown(value, set())


def _has_unknown(value: Any, seen: set[int]) -> bool:
    if isinstance(value, Unknown):
        return True
    if id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, dict):
        for key in value:
            item = value[key]
            if type(item) not in _SCALARS and _has_unknown(item, seen):
                return True
        return False
    if isinstance(value, list):
        for item in value:
            if type(item) not in _SCALARS and _has_unknown(item, seen):
                return True
    return False


# RPCs ----------------------------------------------------------------------------------------------------


def _do_rpc_in_one_task(manager: rpc_manager.RPCManager, name: str, rpc_function):
    """`RPCManager.do_rpc`. The SDK's wrapper starts the RPC as a task of its own, lists that task for
    wait_for_rpcs and awaits it; this one awaits the RPC in place and lists a future that settles the same
    way (same result, same exception, cancelled when it is), so wait_for_rpcs sees what it saw before."""

    async def rpc_wrapper(*args, **kwargs):
        pulumi_log.debug(f"beginning rpc {name}")
        rpc_done = asyncio.get_running_loop().create_future()
        manager.rpcs.append(rpc_done)
        try:
            result = await rpc_function(*args, **kwargs)
        except Exception as exn:  # as the SDK wrapper: recorded, returned, raised when the program ends
            rpc_done.set_exception(exn)
            if manager.unhandled_exception is None:
                manager.unhandled_exception = exn
                manager.exception_traceback = exn.__traceback__
            return None, exn
        except BaseException:
            rpc_done.cancel()
            raise
        rpc_done.set_result(result)
        return result, None

    return rpc_wrapper


# URNs ----------------------------------------------------------------------------------------------------


def _known(value: Any) -> Output:
    """An Output of a known value, as Output.from_input makes it, but not tracked: the SDK tracks an Output
    only until its data settles, and this one is settled from the start."""
    data = asyncio.get_event_loop().create_future()
    data.set_result(_OutputData(resources=set(), value=value, is_known=True, is_secret=False))
    output = object.__new__(Output)
    output._data = data
    return output


def _child_urn(parent: Output, type_: str, name: str) -> Output:
    """The URN of child `name` of type `type_` under the resource whose URN `parent` resolves to: computed
    when the parent's URN settles (a done callback, not a task per URN)."""
    data = asyncio.get_event_loop().create_future()

    def settle(parent_data: asyncio.Future) -> None:
        if data.done():
            return
        if parent_data.cancelled():
            data.cancel()
            return
        error = parent_data.exception()
        if error is not None:
            data.set_exception(error)
            return
        settled = parent_data.result()
        resources = set(settled.resources)  # a set of its own, as Output.all makes (serializing may add to it)
        if not settled.is_known:
            data.set_result(_OutputData(resources=resources, value=None, is_known=False, is_secret=settled.is_secret))
            return
        urn = settled.value
        data.set_result(_OutputData(resources=resources, value=urn[0:urn.rfind("::")] + "$" + type_ + "::" + name,
                                    is_known=True, is_secret=settled.is_secret))

    source = parent._data
    if source.done():
        settle(source)
    else:
        source.add_done_callback(settle)
    return Output._from_data(data)


def _is_plain_str(value: Any) -> bool:
    return type(value) is str


# Per-run state: the SDK's functions being replaced, and type metadata looked up once per type -----------


class FastPath:
    """The replacements, bound to one run (their caches live and die with it)."""

    def __init__(self) -> None:
        self.original_create_urn = runtime_resource.create_urn
        self.original_collapse_alias_to_urn = runtime_resource.collapse_alias_to_urn
        self.original_serialize_property = rpc.serialize_property
        self.original_translate_output_properties = rpc.translate_output_properties
        self.original_deserialize_properties = rpc.deserialize_properties
        self.original_serialize_properties = rpc.serialize_properties
        self.original_register_resource = runtime_resource.register_resource
        self.original_prepare_resource = runtime_resource.prepare_resource
        self.original_resolve_outputs = rpc.resolve_outputs
        self.original_debug = pulumi_log.debug
        self.original_get = _types.get
        self.original_set = _types.set
        self._property_storage: dict[type, str | None] = {}
        self._serialize_plans: dict[Any, tuple] = {}
        self._translate_plans: dict[Any, tuple] = {}
        self._scalar_passthrough: dict[Any, bool] = {}
        self._input_types: dict[type, dict | None] = {}
        self._resolving_free_of_unknowns = False
        self._input_getters: dict[type, list] = {}
        self.original_resource_types = _types.resource_types
        self.original_resource_pulumi_to_py_names = _types.resource_pulumi_to_py_names
        self._resource_types: dict[type, dict] = {}
        self._resource_names: dict[type, dict] = {}

    @contextlib.contextmanager
    def installed(self):
        patches = [
            (rpc, "contains_unknowns", contains_unknowns),
            (runtime_resource, "create_urn", self.create_urn),
            (runtime_resource, "collapse_alias_to_urn", self.collapse_alias_to_urn),
            (pulumi_resource, "collapse_alias_to_urn", self.collapse_alias_to_urn),
            (rpc, "transfer_properties", self.transfer_properties),
            (rpc, "serialize_property", self.serialize_property),
            (rpc, "translate_output_properties", self.translate_output_properties),
            (rpc, "deserialize_properties", self.deserialize_properties),
            (rpc, "serialize_properties", self.serialize_properties),
            (runtime_resource, "register_resource", self.register_resource),
            (pulumi_resource, "register_resource", self.register_resource),
            (runtime_resource, "prepare_resource", self.prepare_resource),
            (runtime_resource, "resource_pb2", _ResourceProtos()),
            (rpc, "resolve_outputs", self.resolve_outputs),
            (pulumi_log, "debug", self.debug),
            (pulumi, "get", self.get),
            (_types, "get", self.get),
            (pulumi, "set", self.set),
            (_types, "set", self.set),
            (rpc_manager.RPCManager, "do_rpc", _do_rpc_in_one_task),
            (_types, "resource_types", self.resource_types),
            (_types, "resource_pulumi_to_py_names", self.resource_pulumi_to_py_names),
        ]
        saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
        try:
            for module, name, replacement in patches:
                setattr(module, name, replacement)
            yield self
        finally:
            for module, name, original in saved:
                setattr(module, name, original)

    def debug(self, msg: str, resource: Any = None, stream_id: Any = None, ephemeral: Any = None) -> None:
        """`pulumi.log.debug`: the mock engine hands debug messages to the root logger, which drops them
        unless DEBUG is enabled; the SDK sends several per resource, each a protobuf LogRequest."""
        if resource is None and not logging.getLogger().isEnabledFor(logging.DEBUG):
            return
        self.original_debug(msg, resource, stream_id, ephemeral)

    # Property storage --------------------------------------------------------------------------------------
    # Every generated getter and constructor calls pulumi.get / pulumi.set, which re-derive from the class
    # (four attribute probes and a subclass check) where the value lives: the same answer for every call.

    def _storage(self, cls: type) -> str | None:
        """Where pulumi.get/set keep a property of an instance of `cls`: "dict" (the instance is the dict),
        "attrs" (its __dict__), "resource" (its __dict__, read only), or None (the SDK's function: output
        types that translate names, anything else)."""
        try:
            return self._property_storage[cls]
        except KeyError:
            pass
        storage = None
        is_input, is_output = _types.is_input_type(cls), _types.is_output_type(cls)
        translates = is_output and callable(getattr(cls, _types._TRANSLATE_PROPERTY, None))
        if (is_input or is_output) and not translates:
            storage = "dict" if issubclass(cls, dict) else "attrs"
        elif not (is_input or is_output) and issubclass(cls, pulumi.Resource):
            storage = "resource"  # read from its __dict__; the SDK refuses to set
        self._property_storage[cls] = storage
        return storage

    def get(self, obj: Any, name: str) -> Any:
        """`pulumi.get`."""
        if name and type(name) is str:
            storage = self._storage(type(obj))
            if storage == "dict":
                return dict.get(obj, name)
            if storage == "attrs" or storage == "resource":
                return obj.__dict__.get(name)
        return self.original_get(obj, name)

    def set(self, obj: Any, name: str, value: Any) -> None:
        """`pulumi.set`."""
        if name and type(name) is str:
            storage = self._storage(type(obj))
            if storage == "dict":
                obj[name] = value
                return
            if storage == "attrs":
                obj.__dict__[name] = value
                return
        self.original_set(obj, name, value)

    # Type metadata -----------------------------------------------------------------------------------------
    # The SDK re-resolves a resource class's annotations (typing.get_type_hints) for every response; a
    # class's annotations do not change during a run, and the only caller (resolve_outputs) reads the maps.

    def resource_types(self, resource_cls: type) -> dict:
        try:
            return self._resource_types[resource_cls]
        except KeyError:
            types = self._resource_types[resource_cls] = self.original_resource_types(resource_cls)
            return types

    def resource_pulumi_to_py_names(self, resource_cls: type) -> dict:
        try:
            return self._resource_names[resource_cls]
        except KeyError:
            names = self._resource_names[resource_cls] = self.original_resource_pulumi_to_py_names(resource_cls)
            return names

    # URNs ------------------------------------------------------------------------------------------------

    def create_urn(self, name, type_, parent=None, project=None, stack=None) -> Output:
        """`create_urn` for plain name, type, project and stack, and a parent given as a URN string, a
        Resource or an Output; anything else goes to the SDK."""
        if _is_plain_str(name) and _is_plain_str(type_) and (project is None or _is_plain_str(project)) and (
            stack is None or _is_plain_str(stack)
        ):
            if parent is None:
                stack = stack if stack is not None else runtime_settings.get_stack()
                project = project if project is not None else runtime_settings.get_project()
                return _known("urn:pulumi:" + stack + "::" + project + "::" + type_ + "::" + name)
            if _is_plain_str(parent):
                return _known(parent[0:parent.rfind("::")] + "$" + type_ + "::" + name)
            if isinstance(parent, pulumi.Resource):
                return _child_urn(parent.urn, type_, name)
            if isinstance(parent, Output):
                return _child_urn(parent, type_, name)
        return self.original_create_urn(name, type_, parent, project, stack)

    def collapse_alias_to_urn(self, alias, default_name, default_type, default_parent) -> Output:
        """`collapse_alias_to_urn` for a URN string or an Alias of plain values."""
        if _is_plain_str(alias):
            return _known(alias)
        if isinstance(alias, pulumi.Alias):
            name = alias.name if alias.name is not ... else default_name
            type_ = alias.type_ if alias.type_ is not ... else default_type
            parent = alias.parent if alias.parent is not ... else default_parent
            project = alias.project if alias.project is not ... and alias.project is not None else None
            stack = alias.stack if alias.stack is not ... and alias.stack is not None else None
            project = runtime_settings.get_project() if project is None else project
            stack = runtime_settings.get_stack() if stack is None else stack
            if name is not None and type_ is not None and _is_plain_str(project) and _is_plain_str(stack):
                return self.create_urn(name, type_, parent, project, stack)
        return self.original_collapse_alias_to_urn(alias, default_name, default_type, default_parent)

    # Inputs ----------------------------------------------------------------------------------------------

    def _input_type_types(self, cls: type) -> dict | None:
        """The Pulumi-name -> type map of an input type class, None for any other class."""
        try:
            return self._input_types[cls]
        except KeyError:
            types = _types.input_type_types(cls) if _types.is_input_type(cls) else None
            self._input_types[cls] = types
            return types

    def _input_type_to_dict(self, obj: Any) -> dict:
        """`_types.input_type_to_dict` with each class's getters (and their deprecation bypass) found once."""
        cls = type(obj)
        try:
            getters = self._input_getters[cls]
        except KeyError:
            getters = self._input_getters[cls] = [
                (pulumi_name, prop.fget.__dict__.get(_types._PULUMI_DEPRECATED_CALLABLE) or prop.fget)
                for _, pulumi_name, prop in _types._py_properties(cls)
            ]
        result = {}
        for pulumi_name, getter in getters:
            value = getter(obj)
            if value is not None:
                result[pulumi_name] = value
        return result

    def _serialize_plan(self, typ: Any) -> tuple:
        """(list element type or _Unhandled, key translation, value type lookup, keys translated by the
        input_transformer) for a list or dict serialized with `typ`, as serialize_property derives them;
        unions are left to the SDK (get_type None)."""
        try:
            return self._serialize_plans[typ]
        except KeyError:
            pass
        plan: tuple
        try:
            unwrapped = _types.unwrap_type(typ) if typ else typ
            if unwrapped is Any:
                unwrapped = None
            if unwrapped is not None and _types.is_discriminated_union(unwrapped):
                raise _Unhandled
            try:
                element_type = rpc._get_list_element_type(unwrapped)
            except AssertionError:
                element_type = _Unhandled
            # Keys are translated by the input type's names, kept (typed dicts and other types), or, with
            # no type or a dict type without a str key, translated by the caller's input_transformer.
            translate, get_type, by_transformer = None, _no_type, unwrapped is None
            if unwrapped is not None:
                if _types.is_input_type(unwrapped):
                    names = _types.input_type_py_to_pulumi_names(unwrapped)
                    translate = functools.partial(_translate_name, names)
                    get_type = _types.input_type_types(unwrapped).get
                else:
                    origin = get_origin(unwrapped)
                    if unwrapped is dict or origin in _DICT_TYPES:
                        args = get_args(unwrapped)
                        if len(args) == 2 and args[0] is str:
                            get_type = functools.partial(_constant_type, args[1])
                        else:
                            by_transformer = True
            plan = (element_type, translate, get_type, by_transformer)
        except _Unhandled:
            plan = (_Unhandled, None, None, False)
        self._serialize_plans[typ] = plan
        return plan

    async def serialize_property(
        self,
        value: Any,
        deps: list | None,
        property_key: str | None,
        resource_obj: Any = None,
        input_transformer: Any = None,
        typ: Any = None,
        keep_output_values: bool = False,
        exclude_resource_refs_from_deps: bool = False,
        return_protobuf_value: bool = False,
    ) -> Any:
        """`rpc.serialize_property` for scalars, lists, tuples, dicts and input types; the SDK's for the rest."""
        cls = type(value)
        if return_protobuf_value:
            pass
        elif cls in _SCALARS:
            return value
        elif cls is list or cls is tuple:
            element_type, _, _, _ = self._serialize_plan(typ)
            if element_type is not _Unhandled:
                items = []
                for item in value:
                    if type(item) not in _SCALARS:
                        item = await self.serialize_property(
                            item, deps, property_key, resource_obj, input_transformer, element_type,
                            keep_output_values, exclude_resource_refs_from_deps,
                        )
                    items.append(item)
                return items
        elif cls is dict:
            element_type, translate, get_type, by_transformer = self._serialize_plan(typ)
            if get_type is not None:
                if by_transformer:
                    translate = input_transformer
                serialized = {}
                for key in value:
                    pulumi_key = key if translate is None else translate(key)
                    item = value[key]
                    if type(item) not in _SCALARS:
                        item = await self.serialize_property(
                            item, deps, key, resource_obj, input_transformer, get_type(pulumi_key),
                            keep_output_values, exclude_resource_refs_from_deps,
                        )
                    serialized[pulumi_key] = item
                return serialized
        else:
            types = self._input_type_types(cls)
            if types is not None:
                serialized = {}
                for key, item in self._input_type_to_dict(value).items():
                    if type(item) not in _SCALARS:
                        item = await self.serialize_property(
                            item, deps, property_key, resource_obj, input_transformer, types.get(key),
                            keep_output_values, exclude_resource_refs_from_deps,
                        )
                    serialized[key] = item
                return serialized
        return await self.original_serialize_property(
            value, deps, property_key, resource_obj, input_transformer, typ, keep_output_values,
            exclude_resource_refs_from_deps, return_protobuf_value,
        )

    def register_resource(self, *args: Any, **kwargs: Any) -> None:
        """`register_resource`, marking the registration task it starts (tasks inherit the context)."""
        token = _REGISTERING.set(True)
        try:
            return self.original_register_resource(*args, **kwargs)
        finally:
            _REGISTERING.reset(token)

    async def prepare_resource(self, *args: Any, **kwargs: Any) -> Any:
        """`prepare_resource`; within a registration its properties may be serialized as PlainProps."""
        token = _PREPARING_REGISTRATION.set(_REGISTERING.get())
        try:
            return await self.original_prepare_resource(*args, **kwargs)
        finally:
            _PREPARING_REGISTRATION.reset(token)

    async def serialize_properties(self, inputs: Any, property_deps: dict, resource_obj: Any = None,
                                   input_transformer: Any = None, typ: Any = None,
                                   keep_output_values: bool = False,
                                   exclude_resource_refs_from_deps: bool = False) -> Any:
        """`rpc.serialize_properties`; for a registration, PlainProps instead of the Struct when every value
        is plain JSON (anything else, the Struct, with the SDK's errors)."""
        if not _PREPARING_REGISTRATION.get():
            return await self.original_serialize_properties(
                inputs, property_deps, resource_obj, input_transformer, typ, keep_output_values,
                exclude_resource_refs_from_deps,
            )
        get_type = _no_type
        translate = input_transformer
        if typ is not None:
            names = _types.input_type_py_to_pulumi_names(typ)
            types = _types.input_type_types(typ)
            translate = functools.partial(_translate_name, names)

            def get_type(key: str) -> Any:
                return types.get(translate(key))

        raw: dict = {}
        for key in inputs:
            value = inputs[key]
            deps: list = []
            try:
                result = await self.serialize_property(
                    value, deps, key, resource_obj, input_transformer, get_type(key), keep_output_values,
                    exclude_resource_refs_from_deps,
                )
            except ValueError as e:
                raise ValueError(
                    f"While processing input: {key!r}, type {type(key)}, value {value!r}\n"
                    + f"ValueError has risen: {e}"
                ) from e
            except AssertionError as e:
                raise AssertionError(
                    f"While processing input: {key!r}, type {type(key)}, value {value!r}\n"
                    + f"AssertionError has risen: {e}"
                ) from e
            if result is not None:
                name = key if translate is None else translate(key)
                raw[name] = result
                property_deps[name] = deps
        secret_paths: list[str] = []
        try:
            decoded = _monitor_decode_map(raw, "", secret_paths)
        except _Unhandled:
            plain = PlainProps(raw, {}, [])
            return plain.to_struct()  # raises as the SDK's Struct would for a value it cannot hold
        return PlainProps(raw, decoded, secret_paths)

    def resolve_outputs(self, res, serialized_props, outputs, deps, resolvers, custom,
                        transform_using_type_metadata=False, keep_unknowns=False, resolve_missing_as_unknown=False):
        """`rpc.resolve_outputs`, reading PlainProps inputs (the SDK's own function for a Struct)."""
        if type(serialized_props) is not PlainProps:
            return self.original_resolve_outputs(
                res, serialized_props, outputs, deps, resolvers, custom, transform_using_type_metadata,
                keep_unknowns, resolve_missing_as_unknown,
            )
        # The SDK's resolve_outputs, but for the inputs loop: keys first, a value decoded only when used.
        all_properties = {}
        resource_cls = type(res)
        types = _types.resource_types(resource_cls)
        translate, translate_to_pass = res.translate_output_property, res.translate_output_property
        if transform_using_type_metadata:
            pulumi_to_py_names = _types.resource_pulumi_to_py_names(resource_cls)

            def translate(prop: str) -> str:
                return pulumi_to_py_names.get(prop) or prop

            def translate_to_pass(prop: str) -> str:
                return prop

        # Values decoded here from plain data cannot hold an Unknown (an unknown marker goes to the SDK's
        # decoding): their Outputs need no search for one (fastpath._resolve_property).
        free_of_unknowns = type(outputs) is PlainStruct
        output_values = None
        if free_of_unknowns:
            try:
                output_values = _decode_map(outputs.value, top_level=True)
            except _Unhandled:
                free_of_unknowns = False
        if output_values is None:
            output_values = self.deserialize_properties(outputs, keep_unknowns)
        for key, value in output_values.items():
            translated_key = translate(key)
            all_properties[translated_key] = self.translate_output_properties(
                value, translate_to_pass, types.get(key), transform_using_type_metadata,
                path=rpc._Path(translated_key, resource=f"{res._name}"),
            )
        translated_deps = {translate(key): property_deps for key, property_deps in deps.items()}
        if not runtime_settings.is_dry_run() or runtime_settings.is_legacy_apply_enabled():
            for key in serialized_props.raw:
                translated_key = translate(key)
                if translated_key not in all_properties:
                    try:
                        value = _decode(serialized_props.raw[key])
                    except _Unhandled:
                        value = _deserialize_plain_value(serialized_props.raw[key])
                        free_of_unknowns = False
                    all_properties[translated_key] = self.translate_output_properties(
                        value,
                        translate_to_pass,
                        types.get(key),
                        transform_using_type_metadata,
                        path=rpc._Path(translated_key, resource=f"{res._name}"),
                        return_none_on_dict_type_mismatch=True,
                    )
        self._resolving_free_of_unknowns = free_of_unknowns
        try:
            rpc.resolve_properties(resolvers, all_properties, translated_deps, custom, resolve_missing_as_unknown)
        finally:
            self._resolving_free_of_unknowns = False

    # Property Outputs ------------------------------------------------------------------------------------

    def transfer_properties(self, res: pulumi.Resource, props: Any, custom: bool) -> dict:
        """`rpc.transfer_properties`: each property an Output whose data one future carries."""
        loop = asyncio.get_event_loop()
        resolvers = {}
        for name in props:
            if name == "urn" or (name == "id" and custom):
                continue  # the SDK resolves these itself
            data = loop.create_future()
            resolvers[name] = functools.partial(self._resolve_property, res, data)
            # Not tracked for wait_for_rpcs: the registration that settles it is (its RPC), and settles it
            # (with the registration's error, if any) before that RPC ends.
            output = object.__new__(Output)
            output._data = data
            res.__dict__[name] = output
        return resolvers

    def _resolve_property(self, resource, data, value, is_known, is_secret, deps, failed) -> None:
        resources = set(deps) if deps else set()
        resources.add(resource)
        if failed is not None:
            data.set_exception(failed)
        elif is_known and self._resolving_free_of_unknowns:
            # What _OutputData(...) makes, without its search of the value for an Unknown (there is none).
            settled = object.__new__(_OutputData)
            settled.resources, settled.value, settled.is_known, settled.is_secret = resources, value, True, is_secret
            data.set_result(settled)
        else:
            data.set_result(_OutputData(resources=resources, value=value, is_known=is_known, is_secret=is_secret))

    # Outputs ---------------------------------------------------------------------------------------------

    def _translate_plan(self, typ: Any) -> tuple:
        """How translate_output_properties treats a value of `typ`:
        (unwrapped type or None, output type field types or None, dict value type or _Unhandled when a dict
        does not fit, keep dict keys under type metadata, list element type or _Unhandled, enum, int)."""
        try:
            return self._translate_plans[typ]
        except KeyError:
            pass
        unwrapped = _types.unwrap_optional_type(typ) if typ else typ
        if unwrapped is Any:
            unwrapped = None
        field_types = None
        dict_value_type: Any = None
        keep_keys = False
        if unwrapped is not None:
            if _types.is_discriminated_union(unwrapped):
                dict_value_type = _Unhandled
            elif _types.is_output_type(unwrapped):
                field_types = _types.output_type_types(unwrapped)
            else:
                origin = get_origin(unwrapped)
                if unwrapped is dict or origin in _DICT_TYPES:
                    args = get_args(unwrapped)
                    if len(args) == 2 and args[0] is str:
                        dict_value_type, keep_keys = args[1], True
                else:
                    dict_value_type = _Unhandled  # the SDK returns None or raises, naming the path
        try:
            element_type = rpc._get_list_element_type(unwrapped)
        except AssertionError:
            element_type = _Unhandled
        is_enum = bool(unwrapped) and inspect.isclass(unwrapped) and issubclass(unwrapped, Enum)
        plan = (unwrapped, field_types, dict_value_type, keep_keys, element_type, is_enum, unwrapped is int)
        self._translate_plans[typ] = plan
        return plan

    def translate_output_properties(
        self,
        output: Any,
        output_transformer: Any,
        typ: Any = None,
        transform_using_type_metadata: bool = False,
        path: Any = None,
        return_none_on_dict_type_mismatch: bool = False,
    ) -> Any:
        """`rpc.translate_output_properties`; on anything the fast path does not handle, the SDK's function
        redoes the whole value, so errors carry the SDK's message and path."""
        try:
            return self._translate(output, output_transformer, typ, transform_using_type_metadata)
        except _Unhandled:
            return self.original_translate_output_properties(
                output, output_transformer, typ, transform_using_type_metadata, path, return_none_on_dict_type_mismatch
            )

    def _keeps_scalars(self, typ: Any) -> bool:
        """Whether str, bool and int values of `typ` translate to themselves (no enum to build)."""
        try:
            return self._scalar_passthrough[typ]
        except KeyError:
            keeps = self._scalar_passthrough[typ] = typ is None or not self._translate_plan(typ)[5]
            return keeps

    def _translate(self, output: Any, transformer: Any, typ: Any, by_metadata: bool) -> Any:
        cls = type(output)
        if cls in _KEPT_SCALARS:
            if output is None or self._keeps_scalars(typ):
                return output
            return self._translate_plan(typ)[0](output)  # an enum
        unwrapped, field_types, dict_value_type, keep_keys, element_type, is_enum, is_int = self._translate_plan(typ)
        if isinstance(output, dict):
            if _SIG in output and output[_SIG] == _SECRET_SIG:
                return rpc.wrap_rpc_secret(self._translate(output["value"], transformer, typ, by_metadata))
            if field_types is not None:
                values = {}
                for key, value in output.items():
                    field_type = field_types.get(key)
                    if type(value) in _KEPT_SCALARS and self._keeps_scalars(field_type):
                        values[key] = value
                    else:
                        values[key] = self._translate(value, transformer, field_type, by_metadata)
                return _types.output_type_from_dict(unwrapped, values)
            if dict_value_type is _Unhandled:
                raise _Unhandled
            keeps = self._keeps_scalars(dict_value_type)
            if keep_keys and by_metadata:
                return {k: v if keeps and type(v) in _KEPT_SCALARS else self._translate(v, transformer, dict_value_type,
                                                                                         by_metadata)
                        for k, v in output.items()}
            return {transformer(k): v if keeps and type(v) in _KEPT_SCALARS else self._translate(
                        v, transformer, dict_value_type, by_metadata)
                    for k, v in output.items()}
        if isinstance(output, list):
            if element_type is _Unhandled:
                raise _Unhandled
            keeps = self._keeps_scalars(element_type)
            return [v if keeps and type(v) in _KEPT_SCALARS else self._translate(v, transformer, element_type, by_metadata)
                    for v in output]
        if is_enum and isinstance(output, (int, float, str)):
            return unwrapped(output)
        if is_int and isinstance(output, float):
            return int(output)
        return output

    def deserialize_properties(self, props_struct: Any, keep_unknowns: bool | None = None,
                               keep_internal: bool | None = True) -> Any:
        """`rpc.deserialize_properties`, also for a PlainStruct: decoded as the SDK decodes the protobuf
        Struct it would have been (numbers as floats, nulls dropped from maps, nested secrets pushed up)."""
        if type(props_struct) is PlainStruct:
            if keep_internal is not False:
                try:
                    return _decode_map(props_struct.value, top_level=True)
                except _Unhandled:
                    pass
            props_struct = props_struct.to_struct()
        return self.original_deserialize_properties(props_struct, keep_unknowns, keep_internal)


def _translate_name(names: dict, key: str) -> str:
    return names.get(key) or key


def _no_type(key: str) -> None:
    return None


def _constant_type(typ: Any, key: str) -> Any:
    return typ


# Property Outputs ---------------------------------------------------------------------------------------


# Plain responses ----------------------------------------------------------------------------------------


def _decode_map(value: dict, top_level: bool = False) -> Any:
    if _SIG in value:
        if value[_SIG] != _SECRET_SIG or "value" not in value:
            raise _Unhandled  # assets, archives, resource references: the SDK's decoding
        inner = _decode(value["value"])
        if rpc.is_rpc_secret(inner):
            raise _Unhandled  # a secret inside a secret: the SDK's rules
        return rpc.wrap_rpc_secret(inner)
    out = {}
    secret = False
    for key, item in value.items():
        if type(key) is not str:
            raise _Unhandled
        decoded = _decode(item)
        if decoded is not None:
            out[key] = decoded
            if not secret and rpc.is_rpc_secret(decoded):
                secret = True
    if secret and not top_level:
        return rpc.wrap_rpc_secret({k: rpc.unwrap_rpc_secret(v) for k, v in out.items()})
    return out


def _decode(value: Any) -> Any:
    cls = type(value)
    if cls is str:
        if value == rpc.UNKNOWN:
            raise _Unhandled
        return value
    if cls is bool or value is None:
        return value
    if cls is int or cls is float:
        return float(value)
    if cls is dict:
        return _decode_map(value)
    if cls is list or cls is tuple:
        items = [_decode(item) for item in value]
        if any(rpc.is_rpc_secret(item) for item in items):
            return rpc.wrap_rpc_secret([rpc.unwrap_rpc_secret(item) for item in items])
        return items
    raise _Unhandled


def _deserialize_plain_value(value: Any) -> Any:
    """`rpc.deserialize_property` of the Struct value `value` would have become."""
    try:
        return _decode(value)
    except _Unhandled:
        struct = struct_pb2.Struct()
        struct["value"] = value
        return rpc.deserialize_property(struct["value"])


# The offline monitor's decoding (engine._decode_struct), of plain data ----------------------------------


def _monitor_decode_map(value: dict, path: str, secret_paths: list[str]) -> Any:
    if _SIG in value:
        kind = value[_SIG]
        if kind == _SECRET_SIG and type(kind) is str and "value" in value:
            secret_paths.append(path or "<root>")
            return _monitor_decode(value["value"], path, [])  # secrets within a secret: not noted again
        if kind == _RESOURCE_SIG and type(kind) is str and type(value.get("urn")) is str:
            return value["urn"]
        raise _Unhandled  # assets and archives: decoded from the Struct
    out = {}
    for key, item in value.items():
        if type(key) is not str:
            raise _Unhandled
        decoded = _monitor_decode(item, f"{path}.{key}" if path else key, secret_paths)
        if decoded is not None:
            out[key] = decoded
    return out


def _monitor_decode(value: Any, path: str, secret_paths: list[str]) -> Any:
    cls = type(value)
    if cls is str or cls is bool or value is None:
        return value
    if cls is int:
        return int(float(value))  # the Struct holds a double
    if cls is float:
        return int(value) if value.is_integer() else value
    if cls is dict:
        return _monitor_decode_map(value, path, secret_paths)
    if cls is list or cls is tuple:
        return [_monitor_decode(item, f"{path}[{i}]", secret_paths) for i, item in enumerate(value)]
    raise _Unhandled
