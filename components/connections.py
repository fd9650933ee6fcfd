"""Declared traffic: the `Endpoint`s a component offers and the `Connection`s a workload makes to them.

An `Endpoint` is what clients dial (`host:port`: a Service, or one pod under a headless Service) together with
what the network sees once the Service has translated the address: the pods behind it (`pod_labels` in
`namespace`) and the port they listen on (`target_port`). NetworkPolicies match pods and pod ports, never
Service addresses, so both halves are needed. Components publish theirs as outputs (`StatelessService.endpoint`,
`StatefulStore.endpoint` and `.primary`, `ObjectStore.endpoint`); pods that a component does not create (an
operator's) are described by hand, next to the reason.

A `Connection` is a workload's declaration that its pods dial an endpoint (`WorkloadArgs.connects_to`). The
component turns each one into everything that follows from it, so an address is typed once:
- the env vars that carry the address (`env`: templates over `{host}`, `{port}`, `{namespace}`, `{fqdn}`);
- an egress rule on the client's pods and an ingress rule on the endpoint's pods (network_policy.py);
- the pod annotation `aks-microservices/connects-to` (`host:port`, comma-separated), drawn by the summary.

Data flow is declared too. A replicated store whose replicas refuse writes offers a write endpoint (the
primary) and a read endpoint (`read_only`: replicas answer, writes fail there, e.g. Redis `READONLY`, a MySQL
secondary's `super_read_only`) naming its `write_endpoint`. Every connection says whether its client writes
(`writes`, presumed True: a reader says so); a writer connected to a read endpoint is refused when the
workload's args are built, naming the client, the endpoint and the write endpoint to use instead.

The address Outputs a component publishes (`host`, `primary_host`, and its endpoints' `host`) remember the
endpoint they address (`publish`): a workload that puts one in `env` without declaring a connection to that
endpoint in `connects_to` is refused at construction, since its NetworkPolicy would let it reach nothing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from . import _checks as c

CONNECTS_TO_ANNOTATION = "aks-microservices/connects-to"
# The attribute, on an address Output a component publishes, holding the Endpoint it addresses.
_PUBLISHED_ENDPOINT = "_aks_microservices_endpoint"
# What an env template may use: the host clients dial, its port, the endpoint's namespace and the full DNS name.
TEMPLATE_FIELDS = ("host", "port", "namespace", "fqdn")
PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """Something pods connect to. `host`/`port`: the name and port clients dial (`host` is relative to the
    namespace: a Service name, or `<pod>.<headless Service>`); `workload`: the name of the workload whose pods
    serve it; `pod_labels` select those pods in `namespace`; `target_port`: the port they listen on (default
    `port`; a Service may translate one to the other)."""

    host: pulumi.Input[str]
    port: int
    namespace: pulumi.Input[str]
    workload: str
    pod_labels: Mapping[str, str]
    target_port: int | None = None
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    # A read endpoint of a replicated store: why writes fail there, and where writers connect instead.
    read_only: str | None = None
    write_endpoint: Endpoint | None = None
    # How error messages name it (default: `host:port` when the host is a plain string).
    label: str | None = None

    def __post_init__(self) -> None:
        owner = "Endpoint"
        c.check_str(owner, "host", self.host)
        c.check_port(owner, "port", self.port)
        c.check_str(owner, "namespace", self.namespace)
        c.check_dns_label(owner, "namespace", self.namespace)
        c.check_dns_label(owner, "workload", self.workload)
        c.check_labels(owner, "pod_labels", self.pod_labels)
        if not self.pod_labels:
            # An empty selector is every pod of the namespace: never what an endpoint means.
            c.fail(owner, "pod_labels", "at least one label selecting the endpoint's pods", self.pod_labels)
        if self.target_port is not None:
            c.check_port(owner, "target_port", self.target_port)
        c.check_one_of(owner, "protocol", self.protocol, PROTOCOLS)
        if self.read_only is not None:
            if not isinstance(self.read_only, str) or not self.read_only.strip():
                c.fail(owner, "read_only", "None or a reason why writes fail through this endpoint", self.read_only)
            c.check_type(owner, "write_endpoint", self.write_endpoint, Endpoint)
            if self.write_endpoint.read_only is not None:
                c.fail(owner, "write_endpoint", "an endpoint that accepts writes (read_only None)",
                       self.write_endpoint.name)
        elif self.write_endpoint is not None:
            c.fail(owner, "write_endpoint", "None unless read_only is set (this endpoint accepts writes)",
                   self.write_endpoint.name)
        if self.label is not None:
            c.check_str(owner, "label", self.label)

    @property
    def name(self) -> str:
        """How messages name the endpoint: `label`, else `host:port`, else the serving workload."""
        if self.label is not None:
            return self.label
        if isinstance(self.host, str):
            return f"{self.host}:{self.port}"
        return f"{self.workload}:{self.port}"

    @property
    def pod_port(self) -> int:
        """The port the pods listen on: what NetworkPolicies allow."""
        return self.target_port or self.port

    @property
    def address(self) -> pulumi.Input[str]:
        """`host:port`, as clients dial it."""
        return self._published_like_host(_join(self.host, f":{self.port}"))

    def render(self, template: str) -> pulumi.Input[str]:
        """`template` with `{host}`, `{port}`, `{namespace}` and `{fqdn}` filled in (an Output when any is)."""
        def fill(host: str, namespace: str) -> str:
            return template.format(host=host, port=self.port, namespace=namespace,
                                   fqdn=f"{host}.{namespace}.svc.cluster.local")

        if isinstance(self.host, str) and isinstance(self.namespace, str):
            return fill(self.host, self.namespace)
        return self._published_like_host(
            pulumi.Output.all(self.host, self.namespace).apply(lambda parts: fill(parts[0], parts[1])))

    def _published_like_host(self, value: pulumi.Input[str]) -> pulumi.Input[str]:
        # An address derived here from a published host is as much the component's address as the host.
        return publish(value, self) if published_endpoint(self.host) is self else value


@dataclass(frozen=True, kw_only=True)
class Connection:
    """The workload's pods dial `to`. `env` names the env vars that carry the address, each a template over
    `{host}`, `{port}`, `{namespace}` and `{fqdn}` (e.g. `{"MONGO_URL": "mongodb://{host}:{port}/dev"}`); leave
    it empty when the image has the address baked in. `writes`: whether the client sends writes through this
    connection (presumed: a client that only reads says `writes=False`); `finds_primary`: the client discovers
    the primary from the store's own metadata and sends writes only there (an InnoDBCluster's router and
    operator), so it may dial a read endpoint although it writes."""

    to: Endpoint
    env: Mapping[str, str] = field(default_factory=dict)
    writes: bool = True
    finds_primary: bool = False

    def __post_init__(self) -> None:
        owner = "Connection"
        c.check_type(owner, "to", self.to, Endpoint)
        c.check_bool(owner, "writes", self.writes)
        c.check_bool(owner, "finds_primary", self.finds_primary)
        c.check_mapping(owner, "env", self.env)
        for name, template in self.env.items():
            c.check_pattern(owner, "env", name, c.C_IDENTIFIER,
                            "env names that are C identifiers ([A-Za-z_][A-Za-z0-9_]*)", max_len=1024)
            check_template(owner, f"env[{name!r}]", template)

    def env_values(self) -> dict[str, pulumi.Input[str]]:
        return {name: self.to.render(template) for name, template in self.env.items()}


def publish(address: pulumi.Input[str], endpoint: Endpoint) -> pulumi.Input[str]:
    """Mark `address`, an Output the component created, as an address of `endpoint`; returns it. A plain
    string cannot carry the mark and is returned as it is."""
    if isinstance(address, pulumi.Output):
        vars(address)[_PUBLISHED_ENDPOINT] = endpoint
    return address


def published_endpoint(value: object) -> Endpoint | None:
    """The endpoint `value` is the published address of (see `publish`), else None. Only the Output itself
    carries the mark: a value derived from it (`apply`, `Output.concat`) does not."""
    # vars(): attribute access on an Output lifts to an Output of the attribute instead of failing.
    return vars(value).get(_PUBLISHED_ENDPOINT) if isinstance(value, pulumi.Output) else None


def published(endpoint: Endpoint) -> Endpoint:
    """`endpoint`, with its host marked as its address (`publish`)."""
    publish(endpoint.host, endpoint)
    return endpoint


def check_env_connections(owner: str, env: Mapping[str, object], connections: Sequence[Connection]) -> None:
    """Every env value that is a component's published address must come with a connection to its workload."""
    connected = {connection.to.workload for connection in connections}
    for name, value in env.items():
        endpoint = published_endpoint(value)
        if endpoint is not None and endpoint.workload not in connected:
            raise c.InvalidArgsError(
                f"{owner}.env[{name!r}]: the address of {endpoint.workload}, with no connection to it in connects_to "
                "(its NetworkPolicy would let the pods reach nothing): declare connects_to=[Connection(to=<the "
                f"{endpoint.workload} component>.endpoint, env={{{name!r}: \"{{fqdn}}\"}})] instead of the env value")


def check_template(owner: str, field_name: str, template: object) -> None:
    expected = f"a string using only {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
    if not isinstance(template, str):
        c.fail(owner, field_name, expected, template)
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError:
        c.fail(owner, field_name, expected, template)
    if any(name not in TEMPLATE_FIELDS for name in fields):
        c.fail(owner, field_name, expected, template)


def check_connections(owner: str, field_name: str, connections: object, *, client: str | None = None) -> None:
    """Each a Connection, each env var set once, no writer on a read endpoint (`client` names the workload)."""
    c.check_sequence(owner, field_name, connections)
    env_names: set[str] = set()
    for connection in connections:
        c.check_type(owner, field_name, connection, Connection)
        check_data_flow(owner, field_name, connection, client=client)
        for name in connection.env:
            if name in env_names:
                c.fail(owner, field_name, "each env var set by one connection", name)
            env_names.add(name)


def check_data_flow(owner: str, field_name: str, connection: Connection, *, client: str | None = None) -> None:
    """A client that writes must reach the store's write endpoint: on a read endpoint its writes would fail."""
    target = connection.to
    if target.read_only is None or not connection.writes or connection.finds_primary:
        return
    who = f"{client} writes" if client else "a writer"
    raise c.InvalidArgsError(
        f"{owner}.{field_name}: {who} through {target.name}, a read-only endpoint of {target.workload} "
        f"({target.read_only}); connect writers to its write endpoint {target.write_endpoint.name}, "
        "or declare writes=False if this connection only reads"
    )


def connection_env(connections: Sequence[Connection]) -> dict[str, pulumi.Input[str]]:
    """Every env var the connections set."""
    env: dict[str, pulumi.Input[str]] = {}
    for connection in connections:
        env.update(connection.env_values())
    return env


def connects_to_annotation(connections: Sequence[Connection]) -> pulumi.Input[str]:
    """`host:port` of every connection, comma-separated, in declaration order (duplicates once)."""
    addresses = [connection.to.address for connection in connections]
    if all(isinstance(a, str) for a in addresses):
        return ",".join(dict.fromkeys(addresses))
    return pulumi.Output.all(*addresses).apply(lambda parts: ",".join(dict.fromkeys(parts)))


def _join(value: pulumi.Input[str], suffix: str) -> pulumi.Input[str]:
    if isinstance(value, str):
        return value + suffix
    return pulumi.Output.concat(value, suffix)
