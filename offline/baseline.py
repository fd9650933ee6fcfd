"""The plain way to run a program under mocks, as Pulumi's docs show it: the reference the engine is held to.

`run_with_stock_monitor` runs a program with Pulumi's own `MockMonitor`, thread-pool RPCs and
`wait_for_rpcs`, and a `Mocks` subclass that appends `(type, name, inputs)` for every registration. The
offline engine must register exactly the same resources with the same inputs (tests/offline/test_baseline.py);
the benchmark (bench/bench.py) measures both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func

from .mocks import OfflineMocks
from .stack_config import StackConfig


def _plain(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, pulumi.Resource):
        return "<resource reference>"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class PlainRecordingMocks(pulumi.runtime.Mocks):
    """The docs' recording mocks: remember each registration, echo inputs as outputs."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.records.append((args.typ, args.name, args.inputs))
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class RecordingOfflineMocks(OfflineMocks):
    """The engine's realistic outputs, recorded the docs' way (for programs that read provider outputs)."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.records: list[tuple[str, str, dict]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.records.append((args.typ, args.name, _plain(args.inputs)))
        return super().new_resource(args)


def run_with_stock_monitor(
    program: Callable[[], Any],
    mocks: pulumi.runtime.Mocks,
    *,
    project: str,
    stack: str,
    config: StackConfig | None = None,
) -> None:
    """Run `program` under `pulumi.runtime.set_mocks` with nothing of the engine's own machinery."""
    runtime_settings.ROOT.set(None)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        if config is not None:
            runtime_config.set_all_config(dict(config.values), list(config.secret_keys))
        else:
            runtime_config.set_all_config({}, [])
        pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
        # set_mocks keeps the previous program's outputs set (with any errored outputs of a failed program).
        runtime_settings.SETTINGS.outputs = set()
        loop.run_until_complete(run_pulumi_func(program))
    finally:
        runtime_settings.ROOT.set(None)
        loop.close()


def normalized(records: list[tuple[str, str, dict]]) -> list[str]:
    """Registrations as comparable, order-independent JSON lines."""
    return sorted(json.dumps([t, n, _plain(i)], sort_keys=True) for t, n, i in records)
