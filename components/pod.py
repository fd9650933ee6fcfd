"""The secure-by-default pod shared by every component: value types, `WorkloadArgs` and the builder.

Every pod and container default is declared here and applied by `pod_template`, nowhere else:

- pod `securityContext`: `runAsNonRoot: true`, `runAsUser`/`runAsGroup` 10001, `fsGroup` = `runAsGroup`,
  `fsGroupChangePolicy: OnRootMismatch`, `seccompProfile: RuntimeDefault`;
- container `securityContext`: `allowPrivilegeEscalation: false`, `privileged: false`,
  `capabilities.drop: [ALL]`, `readOnlyRootFilesystem: true` (an `emptyDir` per `writable_paths` entry);
- `automountServiceAccountToken: false` (always), `enableServiceLinks: false`; a ServiceAccount of the
  workload's own (named like it, service_account.py) unless `service_account_name` names one;
- a container port below 1024 on a non-root pod: the safe sysctl `net.ipv4.ip_unprivileged_port_start` set to
  the lowest such port, so the image binds it without root or NET_BIND_SERVICE (allowed by `restricted`);
- `connects_to` (connections.py): the address env vars, the `aks-microservices/connects-to` annotation and the
  workload's NetworkPolicies (network_policy.py);
- `imagePullPolicy: IfNotPresent`;
- resources: requests 100m CPU / 128Mi, limits 500m CPU / 256Mi (`Resources`);
- `jvm` (`JvmHeap`): a JVM's maximum heap, `-Xmx` = 60% of the memory limit, in `JAVA_TOOL_OPTIONS`;
- probes: readiness and liveness `TcpProbe()` on the container port; a container without a port needs an
  `ExecProbe` (used for both when only one is given) or `probes_disabled_reason`; a startup probe running
  the liveness check every 5 s for up to 5 min, so slow starters are not killed by liveness;
- topology spread over `kubernetes.io/hostname` and `topology.kubernetes.io/zone`, `maxSkew: 1`,
  `ScheduleAnyway` (a preference: never leaves pods pending); `zone_spread="hard"` makes the zone constraint
  `DoNotSchedule` with `nodeTaintsPolicy: Honor` (a pod stays pending rather than pile into one zone; zones
  whose nodes it cannot use do not count; nodes must carry the zone label), the node constraint stays
  `ScheduleAnyway`;
- `disruption_allowed` (a reason, default None): the workload may reach zero ready pods during a node drain
  or a zone loss; recorded as the annotation `aks-microservices.io/disruption-allowed` on the Deployment's or
  StatefulSet's metadata (the contract the availability checks read: a workload without it keeps a ready pod);
- the recommended labels (`labels.py`) plus `labels` and `pod_labels` on the pod template;
- `secret_store` (`SecretStoreVolume`): a read-only Secrets Store CSI volume of the named SecretProviderClass,
  plus the pod labels and ServiceAccount annotations its provider's identity needs (given by the caller).

Opt-outs are explicit and narrow: `SecurityOptOut` (its reason lands in the pod annotation
`aks-microservices/security-opt-out`) and `probes_disabled_reason` (annotation
`aks-microservices/probes-disabled`). An opt-out that runs as root or adds a capability keeps the pod out of
Pod Security `restricted`: its namespace must enforce `baseline` (pod_security.py), with the same reason.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import pulumi
import pulumi_kubernetes as k8s

from . import _checks as c
from .connections import (
    CONNECTS_TO_ANNOTATION,
    Connection,
    check_connections,
    check_env_connections,
    connection_env,
    connects_to_annotation,
)
from .labels import RECOMMENDED_KEYS, STORE_LABEL, recommended_labels, selector_labels
from .network_policy import Rule, WorkloadTraffic, workload_policies
from .service_account import service_account

DEFAULT_RUN_AS_USER = 10001
DEFAULT_RUN_AS_GROUP = 10001
SECURITY_OPT_OUT_ANNOTATION = "aks-microservices/security-opt-out"
PROBES_DISABLED_ANNOTATION = "aks-microservices/probes-disabled"
# On the workload's metadata: why it may reach zero ready pods during a drain or zone loss.
DISRUPTION_ALLOWED_ANNOTATION = "aks-microservices.io/disruption-allowed"
RESERVED_ANNOTATIONS = (SECURITY_OPT_OUT_ANNOTATION, PROBES_DISABLED_ANNOTATION, CONNECTS_TO_ANNOTATION)
# Lets a non-root process bind ports from the given number up, inside the pod's network namespace only.
UNPRIVILEGED_PORT_START = "net.ipv4.ip_unprivileged_port_start"
PRIVILEGED_PORTS_END = 1024
NODE_TOPOLOGY_KEY = "kubernetes.io/hostname"
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
SPREAD_TOPOLOGY_KEYS = (NODE_TOPOLOGY_KEY, ZONE_TOPOLOGY_KEY)
ZONE_SPREADS = ("soft", "hard")
# Startup budget before liveness takes over: 60 x 5 s.
STARTUP_PERIOD_SECONDS = 5
STARTUP_FAILURE_THRESHOLD = 60
# The Secrets Store CSI driver's name (kubernetes-sigs/secrets-store-csi-driver, deploy/csidriver.yaml).
SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io"
SECRET_STORE_VOLUME = "secrets-store"
# Names that say "secret": their values must come from a Secret, never an env literal.
SECRET_ENV_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY")
# The official images' `<NAME>_FILE` convention: the value is the path of a mounted secret file, not a secret.
SECRET_FILE_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*_FILE")


# Probes -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class _ProbeTiming:
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    failure_threshold: int = 3
    success_threshold: int = 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        c.check_int(owner, "initial_delay_seconds", self.initial_delay_seconds, lo=0)
        for name in ("period_seconds", "timeout_seconds", "failure_threshold", "success_threshold"):
            c.check_int(owner, name, getattr(self, name), lo=1)


@dataclass(frozen=True, kw_only=True)
class HttpProbe(_ProbeTiming):
    """HTTP GET `path` on `port` (default: the container port); any 200-399 answer is healthy."""

    path: str = "/"
    port: int | None = None
    scheme: Literal["HTTP", "HTTPS"] = "HTTP"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            c.fail("HttpProbe", "path", "an absolute URL path starting with '/'", self.path)
        if self.port is not None:
            c.check_port("HttpProbe", "port", self.port)
        c.check_one_of("HttpProbe", "scheme", self.scheme, ("HTTP", "HTTPS"))


@dataclass(frozen=True, kw_only=True)
class TcpProbe(_ProbeTiming):
    """A TCP connect to `port` (default: the container port)."""

    port: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.port is not None:
            c.check_port("TcpProbe", "port", self.port)


@dataclass(frozen=True, kw_only=True)
class ExecProbe(_ProbeTiming):
    """Runs `command` in the container (no shell unless you call one); exit code 0 is healthy."""

    command: Sequence[str]

    def __post_init__(self) -> None:
        super().__post_init__()
        c.check_str_sequence("ExecProbe", "command", self.command)
        if not self.command:
            c.fail("ExecProbe", "command", "a non-empty list of strings", self.command)


Probe = HttpProbe | TcpProbe | ExecProbe
PROBE_TYPES = (HttpProbe, TcpProbe, ExecProbe)


# Value types --------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Resources:
    """Container requests and limits. `cpu_request=None` leaves the CPU request to Kubernetes (which then
    copies the limit); AutoscaledApp refuses a CPU target without an explicit request."""

    cpu_request: str | None = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str = "500m"
    memory_limit: str = "256Mi"

    def __post_init__(self) -> None:
        memory_request = c.check_quantity("Resources", "memory_request", self.memory_request)
        memory_limit = c.check_quantity("Resources", "memory_limit", self.memory_limit)
        cpu_limit = c.check_quantity("Resources", "cpu_limit", self.cpu_limit)
        if memory_request > memory_limit:
            c.fail("Resources", "memory_request", f"at most memory_limit {self.memory_limit!r}",
                   self.memory_request)
        if self.cpu_request is not None:
            cpu_request = c.check_quantity("Resources", "cpu_request", self.cpu_request)
            if cpu_request > cpu_limit:
                c.fail("Resources", "cpu_request", f"at most cpu_limit {self.cpu_limit!r}", self.cpu_request)


@dataclass(frozen=True, kw_only=True)
class JvmHeap:
    """The container runs a JVM: bound its heap from the container's memory limit, so it never sizes itself from
    the node. `-Xmx` is `percent`% of `resources.memory_limit` (MiB, rounded down); the rest is left to what
    the heap does not hold (metaspace, thread stacks, code cache, direct buffers, GC structures). JVMs before
    JDK 15 (8u372 for 8) do not read cgroup v2 limits, so without a bound they take a quarter of the node's RAM.

    The option goes into `env_var`, by default `JAVA_TOOL_OPTIONS`, which the JVM reads itself however it is
    launched (a `java -jar` CMD included). A launcher that puts its own `-Xmx` on the command line overrides
    it: name that launcher's variable instead (Kafka's `KAFKA_HEAP_OPTS`)."""

    percent: int = 60
    env_var: str = "JAVA_TOOL_OPTIONS"

    def __post_init__(self) -> None:
        c.check_int("JvmHeap", "percent", self.percent, lo=10, hi=90)
        c.check_pattern("JvmHeap", "env_var", self.env_var, c.C_IDENTIFIER,
                        "an env name that is a C identifier ([A-Za-z_][A-Za-z0-9_]*)", max_len=1024)

    def max_heap_mib(self, memory_limit: str) -> int:
        limit = c.check_quantity("JvmHeap", "memory_limit", memory_limit)
        return int(limit * self.percent / 100 / (1024 * 1024))

    def options(self, memory_limit: str) -> str:
        return f"-Xmx{self.max_heap_mib(memory_limit)}m"


@dataclass(frozen=True, kw_only=True)
class EnvFromSecret:
    """An env var read from key `key` of Secret `secret_name` (`valueFrom.secretKeyRef`)."""

    secret_name: pulumi.Input[str]
    key: str

    def __post_init__(self) -> None:
        c.check_str("EnvFromSecret", "secret_name", self.secret_name)
        c.check_pattern("EnvFromSecret", "key", self.key, c.SECRET_KEY,
                        "a Secret key (letters, digits, '-', '_', '.')", max_len=253)


@dataclass(frozen=True, kw_only=True)
class SecretFile:
    """Secret `secret_name` mounted read-only at `mount_path`: every key as a file, or only `items`
    (key -> relative path). `mode` 0o400 by default; with `fsGroup` Kubernetes adds group read (0o440),
    so the non-root user can read it and nobody else can."""

    secret_name: pulumi.Input[str]
    mount_path: str
    mode: int = 0o400
    items: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        c.check_str("SecretFile", "secret_name", self.secret_name)
        c.check_abs_path("SecretFile", "mount_path", self.mount_path)
        if isinstance(self.mode, bool) or not isinstance(self.mode, int) or not 0 <= self.mode <= 0o777:
            c.fail("SecretFile", "mode", "a file mode 0..0o777 (e.g. 0o400)", self.mode)
        if self.items is not None:
            c.check_mapping("SecretFile", "items", self.items)
            if not self.items:
                c.fail("SecretFile", "items", "None (every key) or a non-empty mapping", self.items)
            for key, path in self.items.items():
                c.check_pattern("SecretFile", "items", key, c.SECRET_KEY, "Secret keys", max_len=253)
                c.check_rel_path("SecretFile", f"items[{key!r}]", path)


@dataclass(frozen=True, kw_only=True)
class SecretStoreVolume:
    """Secrets from a SecretProviderClass: the Secrets Store CSI volume of class `provider_class`, mounted
    read-only at `mount_path` (one file per object of the class). While a pod mounts it, the driver also syncs
    the class's `secretObjects` into Kubernetes Secrets, so `secret_files`/`env_from_secrets` of those names
    work in the same pod. `pod_labels` and `service_account_annotations` are what the class's provider needs to
    authenticate the pod (a workload identity, for instance); the component sets them and knows nothing else
    of the provider."""

    provider_class: pulumi.Input[str]
    mount_path: str = "/mnt/secrets-store"
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = "SecretStoreVolume"
        c.check_str(owner, "provider_class", self.provider_class)
        if isinstance(self.provider_class, str):
            c.check_dns_label(owner, "provider_class", self.provider_class)
        c.check_abs_path(owner, "mount_path", self.mount_path)
        c.check_labels(owner, "pod_labels", self.pod_labels, reserved=RECOMMENDED_KEYS)
        c.check_annotations(owner, "service_account_annotations", self.service_account_annotations)


@dataclass(frozen=True, kw_only=True)
class SecurityOptOut:
    """A narrow, explained exception to the secure defaults. `reason` is required and is recorded on the pod
    (annotation `aks-microservices/security-opt-out`). `run_as_root` runs as UID/GID 0; `add_capabilities`
    adds back named capabilities (never ALL) after dropping all; `writable_root_filesystem` turns off the
    read-only root filesystem. Privilege escalation stays off and the seccomp profile stays on."""

    reason: str
    run_as_root: bool = False
    add_capabilities: Sequence[str] = ()
    writable_root_filesystem: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            c.fail("SecurityOptOut", "reason", "a non-empty explanation", self.reason)
        c.check_bool("SecurityOptOut", "run_as_root", self.run_as_root)
        c.check_bool("SecurityOptOut", "writable_root_filesystem", self.writable_root_filesystem)
        c.check_sequence("SecurityOptOut", "add_capabilities", self.add_capabilities)
        for capability in self.add_capabilities:
            if not isinstance(capability, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", capability) \
                    or capability == "ALL":
                c.fail("SecurityOptOut", "add_capabilities",
                       "capability names such as 'NET_BIND_SERVICE' (never 'ALL')", capability)
        if not (self.run_as_root or self.add_capabilities or self.writable_root_filesystem):
            c.fail("SecurityOptOut", "run_as_root",
                   "at least one of run_as_root, add_capabilities, writable_root_filesystem", self.run_as_root)


@dataclass(frozen=True, kw_only=True)
class ContainerPort:
    """An additional container port (also exposed by the component's Services under `name`)."""

    name: str
    port: int
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"

    def __post_init__(self) -> None:
        c.check_pattern("ContainerPort", "name", self.name, c.PORT_NAME,
                        "a port name (at most 15 lowercase letters, digits and single '-', one letter)",
                        max_len=15)
        c.check_port("ContainerPort", "port", self.port)
        c.check_one_of("ContainerPort", "protocol", self.protocol, ("TCP", "UDP", "SCTP"))


# The workload arguments every component shares --------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class WorkloadArgs:
    """The pod-level fields shared by StatelessServiceArgs and StatefulStoreArgs (see the module docstring
    for every default). `instance` defaults to `part_of`; `container_name` to the workload's name;
    `fs_group` to `run_as_group`; `port_name` names the main port in the pod and the Services."""

    namespace: pulumi.Input[str]
    part_of: str
    component: str
    image: pulumi.Input[str]
    instance: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    pod_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    container_name: str | None = None
    port: int | None = None
    port_name: str = "main"
    extra_ports: Sequence[ContainerPort] = ()
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    env_from_secrets: Mapping[str, EnvFromSecret] = field(default_factory=dict)
    secret_files: Sequence[SecretFile] = ()
    secret_store: SecretStoreVolume | None = None
    command: Sequence[pulumi.Input[str]] | None = None
    args: Sequence[pulumi.Input[str]] | None = None
    resources: Resources = Resources()
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    probes_disabled_reason: str | None = None
    run_as_user: int = DEFAULT_RUN_AS_USER
    run_as_group: int = DEFAULT_RUN_AS_GROUP
    fs_group: int | None = None
    writable_paths: Sequence[str] = ()
    security_opt_out: SecurityOptOut | None = None
    service_account_name: pulumi.Input[str] | None = None
    connects_to: Sequence[Connection] = ()
    zone_spread: Literal["soft", "hard"] = "soft"
    disruption_allowed: str | None = None
    jvm: JvmHeap | None = None

    # Subclasses whose pods are always dialled (stores) require a port.
    _port_required: ClassVar[bool] = False

    def __post_init__(self) -> None:
        owner = type(self).__name__
        c.check_str(owner, "namespace", self.namespace)
        c.check_dns_label(owner, "namespace", self.namespace)
        for name in ("part_of", "component", "instance"):
            value = getattr(self, name)
            if value is not None or name != "instance":
                c.check_str(owner, name, value)
                c.check_label_value(owner, name, value)
        c.check_labels(owner, "labels", self.labels, reserved=RECOMMENDED_KEYS)
        c.check_labels(owner, "pod_labels", self.pod_labels, reserved=RECOMMENDED_KEYS)
        for name in ("labels", "pod_labels"):
            if STORE_LABEL in getattr(self, name):
                c.fail(owner, name, f"no {STORE_LABEL!r} key (StatefulStore sets it on its own objects)", STORE_LABEL)
        c.check_annotations(owner, "annotations", self.annotations)
        c.check_annotations(owner, "pod_annotations", self.pod_annotations)
        if DISRUPTION_ALLOWED_ANNOTATION in self.annotations:
            c.fail(owner, "annotations", f"no key {DISRUPTION_ALLOWED_ANNOTATION!r} (set disruption_allowed)",
                   DISRUPTION_ALLOWED_ANNOTATION)
        c.check_one_of(owner, "zone_spread", self.zone_spread, ZONE_SPREADS)
        if self.disruption_allowed is not None and (
                not isinstance(self.disruption_allowed, str) or not self.disruption_allowed.strip()):
            c.fail(owner, "disruption_allowed", "None or a non-empty reason", self.disruption_allowed)
        for key in self.pod_annotations:
            if key in RESERVED_ANNOTATIONS:
                c.fail(owner, "pod_annotations", f"no key of {list(RESERVED_ANNOTATIONS)} (set by the component)",
                       key)
        c.check_str(owner, "image", self.image)
        if isinstance(self.image, str) and re.search(r"\s", self.image):
            c.fail(owner, "image", "an image reference without whitespace", self.image)
        c.check_one_of(owner, "image_pull_policy", self.image_pull_policy, ("IfNotPresent", "Always", "Never"))
        if self.container_name is not None:
            c.check_dns_label(owner, "container_name", self.container_name)
        self._check_ports(owner)
        self._check_env(owner)
        for name in ("command", "args"):
            if getattr(self, name) is not None:
                c.check_str_sequence(owner, name, getattr(self, name))
        c.check_type(owner, "resources", self.resources, Resources)
        if self.jvm is not None:
            c.check_type(owner, "jvm", self.jvm, JvmHeap)
            taken = {*self.env, *self.env_from_secrets, *(n for conn in self.connects_to for n in conn.env)}
            if self.jvm.env_var in taken:
                c.fail(owner, "jvm.env_var", "an env var not set otherwise (the heap bound sets it)",
                       self.jvm.env_var)
            if self.jvm.max_heap_mib(self.resources.memory_limit) < 16:
                c.fail(owner, "resources.memory_limit", f"room for a JVM heap of at least 16Mi at "
                       f"{self.jvm.percent}%", self.resources.memory_limit)
        for name in ("run_as_user", "run_as_group"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**31:
                c.fail(owner, name, "a non-root id 1-2147483647 (root needs security_opt_out.run_as_root)", value)
        if self.fs_group is not None:
            c.check_int(owner, "fs_group", self.fs_group, lo=0, hi=2**31 - 1)
        if self.security_opt_out is not None:
            c.check_type(owner, "security_opt_out", self.security_opt_out, SecurityOptOut)
        if self.service_account_name is not None:
            c.check_str(owner, "service_account_name", self.service_account_name)
        self._check_mounts(owner)
        self._check_probes(owner)

    def _check_ports(self, owner: str) -> None:
        if self.port is not None or self._port_required:
            c.check_port(owner, "port", self.port)
        c.check_pattern(owner, "port_name", self.port_name, c.PORT_NAME,
                        "a port name (at most 15 lowercase letters, digits and single '-', one letter)",
                        max_len=15)
        c.check_sequence(owner, "extra_ports", self.extra_ports)
        names = {self.port_name}
        numbers = {(self.port, "TCP")}
        for extra in self.extra_ports:
            c.check_type(owner, "extra_ports", extra, ContainerPort)
            if extra.name in names:
                c.fail(owner, "extra_ports", f"unique port names, none equal to port_name {self.port_name!r}",
                       extra.name)
            if (extra.port, extra.protocol) in numbers:
                c.fail(owner, "extra_ports", "each port number once per protocol", extra.port)
            names.add(extra.name)
            numbers.add((extra.port, extra.protocol))
        if self.extra_ports and self.port is None:
            c.fail(owner, "port", "the main port when extra_ports are given", self.port)

    def _check_env(self, owner: str) -> None:
        c.check_mapping(owner, "env", self.env)
        c.check_mapping(owner, "env_from_secrets", self.env_from_secrets)
        for name, value in self.env.items():
            c.check_pattern(owner, "env", name, c.C_IDENTIFIER,
                            "env names that are C identifiers ([A-Za-z_][A-Za-z0-9_]*)", max_len=1024)
            if not (c.is_output(value) or isinstance(value, str)):
                c.fail(owner, f"env[{name!r}]", "a string or Output (write numbers as strings)", value)
            if isinstance(value, str) and value and SECRET_ENV_NAME.search(name.upper()) \
                    and not (SECRET_FILE_ENV.fullmatch(name) and value.startswith("/")):
                c.fail(owner, f"env[{name!r}]", "a secret from env_from_secrets, not a literal",
                       value, hide=True)
        for name, ref in self.env_from_secrets.items():
            c.check_pattern(owner, "env_from_secrets", name, c.C_IDENTIFIER,
                            "env names that are C identifiers ([A-Za-z_][A-Za-z0-9_]*)", max_len=1024)
            c.check_type(owner, f"env_from_secrets[{name!r}]", ref, EnvFromSecret)
            if name in self.env:
                c.fail(owner, "env_from_secrets", "names not already set in env", name)
        check_connections(owner, "connects_to", self.connects_to, client=self.workload_name)
        for connection in self.connects_to:
            for name in connection.env:
                if name in self.env or name in self.env_from_secrets:
                    c.fail(owner, "connects_to", "env names not already set in env or env_from_secrets", name)
        check_env_connections(owner, self.env, self.connects_to)

    def _check_mounts(self, owner: str) -> None:
        c.check_sequence(owner, "writable_paths", self.writable_paths)
        c.check_sequence(owner, "secret_files", self.secret_files)
        for path in self.writable_paths:
            c.check_abs_path(owner, "writable_paths", path)
        for secret_file in self.secret_files:
            c.check_type(owner, "secret_files", secret_file, SecretFile)
        if self.secret_store is not None:
            c.check_type(owner, "secret_store", self.secret_store, SecretStoreVolume)
            for key in self.secret_store.pod_labels:
                if key in self.pod_labels:
                    c.fail(owner, "secret_store.pod_labels", "label keys not already in pod_labels", key)
            if self.service_account_name is not None and self.secret_store.service_account_annotations:
                # The annotations go on the account the component makes; a given account is the caller's.
                c.fail(owner, "service_account_name",
                       "None when secret_store needs ServiceAccount annotations (the component's own account "
                       "carries them)", self.service_account_name)
        self.check_mount_paths({})

    def check_mount_paths(self, extra: Mapping[str, str]) -> None:
        """Each mount path once: writable paths, secret files and a component's own (`field -> path`)."""
        mounts = [("writable_paths", p) for p in self.writable_paths]
        mounts += [("secret_files.mount_path", f.mount_path) for f in self.secret_files]
        if self.secret_store is not None:
            mounts.append(("secret_store.mount_path", self.secret_store.mount_path))
        mounts += list(extra.items())
        seen: set[str] = set()
        for name, path in mounts:
            normalized = path.rstrip("/")
            if normalized in seen:
                c.fail(type(self).__name__, name, "a mount path not used by another volume", path)
            seen.add(normalized)

    def _check_probes(self, owner: str) -> None:
        for name in ("readiness_probe", "liveness_probe", "startup_probe"):
            probe = getattr(self, name)
            if probe is not None:
                c.check_type(owner, name, probe, PROBE_TYPES)
                if self.probes_disabled_reason is not None:
                    c.fail(owner, name, "None when probes_disabled_reason is set", probe)
                if not isinstance(probe, ExecProbe) and probe.port is None and self.port is None:
                    c.fail(owner, name, f"an explicit port on the {type(probe).__name__} (the container has "
                           "no port)", probe)
        if isinstance(self.liveness_probe, PROBE_TYPES) and self.liveness_probe.success_threshold != 1:
            c.fail(owner, "liveness_probe.success_threshold", "1 (Kubernetes requires it for liveness)",
                   self.liveness_probe.success_threshold)
        if self.probes_disabled_reason is not None:
            if not isinstance(self.probes_disabled_reason, str) or not self.probes_disabled_reason.strip():
                c.fail(owner, "probes_disabled_reason", "a non-empty explanation or None",
                       self.probes_disabled_reason)
        elif self.port is None and self.readiness_probe is None and self.liveness_probe is None:
            c.fail(owner, "readiness_probe",
                   "an ExecProbe (or probes_disabled_reason) for a container without a port", None)

    # Derived values, used by the builder and the components.

    @property
    def workload_name(self) -> str | None:
        """The workload's name, as messages give it (subclasses know it)."""
        return self.container_name

    @property
    def instance_label(self) -> str:
        return self.instance or self.part_of

    @property
    def runs_as_root(self) -> bool:
        return bool(self.security_opt_out and self.security_opt_out.run_as_root)

    def container_ports(self) -> list[int]:
        return ([self.port] if self.port is not None else []) + [p.port for p in self.extra_ports]

    def probes(self) -> tuple[Probe | None, Probe | None, Probe | None]:
        """(readiness, liveness, startup) after defaults."""
        if self.probes_disabled_reason is not None:
            return None, None, None
        if self.port is None:
            # No port to check: the one ExecProbe given serves for both.
            readiness = self.readiness_probe or self.liveness_probe
            liveness = self.liveness_probe or self.readiness_probe
        else:
            readiness = self.readiness_probe or TcpProbe()
            liveness = self.liveness_probe or TcpProbe()
        startup = self.startup_probe
        if startup is None and liveness is not None:
            startup = dataclasses.replace(liveness, initial_delay_seconds=0, period_seconds=STARTUP_PERIOD_SECONDS,
                                          failure_threshold=STARTUP_FAILURE_THRESHOLD, success_threshold=1)
        return readiness, liveness, startup


# Builders ------------------------------------------------------------------------------------------------

def object_labels(args: WorkloadArgs, app_name: str) -> dict[str, str]:
    return {**args.labels, **recommended_labels(app_name, args.instance_label, args.component, args.part_of)}


def object_meta(args: WorkloadArgs, *, name: str, app_name: str,
                annotations: Mapping[str, pulumi.Input[str]] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a namespaced object of the workload: explicit name, recommended + user labels."""
    merged = {**args.annotations, **(annotations or {})}
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=args.namespace,
        labels=object_labels(args, app_name),
        annotations=merged or None,
    )


def workload_meta(args: WorkloadArgs, *, name: str, app_name: str) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of the Deployment or StatefulSet itself: `object_meta` plus the disruption-allowed reason."""
    extra = {DISRUPTION_ALLOWED_ANNOTATION: args.disruption_allowed} if args.disruption_allowed else None
    return object_meta(args, name=name, app_name=app_name, annotations=extra)


def selector(args: WorkloadArgs, app_name: str) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(app_name, args.instance_label))


def service_ports(args: WorkloadArgs, *, service_port: int,
                  node_port: int | None = None) -> list[k8s.core.v1.ServicePortArgs]:
    """The main port (`service_port` -> container port) and every extra port (same number)."""
    ports = [k8s.core.v1.ServicePortArgs(name=args.port_name, port=service_port, target_port=args.port,
                                         protocol="TCP", node_port=node_port)]
    ports += [k8s.core.v1.ServicePortArgs(name=p.name, port=p.port, target_port=p.port, protocol=p.protocol)
              for p in args.extra_ports]
    return ports


def _probe(probe: Probe | None, default_port: int | None) -> k8s.core.v1.ProbeArgs | None:
    if probe is None:
        return None
    timing = dict(
        initial_delay_seconds=probe.initial_delay_seconds,
        period_seconds=probe.period_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
        success_threshold=probe.success_threshold,
    )
    if isinstance(probe, HttpProbe):
        action = k8s.core.v1.HTTPGetActionArgs(path=probe.path, port=probe.port or default_port,
                                               scheme=probe.scheme)
        return k8s.core.v1.ProbeArgs(http_get=action, **timing)
    if isinstance(probe, TcpProbe):
        return k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=probe.port or default_port),
                                     **timing)
    return k8s.core.v1.ProbeArgs(exec_=k8s.core.v1.ExecActionArgs(command=list(probe.command)), **timing)


def _env(args: WorkloadArgs) -> list[k8s.core.v1.EnvVarArgs]:
    literals = {**args.env, **connection_env(args.connects_to)}
    if args.jvm is not None:
        literals[args.jvm.env_var] = args.jvm.options(args.resources.memory_limit)
    env = [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in literals.items()]
    env += [
        k8s.core.v1.EnvVarArgs(
            name=name,
            value_from=k8s.core.v1.EnvVarSourceArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=ref.secret_name, key=ref.key)
            ),
        )
        for name, ref in args.env_from_secrets.items()
    ]
    return env


def _resources(resources: Resources) -> k8s.core.v1.ResourceRequirementsArgs:
    requests = {"memory": resources.memory_request}
    if resources.cpu_request is not None:
        requests["cpu"] = resources.cpu_request
    return k8s.core.v1.ResourceRequirementsArgs(
        requests=requests, limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit}
    )


def _spread_rule(*, hard: bool) -> dict[str, str]:
    """A soft spread only scores nodes. A hard one (zones, on request: a zone loss then never takes every pod)
    also honours taints, so that a zone whose nodes the pod cannot use (all cordoned for a drain, or tainted
    unreachable while the zone is down, or only the tainted system pool) is no domain: otherwise its zero pods
    would pin every replacement to it and leave it Pending (topology-spread-constraints, `nodeTaintsPolicy`:
    https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/)."""
    if hard:
        return {"when_unsatisfiable": "DoNotSchedule", "node_taints_policy": "Honor"}
    return {"when_unsatisfiable": "ScheduleAnyway"}


def pod_template(
    args: WorkloadArgs,
    *,
    app_name: str,
    volumes: Sequence[k8s.core.v1.VolumeArgs] = (),
    volume_mounts: Sequence[k8s.core.v1.VolumeMountArgs] = (),
    spread_match_label_keys: Sequence[str] = (),
    service_account_name: pulumi.Input[str] | None = None,
    component_labels: Mapping[str, str] | None = None,
) -> k8s.core.v1.PodTemplateSpecArgs:
    """The pod template of a workload named `app_name`, with every default of this module applied.

    `volumes`/`volume_mounts` add the component's own volumes (e.g. a StatefulStore's data claim);
    `spread_match_label_keys` scopes topology spread (Deployments pass `pod-template-hash` so a rollout is
    spread on its own instead of against the old ReplicaSet's pods); `service_account_name` is the account the
    component made for the workload (`args.service_account_name` wins when set); `component_labels` are the
    component's own pod labels (e.g. StatefulStore's `STORE_LABEL`)."""
    opt_out = args.security_opt_out
    as_root = args.runs_as_root
    annotations = dict(args.pod_annotations)
    if opt_out is not None:
        annotations[SECURITY_OPT_OUT_ANNOTATION] = opt_out.reason
    if args.probes_disabled_reason is not None:
        annotations[PROBES_DISABLED_ANNOTATION] = args.probes_disabled_reason
    if args.connects_to:
        annotations[CONNECTS_TO_ANNOTATION] = connects_to_annotation(args.connects_to)
    low_ports = [port for port in args.container_ports() if port < PRIVILEGED_PORTS_END]
    sysctls = None
    if low_ports and not as_root:
        sysctls = [k8s.core.v1.SysctlArgs(name=UNPRIVILEGED_PORT_START, value=str(min(low_ports)))]

    all_volumes = [
        k8s.core.v1.VolumeArgs(name=f"writable-{i}", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())
        for i, _ in enumerate(args.writable_paths)
    ]
    mounts = [k8s.core.v1.VolumeMountArgs(name=f"writable-{i}", mount_path=path)
              for i, path in enumerate(args.writable_paths)]
    for i, secret_file in enumerate(args.secret_files):
        items = None
        if secret_file.items is not None:
            items = [k8s.core.v1.KeyToPathArgs(key=key, path=path) for key, path in secret_file.items.items()]
        all_volumes.append(k8s.core.v1.VolumeArgs(
            name=f"secret-{i}",
            secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=secret_file.secret_name,
                                                      default_mode=secret_file.mode, items=items),
        ))
        mounts.append(k8s.core.v1.VolumeMountArgs(name=f"secret-{i}", mount_path=secret_file.mount_path,
                                                  read_only=True))
    store = args.secret_store
    if store is not None:
        all_volumes.append(k8s.core.v1.VolumeArgs(
            name=SECRET_STORE_VOLUME,
            csi=k8s.core.v1.CSIVolumeSourceArgs(driver=SECRETS_STORE_CSI_DRIVER, read_only=True,
                                                volume_attributes={"secretProviderClass": store.provider_class}),
        ))
        mounts.append(k8s.core.v1.VolumeMountArgs(name=SECRET_STORE_VOLUME, mount_path=store.mount_path,
                                                  read_only=True))
    all_volumes += volumes
    mounts += volume_mounts

    ports = []
    if args.port is not None:
        ports.append(k8s.core.v1.ContainerPortArgs(name=args.port_name, container_port=args.port, protocol="TCP"))
    ports += [k8s.core.v1.ContainerPortArgs(name=p.name, container_port=p.port, protocol=p.protocol)
              for p in args.extra_ports]

    readiness, liveness, startup = args.probes()
    container = k8s.core.v1.ContainerArgs(
        name=args.container_name or app_name,
        image=args.image,
        image_pull_policy=args.image_pull_policy,
        command=list(args.command) if args.command is not None else None,
        args=list(args.args) if args.args is not None else None,
        ports=ports or None,
        env=_env(args) or None,
        resources=_resources(args.resources),
        readiness_probe=_probe(readiness, args.port),
        liveness_probe=_probe(liveness, args.port),
        startup_probe=_probe(startup, args.port),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            privileged=False,
            read_only_root_filesystem=not (opt_out and opt_out.writable_root_filesystem),
            capabilities=k8s.core.v1.CapabilitiesArgs(
                drop=["ALL"], add=list(opt_out.add_capabilities) if opt_out and opt_out.add_capabilities else None
            ),
        ),
        volume_mounts=mounts or None,
    )
    match = selector_labels(app_name, args.instance_label)
    spread = [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=match),
            match_label_keys=list(spread_match_label_keys) or None,
            **_spread_rule(hard=args.zone_spread == "hard" and key == ZONE_TOPOLOGY_KEY),
        )
        for key in SPREAD_TOPOLOGY_KEYS
    ]
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            # Recommended labels win (they carry the selector); pod_labels refine `labels` on pods.
            labels={**args.labels, **args.pod_labels, **(store.pod_labels if store else {}), **(component_labels or {}),
                    **recommended_labels(app_name, args.instance_label, args.component, args.part_of)},
            annotations=annotations or None,
        ),
        spec=k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            enable_service_links=False,
            service_account_name=args.service_account_name or service_account_name,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=not as_root,
                run_as_user=0 if as_root else args.run_as_user,
                run_as_group=0 if as_root else args.run_as_group,
                fs_group=args.fs_group if args.fs_group is not None or as_root else args.run_as_group,
                # Skip the recursive chown of volumes whose root already has the right group.
                fs_group_change_policy="OnRootMismatch",
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                sysctls=sysctls,
            ),
            containers=[container],
            volumes=all_volumes or None,
            topology_spread_constraints=spread,
        ),
    )


def disruption_budget(resource_name: str, args: WorkloadArgs, *, app_name: str,
                      opts: pulumi.ResourceOptions) -> k8s.policy.v1.PodDisruptionBudget:
    """PDB allowing one voluntary disruption (node drain, upgrade) at a time."""
    return k8s.policy.v1.PodDisruptionBudget(
        resource_name,
        metadata=object_meta(args, name=app_name, app_name=app_name),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1,
            selector=selector(args, app_name),
            # Crash-looping pods may be evicted, so a broken release cannot block node drains.
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
        opts=opts,
    )


def workload_service_account(resource_name: str, args: WorkloadArgs, *, app_name: str,
                             opts: pulumi.ResourceOptions) -> pulumi.Input[str]:
    """The account the workload's pods run as: `args.service_account_name`, else a ServiceAccount named like
    the workload (child `resource_name`), made here."""
    if args.service_account_name is not None:
        return args.service_account_name
    annotations = dict(args.annotations)
    if args.secret_store is not None:
        annotations.update(args.secret_store.service_account_annotations)
    account = service_account(resource_name, name=app_name, namespace=args.namespace,
                              labels=object_labels(args, app_name), annotations=annotations, opts=opts)
    return account.metadata.name


def workload_network_policies(resource_name: str, args: WorkloadArgs, *, app_name: str,
                              inbound: Sequence[Rule] = (), peer_ports: Sequence[int] = (),
                              opts: pulumi.ResourceOptions) -> list[k8s.networking.v1.NetworkPolicy]:
    """The workload's NetworkPolicies (network_policy.workload_policies): its `connects_to`, what reaches it
    from outside (`inbound`, derived by the component) and the ports its own pods dial on each other."""
    traffic = WorkloadTraffic(
        workload=app_name,
        namespace=args.namespace,
        pod_labels=selector_labels(app_name, args.instance_label),
        connects_to=tuple(args.connects_to),
        inbound=tuple(inbound),
        peer_ports=tuple(peer_ports),
    )
    return workload_policies(resource_name, traffic, labels=object_labels(args, app_name),
                             annotations=args.annotations, opts=opts)
