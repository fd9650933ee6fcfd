"""Pod security of the dev stack: Pod Security Admission levels per namespace, every pod within its namespace's
profile (checked here against the Pod Security Standards, v1.33), and an identity of its own for every pod."""

import pytest

from offline.engine import run_stack

# Which namespace can enforce what, and why (apps.md: the To Do operator; the seeds' images otherwise allow it).
EXPECTED_LEVELS = {
    "smilr": "restricted",
    "knote": "restricted",
    "fibonacci": "restricted",
    "homics": "restricted",
    "todo": "baseline",  # the MySQL Operator's server pods
    "mysql-operator": "baseline",  # the operator chart's own pod
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
PSA = "pod-security.kubernetes.io"
EXCEPTION = "aks-microservices/pod-security-exception"
OPT_OUT = "aks-microservices/security-opt-out"

# The Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/), v1.33.
BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}


def violations(spec: dict, level: str) -> list[str]:
    """What keeps a pod spec out of `level` (baseline or restricted)."""
    found = []
    pod_context = spec.get("securityContext") or {}
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or []) \
        + (spec.get("ephemeralContainers") or [])
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            found.append(host)
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if "hostPath" in kinds:
            found.append(f"hostPath volume {volume['name']}")
        if level == "restricted" and not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume type {sorted(kinds)}")
    for sysctl in pod_context.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl['name']}")
    if (pod_context.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("seccomp Unconfined")
    if (pod_context.get("windowsOptions") or {}).get("hostProcess"):
        found.append("hostProcess")
    for container in containers:
        name = container["name"]
        context = container.get("securityContext") or {}
        capabilities = context.get("capabilities") or {}
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if any(port.get("hostPort") for port in container.get("ports") or []):
            found.append(f"{name}: hostPort")
        if not set(capabilities.get("add") or []) <= BASELINE_CAPABILITIES:
            found.append(f"{name}: capabilities beyond baseline")
        if context.get("procMount", "Default") != "Default":
            found.append(f"{name}: procMount")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{name}: seccomp Unconfined")
        if level != "restricted":
            continue
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True:
            found.append(f"{name}: runAsNonRoot not true")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccomp profile {seccomp}")
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: capabilities not dropping ALL")
        if not set(capabilities.get("add") or []) <= {"NET_BIND_SERVICE"}:
            found.append(f"{name}: capabilities beyond NET_BIND_SERVICE")
    return found


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


def namespaces(recording) -> dict[str, dict]:
    return {o["metadata"]["name"]: o["metadata"] for o in recording.k8s_objects() if o["kind"] == "Namespace"
            and o["metadata"]["name"] in EXPECTED_LEVELS}


def pods(recording) -> list[tuple[str, dict]]:
    """(namespace/workload, pod template) of every rendered workload in the apps' namespaces, Jobs included."""
    found = []
    for obj in recording.k8s_objects():
        if obj["kind"] in WORKLOAD_KINDS and obj["metadata"].get("namespace") in EXPECTED_LEVELS:
            spec = obj["spec"]
            template = spec["jobTemplate"]["spec"]["template"] if obj["kind"] == "CronJob" else spec["template"]
            found.append((f"{obj['metadata']['namespace']}/{obj['metadata']['name']}", template))
    return found


# Namespaces ----------------------------------------------------------------------------------------------------

def test_every_app_namespace_enforces_its_level_and_audits_and_warns_at_restricted(dev):
    found = namespaces(dev)
    assert set(found) == set(EXPECTED_LEVELS)
    for name, metadata in found.items():
        labels = metadata["labels"]
        assert labels[f"{PSA}/enforce"] == EXPECTED_LEVELS[name], name
        assert labels[f"{PSA}/audit"] == labels[f"{PSA}/warn"] == "restricted", name
        # Pinned to the cluster's minor version (dev: kubernetesVersion 1.33), never `latest`.
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"{PSA}/{mode}-version"] == "v1.33", name


def test_a_baseline_namespace_records_why_and_a_restricted_one_records_nothing(dev):
    for name, metadata in namespaces(dev).items():
        reason = (metadata.get("annotations") or {}).get(EXCEPTION)
        if EXPECTED_LEVELS[name] == "baseline":
            assert reason and len(reason) > 40, name
        else:
            assert reason is None, name
    todo = namespaces(dev)["todo"]["annotations"][EXCEPTION]
    assert "MySQL Operator" in todo and "root" in todo
    assert "chart" in namespaces(dev)["mysql-operator"]["annotations"][EXCEPTION]


# Pods ----------------------------------------------------------------------------------------------------------

def test_every_pod_meets_its_namespaces_enforced_level(dev):
    for name, template in pods(dev):
        namespace = name.split("/")[0]
        assert violations(template["spec"], EXPECTED_LEVELS[namespace]) == [], name


def test_every_pod_the_stack_renders_meets_restricted_even_in_baseline_namespaces(dev):
    # The baseline namespaces are for pods the stack does not write (the operator's): its own pods, the To Do
    # images on port 80 and the H2 console on 81 included, run as non-root without any capability.
    rendered = pods(dev)
    assert len(rendered) == 22  # 21 app workloads and, with Key Vault on AKS, To Do's mysqlpwd-sync holder
    assert {name: violations(t["spec"], "restricted") for name, t in rendered
            if violations(t["spec"], "restricted")} == {}


def test_an_opt_out_that_leaves_restricted_must_sit_in_a_baseline_namespace_with_its_reason(dev):
    for name, template in pods(dev):
        if violations(template["spec"], "restricted"):
            assert EXPECTED_LEVELS[name.split("/")[0]] == "baseline", name
            assert (template["metadata"].get("annotations") or {}).get(OPT_OUT), name


def test_the_checker_knows_what_restricted_and_baseline_refuse():
    root = {"securityContext": {"runAsUser": 0}, "containers": [{"name": "c", "securityContext": {
        "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "allowPrivilegeEscalation": False}}]}
    assert violations(root, "baseline") == []
    assert "c: runAsNonRoot not true" in violations(root, "restricted")
    assert "c: runAsUser 0" in violations(root, "restricted")
    assert "c: seccomp profile None" in violations(root, "restricted")
    host = {"hostNetwork": True, "volumes": [{"name": "v", "hostPath": {"path": "/"}}],
            "securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]},
            "containers": [{"name": "c", "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}},
                            "ports": [{"containerPort": 80, "hostPort": 80}]}]}
    assert set(violations(host, "baseline")) == {"hostNetwork", "hostPath volume v", "sysctl kernel.msgmax",
                                                 "c: privileged", "c: hostPort", "c: capabilities beyond baseline"}


# Identities ----------------------------------------------------------------------------------------------------

def test_no_pod_runs_as_the_default_service_account_or_mounts_a_token(dev):
    for name, template in pods(dev):
        spec = template["spec"]
        assert spec.get("serviceAccountName") not in (None, "", "default"), name
        assert spec["automountServiceAccountToken"] is False, name


def test_each_workload_has_a_service_account_of_its_own_without_token_automount(dev):
    accounts = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in dev.k8s_objects()
                if o["kind"] == "ServiceAccount"}
    used = [(name.split("/")[0], t["spec"]["serviceAccountName"]) for name, t in pods(dev)]
    assert len(set(used)) == len(used), "two workloads share an identity"
    for key in used:
        assert key in accounts, key
        assert accounts[key]["automountServiceAccountToken"] is False, key


def test_the_operators_mysql_pods_run_as_a_named_account_not_default(dev):
    cluster = dev.k8s("InnoDBCluster", "todo-mysql", "todo")
    # The operator creates and binds it: the server pods' sidecar needs the API, so this one keeps its token.
    assert cluster["spec"]["serviceAccountName"] not in (None, "", "default")
