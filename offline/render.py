"""Render a stack's complete desired state to files, then validate it.

Writes, under OUT:
- `k8s/<namespace>/<kind>-<name>.yaml`, one Kubernetes object per file (cluster-scoped in `k8s/_cluster/`),
  ready for `kubectl apply -f` (Secrets carry redaction markers instead of values);
- `resources.json`, every other resource (Azure, random, Helm releases, providers) as
  `{type, name, parent, provider, inputs}`, in URN order;
- `summary.md`, a readable account of the stack (see summary.py);
- whatever the project's render extensions add (extensions.py). This repository's (project.py) add
  `gitops/stack.yaml`, the Pulumi Kubernetes Operator `Stack` that deploys it from git (see gitops.py), and
  fail the render when the apps do not fit the node pools (capacity.py).

Every part here works for any Pulumi Python project; nothing of this repository's applies to another one.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .capacity import CapacityReport
from .engine import PROJECT_DIR, RecordedResource, Recording, run_stack
from .extensions import Rendered, load_crds, load_extensions
from .redact import REDACTED, Redactor
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


def render(
    stack: str,
    out: Path,
    *,
    project_dir: Path = PROJECT_DIR,
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
    those the project's pyproject.toml names) add custom resource schemas to the bundled ones."""
    started = time.perf_counter()
    extensions = load_extensions(project_dir) if extensions is None else list(extensions)
    crds = load_crds(project_dir) if crds is None else crds
    recording = run_stack(stack, project_dir=project_dir, collect_garbage=collect_garbage)
    result = RenderResult(out=out, recording=recording)
    redactor = Redactor(recording.secret_values)
    version = kubernetes_version or _kubernetes_version(recording, extensions)
    result.kubernetes_version = version
    object_checks = [e.object_problems for e in extensions if hasattr(e, "object_problems")]

    k8s_dir = out / "k8s"
    if k8s_dir.exists():
        shutil.rmtree(k8s_dir)  # stale objects from an earlier render must not survive
    out.mkdir(parents=True, exist_ok=True)

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
                        redact=redactor.text, manifests=manifests)
    for extension in extensions:
        if hasattr(extension, "after_render"):
            extension.after_render(rendered)
    result.seconds = time.perf_counter() - started
    return result


def _kubernetes_version(recording: Recording, extensions: Sequence) -> str:
    """The first extension's answer, else the engine's default."""
    for extension in extensions:
        version = extension.kubernetes_version(recording) if hasattr(extension, "kubernetes_version") else None
        if version:
            return version
    return DEFAULT_KUBERNETES_VERSION
