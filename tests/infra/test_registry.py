"""The container registry: no admin user, pull access for the kubelet, one cache rule per public repository."""

from __future__ import annotations

import re

import pytest
from infra_runs import NO_APPS, platform_only, stack_config

from offline.engine import run, run_stack
from offline.mocks import SUBSCRIPTION_ID
from settings import load_settings
from stacks import images_used

REGISTRY = "azure-native:containerregistry:Registry"
CACHE_RULE = "azure-native:containerregistry:CacheRule"
CREDENTIAL_SET = "azure-native:containerregistry:CredentialSet"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"

SYNTHETIC_IMAGES = {
    "mongo:7.0",
    "mongo:6.0.2-focal",  # same repository, another tag: still one rule
    "smilr/data-api",
    "docker.io/bitnami/redis:7.2",
    "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z",
    "container-registry.oracle.com/mysql/community-server:8.4",  # ACR cannot cache this registry
}
KEY_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-dev"
WITH_CREDENTIALS = {
    "registry": {
        "credentialSet": {
            "usernameSecretId": "https://kv-dev.vault.azure.net/secrets/dockerhub-user",
            "passwordSecretId": "https://kv-dev.vault.azure.net/secrets/dockerhub-token",
            "keyVaultId": KEY_VAULT,
        }
    }
}


def only(recording, type_):
    [resource] = recording.of_type(type_)
    return resource


def rewrite_each(platform):
    return {ref: platform.image(ref) for ref in sorted(SYNTHETIC_IMAGES)}


@pytest.fixture(scope="module")
def synthetic():
    return platform_only(NO_APPS, images=SYNTHETIC_IMAGES, use=rewrite_each)


@pytest.fixture(scope="module")
def login_server(synthetic):
    return only(synthetic, REGISTRY).outputs["loginServer"]


def test_registry_has_no_admin_user_and_no_anonymous_pull(synthetic):
    registry = only(synthetic, REGISTRY).inputs
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert re.fullmatch(r"[a-zA-Z0-9]{5,50}", only(synthetic, REGISTRY).outputs["name"])


def test_kubelet_identity_may_pull_from_the_registry_and_nothing_more(synthetic):
    cluster = only(synthetic, "azure-native:containerservice:ManagedCluster").outputs
    [acr_pull] = [r for r in synthetic.of_type(ROLE_ASSIGNMENT) if r.inputs["roleDefinitionId"].endswith(ACR_PULL)]
    assert acr_pull.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"
    )
    assert acr_pull.inputs["scope"] == only(synthetic, REGISTRY).outputs["id"]
    assert acr_pull.inputs["principalId"] == cluster["identityProfile"]["kubeletidentity"]["objectId"]
    assert acr_pull.inputs["principalType"] == "ServicePrincipal"


def test_one_cache_rule_per_cacheable_upstream_repository(synthetic):
    rules = {r.inputs["sourceRepository"]: r.inputs for r in synthetic.of_type(CACHE_RULE)}
    assert set(rules) == {
        "docker.io/library/mongo",
        "docker.io/smilr/data-api",
        "docker.io/bitnami/redis",
        "quay.io/minio/minio",
    }
    assert rules["docker.io/library/mongo"]["targetRepository"] == "library/mongo"
    assert rules["docker.io/smilr/data-api"]["targetRepository"] == "smilr/data-api"
    assert rules["quay.io/minio/minio"]["targetRepository"] == "quay.io/minio/minio"
    registry = only(synthetic, REGISTRY).outputs["name"]
    for rule in rules.values():
        assert rule["registryName"] == registry
        assert re.fullmatch(r"[a-zA-Z0-9-]{5,50}", rule["cacheRuleName"])
        assert "credentialSetResourceId" not in rule


def test_no_images_means_no_cache_rules():
    assert platform_only(NO_APPS, images=()).of_type(CACHE_RULE) == []


def test_cached_images_are_pulled_from_the_registry(synthetic, login_server):
    _, rewritten = synthetic.value
    pulled = {ref: synthetic.resolve(value) for ref, value in rewritten.items()}
    assert pulled["mongo:7.0"] == f"{login_server}/library/mongo:7.0"
    assert pulled["mongo:6.0.2-focal"] == f"{login_server}/library/mongo:6.0.2-focal"
    assert pulled["smilr/data-api"] == f"{login_server}/smilr/data-api:latest"
    assert pulled["docker.io/bitnami/redis:7.2"] == f"{login_server}/bitnami/redis:7.2"
    assert pulled["quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"] == (
        f"{login_server}/quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"
    )
    # No cache rule can serve it: pulled from its own registry, unchanged.
    oracle = "container-registry.oracle.com/mysql/community-server:8.4"
    assert pulled[oracle] == oracle


def test_an_image_no_app_declared_is_refused():
    def rewrite_undeclared(platform):
        with pytest.raises(ValueError, match=r"'nginx:1.27' is not among the images the enabled apps declare"):
            platform.image("nginx:1.27")
        return True

    assert platform_only(NO_APPS, images={"mongo:7.0"}, use=rewrite_undeclared).value[1] is True


def test_without_image_caching_there_are_no_rules_and_images_stay_public():
    recording = platform_only(
        {**NO_APPS, "registry": {"cacheImages": False}}, images=SYNTHETIC_IMAGES, use=rewrite_each
    )
    assert recording.of_type(CACHE_RULE) == []
    _, rewritten = recording.value
    assert {ref: recording.resolve(value) for ref, value in rewritten.items()} == {
        ref: ref for ref in SYNTHETIC_IMAGES
    }


def test_docker_hub_rules_use_the_credential_set_read_from_key_vault():
    recording = platform_only({**NO_APPS, **WITH_CREDENTIALS}, images=SYNTHETIC_IMAGES)
    credential_set = only(recording, CREDENTIAL_SET)
    assert credential_set.inputs["loginServer"] == "docker.io"
    assert credential_set.inputs["identity"] == {"type": "SystemAssigned"}
    [credential] = credential_set.inputs["authCredentials"]
    assert credential["usernameSecretIdentifier"] == "https://kv-dev.vault.azure.net/secrets/dockerhub-user"
    assert credential["passwordSecretIdentifier"] == "https://kv-dev.vault.azure.net/secrets/dockerhub-token"
    for rule in recording.of_type(CACHE_RULE):
        if rule.inputs["sourceRepository"].startswith("docker.io/"):
            assert rule.inputs["credentialSetResourceId"] == credential_set.outputs["id"]
        else:
            assert "credentialSetResourceId" not in rule.inputs
    [reader] = [
        r for r in recording.of_type(ROLE_ASSIGNMENT) if r.inputs["roleDefinitionId"].endswith(KEY_VAULT_SECRETS_USER)
    ]
    assert reader.inputs["scope"] == KEY_VAULT
    assert reader.inputs["principalId"] == credential_set.outputs["identity"]["principalId"]


# The dev stack: rules follow the images the enabled apps use ---------------------------------------------


def docker_hub_upstream(reference: str) -> str:
    """Written independently of infra/: `mongo:7` -> docker.io/library/mongo, `a/b:1` -> docker.io/a/b."""
    name = reference.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    first = name.split("/")[0]
    if "/" in name and ("." in first or ":" in first):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"


@pytest.fixture(scope="module")
def dev(dev_stack):
    recording = dev_stack
    settings = run(load_settings, stack="dev", config=stack_config("dev")).value
    return recording, settings


def test_dev_stack_caches_exactly_the_repositories_its_apps_use(dev):
    recording, settings = dev
    rules = {r.inputs["sourceRepository"] for r in recording.of_type(CACHE_RULE)}
    used = {docker_hub_upstream(ref) for ref in images_used(settings)}
    # The upstreams ACR artifact cache supports.
    acr_upstreams = ("docker.io", "quay.io", "ghcr.io", "mcr.microsoft.com", "public.ecr.aws", "registry.k8s.io")
    cacheable = {u for u in used if u.split("/")[0] in acr_upstreams}
    assert rules == cacheable
    # Public images named in apps.md.
    assert {
        "docker.io/smilr/data-api",
        "docker.io/smilr/frontend",
        "docker.io/learnk8s/knote-js",
        "docker.io/ericgregory/todo-api",
        "docker.io/ericgregory/todo-web",
        "docker.io/mosabami/multi-client",
        "docker.io/mosabami/multi-server",
        "docker.io/mosabami/multi-worker",
        "docker.io/oscarfonts/h2",
        "docker.io/homics/gateway",
        "docker.io/homics/user-activity",
    } <= rules


def test_every_workload_of_the_dev_stack_pulls_from_the_registry(dev):
    recording, _ = dev
    login_server = recording.stack_outputs["registryLoginServer"]
    images = []
    for manifest in recording.k8s_objects():
        template = manifest.get("spec", {}).get("template") or manifest.get("spec", {}).get("jobTemplate", {}).get(
            "spec", {}
        ).get("template")
        if not template:
            continue
        pod = template["spec"]
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            images.append(container["image"])
    assert images
    assert [image for image in images if not image.startswith(login_server + "/")] == []


def test_disabling_an_app_drops_its_cache_rules():
    recording = run_stack("dev", overrides={"apps": {"smilr": {"enabled": False}}})
    sources = {r.inputs["sourceRepository"] for r in recording.of_type(CACHE_RULE)}
    assert "docker.io/smilr/data-api" not in sources
    assert "docker.io/smilr/frontend" not in sources
    assert "docker.io/learnk8s/knote-js" in sources
