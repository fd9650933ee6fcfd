import re

import pulumi
import pytest

from components import Endpoint, ExecProbe, IngressPath, IngressRule, StatelessService, StatelessServiceArgs
from components.labels import selector_labels
from offline.engine import run

COMPONENT = "aks-microservices:components:StatelessService"


def data_api_args(**overrides) -> StatelessServiceArgs:
    fields = dict(namespace="smilr", part_of="smilr", component="api", image="smilr/data-api:1.0", port=4000,
                  deployment_name="data-api", service_name="data-api-svc", service_type="LoadBalancer",
                  service_port=80, replicas=3)
    fields.update(overrides)
    return StatelessServiceArgs(**fields)


def render(opts=None, **overrides):
    return run(lambda: StatelessService("data-api", data_api_args(**overrides), opts))


# The Fibonacci server as another component publishes it: Service server-service:5000 in front of its pods.
FIB_SERVER = Endpoint(host="server-service", port=5000, namespace="fib", workload="server-deployment",
                      pod_labels=selector_labels("server-deployment", "fib"))
FIB_INGRESS = IngressRule(
    class_name="webapprouting.kubernetes.azure.com",
    controller_namespace="app-routing-system",
    name="ingress-service",
    annotations={"nginx.ingress.kubernetes.io/use-regex": "true",
                 "nginx.ingress.kubernetes.io/rewrite-target": "/$1"},
    paths=(
        IngressPath(path="/?(.*)", path_type="ImplementationSpecific"),
        IngressPath(path="/api/?(.*)", path_type="ImplementationSpecific", backend=FIB_SERVER),
    ),
)


def fib_client(**overrides):
    fields = dict(namespace="fib", part_of="fib", component="web", image="mosabami/multi-client:v1", port=3000,
                  deployment_name="client-deployment", service_name="client-service", ingress=FIB_INGRESS)
    fields.update(overrides)
    return run(lambda: StatelessService("client", StatelessServiceArgs(**fields)))


# Objects -------------------------------------------------------------------------------------------------

def test_creates_a_deployment_and_a_service_with_the_kubernetes_names_given():
    recording = render()
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in recording.k8s_objects())
    assert kinds == [("Deployment", "data-api"), ("NetworkPolicy", "data-api"), ("PodDisruptionBudget", "data-api"),
                     ("Service", "data-api-svc"), ("ServiceAccount", "data-api")]
    assert {o["metadata"]["namespace"] for o in recording.k8s_objects()} == {"smilr"}


def test_children_are_named_from_the_component_name_and_parented_to_it():
    recording = render(ingress=IngressRule(class_name="nginx", controller_namespace="ingress-nginx"))
    component = recording.of_type(COMPONENT)[0]
    children = recording.children_of(component.urn)
    assert sorted(r.name for r in children) == [
        "data-api-deployment", "data-api-ingress", "data-api-network-policy", "data-api-pdb", "data-api-service",
        "data-api-service-account",
    ]
    assert all(r.custom for r in children)


def test_user_opts_such_as_protect_reach_every_child():
    recording = render(opts=pulumi.ResourceOptions(protect=True))
    component = recording.of_type(COMPONENT)[0]
    assert component.protect
    assert all(r.protect for r in recording.children_of(component.urn))


def test_children_are_not_protected_unless_asked():
    assert not any(r.protect for r in render().resources)


def test_a_load_balancer_service_maps_its_port_to_the_container_port_and_keeps_the_client_address():
    service = render().k8s("Service", "data-api-svc")
    assert service["spec"] == {
        "type": "LoadBalancer",
        # Nodes deliver only to their own pods: the pods' NetworkPolicy sees the client, never a forwarding node.
        "externalTrafficPolicy": "Local",
        "selector": {"app.kubernetes.io/name": "data-api", "app.kubernetes.io/instance": "smilr"},
        "ports": [{"name": "main", "port": 80, "targetPort": 4000, "protocol": "TCP"}],
    }


def test_the_service_defaults_to_a_cluster_ip_named_like_the_deployment_on_the_container_port():
    recording = render(service_name=None, service_type="ClusterIP", service_port=None)
    spec = recording.k8s("Service", "data-api")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [{"name": "main", "port": 4000, "targetPort": 4000, "protocol": "TCP"}]


def test_a_node_port_service_pins_its_node_port():
    recording = render(service_type="NodePort", service_port=8080, node_port=30080)
    assert recording.k8s("Service", "data-api-svc")["spec"]["ports"][0]["nodePort"] == 30080


def test_deployment_and_service_select_pods_by_name_and_instance_only():
    recording = render()
    deployment = recording.k8s("Deployment", "data-api")
    expected = selector_labels("data-api", "smilr")
    assert deployment["spec"]["selector"] == {"matchLabels": expected}
    assert recording.k8s("Service", "data-api-svc")["spec"]["selector"] == expected
    assert expected.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_instance_defaults_to_part_of_and_can_be_set():
    deployment = render(instance="smilr-blue").k8s("Deployment", "data-api")
    assert deployment["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "smilr-blue"
    assert deployment["metadata"]["labels"]["app.kubernetes.io/part-of"] == "smilr"


def test_replicas_are_rendered_as_given():
    assert render().k8s("Deployment", "data-api")["spec"]["replicas"] == 3
    assert render(replicas=1).k8s("Deployment", "data-api")["spec"]["replicas"] == 1


def test_replicas_none_leaves_spec_replicas_absent():
    assert "replicas" not in render(replicas=None).k8s("Deployment", "data-api")["spec"]


def test_rolling_updates_never_take_a_ready_pod_away():
    spec = render().k8s("Deployment", "data-api")["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
    assert "minReadySeconds" not in spec
    assert render(min_ready_seconds=10).k8s("Deployment", "data-api")["spec"]["minReadySeconds"] == 10


def test_pods_are_spread_over_nodes_and_zones_as_a_preference_per_rollout():
    spread = render().k8s("Deployment", "data-api")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert spread == [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels("data-api", "smilr")},
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]


# Disruption budget ---------------------------------------------------------------------------------------

def test_a_pdb_named_like_the_deployment_allows_one_disruption_from_two_replicas():
    pdb = render(replicas=2).k8s("PodDisruptionBudget", "data-api")
    assert pdb["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": selector_labels("data-api", "smilr")},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


@pytest.mark.parametrize("replicas", [0, 1, None])
def test_there_is_no_pdb_below_two_replicas_or_without_a_count(replicas):
    assert not render(replicas=replicas).of_type("kubernetes:policy/v1:PodDisruptionBudget")


def test_pdb_can_be_forced_on_for_an_autoscaled_deployment_or_off():
    assert render(replicas=None, pdb=True).k8s("PodDisruptionBudget", "data-api")
    assert not render(replicas=3, pdb=False).of_type("kubernetes:policy/v1:PodDisruptionBudget")


# Workers ------------------------------------------------------------------------------------------------

def test_a_worker_without_port_has_no_service_host_or_port():
    def program():
        return StatelessService("worker", StatelessServiceArgs(
            namespace="fib", part_of="fib", component="worker", image="mosabami/multi-worker:v1",
            deployment_name="worker-deployment", service_type=None, replicas=3,
            liveness_probe=ExecProbe(command=["pgrep", "node"]),
        ))

    recording = run(program)
    worker = recording.value
    assert sorted(o["kind"] for o in recording.k8s_objects()) == [
        "Deployment", "NetworkPolicy", "PodDisruptionBudget", "ServiceAccount",
    ]
    assert worker.service is None and worker.host is None and worker.port is None
    assert recording.resolve(worker.load_balancer_address) == ""


# Ingress -------------------------------------------------------------------------------------------------

def test_an_ingress_routes_regex_paths_to_this_and_another_service_with_class_and_annotations():
    ingress = fib_client().k8s("Ingress", "ingress-service")
    assert ingress["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/use-regex": "true",
        "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
    }
    assert ingress["spec"] == {
        "ingressClassName": "webapprouting.kubernetes.azure.com",
        "rules": [{"http": {"paths": [
            {"path": "/?(.*)", "pathType": "ImplementationSpecific",
             "backend": {"service": {"name": "client-service", "port": {"number": 3000}}}},
            {"path": "/api/?(.*)", "pathType": "ImplementationSpecific",
             "backend": {"service": {"name": "server-service", "port": {"number": 5000}}}},
        ]}}],
    }


def test_an_ingress_defaults_to_the_deployment_name_a_prefix_path_and_this_service():
    ingress = render(ingress=IngressRule(class_name="nginx", controller_namespace="ingress-nginx", host="smilr.example.com",
                                         tls_secret_name="smilr-tls")).k8s("Ingress", "data-api")
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "rules": [{"host": "smilr.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "data-api-svc", "port": {"number": 80}}}},
        ]}}],
        "tls": [{"hosts": ["smilr.example.com"], "secretName": "smilr-tls"}],
    }


# Whole-output checks -------------------------------------------------------------------------------------

def test_every_object_is_valid_for_the_kubernetes_api(assert_manifests_valid):
    assert_manifests_valid(render(ingress=IngressRule(class_name="nginx", controller_namespace="ingress-nginx", host="a.example.com")))
    assert_manifests_valid(fib_client())
    assert_manifests_valid(render(service_type="NodePort", node_port=30080))


def test_every_object_and_pod_carries_the_recommended_labels(assert_recommended_labels):
    recording = render(ingress=IngressRule(class_name="nginx", controller_namespace="ingress-nginx"))
    assert_recommended_labels(recording, name="data-api", instance="smilr", component="api", part_of="smilr")


def test_annotations_go_on_every_object_and_ingress_annotations_only_on_the_ingress():
    recording = render(annotations={"owner": "team-a"},
                       ingress=IngressRule(class_name="nginx", controller_namespace="ingress-nginx", annotations={"nginx.ingress.kubernetes.io/x": "1"}))
    for obj in recording.k8s_objects():
        assert obj["metadata"]["annotations"]["owner"] == "team-a"
    assert "nginx.ingress.kubernetes.io/x" in recording.k8s("Ingress", "data-api")["metadata"]["annotations"]
    assert "nginx.ingress.kubernetes.io/x" not in recording.k8s("Service", "data-api-svc")["metadata"]["annotations"]


# Outputs -------------------------------------------------------------------------------------------------

def test_outputs_give_the_cluster_dns_name_port_and_load_balancer_address():
    recording = render()
    app = recording.value
    assert recording.resolve(app.host) == "data-api-svc.smilr.svc.cluster.local"
    assert app.port == 80
    assert recording.resolve(app.load_balancer_address).startswith("203.0.113.")
    assert app.deployment is not None and app.service is not None


def test_the_load_balancer_address_is_empty_for_a_cluster_ip_service():
    recording = render(service_type="ClusterIP")
    assert recording.resolve(recording.value.load_balancer_address) == ""


def test_a_namespace_output_flows_into_every_object_and_the_host():
    def program():
        namespace = pulumi.Output.from_input("smilr-dev")
        return StatelessService("data-api", data_api_args(namespace=namespace))

    recording = run(program)
    assert {o["metadata"]["namespace"] for o in recording.k8s_objects()} == {"smilr-dev"}
    assert recording.resolve(recording.value.host) == "data-api-svc.smilr-dev.svc.cluster.local"


# Validation ----------------------------------------------------------------------------------------------

ERRORS = [
    ({"deployment_name": "Data_API"}, "StatelessServiceArgs.deployment_name: expected a DNS-1123 label"),
    ({"deployment_name": "a" * 64}, "StatelessServiceArgs.deployment_name: expected a DNS-1123 label"),
    ({"service_name": "1svc"}, "StatelessServiceArgs.service_name: expected a DNS-1035 label (at most 63 "
                               "lowercase letters, digits and '-', starting with a letter), got '1svc'"),
    ({"service_name": None, "deployment_name": "3d-api"},
     "StatelessServiceArgs.deployment_name (the default service_name): expected a DNS-1035 label"),
    ({"service_type": "ExternalName"},
     "StatelessServiceArgs.service_type: expected one of 'ClusterIP', 'LoadBalancer', 'NodePort', None, "
     "got 'ExternalName'"),
    ({"service_port": 0}, "StatelessServiceArgs.service_port: expected an integer 1-65535, got 0"),
    ({"service_port": 70000}, "StatelessServiceArgs.service_port: expected an integer 1-65535, got 70000"),
    ({"node_port": 30080},
     "StatelessServiceArgs.node_port: expected None unless service_type is 'NodePort' (it is 'LoadBalancer'), "
     "got 30080"),
    ({"service_type": "NodePort", "node_port": 8080},
     "StatelessServiceArgs.node_port: expected an integer 30000-32767, got 8080"),
    ({"replicas": -1}, "StatelessServiceArgs.replicas: expected an integer >= 0, got -1"),
    ({"replicas": 2.5}, "StatelessServiceArgs.replicas: expected an integer >= 0, got 2.5"),
    ({"min_ready_seconds": -1}, "StatelessServiceArgs.min_ready_seconds: expected an integer >= 0, got -1"),
    ({"replicas": 1, "pdb": True},
     "StatelessServiceArgs.pdb: expected False or None with replicas 1 (a PDB needs >= 2), got True"),
    ({"port": None, "liveness_probe": None},
     "StatelessServiceArgs.readiness_probe: expected an ExecProbe"),
    ({"service_type": None, "service_port": 80},
     "StatelessServiceArgs.service_name: expected None when service_type is None (no Service), got 'data-api-svc'"),
    ({"service_type": None, "service_name": None, "service_port": 80},
     "StatelessServiceArgs.service_port: expected None when service_type is None (no Service), got 80"),
    ({"ingress": "nginx"}, "StatelessServiceArgs.ingress: expected an IngressRule, got 'nginx'"),
    ({"service_type": None, "service_name": None, "service_port": None, "ingress": IngressRule(class_name="x", controller_namespace="ingress-nginx")},
     "StatelessServiceArgs.ingress: expected paths with their own backend when there is no Service"),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS)
def test_args_reject_bad_fields_naming_the_field_and_value(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        data_api_args(**overrides)


def test_a_service_needs_a_container_port():
    with pytest.raises(ValueError, match=re.escape(
            "StatelessServiceArgs.port: expected the container port for a LoadBalancer Service (or "
            "service_type=None), got None")):
        data_api_args(port=None, liveness_probe=ExecProbe(command=["true"]))


INGRESS_ERRORS = [
    (lambda: IngressPath(path="api"), "IngressPath.path: expected a path starting with '/', got 'api'"),
    (lambda: IngressPath(path_type="Regex"),
     "IngressPath.path_type: expected one of 'Prefix', 'Exact', 'ImplementationSpecific', got 'Regex'"),
    (lambda: IngressPath(backend="server-service"),
     "IngressPath.backend: expected an Endpoint, got 'server-service'"),
    (lambda: IngressPath(backend=Endpoint(host="server-service.fib", port=5000, namespace="fib", workload="server",
                                          pod_labels={"app": "server"})),
     "IngressPath.backend.host (a Service name): expected a DNS-1035 label"),
    (lambda: IngressRule(class_name="nginx", controller_namespace="Ingress NGINX"),
     "IngressRule.controller_namespace: expected a DNS-1123 label"),
    (lambda: IngressRule(class_name="Web Routing", controller_namespace="ingress-nginx"), "IngressRule.class_name: expected an IngressClass name"),
    (lambda: IngressRule(class_name="nginx", controller_namespace="ingress-nginx", host="https://a.example.com"),
     "IngressRule.host: expected a DNS name such as 'app.example.com' or '*.example.com', "
     "got 'https://a.example.com'"),
    (lambda: IngressRule(class_name="nginx", controller_namespace="ingress-nginx", paths=()), "IngressRule.paths: expected at least one IngressPath, got ()"),
    (lambda: IngressRule(class_name="nginx", controller_namespace="ingress-nginx", paths=("/",)), "IngressRule.paths: expected an IngressPath, got '/'"),
    (lambda: IngressRule(class_name="nginx", controller_namespace="ingress-nginx", tls_secret_name="tls"),
     "IngressRule.host: expected a host when tls_secret_name is set, got None"),
]


@pytest.mark.parametrize(("build", "message"), INGRESS_ERRORS)
def test_ingress_types_reject_bad_fields_naming_the_field_and_value(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()
