"""Declared connections: one declaration gives the address env vars, the annotation and both policy halves."""

import pytest

from components import (
    Connection,
    Endpoint,
    IngressPath,
    IngressRule,
    InvalidArgsError,
    NamespaceIsolation,
    PerReplicaStorage,
    PodSecurity,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
    WorkloadTraffic,
)
from components.labels import selector_labels
from offline.engine import run

MONGO = Endpoint(host="mongo", port=27017, namespace="knote", workload="mongo",
                 pod_labels=selector_labels("mongo", "knote"))
# A Service that translates its port: clients dial 80, the pods listen on 3000.
API = Endpoint(host="api", port=80, target_port=3000, namespace="knote", workload="api",
               pod_labels=selector_labels("api", "knote"))


# CoreDNS pods keep the `k8s-app: kube-dns` label for compatibility; they answer on 53, UDP and TCP.
KUBE_DNS = ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}, [(53, "UDP"), (53, "TCP")])


def web_args(**overrides) -> StatelessServiceArgs:
    fields = dict(namespace="knote", part_of="knote", component="web", image="learnk8s/knote-js:2.0.0", port=3000,
                  deployment_name="knote", service_type="LoadBalancer", service_port=80,
                  connects_to=(Connection(to=MONGO, env={"MONGO_URL": "mongodb://{host}:{port}/dev"}),
                               Connection(to=API, env={"API": "http://{fqdn}:{port}"})))
    fields.update(overrides)
    return StatelessServiceArgs(**fields)


@pytest.fixture(scope="module")
def web():
    return run(lambda: StatelessService("knote", web_args()))


def env_of(recording) -> dict:
    container = recording.k8s("Deployment", "knote")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def peers(rules, key) -> list:
    return [(rule[key][0], [(p["port"], p["protocol"]) for p in rule["ports"]]) for rule in rules]


def test_a_connection_writes_the_address_env_vars_from_its_templates(web):
    assert env_of(web) == {"MONGO_URL": "mongodb://mongo:27017/dev", "API": "http://api.knote.svc.cluster.local:80"}


def test_the_declared_connections_are_recorded_on_the_pod_for_the_summary(web):
    annotations = web.k8s("Deployment", "knote")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["aks-microservices/connects-to"] == "mongo:27017,api:80"


def test_the_workloads_own_policy_allows_egress_to_each_target_on_the_pods_port_and_the_world_in(web):
    spec = web.k8s("NetworkPolicy", "knote", "knote")["spec"]
    assert spec["podSelector"] == {"matchLabels": selector_labels("knote", "knote")}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert peers(spec["egress"], "to") == [
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "knote"}},
          "podSelector": {"matchLabels": MONGO.pod_labels}}, [(27017, "TCP")]),
        # After the Service's translation: the pods' 3000, not the Service's 80.
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "knote"}},
          "podSelector": {"matchLabels": API.pod_labels}}, [(3000, "TCP")]),
        # The names it dials resolve without a NamespaceIsolation's allow-dns.
        KUBE_DNS,
    ]
    # A LoadBalancer: anyone outside the cluster, on the container port only.
    assert peers(spec["ingress"], "from") == [({"ipBlock": {"cidr": "0.0.0.0/0"}}, [(3000, "TCP")])]


def test_the_client_also_opens_each_target_to_itself_and_nothing_more(web):
    spec = web.k8s("NetworkPolicy", "knote-to-mongo", "knote")["spec"]
    assert spec["podSelector"] == {"matchLabels": MONGO.pod_labels}
    assert spec["policyTypes"] == ["Ingress"]  # the target's egress stays its own business
    assert peers(spec["ingress"], "from") == [
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "knote"}},
          "podSelector": {"matchLabels": selector_labels("knote", "knote")}}, [(27017, "TCP")]),
    ]
    assert "knote-to-api" in {o["metadata"]["name"] for o in web.k8s_objects() if o["kind"] == "NetworkPolicy"}


def test_a_cluster_ip_service_without_connections_or_ingress_lets_nothing_in_or_out():
    recording = run(lambda: StatelessService("api", web_args(deployment_name="api", service_type="ClusterIP",
                                                             service_port=None, connects_to=())))
    spec = recording.k8s("NetworkPolicy", "api")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec and "egress" not in spec
    assert "annotations" not in recording.k8s("Deployment", "api")["spec"]["template"]["metadata"]


def test_an_ingress_lets_only_the_controllers_namespace_in_to_each_backends_pods_and_ports():
    server = Endpoint(host="server-service", port=5000, namespace="fib", workload="server-deployment",
                      pod_labels=selector_labels("server-deployment", "fib"))
    ingress = IngressRule(class_name="webapprouting.kubernetes.azure.com", controller_namespace="app-routing-system",
                          name="ingress-service",
                          paths=(IngressPath(path="/"), IngressPath(path="/api", backend=server)))
    recording = run(lambda: StatelessService("client", StatelessServiceArgs(
        namespace="fib", part_of="fib", component="web", image="mosabami/multi-client:v1", port=3000,
        deployment_name="client-deployment", service_name="client-service", ingress=ingress)))
    controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "app-routing-system"}}}
    own = recording.k8s("NetworkPolicy", "client-deployment")["spec"]
    assert peers(own["ingress"], "from") == [(controller, [(3000, "TCP")])]
    other = recording.k8s("NetworkPolicy", "ingress-service-to-server-deployment")["spec"]
    assert other["podSelector"] == {"matchLabels": server.pod_labels}
    assert peers(other["ingress"], "from") == [(controller, [(5000, "TCP")])]
    path = recording.k8s("Ingress", "ingress-service")["spec"]["rules"][0]["http"]["paths"][1]
    assert path["backend"]["service"] == {"name": "server-service", "port": {"number": 5000}}


def test_a_store_allows_its_peer_ports_between_its_own_pods_only():
    recording = run(lambda: StatefulStore("redis", StatefulStoreArgs(
        namespace="fib", part_of="fib", component="cache", image="redis:7.4", port=6379,
        statefulset_name="redis-statefulset", headless_service_name="redis-headless", service_name="redis-service",
        replicas=3, peer_ports=(6379,),
        storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data"))))
    spec = recording.k8s("NetworkPolicy", "redis-statefulset")["spec"]
    own = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "fib"}},
           "podSelector": {"matchLabels": selector_labels("redis-statefulset", "fib")}}
    assert peers(spec["ingress"], "from") == [(own, [(6379, "TCP")])]
    assert peers(spec["egress"], "to") == [(own, [(6379, "TCP")]), KUBE_DNS]  # replicas find pod 0 by name


def test_a_stores_endpoints_name_its_client_service_and_its_pod_zero():
    def program():
        store = StatefulStore("redis", StatefulStoreArgs(
            namespace="fib", part_of="fib", component="cache", image="redis:7.4", port=6379,
            statefulset_name="redis-statefulset", headless_service_name="redis-headless",
            service_name="redis-service", service_port=6380,
            storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data")))
        return {"endpoint": store.endpoint.render("{host}:{port}->" + str(store.endpoint.pod_port)),
                "primary": store.primary.render("{fqdn}:{port}")}

    recording = run(program)
    assert recording.resolve(recording.value["endpoint"]) == "redis-service:6380->6379"
    assert recording.resolve(recording.value["primary"]) == "redis-statefulset-0.redis-headless.fib.svc.cluster.local:6379"


def test_namespace_isolation_denies_everything_but_dns_to_kube_dns():
    recording = run(lambda: NamespaceIsolation("shop", namespace="shop", labels={"app.kubernetes.io/part-of": "shop"}))
    assert recording.k8s("NetworkPolicy", "default-deny", "shop")["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = recording.k8s("NetworkPolicy", "allow-dns", "shop")["spec"]
    assert dns["policyTypes"] == ["Egress"]
    assert peers(dns["egress"], "to") == [
        ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}, [(53, "UDP"), (53, "TCP")]),
    ]


def test_pod_security_labels_pin_the_version_and_baseline_needs_a_reason():
    assert PodSecurity().labels("1.33") == {
        "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "v1.33",
        "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": "v1.33",
        "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.33",
    }
    baseline = PodSecurity.baseline("the operator's pods run as root")
    assert baseline.labels("1.30")["pod-security.kubernetes.io/enforce"] == "baseline"
    assert baseline.annotations() == {"aks-microservices/pod-security-exception": "the operator's pods run as root"}


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Endpoint(host="mongo", port=27017, namespace="knote", workload="mongo", pod_labels={}),
     "Endpoint.pod_labels: expected at least one label selecting the endpoint's pods, got {}"),
    (lambda: Endpoint(host="mongo", port=0, namespace="knote", workload="mongo", pod_labels={"a": "b"}),
     "Endpoint.port: expected an integer 1-65535, got 0"),
    (lambda: Connection(to="mongo:27017"), "Connection.to: expected an Endpoint, got 'mongo:27017'"),
    (lambda: Connection(to=MONGO, env={"MONGO_URL": "mongodb://{hostname}"}),
     "Connection.env['MONGO_URL']: expected a string using only {host}, {port}, {namespace}, {fqdn}"),
    (lambda: Connection(to=MONGO, env={"MONGO-URL": "{host}"}), "Connection.env: expected env names that are C"),
    (lambda: web_args(env={"MONGO_URL": "x"}),
     "StatelessServiceArgs.connects_to: expected env names not already set in env or env_from_secrets, got 'MONGO_URL'"),
    (lambda: web_args(connects_to=(Connection(to=MONGO, env={"A": "{host}"}), Connection(to=API, env={"A": "{host}"}))),
     "StatelessServiceArgs.connects_to: expected each env var set by one connection, got 'A'"),
    (lambda: web_args(connects_to=(MONGO,)), "StatelessServiceArgs.connects_to: expected a Connection"),
    (lambda: web_args(pod_annotations={"aks-microservices/connects-to": "mongo"}),
     "StatelessServiceArgs.pod_annotations: expected no key of"),
    (lambda: StatefulStoreArgs(namespace="fib", part_of="fib", component="cache", image="redis", port=6379,
                               statefulset_name="redis", headless_service_name="redis-headless", peer_ports=(6380,),
                               storage=PerReplicaStorage(claim_name="d", size="1Gi", mount_path="/data")),
     "StatefulStoreArgs.peer_ports: expected ports of the container ([6379]), got 6380"),
    (lambda: PodSecurity(level="baseline"), "PodSecurity.reason: expected why the namespace cannot enforce restricted"),
    (lambda: PodSecurity(reason="because"), "PodSecurity.reason: expected None for restricted"),
    (lambda: PodSecurity(level="privileged", reason="x"), "PodSecurity.level: expected one of 'restricted', 'baseline'"),
])
def test_bad_declarations_are_refused_naming_the_field_and_value(build, message):
    with pytest.raises(InvalidArgsError) as error:
        build()
    assert str(error.value).startswith(message)


def test_an_address_from_a_services_output_waits_for_that_service():
    def program():
        mongo = StatefulStore("mongo", StatefulStoreArgs(
            namespace="knote", part_of="knote", component="database", image="mongo:7.0", port=27017,
            statefulset_name="mongo", headless_service_name="mongo-headless", service_name="mongo",
            storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data/db")))
        StatelessService("knote", web_args(connects_to=(Connection(to=mongo.endpoint, env={"MONGO_URL": "{host}"}),)))

    recording = run(program)
    deployment = recording.k8s_resource("Deployment", "knote", "knote")
    service = recording.k8s_resource("Service", "mongo", "knote")
    assert service.urn in deployment.dependencies
    assert env_of(recording) == {"MONGO_URL": "mongo"}


# Declared data flow: writers reach a replicated store's write endpoint -------------------------------------

def _redis_store(**overrides):
    return StatefulStore("redis", StatefulStoreArgs(**{
        "namespace": "fib", "part_of": "fib", "component": "cache", "image": "redis:7.4", "port": 6379,
        "statefulset_name": "redis-statefulset", "headless_service_name": "redis-headless",
        "service_name": "redis-service", "replicas": 3, "single_writer": True,
        "storage": PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data"), **overrides}))


def _worker_env(recording) -> dict:
    container = recording.k8s("Deployment", "worker-deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def _worker(connects_to):
    return StatelessService("worker", StatelessServiceArgs(
        namespace="fib", part_of="fib", component="worker", image="mosabami/multi-worker:v1",
        deployment_name="worker-deployment", service_type=None, probes_disabled_reason="no port",
        connects_to=connects_to))


def test_a_writer_on_a_single_writer_stores_service_is_refused_naming_client_endpoint_and_primary():
    # The seed's wiring of the Fibonacci worker: BRPOP and HSET through redis-service, whose replicas refuse writes.
    def program():
        redis = _redis_store()
        _worker((Connection(to=redis.endpoint, env={"REDIS_HOST": "{host}"}),))

    with pytest.raises(Exception) as error:
        run(program)
    message = str(error.value)
    assert "StatelessServiceArgs.connects_to: worker-deployment writes through redis-service:6379" in message
    assert "read-only endpoint of redis-statefulset" in message
    assert "redis-statefulset-0.redis-headless:6379" in message
    assert "\n" not in message.strip()


def test_a_reader_may_use_the_read_endpoint_and_a_writer_the_primary():
    def program():
        redis = _redis_store()
        _worker((Connection(to=redis.read_endpoint, env={"READS": "{host}"}, writes=False),
                 Connection(to=redis.write_endpoint, env={"WRITES": "{fqdn}"})))

    recording = run(program)
    assert _worker_env(recording) == {"READS": "redis-service",
                                 "WRITES": "redis-statefulset-0.redis-headless.fib.svc.cluster.local"}


def test_without_a_single_writer_the_stores_service_takes_writes():
    def program():
        redis = _redis_store(single_writer=False)
        assert redis.write_endpoint is redis.endpoint and redis.endpoint.read_only is None
        _worker((Connection(to=redis.endpoint, env={"REDIS_HOST": "{host}"}),))

    assert _worker_env(run(program)) == {"REDIS_HOST": "redis-service"}


def test_a_client_that_finds_the_primary_itself_may_write_through_a_read_endpoint():
    members = Endpoint(host="todo-mysql-instances", port=3306, namespace="todo", workload="todo-mysql",
                       pod_labels={"component": "mysqld"}, read_only="secondaries are super_read_only",
                       write_endpoint=Endpoint(host="todo-mysql", port=3306, namespace="todo",
                                               workload="todo-mysql-router", pod_labels={"component": "router"}))
    with pytest.raises(InvalidArgsError, match=r"WorkloadTraffic\.connects_to: todo-db-init writes through "
                       r"todo-mysql-instances:3306.*write endpoint todo-mysql:3306"):
        WorkloadTraffic(workload="todo-db-init", namespace="todo", pod_labels={"a": "b"},
                        connects_to=(Connection(to=members),))
    WorkloadTraffic(workload="router", namespace="todo", pod_labels={"a": "b"},
                    connects_to=(Connection(to=members, finds_primary=True),))


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Endpoint(host="r", port=1, namespace="n", workload="r", pod_labels={"a": "b"}, read_only="replicas"),
     "Endpoint.write_endpoint: expected an Endpoint, got None"),
    (lambda: Endpoint(host="r", port=1, namespace="n", workload="r", pod_labels={"a": "b"}, write_endpoint=MONGO),
     "Endpoint.write_endpoint: expected None unless read_only is set"),
    (lambda: Connection(to=MONGO, writes="yes"), "Connection.writes: expected True or False, got 'yes'"),
    (lambda: StatefulStoreArgs(namespace="fib", part_of="fib", component="cache", image="redis", port=6379,
                               statefulset_name="redis", headless_service_name="redis-headless", single_writer=True,
                               storage=PerReplicaStorage(claim_name="d", size="1Gi", mount_path="/data")),
     "StatefulStoreArgs.service_name: expected a client Service for the reads when single_writer is set"),
])
def test_bad_data_flow_declarations_are_refused(build, message):
    with pytest.raises(InvalidArgsError) as error:
        build()
    assert str(error.value).startswith(message)

# A component works on its own: without a NamespaceIsolation, and wired only by declarations ------------------

def _redis():
    return StatefulStore("redis", StatefulStoreArgs(
        namespace="shop", part_of="shop", component="cache", image="redis:7.4", port=6379,
        statefulset_name="redis", headless_service_name="redis-headless", service_name="redis",
        storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data")))


def _shop_web(**fields):
    return StatelessServiceArgs(namespace="shop", part_of="shop", component="frontend", image="shop/web:1.0",
                                port=8080, deployment_name="web", **fields)


ADDRESSES = {
    "host": lambda redis: redis.host,
    "primary_host": lambda redis: redis.primary_host,
    "endpoint.host": lambda redis: redis.endpoint.host,
    "endpoint.address": lambda redis: redis.endpoint.address,
    "endpoint.render": lambda redis: redis.endpoint.render("redis://{fqdn}:{port}"),
    "primary.render": lambda redis: redis.primary.render("{fqdn}"),
}


@pytest.mark.parametrize("address", sorted(ADDRESSES))
def test_an_env_value_taken_from_another_components_address_without_a_connection_names_connects_to(address):
    def program():
        redis = _redis()
        value = ADDRESSES[address](redis)
        StatelessService("web", _shop_web(env={"REDIS_HOST": value}))

    with pytest.raises(InvalidArgsError) as error:
        run(program)
    message = str(error.value)
    assert message.startswith("StatelessServiceArgs.env['REDIS_HOST']: the address of redis, with no connection")
    assert "connects_to=[Connection(to=<the redis component>.endpoint" in message
    assert len(message.splitlines()) == 1


def test_the_same_address_with_a_declared_connection_is_accepted():
    def program():
        redis = _redis()
        StatelessService("web", _shop_web(env={"REDIS_ADDRESS": redis.host},
                                          connects_to=[Connection(to=redis.endpoint, env={"REDIS_HOST": "{host}"})]))

    recording = run(program)
    env = recording.k8s("Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "REDIS_ADDRESS", "value": "redis.shop.svc.cluster.local"} in env


def test_a_workload_that_dials_anything_may_resolve_names_without_a_namespace_isolation():
    def program():
        StatelessService("web", _shop_web(connects_to=[Connection(to=_redis().endpoint, env={"REDIS_HOST": "{fqdn}"})]))

    recording = run(program)
    assert not recording.of_type("aks-microservices:components:NamespaceIsolation")
    assert peers(recording.k8s("NetworkPolicy", "web")["spec"]["egress"], "to")[-1] == KUBE_DNS
