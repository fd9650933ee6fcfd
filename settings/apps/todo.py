"""Settings of the Todo app (stack config `apps.todo`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class TodoSettings:
    enabled: bool = setting("enabled", "Deploy the Todo app.", boolean, default=True)
