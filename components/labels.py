"""Kubernetes recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)."""

from __future__ import annotations

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"

RECOMMENDED_KEYS = (NAME, INSTANCE, COMPONENT, PART_OF, MANAGED_BY)
# On a store's pods, StatefulSet and shared claim (value "true"): the pods whose claims hold data, which a backup
# selects (a backed-up pod brings its claims and volumes).
STORE_LABEL = "aks-microservices.io/store"


def recommended_labels(name: str, instance: str, component: str, part_of: str) -> dict[str, str]:
    """The five recommended labels, put on every object and pod template the components create."""
    return {
        NAME: name,
        INSTANCE: instance,
        COMPONENT: component,
        PART_OF: part_of,
        MANAGED_BY: "pulumi",
    }


def selector_labels(name: str, instance: str) -> dict[str, str]:
    """Only `name` and `instance`: workload selectors are immutable, so they carry nothing that may change."""
    return {NAME: name, INSTANCE: instance}
