"""Ready pods per workload, observed on every change (a watch on all pods), not sampled.

A pod counts as ready when its `Ready` condition is True and it is not being deleted (an evicted pod is
Terminating: it no longer serves). A pod belongs to the Deployment of its ReplicaSet (the ReplicaSet is
named `<deployment>-<pod-template-hash>`) or to its StatefulSet. `window()` records, per workload, the fewest
ready pods seen while it is open and when that count was first reached.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from kube import Kube, KubeError


def workload_of(pod: dict) -> str | None:
    meta = pod["metadata"]
    for owner in meta.get("ownerReferences") or []:
        if owner.get("kind") == "StatefulSet":
            return f"StatefulSet/{meta['namespace']}/{owner['name']}"
        if owner.get("kind") == "ReplicaSet":
            suffix = (meta.get("labels") or {}).get("pod-template-hash")
            name = owner["name"]
            if suffix and name.endswith(f"-{suffix}"):
                name = name[: -len(suffix) - 1]
            return f"Deployment/{meta['namespace']}/{name}"
    return None


def is_ready(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


@dataclass
class Window:
    started: float
    minimum: dict[str, int] = field(default_factory=dict)
    first_low: dict[str, float] = field(default_factory=dict)  # seconds into the window
    seconds: float = 0.0
    gaps: int = 0  # times the watch broke while the window was open (changes in between were not seen)

    def fell_to_zero(self, workloads) -> list[str]:
        return sorted(w for w in workloads if self.minimum.get(w, 0) == 0)


@dataclass
class ReadyTracker:
    kube: Kube
    pods: dict[str, dict] = field(default_factory=dict)  # uid -> pod
    counts: dict[str, int] = field(default_factory=dict)
    events: int = 0
    errors: list[str] = field(default_factory=list)
    _windows: list[Window] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _synced: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> ReadyTracker:
        self._thread = threading.Thread(target=self._run, name="ready-tracker", daemon=True)
        self._thread.start()
        if not self._synced.wait(30):
            raise TimeoutError("ready tracker: no pod list within 30s")
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                listing = self.kube.get("/api/v1/pods")
                with self._lock:
                    self.pods = {p["metadata"]["uid"]: p for p in listing["items"]}
                    self._recount()
                self._synced.set()
                version = listing["metadata"]["resourceVersion"]
                while not self._stop.is_set():
                    for event in self.kube.watch("/api/v1/pods", version, timeout_seconds=120):
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            raise KubeError(obj.get("code", 500), obj, "watch pods")
                        version = obj["metadata"]["resourceVersion"]
                        if event["type"] == "BOOKMARK":
                            continue
                        with self._lock:
                            if event["type"] == "DELETED":
                                self.pods.pop(obj["metadata"]["uid"], None)
                            else:
                                self.pods[obj["metadata"]["uid"]] = obj
                            self.events += 1
                            self._recount(workload_of(obj))
            except Exception as e:  # relist and go on; the open windows record the gap
                self.errors.append(f"{type(e).__name__}: {e}")
                with self._lock:
                    for window in self._windows:
                        window.gaps += 1
                time.sleep(0.2)

    def _recount(self, only: str | None = None) -> None:
        counts: dict[str, int] = {}
        for pod in self.pods.values():
            workload = workload_of(pod)
            if workload is None or (only is not None and workload != only):
                continue
            counts[workload] = counts.get(workload, 0) + (1 if is_ready(pod) else 0)
        if only is not None:
            counts.setdefault(only, 0)
            self.counts[only] = counts[only]
        else:
            self.counts = counts
        stamp = time.monotonic()
        for window in self._windows:
            for workload, count in (counts.items() if only is None else [(only, counts[only])]):
                if count < window.minimum.get(workload, 1 << 30):
                    window.minimum[workload] = count
                    window.first_low[workload] = round(stamp - window.started, 2)

    def ready(self, workload: str) -> int:
        with self._lock:
            return self.counts.get(workload, 0)

    @contextmanager
    def window(self):
        """Track the minimum ready count of every workload while the block runs."""
        with self._lock:
            window = Window(time.monotonic(), minimum=dict(self.counts))
            self._windows.append(window)
        try:
            yield window
        finally:
            with self._lock:
                self._windows.remove(window)
                window.seconds = round(time.monotonic() - window.started, 1)
