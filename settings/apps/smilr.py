"""Settings of the Smilr app (stack config `apps.smilr`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class SmilrSettings:
    enabled: bool = setting("enabled", "Deploy the Smilr app.", boolean, default=True)
