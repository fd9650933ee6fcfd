"""NetworkPolicy: nothing moves unless a declaration says so.

- `NamespaceIsolation`: per app namespace, `default-deny` (every pod isolated for ingress and egress, no rule)
  and `allow-dns` (every pod may query kube-dns, UDP and TCP 53).
- `workload_policies`: the allow rules one workload's declarations imply:
  - NetworkPolicy `<workload>` on its own pods: ingress from outside (`inbound`, derived by the components from
    the Service type and the Ingress) and from its own pods (`peer_ports`); egress to every endpoint it
    connects to, to its own pods (`peer_ports`) and anything else it needs (`outbound`, e.g. the API server),
    and, with any of those, to kube-dns (to resolve the names it dials: the policy works on its own, without
    a `NamespaceIsolation` in the namespace);
  - NetworkPolicy `<workload>-to-<target>` on each target's pods (in the target's namespace): ingress from the
    workload's pods on the target's ports. The client owns both halves of a connection.

Peers name pods by labels and their namespace by `kubernetes.io/metadata.name`, which the API server sets on
every namespace. Ports are the pods' own (a Service's targetPort): policies see traffic after Service
translation. Two things policies cannot say precisely, documented where they are used: traffic from outside
the cluster is allowed from `0.0.0.0/0` (an `ipBlock` matches addresses outside the pod network), and the
Kubernetes API server, outside the pod network too, is reached the same way on its port.
Kubelet probes come from the node itself, which NetworkPolicy implementations always allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from . import _checks as c
from .connections import PROTOCOLS, Connection, check_data_flow

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
ANYWHERE = "0.0.0.0/0"
DNS_PORT = 53
DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"
BOTH_DIRECTIONS = ["Ingress", "Egress"]


@dataclass(frozen=True, kw_only=True)
class Peer:
    """Pods labelled `pod_labels` (None: every pod) in namespace `namespace`, or the addresses of `cidr`."""

    namespace: pulumi.Input[str] | None = None
    pod_labels: Mapping[str, str] | None = None
    cidr: str | None = None

    def __post_init__(self) -> None:
        if (self.cidr is None) == (self.namespace is None):
            c.fail("Peer", "namespace", "a namespace (pods) or a cidr (addresses), not both", self.namespace)
        if self.cidr is not None and self.pod_labels is not None:
            c.fail("Peer", "pod_labels", "None with a cidr", self.pod_labels)
        if self.pod_labels is not None:
            c.check_labels("Peer", "pod_labels", self.pod_labels)

    @classmethod
    def pods(cls, namespace: pulumi.Input[str], pod_labels: Mapping[str, str] | None = None) -> Peer:
        return cls(namespace=namespace, pod_labels=dict(pod_labels) if pod_labels is not None else None)

    @classmethod
    def outside(cls, cidr: str = ANYWHERE) -> Peer:
        return cls(cidr=cidr)

    def to_args(self) -> k8s.networking.v1.NetworkPolicyPeerArgs:
        if self.cidr is not None:
            return k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=self.cidr))
        return k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: self.namespace}),
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(self.pod_labels))
            if self.pod_labels is not None else None,
        )


# The cluster DNS: CoreDNS pods (label `k8s-app: kube-dns`, kept for compatibility) in kube-system.
KUBE_DNS = Peer.pods("kube-system", {"k8s-app": "kube-dns"})


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Traffic with `peer` on each of `ports`, with each of `protocols`."""

    peer: Peer
    ports: tuple[int, ...]
    protocols: tuple[str, ...] = ("TCP",)

    def __post_init__(self) -> None:
        c.check_type("Rule", "peer", self.peer, Peer)
        if not self.ports:
            # An empty port list would allow every port: say which ones.
            c.fail("Rule", "ports", "at least one port", self.ports)
        for port in self.ports:
            c.check_port("Rule", "ports", port)
        for protocol in self.protocols:
            c.check_one_of("Rule", "protocols", protocol, PROTOCOLS)

    def port_args(self) -> list[k8s.networking.v1.NetworkPolicyPortArgs]:
        return [k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol=protocol)
                for port in sorted(set(self.ports)) for protocol in self.protocols]


# Name lookups, on both protocols DNS uses (TCP for large answers).
DNS_RULE = Rule(peer=KUBE_DNS, ports=(DNS_PORT,), protocols=("UDP", "TCP"))


def _merged(rules: Sequence[Rule]) -> list[Rule]:
    """One rule per peer, in first-seen order, with the union of its ports (for one protocol set)."""
    merged: dict[tuple, Rule] = {}
    for rule in rules:
        key = (_peer_key(rule.peer), rule.protocols)
        if key in merged:
            merged[key] = Rule(peer=rule.peer, ports=(*merged[key].ports, *rule.ports), protocols=rule.protocols)
        else:
            merged[key] = rule
    return list(merged.values())


def _peer_key(peer: Peer) -> tuple:
    # Outputs cannot be compared: peers in an Output namespace merge only with themselves (still correct).
    namespace = peer.namespace if isinstance(peer.namespace, str) or peer.namespace is None else id(peer.namespace)
    labels = tuple(sorted(peer.pod_labels.items())) if peer.pod_labels is not None else None
    return namespace, labels, peer.cidr


def network_policy(
    resource_name: str,
    *,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    pod_labels: Mapping[str, str],
    labels: Mapping[str, str],
    annotations: Mapping[str, pulumi.Input[str]] | None = None,
    ingress: Sequence[Rule] = (),
    egress: Sequence[Rule] = (),
    policy_types: Sequence[str] = BOTH_DIRECTIONS,
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """A NetworkPolicy isolating the pods `pod_labels` selects (`{}`: every pod) in the `policy_types`
    directions, allowing exactly `ingress` and `egress`. Policies add up: a connection is allowed when some
    policy allows it at the sender (egress) and some policy allows it at the receiver (ingress)."""
    return k8s.networking.v1.NetworkPolicy(
        resource_name,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels),
                                            annotations=dict(annotations) if annotations else None),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pod_labels) or None),
            policy_types=list(policy_types),
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=[r.peer.to_args()], ports=r.port_args())
                     for r in _merged(ingress)] or None,
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=[r.peer.to_args()], ports=r.port_args())
                    for r in _merged(egress)] or None,
        ),
        opts=opts,
    )


class NamespaceIsolation(pulumi.ComponentResource):
    """NetworkPolicies `default-deny` (every pod of `namespace`, both directions, nothing allowed) and
    `allow-dns` (every pod may query kube-dns). Children: `<name>-default-deny`, `<name>-allow-dns`."""

    default_deny: k8s.networking.v1.NetworkPolicy
    allow_dns: k8s.networking.v1.NetworkPolicy

    def __init__(self, name: str, *, namespace: pulumi.Input[str], labels: Mapping[str, str],
                 opts: pulumi.ResourceOptions | None = None):
        """Declare both policies for `namespace`, labelled `labels`; `opts` are the component's resource
        options, inherited by both children."""
        super().__init__("aks-microservices:components:NamespaceIsolation", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.default_deny = network_policy(f"{name}-default-deny", name=DEFAULT_DENY, namespace=namespace,
                                           pod_labels={}, labels=labels, opts=child)
        self.allow_dns = network_policy(
            f"{name}-allow-dns", name=ALLOW_DNS, namespace=namespace, pod_labels={}, labels=labels,
            egress=[DNS_RULE], policy_types=["Egress"], opts=child,
        )
        self.register_outputs({})


@dataclass(frozen=True, kw_only=True)
class WorkloadTraffic:
    """Everything one workload's pods may send and receive. `pod_labels` select its pods in `namespace`;
    `connects_to` are its declared connections; `inbound` the traffic that reaches it from elsewhere (outside,
    an ingress controller); `peer_ports` the ports its pods dial on each other (replication); `outbound` other
    egress (addresses outside the cluster)."""

    workload: str
    namespace: pulumi.Input[str]
    pod_labels: Mapping[str, str]
    connects_to: Sequence[Connection] = ()
    inbound: Sequence[Rule] = ()
    outbound: Sequence[Rule] = ()
    peer_ports: Sequence[int] = field(default=())

    def __post_init__(self) -> None:
        owner = "WorkloadTraffic"
        c.check_dns_label(owner, "workload", self.workload)
        c.check_labels(owner, "pod_labels", self.pod_labels)
        if not self.pod_labels:
            c.fail(owner, "pod_labels", "labels selecting the workload's pods (not every pod)", self.pod_labels)
        for name in ("connects_to", "inbound", "outbound", "peer_ports"):
            c.check_sequence(owner, name, getattr(self, name))
        selectors: dict[str, dict] = {}
        for connection in self.connects_to:
            c.check_type(owner, "connects_to", connection, Connection)
            check_data_flow(owner, "connects_to", connection, client=self.workload)
            labels = selectors.setdefault(connection.to.workload, dict(connection.to.pod_labels))
            if labels != dict(connection.to.pod_labels):
                c.fail(owner, "connects_to", f"one pod selector per target workload ({labels})",
                       dict(connection.to.pod_labels))
        for rule in (*self.inbound, *self.outbound):
            c.check_type(owner, "inbound/outbound", rule, Rule)
        for port in self.peer_ports:
            c.check_port(owner, "peer_ports", port)

    @property
    def own_pods(self) -> Peer:
        return Peer.pods(self.namespace, self.pod_labels)


def workload_policies(resource_name: str, traffic: WorkloadTraffic, *, labels: Mapping[str, str],
                      annotations: Mapping[str, pulumi.Input[str]] | None = None,
                      opts: pulumi.ResourceOptions) -> list[k8s.networking.v1.NetworkPolicy]:
    """NetworkPolicy `<workload>` (child `<resource_name>-network-policy`) and one `<workload>-to-<target>` per
    target workload (child `<resource_name>-to-<target>`); see the module docstring."""
    peers = [Rule(peer=traffic.own_pods, ports=tuple(traffic.peer_ports))] if traffic.peer_ports else []
    egress = [Rule(peer=Peer.pods(conn.to.namespace, conn.to.pod_labels), ports=(conn.to.pod_port,),
                   protocols=(conn.to.protocol,)) for conn in traffic.connects_to]
    # A connection to its own endpoint (siblings through their Service) is let in by its own policy.
    peers += [Rule(peer=traffic.own_pods, ports=(conn.to.pod_port,), protocols=(conn.to.protocol,))
              for conn in traffic.connects_to if conn.to.workload == traffic.workload]
    egress = [*egress, *peers, *traffic.outbound]
    if egress:  # it dials names: Services, pods under a headless Service, hosts outside
        egress.append(DNS_RULE)
    policies = [network_policy(
        f"{resource_name}-network-policy", name=traffic.workload, namespace=traffic.namespace,
        pod_labels=traffic.pod_labels, labels=labels, annotations=annotations, ingress=[*traffic.inbound, *peers],
        egress=egress, opts=opts,
    )]
    targets: dict[str, list[Connection]] = {}
    for connection in traffic.connects_to:
        targets.setdefault(connection.to.workload, []).append(connection)
    for target, connections in targets.items():
        if target == traffic.workload:
            continue  # its own pods: let in above
        endpoint = connections[0].to
        policies.append(network_policy(
            f"{resource_name}-to-{target}", name=f"{traffic.workload}-to-{target}", namespace=endpoint.namespace,
            pod_labels=endpoint.pod_labels, labels=labels, annotations=annotations,
            ingress=[Rule(peer=traffic.own_pods, ports=(conn.to.pod_port,), protocols=(conn.to.protocol,))
                     for conn in connections],
            # Only the target's ingress: its egress is its own declaration.
            policy_types=["Ingress"], opts=opts,
        ))
    return policies
