"""Availability in production: every workload rides out a node drain and a zone loss, or says why not.

A Deployment or StatefulSet of a production stack that does not carry the annotation
`aks-microservices.io/disruption-allowed` (its reason for being allowed to reach zero ready pods, what the
components' `disruption_allowed` writes) must run at least two pods (its replicas, or the minimum of the HPA
that scales it), have a PodDisruptionBudget that selects its pods, and spread them over
`topology.kubernetes.io/zone` with `whenUnsatisfiable: DoNotSchedule`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from ._props import UNKNOWN, config_list, describe, get, items, kubernetes_kind, stack_of

DISRUPTION_ALLOWED_ANNOTATION = "aks-microservices.io/disruption-allowed"
ZONE_KEY = "topology.kubernetes.io/zone"
DEFAULT_PRODUCTION_STACKS = ("prod", "production")


def _labels(node: Any) -> dict[str, Any]:
    return {key: get(node, key) for key in node} if isinstance(node, Mapping) else {}


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def _check(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    production = set(config_list(dict(args.get_config() or {}), "productionStacks", DEFAULT_PRODUCTION_STACKS))
    resources = list(args.resources)
    if not resources or stack_of(resources[0].urn) not in production:
        return
    budgets, hpa_minimums = [], {}
    for resource in resources:
        kind = kubernetes_kind(resource.resource_type)
        namespace = get(resource.props, "metadata", "namespace")
        if kind == "PodDisruptionBudget":
            budgets.append((namespace, _labels(get(resource.props, "spec", "selector", "matchLabels"))))
        elif kind == "HorizontalPodAutoscaler":
            target = get(resource.props, "spec", "scaleTargetRef", "name")
            hpa_minimums[(namespace, target)] = get(resource.props, "spec", "minReplicas", default=1)
    for resource in resources:
        kind = kubernetes_kind(resource.resource_type)
        if kind not in ("Deployment", "StatefulSet"):
            continue
        props = resource.props
        reason = get(props, "metadata", "annotations", DISRUPTION_ALLOWED_ANNOTATION)
        if reason is UNKNOWN or (isinstance(reason, str) and reason.strip()):
            continue
        label = describe(kind, props, resource.name)
        namespace, name = get(props, "metadata", "namespace"), get(props, "metadata", "name")
        pods = hpa_minimums.get((namespace, name), get(props, "spec", "replicas", default=1))
        problems = []
        if pods is not UNKNOWN and isinstance(pods, int) and pods < 2:
            problems.append(f"runs {pods} pod")
        pod_labels = _labels(get(props, "spec", "template", "metadata", "labels"))
        if not any(ns == namespace and _selects(selector, pod_labels) for ns, selector in budgets):
            problems.append("has no PodDisruptionBudget")
        spread = items(props, "spec", "template", "spec", "topologySpreadConstraints")
        if not any(get(c, "topologyKey") == ZONE_KEY and get(c, "whenUnsatisfiable") == "DoNotSchedule"
                   for c in spread):
            problems.append(f"does not spread over {ZONE_KEY} with DoNotSchedule")
        if problems:
            report_violation(
                f"{label} of production stack {stack_of(resource.urn)!r} {', '.join(problems)}: run at least 2 pods "
                "with a PodDisruptionBudget and a hard zone spread (availability.* settings), or declare why it may "
                f"reach zero ready pods (annotation {DISRUPTION_ALLOWED_ANNOTATION})", resource.urn)


workloads_survive_disruption_in_production = StackValidationPolicy(
    name="workloads-survive-disruption-in-production",
    description="In production stacks every Deployment and StatefulSet runs 2+ pods with a PDB and a hard zone "
                "spread, unless it declares why it may reach zero ready pods.",
    validate=_check,
    config_schema=PolicyConfigSchema(properties={
        "productionStacks": {
            "type": "array", "items": {"type": "string"}, "default": list(DEFAULT_PRODUCTION_STACKS),
            "description": "Stack names that are production.",
        },
    }),
)

POLICIES = [workloads_survive_disruption_in_production]
