"""The engine's fast path (offline/fastpath.py) computes exactly what the SDK's own internals compute.

Three levels: whole stacks recorded both ways must be identical; during a real stack run every value the
fast path handles is also computed by the SDK's function and compared ("shadow" run); and the decoders and
the unknowns check are compared with the SDK on generated values.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math

import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import struct_pb2
from hypothesis import given
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime import rpc

from offline import fastpath
from offline.engine import PROJECT_DIR, _decode_struct, run, run_stack

STACKS = ("dev", "prod", "local")


def _comparable(recording) -> dict:
    """Everything recorded, in URN order: registrations may complete in another order (the fast path resolves
    outputs sooner), but each must be the same."""
    resources = []
    for resource in sorted(recording.resources, key=lambda r: r.urn):
        fields = dataclasses.asdict(resource)
        # Sets and protobuf maps iterate in no set order: compare these as sets.
        fields["dependencies"] = sorted(fields["dependencies"])
        fields["secret_paths"] = sorted(fields["secret_paths"])
        resources.append(fields)
    return {
        "resources": resources,
        "stack_outputs": recording.stack_outputs,
        "secret_output_names": sorted(recording.secret_output_names),
        "secret_values": sorted(recording.secret_values),
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_fast_path_records_exactly_what_the_sdks_own_internals_record(stack):
    fast = _comparable(run_stack(stack, seed=7))
    sdk = _comparable(run_stack(stack, seed=7, fast_path=False))
    assert len(fast["resources"]) > 100
    assert fast == sdk


def test_the_recording_comparison_would_notice_a_changed_dependency():
    fast = _comparable(run_stack("dev", seed=7))
    tampered = _comparable(run_stack("dev", seed=7))
    with_dependencies = next(r for r in tampered["resources"] if r["dependencies"])
    with_dependencies["dependencies"] = with_dependencies["dependencies"][1:]
    assert tampered != fast


# Shadow run: the SDK's function beside the fast one, on every value a real stack produces ---------------


def _same(a, b) -> bool:
    """Equal, and of the same types all the way down (an output type is not a plain dict)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


class ShadowFastPath(fastpath.FastPath):
    """Computes each handled value both ways and keeps the disagreements."""

    def __init__(self) -> None:
        super().__init__()
        self.compared: dict[str, int] = {}
        self.mismatches: list[tuple] = []
        self.urn_pairs: list[tuple[pulumi.Output, pulumi.Output, tuple]] = []

    def _check(self, what: str, fast, sdk, context) -> None:
        self.compared[what] = self.compared.get(what, 0) + 1
        if not _same(fast, sdk):
            self.mismatches.append((what, context, fast, sdk))

    def _with_sdk_translation(self, *args):
        # The SDK's function recurses through the module global: run it with its own function installed.
        patched = rpc.translate_output_properties
        rpc.translate_output_properties = self.original_translate_output_properties
        try:
            return self.original_translate_output_properties(*args)
        except Exception as error:  # the fast path must then fail the same way
            return ("raised", type(error), str(error))
        finally:
            rpc.translate_output_properties = patched

    def translate_output_properties(self, output, output_transformer, typ=None,
                                    transform_using_type_metadata=False, path=None,
                                    return_none_on_dict_type_mismatch=False):
        sdk = self._with_sdk_translation(output, output_transformer, typ, transform_using_type_metadata, path,
                                         return_none_on_dict_type_mismatch)
        try:
            fast = super().translate_output_properties(output, output_transformer, typ,
                                                       transform_using_type_metadata, path,
                                                       return_none_on_dict_type_mismatch)
        except Exception as error:
            fast = ("raised", type(error), str(error))
        self._check("translate_output_properties", fast, sdk, (typ, output))
        return fast

    def resolve_outputs(self, res, serialized_props, outputs, *args, **kwargs):
        if type(outputs) is fastpath.PlainStruct:
            fast = super().deserialize_properties(outputs, True)
            sdk = self.original_deserialize_properties(outputs.to_struct(), True)
            self._check("deserialize_properties", fast, sdk, outputs.value)
        return super().resolve_outputs(res, serialized_props, outputs, *args, **kwargs)

    async def serialize_properties(self, inputs, property_deps, *args, **kwargs):
        fast = await super().serialize_properties(inputs, property_deps, *args, **kwargs)
        if type(fast) is fastpath.PlainProps:
            secret_paths: list[str] = []
            sdk = _decode_struct(fast.to_struct(), "", secret_paths)
            self._check("registration inputs", (fast.inputs, sorted(fast.secret_paths)), (sdk, sorted(secret_paths)),
                        fast.raw)
        return fast

    def create_urn(self, name, type_, parent=None, project=None, stack=None):
        fast = super().create_urn(name, type_, parent, project, stack)
        sdk = self.original_create_urn(name, type_, parent, project, stack)
        self.urn_pairs.append((fast, sdk, (name, type_)))
        return fast

    def collapse_alias_to_urn(self, alias, default_name, default_type, default_parent):
        fast = super().collapse_alias_to_urn(alias, default_name, default_type, default_parent)
        sdk = self.original_collapse_alias_to_urn(alias, default_name, default_type, default_parent)
        self.urn_pairs.append((fast, sdk, (alias, default_name, default_type)))
        return fast


def _settled(output: pulumi.Output) -> tuple:
    data = output._data.result()
    return (data.value, data.is_known, data.is_secret, sorted(r._name for r in data.resources))


def test_every_value_of_the_dev_stack_gets_the_same_treatment_from_the_fast_path_and_the_sdk():
    shadow = ShadowFastPath()
    run_stack("dev", seed=7, fast_path=shadow)
    for fast, sdk, context in shadow.urn_pairs:
        shadow._check("urn", _settled(fast), _settled(sdk), context)
    assert shadow.mismatches == []
    # Every replacement was exercised, many times over.
    for what in ("translate_output_properties", "deserialize_properties", "registration inputs", "urn"):
        assert shadow.compared.get(what, 0) > 100, (what, shadow.compared)


def test_the_shadow_comparison_would_notice_a_wrong_translation():
    class Wrong(ShadowFastPath):
        def _translate(self, output, transformer, typ, by_metadata):
            value = super()._translate(output, transformer, typ, by_metadata)
            return float(value) if type(value) is int and not isinstance(value, bool) else value

    shadow = Wrong()
    run_stack("local", seed=7, fast_path=shadow)
    assert shadow.mismatches


# Programs beyond this project's stacks: alias forms, Outputs inside inputs, bad inputs ------------------


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Box", name, None, opts)
        self.config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": name, "labels": {"part": pulumi.Output.secret("x")}},
            data={"count": pulumi.Output.from_input(3).apply(str), "plain": "1"},
            opts=pulumi.ResourceOptions(
                parent=self,
                aliases=[
                    pulumi.Alias(name=f"{name}-old"),
                    pulumi.Alias(type_="test:index:Older"),
                    pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE),
                    pulumi.Alias(project="elsewhere", stack=pulumi.Output.from_input("other")),
                    "urn:pulumi:test::proj::kubernetes:core/v1:ConfigMap::given",
                ],
            ),
        )
        self.register_outputs({"name": self.config.metadata.name})


def _box_program():
    first = Box("first", pulumi.ResourceOptions(aliases=[pulumi.Alias(name="zeroth")]))
    Box("second", pulumi.ResourceOptions(parent=first))
    pulumi.export("data", first.config.data)


def test_alias_forms_and_outputs_inside_inputs_record_the_same_both_ways():
    fast, sdk = _comparable(run(_box_program, seed=1)), _comparable(run(_box_program, seed=1, fast_path=False))
    aliases = [r["aliases"] for r in fast["resources"] if r["type"] == "kubernetes:core/v1:ConfigMap"]
    assert all(len(a) >= 5 for a in aliases)
    assert fast == sdk


@pytest.mark.parametrize(
    "bad_data",
    [{"count": {1, 2}}, {"nested": [{"ok": 1}, {"bad": object()}]}, {1: "int key"}],
    ids=["set", "object-in-list", "int-key"],
)
def test_a_value_the_sdk_rejects_fails_with_the_sdks_own_error(bad_data):
    def program():
        k8s.core.v1.ConfigMap("cm", metadata={"name": "cm"}, data=bad_data)

    def error(fast_path: bool) -> str:
        with pytest.raises(Exception) as raised:
            run(program, fast_path=fast_path)
        return f"{type(raised.value).__name__}: {raised.value}"

    assert error(True) == error(False)


# Generated values ---------------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False) | st.text(max_size=4)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)
_secret_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | inner.map(rpc.wrap_rpc_secret)
    ),
    max_leaves=16,
)
_with_unknowns = st.recursive(
    _scalars | st.builds(Unknown),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=20,
)


@given(_with_unknowns)
def test_contains_unknowns_agrees_with_the_sdk(value):
    assert fastpath.contains_unknowns(value) == rpc.contains_unknowns(value)


def test_contains_unknowns_finds_an_unknown_deep_inside():
    assert fastpath.contains_unknowns({"a": [1, {"b": Unknown()}]})
    assert not fastpath.contains_unknowns({"a": [1, {"b": "x"}]})


def _struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


@given(st.dictionaries(st.text(max_size=4), _secret_json, max_size=5))
def test_a_plain_response_decodes_as_the_sdk_decodes_its_struct(properties):
    decoder = fastpath.FastPath()
    plain = decoder.deserialize_properties(fastpath.PlainStruct(properties), True)
    assert _same(plain, rpc.deserialize_properties(_struct(properties), True))


@given(st.dictionaries(st.text(max_size=4), _secret_json, max_size=5))
def test_plain_registration_inputs_decode_as_the_monitor_decodes_the_struct(properties):
    paths: list[str] = []
    try:
        decoded = fastpath._monitor_decode_map(properties, "", paths)
    except fastpath._Unhandled:
        return  # handed to the Struct path
    struct_paths: list[str] = []
    struct_decoded = _decode_struct(_struct(properties), "", struct_paths)
    assert _same(decoded, struct_decoded)
    assert sorted(paths) == sorted(struct_paths)  # a protobuf map iterates in its own order


def test_numbers_in_plain_inputs_are_recorded_as_the_struct_would_carry_them():
    paths: list[str] = []
    decoded = fastpath._monitor_decode_map({"big": 2**60 + 1, "half": 0.5, "two": 2.0}, "", paths)
    assert decoded == {"big": int(float(2**60 + 1)), "half": 0.5, "two": 2}
    assert type(decoded["two"]) is int


def test_property_get_and_set_agree_with_the_sdk_for_input_types_output_types_and_resources():
    fast = fastpath.FastPath()
    metadata_args = k8s.meta.v1.ObjectMetaArgs(name="web", labels={"a": "b"})
    metadata = k8s.meta.v1.outputs.ObjectMeta(name="web", namespace="demo")
    for obj, name in ((metadata_args, "name"), (metadata_args, "labels"), (metadata_args, "namespace"),
                      (metadata, "name"), (metadata, "namespace"), (metadata, "uid")):
        assert fast.get(obj, name) == pulumi.get(obj, name), (type(obj).__name__, name)
    for set_with in (fast.set, pulumi.set):
        args = k8s.meta.v1.ObjectMetaArgs(name="web")
        set_with(args, "namespace", "demo")
        assert pulumi.get(args, "namespace") == "demo"
    with pytest.raises(TypeError, match="Missing name"):
        fast.get(metadata_args, "")
    with pytest.raises(AssertionError, match="get can only be used"):
        fast.get(object(), "name")


# The SDK versions the fast path follows ------------------------------------------------------------------


def test_the_pinned_and_installed_pulumi_is_a_version_the_fast_path_was_checked_against():
    pinned = next(line.split("==")[1].strip() for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines()
                  if line.startswith("pulumi=="))
    assert pinned in fastpath.CHECKED_SDK_VERSIONS
    assert importlib.metadata.version("pulumi") == pinned


def _sdk_functions_seen_by(fast_path) -> dict:
    seen = {}

    def program():
        seen["serialize_properties"] = rpc.serialize_properties
        k8s.core.v1.ConfigMap("cm", metadata={"name": "cm"}, data={"a": "b"})

    recording = run(program, fast_path=fast_path)
    assert recording.k8s("ConfigMap", "cm")["data"] == {"a": "b"}
    return seen


def test_the_engine_runs_the_fast_path_with_a_checked_sdk():
    assert _sdk_functions_seen_by(True)["serialize_properties"] is not rpc.serialize_properties


def test_with_an_sdk_the_fast_path_was_not_checked_against_the_engine_runs_the_sdks_own_internals_and_says_so(
    monkeypatch,
):
    monkeypatch.setattr(fastpath, "CHECKED_SDK_VERSIONS", ("0.0.1",))
    with pytest.warns(RuntimeWarning, match="checked against pulumi 0.0.1, not 3"):
        seen = _sdk_functions_seen_by(True)
    assert seen["serialize_properties"] is rpc.serialize_properties
