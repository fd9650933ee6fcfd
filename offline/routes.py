"""The route table ingress-nginx builds from a stack's Ingresses, and the Ingresses that shadow each other.

The model follows ingress-nginx's documented rules
(https://kubernetes.github.io/ingress-nginx/user-guide/ingress-path-matching/ and
https://kubernetes.github.io/ingress-nginx/user-guide/basic-usage/):
- the controller of a class merges the rules of every Ingress of that class into one nginx server per host;
  rules without a host go to the default server, which answers only hosts that no server names (no named
  server falls back to it);
- "when the use-regex OR rewrite-target annotation is used on any Ingress for a given host, then the case
  insensitive regular expression location modifier will be enforced on ALL paths for a given host regardless
  of what Ingress they are defined on": every path becomes `~* "^<path>"`;
- paths are ordered by descending length before they are written as location blocks, and nginx takes the
  first regex that matches; without regex a path is a prefix location and nginx takes the longest matching
  prefix (the same order, matched by prefix: `Prefix` element by element, as the Ingress API defines it);
- `Exact` paths are `location = <path>` blocks, which nginx serves before any prefix or regex.

A route is shadowed when a request it is meant to serve (its path, and a deeper one for a prefix or regex)
goes to a route of another Ingress: that is a render error naming both Ingresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ANY_HOST = "*"  # the default server: rules without a host
REGEX_ANNOTATIONS = ("nginx.ingress.kubernetes.io/use-regex", "nginx.ingress.kubernetes.io/rewrite-target")
DOCS = "https://kubernetes.github.io/ingress-nginx/user-guide/ingress-path-matching/"


@dataclass(frozen=True)
class Route:
    ingress_class: str
    host: str  # ANY_HOST for the default server
    path: str
    path_type: str
    ingress: str  # <namespace>/<name>
    service: str  # <namespace>/<service>:<port>
    regex: bool  # matched as a regex (the host is in regex mode)

    @property
    def location(self) -> str:
        """The nginx location ingress-nginx writes for it."""
        if self.path_type == "Exact":
            return f"= {self.path}"
        return f'~* "^{self.path}"' if self.regex else self.path


def _ingresses(objects: Iterable[dict]) -> list[dict]:
    return [o for o in objects if o.get("kind") == "Ingress" and str(o.get("apiVersion", "")).startswith("networking.k8s.io/")]


def _regex_annotated(ingress: dict) -> bool:
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    use_regex = str(annotations.get(REGEX_ANNOTATIONS[0], "false")).lower() == "true"
    return use_regex or REGEX_ANNOTATIONS[1] in annotations


def route_table(objects: Iterable[dict]) -> dict[tuple[str, str], list[Route]]:
    """(class, host) -> its routes in the order nginx evaluates them: Exact first, then longest path first (ties
    keep the Ingresses' order by namespace/name: ingress-nginx orders equal paths by creation time, which a
    render cannot know, so a tie between two Ingresses is reported as shadowing anyway)."""
    entries: dict[tuple[str, str], list[tuple[dict, str, str, str, str]]] = {}
    ingresses = sorted(_ingresses(objects), key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
    for ingress in ingresses:
        metadata, spec = ingress["metadata"], ingress.get("spec") or {}
        name = f"{metadata.get('namespace', 'default')}/{metadata['name']}"
        klass = spec.get("ingressClassName") or (metadata.get("annotations") or {}).get("kubernetes.io/ingress.class") or ""
        for rule in spec.get("rules") or []:
            host = rule.get("host") or ANY_HOST
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = (path.get("backend") or {}).get("service") or {}
                port = backend.get("port") or {}
                service = f"{metadata.get('namespace', 'default')}/{backend.get('name')}:{port.get('number') or port.get('name')}"
                entries.setdefault((klass, host), []).append(
                    (ingress, path.get("path") or "/", path.get("pathType") or "ImplementationSpecific", name, service)
                )
    table: dict[tuple[str, str], list[Route]] = {}
    for (klass, host), items in entries.items():
        regex = any(_regex_annotated(ingress) for ingress, *_ in items)
        routes = [Route(klass, host, path, path_type, name, service, regex and path_type != "Exact")
                  for _, path, path_type, name, service in items]
        exact = [r for r in routes if r.path_type == "Exact"]
        others = sorted((r for r in routes if r.path_type != "Exact"), key=lambda r: -len(r.path))
        table[(klass, host)] = exact + others
    return dict(sorted(table.items()))


def _matches(route: Route, path: str) -> bool:
    if route.path_type == "Exact":
        return path == route.path
    if route.regex:
        try:
            return re.match(route.path, path, re.IGNORECASE) is not None
        except re.error:
            return False
    if route.path_type == "Prefix":
        prefix = route.path.rstrip("/")
        return prefix == "" or path == prefix or path.startswith(prefix + "/")
    return path.startswith(route.path)


def server_for(table: dict[tuple[str, str], list[Route]], ingress_class: str, host: str) -> str | None:
    """The server (its host key) that answers `host` on the class: a server naming it, else a wildcard server
    for its parent domain, else the default server."""
    if (ingress_class, host) in table:
        return host
    wildcard = "*." + host.split(".", 1)[1] if "." in host else None
    if wildcard and (ingress_class, wildcard) in table:
        return wildcard
    return ANY_HOST if (ingress_class, ANY_HOST) in table else None


def match(table: dict[tuple[str, str], list[Route]], ingress_class: str, host: str, path: str) -> Route | None:
    """The route a request for `http://<host><path>` takes on the class's controller (None: 404)."""
    server = server_for(table, ingress_class, host)
    if server is None:
        return None
    return next((r for r in table[(ingress_class, server)] if _matches(r, path)), None)


def _shortest(parsed) -> str:
    """A shortest string the parsed regex matches (enough of sre's node kinds for URL paths)."""
    out = []
    for op, arg in parsed:
        if op == sre_constants.LITERAL:
            out.append(chr(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _, item = arg
            out.append(_shortest(item) * low)
        elif op == sre_constants.SUBPATTERN:
            out.append(_shortest(arg[-1]))
        elif op == sre_constants.BRANCH:
            out.append(min((_shortest(b) for b in arg[1]), key=len))
        elif op == sre_constants.IN:
            literals = [a for o, a in arg if o == sre_constants.LITERAL]
            out.append(chr(literals[0]) if literals else "a")
        elif op in (sre_constants.ANY, sre_constants.NOT_LITERAL, sre_constants.CATEGORY):
            out.append("a")
        # AT (anchors) and others match the empty string.
    return "".join(out)


def samples(route: Route) -> list[str]:
    """Requests the route is meant to serve: its path (a shortest match of a regex) and, unless Exact, a deeper
    path below it."""
    if route.path_type == "Exact":
        return [route.path]
    if route.regex:
        try:
            base = _shortest(sre_parse.parse(route.path))
        except (re.error, RecursionError, TypeError):
            base = route.path
    else:
        base = route.path
    base = base if base.startswith("/") else "/" + base
    deeper = base + ("x" if base.endswith("/") else "/x")
    return [base, deeper]


def shadowing(table: dict[tuple[str, str], list[Route]]) -> list[str]:
    """One line per pair of Ingresses of one class and host where one takes requests meant for the other."""
    problems: dict[tuple[str, str, str, str], str] = {}
    for (klass, host), routes in table.items():
        for route in routes:
            for request in samples(route):
                winner = match(table, klass, host if host != ANY_HOST else "any.invalid", request)
                if winner is None or winner.ingress == route.ingress:
                    continue
                key = (klass, host, winner.ingress, route.ingress)
                if key in problems:
                    continue
                shown_host = "every host" if host == ANY_HOST else f"host {host}"
                mode = "in regex mode (use-regex or rewrite-target on one of them), " if route.regex else ""
                problems[key] = (
                    f"Ingress {winner.ingress} shadows Ingress {route.ingress} on class {klass}, {shown_host}: "
                    f"ingress-nginx merges them into one server and, {mode}a request for {request} meant for "
                    f"{route.path} ({route.path_type}) -> {route.service} goes to {winner.path} ({winner.path_type}) "
                    f"-> {winner.service} instead ({DOCS}); give the apps distinct hosts (apps.domain or the app's "
                    "host setting)"
                )
    return list(problems.values())


def summary_lines(table: dict[tuple[str, str], list[Route]]) -> list[str]:
    """The route table as Markdown, one section per class and host, in nginx's evaluation order."""
    if not table:
        return []
    lines = ["## Ingress routes (as ingress-nginx evaluates them)", "",
             f"Per ingress class and host, first match wins ([path matching]({DOCS})).", ""]
    lines += ["| class | host | order | path | type | nginx location | Ingress | Service:port |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (klass, host), routes in table.items():
        for order, r in enumerate(routes, 1):
            location = r.location.replace("|", "\\|")
            lines.append(f"| {klass} | {host} | {order} | `{r.path}` | {r.path_type} | `{location}` | {r.ingress} | {r.service} |")
    return lines
