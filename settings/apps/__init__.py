"""Per-app settings (stack config `apps.<app>`): one file per app, composed here."""

from __future__ import annotations

from dataclasses import dataclass

from settings.apps.fibonacci import FibonacciSettings
from settings.apps.homics import HomicsSettings
from settings.apps.knote import KnoteSettings
from settings.apps.smilr import SmilrSettings
from settings.apps.todo import TodoSettings
from settings.schema import section


@dataclass(frozen=True)
class AppsSettings:
    smilr: SmilrSettings = section("smilr", "Smilr (seed 000).", SmilrSettings)
    knote: KnoteSettings = section("knote", "Knote (seed 001).", KnoteSettings)
    todo: TodoSettings = section("todo", "To Do (seed 002).", TodoSettings)
    fibonacci: FibonacciSettings = section("fibonacci", "Fibonacci calculator (seed 003).", FibonacciSettings)
    homics: HomicsSettings = section("homics", "HOMicS marketplace (seed 004).", HomicsSettings)
