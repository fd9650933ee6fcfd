import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest

from offline.engine import run


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str):
        super().__init__("test:index:Holder", name)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata={"name": "settings", "namespace": "demo"},
            data={"replicas": "3"},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.register_outputs({})


def test_a_run_records_type_name_parent_and_inputs_of_every_resource():
    recording = run(lambda: Holder("holder"))
    component = recording.of_type("test:index:Holder")[0]
    config_map = recording.of_type("kubernetes:core/v1:ConfigMap")[0]
    assert config_map.name == "holder-config"
    assert config_map.parent_urn == component.urn
    assert config_map.protect is True
    assert config_map.inputs["metadata"] == {"name": "settings", "namespace": "demo"}
    assert recording.k8s("ConfigMap", "settings")["data"] == {"replicas": "3"}


def test_integral_numbers_are_recorded_as_ints():
    recording = run(
        lambda: k8s.core.v1.Service(
            "svc", metadata={"name": "web", "namespace": "demo"}, spec={"ports": [{"port": 80, "targetPort": 3000}]}
        )
    )
    port = recording.k8s("Service", "web")["spec"]["ports"][0]
    assert port == {"port": 80, "targetPort": 3000}
    assert type(port["port"]) is int


def test_the_provider_of_each_resource_is_recorded():
    def program():
        provider = k8s.Provider("cluster", kubeconfig="apiVersion: v1\nkind: Config\n")
        k8s.core.v1.Namespace("ns", metadata={"name": "demo"}, opts=pulumi.ResourceOptions(provider=provider))

    recording = run(program)
    provider = recording.of_type("pulumi:providers:kubernetes")[0]
    namespace = recording.of_type("kubernetes:core/v1:Namespace")[0]
    assert namespace.provider_urn == provider.urn


def test_random_passwords_stay_secret_and_are_remembered_as_secret_values():
    def program():
        password = random.RandomPassword("db", length=24, special=False)
        k8s.core.v1.Secret("creds", metadata={"name": "creds", "namespace": "demo"}, string_data={"pw": password.result})
        pulumi.export("password", password.result)

    recording = run(program)
    generated = recording.of_type("random:index/randomPassword:RandomPassword")[0].outputs["result"]
    assert len(generated) == 24
    assert generated in recording.secret_values
    assert "password" in recording.secret_output_names
    assert "stringData" in recording.k8s_resource("Secret", "creds").secret_paths


def test_load_balancer_services_get_an_address_that_never_routes():
    def program():
        service = k8s.core.v1.Service(
            "svc", metadata={"name": "web", "namespace": "demo"}, spec={"type": "LoadBalancer", "ports": [{"port": 80}]}
        )
        return service.status.load_balancer.ingress[0].ip

    recording = run(program)
    assert recording.resolve(recording.value).startswith("203.0.113.")


def test_each_run_starts_from_fresh_runtime_state():
    first = run(lambda: Holder("holder"))
    second = run(lambda: k8s.core.v1.Namespace("only", metadata={"name": "only"}))
    assert [r.name for r in second.resources] == ["only"]
    assert len(first.resources) == 2


def test_config_passed_to_a_run_is_what_the_program_reads():
    def program():
        return pulumi.Config("aks-microservices").require_object("cluster")

    recording = run(program, config={"cluster": {"nodeCount": 5}})
    assert recording.value == {"nodeCount": 5}


def test_errors_raised_by_the_program_propagate_unchanged():
    def program():
        raise ValueError("Widget.size: expected an integer >= 1, got 0")

    with pytest.raises(ValueError, match=r"Widget\.size"):
        run(program)


def test_explicit_dependencies_are_recorded():
    def program():
        first = k8s.core.v1.Namespace("first", metadata={"name": "first"})
        k8s.core.v1.Namespace("second", metadata={"name": "second"}, opts=pulumi.ResourceOptions(depends_on=[first]))

    recording = run(program)
    first = recording.of_type("kubernetes:core/v1:Namespace")[0]
    second = recording.of_type("kubernetes:core/v1:Namespace")[1]
    assert first.urn in second.dependencies
    assert second.urn not in first.dependencies


@pytest.mark.parametrize("fast_path", [False, True], ids=["sdk-internals", "fast-path"])
def test_a_failed_program_leaves_nothing_behind_for_the_next_one(fast_path):
    def failing():
        k8s.core.v1.ConfigMap("bad", metadata={"name": "bad"}, data={"x": object()})

    with pytest.raises(ValueError, match="unexpected input of type object"):
        run(failing, fast_path=fast_path)
    recording = run(lambda: k8s.core.v1.ConfigMap("good", metadata={"name": "good"}, data={"x": "1"}))
    assert recording.k8s("ConfigMap", "good")["data"] == {"x": "1"}
