"""The Knote app (stub: to be composed from components)."""

from __future__ import annotations

import pulumi

from infra import Platform
from settings import StackSettings
from settings.apps.knote import KnoteSettings


def images(settings: KnoteSettings) -> set[str]:
    return set()


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    return {}
