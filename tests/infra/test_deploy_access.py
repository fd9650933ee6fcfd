"""The deploy workflow reaches each stack's API server: a restricted one only from a self-hosted runner."""

from __future__ import annotations

import pytest
import yaml

from offline.engine import PROJECT_DIR
from settings import StackSettings
from settings.schema import load_section

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "deploy.yml"
ACTIONLINT = PROJECT_DIR / ".github" / "actionlint.yaml"


def stack_settings(stack: str) -> StackSettings:
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    return load_section(StackSettings, {key.split(":", 1)[1]: value for key, value in document["config"].items()})


def runs_on(job: str) -> list[str]:
    labels = yaml.safe_load(WORKFLOW.read_text())["jobs"][job]["runs-on"]
    return [labels] if isinstance(labels, str) else list(labels)


def test_prod_is_a_private_cluster_whose_deploy_job_runs_on_its_self_hosted_runner():
    assert stack_settings("prod").platform.cluster.private_cluster is True
    labels = runs_on("prod")
    assert "self-hosted" in labels and "aks-microservices-prod" in labels


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_with_a_restricted_api_server_is_never_deployed_from_a_github_hosted_runner(stack):
    # GitHub-hosted runners come from Azure's whole address space: neither a private endpoint nor a
    # short authorized-ranges list admits them.
    cluster = stack_settings(stack).platform.cluster
    restricted = cluster.private_cluster or bool(cluster.authorized_ip_ranges)
    hosted = not any(label == "self-hosted" for label in runs_on(stack))
    assert not (restricted and hosted), f"the {stack} job cannot reach its API server from a GitHub-hosted runner"


def test_dev_keeps_a_public_api_server_so_github_hosted_runners_and_laptops_reach_it():
    cluster = stack_settings("dev").platform.cluster
    assert (cluster.private_cluster, cluster.authorized_ip_ranges) == (False, ())
    assert runs_on("dev") == ["ubuntu-latest"]


def test_every_custom_runner_label_is_declared_for_actionlint():
    declared = set(yaml.safe_load(ACTIONLINT.read_text())["self-hosted-runner"]["labels"])
    custom = {label for job in ("dev", "prod") for label in runs_on(job)} - {
        "ubuntu-latest", "self-hosted", "linux", "x64"}
    assert custom == declared == {"aks-microservices-prod"}
