"""Settings of the Knote app (stack config `apps.knote`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class KnoteSettings:
    enabled: bool = setting("enabled", "Deploy the Knote app.", boolean, default=True)
