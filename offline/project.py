"""This repository's render extensions (extensions.py), named by its pyproject.toml.

They apply to this project only: another project gets them only by naming them in its own pyproject.toml
(the capacity check and the GitOps Stack work for any project that follows the same conventions).

- `KubernetesVersionFromSettings`: the stack's `kubernetesVersion`, else the default of this project's settings;
- `ExplicitIdentity`: every object names itself and its namespace (object names are part of the contract);
- `OperatorStack`: `gitops/stack.yaml`, the Pulumi Kubernetes Operator Stack that deploys the stack (gitops.py);
- `CostEstimate`: an estimated monthly cost of the stack's Azure resources appended to `summary.md` (cost.py);
- `CapacityCheck`: the apps at their maximum replicas must fit the node pools at their maximum size
  (capacity.py); the render fails when they do not.
"""

from __future__ import annotations

from typing import Any

from . import gitops
from .capacity import check_capacity
from .cost import estimate as estimate_cost
from .extensions import Rendered
from .validate import explicit_identity_problems


class KubernetesVersionFromSettings:
    """`<project>:kubernetesVersion` of the stack, else `settings.StackSettings().kubernetes_version`."""

    def kubernetes_version(self, recording: Any) -> str:
        configured = recording.config.get(f"{recording.project}:kubernetesVersion")
        if configured:
            return configured
        from settings import StackSettings  # this project's settings, on sys.path with its folder

        return StackSettings().kubernetes_version


class ExplicitIdentity:
    """No object is left to the provider's auto-naming or default namespace (validate.explicit_identity_problems)."""

    def object_problems(self, manifest: dict) -> list[str]:
        return explicit_identity_problems(manifest)


class OperatorStack:
    """The Pulumi Kubernetes Operator `Stack` of the rendered stack, in OUT/gitops (gitops.py)."""

    def after_render(self, rendered: Rendered) -> None:
        rendered.result.files += gitops.write(rendered.recording, rendered.out)


class CostEstimate:
    """Appends the stack's estimated monthly cost to summary.md and prints its total (cost.py)."""

    def after_render(self, rendered: Rendered) -> None:
        cost = estimate_cost(rendered.manifests, rendered.resources)
        rendered.result.cost = cost
        summary = rendered.out / "summary.md"
        summary.write_text(summary.read_text().rstrip("\n") + "\n\n" + rendered.redact(cost.markdown()))
        if cost.priced:
            rendered.progress(f"cost: about {cost.total()} a month (an estimate: see summary.md)")


class CapacityCheck:
    """Prints the capacity report and fails the render when the apps do not fit (capacity.py)."""

    def after_render(self, rendered: Rendered) -> None:
        report = check_capacity(rendered.recording)
        rendered.result.capacity = report
        for line in report.lines():
            rendered.progress(line)
        if not report.fits:
            rendered.error(report.error())


EXTENSIONS = (KubernetesVersionFromSettings(), ExplicitIdentity(), OperatorStack(), CostEstimate(), CapacityCheck())
