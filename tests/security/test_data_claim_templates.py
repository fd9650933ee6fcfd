"""Storage changes are deliberate: the dev stack's claims must match tests/security/claim_templates.baseline.json.

A StatefulSet's `volumeClaimTemplates` are immutable in Kubernetes, and so are a claim's class and access modes:
changing a claim's size, class or access modes (or renaming it) makes Pulumi replace the StatefulSet or the
claim, which at best leaves the data on volumes nothing mounts any more. This test flags every such change
and explains the safe path. The baseline is data this test checks against, not a copy of the program's
output: update it only when a storage change is intended and its migration is planned, with

    .venv/bin/python tests/security/test_data_claim_templates.py --update

and commit it with the change (the diff of the baseline is the review of the storage change).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BASELINE = Path(__file__).with_name("claim_templates.baseline.json")

SAFE_PATH = """\
Claim templates are immutable: this change would make Pulumi replace the StatefulSet (or the claim), and the
new one would not get the data, or not the new size or class. The safe paths:
- a bigger size, on a class with allowVolumeExpansion (both classes the stack creates allow it): expand each
  existing claim in place, `kubectl -n <ns> patch pvc <claim>-<statefulset>-<n> -p
  '{"spec":{"resources":{"requests":{"storage":"<size>"}}}}'`, then `kubectl -n <ns> delete statefulset <name>
  --cascade=orphan` (the pods keep running) and `pulumi up`, which recreates the set with the new template;
  it adopts the expanded claims by name;
- another class, access mode or claim name: create a new store (a new StatefulSet name) next to the old
  one, migrate the data (dump and restore, or copy between the volumes), switch the clients, then remove
  the old store (its volumes are retained until deleted by hand);
- with dataProtection on, `pulumi up` refuses to replace a protected StatefulSet or claim: that refusal is the
  guard, never work around it with `pulumi state unprotect`.
Then record the intended change with `.venv/bin/python tests/security/test_data_claim_templates.py --update`.
"""


def claim_templates(objects) -> dict[str, dict]:
    """Every claim the stack declares, keyed `Kind/namespace/owner/claim`: size, class, access modes."""

    def describe(spec: dict) -> dict:
        return {
            "size": ((spec.get("resources") or {}).get("requests") or {}).get("storage"),
            "storageClassName": spec.get("storageClassName"),
            "accessModes": list(spec.get("accessModes") or []),
        }

    claims = {}
    for obj in objects:
        kind, metadata, spec = obj.get("kind"), obj.get("metadata") or {}, obj.get("spec") or {}
        where = f"{kind}/{metadata.get('namespace')}/{metadata.get('name')}"
        if kind == "StatefulSet":
            for template in spec.get("volumeClaimTemplates") or []:
                claims[f"{where}/{template['metadata']['name']}"] = describe(template.get("spec") or {})
        elif kind == "PersistentVolumeClaim":
            claims[where] = describe(spec)
        elif kind == "InnoDBCluster":
            # The operator stamps this template into its StatefulSet: the same immutability applies.
            claims[f"{where}/datadir"] = describe(spec.get("datadirVolumeClaimTemplate") or {})
    return dict(sorted(claims.items()))


def differences(baseline: dict[str, dict], current: dict[str, dict]) -> list[str]:
    lines = []
    for key in sorted(baseline.keys() | current.keys()):
        old, new = baseline.get(key), current.get(key)
        if old == new:
            continue
        if old is None:
            lines.append(f"new claim {key}: {new} (a new store is safe: record it in the baseline)")
        elif new is None:
            lines.append(f"claim {key} is gone: {old} (its StatefulSet would be replaced, its volume orphaned)")
        else:
            changed = ", ".join(f"{field} {old[field]!r} -> {new[field]!r}" for field in old if old[field] != new[field])
            lines.append(f"claim {key} changed: {changed}")
    return lines


def render_dev_claims() -> dict[str, dict]:
    from offline.engine import run_stack  # imported here: `--update` puts the project on sys.path first

    return claim_templates(run_stack("dev").k8s_objects())


@pytest.fixture(scope="module")
def dev_claims():
    return render_dev_claims()


@pytest.fixture(scope="module")
def baseline():
    return json.loads(BASELINE.read_text())["claims"]


def test_the_dev_stacks_claims_match_the_baseline(dev_claims, baseline):
    changes = differences(baseline, dev_claims)
    if changes:
        pytest.fail("storage changed:\n" + "\n".join(f"  {c}" for c in changes) + "\n" + SAFE_PATH, pytrace=False)


def test_the_baseline_holds_the_claims_apps_md_asks_for(baseline):
    """The baseline is reviewed data: it must agree with the apps' facts, whatever the program renders."""
    expected = {
        "StatefulSet/smilr/mongodb/mongo-vol": ("500M", ["ReadWriteOnce"]),
        "StatefulSet/knote/mongo": ("256Mi", ["ReadWriteOnce"]),
        "StatefulSet/knote/minio": ("256Mi", None),
        "InnoDBCluster/todo/todo-mysql/datadir": ("2Gi", None),
        "PersistentVolumeClaim/fibonacci/shared-redis-pvc": ("5Gi", ["ReadWriteMany"]),
        "StatefulSet/fibonacci/postgres-statefulset": ("5Gi", ["ReadWriteOnce"]),
    }
    for prefix, (size, modes) in expected.items():
        matches = [claim for key, claim in baseline.items() if key == prefix or key.startswith(prefix + "/")]
        assert len(matches) == 1, prefix
        assert matches[0]["size"] == size, prefix
        if modes is not None:
            assert matches[0]["accessModes"] == modes, prefix
    # Shared by every Redis replica: on the Azure Files class; every other claim on the Azure Disk class.
    assert baseline["PersistentVolumeClaim/fibonacci/shared-redis-pvc"]["storageClassName"] == "azurefile-retain-rwx"
    others = [c for k, c in baseline.items() if k != "PersistentVolumeClaim/fibonacci/shared-redis-pvc"]
    assert {c["storageClassName"] for c in others} == {"managed-retain-disk"}


def test_a_size_change_is_reported_with_the_safe_path():
    before = {"StatefulSet/smilr/mongodb/mongo-vol": {"size": "500M", "storageClassName": "disk",
                                                      "accessModes": ["ReadWriteOnce"]}}
    after = {"StatefulSet/smilr/mongodb/mongo-vol": {**before["StatefulSet/smilr/mongodb/mongo-vol"], "size": "1Gi"}}
    assert differences(before, after) == ["claim StatefulSet/smilr/mongodb/mongo-vol changed: size '500M' -> '1Gi'"]
    assert "--cascade=orphan" in SAFE_PATH and "kubectl -n <ns> patch pvc" in SAFE_PATH


def test_a_class_change_a_removed_claim_and_a_new_claim_are_each_reported():
    claim = {"size": "5Gi", "storageClassName": "disk", "accessModes": ["ReadWriteOnce"]}
    before = {"a": claim, "b": claim}
    after = {"a": {**claim, "storageClassName": "files"}, "c": claim}
    report = differences(before, after)
    assert report[0] == "claim a changed: storageClassName 'disk' -> 'files'"
    assert report[1].startswith("claim b is gone")
    assert report[2].startswith("new claim c")


def _update() -> None:
    project = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(project))
    claims = render_dev_claims()
    # One claim per line, so that the diff of a storage change is one line per claim.
    lines = [f"    {json.dumps(key)}: {json.dumps(value)}" for key, value in claims.items()]
    comment = ("Claims of the dev stack (size, class, access modes). Update only for an intended storage change: "
               "see tests/security/test_data_claim_templates.py.")
    BASELINE.write_text(f'{{\n  "_comment": {json.dumps(comment)},\n  "claims": {{\n' + ",\n".join(lines)
                        + "\n  }\n}\n")
    print(f"wrote {BASELINE}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {sys.argv[0]} --update   (rewrites {BASELINE.name} from the dev stack)")
    _update()
