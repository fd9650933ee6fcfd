"""The engine renders any Pulumi Python project (`--project DIR`), with that project's own extensions only."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.__main__ import main
from offline.engine import PROJECT_DIR, program_file
from offline.render import render
from offline.stack_config import StackConfigError

PROGRAM = '''
import pulumi
import pulumi_kubernetes as k8s

k8s.core.v1.ConfigMap("settings", metadata={"name": "settings", "namespace": "team"},
                      data={"greeting": pulumi.Config().require("greeting")})
'''

CHECKS = '''
class Greeting:
    """Fails the render unless the greeting is polite, and writes a note of its own."""

    def kubernetes_version(self, recording):
        return "1.30"

    def after_render(self, rendered):
        [settings] = [m for m in rendered.manifests if m["kind"] == "ConfigMap"]
        greeting = settings["data"]["greeting"]
        assert greeting == rendered.recording.k8s("ConfigMap", "settings")["data"]["greeting"]
        rendered.write("notes/greeting.txt", greeting + "\\n")
        rendered.progress(f"greeting: {greeting}")
        if "please" not in greeting:
            rendered.error(f"greeting: {greeting!r} is not polite")


EXTENSIONS = [Greeting()]
'''


def team_project(root: Path, *, greeting: str = "hello, please", main: str | None = None,
                 extensions: bool = False) -> Path:
    project = root / "team"
    program_dir = project / main if main else project
    program_dir.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: team\nruntime: python\n" + (f"main: {main}\n" if main else ""))
    (project / "Pulumi.dev.yaml").write_text(f"config:\n  team:greeting: {greeting!r}\n")
    (program_dir / "__main__.py").write_text(PROGRAM)
    if extensions:
        (project / "team_checks.py").write_text(CHECKS)
        (project / "pyproject.toml").write_text('[tool.aks-microservices.offline]\nextensions = ["team_checks:EXTENSIONS"]\n')
    return project


def test_run_outside_any_project_it_renders_nothing_and_says_to_pass_project(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["render", "--stack", "dev", "--out", "out"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the current folder (pass --project DIR): {tmp_path} is not a Pulumi project (no Pulumi.yaml)")
    assert not (tmp_path / "out").exists()


def test_it_renders_the_project_of_the_current_folder_by_default(tmp_path, monkeypatch, capsys):
    project = team_project(tmp_path)
    monkeypatch.chdir(project)
    assert main(["render", "--stack", "dev", "--out", "out"]) == 0
    assert "greeting: hello, please" in (project / "out" / "k8s" / "team" / "configmap-settings.yaml").read_text()


def test_a_project_gets_its_own_extensions_and_none_of_this_repositorys(tmp_path, capsys):
    project = team_project(tmp_path, greeting="hello", extensions=True)
    out = tmp_path / "out"
    code = main(["render", "--project", str(project), "--stack", "dev", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "greeting: hello\n" in err and "greeting: 'hello' is not polite" in err
    assert (out / "notes" / "greeting.txt").read_text() == "hello\n"
    assert not (out / "gitops").exists() and "capacity" not in err


def test_the_first_extension_naming_a_kubernetes_version_selects_the_schemas(tmp_path):
    with_extension = render("dev", tmp_path / "a-out", project_dir=team_project(tmp_path / "a", extensions=True),
                            progress=lambda _: None)
    without = render("dev", tmp_path / "b-out", project_dir=team_project(tmp_path / "b"), progress=lambda _: None)
    assert (with_extension.kubernetes_version, without.kubernetes_version) == ("1.30", "1.33")
    assert with_extension.errors == [] == without.errors


def test_this_repository_gets_its_capacity_check_cost_and_gitops_stack_from_its_pyproject():
    from offline.extensions import load_extensions
    from offline.project import (
        CapacityCheck,
        CostEstimate,
        ExplicitIdentity,
        KubernetesVersionFromSettings,
        OperatorStack,
    )

    kinds = [type(extension) for extension in load_extensions(PROJECT_DIR)]
    assert kinds == [KubernetesVersionFromSettings, ExplicitIdentity, OperatorStack, CostEstimate, CapacityCheck]


def test_the_program_is_found_where_pulumi_yaml_main_says(tmp_path):
    project = team_project(tmp_path, main="src")
    assert program_file(project) == project / "src" / "__main__.py"
    result = render("dev", tmp_path / "out", project_dir=project, progress=lambda _: None)
    assert result.objects == 1 and result.errors == []


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("name: team\nruntime: nodejs\n", "runtime: the offline engine runs Python programs, got 'nodejs'"),
    ("name: team\nruntime: python\nmain: app.py\n", "main: 'app.py': no Python program at"),
])
def test_a_project_the_engine_cannot_run_is_one_line(tmp_path, yaml_text, message, capsys):
    project = team_project(tmp_path)
    (project / "Pulumi.yaml").write_text(yaml_text)
    with pytest.raises(StackConfigError, match=message):
        program_file(project)
    assert main(["render", "--project", str(project), "--stack", "dev", "--out", str(tmp_path / "out")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and message in line


@pytest.mark.parametrize(("pyproject", "message"), [
    ('[tool.aks-microservices.offline]\nextensions = "team_checks"\n', "expected a list of 'module:attribute'"),
    ('[tool.aks-microservices.offline]\nextensions = ["team_checks"]\n', "expected 'module:attribute'"),
    ('[tool.aks-microservices.offline]\nextensions = ["no_such_module:X"]\n', "cannot import no_such_module"),
    ('[tool.aks-microservices.offline]\nextensions = ["team_checks:Missing"]\n', "team_checks has no 'Missing'"),
])
def test_a_bad_extension_entry_is_one_line_naming_it(tmp_path, pyproject, message, capsys):
    project = team_project(tmp_path, extensions=True)
    (project / "pyproject.toml").write_text(pyproject)
    code = main(["render", "--project", str(project), "--stack", "dev", "--out", str(tmp_path / "out")])
    [line] = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert line.startswith(f"error: {project / 'pyproject.toml'}: ") and message in line


def test_an_unknown_kubernetes_version_is_one_line(tmp_path, capsys):
    project = team_project(tmp_path)
    code = main(["render", "--project", str(project), "--stack", "dev", "--out", str(tmp_path / "out"),
                 "--kubernetes-version", "1.3"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: --kubernetes-version: '1.3' is not a Kubernetes minor version the validator has schemas for (e.g. 1.33)")


AUTO_NAMED = '''
import pulumi_kubernetes as k8s

k8s.core.v1.ConfigMap("first", data={"a": "1"})
k8s.core.v1.ConfigMap("second", data={"b": "2"})
'''


def test_objects_left_to_the_providers_auto_naming_render_by_resource_name_and_are_valid_elsewhere(tmp_path):
    project = team_project(tmp_path)
    (project / "__main__.py").write_text(AUTO_NAMED)
    result = render("dev", tmp_path / "out", project_dir=project, progress=lambda _: None)
    assert result.errors == []
    assert sorted(p.name for p in (tmp_path / "out" / "k8s" / "_default").iterdir()) == [
        "configmap-first.yaml", "configmap-second.yaml"]


def test_this_repositorys_extension_requires_explicit_names_and_namespaces(tmp_path):
    from offline.project import ExplicitIdentity

    project = team_project(tmp_path)
    (project / "__main__.py").write_text(AUTO_NAMED)
    result = render("dev", tmp_path / "out", project_dir=project, progress=lambda _: None,
                    extensions=[ExplicitIdentity()])
    assert "k8s/_default/configmap-first.yaml: ConfigMap/None: metadata.name must be set explicitly (object names " \
           "are part of the contract)" in result.errors
    assert len(result.errors) == 4  # a name and a namespace, for each


WIDGET_CRD = '''
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, minimum: 1}
'''

WIDGETS = '''
import pulumi_kubernetes as k8s

k8s.apiextensions.CustomResource("good", api_version="example.com/v1", kind="Widget",
                                 metadata={"name": "good", "namespace": "team"}, spec={"size": 2})
k8s.apiextensions.CustomResource("bad", api_version="example.com/v1", kind="Widget",
                                 metadata={"name": "bad", "namespace": "team"}, spec={"size": 0, "colour": "red"})
'''


def test_a_project_names_the_crds_its_custom_resources_are_validated_against(tmp_path):
    project = team_project(tmp_path)
    (project / "__main__.py").write_text(WIDGETS)
    unknown = render("dev", tmp_path / "a", project_dir=project, progress=lambda _: None)
    assert all("no schema for example.com/v1 Widget" in error for error in unknown.errors) and len(unknown.errors) == 2
    (project / "crds").mkdir()
    (project / "crds" / "widgets.yaml").write_text(WIDGET_CRD)
    (project / "pyproject.toml").write_text('[tool.aks-microservices.offline]\ncrds = ["crds"]\n')
    result = render("dev", tmp_path / "b", project_dir=project, progress=lambda _: None)
    assert [e.split(": ", 2)[1] for e in result.errors] == ["Widget/bad", "Widget/bad"]
    assert any("spec.size: 0 is less than the minimum of 1" in e for e in result.errors)
    assert any("'colour' was unexpected" in e for e in result.errors)


def test_a_crds_entry_naming_nothing_is_one_line(tmp_path, capsys):
    project = team_project(tmp_path)
    (project / "pyproject.toml").write_text('[tool.aks-microservices.offline]\ncrds = ["missing"]\n')
    assert main(["render", "--project", str(project), "--stack", "dev", "--out", str(tmp_path / "out")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith("crds: 'missing': no such file or folder in " + str(project))
