"""To Do (seed 002) as the dev stack deploys it: the facts of /work/shared/apps.md, checked on what the real
program registers under the offline engine."""

from __future__ import annotations

import json
import subprocess

import pytest

from offline.engine import PROJECT_DIR, SecretConfig, run, run_stack
from offline.stack_config import load_stack_config
from offline.validate import validate_object
from settings import ConfigError, load_settings

PART_OF = "app.kubernetes.io/part-of"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
GIVEN_PASSWORD = "given-Todo-Password-4711"


def _apps_with_todo(**todo) -> dict:
    """The dev stack's `apps` config with some To Do keys overridden (other apps untouched)."""
    raw = load_stack_config(PROJECT_DIR, "dev").values.get("aks-microservices:apps")
    apps = json.loads(raw) if raw else {}
    apps["todo"] = {**apps.get("todo", {}), **todo}
    return apps


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev", overrides={"apps": _apps_with_todo(gatewayApi={"enabled": False})})


@pytest.fixture(scope="module")
def plain():
    """The same stack with plain Kubernetes Secrets (`keyVault.enabled: false`), as on an existing cluster."""
    return run_stack("dev", overrides={"apps": _apps_with_todo(gatewayApi={"enabled": False}),
                                       "keyVault": {"enabled": False}})


@pytest.fixture(scope="module")
def routed():
    """Gateway API routing on, a host, and a password given in secret config."""
    return run_stack(
        "dev",
        overrides={
            "apps": _apps_with_todo(
                host="todo.example.com",
                gatewayApi={"enabled": True, "gatewayName": "shared-gateway", "gatewayNamespace": "gateways"},
            ),
            "secrets": SecretConfig({"todoMysqlPassword": GIVEN_PASSWORD}),
            "keyVault": {"enabled": False},
        },
    )


@pytest.fixture(scope="module")
def without_todo():
    return run_stack("dev", overrides={"apps": _apps_with_todo(enabled=False)})


def _is_image(image: str, reference: str) -> bool:
    """`reference` pulled directly or through a registry cache (`<registry>/.../<reference>`)."""
    return image == reference or image.endswith("/" + reference)


def _container(workload: dict) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _selects(service: dict, workload: dict) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _todo_objects(recording) -> list[dict]:
    return [o for o in recording.k8s_objects() if (o["metadata"].get("labels") or {}).get(PART_OF) == "todo"]


# Every object ------------------------------------------------------------------------------------------------


def _objects_of_todo(recording) -> list[dict]:
    """Objects in the app's namespaces, and those namespaces: whatever their labels say."""
    return [o for o in recording.k8s_objects()
            if o["metadata"].get("namespace") in ("todo", "mysql-operator")
            or (o["kind"] == "Namespace" and o["metadata"]["name"] in ("todo", "mysql-operator"))]


@pytest.mark.parametrize("run_name", ["dev", "routed"])
def test_every_todo_object_is_valid_for_kubernetes_and_labelled_part_of_todo(run_name, request):
    recording = request.getfixturevalue(run_name)
    objects = _objects_of_todo(recording)
    assert len(objects) >= 12
    for obj in objects:
        label = f"{obj['kind']}/{obj['metadata']['name']}"
        assert validate_object(obj, "1.33") == [], label
        labels = obj["metadata"]["labels"]
        assert labels[PART_OF] == "todo", label
        assert labels["app.kubernetes.io/managed-by"] == "pulumi", label
        assert {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"} <= set(labels)


# Namespaces and the MySQL Operator -------------------------------------------------------------------------


def test_todo_objects_live_in_namespace_todo_but_the_operators_network_isolation(dev):
    dev.k8s("Namespace", "todo")
    namespaced = [o for o in _todo_objects(dev) if o["kind"] != "Namespace"]
    assert namespaced
    assert {o["metadata"]["namespace"] for o in namespaced} == {"todo", "mysql-operator"}
    in_operator_namespace = {(o["kind"], o["metadata"]["name"]) for o in namespaced
                             if o["metadata"]["namespace"] == "mysql-operator"}
    assert in_operator_namespace == {("NetworkPolicy", "default-deny"), ("NetworkPolicy", "allow-dns"),
                                     ("NetworkPolicy", "mysql-operator")}


def test_mysql_operator_is_the_pinned_helm_chart_in_its_own_namespace(dev):
    dev.k8s("Namespace", "mysql-operator")
    [release] = dev.of_type(HELM_RELEASE)
    assert release.inputs["chart"] == "mysql-operator"
    assert release.inputs["version"] == "2.2.2"
    assert release.inputs["repositoryOpts"]["repo"] == "https://mysql.github.io/mysql-operator/"
    assert release.inputs["namespace"] == "mysql-operator"
    # Installed into the platform's cluster, like every object of the app.
    assert release.provider_urn == dev.k8s_resource("Deployment", "todo-api", "todo").provider_urn


def test_the_helm_release_is_not_rendered_as_a_kubernetes_manifest(dev):
    assert not any(r.type == HELM_RELEASE for r in dev.kubernetes_resources())


def test_innodb_cluster_todo_mysql_has_the_seed_spec(dev):
    cluster = dev.k8s("InnoDBCluster", "todo-mysql", "todo")
    assert cluster["apiVersion"] == "mysql.oracle.com/v2"
    spec = cluster["spec"]
    assert spec["secretName"] == "mysqlpwd"
    assert spec["instances"] == 3
    assert spec["router"]["instances"] == 1
    assert spec["tlsUseSelfSigned"] is True
    claim = spec["datadirVolumeClaimTemplate"]
    assert claim["resources"]["requests"]["storage"] == "2Gi"
    assert claim["accessModes"] == ["ReadWriteOnce"]


def test_innodb_cluster_is_valid_for_the_operators_crd(dev):
    assert validate_object(dev.k8s("InnoDBCluster", "todo-mysql", "todo"), "1.33") == []


def test_innodb_cluster_is_protected_with_the_data(dev):
    assert dev.k8s_resource("InnoDBCluster", "todo-mysql", "todo").protect


# Secret mysqlpwd -----------------------------------------------------------------------------------------------


def test_secret_mysqlpwd_has_the_four_keys_and_one_password(plain):
    data = plain.k8s("Secret", "mysqlpwd", "todo")["stringData"]
    assert set(data) == {"rootUser", "rootHost", "rootPassword", "password"}
    assert data["rootUser"] == "root"
    assert data["rootHost"] == "%"
    assert data["rootPassword"] == data["password"]
    assert len(data["password"]) >= 20


def test_mysql_password_is_generated_and_kept_secret(plain):
    password = plain.k8s("Secret", "mysqlpwd", "todo")["stringData"]["password"]
    assert password in plain.secret_values
    assert any(r.name.startswith("todo-") for r in plain.of_type(RANDOM_PASSWORD))
    assert "stringData" in plain.k8s_resource("Secret", "mysqlpwd", "todo").secret_paths


def _clear_text(recording, secret_name: str) -> str:
    """Everything the stack records except the values of the named Secret (or the vault secrets it is synced from,
    whose values must be recorded as secret) and the generator's own outputs."""
    parts = []
    for resource in recording.resources:
        if resource.type == RANDOM_PASSWORD:
            continue
        inputs = resource.inputs
        if resource.is_kubernetes_object and inputs["kind"] == "Secret" and inputs["metadata"]["name"] == secret_name:
            inputs = {k: v for k, v in inputs.items() if k not in ("data", "stringData")}
        if resource.type == "azure-native:keyvault:Secret" and inputs["secretName"].startswith(f"todo-{secret_name}-"):
            assert {"properties", "properties.value"} & set(resource.secret_paths), resource.name
            inputs = {**inputs, "properties": {k: v for k, v in inputs["properties"].items() if k != "value"}}
        parts.append(json.dumps(inputs))
    parts.append(json.dumps(recording.stack_outputs))
    return "\n".join(parts)


@pytest.mark.parametrize("variant", ["dev", "plain"])
def test_mysql_password_appears_in_no_env_literal_object_or_output(variant, request):
    recording = request.getfixturevalue(variant)
    [password] = {r.outputs["result"] for r in recording.of_type(RANDOM_PASSWORD) if r.name == "todo-mysql-password"}
    assert password in recording.secret_values
    assert password not in _clear_text(recording, "mysqlpwd")


def test_a_given_password_is_used_instead_of_a_generated_one(routed):
    data = routed.k8s("Secret", "mysqlpwd", "todo")["stringData"]
    assert data["rootPassword"] == data["password"] == GIVEN_PASSWORD
    assert not any(r.name.startswith("todo-") for r in routed.of_type(RANDOM_PASSWORD))
    assert GIVEN_PASSWORD not in _clear_text(routed, "mysqlpwd")


# Job todo-db-init --------------------------------------------------------------------------------------------


def test_db_init_job_creates_todo_db_idempotently_on_todo_mysql(dev):
    job = dev.k8s("Job", "todo-db-init", "todo")
    script = " ".join(_container(job)["command"])
    assert "CREATE DATABASE IF NOT EXISTS todo_db" in script
    assert "--host=todo-mysql" in script and "--port=3306" in script
    assert "until " in script  # waits for MySQL before creating


def test_db_init_job_reads_the_password_from_the_secret_only(plain):
    job = plain.k8s("Job", "todo-db-init", "todo")
    container = _container(job)
    assert "env" not in container  # no password in the pod spec: the script reads the mounted file
    [volume] = job["spec"]["template"]["spec"]["volumes"]
    assert volume["secret"]["secretName"] == "mysqlpwd"
    assert [i["key"] for i in volume["secret"]["items"]] == ["rootPassword"]
    [mount] = container["volumeMounts"]
    assert mount["name"] == volume["name"] and mount["readOnly"] is True
    assert f'MYSQL_PWD="$(cat {mount["mountPath"]}/rootPassword)"' in container["command"][-1]


def test_db_init_job_runs_once_with_a_pinned_client_and_a_secure_context(dev):
    job = dev.k8s("Job", "todo-db-init", "todo")
    pod = job["spec"]["template"]["spec"]
    container = _container(job)
    image = container["image"]
    assert image.split("/")[-1].startswith("mysql:") and not image.endswith(":latest")
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    assert job["spec"]["backoffLimit"] >= 1
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]) == {"requests", "limits"}


# todo-api ----------------------------------------------------------------------------------------------------


def test_todo_api_runs_its_image_on_port_80(dev):
    container = _container(dev.k8s("Deployment", "todo-api", "todo"))
    assert _is_image(container["image"], "ericgregory/todo-api:latest")
    assert [p["containerPort"] for p in container["ports"]] == [80]


def test_todo_api_mounts_mysqlpwd_read_only_at_its_secrets_folder(dev):
    deployment = dev.k8s("Deployment", "todo-api", "todo")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    [mount] = [m for m in _container(deployment)["volumeMounts"] if m["mountPath"] == "/usr/src/app/secrets"]
    assert mount["readOnly"] is True
    secret = volumes[mount["name"]]["secret"]
    assert secret["secretName"] == "mysqlpwd"
    assert secret["defaultMode"] == 0o400
    assert "items" not in secret  # every key, so `password` is the file secrets/password


def test_todo_api_service_is_cluster_ip_80_to_80_and_selects_the_api_pods(dev):
    service = dev.k8s("Service", "todo-api", "todo")
    assert service["spec"]["type"] == "ClusterIP"
    [port] = service["spec"]["ports"]
    assert port["port"] == 80
    assert port["targetPort"] in (80, "http")
    assert _selects(service, dev.k8s("Deployment", "todo-api", "todo"))
    assert not _selects(service, dev.k8s("Deployment", "todo-web", "todo"))


def test_todo_api_scales_from_2_to_5_at_80_percent_cpu(dev):
    hpa = dev.k8s("HorizontalPodAutoscaler", "todo-api", "todo")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "todo-api"}
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 5
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 80}


def test_todo_api_leaves_its_replica_count_to_the_autoscaler(dev):
    deployment = dev.k8s("Deployment", "todo-api", "todo")
    assert "replicas" not in deployment["spec"]
    assert "cpu" in _container(deployment)["resources"]["requests"]


# todo-web ----------------------------------------------------------------------------------------------------


def test_todo_web_runs_its_image_on_port_80(dev):
    container = _container(dev.k8s("Deployment", "todo-web", "todo"))
    assert _is_image(container["image"], "ericgregory/todo-web:latest")
    assert [p["containerPort"] for p in container["ports"]] == [80]


def test_todo_web_service_is_a_load_balancer_80_to_80_selecting_the_web_pods(dev):
    service = dev.k8s("Service", "todo-web", "todo")
    assert service["spec"]["type"] == "LoadBalancer"
    [port] = service["spec"]["ports"]
    assert port["port"] == 80
    assert port["targetPort"] in (80, "http")
    assert _selects(service, dev.k8s("Deployment", "todo-web", "todo"))
    assert not _selects(service, dev.k8s("Deployment", "todo-api", "todo"))


def test_todo_web_ingress_sends_every_path_to_todo_web_80(dev):
    ingress = dev.k8s("Ingress", "todo-web", "todo")
    assert ingress["spec"]["ingressClassName"]
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "todo-web", "port": {"number": 80}}


@pytest.mark.parametrize("name", ["todo-api", "todo-web"])
def test_probes_use_get_slash_because_post_routes_never_answer(dev, name):
    container = _container(dev.k8s("Deployment", name, "todo"))
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/"
        assert container[probe]["httpGet"]["port"] in (80, "http")


@pytest.mark.parametrize("name", ["todo-api", "todo-web"])
def test_the_port_80_images_run_as_the_node_user_binding_80_through_the_pod_sysctl(dev, name):
    deployment = dev.k8s("Deployment", name, "todo")
    pod = deployment["spec"]["template"]
    context = _container(deployment)["securityContext"]
    # No root, no capability: the namespaced sysctl lets the node user (1000 in node:18) bind port 80.
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    security = pod["spec"]["securityContext"]
    assert (security["runAsNonRoot"], security["runAsUser"], security["runAsGroup"]) == (True, 1000, 1000)
    assert security["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "aks-microservices/security-opt-out" not in (pod["metadata"].get("annotations") or {})


def test_todo_api_can_read_its_0400_password_file_as_non_root_through_fs_group(dev):
    pod = dev.k8s("Deployment", "todo-api", "todo")["spec"]["template"]["spec"]
    [volume] = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"]["defaultMode"] == 0o400
    # The kubelet gives secret files the pod's fsGroup and group read: the node user's group is that fsGroup.
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"] == 1000


# Gateway API -------------------------------------------------------------------------------------------------


def test_no_http_route_when_gateway_api_is_off(dev):
    assert not [o for o in dev.k8s_objects() if o["kind"] == "HTTPRoute"]


def test_http_route_attaches_todo_web_to_the_configured_gateway(routed):
    route = routed.k8s("HTTPRoute", "todo-web", "todo")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "shared-gateway", "namespace": "gateways"}]
    assert route["spec"]["hostnames"] == ["todo.example.com"]
    [rule] = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": "todo-web", "port": 80}]
    assert validate_object(route, "1.33") == []


def test_host_setting_restricts_the_ingress_too(routed):
    [rule] = routed.k8s("Ingress", "todo-web", "todo")["spec"]["rules"]
    assert rule["host"] == "todo.example.com"


# Outputs and the on/off switch -------------------------------------------------------------------------------


def test_outputs_give_the_public_endpoint_and_the_mysql_address(dev):
    outputs = dev.stack_outputs["todo"]
    web_ip = dev.k8s_resource("Service", "todo-web", "todo").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert outputs["webUrl"] == f"http://{web_ip}"
    assert outputs["mysqlAddress"] == "todo-mysql.todo.svc.cluster.local:3306"


def test_disabling_todo_removes_every_object_and_the_operator(without_todo):
    assert not _todo_objects(without_todo)
    assert not [o for o in without_todo.k8s_objects() if o["metadata"].get("namespace") in ("todo", "mysql-operator")]
    assert not [o for o in without_todo.k8s_objects() if o["metadata"]["name"] in ("todo", "mysql-operator")]
    assert not without_todo.of_type(HELM_RELEASE)
    assert not [r for r in without_todo.resources if r.name == "todo" or r.name.startswith("todo-")]
    assert "todo" not in without_todo.stack_outputs


# Config ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("todo", "message"),
    [
        ({"apiMaxReplicas": 1}, "aks-microservices:apps.todo.apiMaxReplicas: expected an integer >= apiMinReplicas"),
        ({"webServiceType": "Loadbalancer"}, 'aks-microservices:apps.todo.webServiceType: expected one of'),
        ({"mysqlInstances": 10}, "aks-microservices:apps.todo.mysqlInstances: expected an integer from 1 to 9"),
        ({"gatewayApi": {"enabled": "yes"}}, "aks-microservices:apps.todo.gatewayApi.enabled: expected true or false"),
    ],
)
def test_a_bad_todo_setting_is_one_line_naming_the_key(todo, message):
    with pytest.raises(ConfigError) as error:
        run(load_settings, config={"apps": {"todo": todo}})
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_db_init_job_second_run_against_an_existing_todo_db_changes_nothing(dev, tmp_path):
    # Restart safety: run the Job's script twice with a stand-in `mysql` that keeps a set of databases and
    # fails, as MySQL does, on a plain CREATE DATABASE of an existing one. The second run (a re-created Job, a
    # retried pod) must succeed and leave todo_db as it was (todo-api creates its table Todo itself).
    script = _container(dev.k8s("Job", "todo-db-init", "todo"))["command"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "rootPassword").write_text("pw")
    databases = tmp_path / "databases"
    databases.write_text("")
    fake = tmp_path / "mysql"
    fake.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$arg" in --execute=*) sql="${arg#--execute=}";; esac; done\n'
        'case "$sql" in\n'
        '  "SELECT 1") exit 0;;\n'
        f'  "CREATE DATABASE IF NOT EXISTS "*) db="${{sql##* }}"; grep -qx "$db" {databases} || echo "$db" >> {databases};;\n'
        f'  "CREATE DATABASE "*) db="${{sql##* }}"; grep -qx "$db" {databases} && exit 1; echo "$db" >> {databases};;\n'
        '  *) exit 2;;\n'
        "esac\n"
    )
    fake.chmod(0o755)
    command = [part.replace("/run/secrets/mysql", str(secrets)) for part in script]
    for _ in range(2):
        subprocess.run(command, env={"PATH": f"{tmp_path}:/usr/bin:/bin"}, check=True, capture_output=True, timeout=10)
    assert databases.read_text().split() == ["todo_db"]
