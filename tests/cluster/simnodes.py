"""Simulated AKS nodes: what a kubelet and the Azure CSI drivers do, and nothing more.

The scheduler, the controllers (node lifecycle, taint eviction, pod GC, ReplicaSet/StatefulSet/Job,
disruption, PV binder, HPA), admission and the eviction API are the real ones; this module only plays:

- the kubelet of each node (https://kubernetes.io/docs/reference/node/node-status/): registers its Node
  (capacity and allocatable from the pool's VM size), renews its Lease in `kube-node-lease` every 2 s,
  runs the pods bound to it: `Running` with container statuses, `Ready` once the readiness probe's
  `initialDelaySeconds` has passed (no probe is actually sent: no containers run), Job pods `Succeeded` a
  second later; and finalizes a deleted pod (a real kubelet stops its containers, then deletes the pod with
  grace 0). A stopped node does none of this: its lease expires and its pods stay as they are;
- the external provisioners of `disk.csi.azure.com` and `file.csi.azure.com` (kubernetes-csi
  external-provisioner): for a claim the PV controller handed to that driver (annotation
  `volume.kubernetes.io/storage-provisioner`), a PV with a claimRef to it; WaitForFirstConsumer claims wait
  for the scheduler's `volume.kubernetes.io/selected-node`. Azure Disk LRS volumes get node affinity to the
  selected node's zone on `topology.disk.csi.azure.com/zone`; ZRS disks and Azure Files none (they attach
  in any zone: kubernetes-sigs/azuredisk-csi-driver deploy/example/topology/README.md, "ZRS disk support").
Attach/detach is not simulated (nodes do not set `volumes.kubernetes.io/controller-managed-attach-detach`).
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from dataclasses import dataclass, field

from kube import Kube, KubeError
from stackload import PoolShape

DISK_DRIVER, FILE_DRIVER = "disk.csi.azure.com", "file.csi.azure.com"
DISK_ZONE_KEY = "topology.disk.csi.azure.com/zone"
ZONE_KEY = "topology.kubernetes.io/zone"
KUBELET_VERSION = "v1.33.12"


def now(delta: float = 0.0) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delta)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def zone_name(location: str, zone: str) -> str:
    return f"{location}-{zone}"  # AKS labels nodes `<region>-<zone>`, e.g. westeurope-1


@dataclass
class SimNode:
    name: str
    pool: PoolShape
    zone: str  # topology.kubernetes.io/zone value
    alive: bool = True


def _ready_delay(pod: dict) -> float:
    delays = [float((c.get(probe) or {}).get("initialDelaySeconds") or 0)
              for c in pod["spec"].get("containers", []) for probe in ("readinessProbe",)]
    return max(delays, default=0.0)


@dataclass
class SimCluster:
    kube: Kube
    location: str
    nodes: dict[str, SimNode] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    _ready_at: dict[str, float] = field(default_factory=dict)
    _done_at: dict[str, float] = field(default_factory=dict)
    _ips: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # Nodes --------------------------------------------------------------------------------------------

    def add_node(self, pool: PoolShape, index: int) -> SimNode:
        zone = zone_name(self.location, pool.zones[index % len(pool.zones)]) if pool.zones else "0"
        name = f"aks-{pool.name}-vmss{index:06d}"
        labels = {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": pool.vm_size, "topology.kubernetes.io/region": self.location,
            ZONE_KEY: zone, DISK_ZONE_KEY: zone, "agentpool": pool.name, "kubernetes.azure.com/agentpool": pool.name,
            "kubernetes.azure.com/mode": pool.mode.lower(), **dict(pool.labels),
        }
        taints = []
        for taint in pool.taints:
            key_value, effect = taint.rsplit(":", 1)
            key, _, value = key_value.partition("=")
            taints.append({"key": key, "value": value, "effect": effect})
        self.kube.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": labels}, "spec": {"taints": taints} if taints else {}})
        node = SimNode(name, pool, zone)
        self._renew(node)
        self._post_status(node)
        with self._lock:
            self.nodes[name] = node
        return node

    def _post_status(self, node: SimNode) -> None:
        pool = node.pool
        capacity = {"cpu": str(pool.cpu_capacity), "memory": f"{pool.memory_capacity // 1024}Ki",
                    "pods": str(pool.max_pods), "ephemeral-storage": "128Gi"}
        allocatable = {"cpu": f"{pool.cpu_millis}m", "memory": f"{pool.memory_bytes // 1024}Ki",
                       "pods": str(pool.max_pods), "ephemeral-storage": "112Gi"}
        stamp = now()
        conditions = [{"type": t, "status": "False", "reason": reason, "lastHeartbeatTime": stamp,
                       "lastTransitionTime": stamp}
                      for t, reason in (("MemoryPressure", "KubeletHasSufficientMemory"),
                                        ("DiskPressure", "KubeletHasNoDiskPressure"),
                                        ("PIDPressure", "KubeletHasSufficientPID"))]
        conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "simulated",
                           "lastHeartbeatTime": stamp, "lastTransitionTime": stamp})
        self.kube.request("PATCH", f"/api/v1/nodes/{node.name}/status", {"status": {
            "capacity": capacity, "allocatable": allocatable, "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": f"10.224.0.{len(self.nodes) + 4}"},
                          {"type": "Hostname", "address": node.name}],
            "nodeInfo": {"kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                         "operatingSystem": "linux", "architecture": "amd64", "osImage": "AzureLinux",
                         "containerRuntimeVersion": "containerd://simulated", "kernelVersion": "",
                         "machineID": "", "systemUUID": "", "bootID": ""}}},
            content_type="application/merge-patch+json")

    def _renew(self, node: SimNode) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node.name}"
        spec = {"holderIdentity": node.name, "leaseDurationSeconds": 40, "renewTime": micro_now()}
        try:
            self.kube.request("PATCH", path, {"spec": spec}, content_type="application/merge-patch+json")
        except KubeError as e:
            if e.status != 404:
                raise
            self.kube.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                              {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": {"name": node.name}, "spec": spec})

    def set_alive(self, names: list[str], alive: bool) -> None:
        with self._lock:
            for name in names:
                self.nodes[name].alive = alive
        if alive:  # a kubelet that comes back posts its status again
            for name in names:
                self._renew(self.nodes[name])
                self._post_status(self.nodes[name])

    def remove_node(self, name: str) -> None:
        with self._lock:
            self.nodes.pop(name, None)
        self.kube.delete(f"/api/v1/nodes/{name}")
        self.kube.delete(f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}")

    def zones(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for node in self.nodes.values():
            out.setdefault(node.zone, []).append(node.name)
        return out

    # The loop -----------------------------------------------------------------------------------------

    def start(self) -> SimCluster:
        self._thread = threading.Thread(target=self._run, name="sim-kubelets", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        last_renew = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_renew > 2.0:
                    with self._lock:
                        live = [n for n in self.nodes.values() if n.alive]
                    for node in live:
                        self._renew(node)
                    last_renew = time.monotonic()
                    self._repost_status(live)
                self._kubelets()
                self._provision()
            except Exception as e:  # keep simulating; the tests read `errors`
                self.errors.append(f"{type(e).__name__}: {e}")
                if len(self.errors) > 200:
                    del self.errors[:100]
            self._stop.wait(0.2)

    def _repost_status(self, live: list[SimNode]) -> None:
        """A kubelet posts its node's status again when what the API holds differs from what it would report:
        after the node lifecycle controller set Ready to Unknown (a lease renewed late), only that brings
        the node back."""
        names = {n.name: n for n in live}
        for obj in self.kube.items("/api/v1/nodes"):
            node = names.get(obj["metadata"]["name"])
            ready = next((c["status"] for c in (obj.get("status") or {}).get("conditions") or []
                          if c["type"] == "Ready"), None)
            if node is not None and ready != "True":
                self._post_status(node)

    def _kubelets(self) -> None:
        with self._lock:
            live = {n.name: n for n in self.nodes.values() if n.alive}
        for pod in self.kube.items("/api/v1/pods", fieldSelector="spec.nodeName!="):
            node = live.get(pod["spec"].get("nodeName"))
            if node is None:
                continue  # a stopped node's kubelet does nothing
            meta, status = pod["metadata"], pod.get("status") or {}
            path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
            uid = meta["uid"]
            if meta.get("deletionTimestamp"):
                self.kube.delete(path, grace=0, preconditions={"uid": uid})
                self._ready_at.pop(uid, None)
                self._done_at.pop(uid, None)
                continue
            phase = status.get("phase")
            job = any(o.get("kind") == "Job" for o in meta.get("ownerReferences") or [])
            if phase == "Pending":
                delay = _ready_delay(pod)
                self._ready_at[uid] = time.monotonic() + delay
                self._patch_status(pod, node, ready=delay == 0 and not job, phase="Running")
                if job:
                    self._done_at[uid] = time.monotonic() + 1.0
            elif phase == "Running" and job and time.monotonic() >= self._done_at.get(uid, 0):
                self._patch_status(pod, node, ready=False, phase="Succeeded")
            elif phase == "Running" and not job and not _is_ready(pod) \
                    and time.monotonic() >= self._ready_at.get(uid, 0):
                self._patch_status(pod, node, ready=True, phase="Running")

    def _patch_status(self, pod: dict, node: SimNode, ready: bool, phase: str) -> None:
        meta, status = pod["metadata"], pod.get("status") or {}
        stamp = now()
        started = status.get("startTime") or stamp
        ip = status.get("podIP")
        if not ip:
            self._ips += 1
            ip = f"10.244.{self._ips // 250}.{self._ips % 250 + 2}"
        flag = "True" if ready else "False"
        done = phase == "Succeeded"
        state = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": stamp}}
                 if done else {"running": {"startedAt": started}})
        body = {"status": {
            "phase": phase, "hostIP": "10.224.0.4", "hostIPs": [{"ip": "10.224.0.4"}], "podIP": ip,
            "podIPs": [{"ip": ip}], "startTime": started,
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "False" if done else "True", "lastTransitionTime": stamp},
                {"type": "Initialized", "status": "True", "lastTransitionTime": stamp},
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": stamp},
                {"type": "Ready", "status": flag, "lastTransitionTime": stamp},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
            ],
            "containerStatuses": [
                {"name": c["name"], "image": c["image"], "imageID": "", "containerID": f"containerd://{uuid.uuid4().hex}",
                 "ready": ready, "started": not done, "restartCount": 0, "state": state}
                for c in pod["spec"]["containers"]],
            "initContainerStatuses": [
                {"name": c["name"], "image": c["image"], "imageID": "", "containerID": f"containerd://{uuid.uuid4().hex}",
                 "ready": True, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started,
                                          "finishedAt": started}}}
                for c in pod["spec"].get("initContainers") or []],
        }}
        try:
            self.kube.request("PATCH", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status", body,
                              content_type="application/merge-patch+json")
        except KubeError as e:
            if e.status not in (404, 409):
                raise

    # The CSI provisioners ------------------------------------------------------------------------------

    def _provision(self) -> None:
        claims = [c for c in self.kube.items("/api/v1/persistentvolumeclaims")
                  if not c["spec"].get("volumeName") and not c["metadata"].get("deletionTimestamp")]
        if not claims:
            return
        classes = {c["metadata"]["name"]: c for c in self.kube.items("/apis/storage.k8s.io/v1/storageclasses")}
        existing = {p["metadata"]["name"] for p in self.kube.items("/api/v1/persistentvolumes")}
        for claim in claims:
            meta = claim["metadata"]
            annotations = meta.get("annotations") or {}
            driver = annotations.get("volume.kubernetes.io/storage-provisioner")
            sc = classes.get(claim["spec"].get("storageClassName") or "")
            if driver not in (DISK_DRIVER, FILE_DRIVER) or sc is None or sc.get("provisioner") != driver:
                continue
            name = f"pvc-{meta['uid']}"
            if name in existing:
                continue
            selected = annotations.get("volume.kubernetes.io/selected-node")
            if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and not selected:
                continue
            sku = str((sc.get("parameters") or {}).get("skuName") or (sc.get("parameters") or {}).get("skuname")
                      or "StandardSSD_LRS")
            spec = {
                "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
                "accessModes": claim["spec"]["accessModes"],
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                "storageClassName": sc["metadata"]["name"],
                "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                             "name": meta["name"], "uid": meta["uid"]},
                "csi": {"driver": driver, "volumeHandle": f"/simulated/{name}"},
            }
            if driver == DISK_DRIVER and not sku.upper().endswith("_ZRS"):
                node = self.nodes.get(selected) if selected else None
                zone = node.zone if node else zone_name(self.location, "1")
                spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": DISK_ZONE_KEY, "operator": "In", "values": [zone]}]}]}}
            self.kube.request("POST", "/api/v1/persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": driver}},
                "spec": spec})


def _is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])
