"""`summary.md`: what the stack deploys, per app, read back from the rendered objects.

Everything here is derived from the objects the program registered (never from the program's own
tables): workloads with replicas and images, how each is exposed, stores and their volumes, each namespace's
Pod Security level, counts by resource type, and a Mermaid diagram of who talks to whom.

Traffic is drawn from the declarations the NetworkPolicies are made from, never guessed from env values: a
workload's declared connections (the pod annotation `aks-microservices/connects-to`, comma-separated
`host:port`, written by the components from `connects_to`), and the exposure of Services (LoadBalancer,
NodePort) and Ingresses/HTTPRoutes that let the outside in. A host is a Service of the workload's namespace
(or `<pod>.<headless Service>`); one that no rendered Service backs (pods an operator creates) is drawn as its
own node, named after the object of that name that stands for it (e.g. an InnoDBCluster).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

CONNECTS_TO_ANNOTATION = "aks-microservices/connects-to"
PART_OF = "app.kubernetes.io/part-of"
OUTSIDE = "outside"
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"
POD_SECURITY_EXCEPTION = "aks-microservices/pod-security-exception"
# On a Deployment/StatefulSet: why it may reach zero ready pods during a node drain or zone loss.
DISRUPTION_ALLOWED_ANNOTATION = "aks-microservices.io/disruption-allowed"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


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
    exposure: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    disruption_allowed: str = ""

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
        if obj["kind"] not in WORKLOAD_KINDS:
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
        workload = Workload(
            kind=obj["kind"],
            name=obj["metadata"]["name"],
            namespace=namespace,
            app=_app_of(obj),
            replicas=replicas,
            images=[c.get("image", "") for c in pod_spec.get("containers", [])],
            pod_labels=template.get("metadata", {}).get("labels", {}) or {},
            pod_annotations=template.get("metadata", {}).get("annotations", {}) or {},
            disruption_allowed=(obj["metadata"].get("annotations") or {}).get(DISRUPTION_ALLOWED_ANNOTATION, ""),
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


def _node_id(namespace: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{namespace}_{name}")


@dataclass(frozen=True)
class ManagedNode:
    """A declared target that no rendered workload backs (an operator's pods), drawn under its own name."""

    namespace: str
    name: str
    stands_for: str  # the kind of the rendered object of that name, if any

    @property
    def node_id(self) -> str:
        return _node_id(self.namespace, self.name)


def declared_connections(workload: Workload) -> list[tuple[str, int | None]]:
    """(host, port) of every connection the workload's pods declare."""
    declared = workload.pod_annotations.get(CONNECTS_TO_ANNOTATION, "")
    connections = []
    for entry in (e.strip() for e in declared.split(",")):
        if entry:
            host, _, port = entry.rpartition(":") if ":" in entry else (entry, "", "")
            connections.append((host, int(port) if port.isdigit() else None))
    return connections


def _service_of(host: str) -> str:
    # `<service>` or `<pod>.<headless service>`, both relative to the namespace.
    labels = host.split(".")
    return labels[1] if len(labels) > 1 else labels[0]


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
        for host, port in declared_connections(workload):
            label = f"{host}:{port}" if port else host
            targets = backends.get((workload.namespace, _service_of(host)))
            if targets:
                for target in targets:
                    if target is not workload:
                        edges.add((workload.node_id, target.node_id, label))
            else:
                edges.add((workload.node_id, _node_id(workload.namespace, _service_of(host)), label))
    return edges


def managed_nodes(objects: list[dict], workloads: list[Workload],
                  edges: set[tuple[str, str, str]]) -> list[ManagedNode]:
    """The declared targets no rendered workload backs, with the kind of the custom resource that stands for
    them (e.g. the InnoDBCluster an operator turns into pods)."""
    unbacked = {target for _, target, _ in edges} - {w.node_id for w in workloads}
    nodes: dict[str, ManagedNode] = {}
    for workload in workloads:
        for host, _ in declared_connections(workload):
            name = _service_of(host)
            node_id = _node_id(workload.namespace, name)
            if node_id not in unbacked or node_id in nodes:
                continue
            kinds = [o["kind"] for o in objects if _is_custom_resource(o)
                     and o["metadata"].get("name") == name and o["metadata"].get("namespace") == workload.namespace]
            nodes[node_id] = ManagedNode(workload.namespace, name, kinds[0] if kinds else "")
    return list(nodes.values())


def _is_custom_resource(obj: dict) -> bool:
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return "." in group and not group.endswith("k8s.io")


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


def _app_of_namespace(workloads: list[Workload], namespace: str) -> str:
    return next((w.app for w in workloads if w.namespace == namespace), namespace)


def _mermaid(workloads: list[Workload], managed: list[ManagedNode], edges: set[tuple[str, str, str]]) -> list[str]:
    lines = ["```mermaid", "flowchart LR", f"  {OUTSIDE}((outside))"]
    by_app: dict[str, list[str]] = defaultdict(list)
    for workload in workloads:
        shape = f"[({workload.name})]" if workload.kind == "StatefulSet" else f"[{workload.name}]"
        by_app[workload.app].append(f"{workload.node_id}{shape}")
    for node in managed:
        title = f"{node.name} ({node.stands_for})" if node.stands_for else node.name
        by_app[_app_of_namespace(workloads, node.namespace)].append(f'{node.node_id}[("{title}")]')
    for app, members in sorted(by_app.items()):
        lines.append(f"  subgraph {re.sub(r'[^A-Za-z0-9_]', '_', app)}[{app}]")
        lines += [f"    {member}" for member in members]
        lines.append("  end")
    labels: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, target, label in sorted(edges):
        labels[(source, target)].append(label)
    for (source, target), names in sorted(labels.items()):
        lines.append(f"  {source} -->|{', '.join(names)}| {target}")
    lines.append("```")
    return lines


def traffic_paths(edges: set[tuple[str, str, str]]) -> list[list[str]]:
    """Every path from outside through the apps, as node ids (e.g. outside, todo-web, todo-api, todo-mysql)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for source, target, _ in sorted(edges):
        if target not in graph[source]:
            graph[source].append(target)
    paths: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        onward = [n for n in graph.get(node, []) if n not in trail]
        if not onward and len(trail) > 1:
            paths.append(trail)
        for nxt in onward:
            walk(nxt, [*trail, nxt])

    walk(OUTSIDE, [OUTSIDE])
    return paths


def _pod_security(objects: list[dict], namespace: str) -> str:
    for obj in objects:
        if obj["kind"] == "Namespace" and obj["metadata"].get("name") == namespace:
            level = (obj["metadata"].get("labels") or {}).get(POD_SECURITY_ENFORCE)
            reason = (obj["metadata"].get("annotations") or {}).get(POD_SECURITY_EXCEPTION)
            if level:
                return f"Pod security: enforces `{level}`" + (f" ({reason})" if reason else "")
    return ""


def _disruption_allowed(workloads: list[Workload]) -> list[str]:
    """The workloads declared allowed to reach zero ready pods during a drain or zone loss, with the reasons."""
    declared = sorted((w for w in workloads if w.disruption_allowed), key=lambda w: (w.app, w.name))
    lines = ["## Allowed to reach zero ready pods (node drain, zone loss)", ""]
    if not declared:
        return [*lines, "None: every workload keeps a ready pod through every drain and zone loss."]
    lines += [
        f"Declared by the stack (annotation `{DISRUPTION_ALLOWED_ANNOTATION}`); every other workload keeps at least "
        "one ready pod.",
        "",
        "| app | workload | kind | replicas | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {w.app} | {w.name} | {w.kind} | {w.replicas} | {w.disruption_allowed} |" for w in declared]
    return lines


def render_summary(
    stack: str, objects: list[dict], other_resources: list[dict], stack_outputs: dict
) -> str:
    workloads = collect_workloads(objects)
    edges = traffic_edges(objects, workloads)
    managed = managed_nodes(objects, workloads, edges)
    names = {w.node_id: w.name for w in workloads} | {n.node_id: n.name for n in managed} | {OUTSIDE: "browser"}
    apps_of = {w.node_id: w.app for w in workloads}
    paths = traffic_paths(edges)
    lines = [f"# Stack `{stack}`: desired state", ""]
    lines.append(
        f"{len(objects)} Kubernetes objects and {len(other_resources)} other resources "
        "(Azure, random, Helm releases, providers; see resources.json)."
    )
    apps = sorted({w.app for w in workloads})
    for app in apps:
        members = [w for w in workloads if w.app == app]
        lines += ["", f"## {app}", ""]
        app_paths = [" -> ".join(names.get(n, n) for n in p) for p in paths if apps_of.get(p[1]) == app]
        if app_paths:
            lines.append("Traffic: " + "; ".join(f"`{p}`" for p in app_paths))
            lines.append("")
        security = sorted({_pod_security(objects, w.namespace) for w in members} - {""})
        if security:
            lines += [*security, ""]
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
    lines += ["", *_disruption_allowed(workloads)]
    lines += ["", "## Who talks to whom", "", *_mermaid(workloads, managed, edges)]
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
