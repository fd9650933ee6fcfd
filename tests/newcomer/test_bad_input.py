"""Bad input (issue 13): each gets one clear line naming the key or path, the value and what is allowed,
exit code 2 from the CLI, never a traceback, and nothing is silently accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
import pytest

from offline.__main__ import main
from offline.engine import SecretConfig, run_stack
from offline.render import MARKER, RenderOutputError, render
from offline.stack_config import StackConfigError, load_stack_config

PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s
if pulumi.Config("demo").get_bool("fail"):
    raise ValueError("demo:fail: the program stops here")
k8s.core.v1.ConfigMap("cm", metadata={"name": "cm", "namespace": "shop"}, data={"a": "b"})
"""


def _project(tmp_path: Path, stack_yaml: str = "config: {}\n") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text(stack_yaml)
    (project / "__main__.py").write_text(PROGRAM)
    return project


def _cli(argv: list[str], capsys, monkeypatch, project: Path | None = None) -> tuple[int, str]:
    import offline.__main__ as cli

    if project is not None:
        monkeypatch.setattr(cli, "PROJECT_DIR", project)
        monkeypatch.setattr("offline.render.PROJECT_DIR", project)
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return code, err[-1]


def _config_error(overrides: dict) -> str:
    # The program re-raises a ConfigError as a RunError: the one line `pulumi up` prints.
    with pytest.raises(pulumi.RunError) as error:
        run_stack("dev", overrides=overrides)
    message = str(error.value)
    assert "\n" not in message
    return message


# Command line --------------------------------------------------------------------------------------------

def test_out_naming_an_existing_file_is_one_line_and_leaves_the_file(tmp_path, capsys, monkeypatch):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, line = _cli(["render", "--stack", "dev", "--out", str(target)], capsys, monkeypatch, _project(tmp_path))
    assert code == 2
    assert line == f"error: --out {target}: exists and is not a folder (give a folder path, e.g. build/dev)"
    assert target.read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_out_under_an_unwritable_folder_is_one_line(tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, line = _cli(["render", "--stack", "dev", "--out", str(locked / "out")], capsys, monkeypatch,
                      _project(tmp_path))
    assert code == 2
    assert line.startswith(f"error: --out {locked / 'out'}: cannot create it: Permission denied")


def test_out_under_a_path_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    # Unwritable for root too: a file where a parent folder should be.
    (tmp_path / "file").write_text("")
    code, line = _cli(["render", "--stack", "dev", "--out", str(tmp_path / "file" / "out")], capsys, monkeypatch,
                      _project(tmp_path))
    assert code == 2
    assert line.startswith(f"error: --out {tmp_path / 'file' / 'out'}: cannot create it: ")


def test_config_docs_write_to_a_missing_file_is_one_line(tmp_path, capsys, monkeypatch):
    code, line = _cli(["config-docs", "--write", str(tmp_path / "NOPE.md")], capsys, monkeypatch)
    assert code == 2
    assert line == f"error: config-docs --write {tmp_path / 'NOPE.md'}: cannot read it: No such file or directory"
    assert not (tmp_path / "NOPE.md").exists()


# The output folder ---------------------------------------------------------------------------------------

def test_out_holding_files_the_render_did_not_write_is_refused_and_kept(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    code, line = _cli(["render", "--stack", "dev", "--out", str(out)], capsys, monkeypatch, _project(tmp_path))
    assert code == 2
    assert "holds files a render did not write (thesis.tex)" in line
    assert (out / "thesis.tex").read_text() == "years of work"


def test_a_render_marks_its_folder_and_replaces_it_whole_next_time(tmp_path):
    project, out = _project(tmp_path), tmp_path / "out"
    render("dev", out, project_dir=project, progress=lambda _: None)
    assert "result: valid" in (out / MARKER).read_text()
    (out / "k8s" / "shop" / "stale.yaml").write_text("kind: Stale\n")
    render("dev", out, project_dir=project, progress=lambda _: None)
    assert not (out / "k8s" / "shop" / "stale.yaml").exists()
    assert (out / "k8s" / "shop" / "configmap-cm.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no staging folder left


def test_a_failed_render_leaves_the_previous_output_as_it_was_and_no_partial_one(tmp_path):
    project, out = _project(tmp_path), tmp_path / "out"
    render("dev", out, project_dir=project, progress=lambda _: None)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (project / "Pulumi.broken.yaml").write_text("config:\n  demo:fail: true\n")
    with pytest.raises(Exception, match="demo:fail"):
        render("broken", out, project_dir=project, progress=lambda _: None)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]


def test_a_failed_first_render_leaves_no_output_folder(tmp_path):
    project = _project(tmp_path, "config:\n  demo:fail: true\n")
    with pytest.raises(Exception, match="demo:fail"):
        render("dev", tmp_path / "out", project_dir=project, progress=lambda _: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_a_folder_rendered_before_the_marker_existed_is_still_recognised(tmp_path):
    out = tmp_path / "out"
    (out / "k8s").mkdir(parents=True)
    (out / "summary.md").write_text("old")
    render("dev", out, project_dir=_project(tmp_path), progress=lambda _: None)
    assert (out / MARKER).is_file()


def test_check_out_refuses_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(RenderOutputError, match="is not a folder"):
        render("dev", tmp_path / "link", project_dir=_project(tmp_path), progress=lambda _: None)


# Stack files ---------------------------------------------------------------------------------------------

def test_duplicate_yaml_keys_are_refused_with_both_lines(tmp_path):
    project = _project(tmp_path, "config:\n  demo:a: 1\n  demo:a: 2\n")
    with pytest.raises(StackConfigError) as error:
        load_stack_config(project, "dev")
    assert str(error.value) == f"{project / 'Pulumi.dev.yaml'}:3:3: not valid YAML: duplicate key 'demo:a' (first at line 2)"


def test_duplicate_keys_inside_a_nested_map_are_refused(tmp_path):
    project = _project(tmp_path, "config:\n  demo:cluster:\n    nodeCount: 1\n    nodeCount: 3\n")
    with pytest.raises(StackConfigError, match=r"Pulumi.dev.yaml:4:5: not valid YAML: duplicate key 'nodeCount'"):
        load_stack_config(project, "dev")


def test_a_yaml_error_keeps_its_line_and_column(tmp_path):
    project = _project(tmp_path, "config:\n  demo:a: 1\n\tdemo:b: 2\n")
    with pytest.raises(StackConfigError, match=r"Pulumi.dev.yaml:3:1: not valid YAML: found character '\\t'"):
        load_stack_config(project, "dev")


def test_a_file_that_is_not_utf8_is_named(tmp_path, capsys, monkeypatch):
    project = _project(tmp_path)
    (project / "Pulumi.dev.yaml").write_bytes(b"config:\n  demo:a: \xff\n")
    code, line = _cli(["render", "--stack", "dev", "--out", str(tmp_path / "o")], capsys, monkeypatch, project)
    assert code == 2
    assert line == f"error: {project / 'Pulumi.dev.yaml'}:2: not UTF-8 text (invalid start byte 0xff)"


# Stack config --------------------------------------------------------------------------------------------

def test_a_typo_in_the_namespace_is_not_ignored():
    message = _config_error({"aks-microservice:cluster": {"nodeCount": 2}})
    assert message == ("aks-microservice:cluster: unknown config namespace 'aks-microservice' (did you mean "
                       "'aks-microservices'?): this program reads only aks-microservices:* keys")


@pytest.mark.parametrize("namespace", ["aks-microservice", "aks-micro-services", "AKS-Microservices", "aks_microservices"])
def test_namespaces_within_two_edits_of_ours_are_typos(namespace):
    assert "unknown config namespace" in _config_error({f"{namespace}:dataProtection": "false"})


def test_a_namespace_further_from_ours_is_someone_else_s():
    assert run_stack("dev", overrides={"aks-microservices-tools:mode": "x"}).resources


def test_the_providers_namespaces_are_not_typos():
    assert run_stack("dev", overrides={"kubernetes:enableServerSideApply": "true"}).resources


def test_a_clear_text_secret_is_refused_without_echoing_it():
    message = _config_error({"secrets": {"todoMysqlPassword": "hunter2-but-longer"}})
    assert message.startswith("aks-microservices:secrets.todoMysqlPassword: expected a Pulumi secret, got a "
                              "clear-text value (value hidden)")
    assert "pulumi config set --secret --path secrets.todoMysqlPassword" in message
    assert "hunter2" not in message


def test_the_same_secret_as_pulumi_secret_config_is_accepted():
    # Without Key Vault the password reaches the operator as a plain Kubernetes Secret.
    recording = run_stack("dev", overrides={"secrets": SecretConfig({"todoMysqlPassword": "hunter2-but-longer"}),
                                            "keyVault": {"enabled": False}})
    assert recording.k8s("Secret", "mysqlpwd", "todo")


@pytest.mark.parametrize(("key", "value", "minimum"), [("knoteMinioAccessKey", "ab", 3),
                                                       ("knoteMinioSecretKey", "seven77", 8)])
def test_minio_keys_shorter_than_minio_accepts_are_refused(key, value, minimum):
    message = _config_error({"secrets": SecretConfig({key: value})})
    assert message == (f"aks-microservices:secrets.{key}: expected a string of at least {minimum} characters, "
                       "got a str (value hidden: secret)")


def test_a_bad_azure_tag_is_named_and_the_map_is_not_dumped():
    message = _config_error({"azure": {"tags": {"owner": "me", "cost/centre": "42", "team": "x"}}})
    assert message == ("aks-microservices:azure.tags.cost/centre: expected a tag name of 1-512 characters, none of "
                       "<>%&\\?/, got 'cost/centre'")


def test_a_tag_value_too_long_is_named_and_shortened():
    message = _config_error({"azure": {"tags": {"owner": "x" * 300}}})
    assert message.startswith("aks-microservices:azure.tags.owner: expected a tag value: a string of at most 256")
    assert "(300 characters)" in message and "x" * 30 not in message


def test_more_tags_than_azure_allows_are_refused():
    # Azure: at most 50 tags per resource; the stack adds `project` and `stack`.
    assert run_stack("dev", overrides={"azure": {"tags": {f"t{i}": "v" for i in range(48)}}}).resources
    message = _config_error({"azure": {"tags": {f"t{i}": "v" for i in range(60)}}})
    assert message.startswith("aks-microservices:azure.tags: expected a map of at most 48 tags")
    assert "got 60 tags (Azure allows 50 tags per resource" in message


def test_an_unquoted_kubernetes_version_gets_the_hint_to_quote_it():
    message = _config_error({"kubernetesVersion": 1.30})
    assert message == ('aks-microservices:kubernetesVersion: expected a supported minor version from "1.27" to '
                       '"1.37", got "1.3" (an unquoted 1.30 in YAML is the number 1.3: quote it, '
                       'kubernetesVersion: "1.30")')


def test_a_version_that_quoting_would_not_fix_gets_no_hint():
    assert "quote it" not in _config_error({"kubernetesVersion": "1.9"})


def test_a_flat_dotted_key_is_told_to_nest():
    message = _config_error({"cluster.nodeCount": 2})
    assert message.startswith("aks-microservices:cluster.nodeCount: unknown key (a dotted key is not a path here: "
                              "nest it as `cluster:` with `nodeCount:` beneath, or use `pulumi config set --path "
                              "cluster.nodeCount <value>`)")


def test_a_host_with_a_64_character_label_names_the_config_key():
    host = "a" * 64 + ".example.com"
    message = _config_error({"apps": {"todo": {"host": host}}})
    assert message.startswith(f'aks-microservices:apps.todo.host: expected a DNS name such as todo.example.com '
                              f'(labels of at most 63 characters, 253 in all) or null, got "{host}"')
    assert "has 64 characters, at most 63" in message


def test_a_host_longer_than_253_characters_names_the_config_key_not_the_component_field():
    host = ".".join(["a" * 60] * 5)  # 304 characters, each label fine
    message = _config_error({"apps": {"todo": {"host": host}}})
    assert message.startswith("aks-microservices:apps.todo.host: expected a DNS name")
    assert "IngressRule" not in message


def test_a_63_character_label_is_accepted():
    host = "a" * 63 + ".example.com"
    recording = run_stack("dev", overrides={"apps": {"todo": {"host": host}}})
    assert recording.k8s("Ingress", "todo-web", "todo")["spec"]["rules"][0]["host"] == host


@pytest.mark.parametrize("size", ["0", "0Gi", "0.0Mi"])
def test_a_claim_of_size_zero_is_refused(size):
    message = _config_error({"apps": {"todo": {"mysqlStorageSize": size}}})
    assert message == (f"aks-microservices:apps.todo.mysqlStorageSize: expected a Kubernetes quantity greater than "
                       f'zero such as 500M or 5Gi, got "{size}"')
