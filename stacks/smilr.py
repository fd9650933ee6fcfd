"""The Smilr app (stub: to be composed from components)."""

from __future__ import annotations

import pulumi

from infra import Platform
from settings import StackSettings
from settings.apps.smilr import SmilrSettings


def images(settings: SmilrSettings) -> set[str]:
    return set()


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    return {}
