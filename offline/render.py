"""Render a stack's complete desired state to files, then validate it.

Writes, under OUT:
- `k8s/<namespace>/<kind>-<name>.yaml`, one Kubernetes object per file (cluster-scoped in `k8s/_cluster/`),
  ready for `kubectl apply -f` (Secrets carry redaction markers instead of values);
- `resources.json`, every other resource (Azure, random, Helm releases, providers) as
  `{type, name, parent, provider, inputs}`, in URN order;
- `summary.md`, a readable account of the stack (see summary.py), with the ingress route table (routes.py);
- whatever the project's render extensions add (extensions.py). This repository's (project.py) add
  `gitops/stack.yaml`, the Pulumi Kubernetes Operator `Stack` that deploys it from git (see gitops.py), and
  fail the render when the apps do not fit the node pools (capacity.py), and estimate the monthly cost
  (cost.py) into `summary.md`.

Every part here works for any Pulumi Python project; nothing of this repository's applies to another one.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .capacity import CapacityReport
from .cost import CostEstimate
from .engine import PROJECT_DIR, RecordedResource, Recording, run_stack
from .extensions import Rendered, load_crds, load_extensions
from .redact import REDACTED, Redactor
from .routes import route_table, shadowing
from .summary import PART_OF, render_summary
from .validate import CLUSTER_SCOPED_KINDS, DEFAULT_KUBERNETES_VERSION, validate_object

try:  # the C dumper is several times faster; fall back where libyaml is missing
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper

_TOP_KEYS = ("apiVersion", "kind", "metadata")


@dataclass
class RenderResult:
    """What a render wrote (`files`, counts) and found (`errors`, one line each: the render is valid without)."""

    out: Path
    objects: int = 0
    other_resources: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)
    recording: Recording | None = None
    capacity: CapacityReport | None = None  # set by the capacity extension (project.py)
    cost: CostEstimate | None = None  # set by the cost extension (project.py)
    kubernetes_version: str = ""  # the version the objects were validated against


def _sorted(value):
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _ordered(obj: dict) -> dict:
    """apiVersion, kind, metadata first, everything else sorted: the same object always renders the same
    bytes (the engine's maps have no stable order), so rendered manifests diff cleanly in review."""
    stable = _sorted(obj)
    return {**{k: stable[k] for k in _TOP_KEYS if k in stable}, **{k: v for k, v in stable.items() if k not in _TOP_KEYS}}


def object_path(obj: dict, resource_name: str = "unnamed") -> Path:
    """`k8s/<namespace>/<kind>-<name>.yaml`; an object left to the provider's auto-naming goes by its Pulumi
    resource name, one without a namespace to `k8s/_default/` (the provider's default namespace)."""
    metadata = obj.get("metadata") or {}
    folder = "_cluster" if obj.get("kind") in CLUSTER_SCOPED_KINDS else (metadata.get("namespace") or "_default")
    return Path("k8s") / folder / f"{str(obj.get('kind', 'unknown')).lower()}-{metadata.get('name') or resource_name}.yaml"


def _parent_name(recording: Recording, resource: RecordedResource) -> str | None:
    return resource.parent_urn.split("::")[-1] if resource.parent_urn else None


# The output folder -----------------------------------------------------------------------------------------
# A render writes into a fresh sibling folder and swaps it in whole at the end, so OUT never mixes files of two
# renders, and a render that fails (bad config, a program error) leaves OUT as it was. OUT is replaced only
# when it is a render's own folder: it holds MARKER, or (folders from before the marker) only what a render
# writes. Anything else is refused, so `--out` never deletes a file the render did not write.

MARKER = ".offline-render"
_RENDER_NAMES = frozenset({MARKER, "k8s", "resources.json", "summary.md", "gitops"})


class RenderOutputError(Exception):
    """OUT cannot be used; the message is one line naming the path and why."""


def check_out(out: Path) -> None:
    """Raise RenderOutputError unless OUT is absent, an empty folder or a render's own folder."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise RenderOutputError(f"--out {out}: exists and is not a folder (give a folder path, e.g. build/dev)")
    if not out.exists():
        return
    try:
        names = {child.name for child in out.iterdir()}
    except OSError as exc:
        raise RenderOutputError(f"--out {out}: cannot read the folder: {exc.strerror}") from None
    if names and MARKER not in names and not names <= _RENDER_NAMES:
        strangers = ", ".join(sorted(names - _RENDER_NAMES)[:3])
        raise RenderOutputError(
            f"--out {out}: the folder holds files a render did not write ({strangers}); it would be replaced "
            f"whole: give an empty or new folder"
        )


def _staging(out: Path) -> Path:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.rendering-", dir=out.parent))
    except OSError as exc:
        raise RenderOutputError(f"--out {out}: cannot create it: {exc.strerror}") from None


def _swap_in(staging: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
        out.rename(old / out.name)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old)


def render(
    stack: str,
    out: Path,
    *,
    project_dir: Path | None = None,
    kubernetes_version: str | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    collect_garbage: bool = True,
    extensions: Sequence | None = None,
    crds: dict[str, dict] | None = None,
) -> RenderResult:
    """Run the project's program for `stack`, write its desired state under `out` and validate it.

    `extensions` (default: those the project's pyproject.toml names, see extensions.py) run after the
    generic part; `kubernetes_version` (default: the first extension's answer, else
    validate.DEFAULT_KUBERNETES_VERSION) selects the schemas objects are validated against; `crds` (default:
    those the project's pyproject.toml names) add custom resource schemas to the bundled ones.

    Raises RenderOutputError before running the program when OUT cannot be used; OUT is untouched when
    the program fails."""
    check_out(out)
    started = time.perf_counter()
    project_dir = PROJECT_DIR if project_dir is None else project_dir  # None: this repository (engine.PROJECT_DIR)
    extensions = load_extensions(project_dir) if extensions is None else list(extensions)
    crds = load_crds(project_dir) if crds is None else crds
    recording = run_stack(stack, project_dir=project_dir, collect_garbage=collect_garbage)
    staging = _staging(out)
    try:
        result = _write(stack, staging, recording, kubernetes_version, progress, extensions, crds)
        (staging / MARKER).write_text(
            f"Written by `python -m offline render --stack {stack}`; the next render replaces this folder whole.\n"
            f"result: {'valid' if not result.errors else f'{len(result.errors)} errors'}\n"
        )
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.out = out
    result.files = [out / path.relative_to(staging) for path in result.files]
    result.seconds = time.perf_counter() - started
    return result


def _write(stack: str, out: Path, recording: Recording, kubernetes_version: str | None,
           progress: Callable[[str], None], extensions: Sequence, crds: dict[str, dict]) -> RenderResult:
    result = RenderResult(out=out, recording=recording)
    redactor = Redactor(recording.secret_values)
    version = kubernetes_version or _kubernetes_version(recording, extensions)
    result.kubernetes_version = version
    object_checks = [e.object_problems for e in extensions if hasattr(e, "object_problems")]

    per_app: Counter[str] = Counter()
    written: dict[Path, str] = {}
    manifests: list[dict] = []  # as written (redacted): the summary describes exactly what is on disk
    # In URN order, not registration order: that follows the scheduling of the engine's tasks, and the files
    # should change only when the program asks for something else.
    by_urn = sorted(recording.resources, key=lambda r: r.urn)
    for resource in (r for r in by_urn if r.is_kubernetes_object):
        manifest = _ordered(redactor.manifest(resource.inputs, resource.secret_paths))
        relative = object_path(manifest, resource.name)
        label = f"{manifest.get('kind')}/{(manifest.get('metadata') or {}).get('name')}"
        if relative in written:
            result.errors.append(f"{relative}: {label}: two objects render to the same file ({written[relative]})")
            continue
        written[relative] = resource.name
        manifests.append(manifest)
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, default_flow_style=False))
        result.files.append(path)
        problems = validate_object(manifest, version, explicit_identity=False, crds=crds)
        problems += [problem for check in object_checks for problem in check(manifest)]
        for problem in problems:
            result.errors.append(f"{relative}: {label}: {problem}")
        labels = (manifest.get("metadata") or {}).get("labels") or {}
        per_app[labels.get(PART_OF) or (manifest.get("metadata") or {}).get("namespace") or "_cluster"] += 1
    result.objects = len(written)
    # What ingress-nginx would build from all of the stack's Ingresses: no app may take another's requests.
    for problem in shadowing(route_table(manifests)):
        result.errors.append(f"ingress routes: {problem}")

    others = []
    for resource in by_urn:
        if resource.is_kubernetes_object:
            continue
        others.append(
            {
                "type": resource.type,
                "name": resource.name,
                "parent": _parent_name(recording, resource),
                "provider": resource.provider_urn.split("::")[-1] if resource.provider_urn else None,
                "inputs": redactor.inputs(resource.inputs, resource.secret_paths),
            }
        )
    result.other_resources = len(others)
    (out / "resources.json").write_text(json.dumps(others, indent=2, sort_keys=True) + "\n")
    result.files.append(out / "resources.json")

    outputs = {
        key: (REDACTED if key in recording.secret_output_names else redactor.deep(value))
        for key, value in recording.stack_outputs.items()
    }
    summary = render_summary(stack, manifests, others, outputs)
    (out / "summary.md").write_text(redactor.text(summary))
    result.files.append(out / "summary.md")

    for app, count in sorted(per_app.items()):
        progress(f"  {app}: {count} Kubernetes objects")

    rendered = Rendered(stack=stack, out=out, recording=recording, result=result, progress=progress,
                        redact=redactor.text, manifests=manifests, resources=others)
    for extension in extensions:
        if hasattr(extension, "after_render"):
            extension.after_render(rendered)
    return result


def _kubernetes_version(recording: Recording, extensions: Sequence) -> str:
    """The first extension's answer, else the engine's default."""
    for extension in extensions:
        version = extension.kubernetes_version(recording) if hasattr(extension, "kubernetes_version") else None
        if version:
            return version
    return DEFAULT_KUBERNETES_VERSION
