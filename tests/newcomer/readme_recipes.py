"""Recipes as the README writes them: a fenced block after `<!-- recipe: NAME -->`, and a copy of this project
in which a recipe's stack file is rendered (so README and tests cannot drift apart)."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from offline.engine import PROJECT_DIR

README = PROJECT_DIR / "README.md"
# `$(minikube ip)` on Minikube's docker driver.
SHELL_VALUES = {"$(minikube ip)": "192.168.49.2"}


def recipe(name: str) -> str:
    """The body of the fenced block that follows `<!-- recipe: NAME -->` in the README."""
    found = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```[a-z]*\n(.*?)```", README.read_text(), re.S)
    assert found, f"README has no block marked <!-- recipe: {name} -->"
    return found.group(1)


def project_with(tmp_path: Path, stacks: dict[str, str]) -> Path:
    """This project (its code linked, not copied) with the given `Pulumi.<stack>.yaml` texts as its only stacks."""
    project = tmp_path / "project"
    project.mkdir()
    skip = {".git", ".venv", "build", "node_modules", ".hypothesis", ".ruff_cache", ".pytest_cache"}
    for entry in PROJECT_DIR.iterdir():
        if entry.name not in skip and not re.fullmatch(r"Pulumi\..+\.yaml", entry.name):
            (project / entry.name).symlink_to(entry)
    for stack, text in stacks.items():
        (project / f"Pulumi.{stack}.yaml").write_text(text)
    return project


def apply_config_set_commands(stack_yaml: str, commands: str, project: str = "aks-microservices") -> str:
    """The stack file after the block's `pulumi config set [--path] KEY VALUE` lines, as the CLI writes them
    (with --path a key's dots are map levels; values are strings)."""
    doc = copy.deepcopy(yaml.safe_load(stack_yaml)) or {}
    config: dict[str, Any] = doc.setdefault("config", {})
    for line in commands.splitlines():
        line = line.split(" #", 1)[0].strip()
        for shell, value in SHELL_VALUES.items():
            line = line.replace(shell, value)
        words = shlex.split(line)
        if words[:3] != ["pulumi", "config", "set"]:
            continue
        args = [w for w in words[3:] if not w.startswith("--")]
        key, value = args
        if "--path" not in words:
            config[f"{project}:{key}"] = value
            continue
        top, *rest = key.split(".")
        node = config.setdefault(f"{project}:{top}", {})
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    return yaml.safe_dump(doc, sort_keys=False)
