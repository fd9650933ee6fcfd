"""Platform settings: where the apps run (a new AKS cluster, or an existing cluster). Owned by infra/."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import one_of, setting


@dataclass(frozen=True)
class PlatformSettings:
    kind: str = setting(
        "platform",
        "`aks`: create an AKS cluster and an Azure Container Registry; `existing`: deploy to the cluster of a kubeconfig, no Azure.",
        one_of("aks", "existing"),
        default="aks",
    )
