"""Each workload policy passes what the components build and stops what they would never build."""

from __future__ import annotations

import pytest
from aks_policies.workloads import (
    container_probes,
    container_resources,
    no_mutable_image_tags,
    run_as_non_root,
    secrets_from_secret_refs,
    split_image,
)
from harness import UNKNOWN_STRING, check_resource
from manifests import DEPLOYMENT, compliant_container, deployment, pod_spec

WORKLOAD_POLICIES = [no_mutable_image_tags, container_resources, container_probes, run_as_non_root,
                     secrets_from_secret_refs]


@pytest.mark.parametrize("policy", WORKLOAD_POLICIES, ids=lambda p: p.name)
def test_a_pod_built_like_the_components_build_it_passes(policy):
    assert check_resource(policy, DEPLOYMENT, deployment()) == []


@pytest.mark.parametrize("policy", WORKLOAD_POLICIES, ids=lambda p: p.name)
def test_resources_without_a_pod_template_are_not_judged(policy):
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"PASSWORD": "x"}}
    assert check_resource(policy, "kubernetes:core/v1:ConfigMap", config_map) == []
    bare = deployment(pod_spec(compliant_container(image="nginx", resources={})))
    assert check_resource(policy, "kubernetes:apps/v1:DeploymentPatch", bare) == []
    assert check_resource(policy, "azure-native:resources:ResourceGroup", {"location": "westeurope"}) == []


# Images -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("image", "repository", "tag", "digest"),
    [
        ("redis", "redis", None, None),
        ("redis:7.4-bookworm", "redis", "7.4-bookworm", None),
        ("docker.io/library/redis:7.4", "redis", "7.4", None),
        ("myacr.azurecr.io/ericgregory/todo-api:latest", "ericgregory/todo-api", "latest", None),
        ("localhost:5000/team/app", "team/app", None, None),
        ("registry:5000/app:1.0", "app", "1.0", None),
        ("ghcr.io/o/app@sha256:" + "a" * 64, "o/app", None, "sha256:" + "a" * 64),
    ],
)
def test_image_references_split_into_upstream_repository_tag_and_digest(image, repository, tag, digest):
    assert split_image(image) == (repository, tag, digest)


@pytest.mark.parametrize("image", ["web:latest", "myacr.azurecr.io/team/web", "team/web:latest"])
def test_a_latest_or_missing_tag_is_a_violation(image):
    [violation] = check_resource(no_mutable_image_tags, DEPLOYMENT,
                                 deployment(pod_spec(compliant_container(image=image))))
    assert "Deployment shop/web container 'web'" in violation
    assert image in violation


@pytest.mark.parametrize("image", ["web:1.4.2", "team/web@sha256:" + "0" * 64, "team/web:latest@sha256:" + "0" * 64])
def test_a_version_tag_or_a_digest_pins_the_image(image):
    assert check_resource(no_mutable_image_tags, DEPLOYMENT,
                          deployment(pod_spec(compliant_container(image=image)))) == []


def test_an_image_allowed_by_name_may_use_latest_even_through_a_registry_cache():
    manifest = deployment(pod_spec(compliant_container(image="aksregistry01.azurecr.io/ericgregory/todo-api:latest")))
    config = {"allowedMutableImages": ["ericgregory/todo-api"]}
    assert check_resource(no_mutable_image_tags, DEPLOYMENT, manifest, config=config) == []
    other = deployment(pod_spec(compliant_container(image="aksregistry01.azurecr.io/ericgregory/todo-web:latest")))
    assert len(check_resource(no_mutable_image_tags, DEPLOYMENT, other, config=config)) == 1


def test_init_containers_and_cron_jobs_are_held_to_pinned_images_too():
    init = compliant_container(name="migrate", image="flyway/flyway")
    [violation] = check_resource(no_mutable_image_tags, DEPLOYMENT,
                                 deployment(pod_spec(compliant_container(), initContainers=[init])))
    assert "init container 'migrate'" in violation
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "namespace": "shop"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": pod_spec(
                compliant_container(name="backup", image="mongo:latest"))}}}}}
    [violation] = check_resource(no_mutable_image_tags, "kubernetes:batch/v1:CronJob", cron)
    assert violation.startswith("CronJob shop/backup container 'backup'")


def test_an_image_not_known_during_preview_is_left_alone():
    manifest = deployment(pod_spec(compliant_container(image=UNKNOWN_STRING)))
    assert check_resource(no_mutable_image_tags, DEPLOYMENT, manifest) == []


# Requests and limits --------------------------------------------------------------------------------------

def test_each_missing_request_or_limit_is_named():
    container = compliant_container(resources={"requests": {"memory": "128Mi"}, "limits": {"cpu": "500m"}})
    [violation] = check_resource(container_resources, DEPLOYMENT, deployment(pod_spec(container)))
    assert "no requests.cpu, limits.memory" in violation


def test_a_container_without_resources_is_a_violation_in_any_workload_kind():
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "init-db", "namespace": "shop"},
           "spec": {"template": {"spec": pod_spec(compliant_container(resources=None), restartPolicy="Never")}}}
    [violation] = check_resource(container_resources, "kubernetes:batch/v1:Job", job)
    assert "Job shop/init-db" in violation and "requests.cpu, requests.memory, limits.cpu, limits.memory" in violation


# Probes ---------------------------------------------------------------------------------------------------

def test_a_long_running_container_without_readiness_and_liveness_probes_is_a_violation():
    container = compliant_container()
    del container["readinessProbe"], container["livenessProbe"]
    [violation] = check_resource(container_probes, DEPLOYMENT, deployment(pod_spec(container)))
    assert "no readinessProbe and no livenessProbe" in violation


def test_probes_may_be_left_out_only_with_a_written_reason():
    container = compliant_container()
    del container["livenessProbe"]
    reasoned = deployment(pod_spec(container), annotations={"aks-microservices/probes-disabled": "a queue worker"})
    assert check_resource(container_probes, DEPLOYMENT, reasoned) == []
    blank = deployment(pod_spec(container), annotations={"aks-microservices/probes-disabled": " "})
    assert len(check_resource(container_probes, DEPLOYMENT, blank)) == 1


def test_jobs_and_init_containers_need_no_probes():
    bare = compliant_container(name="migrate")
    del bare["readinessProbe"], bare["livenessProbe"]
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "init-db", "namespace": "shop"},
           "spec": {"template": {"spec": pod_spec(bare, restartPolicy="Never")}}}
    assert check_resource(container_probes, "kubernetes:batch/v1:Job", job) == []
    assert check_resource(container_probes, DEPLOYMENT,
                          deployment(pod_spec(compliant_container(), initContainers=[bare]))) == []


# Non-root -------------------------------------------------------------------------------------------------

def test_a_pod_that_does_not_insist_on_non_root_is_a_violation():
    [violation] = check_resource(run_as_non_root, DEPLOYMENT, deployment(pod_spec(securityContext={})))
    assert "does not set runAsNonRoot: true" in violation


def test_user_zero_is_a_violation_even_at_container_level():
    container = compliant_container(securityContext={"runAsUser": 0})
    [violation] = check_resource(run_as_non_root, DEPLOYMENT, deployment(pod_spec(container)))
    assert "runs as user 0" in violation


def test_a_container_may_insist_on_non_root_for_itself():
    container = compliant_container(securityContext={"runAsNonRoot": True, "runAsUser": 1000})
    assert check_resource(run_as_non_root, DEPLOYMENT, deployment(pod_spec(container, securityContext={}))) == []


def test_root_is_allowed_only_with_the_components_opt_out_reason():
    as_root = pod_spec(securityContext={"runAsNonRoot": False, "runAsUser": 0})
    reasoned = deployment(as_root, annotations={"aks-microservices/security-opt-out": "binds port 80 as root"})
    assert check_resource(run_as_non_root, DEPLOYMENT, reasoned) == []
    assert len(check_resource(run_as_non_root, DEPLOYMENT, deployment(as_root))) == 1
    other_annotation = deployment(as_root, annotations={"example.com/reason": "binds port 80"})
    assert len(check_resource(run_as_non_root, DEPLOYMENT, other_annotation)) == 1


# Secret-named env literals --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["PGPASSWORD", "MINIO_SECRET_KEY", "GITHUB_TOKEN", "STRIPE_API_KEY", "db_password"])
def test_a_secret_named_variable_with_a_literal_value_is_a_violation(name):
    container = compliant_container(env=[{"name": name, "value": "hunter2"}])
    [violation] = check_resource(secrets_from_secret_refs, DEPLOYMENT, deployment(pod_spec(container)))
    assert f"env {name} is a literal" in violation
    assert "hunter2" not in violation  # the message never repeats the value


def test_a_literal_not_known_during_preview_is_still_a_literal():
    container = compliant_container(env=[{"name": "PGPASSWORD", "value": UNKNOWN_STRING}])
    assert len(check_resource(secrets_from_secret_refs, DEPLOYMENT, deployment(pod_spec(container)))) == 1


def test_secret_references_and_plain_settings_pass():
    container = compliant_container(env=[
        {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "pgpassword", "key": "PGPASSWORD"}}},
        {"name": "PGUSER", "value": "postgres"},
        {"name": "REDIS_HOST", "value": "redis-service"},
    ])
    assert check_resource(secrets_from_secret_refs, DEPLOYMENT, deployment(pod_spec(container))) == []


def test_a_secret_file_variable_may_hold_the_path_of_a_mounted_secret_file():
    container = compliant_container(env=[{"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/pg/password"}])
    assert check_resource(secrets_from_secret_refs, DEPLOYMENT, deployment(pod_spec(container))) == []


def test_a_secret_file_variable_holding_anything_but_an_absolute_path_is_a_literal():
    container = compliant_container(env=[{"name": "POSTGRES_PASSWORD_FILE", "value": "hunter2"}])
    assert len(check_resource(secrets_from_secret_refs, DEPLOYMENT, deployment(pod_spec(container)))) == 1
