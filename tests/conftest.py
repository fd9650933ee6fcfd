"""Shared test setup: a deterministic, time-bounded hypothesis profile (the suite must stay fast)."""

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

hypothesis_settings.register_profile(
    "project",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.load_profile("project")


# Many modules check the same stacks. Running the real program once per distinct (stack, overrides) and
# sharing the Recording keeps the suite fast; tests only read recordings, never change them. Runs that
# raise are not cached, so every error path still runs the program.
import json  # noqa: E402

import offline.engine as _engine  # noqa: E402

_run_stack_uncached = _engine.run_stack
_recordings: dict[tuple, _engine.Recording] = {}


def _run_stack_shared(stack, *, project_dir=_engine.PROJECT_DIR, overrides=None, seed=None, **options):
    key = (stack, str(project_dir), json.dumps(overrides, sort_keys=True, default=str), seed,
           tuple(sorted(options.items())))
    if key not in _recordings:
        _recordings[key] = _run_stack_uncached(
            stack, project_dir=project_dir, overrides=overrides, seed=seed, **options
        )
    return _recordings[key]


_engine.run_stack = _run_stack_shared
