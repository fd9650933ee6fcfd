"""The render command on a small synthetic project, so each rule is checked in isolation."""

import base64
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from offline.__main__ import main
from offline.redact import REDACTED, REDACTED_B64
from offline.render import render

PROGRAM = '''
import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

config = pulumi.Config("demo")
password = random.RandomPassword("db-password", length=32, special=False)
k8s.core.v1.Namespace("ns", metadata={"name": "shop"})
k8s.core.v1.Secret("db", metadata={"name": "db", "namespace": "shop"}, string_data={"password": password.result})
k8s.core.v1.Secret("b64", metadata={"name": "b64", "namespace": "shop"},
                   data={"password": password.result.apply(lambda p: __import__("base64").b64encode(p.encode()).decode())})
k8s.apps.v1.Deployment("web", metadata={"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/part-of": "shop"}},
    spec={"selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}},
                       "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                "env": [{"name": "DB", "value": password.result.apply(lambda p: f"postgres://u:{p}@db")}]
                                                + EXTRA_FIELD}]}}})
k8s.core.v1.Service("web-svc", metadata={"name": "web", "namespace": "shop"},
    spec={"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]})
k8s.storage.v1.StorageClass("disk", metadata={"name": "disk"}, provisioner="disk.csi.azure.com")
pulumi.export("token", config.require_secret("token"))
pulumi.export("password", password.result)
'''


def _project(tmp_path: Path, extra_field: str = "[]") -> Path:
    project = tmp_path / "project"
    project.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config:\n  demo:token:\n    secure: v1:abcdef\n")
    (project / "__main__.py").write_text(PROGRAM.replace("+ EXTRA_FIELD", "") if extra_field == "[]" else
                                         PROGRAM.replace("EXTRA_FIELD}", "[]}").replace('"image": "nginx:1.27",', f'"image": "nginx:1.27", {extra_field},'))
    return project


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    result = render("dev", tmp / "out", project_dir=_project(tmp), progress=lambda _: None)
    return result


def test_each_object_is_written_to_its_namespace_folder_as_kind_dash_name(rendered):
    files = sorted(str(p.relative_to(rendered.out)) for p in (rendered.out / "k8s").rglob("*.yaml"))
    assert files == [
        "k8s/_cluster/namespace-shop.yaml",
        "k8s/_cluster/storageclass-disk.yaml",
        "k8s/shop/deployment-web.yaml",
        "k8s/shop/secret-b64.yaml",
        "k8s/shop/secret-db.yaml",
        "k8s/shop/service-web.yaml",
    ]


def test_files_start_with_api_version_kind_and_metadata(rendered):
    text = (rendered.out / "k8s/shop/service-web.yaml").read_text()
    assert text.splitlines()[:2] == ["apiVersion: v1", "kind: Service"]
    assert yaml.safe_load(text)["metadata"] == {"name": "web", "namespace": "shop"}


def test_no_generated_or_configured_secret_appears_anywhere_in_the_output(rendered):
    secrets = rendered.recording.secret_values
    assert len(secrets) >= 2  # the generated password and the secure config placeholder
    for path in rendered.out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for secret in secrets:
                assert secret not in text, f"{secret[:3]}... leaked into {path}"
                assert base64.b64encode(secret.encode()).decode() not in text


def test_secret_objects_stay_valid_with_redaction_markers(rendered):
    plain = yaml.safe_load((rendered.out / "k8s/shop/secret-db.yaml").read_text())
    encoded = yaml.safe_load((rendered.out / "k8s/shop/secret-b64.yaml").read_text())
    assert plain["stringData"] == {"password": REDACTED}
    assert encoded["data"] == {"password": REDACTED_B64}
    assert base64.b64decode(encoded["data"]["password"]).decode() == REDACTED


def test_a_value_computed_from_a_secret_is_redacted_whole(rendered):
    deployment = yaml.safe_load((rendered.out / "k8s/shop/deployment-web.yaml").read_text())
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DB", "value": REDACTED}]


def test_a_secret_inside_a_plain_string_is_redacted_in_place():
    from offline.redact import Redactor

    redactor = Redactor({"s3cr3t-value"})
    assert redactor.deep({"url": "postgres://u:s3cr3t-value@db"}) == {"url": f"postgres://u:{REDACTED}@db"}


def test_other_resources_go_to_resources_json_with_their_parent_and_inputs(rendered):
    resources = json.loads((rendered.out / "resources.json").read_text())
    password = next(r for r in resources if r["type"] == "random:index/randomPassword:RandomPassword")
    assert password["name"] == "db-password"
    assert password["inputs"] == {"length": 32, "special": False}
    assert set(password) == {"type", "name", "parent", "provider", "inputs"}


def test_the_summary_lists_workloads_exposure_and_counts(rendered):
    summary = (rendered.out / "summary.md").read_text()
    assert "| web | Deployment | 1 | `nginx:1.27` | LoadBalancer `web` 80->8080 |" in summary
    assert "| apps/v1/Deployment | 1 |" in summary
    assert "outside -->|LoadBalancer web| shop_web" in summary
    assert f"password: {REDACTED}" in summary


def test_a_valid_stack_has_no_validation_errors(rendered):
    assert rendered.errors == []


def test_an_unknown_field_is_reported_with_file_kind_name_and_message(tmp_path):
    result = render("dev", tmp_path / "out", project_dir=_project(tmp_path, '"imagePullPolicyy": "Always"'),
                    progress=lambda _: None)
    assert result.errors == [
        "k8s/shop/deployment-web.yaml: Deployment/web: spec.template.spec.containers.0: "
        "Additional properties are not allowed ('imagePullPolicyy' was unexpected)"
    ]


def test_a_second_render_removes_objects_the_program_no_longer_declares(rendered, tmp_path):
    stale = rendered.out / "k8s" / "shop" / "configmap-old.yaml"
    stale.write_text("apiVersion: v1\nkind: ConfigMap\n")
    render("dev", rendered.out, project_dir=_project(tmp_path), progress=lambda _: None)
    assert not stale.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "--stack", "nope", "--out", "build/x"], "error: unknown stack 'nope'"),
        (["render", "--stack", "dev", "--out", "build/x", "--colour"], "unrecognized arguments: --colour"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_cli_bad_stack_config_is_one_line_naming_the_key(tmp_path, capsys, monkeypatch):
    import offline.__main__ as cli

    project = _project(tmp_path)
    (project / "Pulumi.bad.yaml").write_text("config:\n  demo:token: [unclosed\n")
    monkeypatch.setattr(cli, "PROJECT_DIR", project)
    monkeypatch.setattr("offline.render.PROJECT_DIR", project)
    code = cli.main(["render", "--stack", "bad", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    # Where the parser stopped (line 3, column 1) and where the unclosed list began (line 2, column 15).
    assert err[-1].startswith("error: ") and "Pulumi.bad.yaml:3:1: not valid YAML" in err[-1]
    assert "started at line 2, column 15" in err[-1]


_ = textwrap


def test_renders_in_different_processes_write_byte_identical_manifests(tmp_path):
    # Map order inside the engine follows per-process string hashing: render under two hash seeds.
    import os
    import subprocess
    import sys

    project = _project(tmp_path)
    outs, renders = [], []
    for seed in ("1", "2"):  # side by side: two processes, two cores
        out = tmp_path / f"out-{seed}"
        code = ("from pathlib import Path; from offline.render import render; "
                f"render('dev', Path({str(out)!r}), project_dir=Path({str(project)!r}))")
        renders.append(subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(Path(__file__).parents[2])},
        ))
        outs.append(out)
    for process in renders:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors.decode()
    files = sorted(p.relative_to(outs[0]) for p in (outs[0] / "k8s").rglob("*.yaml"))
    assert files
    for relative in files:
        assert (outs[0] / relative).read_bytes() == (outs[1] / relative).read_bytes(), relative


def test_the_files_do_not_depend_on_the_order_registrations_complete_in(tmp_path, monkeypatch):
    # The SDK's own internals complete registrations in another order than the fast path does.
    from offline import render as render_module

    fast, sdk = tmp_path / "fast", tmp_path / "sdk"
    render_module.render("dev", fast)
    run_stack = render_module.run_stack
    monkeypatch.setattr(render_module, "run_stack", lambda *args, **kwargs: run_stack(*args, fast_path=False, **kwargs))
    render_module.render("dev", sdk)
    files = sorted(p.relative_to(fast) for p in fast.rglob("*") if p.is_file())
    assert len(files) > 100
    assert files == sorted(p.relative_to(sdk) for p in sdk.rglob("*") if p.is_file())
    for relative in files:
        assert (fast / relative).read_bytes() == (sdk / relative).read_bytes(), relative
