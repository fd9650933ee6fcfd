"""Settings of the Fibonacci app (stack config `apps.fibonacci`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, setting


@dataclass(frozen=True)
class FibonacciSettings:
    enabled: bool = setting("enabled", "Deploy the Fibonacci app.", boolean, default=True)
