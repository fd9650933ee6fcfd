"""Policies on every pod template (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs).

They hold any stack to what the components guarantee by default: pinned images, requests and limits,
probes, non-root pods, and secrets that reach containers only through Secret references. The components'
own opt-outs are honoured only with their written reason: the pod annotations
`aks-microservices/security-opt-out` and `aks-microservices/probes-disabled`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from ._props import RUN_TO_COMPLETION, UNKNOWN, Workload, config_list, get, items, workload

SECURITY_OPT_OUT_ANNOTATION = "aks-microservices/security-opt-out"
PROBES_DISABLED_ANNOTATION = "aks-microservices/probes-disabled"
# The same rule as components/pod.py: a variable so named must come from a Secret, never a literal.
SECRET_ENV_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY")
# The official images' `<NAME>_FILE` convention: the value is the path of a mounted secret file, not a secret.
SECRET_FILE_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*_FILE")
DEFAULT_MUTABLE_TAGS = ("latest",)


def _for_workloads(check: Callable[[Workload, dict, ReportViolation], None]):
    """A resource validation that runs `check` on resources with a pod template and ignores the rest."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        found = workload(args.resource_type, args.props, args.name)
        if found is not None:
            check(found, dict(args.get_config() or {}), report_violation)

    return validate


def _has_reason(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# Images ---------------------------------------------------------------------------------------------------

def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository without registry host, tag, digest) of an image reference.

    `docker.io/library/redis:7.4` and `myacr.azurecr.io/library/redis:7.4` both give `redis`: a pull-through
    cache keeps the upstream path, so allow-lists name images as their upstream repository."""
    rest, _, digest = image.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        rest = remainder  # the first component is a registry host
    path, colon, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "")
    repository = path if colon else rest
    if repository.startswith("library/"):
        repository = repository[len("library/"):]
    return repository, (tag or None), (digest or None)


def _check_image_tags(found: Workload, config: dict, report_violation: ReportViolation) -> None:
    allowed = {split_image(name)[0] for name in config_list(config, "allowedMutableImages", ())}
    mutable = set(config_list(config, "mutableTags", DEFAULT_MUTABLE_TAGS))
    for container in found.containers():
        image = get(container.spec, "image")
        if image is UNKNOWN:
            continue  # e.g. a registry address not known before the first deployment
        if not isinstance(image, str) or not image.strip():
            report_violation(f"{found.label} {container.label}: no image", None)
            continue
        repository, tag, digest = split_image(image)
        if digest or repository in allowed:
            continue
        if tag is None or tag in mutable:
            what = f"the mutable tag {tag!r}" if tag else "no tag (Kubernetes pulls 'latest')"
            report_violation(
                f"{found.label} {container.label}: image {image!r} uses {what}; pin a version or a digest, or "
                f"list {repository!r} in allowedMutableImages if it publishes no other tag", None)


no_mutable_image_tags = ResourceValidationPolicy(
    name="no-mutable-image-tags",
    description="Container images are pinned to a version or digest, never 'latest' or no tag, unless the "
                "image is allowed by name because it publishes nothing else.",
    validate=_for_workloads(_check_image_tags),
    config_schema=PolicyConfigSchema(properties={
        "allowedMutableImages": {
            "type": "array", "items": {"type": "string"}, "default": [],
            "description": "Images (upstream repository, e.g. 'ericgregory/todo-api') allowed a mutable tag.",
        },
        "mutableTags": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_MUTABLE_TAGS),
            "description": "Tags that move (besides no tag at all).",
        },
    }),
)


# Requests and limits --------------------------------------------------------------------------------------

def _check_resources(found: Workload, _config: dict, report_violation: ReportViolation) -> None:
    for container in found.containers():
        resources = get(container.spec, "resources")
        if resources is UNKNOWN:
            continue
        missing = [f"{group}.{name}" for group in ("requests", "limits") for name in ("cpu", "memory")
                   if get(resources, group, name) is None]
        if missing:
            report_violation(f"{found.label} {container.label}: no {', '.join(missing)} "
                             "(every container declares CPU and memory requests and limits)", None)


container_resources = ResourceValidationPolicy(
    name="container-requests-and-limits",
    description="Every container declares CPU and memory requests and limits.",
    validate=_for_workloads(_check_resources),
)


# Probes ---------------------------------------------------------------------------------------------------

def _check_probes(found: Workload, _config: dict, report_violation: ReportViolation) -> None:
    if found.kind in RUN_TO_COMPLETION:
        return
    annotation = PROBES_DISABLED_ANNOTATION
    if _has_reason(found.annotation(annotation)):
        return
    for container in found.containers(init=False):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if get(container.spec, probe) is None]
        if missing:
            report_violation(
                f"{found.label} {container.label}: no {' and no '.join(missing)}; add them, or explain why in "
                f"the pod annotation {annotation!r}", None)


container_probes = ResourceValidationPolicy(
    name="container-probes",
    description="Every container of a long-running workload has readiness and liveness probes, unless the pod "
                "says why not in its probes-disabled annotation.",
    validate=_for_workloads(_check_probes),
)


# Non-root -------------------------------------------------------------------------------------------------

def _check_non_root(found: Workload, _config: dict, report_violation: ReportViolation) -> None:
    annotation = SECURITY_OPT_OUT_ANNOTATION
    if _has_reason(found.annotation(annotation)):
        return
    pod_non_root = get(found.pod_spec, "securityContext", "runAsNonRoot")
    pod_user = get(found.pod_spec, "securityContext", "runAsUser")
    for container in found.containers():
        non_root = get(container.spec, "securityContext", "runAsNonRoot", default=pod_non_root)
        user = get(container.spec, "securityContext", "runAsUser", default=pod_user)
        if UNKNOWN in (non_root, user):
            continue
        if user == 0:
            problem = "runs as user 0"
        elif non_root is not True:
            problem = "does not set runAsNonRoot: true"
        else:
            continue
        report_violation(f"{found.label} {container.label}: {problem}; run it as a non-root user, or explain why "
                         f"it needs root in the pod annotation {annotation!r}", None)


run_as_non_root = ResourceValidationPolicy(
    name="run-as-non-root",
    description="Pods run as a non-root user (runAsNonRoot: true, no runAsUser 0), unless the pod records why "
                "in its security-opt-out annotation.",
    validate=_for_workloads(_check_non_root),
)


# Secrets in env literals ----------------------------------------------------------------------------------

def _check_env_names(found: Workload, _config: dict, report_violation: ReportViolation) -> None:
    for container in found.containers():
        for variable in items(container.spec, "env"):
            name = get(variable, "name")
            if not isinstance(name, str) or not SECRET_ENV_NAME.search(name.upper()):
                continue
            value = get(variable, "value")
            if SECRET_FILE_ENV.fullmatch(name) and isinstance(value, str) and value.startswith("/"):
                continue
            if value is not None:  # known or not, a literal is the wrong channel
                report_violation(
                    f"{found.label} {container.label}: env {name} is a literal; a secret reaches a container "
                    "only through a Secret (valueFrom.secretKeyRef or a secret volume)", None)


secrets_from_secret_refs = ResourceValidationPolicy(
    name="secret-env-from-secret-refs",
    description="Environment variables named like secrets (PASSWORD, SECRET, TOKEN, API_KEY, ACCESS_KEY, "
                "PRIVATE_KEY) come from Secret references, never literals; a `<NAME>_FILE` variable may hold the "
                "absolute path of a mounted secret file.",
    validate=_for_workloads(_check_env_names),
)

POLICIES = [no_mutable_image_tags, container_resources, container_probes, run_as_non_root, secrets_from_secret_refs]
