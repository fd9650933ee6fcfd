import json
from pathlib import Path

import pytest

from offline.stack_config import SECRET_PLACEHOLDER, StackConfigError, load_stack_config


def _project(tmp_path: Path, stack_yaml: str, project_config: str = "") -> Path:
    (tmp_path / "Pulumi.yaml").write_text(f"name: demo\nruntime: python\n{project_config}")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_yaml)
    return tmp_path


def test_secure_values_become_a_marked_placeholder_flagged_secret(tmp_path):
    project = _project(tmp_path, "config:\n  demo:password:\n    secure: v1:AAAABBBB\n")
    config = load_stack_config(project, "dev")
    assert config.values["demo:password"] == SECRET_PLACEHOLDER
    assert "demo:password" in config.secret_keys


def test_a_secure_value_nested_in_an_object_makes_the_whole_key_secret(tmp_path):
    project = _project(tmp_path, "config:\n  demo:secrets:\n    db:\n      secure: v1:AAAA\n")
    config = load_stack_config(project, "dev")
    assert config.values["demo:secrets"] == json.dumps({"db": SECRET_PLACEHOLDER})
    assert config.secret_keys == {"demo:secrets"}


def test_structured_values_reach_the_program_as_json_and_scalars_as_strings(tmp_path):
    project = _project(tmp_path, "config:\n  demo:cluster:\n    nodeCount: 3\n  demo:enabled: true\n  demo:count: 4\n")
    config = load_stack_config(project, "dev")
    assert config.values == {"demo:cluster": '{"nodeCount": 3}', "demo:enabled": "true", "demo:count": "4"}


def test_project_defaults_apply_unless_the_stack_sets_the_key(tmp_path):
    project = _project(
        tmp_path,
        "config:\n  demo:region: westus\n",
        "config:\n  region:\n    default: eastus\n  tier:\n    default: free\n",
    )
    config = load_stack_config(project, "dev")
    assert config.values["demo:region"] == "westus"
    assert config.values["demo:tier"] == "free"


def test_an_unknown_stack_names_the_missing_file_and_the_known_stacks(tmp_path):
    project = _project(tmp_path, "config: {}\n")
    with pytest.raises(StackConfigError, match=r"unknown stack 'prod': no Pulumi.prod.yaml \(stacks here: dev\)"):
        load_stack_config(project, "prod")


def test_unreadable_yaml_is_one_clear_error(tmp_path):
    project = _project(tmp_path, "config: [unclosed\n")
    with pytest.raises(StackConfigError, match=r"Pulumi.dev.yaml:2:1: not valid YAML: .* started at line 1, column 9"):
        load_stack_config(project, "dev")
