"""Invariants over everything a stack renders, written once and applied to every object of every stack."""

from __future__ import annotations

import pytest

from offline.engine import PROJECT_DIR, Recording, run_stack
from offline.stack_config import available_stacks

STACKS = available_stacks(PROJECT_DIR)
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
RECOMMENDED = ("name", "instance", "component", "part-of", "managed-by")
OPT_OUT = "aks-microservices/security-opt-out"
PROBES_OFF = "aks-microservices/probes-disabled"


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> Recording:
    return run_stack(request.param)


def _ours(obj: dict) -> bool:
    """Objects this program builds itself (not ones an operator or a chart owns)."""
    return (obj["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "pulumi"


def _template(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]


def _workloads(stack: Recording) -> list[dict]:
    return [o for o in stack.k8s_objects() if o["kind"] in WORKLOAD_KINDS]


def _pods_in(stack: Recording, namespace: str) -> list[tuple[dict, dict]]:
    return [(w, _template(w)) for w in _workloads(stack) if w["metadata"]["namespace"] == namespace]


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_every_object_carries_the_recommended_labels(stack):
    missing = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in stack.k8s_objects()
        if o["kind"] not in ("InnoDBCluster",)
        and not all(f"app.kubernetes.io/{key}" in (o["metadata"].get("labels") or {}) for key in RECOMMENDED)
    ]
    assert missing == []


def test_every_service_selects_pods_and_targets_a_declared_container_port(stack):
    problems = []
    for service in (o for o in stack.k8s_objects() if o["kind"] == "Service" and _ours(o)):
        spec = service["spec"]
        pods = [
            template
            for _, template in _pods_in(stack, service["metadata"]["namespace"])
            if _selects(spec.get("selector") or {}, template["metadata"].get("labels") or {})
        ]
        name = service["metadata"]["name"]
        if not spec.get("selector") or not pods:
            problems.append(f"{name}: selects no pod")
            continue
        for port in spec["ports"]:
            target = port.get("targetPort", port["port"])
            declared = {
                p.get("name") if isinstance(target, str) else p["containerPort"]
                for template in pods
                for c in template["spec"]["containers"]
                for p in c.get("ports", [])
            }
            if target not in declared:
                problems.append(f"{name}: targetPort {target!r} is no container port of its pods ({declared})")
    assert problems == []


def test_every_hpa_targets_an_existing_deployment_that_leaves_replicas_unset(stack):
    deployments = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o for o in stack.k8s_objects() if o["kind"] == "Deployment"
    }
    hpas = [o for o in stack.k8s_objects() if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpas, "every stack autoscales todo-api"
    for hpa in hpas:
        ref = hpa["spec"]["scaleTargetRef"]
        assert ref["kind"] == "Deployment"
        target = deployments.get((hpa["metadata"]["namespace"], ref["name"]))
        assert target is not None, f"HPA {hpa['metadata']['name']} targets no Deployment"
        assert "replicas" not in target["spec"]
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_every_claim_has_a_size_and_access_modes_and_a_class_where_the_platform_names_one(stack):
    claims = [o["spec"] for o in stack.k8s_objects() if o["kind"] == "PersistentVolumeClaim"]
    for workload in _workloads(stack):
        claims += [t["spec"] for t in workload["spec"].get("volumeClaimTemplates", [])]
    assert claims
    for claim in claims:
        assert claim["resources"]["requests"]["storage"]
        assert claim["accessModes"]
    if stack.config.get("aks-microservices:platform", "aks") == "aks":
        assert all(claim.get("storageClassName") for claim in claims)


def test_every_container_has_probes_requests_limits_and_the_secure_context(stack):
    problems = []
    for workload in (w for w in _workloads(stack) if _ours(w)):
        template = _template(workload)
        annotations = template["metadata"].get("annotations") or {}
        pod = template["spec"]
        label = f"{workload['kind']}/{workload['metadata']['name']}"
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{label}: mounts a service account token")
        for container in pod["containers"] + pod.get("initContainers", []):
            where = f"{label}/{container['name']}"
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(resources.get(kind, {})) and not (
                    kind == "requests" and "memory" in resources.get(kind, {})
                ):
                    problems.append(f"{where}: no {kind}")
            is_init = container in pod.get("initContainers", [])
            if workload["kind"] not in ("Job", "CronJob") and not is_init and PROBES_OFF not in annotations and not (
                container.get("readinessProbe") and container.get("livenessProbe")
            ):
                problems.append(f"{where}: no readiness/liveness probe and no recorded reason")
            context = container.get("securityContext", {})
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: may escalate privileges")
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: keeps capabilities")
            added = set(context.get("capabilities", {}).get("add", []))
            if added - {"NET_BIND_SERVICE"} or (added and OPT_OUT not in annotations):
                problems.append(f"{where}: adds capabilities {sorted(added)} without a recorded reason")
            non_root = context.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot"))
            if non_root is not True and OPT_OUT not in annotations:
                problems.append(f"{where}: may run as root without a recorded reason")
            if context.get("readOnlyRootFilesystem") is not True and OPT_OUT not in annotations:
                problems.append(f"{where}: writable root filesystem without a recorded reason")
        if pod.get("securityContext", {}).get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{label}: no seccomp profile")
    assert problems == []


def test_no_secret_value_appears_in_an_env_literal(stack):
    leaks = []
    for workload in _workloads(stack):
        pod = _template(workload)["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            for env in container.get("env", []):
                value = env.get("value", "")
                if any(secret in value for secret in stack.secret_values):
                    leaks.append(f"{workload['metadata']['name']}/{container['name']}: {env['name']}")
    assert stack.secret_values, "the stack generates passwords"
    assert leaks == []


def test_the_invariant_checks_catch_a_broken_object():
    """The helpers above must see a violation when one exists (a guard against checks that cannot fail)."""
    service = {"spec": {"selector": {"app": "x"}}}
    assert not _selects(service["spec"]["selector"], {"app": "y"})
    assert _selects(service["spec"]["selector"], {"app": "x", "other": "z"})
