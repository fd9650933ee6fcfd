"""Bad input to the components: any arguments either render schema-valid objects or raise InvalidArgsError.

Each example is drawn in one of two modes: plausible (every field from the range the component documents as
allowed, so the component renders and strict schema validation checks the objects) or hostile (any field may
be wrong: names, ports, replicas, quantities, env names, labels, probes, storage...). Either the Args (or a
value type) refuses the input with the components' one-line `Owner.field: expected ..., got ...` error, or the
component renders objects that pass strict schema validation. No other exception type, ever.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from components import (
    AutoscaledApp,
    AutoscaledAppArgs,
    ContainerPort,
    EnvFromSecret,
    ExecProbe,
    HttpProbe,
    IngressPath,
    IngressRule,
    InvalidArgsError,
    ObjectStore,
    ObjectStoreArgs,
    PerReplicaStorage,
    Resources,
    SecretFile,
    SecurityOptOut,
    SharedStorage,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
    TcpProbe,
)
from offline.engine import run
from offline.validate import validate_object

KUBERNETES_VERSION = "1.33"
# Half of the profile's examples: each valid example renders a component (the whole suite must stay under 60 s).
RENDERING = settings(max_examples=30)
ONE_LINE_ERROR = re.compile(r"[A-Z][A-Za-z]+\.[^\n:]+: expected [^\n]+, got [^\n]*")

# Text as YAML config and Python code can carry it (no lone surrogates).
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
# Wrong values of every JSON-ish type (hashable: some become dict keys); lists go where lists are expected.
anything = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False), text)
anything_or_list = st.one_of(anything, st.lists(st.integers(), max_size=2))
LOWER, DIGITS = "abcdefghijklmnopqrstuvwxyz", "0123456789"


def word(first: str, middle: str, last: str, max_middle: int, optional_tail: bool = True) -> st.SearchStrategy:
    """`first` + up to `max_middle` of `middle` + `last` (a cheap stand-in for from_regex)."""
    tail = st.tuples(st.text(alphabet=middle, max_size=max_middle), st.sampled_from(last)).map("".join)
    return st.tuples(st.sampled_from(first), st.one_of(st.just(""), tail) if optional_tail else tail).map("".join)




class Field:
    """A field's allowed values, and what a hostile example may put there instead."""

    def __init__(self, valid: st.SearchStrategy, invalid: st.SearchStrategy = anything):
        self.valid, self.invalid = valid, st.one_of(invalid, anything)

    def draw(self, draw, hostile: bool):
        if hostile and draw(st.integers(0, 5)) == 0:
            return draw(self.invalid)
        return draw(self.valid)


NAME = Field(word(LOWER, LOWER + DIGITS + "-", LOWER + DIGITS, 61), st.sampled_from(["", "-web", "Web", "a" * 64, "web_1", "9web"]))
PORT = Field(st.integers(1, 65535), st.sampled_from([0, -1, 65536, True, "80"]))
PORT_NAME = Field(word(LOWER, LOWER + DIGITS + "-", LOWER + DIGITS, 12), st.sampled_from(["", "a" * 16, "Main"]))
LABEL_VALUE = Field(st.one_of(st.just(""), word(LOWER + DIGITS + "ABC", LOWER + DIGITS + "-_.", LOWER + DIGITS, 20)),
                    st.sampled_from(["-x", "a b", "x" * 64]))
LABEL_KEY = Field(st.tuples(st.sampled_from(["", "example.io/", "team.example.com/"]),
                           word(LOWER, LOWER + DIGITS + "-", LOWER + DIGITS, 8)).map("".join),
                  st.sampled_from(["bad key", "/x", "a/b/c", "app.kubernetes.io/name"]))
ENV_NAME = Field(word(LOWER.upper() + "_x", LOWER.upper() + DIGITS + "_", LOWER.upper() + DIGITS + "_", 12),
                 st.sampled_from(["1X", "A-B", "", "A B", "DB_PASSWORD"]))
PATH = Field(st.lists(word(LOWER, LOWER + DIGITS + "._-", LOWER + DIGITS, 8), min_size=1, max_size=3).map(
                 lambda parts: "/" + "/".join(parts)),
             st.sampled_from(["tmp", "/", "/a/../b", "C:/x", ""]))
CPU_REQUEST = Field(st.sampled_from(["10m", "50m", "100m", "0.1", "0.25"]), st.sampled_from(["-1", "1.5.0", "2"]))
CPU_LIMIT = Field(st.sampled_from(["500m", "1", "2", "1500m", "1e0"]), st.sampled_from(["m", "1 CPU"]))
MEMORY_REQUEST = Field(st.sampled_from(["64Mi", "128Mi", "256M", "0.1Gi", "100000Ki"]), st.sampled_from(["12mb", "Mi"]))
MEMORY_LIMIT = Field(st.sampled_from(["512Mi", "1Gi", "1G", "768Mi"]), st.sampled_from(["64Mi", " 1Gi", "-1"]))
SIZE = Field(st.sampled_from(["256Mi", "500M", "1Gi", "5Gi", "2G", "1e9"]), st.sampled_from(["5 GB", "Gi", "-1Gi"]))
IMAGE = Field(st.sampled_from(["nginx:1.27", "repo.example.com:5000/team/app:v1", "redis", "app@sha256:" + "a" * 64]),
              st.sampled_from(["bad image", "", " "]))

ZONE_SPREAD = Field(st.sampled_from(["soft", "hard"]), st.sampled_from(["DoNotSchedule", "Hard", ""]))
REASON = Field(st.sampled_from(["one H2 server, no replication", "a demo"]), st.sampled_from(["", "  "]))


@st.composite
def resources(draw, hostile: bool):
    values = {"cpu_request": CPU_REQUEST.draw(draw, hostile) if draw(st.integers(0, 3)) else None,
              "memory_request": MEMORY_REQUEST.draw(draw, hostile), "cpu_limit": CPU_LIMIT.draw(draw, hostile),
              "memory_limit": MEMORY_LIMIT.draw(draw, hostile)}
    return lambda: Resources(**values)


@st.composite
def probe(draw, hostile: bool, has_port: bool):
    kinds = ["none", "http", "tcp", "exec"] if has_port or hostile else ["none", "exec"]
    kind = draw(st.sampled_from(kinds))
    timing = {"initial_delay_seconds": draw(st.integers(-1 if hostile else 0, 30)),
              "period_seconds": draw(st.integers(0 if hostile else 1, 30)),
              "failure_threshold": draw(st.integers(0 if hostile else 1, 10))}
    probe_port = draw(st.one_of(st.none(), st.just(PORT.draw(draw, hostile))))
    if kind == "http":
        probe_path = draw(st.sampled_from(["/", "/health", "/api/v1?x=1"] + (["health"] if hostile else [])))
        return lambda: HttpProbe(path=probe_path, port=probe_port, **timing)
    if kind == "tcp":
        return lambda: TcpProbe(port=probe_port, **timing)
    if kind == "exec":
        command = draw(st.lists(st.text(alphabet="abcdefgh -", min_size=1, max_size=8), min_size=0 if hostile else 1,
                                max_size=3))
        return lambda: ExecProbe(command=command, **timing)
    return lambda: None


@st.composite
def workload_fields(draw, hostile: bool) -> dict:
    """The WorkloadArgs fields; value types come as thunks, built in the test (they may refuse their input)."""
    has_port = draw(st.booleans())
    port = PORT.draw(draw, hostile) if has_port else None
    fields = {
        "namespace": NAME.draw(draw, hostile),
        "part_of": LABEL_VALUE.draw(draw, hostile) or "shop",
        "component": LABEL_VALUE.draw(draw, hostile) or "api",
        "image": IMAGE.draw(draw, hostile),
        "port": port,
        "port_name": PORT_NAME.draw(draw, hostile),
        "labels": {LABEL_KEY.draw(draw, hostile): LABEL_VALUE.draw(draw, hostile) for _ in range(draw(st.integers(0, 2)))},
        "env": {ENV_NAME.draw(draw, hostile): draw(text if not hostile else anything_or_list)
                for _ in range(draw(st.integers(0, 3)))},
        "writable_paths": tuple({PATH.draw(draw, hostile) for _ in range(draw(st.integers(0, 2)))}),
        "run_as_user": draw(st.integers(1, 2**31 - 1)) if not hostile else draw(st.integers(-1, 2**31)),
        "container_name": draw(st.one_of(st.none(), st.just(NAME.draw(draw, hostile)))),
        "zone_spread": ZONE_SPREAD.draw(draw, hostile),
        "disruption_allowed": draw(st.one_of(st.none(), st.just(REASON.draw(draw, hostile)))),
    }
    # Keys that name a secret may not carry literals: only hostile examples try.
    if not hostile:
        fields["env"] = {k: v for k, v in fields["env"].items()
                         if not re.search(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY", k.upper())}
    readiness = draw(probe(hostile, has_port))
    thunks = {"resources": draw(resources(hostile)), "readiness_probe": readiness,
              "liveness_probe": draw(probe(hostile, has_port))}
    if not has_port and not hostile:
        # A container without a port needs an ExecProbe or a reason for having none.
        fields["probes_disabled_reason"] = "a queue worker with no port"
        thunks["readiness_probe"] = thunks["liveness_probe"] = lambda: None
    secret_name = NAME.draw(draw, hostile)
    if draw(st.booleans()):
        variable, key = ENV_NAME.draw(draw, hostile), draw(st.sampled_from(["password", "PGPASSWORD", "tls.key"]))
        thunks["env_from_secrets"] = lambda: {variable: EnvFromSecret(secret_name=secret_name, key=key)}
    if draw(st.booleans()):
        mount, mode = PATH.draw(draw, hostile), draw(st.sampled_from([0o400, 0o440, 0o644] + ([0o1000] if hostile else [])))
        thunks["secret_files"] = lambda: (SecretFile(secret_name=secret_name, mount_path=mount, mode=mode),)
    if has_port and draw(st.booleans()):
        extra_name, extra_port = PORT_NAME.draw(draw, hostile), PORT.draw(draw, hostile)
        thunks["extra_ports"] = lambda: (ContainerPort(name=extra_name, port=extra_port),)
    opt_out = draw(st.sampled_from([None, "root", "cap", "fs"]))
    if opt_out is not None:
        reason = draw(st.sampled_from(["the image binds port 80"] + (["", " "] if hostile else [])))
        thunks["security_opt_out"] = lambda: SecurityOptOut(
            reason=reason, run_as_root=opt_out == "root",
            add_capabilities=("NET_BIND_SERVICE",) if opt_out == "cap" else (),
            writable_root_filesystem=opt_out == "fs")
    return {"fields": fields, "thunks": thunks}


def _build(spec: dict, **extra) -> dict:
    return {**spec["fields"], **{key: make() for key, make in spec["thunks"].items()}, **extra}


def render_or_refuse(build_and_deploy) -> None:
    """The property: a one-line InvalidArgsError, or objects that pass strict schema validation."""
    try:
        recording = run(build_and_deploy)
    except InvalidArgsError as error:
        message = str(error)
        assert ONE_LINE_ERROR.fullmatch(message), message
        return
    objects = recording.k8s_objects()
    assert objects
    problems = {f"{o['kind']}/{o['metadata'].get('name')}": validate_object(o, KUBERNETES_VERSION) for o in objects}
    assert {k: v for k, v in problems.items() if v} == {}


@st.composite
def stateless_service(draw):
    hostile = draw(st.booleans())
    workload = draw(workload_fields(hostile))
    service_type = draw(st.sampled_from(["ClusterIP", "LoadBalancer", "NodePort", None]
                                        + (["Ingress"] if hostile else [])))
    if workload["fields"]["port"] is None and not hostile:
        service_type = None
    service = {
        "deployment_name": NAME.draw(draw, hostile),
        "service_type": service_type,
        "replicas": draw(st.one_of(st.none(), st.integers(-1 if hostile else 0, 12))),
        "node_port": draw(st.integers(29990, 32800)) if service_type == "NodePort" or (hostile and draw(st.booleans()))
        else None,
        "service_port": draw(st.one_of(st.none(), st.just(PORT.draw(draw, hostile)))) if service_type else None,
    }
    if not hostile and service["node_port"] is not None:
        service["node_port"] = min(max(service["node_port"], 30000), 32767)
    make_ingress = lambda: None  # noqa: E731
    if service_type and draw(st.booleans()):
        host = draw(st.one_of(st.none(), st.sampled_from(["shop.example.com", "*.example.com"]
                                                        + (["no_underscores.example.com", "localhost"] if hostile else []))))
        path_type = draw(st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"] + (["Regex"] if hostile else [])))
        paths = draw(st.lists(st.sampled_from(["/", "/api", "/?(.*)"] + (["api"] if hostile else [])),
                              min_size=0 if hostile else 1, max_size=2, unique=True))
        tls = draw(st.one_of(st.none(), st.just(NAME.draw(draw, hostile)))) if host else None
        make_ingress = lambda: IngressRule(  # noqa: E731
            class_name="nginx", controller_namespace="ingress-nginx", host=host, tls_secret_name=tls,
            paths=tuple(IngressPath(path=p, path_type=path_type) for p in paths))
    return workload, service, make_ingress


@RENDERING
@given(stateless_service())
def test_a_stateless_service_renders_valid_objects_or_refuses_its_arguments(drawn):
    workload, service, make_ingress = drawn
    render_or_refuse(lambda: StatelessService(
        "svc", StatelessServiceArgs(**_build(workload, ingress=make_ingress(), **service))))


@st.composite
def autoscaled_app(draw):
    hostile = draw(st.booleans())
    workload = draw(workload_fields(hostile))
    low = draw(st.integers(-1 if hostile else 1, 6))
    scaling = {"min_replicas": low, "max_replicas": draw(st.integers(-1 if hostile else low, 10)),
               "target_cpu_percent": draw(st.one_of(st.none(), st.integers(-5 if hostile else 1, 120))),
               "target_memory_percent": draw(st.one_of(st.none(), st.integers(-5 if hostile else 1, 120)))}
    if not hostile and scaling["target_cpu_percent"] is None:
        scaling["target_memory_percent"] = scaling["target_memory_percent"] or 80
    return workload, NAME.draw(draw, hostile), scaling


@RENDERING
@given(autoscaled_app())
def test_an_autoscaled_app_renders_valid_objects_or_refuses_its_arguments(drawn):
    workload, deployment, scaling = drawn
    render_or_refuse(lambda: AutoscaledApp("app", AutoscaledAppArgs(
        service=StatelessServiceArgs(**_build(workload, deployment_name=deployment, service_type=None)), **scaling)))


@st.composite
def stateful_store(draw):
    hostile = draw(st.booleans())
    workload = draw(workload_fields(hostile))
    workload["fields"]["port"] = workload["fields"]["port"] or draw(st.integers(1, 65535))
    replicas = draw(st.integers(-1 if hostile else 0, 5))
    storage = {"claim_name": NAME.draw(draw, hostile), "size": SIZE.draw(draw, hostile),
               "mount_path": PATH.draw(draw, hostile),
               "storage_class": draw(st.one_of(st.none(), st.sampled_from(["managed-retain-disk", "azurefile-csi"]))),
               "sub_path": draw(st.one_of(st.none(), st.sampled_from(["data", "pg/data"] + (["/abs", "../up"] if hostile
                                                                                           else []))))}
    modes = ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"] + (["RWX"] if hostile else [])
    if draw(st.booleans()):
        mode = draw(st.sampled_from(modes if hostile or replicas <= 1 else ["ReadWriteMany", "ReadOnlyMany"]))
        make_storage = lambda: SharedStorage(access_mode=mode, **storage)  # noqa: E731
    else:
        access_modes = tuple(draw(st.lists(st.sampled_from(modes), min_size=0 if hostile else 1, max_size=2, unique=True)))
        make_storage = lambda: PerReplicaStorage(access_modes=access_modes, **storage)  # noqa: E731
    service_name = draw(st.one_of(st.none(), st.just(NAME.draw(draw, hostile))))
    store = {"statefulset_name": NAME.draw(draw, hostile), "headless_service_name": NAME.draw(draw, hostile),
             "service_name": service_name, "replicas": replicas}
    return workload, store, make_storage


@RENDERING
@given(stateful_store())
def test_a_stateful_store_renders_valid_objects_or_refuses_its_arguments(drawn):
    workload, store, make_storage = drawn
    render_or_refuse(lambda: StatefulStore("store", StatefulStoreArgs(**_build(workload, storage=make_storage(),
                                                                             **store))))


@st.composite
def object_store(draw):
    hostile = draw(st.booleans())
    credential = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=30)
    if hostile:
        credential = st.one_of(credential, st.text(max_size=7), anything)
    fields = {"namespace": NAME.draw(draw, hostile), "part_of": LABEL_VALUE.draw(draw, hostile) or "knote",
              "service_name": draw(st.sampled_from(["minio", "objects"])) if not hostile else NAME.draw(draw, True),
              "port": PORT.draw(draw, hostile),
              "access_key": draw(st.one_of(st.none(), credential)), "secret_key": draw(st.one_of(st.none(), credential))}
    return fields, draw(resources(hostile))


@RENDERING
@given(object_store())
def test_an_object_store_renders_valid_objects_or_refuses_without_echoing_a_credential(drawn):
    fields, make_resources = drawn
    try:
        args = ObjectStoreArgs(resources=make_resources(), **fields)
    except InvalidArgsError as error:
        assert ONE_LINE_ERROR.fullmatch(str(error)), str(error)
        for key in ("access_key", "secret_key"):
            value = fields[key]
            if isinstance(value, str) and len(value) >= 2 and f".{key}:" in str(error):
                assert repr(value) not in str(error)
        return
    render_or_refuse(lambda: ObjectStore("objects", args))
