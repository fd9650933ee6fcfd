"""Runtime, render and development requirements are split: `pulumi up` and `make render` install no test tools."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

from packaging.markers import Marker  # pytest depends on it

from offline.engine import PROJECT_DIR

TEST_TOOLS = {"pytest", "hypothesis", "ruff", "setuptools"}
PROGRAM_FOLDERS = ("infra", "components", "stacks", "settings")


def _pins(name: str, seen: set[str] | None = None) -> dict[str, str]:
    """Package -> version of a requirements file, following `-r` includes."""
    seen = seen if seen is not None else set()
    seen.add(name)
    pins: dict[str, str] = {}
    for line in (PROJECT_DIR / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(_pins(line[3:].strip(), seen))
        elif line:
            requirement, _, marker = line.partition(";")
            if marker and not Marker(marker.strip()).evaluate():
                continue  # e.g. tomli, only on Pythons without tomllib
            package, version = requirement.strip().split("==")
            pins[package.lower()] = version
    return pins


def _third_party_imports(paths: list[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text())
        # `except ModuleNotFoundError: import tomli as tomllib`: a fallback for older Pythons, not a dependency here.
        fallbacks = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Try)
                     for handler in node.handlers for inner in ast.walk(handler)}
        for node in ast.walk(tree):
            if id(node) in fallbacks:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    local = {*PROGRAM_FOLDERS, "offline", "tests", "policy", "scan", "bench"}
    return {n for n in names if n not in sys.stdlib_module_names and n not in local}


def _distributions(modules: set[str]) -> set[str]:
    by_module = importlib.metadata.packages_distributions()
    return {dist.lower().replace("_", "-") for module in modules for dist in by_module[module]}


def test_the_runtime_requirements_are_exactly_what_the_pulumi_program_imports():
    program = [PROJECT_DIR / "__main__.py", *(p for f in PROGRAM_FOLDERS for p in (PROJECT_DIR / f).rglob("*.py"))]
    assert _distributions(_third_party_imports(program)) == set(_pins("requirements.txt"))


def test_the_render_requirements_add_the_validation_packages_and_no_test_tool():
    render = _pins("requirements-render.txt")
    engine = _distributions(_third_party_imports(list((PROJECT_DIR / "offline").rglob("*.py"))))
    # `google.protobuf` (the distributions owning `google.*`) arrives with pulumi.
    assert engine - {"protobuf", "googleapis-common-protos"} <= set(render)
    assert not TEST_TOOLS & set(render)


def test_the_development_requirements_hold_the_test_tools_pinned_as_installed():
    dev = _pins("requirements-dev.txt")
    assert set(dev) >= TEST_TOOLS
    for package in TEST_TOOLS:
        assert importlib.metadata.version(package) == dev[package]


def test_make_render_installs_only_the_render_requirements():
    plan = subprocess.run(["make", "-n", "-B", "render"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          check=True).stdout
    installs = re.findall(r"pip install .*-r (\S+)", plan)
    assert installs == ["requirements-render.txt"]


def test_make_test_installs_the_development_requirements():
    plan = subprocess.run(["make", "-n", "-B", "test"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          check=True).stdout
    assert "-r requirements-dev.txt" in plan


def test_the_stated_minimum_python_is_the_highest_minimum_of_the_runtime_and_render_requirements():
    minimums = []
    for package in _pins("requirements-render.txt"):
        requires = importlib.metadata.metadata(package).get("Requires-Python") or ""
        found = re.search(r">=\s*3\.(\d+)", requires)
        minimums.append(int(found.group(1)) if found else 0)
    assert max(minimums) == 10
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "Python 3.10+" in readme and "3.11+" in readme


def test_make_help_lists_every_target_a_user_runs():
    listed = subprocess.run(["make", "help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout
    for target in ("render", "test", "lint", "docs", "scan", "bench", "clean"):
        assert re.search(rf"^make {target}\b", listed, re.MULTILINE), target


def test_the_readme_benchmark_table_and_ratios_are_the_ones_bench_results_md_holds():
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    readme = (PROJECT_DIR / "README.md").read_text()
    results = (PROJECT_DIR / "bench" / "results.md").read_text()
    assert readme.split(begin, 1)[1].split(end, 1)[0] == results.split(begin, 1)[1].split(end, 1)[0]


def test_the_benchmark_measures_cdk8s_plus_through_app_synth_writing_files():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert "app.synth()" in bench.CDK8S_CHILD and "synth_yaml" not in bench.CDK8S_CHILD
    assert bench.CDK8S_PATH == "app.synth()"


def test_a_first_make_render_says_what_it_installs_before_the_silent_install():
    plan = subprocess.run(["make", "-n", "-B", "render"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          check=True).stdout.splitlines()
    notice = next(i for i, line in enumerate(plan) if "echo" in line and "MB" in line and "minutes" in line)
    install = next(i for i, line in enumerate(plan) if "pip install" in line)
    assert notice < install
