"""Test helpers: run a Pulumi Python program under the offline engine and inspect what it registered.

    from aks_microservices.offline.testing import run_program, run_project

    def test_the_web_deployment_has_two_replicas():
        recording = run_project("infra", "dev")                  # infra/Pulumi.yaml, Pulumi.dev.yaml, program
        assert recording.k8s("Deployment", "web")["spec"]["replicas"] == 2

    def test_a_function_as_a_program():
        recording = run_program(lambda: make_web(), config={"replicas": 3})
        assert recording.of_type("kubernetes:apps/v1:Deployment")

No cloud, no Pulumi CLI, no cluster: every call runs in the test's process, from fresh Pulumi runtime state,
so any number of programs run in one session. The `Recording` returned holds every resource with its inputs
(`resources`, `of_type`, `k8s`, `k8s_objects`, `children_of`), the stack outputs and the secrets the run saw.
An exception raised by the program (bad config, invalid component args) propagates to the test unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .engine import RecordedResource, Recording, run, run_stack
from .validate import DEFAULT_KUBERNETES_VERSION, validate_object

__all__ = ["RecordedResource", "Recording", "run_program", "run_project", "validation_errors"]


def run_project(project_dir: str | Path, stack: str, *, config: Mapping[str, Any] | None = None,
                seed: int | None = None) -> Recording:
    """Run the program of the Pulumi project in `project_dir` for `stack` (its `Pulumi.yaml`,
    `Pulumi.<stack>.yaml` and program), with `config` overriding or adding config values (`key` of the
    project or `namespace:key`; maps and lists as the CLI passes them, JSON)."""
    return run_stack(stack, project_dir=Path(project_dir).resolve(), overrides=dict(config) if config else None,
                     seed=seed)


def run_program(program: Callable[[], Any], *, config: Mapping[str, Any] | None = None, project: str = "project",
                stack: str = "test", seed: int | None = None) -> Recording:
    """Run `program` (a function that declares resources) as the program of project `project`, stack `stack`,
    with `config` (bare keys belong to `project`). Its return value is `Recording.value`."""
    return run(program, stack=stack, project=project, config=dict(config) if config else None, seed=seed)


def validation_errors(recording: Recording, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> list[str]:
    """Every schema problem of the recorded Kubernetes objects, as `kind/name: message` (empty: all valid)."""
    return [f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}: {problem}"
            for obj in recording.k8s_objects() for problem in validate_object(obj, kubernetes_version)]
