"""Typed, validated stack settings, loaded once from the stack's config before any resource exists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import config as runtime_config

from settings.apps import AppsSettings
from settings.availability import AvailabilitySettings
from settings.platform import PlatformSettings
from settings.schema import (
    NAMESPACE,
    ConfigError,
    boolean,
    describe,
    inline,
    load_section,
    matching,
    section,
    setting,
)
from settings.secrets import SecretSettings

__all__ = ["NAMESPACE", "ConfigError", "SecretSettings", "StackSettings", "describe_all", "load_settings"]


@dataclass(frozen=True)
class StackSettings:
    """The whole stack's settings: the platform it runs on and the apps it deploys."""

    kubernetes_version: str = setting(
        "kubernetesVersion",
        "Kubernetes minor version of the cluster; manifests are validated against its API schema. At least"
        " 1.27: the workloads use topology-spread `matchLabelKeys` and the PDB `unhealthyPodEvictionPolicy`,"
        " enabled by default from 1.27.",
        matching(r"1\.(2[7-9]|3[0-7])", 'a supported minor version from "1.27" to "1.37"'),
        default="1.33",
    )
    data_protection: bool = setting(
        "dataProtection",
        "Protect stateful resources (stores, their claims and namespaces) from deletion by `pulumi destroy` or replacement.",
        boolean,
        default=True,
    )
    platform: PlatformSettings = inline(PlatformSettings)
    availability: AvailabilitySettings = section(
        "availability", "How workloads ride out node drains and zone losses.", AvailabilitySettings
    )
    apps: AppsSettings = section("apps", "Which apps are deployed, and their knobs.", AppsSettings)
    secrets: SecretSettings = section(
        "secrets",
        "Optional secret values (set with `pulumi config set --secret --path`); generated when absent.",
        SecretSettings,
    )

    def __post_init__(self) -> None:
        # Checks that span sections run here, so they too fail before any resource is registered.
        smilr = self.apps.smilr
        exposure = self.platform.existing.exposure
        if self.platform.kind == "existing" and exposure == "NodePort" and smilr.enabled and smilr.api_endpoint is None:
            raise ConfigError(
                f"{NAMESPACE}:apps.smilr.apiEndpoint: expected the data API's public URL when Services are "
                "exposed as NodePort (existing.exposure), got null"
            )
        self._check_availability()

    def _check_availability(self) -> None:
        availability = self.availability
        if availability.zone_spread == "hard" and self.platform.kind == "aks" and not self.platform.cluster.zones:
            # AKS nodes outside availability zones share one zone value: a hard spread would promise nothing.
            raise ConfigError(
                f'{NAMESPACE}:availability.zoneSpread: expected "soft" when cluster.zones is empty (a hard '
                'spread over zones needs nodes in zones), got "hard"'
            )
        if availability.zone_spread == "hard" and self.platform.kind == "aks":
            # Pods that survive a zone loss are worth little if their store's volume stays in the lost zone.
            storage = self.platform.storage
            for key, sku in (("perReplicaSku", storage.per_replica_sku), ("sharedSku", storage.shared_sku)):
                if not sku.endswith("_ZRS"):
                    raise ConfigError(
                        f'{NAMESPACE}:storage.{key}: expected a zone-redundant SKU (ending in "_ZRS") with '
                        'availability.zoneSpread "hard" (a store on a zonal volume cannot come back while its '
                        f'zone is down), got "{sku}"'
                    )
        if availability.allow_single_replica_tiers:
            return
        for app, app_settings in vars(self.apps).items():
            if not app_settings.enabled:
                continue
            for key, replicas in app_settings.replicated_tiers().items():
                if replicas < 2:
                    raise ConfigError(
                        f"{NAMESPACE}:apps.{app}.{key}: expected an integer >= 2 when "
                        "availability.allowSingleReplicaTiers is false (one pod goes down with its node), "
                        f"got {replicas}"
                    )


def _namespace_keys() -> dict[str, str]:
    """Every config key of our namespace, as the language host received it (unparsed strings)."""
    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = NAMESPACE + ":"
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}


def _parse(key: str, raw: Any) -> Any:
    # The CLI passes structured values as JSON strings and scalars as plain strings.
    if isinstance(raw, str) and raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(f"{NAMESPACE}:{key}: not valid JSON") from None
    return raw


def load_settings() -> StackSettings:
    """Read and validate all of the stack's config. Raises `ConfigError` (one line) on any bad key or value."""
    raw = {key: _parse(key, value) for key, value in _namespace_keys().items()}
    return load_section(StackSettings, raw)


def is_secret_config(key: str) -> bool:
    return runtime_config.is_config_secret(f"{NAMESPACE}:{key}")


def describe_all():
    return describe(StackSettings)

