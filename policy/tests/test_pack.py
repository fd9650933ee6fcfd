"""The pack as the CLI loads it: unique policies, and a config file that names only what exists."""

from __future__ import annotations

import json
from pathlib import Path

from aks_policies import ALL_POLICIES

PACK_DIR = Path(__file__).resolve().parent.parent


def test_policy_names_are_unique_and_every_policy_explains_itself():
    names = [policy.name for policy in ALL_POLICIES]
    assert len(names) == len(set(names)) == 14
    assert all(len(policy.description) > 30 for policy in ALL_POLICIES)


def test_the_projects_pack_config_only_sets_properties_the_policies_declare():
    config = json.loads((PACK_DIR / "config.json").read_text())
    policies = {policy.name: policy for policy in ALL_POLICIES}
    for name, settings in config.items():
        assert name in policies, f"config.json configures unknown policy {name!r}"
        schema = policies[name].config_schema
        assert schema is not None and set(settings) <= set(schema.properties), name


def test_the_entry_point_runs_every_policy_as_mandatory():
    main = (PACK_DIR / "__main__.py").read_text()
    assert "policies=ALL_POLICIES" in main and "EnforcementLevel.MANDATORY" in main
