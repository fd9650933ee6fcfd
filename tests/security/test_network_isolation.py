"""Nobody gets in where they don't belong: the dev stack's reachability, computed from its NetworkPolicies alone.

The matrix below is what the apps need, written from /work/shared/apps.md and the seeds (never read back from
the code under test). The rendered NetworkPolicies, run through an independent model of their semantics
(network_model.py), must allow exactly that: every pair of pods of every app, the pods the MySQL Operator runs,
kube-dns, the ingress controller, a pod of another namespace and the world outside the cluster.
"""

import pytest
from network_model import NetworkModel, Party, workload_parties

from offline.engine import run_stack
from offline.summary import OUTSIDE, collect_workloads, traffic_edges

APP_NAMESPACES = ("smilr", "knote", "todo", "fibonacci", "homics", "mysql-operator")

# Pods no manifest of the stack describes, with the labels their owners give them:
# the MySQL Operator 9.1.0 for InnoDBCluster todo-mysql (mysqloperator/controller/innodbcluster/cluster_objects.py
# and router_objects.py) and the mysql-operator chart's Deployment (helm/mysql-operator/templates/deployment.yaml).
MYSQL_SERVERS = Party(
    "todo/todo-mysql", "todo",
    labels={"component": "mysqld", "tier": "mysql", "mysql.oracle.com/cluster": "todo-mysql",
            "mysql.oracle.com/instance-type": "group-member",
            "app.kubernetes.io/name": "mysql-innodbcluster-mysql-server",
            "app.kubernetes.io/instance": "mysql-innodbcluster-todo-mysql-mysql-server",
            "app.kubernetes.io/managed-by": "mysql-operator"},
    ports=frozenset({(3306, "TCP"), (33060, "TCP"), (33061, "TCP")}),
)
MYSQL_ROUTER = Party(
    "todo/todo-mysql-router", "todo",
    labels={"component": "mysqlrouter", "tier": "mysql", "mysql.oracle.com/cluster": "todo-mysql",
            "app.kubernetes.io/name": "mysql-router",
            "app.kubernetes.io/instance": "mysql-innodbcluster-todo-mysql-router",
            "app.kubernetes.io/managed-by": "mysql-operator"},
    # rw, ro, x-rw, x-ro, rw-split, REST API; Service todo-mysql:3306 targets 6446.
    ports=frozenset({(6446, "TCP"), (6447, "TCP"), (6448, "TCP"), (6449, "TCP"), (6450, "TCP"), (8443, "TCP")}),
)
MYSQL_OPERATOR = Party("mysql-operator/mysql-operator", "mysql-operator", labels={"name": "mysql-operator"},
                       ports=frozenset({(9443, "TCP")}))
# Everything else around the apps.
KUBE_DNS = Party("kube-system/coredns", "kube-system", labels={"k8s-app": "kube-dns"},
                 ports=frozenset({(53, "UDP"), (53, "TCP"), (9153, "TCP")}))
INGRESS_CONTROLLER = Party("app-routing-system/nginx", "app-routing-system", labels={"app": "nginx"},
                           ports=frozenset({(80, "TCP"), (443, "TCP")}))
STRANGER = Party("default/stranger", "default", labels={"run": "stranger"}, ports=frozenset({(8080, "TCP")}))
INTERNET = Party("outside", None, address="203.0.113.10", ports=frozenset({(80, "TCP"), (443, "TCP")}))
API_SERVER = Party("kube-apiserver", None, address="20.61.0.10", ports=frozenset({(443, "TCP")}))
# Ports nobody listens on: a rule allowing every port would show up there.
PROBES = ((65000, "TCP"), (65000, "UDP"))


def tcp(source: str, destination: str, *ports: int) -> set:
    return {(source, destination, port, "TCP") for port in ports}


def declared_matrix(app_pods: list[str]) -> set:
    """What the apps need (apps.md, the seeds, the operator's design), and nothing else."""
    dns = {(pod, KUBE_DNS.name, 53, protocol) for pod in app_pods for protocol in ("UDP", "TCP")}
    smilr = (tcp("outside", "smilr/data-api", 4000) | tcp("outside", "smilr/frontend", 3000)
             | tcp("smilr/data-api", "smilr/mongodb", 27017))
    knote = (tcp("outside", "knote/knote", 3000)
             | tcp("knote/knote", "knote/mongo", 27017) | tcp("knote/knote", "knote/minio", 9000))
    todo = (tcp("outside", "todo/todo-web", 80) | tcp(INGRESS_CONTROLLER.name, "todo/todo-web", 80)
            | tcp("todo/todo-web", "todo/todo-api", 80)
            # todo-mysql:3306 is the router's read-write port 6446; so is the Job's.
            | tcp("todo/todo-api", MYSQL_ROUTER.name, 6446) | tcp("todo/todo-db-init", MYSQL_ROUTER.name, 6446)
            | tcp(MYSQL_ROUTER.name, MYSQL_SERVERS.name, 3306, 33060)
            | tcp(MYSQL_SERVERS.name, MYSQL_SERVERS.name, 3306, 33060, 33061)
            | tcp(MYSQL_OPERATOR.name, MYSQL_SERVERS.name, 3306, 33060)
            # The sidecars and the operator call the API server; an ipBlock cannot tell it from the internet.
            | {(who, where, 443, "TCP") for who in (MYSQL_SERVERS.name, MYSQL_OPERATOR.name)
               for where in (API_SERVER.name, INTERNET.name)})
    fibonacci = (tcp(INGRESS_CONTROLLER.name, "fibonacci/client-deployment", 3000)
                 | tcp(INGRESS_CONTROLLER.name, "fibonacci/server-deployment", 5000)
                 | tcp("fibonacci/server-deployment", "fibonacci/redis-statefulset", 6379)
                 | tcp("fibonacci/server-deployment", "fibonacci/postgres-statefulset", 5432)
                 | tcp("fibonacci/worker-deployment", "fibonacci/redis-statefulset", 6379)
                 | tcp("fibonacci/redis-statefulset", "fibonacci/redis-statefulset", 6379))
    services = {"homics/user-deployment": 9001, "homics/monolith-deployment": 8090,
                "homics/stats-deployment": 9002, "homics/stock-deployment": 9003}
    homics = tcp("outside", "homics/gateway-deployment", 8080)
    for service, port in services.items():
        homics |= tcp("homics/gateway-deployment", service, port)
        homics |= tcp(service, "homics/homics-db", 1521) | tcp(service, "homics/kafka", 9092)
    return dns | smilr | knote | todo | fibonacci | homics


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def network(dev):
    objects = dev.k8s_objects()
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels") or {}
                  for o in objects if o["kind"] == "Namespace"}
    app_pods = [p for p in workload_parties(objects) if p.namespace in APP_NAMESPACES]
    app_pods += [MYSQL_SERVERS, MYSQL_ROUTER, MYSQL_OPERATOR]
    others = [KUBE_DNS, INGRESS_CONTROLLER, STRANGER, INTERNET, API_SERVER]
    model = NetworkModel(objects, namespaces)
    parties = app_pods + others
    app_names = {p.name for p in app_pods}
    # The API server is a destination: as a source it is one more address outside the cluster, like INTERNET.
    sources = [p for p in parties if p is not API_SERVER]
    matrix = {entry for entry in model.reachability(sources, parties, PROBES)
              if entry[0] in app_names or entry[1] in app_names}
    return model, app_pods, matrix


def reachable(matrix, source=None, destination=None) -> set:
    return {(s, d, port) for s, d, port, _ in matrix
            if (source is None or s == source) and (destination is None or d == destination)}


# The whole matrix ----------------------------------------------------------------------------------------------

def test_the_policies_allow_exactly_the_declared_matrix(network):
    _, app_pods, matrix = network
    declared = declared_matrix([p.name for p in app_pods])
    assert sorted(matrix - declared) == [], "allowed but not declared"
    assert sorted(declared - matrix) == [], "declared but not allowed"


def test_every_rendered_workload_of_every_app_is_in_the_matrix(network, dev):
    _, app_pods, _ = network
    rendered = {f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in dev.k8s_objects()
                if o["kind"] in ("Deployment", "StatefulSet", "Job")}
    assert rendered <= {p.name for p in app_pods}
    assert len(rendered) == 22  # 21 app workloads and, with Key Vault on AKS, To Do's mysqlpwd-sync holder


def test_every_app_namespace_denies_all_traffic_by_default_and_allows_dns(dev):
    for namespace in APP_NAMESPACES:
        deny = dev.k8s("NetworkPolicy", "default-deny", namespace)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = dev.k8s("NetworkPolicy", "allow-dns", namespace)["spec"]
        assert dns["podSelector"] == {}
        assert [p["port"] for p in dns["egress"][0]["ports"]] == [53, 53]


# What the seeds say, one sentence at a time ----------------------------------------------------------------------

def test_knote_reaches_mongo_and_minio_and_only_knote_is_reachable_from_outside(network):
    _, _, matrix = network
    knote_out = {(d, p) for s, d, p in reachable(matrix, source="knote/knote") if d != KUBE_DNS.name}
    assert knote_out == {("knote/mongo", 27017), ("knote/minio", 9000)}
    from_outside = {d for s, d, _ in reachable(matrix, source="outside") if d.startswith("knote/")}
    assert from_outside == {"knote/knote"}
    assert not reachable(matrix, source=INGRESS_CONTROLLER.name, destination="knote/mongo")


def test_fibonacci_worker_reaches_redis_only_never_postgres(network):
    _, _, matrix = network
    worker_out = {(d, p) for s, d, p in reachable(matrix, source="fibonacci/worker-deployment")
                  if d != KUBE_DNS.name}
    assert worker_out == {("fibonacci/redis-statefulset", 6379)}
    assert not reachable(matrix, source="fibonacci/worker-deployment", destination="fibonacci/postgres-statefulset")


def test_todo_api_reaches_todo_mysql_3306_through_the_router_and_nothing_else(network):
    _, _, matrix = network
    api_out = {(d, p) for s, d, p in reachable(matrix, source="todo/todo-api") if d != KUBE_DNS.name}
    assert api_out == {(MYSQL_ROUTER.name, 6446)}
    # The servers themselves only take the router, each other and the operator.
    server_clients = {s for s, _, _ in reachable(matrix, destination=MYSQL_SERVERS.name)}
    assert server_clients == {MYSQL_ROUTER.name, MYSQL_SERVERS.name, MYSQL_OPERATOR.name}


def test_the_ingress_controller_reaches_client_service_and_server_service_only(network):
    _, _, matrix = network
    reached = {(d, p) for _, d, p in reachable(matrix, source=INGRESS_CONTROLLER.name)}
    assert {(d, p) for d, p in reached if d.startswith("fibonacci/")} == {
        ("fibonacci/client-deployment", 3000),  # client-service
        ("fibonacci/server-deployment", 5000),  # server-service
    }
    assert reached - {("fibonacci/client-deployment", 3000), ("fibonacci/server-deployment", 5000)} == {
        ("todo/todo-web", 80),  # To Do's Ingress `todo-web`, the only other Ingress
    }


def test_no_store_is_reachable_from_outside_its_app(network):
    _, _, matrix = network
    stores = {"smilr/mongodb", "knote/mongo", "knote/minio", "fibonacci/redis-statefulset",
              "fibonacci/postgres-statefulset", "homics/homics-db", "homics/kafka", MYSQL_SERVERS.name}
    for store in stores:
        app = store.split("/")[0]
        strangers = {s for s, _, _ in reachable(matrix, destination=store)
                     if s.split("/")[0] not in (app, "mysql-operator")}
        assert strangers == set(), store


def test_no_app_is_reachable_from_another_apps_namespace(network):
    _, _, matrix = network
    crossing = {(s, d) for s, d, _ in reachable(matrix)
                if "/" in s and "/" in d and s.split("/")[0] != d.split("/")[0]
                and s.split("/")[0] in APP_NAMESPACES and d.split("/")[0] in APP_NAMESPACES}
    # The one crossing is the operator's: it manages the servers it created.
    assert crossing == {(MYSQL_OPERATOR.name, MYSQL_SERVERS.name)}
    assert not reachable(matrix, source=STRANGER.name)


def test_kube_dns_is_reachable_only_on_53_and_its_metrics_port_is_closed(network):
    _, _, matrix = network
    assert {p for _, _, p in reachable(matrix, destination=KUBE_DNS.name)} == {53}


# The summary draws the same declarations ----------------------------------------------------------------------------

def test_the_summary_diagram_draws_exactly_the_traffic_the_policies_allow_between_workloads(network, dev):
    _, _, matrix = network
    objects = dev.k8s_objects()
    workloads = collect_workloads(objects)
    by_node = {w.node_id: f"{w.namespace}/{w.name}" for w in workloads}
    edges = traffic_edges(objects, workloads)
    drawn = {(by_node[s], by_node[d]) for s, d, _ in edges if s in by_node and d in by_node}
    allowed = {(s, d) for s, d, _ in reachable(matrix) if s in by_node.values() and d in by_node.values() and s != d}
    assert drawn == allowed
    entries = {by_node[d] for s, d, _ in edges if s == OUTSIDE}
    assert entries == {d for s, d, _ in reachable(matrix)
                       if s in ("outside", INGRESS_CONTROLLER.name) and d in by_node.values()}


# An existing cluster ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def local():
    # The local stack leaves HOMicS off to fit a laptop; its NodePort gateway is what this checks.
    return run_stack("local", overrides={"apps": {"homics": {"enabled": True}}})


def test_on_an_existing_cluster_ingress_nginx_is_let_in_and_the_api_server_port_is_not_assumed(local):
    objects = local.k8s_objects()
    model = NetworkModel(objects)
    parties = {p.name: p for p in workload_parties(objects)}
    nginx = Party("ingress-nginx/controller", "ingress-nginx", labels={"app.kubernetes.io/name": "ingress-nginx"})
    assert model.allows(nginx, parties["fibonacci/client-deployment"], 3000)
    assert not model.allows(INGRESS_CONTROLLER, parties["fibonacci/client-deployment"], 3000)
    # HOMicS' gateway is a NodePort there, as in the seed: open to the outside on its port only.
    assert model.allows(INTERNET, parties["homics/gateway-deployment"], 8080)
    assert not model.allows(INTERNET, parties["homics/user-deployment"], 9001)
    # kubeadm/kind serve the API on 6443, Minikube on 8443: the operator may use any of them there.
    api = Party("kube-apiserver", None, address="192.168.49.2")
    assert [port for port in (443, 6443, 8443, 8080) if model.allows(MYSQL_OPERATOR, api, port)] == [443, 6443, 8443]
