"""The secure pod defaults of components/pod.py, seen through the Deployment a StatelessService renders."""

import re

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import (
    ContainerPort,
    EnvFromSecret,
    ExecProbe,
    HttpProbe,
    InvalidArgsError,
    JvmHeap,
    Resources,
    SecretFile,
    SecurityOptOut,
    StatelessService,
    StatelessServiceArgs,
    TcpProbe,
)
from offline.engine import run


def service_args(**overrides) -> StatelessServiceArgs:
    fields = dict(namespace="shop", part_of="shop", component="api", image="example/api:1.0", port=8080,
                  deployment_name="api")
    fields.update(overrides)
    return StatelessServiceArgs(**fields)


def render(**overrides):
    return run(lambda: StatelessService("api", service_args(**overrides)))


def pod(recording) -> dict:
    return recording.k8s("Deployment", "api")["spec"]["template"]


def container(recording) -> dict:
    return pod(recording)["spec"]["containers"][0]


# Defaults ------------------------------------------------------------------------------------------------

def test_pods_run_as_a_fixed_non_root_user_and_group_with_fs_group_and_runtime_default_seccomp():
    assert pod(render())["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def test_containers_cannot_escalate_drop_all_capabilities_and_have_a_read_only_root_filesystem():
    assert container(render())["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_pods_never_mount_a_service_account_token_nor_get_service_link_env_vars():
    spec = pod(render())["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False


def test_each_workload_runs_as_its_own_service_account_without_a_token_never_as_default():
    recording = render()
    assert pod(recording)["spec"]["serviceAccountName"] == "api"
    account = recording.k8s("ServiceAccount", "api", "shop")
    assert account["automountServiceAccountToken"] is False
    assert account["metadata"]["labels"]["app.kubernetes.io/name"] == "api"


def test_a_service_account_can_be_named_instead_and_none_is_created():
    recording = render(service_account_name="api-identity")
    spec = pod(recording)["spec"]
    assert spec["serviceAccountName"] == "api-identity"
    assert spec["automountServiceAccountToken"] is False
    assert not [o for o in recording.k8s_objects() if o["kind"] == "ServiceAccount"]


def test_a_non_root_pod_binds_its_low_port_through_the_unprivileged_port_sysctl_not_a_capability():
    recording = render(port=80, extra_ports=(ContainerPort(name="admin", port=81),))
    security = pod(recording)["spec"]["securityContext"]
    assert security["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]
    assert security["runAsNonRoot"] is True
    assert container(recording)["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_pods_on_high_ports_or_running_as_root_get_no_sysctl():
    assert "sysctls" not in pod(render(port=8080))["spec"]["securityContext"]
    root = SecurityOptOut(reason="binds 80 as root", run_as_root=True, add_capabilities=("NET_BIND_SERVICE",))
    assert "sysctls" not in pod(render(port=80, security_opt_out=root))["spec"]["securityContext"]


def test_containers_get_default_requests_and_limits():
    assert container(render())["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_resources_can_be_sized_and_the_cpu_request_left_out():
    resources = Resources(cpu_request=None, memory_request="256Mi", cpu_limit="1", memory_limit="1Gi")
    assert container(render(resources=resources))["resources"] == {
        "requests": {"memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_images_are_pulled_if_not_present_and_the_container_is_named_after_the_workload():
    main = container(render())
    assert main["image"] == "example/api:1.0"
    assert main["imagePullPolicy"] == "IfNotPresent"
    assert main["name"] == "api"
    assert container(render(container_name="user"))["name"] == "user"


def test_a_container_with_a_port_gets_tcp_readiness_and_liveness_probes_on_that_port():
    main = container(render())
    for probe in ("readinessProbe", "livenessProbe"):
        assert main[probe] == {
            "tcpSocket": {"port": 8080},
            "initialDelaySeconds": 0,
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "failureThreshold": 3,
            "successThreshold": 1,
        }


def test_a_startup_probe_runs_the_liveness_check_for_up_to_five_minutes_before_liveness_applies():
    startup = container(render(liveness_probe=HttpProbe(path="/healthz")))["startupProbe"]
    assert startup["httpGet"] == {"path": "/healthz", "port": 8080, "scheme": "HTTP"}
    assert startup["periodSeconds"] * startup["failureThreshold"] == 300


def test_explicit_probes_are_rendered_with_their_path_port_and_timing():
    readiness = HttpProbe(path="/user/internal/version", port=9001, initial_delay_seconds=3, period_seconds=3)
    main = container(render(port=9001, readiness_probe=readiness,
                            startup_probe=TcpProbe(failure_threshold=30)))
    assert main["readinessProbe"] == {
        "httpGet": {"path": "/user/internal/version", "port": 9001, "scheme": "HTTP"},
        "initialDelaySeconds": 3,
        "periodSeconds": 3,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
        "successThreshold": 1,
    }
    assert main["livenessProbe"]["tcpSocket"] == {"port": 9001}
    assert main["startupProbe"]["failureThreshold"] == 30


def test_a_worker_without_a_port_uses_its_exec_probe_for_readiness_and_liveness():
    probe = ExecProbe(command=["sh", "-c", "pgrep -f worker"])
    main = container(render(port=None, service_type=None, liveness_probe=probe))
    assert "ports" not in main
    assert main["readinessProbe"]["exec"] == {"command": ["sh", "-c", "pgrep -f worker"]}
    assert main["livenessProbe"]["exec"] == {"command": ["sh", "-c", "pgrep -f worker"]}


def test_disabling_probes_removes_them_and_records_the_reason_on_the_pod():
    template = pod(render(port=None, service_type=None, probes_disabled_reason="batch worker, exits on error"))
    main = template["spec"]["containers"][0]
    assert not {"readinessProbe", "livenessProbe", "startupProbe"} & main.keys()
    assert template["metadata"]["annotations"] == {
        "aks-microservices/probes-disabled": "batch worker, exits on error"
    }


def test_env_values_are_literals_and_secrets_are_secret_key_refs():
    main = container(render(env={"PGUSER": "postgres", "PGPORT": "5432"},
                            env_from_secrets={"PGPASSWORD": EnvFromSecret(secret_name="pgpassword",
                                                                          key="PGPASSWORD")}))
    assert main["env"] == [
        {"name": "PGUSER", "value": "postgres"},
        {"name": "PGPORT", "value": "5432"},
        {"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "pgpassword", "key": "PGPASSWORD"}}},
    ]


def test_env_values_may_be_outputs_of_other_resources():
    def program():
        endpoint = pulumi.Output.from_input("203.0.113.7").apply(lambda ip: f"http://{ip}/api")
        return StatelessService("api", service_args(env={"API_ENDPOINT": endpoint}))

    recording = run(program)
    assert container(recording)["env"] == [{"name": "API_ENDPOINT", "value": "http://203.0.113.7/api"}]


def test_writable_paths_become_empty_dir_volumes_while_the_root_stays_read_only():
    template = pod(render(writable_paths=("/tmp", "/var/cache/nginx")))
    assert template["spec"]["volumes"] == [
        {"name": "writable-0", "emptyDir": {}},
        {"name": "writable-1", "emptyDir": {}},
    ]
    main = template["spec"]["containers"][0]
    assert main["volumeMounts"] == [
        {"name": "writable-0", "mountPath": "/tmp"},
        {"name": "writable-1", "mountPath": "/var/cache/nginx"},
    ]
    assert main["securityContext"]["readOnlyRootFilesystem"] is True


def test_secret_files_are_mounted_read_only_with_mode_0400_by_default():
    template = pod(render(secret_files=(
        SecretFile(secret_name="mysqlpwd", mount_path="/usr/src/app/secrets"),
        SecretFile(secret_name="tls", mount_path="/etc/tls", mode=0o440, items={"tls.crt": "cert.pem"}),
    )))
    assert template["spec"]["volumes"] == [
        {"name": "secret-0", "secret": {"secretName": "mysqlpwd", "defaultMode": 0o400}},
        {"name": "secret-1", "secret": {"secretName": "tls", "defaultMode": 0o440,
                                        "items": [{"key": "tls.crt", "path": "cert.pem"}]}},
    ]
    assert template["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "secret-0", "mountPath": "/usr/src/app/secrets", "readOnly": True},
        {"name": "secret-1", "mountPath": "/etc/tls", "readOnly": True},
    ]


def test_extra_ports_are_declared_on_the_container_and_exposed_by_the_service():
    recording = render(port=1521, port_name="tcp", extra_ports=(ContainerPort(name="console", port=81),))
    assert container(recording)["ports"] == [
        {"name": "tcp", "containerPort": 1521, "protocol": "TCP"},
        {"name": "console", "containerPort": 81, "protocol": "TCP"},
    ]
    assert recording.k8s("Service", "api")["spec"]["ports"] == [
        {"name": "tcp", "port": 1521, "targetPort": 1521, "protocol": "TCP"},
        {"name": "console", "port": 81, "targetPort": 81, "protocol": "TCP"},
    ]


def test_fs_group_defaults_to_run_as_group_and_can_be_set_apart():
    context = pod(render(run_as_user=999, run_as_group=999))["spec"]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (999, 999, 999)
    context = pod(render(run_as_user=999, run_as_group=999, fs_group=2000))["spec"]["securityContext"]
    assert context["fsGroup"] == 2000


def test_pod_labels_refine_labels_on_pods_but_cannot_replace_the_recommended_ones():
    template = pod(render(labels={"tier": "backend"}, pod_labels={"tier": "web"}))
    assert template["metadata"]["labels"]["tier"] == "web"
    assert template["metadata"]["labels"]["app.kubernetes.io/name"] == "api"


def test_pod_labels_and_annotations_go_only_on_pods_and_labels_on_every_object():
    recording = render(labels={"team": "web"}, pod_labels={"component": "web"},
                       pod_annotations={"prometheus.io/scrape": "true"})
    deployment = recording.k8s("Deployment", "api")
    assert deployment["metadata"]["labels"]["team"] == "web"
    assert "component" not in deployment["metadata"]["labels"]
    assert deployment["spec"]["template"]["metadata"]["labels"]["component"] == "web"
    assert deployment["spec"]["template"]["metadata"]["labels"]["team"] == "web"
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"prometheus.io/scrape": "true"}
    assert recording.k8s("Service", "api")["metadata"]["labels"]["team"] == "web"


@given(st.integers(1, 10**6), st.integers(1, 1000))
def test_a_memory_request_above_its_limit_is_rejected_across_binary_units(mebibytes, gibibytes):
    request, limit = f"{mebibytes}Mi", f"{gibibytes}Gi"
    if mebibytes <= gibibytes * 1024:
        assert Resources(memory_request=request, memory_limit=limit).memory_request == request
    else:
        message = f"Resources.memory_request: expected at most memory_limit '{limit}', got '{request}'"
        with pytest.raises(ValueError, match=re.escape(message)):
            Resources(memory_request=request, memory_limit=limit)


@given(st.integers(1, 64_000), st.integers(1, 64))
def test_a_cpu_request_above_its_limit_is_rejected_across_millicores_and_cores(millicores, cores):
    request, limit = f"{millicores}m", str(cores)
    if millicores <= cores * 1000:
        assert Resources(cpu_request=request, cpu_limit=limit).cpu_request == request
    else:
        message = f"Resources.cpu_request: expected at most cpu_limit '{limit}', got '{request}'"
        with pytest.raises(ValueError, match=re.escape(message)):
            Resources(cpu_request=request, cpu_limit=limit)


# Opt-outs ------------------------------------------------------------------------------------------------

def test_a_root_opt_out_adds_only_the_named_capability_and_records_its_reason_on_the_pod():
    opt_out = SecurityOptOut(reason="image binds port 80 as root", run_as_root=True,
                             add_capabilities=("NET_BIND_SERVICE",))
    template = pod(render(port=80, security_opt_out=opt_out))
    assert template["metadata"]["annotations"] == {
        "aks-microservices/security-opt-out": "image binds port 80 as root"
    }
    assert template["spec"]["securityContext"] == {
        "runAsNonRoot": False,
        "runAsUser": 0,
        "runAsGroup": 0,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert template["spec"]["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
    }


def test_a_writable_root_filesystem_opt_out_changes_nothing_else():
    opt_out = SecurityOptOut(reason="writes its cache next to the binary", writable_root_filesystem=True)
    template = pod(render(security_opt_out=opt_out))
    assert template["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is False
    assert template["spec"]["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True


# Validation ----------------------------------------------------------------------------------------------

def test_argument_errors_are_value_errors_that_pulumi_reports_without_a_traceback():
    assert issubclass(InvalidArgsError, ValueError)
    assert issubclass(InvalidArgsError, pulumi.RunError)


def test_a_bad_argument_raises_through_the_engine_before_anything_is_registered():
    with pytest.raises(ValueError, match=re.escape("StatelessServiceArgs.port: expected an integer 1-65535, got 0")):
        run(lambda: StatelessService("api", service_args(port=0)))


def test_a_component_refuses_args_of_another_type():
    with pytest.raises(TypeError, match="StatelessService: args must be a StatelessServiceArgs, got dict"):
        run(lambda: StatelessService("api", {"deployment_name": "api"}))


VALUE_TYPE_ERRORS = [
    (lambda: Resources(cpu_request="lots"),
     "Resources.cpu_request: expected a Kubernetes quantity such as '250m', '0.5', '128Mi', '1Gi' or '500M', "
     "got 'lots'"),
    (lambda: Resources(memory_limit="-1Gi"), "Resources.memory_limit: expected a Kubernetes quantity"),
    (lambda: Resources(memory_request="512Mi", memory_limit="256Mi"),
     "Resources.memory_request: expected at most memory_limit '256Mi', got '512Mi'"),
    (lambda: Resources(cpu_request="1", cpu_limit="500m"),
     "Resources.cpu_request: expected at most cpu_limit '500m', got '1'"),
    (lambda: HttpProbe(path="health"),
     "HttpProbe.path: expected an absolute URL path starting with '/', got 'health'"),
    (lambda: HttpProbe(scheme="TCP"), "HttpProbe.scheme: expected one of 'HTTP', 'HTTPS', got 'TCP'"),
    (lambda: TcpProbe(port=70000), "TcpProbe.port: expected an integer 1-65535, got 70000"),
    (lambda: TcpProbe(period_seconds=0), "TcpProbe.period_seconds: expected an integer >= 1, got 0"),
    (lambda: TcpProbe(initial_delay_seconds=-5), "TcpProbe.initial_delay_seconds: expected an integer >= 0, got -5"),
    (lambda: ExecProbe(command=()), "ExecProbe.command: expected a non-empty list of strings, got ()"),
    (lambda: ExecProbe(command="pgrep worker"), "ExecProbe.command: expected a list or tuple, got 'pgrep worker'"),
    (lambda: SecretFile(secret_name="s", mount_path="/etc/s", mode=0o1000),
     "SecretFile.mode: expected a file mode 0..0o777 (e.g. 0o400), got 512"),
    (lambda: SecretFile(secret_name="s", mount_path="etc/s"),
     "SecretFile.mount_path: expected an absolute path below '/' without '..' or ':', got 'etc/s'"),
    (lambda: SecretFile(secret_name="s", mount_path="/etc/s", items={"password": "../x"}),
     "SecretFile.items['password']: expected a relative path without '..', got '../x'"),
    (lambda: SecretFile(secret_name="", mount_path="/etc/s"),
     "SecretFile.secret_name: expected a non-empty string or Output, got ''"),
    (lambda: EnvFromSecret(secret_name="pg", key="bad key!"),
     "EnvFromSecret.key: expected a Secret key (letters, digits, '-', '_', '.'), got 'bad key!'"),
    (lambda: SecurityOptOut(reason="  ", run_as_root=True),
     "SecurityOptOut.reason: expected a non-empty explanation, got '  '"),
    (lambda: SecurityOptOut(reason="because"),
     "SecurityOptOut.run_as_root: expected at least one of run_as_root, add_capabilities, "
     "writable_root_filesystem, got False"),
    (lambda: SecurityOptOut(reason="because", add_capabilities=("ALL",)),
     "SecurityOptOut.add_capabilities: expected capability names such as 'NET_BIND_SERVICE' (never 'ALL'), "
     "got 'ALL'"),
    (lambda: SecurityOptOut(reason="because", add_capabilities="NET_BIND_SERVICE"),
     "SecurityOptOut.add_capabilities: expected a list or tuple, got 'NET_BIND_SERVICE'"),
    (lambda: ContainerPort(name="web console", port=81), "ContainerPort.name: expected a port name"),
    (lambda: ContainerPort(name="console", port=81, protocol="HTTP"),
     "ContainerPort.protocol: expected one of 'TCP', 'UDP', 'SCTP', got 'HTTP'"),
]


@pytest.mark.parametrize(("build", "message"), VALUE_TYPE_ERRORS)
def test_value_types_reject_bad_fields_naming_class_field_and_value(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


WORKLOAD_ERRORS = [
    ({"namespace": "Shop"}, "StatelessServiceArgs.namespace: expected a DNS-1123 label (at most 63 lowercase "
                            "letters, digits and '-', alphanumeric at both ends), got 'Shop'"),
    ({"part_of": ""}, "StatelessServiceArgs.part_of: expected a non-empty string or Output, got ''"),
    ({"component": "web server"}, "StatelessServiceArgs.component: expected a label value"),
    ({"port": 0}, "StatelessServiceArgs.port: expected an integer 1-65535, got 0"),
    ({"port": True}, "StatelessServiceArgs.port: expected an integer 1-65535, got True"),
    ({"port_name": "Main"}, "StatelessServiceArgs.port_name: expected a port name"),
    ({"image": "nginx latest"},
     "StatelessServiceArgs.image: expected an image reference without whitespace, got 'nginx latest'"),
    ({"image_pull_policy": "Sometimes"},
     "StatelessServiceArgs.image_pull_policy: expected one of 'IfNotPresent', 'Always', 'Never', got 'Sometimes'"),
    ({"labels": {"app.kubernetes.io/name": "x"}},
     "StatelessServiceArgs.labels: expected no key of ['app.kubernetes.io/component', "
     "'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/name', "
     "'app.kubernetes.io/part-of'] (set by the component), got 'app.kubernetes.io/name'"),
    ({"labels": {"team": "web team"}}, "StatelessServiceArgs.labels['team']: expected a label value"),
    ({"pod_annotations": {"aks-microservices/security-opt-out": "x"}},
     "StatelessServiceArgs.pod_annotations: expected no key of"),
    ({"env": {"MY-VAR": "1"}}, "StatelessServiceArgs.env: expected env names that are C identifiers "
                               "([A-Za-z_][A-Za-z0-9_]*), got 'MY-VAR'"),
    ({"env": {"UPPERLIMIT": 60}},
     "StatelessServiceArgs.env['UPPERLIMIT']: expected a string or Output (write numbers as strings), got 60"),
    ({"env": {"PGPASSWORD": "postgres_password"}},
     "StatelessServiceArgs.env['PGPASSWORD']: expected a secret from env_from_secrets, not a literal, "
     "got a str (value hidden: secret)"),
    ({"env": {"POSTGRES_PASSWORD_FILE": "secrets/password"}},
     "StatelessServiceArgs.env['POSTGRES_PASSWORD_FILE']: expected a secret from env_from_secrets, not a literal"),
    ({"env": {"PGPASSWORD": "x"}, "env_from_secrets": {"PGPASSWORD": EnvFromSecret(secret_name="pg", key="p")}},
     "StatelessServiceArgs.env['PGPASSWORD']: expected a secret from env_from_secrets"),
    ({"env": {"PGUSER": "a"}, "env_from_secrets": {"PGUSER": EnvFromSecret(secret_name="pg", key="user")}},
     "StatelessServiceArgs.env_from_secrets: expected names not already set in env, got 'PGUSER'"),
    ({"command": "npm start"}, "StatelessServiceArgs.command: expected a list or tuple, got 'npm start'"),
    ({"args": ["--port", 80]}, "StatelessServiceArgs.args[1]: expected a string or Output, got 80"),
    ({"run_as_user": 0}, "StatelessServiceArgs.run_as_user: expected a non-root id 1-2147483647 (root needs "
                         "security_opt_out.run_as_root), got 0"),
    ({"fs_group": -1}, "StatelessServiceArgs.fs_group: expected an integer 0-2147483647, got -1"),
    ({"writable_paths": "/tmp"}, "StatelessServiceArgs.writable_paths: expected a list or tuple, got '/tmp'"),
    ({"writable_paths": ("tmp",)},
     "StatelessServiceArgs.writable_paths: expected an absolute path below '/' without '..' or ':', got 'tmp'"),
    ({"writable_paths": ("/",)}, "StatelessServiceArgs.writable_paths: expected an absolute path below '/'"),
    ({"writable_paths": ("/etc/app",), "secret_files": (SecretFile(secret_name="s", mount_path="/etc/app/"),)},
     "StatelessServiceArgs.secret_files.mount_path: expected a mount path not used by another volume, "
     "got '/etc/app/'"),
    ({"extra_ports": (ContainerPort(name="main", port=81),)},
     "StatelessServiceArgs.extra_ports: expected unique port names, none equal to port_name 'main', got 'main'"),
    ({"extra_ports": (ContainerPort(name="admin", port=8080),)},
     "StatelessServiceArgs.extra_ports: expected each port number once per protocol, got 8080"),
    ({"resources": {"cpu": "1"}}, "StatelessServiceArgs.resources: expected a Resources, got {'cpu': '1'}"),
    ({"readiness_probe": "/health"},
     "StatelessServiceArgs.readiness_probe: expected a HttpProbe or TcpProbe or ExecProbe, got '/health'"),
    ({"liveness_probe": HttpProbe(success_threshold=2)},
     "StatelessServiceArgs.liveness_probe.success_threshold: expected 1 (Kubernetes requires it for liveness), "
     "got 2"),
    ({"port": None, "service_type": None},
     "StatelessServiceArgs.readiness_probe: expected an ExecProbe (or probes_disabled_reason) for a container "
     "without a port, got None"),
    ({"port": None, "service_type": None, "liveness_probe": TcpProbe()},
     "StatelessServiceArgs.liveness_probe: expected an explicit port on the TcpProbe (the container has no "
     "port), got TcpProbe("),
    ({"probes_disabled_reason": " "},
     "StatelessServiceArgs.probes_disabled_reason: expected a non-empty explanation or None, got ' '"),
    ({"probes_disabled_reason": "legacy", "readiness_probe": TcpProbe()},
     "StatelessServiceArgs.readiness_probe: expected None when probes_disabled_reason is set, got TcpProbe("),
    ({"security_opt_out": "root please"},
     "StatelessServiceArgs.security_opt_out: expected a SecurityOptOut, got 'root please'"),
]


@pytest.mark.parametrize(("overrides", "message"), WORKLOAD_ERRORS)
def test_workload_args_reject_bad_fields_naming_class_field_and_value(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        service_args(**overrides)


def test_a_rejected_secret_literal_is_not_echoed_in_the_error():
    with pytest.raises(ValueError) as error:
        service_args(env={"MINIO_SECRET_KEY": "mysecret"})
    assert "mysecret" not in str(error.value)


def test_a_secret_named_file_variable_may_point_at_a_mounted_secret_file():
    # The official images' `<NAME>_FILE` convention carries a path, not a secret.
    env = {e["name"]: e for e in container(render(env={"POSTGRES_PASSWORD_FILE": "/run/secrets/pg/password"}))["env"]}
    assert env["POSTGRES_PASSWORD_FILE"] == {"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/pg/password"}


# JVM heap bound -------------------------------------------------------------------------------------------

def env_literals(recording) -> dict:
    return {e["name"]: e["value"] for e in container(recording).get("env") or [] if "value" in e}


@pytest.mark.parametrize(("limit", "xmx"), [("768Mi", "-Xmx460m"), ("1Gi", "-Xmx614m"), ("2Gi", "-Xmx1228m")])
def test_a_jvm_gets_its_heap_bound_from_its_memory_limit_in_java_tool_options(limit, xmx):
    recording = render(resources=Resources(memory_limit=limit), jvm=JvmHeap())
    assert env_literals(recording) == {"JAVA_TOOL_OPTIONS": xmx}
    assert container(recording)["resources"]["limits"]["memory"] == limit


def test_a_jvm_heap_bound_can_take_another_share_and_the_variable_of_a_launcher_script():
    recording = render(resources=Resources(memory_limit="1Gi"), jvm=JvmHeap(percent=50, env_var="KAFKA_HEAP_OPTS"))
    assert env_literals(recording) == {"KAFKA_HEAP_OPTS": "-Xmx512m"}


def test_a_container_without_jvm_gets_no_heap_option():
    assert "env" not in container(render())


@pytest.mark.parametrize(("build", "message"), [
    (lambda: JvmHeap(percent=95), "JvmHeap.percent: expected an integer 10-90, got 95"),
    (lambda: service_args(jvm=JvmHeap(), env={"JAVA_TOOL_OPTIONS": "-Xmx1g"}),
     "StatelessServiceArgs.jvm.env_var: expected an env var not set otherwise"),
    (lambda: service_args(jvm=JvmHeap(), resources=Resources(memory_request="16Mi", memory_limit="20Mi")),
     "StatelessServiceArgs.resources.memory_limit: expected room for a JVM heap of at least 16Mi"),
    (lambda: service_args(jvm="-Xmx1g"), "StatelessServiceArgs.jvm: expected a JvmHeap, got '-Xmx1g'"),
])
def test_bad_jvm_settings_are_refused_naming_the_field(build, message):
    with pytest.raises(InvalidArgsError) as error:
        build()
    assert str(error.value).startswith(message)
