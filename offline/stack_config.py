"""Read a stack's configuration the way the Pulumi CLI hands it to a program.

`Pulumi.yaml` may declare project-level config with defaults; `Pulumi.<stack>.yaml` sets the stack's values.
Keys without a namespace belong to the project. Structured values (maps, lists) reach the program as JSON
strings, like the CLI does. `secure:` values are encrypted with the stack's secrets provider, which is not
available offline, so each becomes a clearly marked placeholder that is still flagged secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SECRET_PLACEHOLDER = "offline-placeholder-for-secure-config"


class StackConfigError(Exception):
    """The stack's configuration files cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; the Pulumi CLI (Go yaml.v3) refuses them, and so do we."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                mark = key_node.start_mark
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """`path:line:column: problem`, one line (PyYAML's own message spans several)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and started is not None and started is not mark:
        context += f" started at line {started.line + 1}, column {started.column + 1}"
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context and context != problem else "")


def _read_yaml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
        data = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise StackConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StackConfigError(f"{path}:{line}: not UTF-8 text ({exc.reason} 0x{raw[exc.start]:02x})") from None
    except yaml.YAMLError as exc:
        raise StackConfigError(_yaml_problem(path, exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: expected a YAML mapping at the top level, got {type(data).__name__}")
    return data


def _as_config_string(value: object) -> str:
    # The CLI passes every config value to the language host as a string; structured values as JSON.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _is_secure(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _contains_secure(value: object) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secure(v) for v in value)
    return False


def _replace_secure(value: object) -> object:
    if _is_secure(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _replace_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v) for v in value]
    return value


def available_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(project_dir: Path, stack: str) -> StackConfig:
    """Merge `Pulumi.yaml` config defaults with `Pulumi.<stack>.yaml` values."""
    project_file = project_dir / "Pulumi.yaml"
    project_doc = _read_yaml(project_file)
    project = project_doc.get("name")
    if not isinstance(project, str) or not project:
        raise StackConfigError(f"{project_file}: 'name' must be a non-empty string")

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = ", ".join(available_stacks(project_dir)) or "none"
        raise StackConfigError(f"unknown stack {stack!r}: no {stack_file.name} (stacks here: {known})")
    stack_doc = _read_yaml(stack_file)

    raw: dict[str, object] = {}
    project_config = project_doc.get("config") or {}
    if not isinstance(project_config, dict):
        raise StackConfigError(f"{project_file}: 'config' must be a mapping")
    for key, spec in project_config.items():
        # Project-level config is either a bare value or a schema with a `default`.
        if isinstance(spec, dict) and ("default" in spec or "type" in spec or "description" in spec):
            if "default" in spec:
                raw[_full_key(project, key)] = spec["default"]
        else:
            raw[_full_key(project, key)] = spec

    stack_config = stack_doc.get("config") or {}
    if not isinstance(stack_config, dict):
        raise StackConfigError(f"{stack_file}: 'config' must be a mapping")
    for key, value in stack_config.items():
        raw[_full_key(project, key)] = value

    values: dict[str, str] = {}
    secret_keys: set[str] = set()
    for key, value in raw.items():
        if _contains_secure(value):
            secret_keys.add(key)
            value = _replace_secure(value)
        values[key] = _as_config_string(value)
    return StackConfig(project=project, stack=stack, values=values, secret_keys=frozenset(secret_keys))
