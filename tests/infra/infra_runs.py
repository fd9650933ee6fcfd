"""Helpers for the platform tests: the real program for a stack, or `build_platform` alone with given images.

A plain module (imported by the tests of this folder), not a conftest: helpers are functions, not fixtures.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable, Iterable
from typing import Any

import pulumi

from infra import build_platform
from offline.engine import PROJECT_DIR, Recording, run
from offline.stack_config import StackConfig, load_stack_config
from settings import load_settings

APPS = ("smilr", "knote", "todo", "fibonacci", "homics")
NO_APPS = {"apps": {app: {"enabled": False} for app in APPS}}


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> StackConfig:
    """A stack's config files plus overrides, as `pulumi config set --path` would leave them."""
    config = load_stack_config(PROJECT_DIR, stack)
    values = dict(config.values)
    for key, value in (overrides or {}).items():
        full = f"{config.project}:{key}"
        if isinstance(value, str):
            values[full] = value
        elif isinstance(value, bool):
            values[full] = "true" if value else "false"
        else:
            values[full] = json.dumps(value)
    return StackConfig(project=config.project, stack=stack, values=values, secret_keys=config.secret_keys)


def platform_only(
    overrides: dict[str, Any] | None = None,
    images: Iterable[str] = (),
    stack: str = "dev",
    use: Callable[[Any], Any] | None = None,
) -> Recording:
    """Run `build_platform` for a stack's config and `images`; `recording.value` is `(platform, use(platform))`."""

    def program():
        platform = build_platform(load_settings(), set(images))
        return platform, (use(platform) if use else None)

    return run(program, stack=stack, config=stack_config(stack, overrides))


def main_until_error(stack: str, overrides: dict[str, Any]) -> tuple[Recording, Exception | None]:
    """Run the real `__main__.py` and catch the `RunError` it raises for bad config, keeping the recording."""
    caught: list[Exception] = []

    def program():
        try:
            runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")
        except pulumi.RunError as error:
            caught.append(error)

    recording = run(program, stack=stack, config=stack_config(stack, overrides))
    return recording, (caught[0] if caught else None)
