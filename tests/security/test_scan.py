"""`make scan`: Checkov on the rendered manifests, offline, with per-object skips that each carry a reason.

Checkov itself lives in .venv-scan (its dependencies conflict with the program's), so these tests drive the
runner (scan/checkov_scan.py) with a stand-in `checkov` executable that answers like Checkov's JSON output.
"""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from offline.engine import PROJECT_DIR, run_stack
from scan.checkov_scan import Skip, SkipFileError, evaluate, load_skips, main

SKIPS = PROJECT_DIR / "scan" / "checkov-skips.yaml"


def _report(failed: list[tuple[str, str]], passed: int = 10, resources: int = 3) -> dict:
    return {
        "check_type": "kubernetes",
        "results": {"failed_checks": [{"check_id": check, "check_name": f"name of {check}", "file_path": obj}
                                      for check, obj in failed]},
        "summary": {"passed": passed, "failed": len(failed), "skipped": 0, "parsing_errors": 0,
                    "resource_count": resources},
    }


def _by_path(result: dict) -> str:
    return result["file_path"]


# The skip file --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dev_refs() -> set[str]:
    refs = set()
    for obj in run_stack("dev").k8s_objects():
        metadata = obj["metadata"]
        refs.add("/".join(p for p in (obj["kind"], metadata.get("namespace"), metadata["name"]) if p))
    return refs


def test_every_skip_names_an_object_of_the_dev_render_with_a_reason(dev_refs):
    skips = load_skips(SKIPS)
    assert skips
    assert sorted({s.obj for s in skips} - dev_refs) == []
    for skip in skips:
        assert len(skip.reason) >= 60, f"{skip.check} {skip.obj}: say why the finding is accepted"


def test_no_check_is_skipped_that_the_stack_fixes_instead():
    """NetworkPolicies in every namespace (CKV2_K8S_6); `latest` images pulled Always (CKV_K8S_15); Postgres,
    MinIO and the db-init Job read their passwords from mounted files (CKV_K8S_35)."""
    pairs = {(s.check, s.obj) for s in load_skips(SKIPS)}
    assert not any(check == "CKV2_K8S_6" for check, _ in pairs)
    for latest in ("Deployment/smilr/data-api", "Deployment/smilr/frontend", "Deployment/todo/todo-api",
                   "Deployment/todo/todo-web"):
        assert ("CKV_K8S_15", latest) not in pairs
    for reads_a_file in ("StatefulSet/fibonacci/postgres-statefulset", "StatefulSet/knote/minio",
                         "Job/todo/todo-db-init"):
        assert ("CKV_K8S_35", reads_a_file) not in pairs


def _pod(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def test_images_on_the_mutable_latest_tag_are_pulled_always_so_every_node_runs_the_same_build():
    for obj in run_stack("dev").k8s_objects():
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            for container in _pod(obj)["containers"]:
                if container["image"].endswith(":latest"):
                    assert container["imagePullPolicy"] == "Always", obj["metadata"]["name"]


def test_stores_and_the_db_init_job_read_their_passwords_from_mounted_files_not_the_environment():
    """The images can (POSTGRES_PASSWORD_FILE, MINIO_ROOT_*_FILE, a shell reading a file); the Fibonacci server
    and knote cannot (they read env only) and keep secretKeyRef (see the skip file)."""
    reads_files = {("StatefulSet", "postgres-statefulset"), ("StatefulSet", "minio"), ("Job", "todo-db-init")}
    for obj in run_stack("dev").k8s_objects():
        if (obj["kind"], obj["metadata"]["name"]) in reads_files:
            for container in _pod(obj)["containers"]:
                refs = [e["name"] for e in container.get("env") or [] if "valueFrom" in e]
                assert refs == [], (obj["metadata"]["name"], refs)


@pytest.mark.parametrize(("entry", "message"), [
    ({"check": "CKV_K8S_15", "objects": ["Deployment/shop/*"], "reason": "because it is fine for us here"},
     "objects: expected Kind/namespace/name (no wildcards), got 'Deployment/shop/*'"),
    ({"check": "CKV_K8S_15", "objects": ["Deployment/shop/web"], "reason": "ok"},
     "reason: expected a sentence saying why the finding is accepted"),
    ({"check": "all", "objects": ["Deployment/shop/web"], "reason": "because it is fine for us here"},
     "check: expected a Kubernetes check id such as CKV_K8S_43, got 'all'"),
    ({"check": "CKV_K8S_15", "objects": ["Deployment/shop/web"]}, "expected exactly the keys check, objects, reason"),
])
def test_a_malformed_skip_is_refused_with_one_line_naming_the_entry(tmp_path, entry, message):
    path = tmp_path / "skips.yaml"
    path.write_text(yaml.safe_dump({"skips": [entry]}))
    with pytest.raises(SkipFileError) as error:
        load_skips(path)
    assert str(error.value) == f"{path}: skips[0]: {message}"


def test_the_same_check_on_the_same_object_cannot_be_skipped_twice(tmp_path):
    entry = {"check": "CKV_K8S_15", "objects": ["Deployment/shop/web"], "reason": "pinned tags are cached on nodes"}
    path = tmp_path / "skips.yaml"
    path.write_text(yaml.safe_dump({"skips": [entry, entry]}))
    with pytest.raises(SkipFileError, match="CKV_K8S_15 Deployment/shop/web is skipped twice"):
        load_skips(path)


# Applying skips ---------------------------------------------------------------------------------------------

def test_a_skip_covers_its_check_on_its_object_only():
    skips = [Skip("CKV_K8S_15", "Deployment/shop/web", "pinned tags are cached on nodes")]
    outcome = evaluate(_report([("CKV_K8S_15", "Deployment/shop/web"), ("CKV_K8S_15", "Deployment/shop/api"),
                                ("CKV_K8S_43", "Deployment/shop/web")]), skips, _by_path)
    assert [(f.check, f.obj) for f in outcome.failed] == [("CKV_K8S_15", "Deployment/shop/api"),
                                                          ("CKV_K8S_43", "Deployment/shop/web")]
    assert len(outcome.skipped) == 1 and not outcome.ok


def test_counts_of_passed_failed_and_skipped_checks_are_printed():
    skips = [Skip("CKV_K8S_15", "Deployment/shop/web", "pinned tags are cached on nodes")]
    outcome = evaluate(_report([("CKV_K8S_15", "Deployment/shop/web")], passed=40), skips, _by_path)
    assert outcome.ok
    assert outcome.report()[-1] == "checkov: 40 passed, 0 failed, 1 skipped (1 by the skip file) on 3 resources"


def test_a_skip_that_no_longer_matches_a_failure_is_listed_for_deletion():
    skips = [Skip("CKV_K8S_15", "Deployment/shop/gone", "pinned tags are cached on nodes")]
    outcome = evaluate(_report([]), skips, _by_path)
    assert outcome.unused_skips == skips
    assert "unused skip: CKV_K8S_15 Deployment/shop/gone" in outcome.report()[0]


def test_a_scan_of_nothing_fails():
    bare = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    outcome = evaluate(bare, [], _by_path)
    assert not outcome.ok
    assert "checkov scanned no Kubernetes object" in "\n".join(outcome.report())


def test_a_failure_is_attributed_to_the_object_in_its_manifest_file(tmp_path):
    manifest = tmp_path / "deployment-web.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment",
                                        "metadata": {"name": "web", "namespace": "shop"}}))
    report = _report([("CKV_K8S_15", "/deployment-web.yaml")])
    report["results"]["failed_checks"][0]["file_abs_path"] = str(manifest)
    assert [f.obj for f in evaluate(report, []).failed] == ["Deployment/shop/web"]


# The runner, end to end, with a stand-in Checkov ------------------------------------------------------------

def _fake_checkov(tmp_path: Path, report: dict) -> Path:
    """An executable that records its arguments and environment and prints `report` as Checkov would."""
    script = tmp_path / "checkov"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, open({str(tmp_path / "call.json")!r}, "w"))
        print(json.dumps({report!r}))
        sys.exit(1)
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_the_runner_runs_checkov_offline_on_the_kubernetes_manifests(tmp_path, capsys):
    manifests = tmp_path / "k8s"
    manifests.mkdir()
    checkov = _fake_checkov(tmp_path, _report([]))
    skips = tmp_path / "skips.yaml"
    skips.write_text("skips: []\n")
    code = main(["--manifests", str(manifests), "--skips", str(skips), "--checkov", str(checkov)])
    call = json.loads((tmp_path / "call.json").read_text())
    assert code == 0
    assert call["argv"] == ["--directory", str(manifests.resolve()), "--framework", "kubernetes", "--skip-download",
                            "--output", "json"]
    assert call["env"]["BC_SKIP_MAPPING"] == "TRUE"
    assert call["env"]["CKV_SKIP_PACKAGE_UPDATE_CHECK"] == "true"
    assert capsys.readouterr().out.strip() == "checkov: 10 passed, 0 failed, 0 skipped (0 by the skip file) on 3 resources"


def test_the_runner_exits_1_on_an_unskipped_failure_and_names_it(tmp_path, capsys):
    manifests = tmp_path / "k8s"
    (manifests / "shop").mkdir(parents=True)
    (manifests / "shop" / "deployment-web.yaml").write_text(yaml.safe_dump(
        {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}))
    report = _report([("CKV_K8S_43", "/shop/deployment-web.yaml")])
    report["results"]["failed_checks"][0]["file_abs_path"] = str(manifests / "shop" / "deployment-web.yaml")
    skips = tmp_path / "skips.yaml"
    skips.write_text("skips: []\n")
    code = main(["--manifests", str(manifests), "--skips", str(skips), "--checkov", str(_fake_checkov(tmp_path, report))])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0] == "FAILED CKV_K8S_43 Deployment/shop/web: name of CKV_K8S_43 (/shop/deployment-web.yaml)"


def test_make_scan_runs_after_the_render_in_ci_with_checkov_pinned_in_its_own_virtualenv():
    ci = (PROJECT_DIR / ".ci" / "run").read_text().splitlines()
    assert ci.index("make scan") > ci.index("make render")
    assert (PROJECT_DIR / "scan" / "requirements.txt").read_text().splitlines()[-1] == "checkov==3.3.30"
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "scan: render $(SCAN_VENV)/.installed" in makefile
    assert "SCAN_VENV := .venv-scan" in makefile
