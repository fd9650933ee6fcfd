"""Pod Security Admission: namespace labels that make the API server refuse pods weaker than a profile.

Every app namespace enforces `restricted` unless a pod that must run there cannot meet it (an image that needs
root, a third-party operator's pods); then it enforces `baseline`, and the reason is recorded on the namespace
(annotation `aks-microservices/pod-security-exception`) as well as next to the workload that needs it. `audit`
and `warn` always stay at `restricted`, so the API server reports every pod that keeps a namespace from it.
The profile version is pinned to the cluster's Kubernetes minor version, so an upgrade never tightens or
loosens the checks behind the stack's back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from . import _checks as c

LEVELS = ("restricted", "baseline")
MODES = ("enforce", "audit", "warn")
LABEL_PREFIX = "pod-security.kubernetes.io"
EXCEPTION_ANNOTATION = "aks-microservices/pod-security-exception"
_MINOR_VERSION = re.compile(r"(?P<minor>[0-9]+\.[0-9]+)(\.[0-9]+)?")


@dataclass(frozen=True, kw_only=True)
class PodSecurity:
    """The profile a namespace enforces: `restricted` (the default), or `baseline` with a `reason`."""

    level: Literal["restricted", "baseline"] = "restricted"
    reason: str | None = None

    def __post_init__(self) -> None:
        c.check_one_of("PodSecurity", "level", self.level, LEVELS)
        if self.level == "restricted" and self.reason is not None:
            c.fail("PodSecurity", "reason", "None for restricted (nothing is relaxed)", self.reason)
        if self.level != "restricted" and (not isinstance(self.reason, str) or not self.reason.strip()):
            c.fail("PodSecurity", "reason", f"why the namespace cannot enforce restricted (level {self.level!r})",
                   self.reason)

    @classmethod
    def baseline(cls, reason: str) -> PodSecurity:
        return cls(level="baseline", reason=reason)

    def labels(self, kubernetes_version: str) -> dict[str, str]:
        """`pod-security.kubernetes.io/{enforce,audit,warn}` and their `-version` (`v<major>.<minor>`)."""
        match = _MINOR_VERSION.fullmatch(kubernetes_version) if isinstance(kubernetes_version, str) else None
        if match is None:
            c.fail("PodSecurity", "kubernetes_version", "a Kubernetes version such as '1.33'", kubernetes_version)
        version = f"v{match['minor']}"
        levels = {"enforce": self.level, "audit": "restricted", "warn": "restricted"}
        labels = {f"{LABEL_PREFIX}/{mode}": levels[mode] for mode in MODES}
        labels.update({f"{LABEL_PREFIX}/{mode}-version": version for mode in MODES})
        return labels

    def annotations(self) -> dict[str, str]:
        return {EXCEPTION_ANNOTATION: self.reason} if self.reason else {}
