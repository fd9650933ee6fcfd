"""Render extensions: what a project adds to the generic render (checks, extra files, its Kubernetes version).

The generic render (render.py) works for any Pulumi Python project: it runs the program, writes every
Kubernetes object as YAML, every other resource to resources.json and summary.md, and validates each object
against the Kubernetes version's strict schemas. A project adds its own parts by naming them in its
`pyproject.toml` (the project folder's, next to `Pulumi.yaml`):

    [tool.aks-microservices.offline]
    extensions = ["mypackage.render_checks:EXTENSIONS"]

Each entry is `module:attribute`, imported with the project folder on `sys.path`; the attribute is one
extension or a sequence of them. An extension is any object with either or both of these methods:

- `kubernetes_version(recording) -> str | None`: the version to validate against (the first that answers wins;
  none: `validate.DEFAULT_KUBERNETES_VERSION`, unless the caller passes one);
- `object_problems(manifest: dict) -> list[str]`: more checks of each rendered object, after its schema's
  (each problem fails the render like a schema error);
- `after_render(rendered: Rendered) -> None`: runs once the objects are written, in the listed order; it may
  write more files (`rendered.write`), print progress (`rendered.progress`) and fail the render
  (`rendered.error`, exit code 1).

The same table may name the CRDs of the project's custom resources, upstream CRD YAML files or folders of
them, to validate those objects against (`crds = ["crds"]`). A project without that table gets the generic
render only. This repository's own extensions are in
project.py (explicit object names and namespaces, capacity check, GitOps Stack, `kubernetesVersion` from its
settings).
"""

from __future__ import annotations

import importlib
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, from PyPI (requirements-render.txt)
    import tomli as tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOL_TABLE = ("aks-microservices", "offline")
HOOKS = ("kubernetes_version", "object_problems", "after_render")


class ExtensionError(Exception):
    """A project's extension list cannot be read or imported; the message names the file and the entry."""


@dataclass
class Rendered:
    """What an extension's `after_render` gets: the run, the output folder and the result to add to."""

    stack: str
    out: Path
    recording: Any  # engine.Recording
    result: Any  # render.RenderResult
    progress: Callable[[str], None]
    redact: Callable[[str], str] = field(default=lambda text: text)
    manifests: list[dict] = field(default_factory=list)  # the Kubernetes objects as written (secrets redacted)
    resources: list[dict] = field(default_factory=list)  # the other resources as in resources.json (redacted)

    def write(self, relative: str | Path, text: str) -> Path:
        """Write `text` (secrets redacted) to OUT/`relative`; the file is listed in the result."""
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.redact(text))
        self.result.files.append(path)
        return path

    def error(self, message: str) -> None:
        """Fail the render with `message` (printed with the validation errors)."""
        self.result.errors.append(message)


def _table(project_dir: Path) -> dict:
    """The project's [tool.aks-microservices.offline] table (empty without one)."""
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        table: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExtensionError(f"{path}: cannot read: {exc}") from None
    for key in ("tool", *TOOL_TABLE):
        table = table.get(key, {}) if isinstance(table, dict) else {}
    if not isinstance(table, dict):
        raise ExtensionError(f"{path}: [tool.aks-microservices.offline]: expected a table, got {table!r}")
    return table


def _entries(project_dir: Path) -> list[str]:
    path = project_dir / "pyproject.toml"
    entries = _table(project_dir).get("extensions", [])
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ExtensionError(f"{path}: [tool.aks-microservices.offline] extensions: expected a list of "
                             f"'module:attribute' strings, got {entries!r}")
    return entries


def load_crds(project_dir: Path) -> dict[str, dict]:
    """The CRD schemas of the files and folders (of `*.yaml`/`*.yml`) the project's pyproject.toml names in
    `crds`, relative to the project folder (validate.crd_schemas_from_yaml)."""
    from .validate import crd_schemas_from_yaml

    where = f"{project_dir / 'pyproject.toml'}: [tool.aks-microservices.offline] crds"
    entries = _table(project_dir).get("crds", [])
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise ExtensionError(f"{where}: expected a list of paths, got {entries!r}")
    paths: list[Path] = []
    for entry in entries:
        path = project_dir / entry
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            paths.append(path)
        else:
            raise ExtensionError(f"{where}: {entry!r}: no such file or folder in {project_dir}")
    import yaml

    try:
        return crd_schemas_from_yaml(paths)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExtensionError(f"{where}: {exc}".splitlines()[0]) from None


def load_extensions(project_dir: Path) -> list[Any]:
    """The extensions the project's pyproject.toml names, in order (none when it names none)."""
    extensions: list[Any] = []
    for entry in _entries(project_dir):
        module_name, _, attribute = entry.partition(":")
        if not module_name or not attribute:
            raise ExtensionError(f"{project_dir / 'pyproject.toml'}: extension {entry!r}: expected 'module:attribute'")
        added = str(project_dir) not in sys.path
        if added:
            sys.path.insert(0, str(project_dir))
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ExtensionError(f"{project_dir / 'pyproject.toml'}: extension {entry!r}: cannot import "
                                 f"{module_name}: {exc}") from None
        finally:
            if added:
                sys.path.remove(str(project_dir))
        try:
            value = getattr(module, attribute)
        except AttributeError:
            raise ExtensionError(f"{project_dir / 'pyproject.toml'}: extension {entry!r}: {module_name} has no "
                                 f"{attribute!r}") from None
        for extension in value if isinstance(value, (list, tuple)) else (value,):
            if not any(hasattr(extension, hook) for hook in HOOKS):
                raise ExtensionError(f"{project_dir / 'pyproject.toml'}: extension {entry!r}: {extension!r} has "
                                     f"none of {', '.join(HOOKS)}")
            extensions.append(extension)
    return extensions
