"""The in-cluster GitOps path: the Pulumi Kubernetes Operator `Stack` the render writes to OUT/gitops.

The operator's CRD is not bundled (no package registry ships it), so the manifest is checked against the
fields of `stacks.pulumi.com` v1 as published by pulumi/pulumi-kubernetes-operator v2
(operator/config/crd/bases/pulumi.com_stacks.yaml), transcribed below for the fields this project sets.
"""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from offline import gitops
from offline.engine import Recording

_REF = {
    "type": "object",
    "required": ["type"],
    "additionalProperties": False,
    "properties": {
        "type": {"enum": ["Env", "FS", "Secret", "Literal"]},
        "env": {"type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": {"type": "string"}}},
        "filesystem": {"type": "object", "required": ["path"], "additionalProperties": False,
                       "properties": {"path": {"type": "string"}}},
        "literal": {"type": "object", "required": ["value"], "additionalProperties": False,
                    "properties": {"value": {"type": "string"}}},
        "secret": {"type": "object", "required": ["key", "name"], "additionalProperties": False,
                   "properties": {"key": {"type": "string"}, "name": {"type": "string"}}},
    },
}
# Every field of StackSpec in the CRD; the ones this project sets carry their type.
_SPEC_FIELDS = {
    "accessTokenSecret", "backend", "branch", "commit", "config", "configRef", "continueResyncOnCommitMatch",
    "destroyOnFinalize", "driftDetection", "envRefs", "envSecrets", "environment", "envs", "expectNoRefreshChanges",
    "fluxSource", "gitAuth", "gitAuthSecret", "prerequisites", "preview", "programRef", "projectRepo", "refresh",
    "repoDir", "resyncFrequencySeconds", "retryMaxBackoffDurationSeconds", "retryOnUpdateConflict", "secrets",
    "secretsProvider", "secretsRef", "serviceAccountName", "shallow", "stack", "targetDependents", "targets",
    "updateTemplate", "useLocalStackOnly", "workspaceReclaimPolicy", "workspaceTemplate",
}
STACK_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "pulumi.com/v1"},
        "kind": {"const": "Stack"},
        "metadata": {"type": "object", "required": ["name", "namespace"],
                     "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                                    "namespace": {"type": "string"},
                                    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "spec": {
            "type": "object",
            "required": ["stack"],
            "propertyNames": {"enum": sorted(_SPEC_FIELDS)},
            "properties": {
                "stack": {"type": "string"},
                "projectRepo": {"type": "string"},
                "branch": {"type": "string"},
                "serviceAccountName": {"type": "string"},
                "useLocalStackOnly": {"type": "boolean"},
                "refresh": {"type": "boolean"},
                "destroyOnFinalize": {"type": "boolean"},
                "resyncFrequencySeconds": {"type": "integer", "minimum": 60},
                "envRefs": {"type": "object", "additionalProperties": _REF},
                "workspaceTemplate": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"spec": {"type": "object", "additionalProperties": False, "properties": {
                        "podTemplate": {"type": "object", "additionalProperties": False, "properties": {
                            "metadata": {"type": "object", "additionalProperties": False, "properties": {
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                            }},
                        }},
                    }}},
                },
            },
        },
    },
}
GITHUB_RUN = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "contoso/aks-microservices",
              "GITHUB_REPOSITORY_OWNER": "contoso"}


def written(tmp_path, stack: str, platform: str, environ: dict) -> dict:
    recording = Recording(project="aks-microservices", stack=stack,
                          config={"aks-microservices:platform": platform})
    [path] = gitops.write(recording, tmp_path / stack, environ)
    assert path == tmp_path / stack / "gitops" / "stack.yaml"
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize(("stack", "platform"), [("dev", "aks"), ("prod", "aks"), ("local", "existing")])
def test_the_manifest_is_a_valid_operator_stack(tmp_path, stack, platform):
    jsonschema.validate(written(tmp_path, stack, platform, GITHUB_RUN), STACK_SCHEMA)


def test_it_deploys_this_repositorys_stack_from_main_in_a_github_run(tmp_path):
    spec = written(tmp_path, "prod", "aks", GITHUB_RUN)["spec"]
    assert spec["stack"] == "contoso/aks-microservices/prod"
    assert spec["projectRepo"] == "https://github.com/contoso/aks-microservices.git"
    assert spec["branch"] == "main"
    assert "repoDir" not in spec  # Pulumi.yaml is at the repository root


def test_explicit_variables_win_and_placeholders_say_what_to_fill_in(tmp_path):
    explicit = written(tmp_path, "dev", "aks", {**GITHUB_RUN, "GITOPS_PROJECT_REPO": "https://git.example.com/x.git",
                                                "GITOPS_BRANCH": "release", "PULUMI_ORG": "platform"})["spec"]
    assert (explicit["projectRepo"], explicit["branch"], explicit["stack"]) == (
        "https://git.example.com/x.git", "release", "platform/aks-microservices/dev")
    bare = written(tmp_path, "local", "existing", {})["spec"]
    assert bare["projectRepo"] == "https://github.com/OWNER/REPO.git"
    assert bare["stack"] == "ORGANIZATION/aks-microservices/local"


def test_azure_stacks_authenticate_with_workload_identity_and_hold_no_secret_value(tmp_path):
    manifest = written(tmp_path, "prod", "aks", GITHUB_RUN)
    refs = manifest["spec"]["envRefs"]
    assert refs["ARM_USE_OIDC"] == {"type": "Literal", "literal": {"value": "true"}}
    assert refs["ARM_OIDC_TOKEN_FILE_PATH"]["literal"]["value"] == "/var/run/secrets/azure/tokens/azure-identity-token"
    for name in ("PULUMI_ACCESS_TOKEN", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"):
        assert refs[name]["type"] == "Secret", name
    assert not any("SECRET" in name for name in refs)  # no client secret: the federated token replaces it
    labels = manifest["spec"]["workspaceTemplate"]["spec"]["podTemplate"]["metadata"]["labels"]
    assert labels == {"azure.workload.identity/use": "true"}


def test_a_stack_on_an_existing_cluster_gets_no_azure_access(tmp_path):
    spec = written(tmp_path, "local", "existing", GITHUB_RUN)["spec"]
    assert set(spec["envRefs"]) == {"PULUMI_ACCESS_TOKEN"}
    assert "workspaceTemplate" not in spec


def test_deleting_the_object_never_destroys_the_stack_and_only_known_stacks_are_deployed(tmp_path):
    spec = written(tmp_path, "prod", "aks", GITHUB_RUN)["spec"]
    assert spec["destroyOnFinalize"] is False
    assert spec["useLocalStackOnly"] is True


def test_a_second_render_replaces_the_gitops_folder(tmp_path):
    stale = tmp_path / "dev" / "gitops" / "old.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Stale\n")
    written(tmp_path, "dev", "aks", GITHUB_RUN)
    assert not stale.exists()
