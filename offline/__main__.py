"""Command line of the offline engine: `python -m offline render --stack dev --out build/dev`.

`render` renders the Pulumi project of `--project` (default: the current folder, as for the Pulumi CLI): its
`Pulumi.yaml`, `Pulumi.<stack>.yaml` and program, plus the render extensions its pyproject.toml names
(extensions.py). Installed from the package, the same command is `python -m aks_microservices.offline`.
`config-docs` is this repository's: it documents its settings (`settings/`).

Exit codes: 0 rendered and valid; 1 rendered but invalid (each problem printed as `path: kind/name: message`);
2 bad usage, unknown stack, unreadable or invalid config (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engine import PROJECT_DIR as REPOSITORY_DIR
from .extensions import ExtensionError, load_crds, load_extensions
from .render import RenderOutputError
from .stack_config import StackConfigError, available_stacks

# --project's default: None is the current folder (tests point it at a project of their own).
PROJECT_DIR: Path | None = None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line instead of usage + traceback
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    prog = "python -m aks_microservices.offline" if __package__ == "aks_microservices.offline" else "python -m offline"
    parser = _Parser(prog=prog, description="Run a Pulumi Python program offline under mocks.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    render = commands.add_parser("render", help="render a stack's desired state to files and validate it")
    render.add_argument("--project", type=Path, metavar="DIR",
                        help="the Pulumi project's folder, holding Pulumi.yaml (default: the current folder)")
    render.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    render.add_argument("--out", required=True, type=Path, help="output folder, e.g. build/dev")
    render.add_argument("--kubernetes-version", metavar="1.N",
                        help="validate against this Kubernetes minor version (default: the project's extensions', "
                             "else 1.33)")
    docs = commands.add_parser("config-docs", help="print the stack config reference as a Markdown table")
    docs.add_argument("--write", type=Path, metavar="README",
                      help="replace the tables between the markers in README: the config table and, where its "
                           "markers are, the stacks' cost estimates")
    return parser


README_BEGIN = "<!-- config-docs:begin -->"
README_END = "<!-- config-docs:end -->"
COST_BEGIN = "<!-- cost-estimates:begin -->"
COST_END = "<!-- cost-estimates:end -->"


def config_table() -> str:
    from settings import describe_all

    lines = ["| key | allowed | default | what it does |", "| --- | --- | --- | --- |"]
    for doc in describe_all():
        allowed = doc.allowed.replace("|", "\\|")
        lines.append(f"| `{doc.key}` | {allowed} | `{doc.default}` | {doc.doc} |")
    return "\n".join(lines) + "\n"


def _config_docs(readme: Path | None) -> int:
    table = config_table()
    if readme is None:
        print(table, end="")
        return 0
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        print(f"error: config-docs --write {readme}: cannot read it: {why}", file=sys.stderr)
        return 2
    if README_BEGIN not in text or README_END not in text:
        print(f"error: {readme} has no {README_BEGIN} ... {README_END} markers", file=sys.stderr)
        return 2
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    if COST_BEGIN in tail and COST_END in tail:  # the environments' cost estimates, from the stacks themselves
        from .cost import readme_table

        before, rest = tail.split(COST_BEGIN, 1)
        _, after = rest.split(COST_END, 1)
        tail = f"{before}{COST_BEGIN}\n{readme_table(REPOSITORY_DIR, available_stacks(REPOSITORY_DIR))}{COST_END}{after}"
    try:
        readme.write_text(f"{head}{README_BEGIN}\n{table}{README_END}{tail}", encoding="utf-8")
    except OSError as exc:
        print(f"error: config-docs --write {readme}: cannot write it: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


def _render(project: Path | None, stack: str, out: Path, kubernetes_version: str | None) -> int:
    from .engine import program_file
    from .render import render

    project_dir = (project or PROJECT_DIR or Path.cwd()).resolve()
    if not (project_dir / "Pulumi.yaml").is_file():
        where = "--project" if project else "the current folder (pass --project DIR)"
        print(f"error: {where}: {project_dir} is not a Pulumi project (no Pulumi.yaml)", file=sys.stderr)
        return 2
    if stack not in available_stacks(project_dir):
        known = ", ".join(available_stacks(project_dir)) or "none"
        print(f"error: unknown stack {stack!r} (no Pulumi.{stack}.yaml in {project_dir}; stacks: {known})",
              file=sys.stderr)
        return 2
    if kubernetes_version is not None:
        from .validate import supported_version

        if not supported_version(kubernetes_version):
            print(f"error: --kubernetes-version: {kubernetes_version!r} is not a Kubernetes minor version the "
                  "validator has schemas for (e.g. 1.33)", file=sys.stderr)
            return 2
    # A project that is not Python, has no program or names a bad extension: one line, before running anything.
    program_file(project_dir)
    extensions = load_extensions(project_dir)
    crds = load_crds(project_dir)
    print(f"rendering stack {stack!r} to {out}", file=sys.stderr)
    # One render per process: its heap is never worth a last garbage-collection pass.
    result = render(stack, out, project_dir=project_dir, collect_garbage=False, kubernetes_version=kubernetes_version,
                    extensions=extensions, crds=crds)
    for error in result.errors:
        print(error, file=sys.stderr)
    verdict = "valid" if not result.errors else f"{len(result.errors)} validation errors"
    print(
        f"rendered {result.objects} Kubernetes objects and {result.other_resources} other resources to {out} "
        f"in {result.seconds:.1f}s: {verdict}",
        file=sys.stderr,
    )
    return 0 if not result.errors else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "config-docs":
            import importlib.util

            if importlib.util.find_spec("settings") is None:  # the installed package, outside this repository
                print("error: config-docs documents this repository's stack settings (settings/), which are not "
                      "on the path: run it from a checkout of the repository", file=sys.stderr)
                return 2
            return _config_docs(args.write)
        return _render(args.project, args.stack, args.out, args.kubernetes_version)
    except (StackConfigError, ExtensionError, RenderOutputError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a RunError/ConfigError/ValueError from the program: bad input
        import pulumi

        if isinstance(error, (pulumi.RunError, ValueError)):
            print(f"error: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
