"""Run Checkov on the rendered manifests and apply the per-object skips of scan/checkov-skips.yaml.

    python scan/checkov_scan.py --manifests build/dev/k8s --skips scan/checkov-skips.yaml \
        --checkov .venv-scan/bin/checkov
    python scan/checkov_scan.py --framework arm --manifests build/prod/arm --skips scan/checkov-arm-skips.yaml \
        --checkov .venv-scan/bin/checkov

With `--framework arm` the folder holds the ARM template of a stack's Azure resources (scan/arm_template.py)
and a skip names one check on one Azure resource as Checkov names it (`<ARM type>.<ARM name>`, e.g.
`Microsoft.ContainerService/managedClusters.aks-microservices-prod`).

Checkov runs offline (no download of external checks, no platform mapping, no version check) with its
kubernetes framework and JSON output. Its own `--skip-check` skips a check everywhere; here a skip names one
check on one object (`Kind/namespace/name`, or `Kind/name` for cluster-scoped objects) with the reason it is
accepted, so a new workload never inherits an exception. Prints the counts of passed, failed and skipped
checks, each unskipped failure, and each skip that no longer matches a failure (the check passes now: delete
the skip). Exit codes: 0 no unskipped failure; 1 unskipped failures, parsing errors or nothing scanned;
2 bad skip file or Checkov did not run.

Runs with the project's Python (it needs only PyYAML); Checkov lives in its own virtualenv because its
dependencies conflict with the Pulumi program's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHECK_ID = re.compile(r"CKV2?_K8S_[0-9]+")
# Kind/namespace/name for namespaced objects, Kind/name for cluster-scoped ones.
OBJECT_REF = re.compile(r"[A-Z][A-Za-z0-9]*(/[a-z0-9]([-a-z0-9.]*[a-z0-9])?){1,2}")


@dataclass(frozen=True)
class Framework:
    name: str
    check_id: re.Pattern[str]
    object_ref: re.Pattern[str]
    check_example: str
    ref_example: str
    nothing_scanned: str


FRAMEWORKS = {
    "kubernetes": Framework(
        "kubernetes", CHECK_ID, OBJECT_REF, "a Kubernetes check id such as CKV_K8S_43", "Kind/namespace/name",
        "checkov scanned no Kubernetes object: render first (make render)",
    ),
    "arm": Framework(
        "arm",
        re.compile(r"CKV2?_AZURE_[0-9]+"),
        # <ARM resource type>.<ARM name>, the way Checkov's ARM runner names a resource.
        re.compile(r"Microsoft\.[A-Za-z]+(/[A-Za-z]+)+\.[-\w.()/]+"),
        "an Azure check id such as CKV_AZURE_6",
        "<ARM type>.<name> such as Microsoft.ContainerRegistry/registries.myacr",
        "checkov scanned no Azure resource: write the ARM template first (scan/arm_template.py)",
    ),
}
# Offline: no download of external checks, no mapping to the platform, no check for a newer release.
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}


class SkipFileError(Exception):
    """The skip file is malformed; the message names the file, the entry and the problem."""


@dataclass(frozen=True)
class Skip:
    check: str
    obj: str
    reason: str


@dataclass(frozen=True)
class Failure:
    check: str
    name: str
    obj: str
    file: str

    def __str__(self) -> str:
        return f"FAILED {self.check} {self.obj}: {self.name} ({self.file})"


@dataclass(frozen=True)
class Outcome:
    passed: int
    failed: list[Failure]
    skipped: list[tuple[Failure, Skip]]
    checkov_skipped: int
    unused_skips: list[Skip]
    parsing_errors: int
    resources: int
    framework: Framework = FRAMEWORKS["kubernetes"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.parsing_errors and self.resources > 0

    def report(self) -> list[str]:
        lines = [str(f) for f in sorted(self.failed, key=lambda f: (f.check, f.obj))]
        lines += [f"unused skip: {s.check} {s.obj} (the check passes now: delete it from the skip file)"
                  for s in self.unused_skips]
        if self.parsing_errors:
            lines.append(f"checkov could not parse {self.parsing_errors} file(s)")
        if not self.resources:
            lines.append(self.framework.nothing_scanned)
        skipped = len(self.skipped) + self.checkov_skipped
        lines.append(f"checkov: {self.passed} passed, {len(self.failed)} failed, {skipped} skipped "
                     f"({len(self.skipped)} by the skip file) on {self.resources} resources")
        return lines


def load_skips(path: Path, framework: Framework = FRAMEWORKS["kubernetes"]) -> list[Skip]:
    """Entries `{check, objects: [...], reason}`; each (check, object) pair at most once."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise SkipFileError(f"{path}: cannot read: {str(error).splitlines()[0]}") from None
    entries = (data or {}).get("skips") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SkipFileError(f"{path}: expected a mapping with a list under 'skips'")
    skips: list[Skip] = []
    seen: set[tuple[str, str]] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: skips[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"check", "objects", "reason"}:
            raise SkipFileError(f"{where}: expected exactly the keys check, objects, reason")
        check, objects, reason = entry["check"], entry["objects"], entry["reason"]
        if not isinstance(check, str) or not framework.check_id.fullmatch(check):
            raise SkipFileError(f"{where}: check: expected {framework.check_example}, got {check!r}")
        if not isinstance(reason, str) or len(reason.split()) < 5:
            raise SkipFileError(f"{where}: reason: expected a sentence saying why the finding is accepted")
        if not isinstance(objects, list) or not objects:
            raise SkipFileError(f"{where}: objects: expected a non-empty list of {framework.ref_example}")
        for obj in objects:
            if not isinstance(obj, str) or not framework.object_ref.fullmatch(obj):
                raise SkipFileError(f"{where}: objects: expected {framework.ref_example} (no wildcards), got {obj!r}")
            if (check, obj) in seen:
                raise SkipFileError(f"{where}: {check} {obj} is skipped twice")
            seen.add((check, obj))
            skips.append(Skip(check, obj, " ".join(reason.split())))
    return skips


def object_ref(manifest: Mapping[str, Any]) -> str:
    metadata = manifest.get("metadata") or {}
    parts = [manifest.get("kind"), metadata.get("namespace"), metadata.get("name")]
    return "/".join(str(p) for p in parts if p)


def _manifest_ref(file: str, cache: dict[str, str]) -> str:
    if file not in cache:
        try:
            cache[file] = object_ref(yaml.safe_load(Path(file).read_text()) or {})
        except (OSError, yaml.YAMLError):
            cache[file] = file
    return cache[file]


def _reports(raw: Any) -> list[Mapping[str, Any]]:
    # One framework: an object; several: a list; nothing to scan: a bare summary.
    reports = raw if isinstance(raw, list) else [raw]
    return [r for r in reports if isinstance(r, dict)]


def evaluate(raw: Any, skips: Iterable[Skip], ref_of=None, framework: Framework = FRAMEWORKS["kubernetes"]) -> Outcome:
    """Apply the skips to Checkov's JSON output. `ref_of(check_result) -> object ref` defaults to reading
    the object from the result's manifest file (the render writes one object per file); for ARM, to the
    resource as Checkov names it."""
    cache: dict[str, str] = {}
    if ref_of is None and framework.name == "arm":
        def ref_of(result: Mapping[str, Any]) -> str:
            return str(result.get("resource", "?"))
    if ref_of is None:
        def ref_of(result: Mapping[str, Any]) -> str:
            return _manifest_ref(result.get("file_abs_path") or result.get("file_path", ""), cache)

    by_pair = {(s.check, s.obj): s for s in skips}
    used: set[tuple[str, str]] = set()
    passed = checkov_skipped = parsing_errors = resources = 0
    failed: list[Failure] = []
    skipped: list[tuple[Failure, Skip]] = []
    for report in _reports(raw):
        summary = report.get("summary", report)
        passed += int(summary.get("passed", 0))
        checkov_skipped += int(summary.get("skipped", 0))
        parsing_errors += int(summary.get("parsing_errors", 0))
        resources += int(summary.get("resource_count", 0))
        for result in (report.get("results") or {}).get("failed_checks") or []:
            failure = Failure(result.get("check_id", "?"), result.get("check_name", ""), ref_of(result),
                              result.get("file_path", ""))
            skip = by_pair.get((failure.check, failure.obj))
            if skip is None:
                failed.append(failure)
            else:
                used.add((skip.check, skip.obj))
                skipped.append((failure, skip))
    unused = [s for pair, s in by_pair.items() if pair not in used]
    return Outcome(passed, failed, skipped, checkov_skipped, unused, parsing_errors, resources, framework)


def run_checkov(checkov: str, manifests: Path, framework: str = "kubernetes") -> Any:
    # An absolute directory: Checkov then reports correct absolute file paths (a relative one is doubled).
    command = [checkov, "--directory", str(manifests.resolve()), "--framework", framework, "--skip-download",
               "--output", "json"]
    env = {**os.environ, **CHECKOV_ENV}
    # Exit code 1 only means "some check failed": the JSON says which.
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"checkov did not produce a JSON report (exit {done.returncode}): {detail}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="checkov_scan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifests", type=Path, default=Path("build/dev/k8s"))
    parser.add_argument("--skips", type=Path, default=Path(__file__).with_name("checkov-skips.yaml"))
    parser.add_argument("--checkov", default=".venv-scan/bin/checkov")
    parser.add_argument("--framework", choices=sorted(FRAMEWORKS), default="kubernetes")
    args = parser.parse_args(argv)
    framework = FRAMEWORKS[args.framework]
    try:
        skips = load_skips(args.skips, framework)
        if not args.manifests.is_dir():
            print(f"error: no manifests at {args.manifests}: run make render first", file=sys.stderr)
            return 2
        raw = run_checkov(args.checkov, args.manifests, framework.name)
    except (SkipFileError, RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    outcome = evaluate(raw, skips, framework=framework)
    for line in outcome.report():
        print(line)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
