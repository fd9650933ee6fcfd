"""`summary.md`: what the stack deploys, per app, read back from the rendered objects.

Everything here is derived from the objects the program registered (never from the program's own
tables): workloads with replicas and images, how each is exposed, stores and their volumes, counts by
resource type, and a Mermaid diagram of who talks to whom.

Traffic edges come from three places: a workload's declared connections (the pod annotation
`aks-microservices/connects-to`, a comma-separated list of Service names), a workload's env values and
args that name a Service of its namespace, and the Ingresses and external Services that let the outside in.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

CONNECTS_TO_ANNOTATION = "aks-microservices/connects-to"
PART_OF = "app.kubernetes.io/part-of"
OUTSIDE = "outside"


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str
    app: str
    replicas: str
    images: list[str]
    pod_labels: dict
    pod_annotations: dict
    env_text: list[str]
    exposure: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    @property
    def node_id(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", f"{self.namespace}_{self.name}")


def _pod_template(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj.get("spec", {}).get("jobTemplate", {}).get("spec", {}).get("template", {})
    return obj.get("spec", {}).get("template", {})


def _selects(selector: dict | None, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _app_of(obj: dict) -> str:
    metadata = obj.get("metadata", {})
    return (metadata.get("labels") or {}).get(PART_OF) or metadata.get("namespace") or "(cluster)"


def collect_workloads(objects: list[dict]) -> list[Workload]:
    hpas = {
        (o["metadata"].get("namespace"), o["spec"]["scaleTargetRef"]["name"]): o["spec"]
        for o in objects
        if o["kind"] == "HorizontalPodAutoscaler"
    }
    workloads: list[Workload] = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
            continue
        template = _pod_template(obj)
        pod_spec = template.get("spec", {})
        namespace = obj["metadata"].get("namespace", "")
        hpa = hpas.get((namespace, obj["metadata"]["name"]))
        if hpa:
            replicas = f"{hpa.get('minReplicas', 1)}-{hpa['maxReplicas']} (HPA)"
        elif obj["kind"] in ("Deployment", "StatefulSet"):
            replicas = str(obj.get("spec", {}).get("replicas", 1))
        else:
            replicas = "run to completion" if obj["kind"] == "Job" else "-"
        containers = pod_spec.get("containers", []) + pod_spec.get("initContainers", [])
        env_text = []
        for container in containers:
            env_text += [str(e.get("value", "")) for e in container.get("env", []) if "value" in e]
            env_text += [str(a) for a in container.get("args", []) + container.get("command", [])]
        workload = Workload(
            kind=obj["kind"],
            name=obj["metadata"]["name"],
            namespace=namespace,
            app=_app_of(obj),
            replicas=replicas,
            images=[c.get("image", "") for c in pod_spec.get("containers", [])],
            pod_labels=template.get("metadata", {}).get("labels", {}) or {},
            pod_annotations=template.get("metadata", {}).get("annotations", {}) or {},
            env_text=env_text,
        )
        for claim in obj.get("spec", {}).get("volumeClaimTemplates", []) or []:
            spec = claim.get("spec", {})
            workload.volumes.append(
                f"{claim['metadata']['name']} (per replica) {spec.get('resources', {}).get('requests', {}).get('storage')}"
                f" {','.join(spec.get('accessModes', []))} class {spec.get('storageClassName') or 'default'}"
            )
        claims = {
            o["metadata"]["name"]: o
            for o in objects
            if o["kind"] == "PersistentVolumeClaim" and o["metadata"].get("namespace") == namespace
        }
        for volume in pod_spec.get("volumes", []) or []:
            claim_name = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim_name:
                spec = claims.get(claim_name, {}).get("spec", {})
                workload.volumes.append(
                    f"{claim_name} (shared claim) {spec.get('resources', {}).get('requests', {}).get('storage')}"
                    f" {','.join(spec.get('accessModes', []))} class {spec.get('storageClassName') or 'default'}"
                )
        workloads.append(workload)
    return workloads


def _services(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] == "Service"]


def traffic_edges(objects: list[dict], workloads: list[Workload]) -> set[tuple[str, str, str]]:
    """(from node, to node, label) edges; `outside` is the world beyond the cluster."""
    services = _services(objects)
    backends: dict[tuple[str, str], list[Workload]] = defaultdict(list)
    for service in services:
        namespace = service["metadata"].get("namespace")
        for workload in workloads:
            if workload.namespace == namespace and _selects(service.get("spec", {}).get("selector"), workload.pod_labels):
                backends[(namespace, service["metadata"]["name"])].append(workload)

    edges: set[tuple[str, str, str]] = set()
    for service in services:
        spec = service.get("spec", {})
        key = (service["metadata"].get("namespace"), service["metadata"]["name"])
        if spec.get("type") in ("LoadBalancer", "NodePort"):
            for target in backends.get(key, []):
                edges.add((OUTSIDE, target.node_id, f"{spec['type']} {key[1]}"))
    for ingress in (o for o in objects if o["kind"] in ("Ingress", "HTTPRoute")):
        namespace = ingress["metadata"].get("namespace")
        for service_name in _ingress_backends(ingress):
            for target in backends.get((namespace, service_name), []):
                edges.add((OUTSIDE, target.node_id, f"{ingress['kind']} {ingress['metadata']['name']}"))

    for workload in workloads:
        declared = workload.pod_annotations.get(CONNECTS_TO_ANNOTATION, "")
        named = {s.strip() for s in declared.split(",") if s.strip()}
        for (namespace, service_name), targets in backends.items():
            if namespace != workload.namespace:
                continue
            pattern = re.compile(rf"(?<![\w.-]){re.escape(service_name)}(?![\w-])")
            if service_name in named or any(pattern.search(text) for text in workload.env_text):
                for target in targets:
                    if target is not workload:
                        edges.add((workload.node_id, target.node_id, service_name))
    return edges


def _ingress_backends(ingress: dict) -> Iterable[str]:
    spec = ingress.get("spec", {})
    if ingress["kind"] == "HTTPRoute":
        for rule in spec.get("rules", []):
            for ref in rule.get("backendRefs", []):
                yield ref["name"]
        return
    default = (spec.get("defaultBackend") or {}).get("service", {}).get("name")
    if default:
        yield default
    for rule in spec.get("rules", []):
        for path in (rule.get("http") or {}).get("paths", []):
            name = (path.get("backend") or {}).get("service", {}).get("name")
            if name:
                yield name


def _exposure(objects: list[dict], workload: Workload) -> str:
    exposures = []
    services = [
        s
        for s in _services(objects)
        if s["metadata"].get("namespace") == workload.namespace
        and _selects(s.get("spec", {}).get("selector"), workload.pod_labels)
    ]
    for service in services:
        spec = service.get("spec", {})
        kind = "headless" if spec.get("clusterIP") == "None" else spec.get("type", "ClusterIP")
        ports = ",".join(f"{p.get('port')}->{p.get('targetPort', p.get('port'))}" for p in spec.get("ports", []))
        exposures.append(f"{kind} `{service['metadata']['name']}` {ports}")
        for ingress in (o for o in objects if o["kind"] in ("Ingress", "HTTPRoute")):
            if ingress["metadata"].get("namespace") == workload.namespace and service["metadata"]["name"] in set(
                _ingress_backends(ingress)
            ):
                exposures.append(f"{ingress['kind']} `{ingress['metadata']['name']}`")
    return "; ".join(dict.fromkeys(exposures)) or "none"


def _mermaid(workloads: list[Workload], edges: set[tuple[str, str, str]]) -> list[str]:
    lines = ["```mermaid", "flowchart LR", f"  {OUTSIDE}((outside))"]
    by_app: dict[str, list[Workload]] = defaultdict(list)
    for workload in workloads:
        by_app[workload.app].append(workload)
    for app, members in sorted(by_app.items()):
        lines.append(f"  subgraph {re.sub(r'[^A-Za-z0-9_]', '_', app)}[{app}]")
        for workload in members:
            shape = f"[({workload.name})]" if workload.kind == "StatefulSet" else f"[{workload.name}]"
            lines.append(f"    {workload.node_id}{shape}")
        lines.append("  end")
    for source, target, label in sorted(edges):
        lines.append(f"  {source} -->|{label}| {target}")
    lines.append("```")
    return lines


def traffic_paths(workloads: list[Workload], edges: set[tuple[str, str, str]]) -> list[str]:
    """Every path from outside through the app, e.g. `outside -> todo-web -> todo-api -> todo-mysql`."""
    names = {w.node_id: w.name for w in workloads}
    graph: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in sorted(edges):
        if target not in graph[source]:
            graph[source].append(target)
    paths: list[str] = []

    def walk(node: str, trail: list[str]) -> None:
        onward = [n for n in graph.get(node, []) if n not in trail]
        if not onward and len(trail) > 1:
            paths.append(" -> ".join(names.get(n, n) for n in trail))
        for nxt in onward:
            walk(nxt, [*trail, nxt])

    walk(OUTSIDE, [OUTSIDE])
    return paths


def render_summary(
    stack: str, objects: list[dict], other_resources: list[dict], stack_outputs: dict
) -> str:
    workloads = collect_workloads(objects)
    edges = traffic_edges(objects, workloads)
    lines = [f"# Stack `{stack}`: desired state", ""]
    lines.append(
        f"{len(objects)} Kubernetes objects and {len(other_resources)} other resources "
        "(Azure, random, Helm releases, providers; see resources.json)."
    )
    apps = sorted({w.app for w in workloads})
    for app in apps:
        members = [w for w in workloads if w.app == app]
        lines += ["", f"## {app}", ""]
        app_paths = [p for p in traffic_paths(workloads, edges) if any(f" {w.name}" in p for w in members)]
        if app_paths:
            lines.append("Traffic: " + "; ".join(f"`{p.replace(OUTSIDE, 'browser', 1)}`" for p in app_paths))
            lines.append("")
        lines += ["| workload | kind | replicas | image | exposure |", "| --- | --- | --- | --- | --- |"]
        for w in members:
            lines.append(
                f"| {w.name} | {w.kind} | {w.replicas} | {', '.join(f'`{i}`' for i in w.images)} | {_exposure(objects, w)} |"
            )
        stores = [w for w in members if w.volumes]
        if stores:
            lines += ["", "| store | volumes |", "| --- | --- |"]
            for w in stores:
                lines.append(f"| {w.name} | {'; '.join(w.volumes)} |")
    lines += ["", "## Who talks to whom", "", *_mermaid(workloads, edges)]
    counts = Counter(f"{o['apiVersion']}/{o['kind']}" for o in objects)
    counts.update(r["type"] for r in other_resources)
    lines += ["", "## Counts by resource type", "", "| type | count |", "| --- | --- |"]
    lines += [f"| {t} | {n} |" for t, n in sorted(counts.items())]
    if stack_outputs:
        lines += ["", "## Stack outputs (secrets redacted)", "", "```yaml"]
        import yaml

        lines += yaml.safe_dump(stack_outputs, sort_keys=True, default_flow_style=False).splitlines()
        lines.append("```")
    return "\n".join(lines) + "\n"
