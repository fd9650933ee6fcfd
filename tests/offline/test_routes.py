"""The ingress-nginx route model (offline/routes.py) and the routes of the real stacks.

The model's rules are ingress-nginx's documented ones
(https://kubernetes.github.io/ingress-nginx/user-guide/ingress-path-matching/): one server per class and
host merging every Ingress; regex on one Ingress of a host makes every path of that host a regex; longest
path first; Exact before everything."""

from __future__ import annotations

import copy
import json
import textwrap

import pulumi
import pytest

from offline.engine import PROJECT_DIR, run_stack
from offline.render import render
from offline.routes import ANY_HOST, match, route_table, samples, shadowing
from offline.stack_config import load_stack_config

CLASS = "nginx"


def ingress(name, namespace, paths, *, host=None, regex=False, klass=CLASS):
    annotations = {"nginx.ingress.kubernetes.io/use-regex": "true"} if regex else {}
    rule = {"http": {"paths": [
        {"path": path, "pathType": path_type,
         "backend": {"service": {"name": service, "port": {"number": port}}}}
        for path, path_type, service, port in paths
    ]}}
    if host:
        rule["host"] = host
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
            "spec": {"ingressClassName": klass, "rules": [rule]}}


FIB = ingress("ingress-service", "fibonacci", [
    ("/?(.*)", "ImplementationSpecific", "client-service", 3000),
    ("/api/?(.*)", "ImplementationSpecific", "server-service", 5000),
], regex=True)
TODO = ingress("todo-web", "todo", [("/", "Prefix", "todo-web", 80)])


def service(table, path, host="any.example.com"):
    route = match(table, CLASS, host, path)
    return route.service if route else None


def test_one_ingress_alone_routes_its_regex_paths_longest_first():
    table = route_table([FIB])
    assert [r.path for r in table[(CLASS, ANY_HOST)]] == ["/api/?(.*)", "/?(.*)"]
    assert service(table, "/api/values/all") == "fibonacci/server-service:5000"
    assert service(table, "/") == "fibonacci/client-service:3000"
    assert shadowing(table) == []


def test_regex_on_one_ingress_of_a_host_makes_the_others_paths_regexes_and_the_longest_wins():
    table = route_table([FIB, TODO])
    assert all(r.regex for r in table[(CLASS, ANY_HOST)])
    # todo-web's "/" is the shortest path: every request matches a longer regex of Fibonacci first.
    assert service(table, "/") == "fibonacci/client-service:3000"
    assert service(table, "/todos") == "fibonacci/client-service:3000"


def test_host_less_ingresses_that_shadow_each_other_fail_naming_both():
    [problem] = shadowing(route_table([FIB, TODO]))
    assert problem.startswith("Ingress fibonacci/ingress-service shadows Ingress todo/todo-web on class nginx, "
                              "every host:")
    assert "todo/todo-web:80" in problem and "fibonacci/client-service:3000" in problem
    assert "ingress-path-matching" in problem


def test_without_regex_the_longest_prefix_wins_by_path_element():
    api = ingress("api", "shop", [("/api", "Prefix", "api", 80)])
    web = ingress("web", "shop", [("/", "Prefix", "web", 80)])
    table = route_table([api, web])
    assert not any(r.regex for r in table[(CLASS, ANY_HOST)])
    assert service(table, "/api/orders") == "shop/api:80"
    assert service(table, "/api") == "shop/api:80"
    assert service(table, "/apiary") == "shop/web:80"  # Prefix matches whole path elements
    assert shadowing(table) == []


def test_exact_paths_are_served_before_any_regex():
    health = ingress("health", "ops", [("/healthz", "Exact", "health", 8080)])
    table = route_table([FIB, health])
    assert table[(CLASS, ANY_HOST)][0].path_type == "Exact"
    assert service(table, "/healthz") == "ops/health:8080"
    assert service(table, "/healthz/x") == "fibonacci/client-service:3000"
    assert shadowing(table) == []


def test_apps_on_distinct_hosts_never_share_a_server_and_a_named_host_never_falls_back():
    fib = ingress("ingress-service", "fibonacci", [("/?(.*)", "ImplementationSpecific", "client-service", 3000)],
                  host="fib.example.com", regex=True)
    todo = ingress("todo-web", "todo", [("/", "Prefix", "todo-web", 80)], host="todo.example.com")
    table = route_table([fib, todo])
    assert service(table, "/", "todo.example.com") == "todo/todo-web:80"
    assert service(table, "/", "fib.example.com") == "fibonacci/client-service:3000"
    assert service(table, "/", "other.example.com") is None  # no default server: 404
    assert shadowing(table) == []


def test_the_same_path_on_two_ingresses_of_one_host_is_reported():
    one = ingress("one", "a", [("/", "Prefix", "one", 80)], host="shop.example.com")
    two = ingress("two", "b", [("/", "Prefix", "two", 80)], host="shop.example.com")
    [problem] = shadowing(route_table([one, two]))
    assert "Ingress a/one shadows Ingress b/two" in problem and "host shop.example.com" in problem


def test_ingresses_of_different_classes_never_share_a_server():
    other = ingress("todo-web", "todo", [("/", "Prefix", "todo-web", 80)], klass="internal")
    assert shadowing(route_table([FIB, other])) == []


@pytest.mark.parametrize(("path", "expected"), [("/?(.*)", "/"), ("/api/?(.*)", "/api"), ("/(en|fr)/docs", "/en/docs")])
def test_a_regex_routes_requests_are_sampled_from_its_shortest_match(path, expected):
    route = route_table([ingress("x", "n", [(path, "ImplementationSpecific", "s", 1)], regex=True)])[(CLASS, ANY_HOST)][0]
    assert samples(route)[0] == expected


# The render --------------------------------------------------------------------------------------------------

PROGRAM = '''
import pulumi_kubernetes as k8s

def ingress(name, path, annotations):
    k8s.networking.v1.Ingress(name, metadata={"name": name, "namespace": "shop", "annotations": annotations},
        spec={"ingressClassName": "nginx", "rules": [{"http": {"paths": [{"path": path, "pathType": "ImplementationSpecific",
              "backend": {"service": {"name": name, "port": {"number": 80}}}}]}}]})

k8s.core.v1.Namespace("ns", metadata={"name": "shop"})
ingress("catalog", "/?(.*)", {"nginx.ingress.kubernetes.io/use-regex": "true"})
ingress("cart", "/", {})
'''


def test_the_render_fails_when_two_ingresses_shadow_each_other_naming_both(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (project / "Pulumi.dev.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    result = render("dev", tmp_path / "out", project_dir=project, progress=lambda _: None)
    assert [e for e in result.errors if e.startswith("ingress routes: Ingress shop/catalog shadows Ingress shop/cart")]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| nginx | * | 1 | `/?(.*)` | ImplementationSpecific |" in summary


# The stacks: every app's public URLs reach its own Service ---------------------------------------------------

# From shared/apps.md: what each app serves on its public entry, and the Service behind it.
DOCUMENTED_URLS = {
    "fibonacci": [("/", "fibonacci/client-service:3000"), ("/static/js/bundle.js", "fibonacci/client-service:3000"),
                  ("/api/values/all", "fibonacci/server-service:5000"),
                  ("/api/values/current", "fibonacci/server-service:5000")],
    "todo": [("/", "todo/todo-web:80"), ("/index.html", "todo/todo-web:80")],
    "homics": [("/", "homics/gateway:8080"), ("/login", "homics/gateway:8080"), ("/user/internal/version",
                                                                                 "homics/gateway:8080")],
}


def _apps(stack: str, **homics) -> dict:
    raw = load_stack_config(PROJECT_DIR, stack).values.get("aks-microservices:apps")
    apps = json.loads(raw) if raw else {}
    apps["homics"] = {**apps.get("homics", {}), **homics}
    return apps


def _hosts(recording) -> dict[str, tuple[str, str]]:
    """app -> (ingress class, host) of its Ingress, as rendered."""
    hosts = {}
    for obj in recording.k8s_objects():
        if obj["kind"] == "Ingress":
            rule = obj["spec"]["rules"][0]
            hosts[obj["metadata"]["namespace"]] = (obj["spec"]["ingressClassName"], rule.get("host") or "any.invalid")
    return hosts


@pytest.fixture(scope="module", params=["dev", "prod", "local"])
def stack(request):
    # HOMicS (off in local, sized for a laptop) on and behind an Ingress too, so all three apps with Ingresses
    # share the controller.
    return run_stack(request.param, overrides={"apps": _apps(request.param, enabled=True, gatewayExposure="Ingress")})


def test_every_apps_documented_urls_reach_its_own_service(stack):
    table = route_table(stack.k8s_objects())
    hosts = _hosts(stack)
    assert set(hosts) == set(DOCUMENTED_URLS)
    for app, urls in DOCUMENTED_URLS.items():
        klass, host = hosts[app]
        for path, expected in urls:
            route = match(table, klass, host, path)
            assert route is not None and route.service == expected, (app, host, path, route)
    assert shadowing(table) == []


def test_each_app_gets_its_own_host_under_the_stacks_domain(stack):
    domain = json.loads(load_stack_config(PROJECT_DIR, stack.stack).values["aks-microservices:apps"])["domain"]
    assert {app: host for app, (_, host) in _hosts(stack).items()} == {
        "fibonacci": f"fibonacci.{domain}", "todo": f"todo.{domain}", "homics": f"homics.{domain}"}


def test_an_apps_own_host_setting_wins_over_the_domain():
    apps = _apps("dev")
    apps["todo"] = {**apps.get("todo", {}), "host": "tasks.example.org"}
    assert _hosts(run_stack("dev", overrides={"apps": apps}))["todo"][1] == "tasks.example.org"


def test_the_stacks_ingresses_made_host_less_as_in_the_seeds_shadow_each_other(stack):
    # The seeds' wiring: To Do and Fibonacci (and the HOMicS gateway) host-less on the one class.
    host_less = []
    for obj in stack.k8s_objects():
        if obj["kind"] == "Ingress":
            obj = copy.deepcopy(obj)
            obj["spec"]["rules"][0].pop("host", None)
        host_less.append(obj)
    problems = shadowing(route_table(host_less))
    assert [p for p in problems if "Ingress fibonacci/ingress-service shadows Ingress todo/todo-web" in p]
    assert [p for p in problems if "Ingress fibonacci/ingress-service shadows Ingress homics/gateway" in p]


@pytest.mark.parametrize(("apps", "message"), [
    ({},
     "aks-microservices:apps.domain: todo and fibonacci share the Ingresses' any host (no host set) on one ingress "
     "class, where one app's paths take the other's requests; set apps.domain or a host per app (apps.todo.host, "
     "apps.fibonacci.ingressHost)"),
    ({"homics": {"gatewayExposure": "Ingress"}},
     "aks-microservices:apps.domain: todo and fibonacci and homics share the Ingresses' any host"),
    ({"todo": {"host": "shop.example.com"}, "homics": {"gatewayExposure": "Ingress", "gatewayHost": "shop.example.com"}},
     'aks-microservices:apps.domain: todo and homics share the Ingresses\' host "shop.example.com"'),
])
def test_pulumi_up_warns_when_two_apps_claim_one_host_before_registering_them(apps, message, monkeypatch):
    warnings = []
    monkeypatch.setattr(pulumi.log, "warn", lambda text, *args, **kwargs: warnings.append(text))
    run_stack("dev", overrides={"apps": apps}, seed=11)
    assert len(warnings) == 1 and warnings[0].startswith(message), warnings


def test_the_stacks_own_settings_claim_no_host_twice():
    for name in ("dev", "prod", "local"):
        raw = load_stack_config(PROJECT_DIR, name).values
        assert json.loads(raw["aks-microservices:apps"])["domain"]
    warned = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pulumi.log, "warn", lambda text, *args, **kwargs: warned.append(text))
        run_stack("dev", seed=12)
    assert warned == []


def test_one_app_alone_may_keep_the_seeds_host_less_rules():
    apps = _apps("dev")
    apps["domain"] = None
    apps["todo"] = {**apps.get("todo", {}), "ingress": False}
    recording = run_stack("dev", overrides={"apps": apps})
    table = route_table(recording.k8s_objects())
    assert match(table, "webapprouting.kubernetes.azure.com", "203.0.113.7", "/").service == "fibonacci/client-service:3000"
    assert shadowing(table) == []
