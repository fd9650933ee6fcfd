"""The README's Reuse section, as written: its files make a project, its command renders it with the package
installed in a fresh virtualenv, its extension runs, its test passes."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from offline.engine import PROJECT_DIR

FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def reuse_section() -> str:
    text = (PROJECT_DIR / "README.md").read_text()
    return text.split("\n## Reuse\n", 1)[1].split("\n## ", 1)[0]


def snippets() -> list[tuple[str, str]]:
    return FENCE.findall(reuse_section())


def files() -> dict[str, str]:
    """The snippets that are files: the first line names them (`# Pulumi.yaml`)."""
    named = {}
    for language, body in snippets():
        first = body.splitlines()[0]
        if language in ("yaml", "python", "toml") and first.startswith("# "):
            named[first[2:].strip()] = body
    return named


def commands(word: str) -> list[list[str]]:
    return [shlex.split(line.split("#", 1)[0]) for language, body in snippets() if language == "sh"
            for line in body.splitlines() if line.startswith(word)]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "shop"
    for name, body in files().items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root


def run_in(venv: Path, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    assert argv[0] == "python"
    return subprocess.run([str(venv / "bin" / "python"), "-I", *argv[1:]], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_the_section_holds_a_whole_project_a_command_an_extension_and_a_test():
    assert set(files()) == {"Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py", "pyproject.toml", "render_checks.py",
                            "tests/test_shop.py"}
    [render] = commands("python -m aks_microservices.offline")
    assert render[3:] == ["render", "--project", ".", "--stack", "dev", "--out", "build/dev"]


def test_the_install_commands_name_the_distribution_and_the_extra_the_suite_installs():
    installs = commands("pip install")
    assert installs[0] == ["pip", "install", "aks-microservices[offline] @ git+https://github.com/OWNER/REPO.git@main"]
    assert installs[1][2].endswith("[offline]")  # tests/examples/conftest.py installs "<copy>[offline]"
    assert 'name = "aks-microservices"' in (PROJECT_DIR / "pyproject.toml").read_text()


def test_the_command_renders_and_validates_the_sections_project(venv, project):
    [render] = commands("python -m aks_microservices.offline")
    result = run_in(venv, render, project)
    assert result.returncode == 0, result.stderr
    assert result.stderr.rstrip().endswith(": valid")
    deployment = yaml.safe_load((project / "build" / "dev" / "k8s" / "shop" / "deployment-web.yaml").read_text())
    assert deployment["spec"]["replicas"] == 2
    assert {"resources.json", "summary.md"} <= {p.name for p in (project / "build" / "dev").iterdir()}


def test_the_sections_extension_fails_a_stack_it_was_written_against(venv, project):
    (project / "Pulumi.one.yaml").write_text('config:\n  shop:replicas: "1"\n')
    [render] = commands("python -m aks_microservices.offline")
    result = run_in(venv, [*render[:-4], "--stack", "one", "--out", "build/one"], project)
    assert result.returncode == 1
    assert "Deployment/web: 1 replica, at least 2 wanted" in result.stderr


def test_the_sections_test_passes_with_pytest(venv, project):
    result = run_in(venv, ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
