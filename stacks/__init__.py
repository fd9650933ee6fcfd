"""The five applications. Each module composes components into one app and exposes:

- `images(settings) -> set[str]`: the public images the app runs (the platform caches them);
- `deploy(settings, platform) -> dict[str, pulumi.Input]`: creates the app, returns its stack outputs.
"""

from __future__ import annotations

from types import ModuleType

import pulumi

from infra import Platform
from settings import StackSettings
from stacks import fibonacci, homics, knote, smilr, todo

# App key (as in config `apps.<key>`) -> module, in deployment order.
APPS: dict[str, ModuleType] = {
    "smilr": smilr,
    "knote": knote,
    "todo": todo,
    "fibonacci": fibonacci,
    "homics": homics,
}


def enabled_apps(settings: StackSettings) -> dict[str, ModuleType]:
    return {key: module for key, module in APPS.items() if getattr(settings.apps, key).enabled}


def images_used(settings: StackSettings) -> set[str]:
    used: set[str] = set()
    for module in enabled_apps(settings).values():
        used |= module.images(getattr(settings.apps, _key_of(module)))
    return used


def deploy_apps(settings: StackSettings, platform: Platform) -> dict[str, dict[str, pulumi.Input]]:
    # `make render` fails on shadowed Ingresses; `pulumi up` says so before it registers them.
    for conflict in settings.ingress_host_conflicts():
        pulumi.log.warn(conflict)
    return {key: module.deploy(settings, platform) for key, module in enabled_apps(settings).items()}


def _key_of(module: ModuleType) -> str:
    return next(key for key, m in APPS.items() if m is module)
