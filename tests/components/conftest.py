"""Checks every component test applies to what a component renders."""

import pytest

from components.labels import RECOMMENDED_KEYS
from offline.validate import validate_object

KUBERNETES_VERSION = "1.33"


def _label_carriers(obj: dict) -> list[tuple[str, dict]]:
    """The object's own metadata and every template it stamps out (pods, claims)."""
    carriers = [(obj["kind"], obj["metadata"])]
    spec = obj.get("spec") or {}
    if "template" in spec:
        carriers.append((f"{obj['kind']} pod template", spec["template"]["metadata"]))
    for claim in spec.get("volumeClaimTemplates") or []:
        carriers.append((f"{obj['kind']} claim template", claim["metadata"]))
    return carriers


@pytest.fixture
def assert_manifests_valid():
    """Every Kubernetes object is valid for the API (strict schema: unknown fields are errors)."""

    def check(recording) -> None:
        objects = recording.k8s_objects()
        assert objects, "the program created no Kubernetes object"
        problems = {
            f"{o['kind']}/{o['metadata']['name']}": validate_object(o, KUBERNETES_VERSION) for o in objects
        }
        assert {k: v for k, v in problems.items() if v} == {}

    return check


@pytest.fixture
def assert_recommended_labels():
    """Every object, pod template and claim template carries the five recommended labels."""

    def check(recording, **expected: str) -> None:
        for obj in recording.k8s_objects():
            for where, metadata in _label_carriers(obj):
                labels = metadata.get("labels") or {}
                missing = [key for key in RECOMMENDED_KEYS if key not in labels]
                assert not missing, f"{where} {obj['metadata'].get('name')} lacks {missing}"
                assert labels["app.kubernetes.io/managed-by"] == "pulumi"
                for key, value in expected.items():
                    assert labels[f"app.kubernetes.io/{key.replace('_', '-')}"] == value, where

    return check
