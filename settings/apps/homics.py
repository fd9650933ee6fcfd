"""Settings of the Homics app (stack config `apps.homics`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class HomicsSettings:
    enabled: bool = setting("enabled", "Deploy the Homics app.", boolean, default=True)
