"""Per-app settings (stack config `apps.<app>`): one file per app, composed here."""

from __future__ import annotations

from dataclasses import dataclass

from settings.apps.fibonacci import FibonacciSettings
from settings.apps.homics import HomicsSettings
from settings.apps.knote import KnoteSettings
from settings.apps.smilr import SmilrSettings
from settings.apps.todo import TodoSettings
from settings.schema import matching, optional, section, setting

DOMAIN = matching(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+", "a DNS domain such as apps.example.com"
)
# The host each app's Ingress gets under `apps.domain`: `<prefix>.<domain>`.
HOST_PREFIXES = {"todo": "todo", "fibonacci": "fibonacci", "homics": "homics"}


@dataclass(frozen=True)
class AppsSettings:
    domain: str | None = setting(
        "domain",
        "DNS domain of the apps' Ingress hosts: To Do, Fibonacci and HOMicS (gatewayExposure Ingress) answer on "
        "`todo.<domain>`, `fibonacci.<domain>` and `homics.<domain>` unless their own host is set. Unset: an "
        "app without a host answers any host, which only one app on an ingress class may do (the render "
        "fails on Ingresses that shadow each other).",
        optional(DOMAIN),
        default=None,
    )
    smilr: SmilrSettings = section("smilr", "Smilr (seed 000).", SmilrSettings)
    knote: KnoteSettings = section("knote", "Knote (seed 001).", KnoteSettings)
    todo: TodoSettings = section("todo", "To Do (seed 002).", TodoSettings)
    fibonacci: FibonacciSettings = section("fibonacci", "Fibonacci calculator (seed 003).", FibonacciSettings)
    homics: HomicsSettings = section("homics", "HOMicS marketplace (seed 004).", HomicsSettings)

    def by_app(self) -> dict[str, SmilrSettings | KnoteSettings | TodoSettings | FibonacciSettings | HomicsSettings]:
        """Each app's section by its config name (`apps.<app>`), without the stack-wide keys such as `domain`."""
        return {"smilr": self.smilr, "knote": self.knote, "todo": self.todo, "fibonacci": self.fibonacci,
                "homics": self.homics}

    def ingress_host(self, app: str, own: str | None) -> str | None:
        """The host `app`'s Ingress matches: its own setting, else `<prefix>.<domain>`, else None (any host)."""
        if own is not None or self.domain is None:
            return own
        return f"{HOST_PREFIXES[app]}.{self.domain}"
