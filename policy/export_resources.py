"""Export what stacks register, as the policy engine would see it, for the policy pack's tests.

Runs in the program's environment (.venv), not the pack's: `python policy/export_resources.py --out
build/policy dev prod local` runs each stack's real program through the offline engine and writes
`<out>/<stack>.json`, a list of `{type, name, urn, parent, custom, props}` where `props` are the resource's
inputs with every secret replaced by the render's redaction marker (a secret that leaked into another value
stays detectable there: it becomes the marker that the Secret itself carries).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def export(stack: str) -> list[dict]:
    from offline.engine import run_stack
    from offline.redact import Redactor

    recording = run_stack(stack)
    redactor = Redactor(recording.secret_values)
    exported = []
    for resource in recording.resources:
        if resource.is_kubernetes_object:
            props = redactor.manifest(resource.inputs, resource.secret_paths)
        else:
            props = redactor.inputs(resource.inputs, resource.secret_paths)
        exported.append({
            "type": resource.type,
            "name": resource.name,
            "urn": resource.urn,
            "parent": resource.parent_urn,
            "custom": resource.custom,
            "props": props,
        })
    return exported


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for <stack>.json")
    parser.add_argument("stacks", nargs="+", help="stack names (Pulumi.<stack>.yaml)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_DIR))
    args.out.mkdir(parents=True, exist_ok=True)
    for stack in args.stacks:
        resources = export(stack)
        (args.out / f"{stack}.json").write_text(json.dumps(resources, indent=1, sort_keys=True) + "\n")
        print(f"exported {len(resources)} resources of stack {stack!r} to {args.out / f'{stack}.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
