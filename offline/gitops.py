"""The in-cluster GitOps path: a Pulumi Kubernetes Operator `Stack` that deploys this repository's stack.

The render writes it to `OUT/gitops/stack.yaml`, next to (not inside) `k8s/`: it is not part of the stack's
desired state but the object that makes a cluster running the operator (v2) keep the stack up to date from
git, as the GitHub workflows do from CI. It expects in its namespace:

- the operator itself (Helm chart `pulumi-kubernetes-operator`, v2);
- ServiceAccount `pulumi-deployer`, bound to ClusterRole `system:auth-delegator` (the operator's workspace
  pods authenticate with it); on AKS stacks also annotated `azure.workload.identity/client-id: <client id>`
  of an Entra ID identity federated with it and allowed to deploy the stack;
- Secret `pulumi-api` with key `accessToken` (a Pulumi Cloud access token);
- on AKS stacks, Secret `azure-deployer` with keys `clientId`, `tenantId`, `subscriptionId` (no client secret:
  the workspace pod gets a federated token from AKS workload identity).

Where the program comes from: `GITOPS_PROJECT_REPO` and `GITOPS_BRANCH` (default: the GitHub repository of a
workflow run, branch `main`); the Pulumi organization from `PULUMI_ORG` (default: the repository owner).
Outside CI and without those variables the manifest carries the placeholders `OWNER`/`REPO`/`ORGANIZATION`.

The operator's CRD is not bundled in `offline/schemas/crds` (no package registry ships it): the fields set
here are checked by tests/gitops against the CRD's field list instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .engine import Recording

API_VERSION = "pulumi.com/v1"
KIND = "Stack"
NAMESPACE = "pulumi-stacks"
SERVICE_ACCOUNT = "pulumi-deployer"
ACCESS_TOKEN_SECRET = "pulumi-api"
AZURE_SECRET = "azure-deployer"
# Where AKS workload identity mounts the federated token in a pod labelled `azure.workload.identity/use`.
FEDERATED_TOKEN_FILE = "/var/run/secrets/azure/tokens/azure-identity-token"
PLACEHOLDER_REPO = "https://github.com/OWNER/REPO.git"
PLACEHOLDER_ORG = "ORGANIZATION"
# Poll git every 5 minutes: a production update is minutes long, so faster polling only queues work.
RESYNC_SECONDS = 300


def _secret_ref(name: str, key: str) -> dict[str, Any]:
    return {"type": "Secret", "secret": {"name": name, "key": key}}


def _literal(value: str) -> dict[str, Any]:
    return {"type": "Literal", "literal": {"value": value}}


def stack_manifest(*, project: str, stack: str, platform: str, project_repo: str, branch: str,
                   organization: str) -> dict[str, Any]:
    """The operator's `Stack` for one stack of the project. AKS stacks authenticate to Azure with workload
    identity (OIDC, no client secret), like the CI workflows; `existing` stacks need no Azure access."""
    env_refs: dict[str, Any] = {"PULUMI_ACCESS_TOKEN": _secret_ref(ACCESS_TOKEN_SECRET, "accessToken")}
    spec: dict[str, Any] = {
        "stack": f"{organization}/{project}/{stack}",
        "projectRepo": project_repo,
        "branch": branch,
        "serviceAccountName": SERVICE_ACCOUNT,
        # Only stacks that have a Pulumi.<stack>.yaml in the repository; never create one by accident.
        "useLocalStackOnly": True,
        "refresh": True,
        "resyncFrequencySeconds": RESYNC_SECONDS,
        # Deleting this object stops the GitOps loop; it never destroys the infrastructure and its data.
        "destroyOnFinalize": False,
        "envRefs": env_refs,
    }
    if platform == "aks":
        env_refs.update({
            "ARM_USE_OIDC": _literal("true"),
            "ARM_OIDC_TOKEN_FILE_PATH": _literal(FEDERATED_TOKEN_FILE),
            "ARM_CLIENT_ID": _secret_ref(AZURE_SECRET, "clientId"),
            "ARM_TENANT_ID": _secret_ref(AZURE_SECRET, "tenantId"),
            "ARM_SUBSCRIPTION_ID": _secret_ref(AZURE_SECRET, "subscriptionId"),
        })
        spec["workspaceTemplate"] = {
            "spec": {"podTemplate": {"metadata": {"labels": {"azure.workload.identity/use": "true"}}}}
        }
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": f"{project}-{stack}",
            "namespace": NAMESPACE,
            "labels": {
                "app.kubernetes.io/name": project,
                "app.kubernetes.io/instance": stack,
                "app.kubernetes.io/component": "gitops",
                "app.kubernetes.io/part-of": project,
                "app.kubernetes.io/managed-by": "kubectl",
            },
        },
        "spec": spec,
    }


def source_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Repository, branch and organization: explicit variables first, then a GitHub Actions run's own."""
    github_repo = environ.get("GITHUB_REPOSITORY")
    github_url = f"{environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{github_repo}.git" if github_repo else None
    return {
        "project_repo": environ.get("GITOPS_PROJECT_REPO") or github_url or PLACEHOLDER_REPO,
        "branch": environ.get("GITOPS_BRANCH") or "main",
        "organization": environ.get("PULUMI_ORG") or environ.get("GITHUB_REPOSITORY_OWNER") or PLACEHOLDER_ORG,
    }


def write(recording: Recording, out: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Write `OUT/gitops/stack.yaml` for the rendered stack; returns the files written."""
    folder = out / "gitops"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    platform = recording.config.get(f"{recording.project}:platform", "aks")
    manifest = stack_manifest(project=recording.project, stack=recording.stack, platform=platform,
                              **source_from_environment(os.environ if environ is None else environ))
    path = folder / "stack.yaml"
    path.write_text(yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False))
    return [path]
