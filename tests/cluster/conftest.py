"""The cluster tier's shared fixture: one real control plane for the whole tier (see controlplane.py).

Starting etcd, kube-apiserver, kube-controller-manager and kube-scheduler takes 10-20 s here, so the tier
starts them once per session and runs its scenarios in order on the same cluster; every scenario starts by
putting the cluster back to the same state (every node alive and schedulable, no out-of-service taint, HPA
targets at their minimum, every workload at its desired state) and checks it. Broken renders are applied to
namespaces of their own (`tier-*`) and deleted after use, so they never share a workload with the stack.

Without binaries the tier is skipped with one line saying what is missing. Logs of every component stay in
build/cluster-tier/logs/ (overwritten on the next run); figures go to build/cluster-tier/report.md.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from controlplane import PROJECT_DIR, ControlPlane, find_binaries
from kube import Kube
from observe import ReadyTracker
from simnodes import SimCluster
from stackload import Stack, load

OUT = PROJECT_DIR / "build" / "cluster-tier"


class Report:
    """Sections of build/cluster-tier/report.md, written when the session ends."""

    def __init__(self, path: Path):
        self.path, self.sections, self.started = path, {}, time.monotonic()

    def add(self, title: str, lines: list[str]) -> None:
        self.sections[title] = lines

    def write(self, header: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = ["# Cluster tier report", "", *header, ""]
        for title, lines in self.sections.items():
            body += [f"## {title}", "", *lines, ""]
        self.path.write_text("\n".join(body))


class Cluster:
    def __init__(self, plane: ControlPlane, kube: Kube, sim: SimCluster, tracker: ReadyTracker, stack: Stack,
                 report: Report):
        self.plane, self.kube, self.sim, self.tracker, self.stack, self.report = plane, kube, sim, tracker, stack, report
        self.apply_result = None
        self.timings: dict[str, float] = {}


@pytest.fixture(scope="session")
def binaries():
    found, why = find_binaries()
    if found is None:
        pytest.skip(f"cluster tier skipped: {why}")
    return found


@pytest.fixture(scope="session")
def dev_stack() -> Stack:
    # dev by default (what CI runs); CLUSTER_TIER_STACK names another stack file's stack.
    return load(os.environ.get("CLUSTER_TIER_STACK", "dev"))


@pytest.fixture(scope="session")
def scenario_times() -> dict[str, tuple[float, str]]:
    return {}


@pytest.fixture(autouse=True)
def _timed(request, scenario_times):
    started = time.monotonic()
    yield
    call = getattr(request.node, "rep_call", None)
    outcome = call.outcome if call is not None else "skipped or error"
    if "cluster" in request.fixturenames:  # the scenarios, not the unit tests beside them
        scenario_times[request.node.name] = (round(time.monotonic() - started, 1), outcome)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report


@pytest.fixture(scope="session")
def cluster(binaries, dev_stack, scenario_times):
    report = Report(OUT / "report.md")
    started = time.monotonic()
    plane = ControlPlane(binaries, OUT / "logs").start()
    boot = time.monotonic() - started
    kube = Kube(plane.kubeconfig)
    sim = SimCluster(kube, dev_stack.location)
    tracker = None
    try:
        sim.start()  # leases renewed from the first node on: creating 14 nodes can outlast the grace period
        for pool in dev_stack.pools:
            for index in range(pool.max_nodes):
                sim.add_node(pool, index)
        tracker = ReadyTracker(kube).start()
        env = Cluster(plane, kube, sim, tracker, dev_stack, report)
        env.timings["control plane start"] = round(boot, 1)
        yield env
    finally:
        if tracker is not None:
            tracker.stop()
        sim.stop()
        plane.stop()
        header = [f"Binaries: {binaries.source}; etcd {binaries.etcd}.",
                  f"Session: {time.monotonic() - started:.0f} s, control plane up in {boot:.1f} s.",
                  f"Simulator errors: {len(sim.errors)}" + (f" (last: {sim.errors[-1]})" if sim.errors else ""),
                  f"Logs: {plane.logs_dir.relative_to(PROJECT_DIR)}/"]
        rows = [f"| {name} | {seconds} | {outcome} |" for name, (seconds, outcome) in scenario_times.items()]
        report.add("Time per scenario", ["| test | seconds | outcome |", "| --- | --- | --- |", *rows])
        report.write(header)
