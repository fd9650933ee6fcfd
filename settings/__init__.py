"""Typed, validated stack settings, loaded once from the stack's config before any resource exists."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import config as runtime_config

from settings.apps import AppsSettings
from settings.availability import AvailabilitySettings
from settings.platform import PlatformSettings
from settings.schema import (
    NAMESPACE,
    Check,
    ConfigError,
    Invalid,
    boolean,
    describe,
    inline,
    load_section,
    section,
    setting,
)
from settings.secrets import SecretSettings

__all__ = ["NAMESPACE", "ConfigError", "SecretSettings", "StackSettings", "describe_all", "load_settings"]


_MINOR_VERSION = re.compile(r"1\.(2[7-9]|3[0-7])")


def _kubernetes_version(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _MINOR_VERSION.fullmatch(value):
        return value
    if isinstance(value, str) and _MINOR_VERSION.fullmatch(value + "0"):
        # YAML reads an unquoted 1.30 as the number 1.3, and Pulumi hands the program "1.3".
        raise Invalid(hint=f'an unquoted {value}0 in YAML is the number {value}: quote it, kubernetesVersion: "{value}0"')
    raise ValueError


KUBERNETES_VERSION = Check('a supported minor version from "1.27" to "1.37"', _kubernetes_version)

# Config namespaces this program knows besides its own: the providers' (a stack may set their options).
_OTHER_NAMESPACES = frozenset({"pulumi", "kubernetes", "azure-native", "azure", "random"})


@dataclass(frozen=True)
class StackSettings:
    """The whole stack's settings: the platform it runs on and the apps it deploys."""

    kubernetes_version: str = setting(
        "kubernetesVersion",
        "Kubernetes minor version of the cluster; manifests are validated against its API schema. At least"
        " 1.27: the workloads use topology-spread `matchLabelKeys` and the PDB `unhealthyPodEvictionPolicy`,"
        " enabled by default from 1.27.",
        KUBERNETES_VERSION,
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
                f"exposed as NodePort (existing.exposure), got null: {smilr.api_endpoint_hint()}"
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
        for app, app_settings in self.apps.by_app().items():
            if not app_settings.enabled:
                continue
            for key, replicas in app_settings.replicated_tiers().items():
                if replicas < 2:
                    raise ConfigError(
                        f"{NAMESPACE}:apps.{app}.{key}: expected an integer >= 2 when "
                        "availability.allowSingleReplicaTiers is false (one pod goes down with its node), "
                        f"got {replicas}"
                    )

    def ingress_host_conflicts(self) -> list[str]:
        """Apps whose Ingresses claim one host: they share one ingress-nginx server, where each claims `/` (and
        Fibonacci's regex paths take every request). One line per host naming the settings that fix it. The
        render fails on such Ingresses (offline/routes.py models the full rules); `pulumi up` warns. Not an
        error on load: the defaults alone (every app on, no domain, the seeds' host-less rules) stay loadable."""
        apps = self.apps
        claims: dict[str | None, list[tuple[str, str]]] = {}
        for app, key, has_ingress, own in (
            ("todo", "apps.todo.host", apps.todo.enabled and apps.todo.ingress, apps.todo.host),
            ("fibonacci", "apps.fibonacci.ingressHost", apps.fibonacci.enabled, apps.fibonacci.ingress_host),
            ("homics", "apps.homics.gatewayHost",
             apps.homics.enabled and apps.homics.gateway_exposure == "Ingress", apps.homics.gateway_host),
        ):
            if has_ingress:
                claims.setdefault(apps.ingress_host(app, own), []).append((app, key))
        conflicts = []
        for host, claimants in claims.items():
            if len(claimants) < 2:
                continue
            names = " and ".join(app for app, _ in claimants)
            shown = "any host (no host set)" if host is None else f'host "{host}"'
            conflicts.append(
                f"{NAMESPACE}:apps.domain: {names} share the Ingresses' {shown} on one ingress class, where one "
                f"app's paths take the other's requests; set apps.domain or a host per app "
                f"({', '.join(key for _, key in claimants)})"
            )
        return conflicts


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


def _check_namespaces() -> None:
    """A key in a namespace that is a typo of ours (`aks-microservice:cluster`) would be silently ignored."""
    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    for full in sorted(merged):
        namespace, _, key = full.partition(":")
        if namespace == NAMESPACE or namespace in _OTHER_NAMESPACES or not key:
            continue
        if _edits(namespace.lower(), NAMESPACE) <= 2:  # a typo, not another namespace
            raise ConfigError(
                f"{full}: unknown config namespace {namespace!r} (did you mean {NAMESPACE!r}?): this program "
                f"reads only {NAMESPACE}:* keys"
            )


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions turning `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def _check_secrets_are_secret(settings: StackSettings) -> None:
    """A value under `secrets` must be Pulumi secret config: a clear-text one would sit unencrypted in the
    stack file and in git."""
    given = [doc.key for doc in describe(SecretSettings, "secrets")
             if getattr(settings.secrets, _attribute(doc.key.split(".", 1)[1]))]
    if given and not is_secret_config("secrets"):
        raise ConfigError(
            f"{NAMESPACE}:{given[0]}: expected a Pulumi secret, got a clear-text value (value hidden): set it with "
            f"`pulumi config set --secret --path {given[0]} <value>`"
        )


def _attribute(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def load_settings() -> StackSettings:
    """Read and validate all of the stack's config. Raises `ConfigError` (one line) on any bad key or value."""
    _check_namespaces()
    raw = {key: _parse(key, value) for key, value in _namespace_keys().items()}
    settings = load_section(StackSettings, raw)
    _check_secrets_are_secret(settings)
    return settings


def is_secret_config(key: str) -> bool:
    return runtime_config.is_config_secret(f"{NAMESPACE}:{key}")


def describe_all():
    return describe(StackSettings)

