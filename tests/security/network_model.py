"""A small, independent model of Kubernetes NetworkPolicy semantics, to compute who can reach whom.

It reads NetworkPolicy manifests only (never the components' own tables) and answers `allows(src, dst, port)`
the way the API documents it (https://kubernetes.io/docs/concepts/services-networking/network-policies/):

- a pod is isolated for ingress (egress) when any policy in its namespace selects it and lists `Ingress`
  (`Egress`) in `policyTypes` (absent: `Ingress`, plus `Egress` when the policy has egress rules);
- a connection is allowed when the sender's egress allows it and the receiver's ingress allows it; an
  unisolated side allows everything; policies add up (any rule of any selecting policy suffices);
- a rule with no peers matches every peer, a rule with no ports every port; a peer is an `ipBlock`, a
  `podSelector` (pods of the policy's namespace), a `namespaceSelector` (every pod of the selected
  namespaces) or both (those pods of those namespaces); namespaces carry `kubernetes.io/metadata.name`;
- a port is a number (with an optional `endPort`) or a container port name of the receiving pod; protocol
  defaults to TCP;
- `ipBlock` matches addresses outside the pod network only: pods have no address here (the documented intent,
  and what Cilium, the AKS dataplane, implements), parties outside the cluster have one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
NAMESPACE_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Party:
    """Pods of one workload (`namespace` set) or something outside the pod network (`address` set)."""

    name: str
    namespace: str | None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)
    # (port, protocol) it listens on, and its named ports.
    ports: frozenset[tuple[int, str]] = frozenset()
    named_ports: Mapping[str, int] = field(default_factory=dict, hash=False, compare=False)
    address: str | None = None

    @property
    def in_pod_network(self) -> bool:
        return self.namespace is not None


def pod_template(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        return spec["jobTemplate"]["spec"]["template"]
    return spec["template"]


def workload_parties(objects: Iterable[dict]) -> list[Party]:
    """One party per rendered workload (`<namespace>/<name>`), with its pod labels and container ports."""
    parties = []
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        template = pod_template(obj)
        ports, named = set(), {}
        for container in template["spec"]["containers"]:
            for port in container.get("ports") or []:
                ports.add((port["containerPort"], port.get("protocol", "TCP")))
                if "name" in port:
                    named[port["name"]] = port["containerPort"]
        namespace = obj["metadata"]["namespace"]
        parties.append(Party(name=f"{namespace}/{obj['metadata']['name']}", namespace=namespace,
                             labels=dict(template["metadata"].get("labels") or {}), ports=frozenset(ports),
                             named_ports=named))
    return parties


def selects(selector: Mapping | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (`{}` selects everything; matchLabels and matchExpressions all must hold)."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


class NetworkModel:
    def __init__(self, policies: Iterable[dict], namespace_labels: Mapping[str, Mapping[str, str]] | None = None):
        self.policies = [p for p in policies if p["kind"] == "NetworkPolicy"]
        self.namespace_labels = dict(namespace_labels or {})

    def _namespace_labels(self, namespace: str) -> dict[str, str]:
        return {**self.namespace_labels.get(namespace, {}), NAMESPACE_NAME: namespace}

    @staticmethod
    def _types(policy: dict) -> list[str]:
        spec = policy["spec"]
        if "policyTypes" in spec:
            return spec["policyTypes"]
        return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]

    def selecting(self, party: Party, direction: str) -> list[dict]:
        """The policies that isolate `party` in `direction` (Ingress or Egress)."""
        if not party.in_pod_network:
            return []
        return [p for p in self.policies
                if p["metadata"]["namespace"] == party.namespace and direction in self._types(p)
                and selects(p["spec"].get("podSelector"), party.labels)]

    def _peer_matches(self, peer: dict, policy_namespace: str, other: Party) -> bool:
        if "ipBlock" in peer:
            if other.address is None:
                return False
            address = ipaddress.ip_address(other.address)
            block = peer["ipBlock"]
            return address in ipaddress.ip_network(block["cidr"]) and not any(
                address in ipaddress.ip_network(cidr) for cidr in block.get("except") or [])
        if not other.in_pod_network:
            return False
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self._namespace_labels(other.namespace)):
                return False
        elif other.namespace != policy_namespace:
            return False
        return "podSelector" not in peer or selects(peer["podSelector"], other.labels)

    @staticmethod
    def _port_matches(entry: dict, port: int, protocol: str, receiver: Party) -> bool:
        if entry.get("protocol", "TCP") != protocol:
            return False
        if "port" not in entry:
            return True
        wanted = entry["port"]
        if isinstance(wanted, str):
            return receiver.named_ports.get(wanted) == port
        return wanted <= port <= entry.get("endPort", wanted)

    def _rule_allows(self, rule: dict, peers_key: str, policy_namespace: str, other: Party,
                     port: int, protocol: str, receiver: Party) -> bool:
        peers = rule.get(peers_key)
        if peers and not any(self._peer_matches(peer, policy_namespace, other) for peer in peers):
            return False
        ports = rule.get("ports")
        return not ports or any(self._port_matches(entry, port, protocol, receiver) for entry in ports)

    def egress_allows(self, src: Party, dst: Party, port: int, protocol: str) -> bool:
        policies = self.selecting(src, "Egress")
        return not policies or any(
            self._rule_allows(rule, "to", p["metadata"]["namespace"], dst, port, protocol, dst)
            for p in policies for rule in p["spec"].get("egress") or [])

    def ingress_allows(self, src: Party, dst: Party, port: int, protocol: str) -> bool:
        policies = self.selecting(dst, "Ingress")
        return not policies or any(
            self._rule_allows(rule, "from", p["metadata"]["namespace"], src, port, protocol, dst)
            for p in policies for rule in p["spec"].get("ingress") or [])

    def allows(self, src: Party, dst: Party, port: int, protocol: str = "TCP") -> bool:
        return self.egress_allows(src, dst, port, protocol) and self.ingress_allows(src, dst, port, protocol)

    def reachability(self, sources: Iterable[Party], destinations: Iterable[Party],
                     probe_ports: Iterable[tuple[int, str]] = ()) -> set[tuple[str, str, int, str]]:
        """Every (source, destination, port, protocol) allowed, over each destination's ports and `probe_ports`
        (ports nobody listens on: a rule that allows every port shows up there)."""
        allowed = set()
        probes = set(probe_ports)
        for dst in destinations:
            for src in sources:
                if not (src.in_pod_network or dst.in_pod_network):
                    continue  # neither end is a pod: no NetworkPolicy applies
                for port, protocol in sorted(dst.ports | probes):
                    if self.allows(src, dst, port, protocol):
                        allowed.add((src.name, dst.name, port, protocol))
        return allowed
