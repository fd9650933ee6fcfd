"""Per-app settings: each app's section lives beside the others, one file per app."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class AppToggle:
    enabled: bool = setting("enabled", "Deploy this app.", boolean, default=True)


@dataclass(frozen=True)
class AppsSettings:
    """Filled in by the apps; see settings/apps/<app>.py."""
