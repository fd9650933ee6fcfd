"""The config schema: every bad value or unknown key is one line naming the key, the value and what is allowed."""

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from settings import StackSettings, describe_all
from settings.schema import (
    ConfigError,
    boolean,
    describe,
    inline,
    integer,
    load_section,
    one_of,
    section,
    setting,
)


@dataclass(frozen=True)
class Pool:
    node_count: int = setting("nodeCount", "Nodes.", integer(1, 100), default=3)
    mode: str = setting("mode", "Pool mode.", one_of("System", "User"), default="System")


@dataclass(frozen=True)
class Flat:
    flag: bool = setting("flag", "A flag.", boolean, default=False)


@dataclass(frozen=True)
class Root:
    pool: Pool = section("pool", "A pool.", Pool)
    flat: Flat = inline(Flat)


def test_absent_keys_take_their_defaults():
    assert load_section(Root, {}) == Root(pool=Pool(node_count=3, mode="System"), flat=Flat(flag=False))


def test_values_are_converted_to_their_types():
    loaded = load_section(Root, {"pool": {"nodeCount": "5"}, "flag": "true"})
    assert loaded.pool.node_count == 5
    assert loaded.flat.flag is True


def test_a_bad_value_names_the_full_key_the_value_and_what_is_allowed():
    with pytest.raises(ConfigError) as error:
        load_section(Root, {"pool": {"nodeCount": "three"}})
    assert str(error.value) == 'aks-microservices:pool.nodeCount: expected an integer from 1 to 100, got "three"'


def test_an_out_of_range_number_is_rejected():
    with pytest.raises(ConfigError, match=r"pool.nodeCount: expected an integer from 1 to 100, got 0"):
        load_section(Root, {"pool": {"nodeCount": 0}})


def test_booleans_are_not_accepted_as_integers():
    with pytest.raises(ConfigError, match=r"got True"):
        load_section(Root, {"pool": {"nodeCount": True}})


def test_an_unknown_key_is_an_error_that_suggests_the_right_spelling():
    with pytest.raises(ConfigError) as error:
        load_section(Root, {"pool": {"nodecount": 3}})
    assert str(error.value) == (
        "aks-microservices:pool.nodecount: unknown key (did you mean 'nodeCount'?); allowed keys: mode, nodeCount"
    )


def test_inline_keys_sit_beside_the_parents_keys():
    with pytest.raises(ConfigError, match=r"aks-microservices:flag: expected true or false, got \"maybe\""):
        load_section(Root, {"flag": "maybe"})


def test_a_section_must_be_a_map():
    with pytest.raises(ConfigError, match=r"aks-microservices:pool: expected a map of settings, got \"big\""):
        load_section(Root, {"pool": "big"})


def test_secret_values_are_never_echoed_in_errors():
    with pytest.raises(ConfigError) as error:
        load_section(StackSettings, {"secrets": {"todoMysqlPassword": ""}})
    assert "value hidden: secret" in str(error.value)


def test_every_key_is_documented_with_its_default():
    docs = {d.key: d for d in describe(Root)}
    assert docs["pool.nodeCount"].default == "3"
    assert docs["pool.nodeCount"].allowed == "an integer from 1 to 100"
    assert docs["flag"].default == "false"


def test_the_stack_settings_document_every_key_once():
    keys = [d.key for d in describe_all()]
    assert len(keys) == len(set(keys))
    assert "kubernetesVersion" in keys and "platform" in keys


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["pool", "flag", "other"]), json_values, max_size=3))
def test_any_input_either_loads_or_raises_a_config_error(raw):
    try:
        load_section(Root, raw)
    except ConfigError as error:
        assert str(error).startswith("aks-microservices:")
        assert "\n" not in str(error)
