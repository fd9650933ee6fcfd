"""The distribution `aks-microservices` installs, outside this repository, as `aks_microservices.components`
and `aks_microservices.offline`, and renders another team's Pulumi project with the documented command."""

from __future__ import annotations

import inspect
import json
import pydoc
import re
import subprocess
import textwrap
from email.parser import Parser
from pathlib import Path

import pytest
import yaml

import components

USER_PROGRAM = '''
import pulumi
from aks_microservices.components import HttpProbe, Resources, StatelessService, StatelessServiceArgs

config = pulumi.Config()
web = StatelessService("web", StatelessServiceArgs(
    namespace="shop", part_of="shop", component="frontend", deployment_name="web",
    image="nginxinc/nginx-unprivileged:1.27", port=8080, replicas=config.require_int("replicas"),
    readiness_probe=HttpProbe(path="/"), writable_paths=["/tmp", "/var/cache/nginx"],
    resources=Resources(cpu_request="50m", memory_request="64Mi", cpu_limit="200m", memory_limit="128Mi"),
))
pulumi.export("web", web.host)
'''

USER_TEST = '''
from pathlib import Path

from aks_microservices.offline.testing import run_project, validation_errors

PROJECT = Path(__file__).parents[1]


def test_the_web_deployment_runs_the_configured_replicas():
    recording = run_project(PROJECT, "dev", config={"replicas": 3})
    assert recording.k8s("Deployment", "web", "shop")["spec"]["replicas"] == 3
    assert validation_errors(recording) == []
'''


def user_project(root: Path) -> Path:
    """Another team's project: a Pulumi.yaml, a stack file and a program that uses one component."""
    project = root / "shop"
    (project / "tests").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: shop\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
    (project / "Pulumi.dev.yaml").write_text('config:\n  shop:replicas: "2"\n')
    (project / "__main__.py").write_text(USER_PROGRAM)
    (project / "tests" / "test_shop.py").write_text(USER_TEST)
    return project


def outside(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    # -I: no PYTHONPATH, no current folder on sys.path: only what the venv has installed.
    return subprocess.run([str(venv / "bin" / "python"), "-I", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_the_package_imports_as_aks_microservices_and_claims_no_top_level_components(venv, tmp_path):
    script = ("import importlib.util, aks_microservices.components as c, aks_microservices.offline.render as r; "
              "print(c.__file__); print(','.join(c.__all__)); "
              "print(importlib.util.find_spec('components'), importlib.util.find_spec('offline'))")
    result = outside(venv, "-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path, names, top_level = result.stdout.splitlines()
    assert path.startswith(str(venv))
    assert names.split(",") == list(components.__all__)
    assert top_level == "None None"


def test_the_installed_package_declares_its_dependencies_and_ships_type_information(venv):
    [dist_info] = venv.glob("lib/python*/site-packages/aks_microservices-*.dist-info")
    metadata = Parser().parsestr((dist_info / "METADATA").read_text())
    assert metadata["Name"] == "aks-microservices"
    requires = metadata.get_all("Requires-Dist")

    def names(extra: str | None) -> set[str]:
        return {re.split(r"[<>=!~;\s]", r, maxsplit=1)[0] for r in requires
                if (f'extra == "{extra}"' in r if extra else "extra" not in r)}

    plain, offline = names(None), names("offline")
    assert plain == {"pulumi", "pulumi-kubernetes", "pulumi-random"}
    assert {"pyyaml", "jsonschema", "kubernetes-validate"} <= offline
    top_level = (dist_info / "top_level.txt").read_text().split() if (dist_info / "top_level.txt").exists() else []
    assert "components" not in top_level and "offline" not in top_level
    [site] = venv.glob("lib/python*/site-packages")
    assert (site / "aks_microservices" / "components" / "py.typed").is_file()
    assert (site / "aks_microservices" / "offline" / "py.typed").is_file()
    assert list((site / "aks_microservices" / "offline" / "schemas" / "crds").glob("*.json"))


def test_the_documented_command_renders_and_validates_another_project(venv, tmp_path):
    project = user_project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = outside(venv, "-m", "aks_microservices.offline", "render", "--project", str(project), "--stack", "dev",
                     "--out", "out", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "rendered 5 Kubernetes objects and 1 other resources to out" in result.stderr
    assert result.stderr.rstrip().endswith(": valid")
    out = elsewhere / "out"
    deployment = yaml.safe_load((out / "k8s" / "shop" / "deployment-web.yaml").read_text())
    assert deployment["spec"]["replicas"] == 2  # from the project's own Pulumi.dev.yaml
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginxinc/nginx-unprivileged:1.27"
    assert sorted(p.name for p in (out / "k8s" / "shop").iterdir()) == [
        "deployment-web.yaml", "networkpolicy-web.yaml", "poddisruptionbudget-web.yaml", "service-web.yaml",
        "serviceaccount-web.yaml"]
    [component] = json.loads((out / "resources.json").read_text())
    assert component["type"] == "aks-microservices:components:StatelessService"
    assert "| web | Deployment | 2 |" in (out / "summary.md").read_text()
    # None of this repository's own parts: no GitOps Stack of it, no AKS capacity check, none of its apps.
    assert not (out / "gitops").exists()
    assert "capacity" not in result.stderr and "smilr" not in result.stderr


def test_the_command_run_outside_a_project_renders_nothing_and_says_to_pass_project(venv, tmp_path):
    result = outside(venv, "-m", "aks_microservices.offline", "render", "--stack", "dev", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: the current folder (pass --project DIR): {tmp_path} is not a Pulumi project (no Pulumi.yaml)"]
    assert not (tmp_path / "out").exists()


def test_this_repositorys_config_docs_command_outside_it_is_one_line(venv, tmp_path):
    result = outside(venv, "-m", "aks_microservices.offline", "config-docs", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: config-docs documents this repository's stack settings (settings/)")


def test_the_pytest_helper_runs_a_users_program_in_their_own_test_suite(venv, tmp_path):
    project = user_project(tmp_path)
    result = outside(venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_every_public_name_is_exported_and_documented():
    assert components.__doc__ and "components-contract" in components.__doc__
    for name in components.__all__:
        value = getattr(components, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            own = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
            assert own and own.strip(), f"components.{name} has no docstring"


@pytest.mark.parametrize("name", ["StatelessService", "AutoscaledApp", "StatefulStore", "ObjectStore",
                                  "NamespaceIsolation"])
def test_help_on_a_component_shows_its_own_documentation_not_pulumis(name):
    component = getattr(components, name)
    text = pydoc.render_doc(component, renderer=pydoc.plaintext)
    assert textwrap.dedent(component.__doc__).splitlines()[0].strip() in text
    # ComponentResource.__init__'s parameters (t, props, remote) are not this constructor's.
    assert ":param str t:" not in text and "remote" not in text
    assert "opts" in inspect.getdoc(component.__init__)


def test_the_public_api_holds_the_four_components_and_their_args():
    for name in ("StatelessService", "AutoscaledApp", "StatefulStore", "ObjectStore"):
        assert name in components.__all__ and f"{name}Args" in components.__all__
