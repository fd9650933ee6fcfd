"""StatelessService: a Deployment and its Service, plus a PodDisruptionBudget and an Ingress when asked.

What reaches its pods from outside follows from how it is exposed: a LoadBalancer or NodePort Service lets any
address outside the cluster in on the Service's ports (with `externalTrafficPolicy: Local`, so the pods see the
client's address rather than a node's, and no node forwards to another); an Ingress lets the ingress
controller's namespace in, on the ports of the Ingress's backends only (network_policy.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from . import _checks as c
from .connections import Endpoint
from .labels import selector_labels
from .network_policy import Peer, Rule, network_policy
from .pod import (
    WorkloadArgs,
    disruption_budget,
    object_labels,
    object_meta,
    pod_template,
    selector,
    service_ports,
    workload_meta,
    workload_network_policies,
    workload_service_account,
)

SERVICE_TYPES = ("ClusterIP", "LoadBalancer", "NodePort")
# Service types that take traffic from outside the cluster.
EXTERNAL_SERVICE_TYPES = ("LoadBalancer", "NodePort")
PATH_TYPES = ("Prefix", "Exact", "ImplementationSpecific")
# The API server's default --service-node-port-range.
NODE_PORT_RANGE = (30000, 32767)
_HOST = re.compile(r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")


@dataclass(frozen=True, kw_only=True)
class IngressPath:
    """One Ingress path. The backend defaults to this component's Service and port; another workload of the
    namespace (e.g. an API behind the same host) is named by its `Endpoint` (`backend`), which also lets the
    ingress controller reach that workload's pods. Regex paths (nginx `use-regex`) want
    `path_type="ImplementationSpecific"`."""

    path: str = "/"
    path_type: Literal["Prefix", "Exact", "ImplementationSpecific"] = "Prefix"
    backend: Endpoint | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            c.fail("IngressPath", "path", "a path starting with '/'", self.path)
        c.check_one_of("IngressPath", "path_type", self.path_type, PATH_TYPES)
        if self.backend is not None:
            c.check_type("IngressPath", "backend", self.backend, Endpoint)
            c.check_service_name("IngressPath", "backend.host (a Service name)", self.backend.host)


@dataclass(frozen=True, kw_only=True)
class IngressRule:
    """A `networking.k8s.io/v1` Ingress for the service. `class_name` is required (no reliance on a cluster
    default class), and so is `controller_namespace`, where the class's controller pods run (they are the only
    pods let in to the backends); `name` defaults to the deployment name; `host=None` matches every host; TLS
    is served from Secret `tls_secret_name` (needs a `host`)."""

    class_name: str
    controller_namespace: str
    host: str | None = None
    paths: Sequence[IngressPath] = (IngressPath(),)
    annotations: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None
    tls_secret_name: str | None = None

    def __post_init__(self) -> None:
        c.check_pattern("IngressRule", "class_name", self.class_name, c.DNS_SUBDOMAIN,
                        "an IngressClass name (a DNS subdomain)", max_len=253)
        c.check_dns_label("IngressRule", "controller_namespace", self.controller_namespace)
        if self.host is not None:
            c.check_pattern("IngressRule", "host", self.host, _HOST,
                            "a DNS name such as 'app.example.com' or '*.example.com'", max_len=253)
        c.check_sequence("IngressRule", "paths", self.paths)
        if not self.paths:
            c.fail("IngressRule", "paths", "at least one IngressPath", self.paths)
        for path in self.paths:
            c.check_type("IngressRule", "paths", path, IngressPath)
        c.check_annotations("IngressRule", "annotations", self.annotations)
        if self.name is not None:
            c.check_dns_label("IngressRule", "name", self.name)
        if self.tls_secret_name is not None:
            c.check_pattern("IngressRule", "tls_secret_name", self.tls_secret_name, c.DNS_SUBDOMAIN,
                            "a Secret name (a DNS subdomain)", max_len=253)
            if self.host is None:
                c.fail("IngressRule", "host", "a host when tls_secret_name is set", self.host)


@dataclass(frozen=True, kw_only=True)
class StatelessServiceArgs(WorkloadArgs):
    """Pod fields: see `WorkloadArgs`. Defaults: `service_name` = `deployment_name`, `service_type`
    ClusterIP (None = no Service, for workers), `service_port` = `port`, `replicas` 1 (None = leave
    `spec.replicas` unset for an autoscaler), `pdb` None = a PDB (maxUnavailable 1) when replicas >= 2;
    `session_affinity` "None" (`ClientIP`: each client sticks to one pod, for apps that keep sessions in memory);
    rolling update `maxUnavailable: 0`, `maxSurge: 25%` (never below the desired ready count)."""

    deployment_name: str
    service_name: str | None = None
    service_type: Literal["ClusterIP", "LoadBalancer", "NodePort"] | None = "ClusterIP"
    service_port: int | None = None
    node_port: int | None = None
    replicas: int | None = 1
    min_ready_seconds: int = 0
    pdb: bool | None = None
    ingress: IngressRule | None = None
    session_affinity: Literal["None", "ClientIP"] = "None"

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        c.check_dns_label(owner, "deployment_name", self.deployment_name)
        if self.replicas is not None:
            c.check_int(owner, "replicas", self.replicas, lo=0)
        c.check_int(owner, "min_ready_seconds", self.min_ready_seconds, lo=0)
        if self.pdb is not None:
            c.check_bool(owner, "pdb", self.pdb)
            if self.pdb and self.replicas is not None and self.replicas < 2:
                c.fail(owner, "pdb", f"False or None with replicas {self.replicas} (a PDB needs >= 2)", self.pdb)
        c.check_one_of(owner, "session_affinity", self.session_affinity, ("None", "ClientIP"))
        if self.service_type is None:
            if self.session_affinity != "None":
                c.fail(owner, "session_affinity", "'None' when service_type is None (no Service)",
                       self.session_affinity)
            for name in ("service_name", "service_port", "node_port"):
                if getattr(self, name) is not None:
                    c.fail(owner, name, "None when service_type is None (no Service)", getattr(self, name))
        else:
            c.check_one_of(owner, "service_type", self.service_type, (*SERVICE_TYPES, None))
            if self.port is None:
                c.fail(owner, "port", f"the container port for a {self.service_type} Service "
                       "(or service_type=None)", self.port)
            if self.service_name is not None:
                c.check_service_name(owner, "service_name", self.service_name)
            else:
                c.check_service_name(owner, "deployment_name (the default service_name)", self.deployment_name)
            if self.service_port is not None:
                c.check_port(owner, "service_port", self.service_port)
        if self.node_port is not None:
            if self.service_type != "NodePort":
                c.fail(owner, "node_port", f"None unless service_type is 'NodePort' (it is "
                       f"{self.service_type!r})", self.node_port)
            c.check_int(owner, "node_port", self.node_port, lo=NODE_PORT_RANGE[0], hi=NODE_PORT_RANGE[1])
        if self.ingress is not None:
            c.check_type(owner, "ingress", self.ingress, IngressRule)
            if self.service_type is None and any(p.backend is None for p in self.ingress.paths):
                c.fail(owner, "ingress", "paths with their own backend when there is no Service",
                       self.ingress)

    @property
    def effective_service_name(self) -> str | None:
        return None if self.service_type is None else self.service_name or self.deployment_name

    @property
    def effective_service_port(self) -> int | None:
        return None if self.service_type is None else self.service_port or self.port

    @property
    def is_external(self) -> bool:
        return self.service_type in EXTERNAL_SERVICE_TYPES

    @property
    def wants_pdb(self) -> bool:
        if self.pdb is not None:
            return self.pdb
        return self.replicas is not None and self.replicas >= 2


def dns_name(service: k8s.core.v1.Service) -> pulumi.Output[str]:
    """`<service>.<namespace>.svc.cluster.local`, resolved from the Service (so users depend on it). One apply
    on the metadata: `Output.all` of its two fields would cost six Outputs for the same value."""
    return service.metadata.apply(lambda metadata: f"{metadata.name}.{metadata.namespace}.svc.cluster.local")


def _load_balancer_address(status) -> str:
    # Empty until the cloud assigns an address (and always for ClusterIP/NodePort Services).
    ingress = getattr(getattr(status, "load_balancer", None), "ingress", None) or []
    return (ingress[0].ip or ingress[0].hostname or "") if ingress else ""


class StatelessService(pulumi.ComponentResource):
    """Deployment `deployment_name` + Service `service_name` (+ PDB, + Ingress), ServiceAccount and
    NetworkPolicies named like the deployment. See StatelessServiceArgs."""

    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service | None
    pdb: k8s.policy.v1.PodDisruptionBudget | None
    ingress: k8s.networking.v1.Ingress | None
    network_policies: list[k8s.networking.v1.NetworkPolicy]
    host: pulumi.Output[str] | None
    port: int | None
    endpoint: Endpoint | None
    load_balancer_address: pulumi.Output[str]

    def __init__(self, name: str, args: StatelessServiceArgs, opts: pulumi.ResourceOptions | None = None):
        if not isinstance(args, StatelessServiceArgs):
            raise TypeError(f"StatelessService: args must be a StatelessServiceArgs, got {type(args).__name__}")
        super().__init__("aks-microservices:components:StatelessService", name, None, opts)
        app = args.deployment_name
        child = pulumi.ResourceOptions(parent=self)

        account = workload_service_account(f"{name}-service-account", args, app_name=app, opts=child)
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=workload_meta(args, name=app, app_name=app),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=selector(args, app),
                template=pod_template(args, app_name=app, spread_match_label_keys=("pod-template-hash",),
                                      service_account_name=account),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge="25%"),
                ),
                min_ready_seconds=args.min_ready_seconds or None,
            ),
            opts=child,
        )

        self.service = None
        self.host = None
        self.endpoint = None
        self.port = args.effective_service_port
        self.load_balancer_address = pulumi.Output.from_input("")
        if args.service_type is not None:
            self.service = k8s.core.v1.Service(
                f"{name}-service",
                metadata=object_meta(args, name=args.effective_service_name, app_name=app),
                spec=k8s.core.v1.ServiceSpecArgs(
                    type=args.service_type,
                    selector=selector_labels(app, args.instance_label),
                    ports=service_ports(args, service_port=self.port, node_port=args.node_port),
                    # Nodes deliver outside traffic only to their own pods, keeping the client's address: the
                    # NetworkPolicy then sees the client, not a node that forwarded it (which it would drop).
                    external_traffic_policy="Local" if args.is_external else None,
                    # ClientIP: a client keeps its pod (apps that hold sessions in memory). On AKS the cloud
                    # provider also gives the load balancer rule `loadDistribution: SourceIP`, so it keeps its
                    # node too (kubernetes-sigs/cloud-provider-azure, pkg/provider/azure_loadbalancer.go).
                    session_affinity="ClientIP" if args.session_affinity == "ClientIP" else None,
                ),
                opts=child,
            )
            self.host = dns_name(self.service)
            self.load_balancer_address = self.service.status.apply(_load_balancer_address)
            self.endpoint = Endpoint(
                host=self.service.metadata.name, port=self.port, target_port=args.port, namespace=args.namespace,
                workload=app, pod_labels=selector_labels(app, args.instance_label),
            )

        self.pdb = disruption_budget(f"{name}-pdb", args, app_name=app, opts=child) if args.wants_pdb else None

        self.ingress = None
        if args.ingress is not None:
            self.ingress = self._ingress(name, args)
        self.network_policies = workload_network_policies(
            name, args, app_name=app, inbound=self._inbound(args), opts=child
        ) + self._ingress_backend_policies(name, args)

        self.register_outputs({
            "deployment_name": app,
            "service_name": args.effective_service_name,
            "host": self.host,
            "port": self.port,
            "load_balancer_address": self.load_balancer_address,
        })

    def _inbound(self, args: StatelessServiceArgs) -> list[Rule]:
        """What reaches this workload's pods from outside its namespace, from its Service type and Ingress."""
        inbound = []
        if args.is_external:
            # Anyone outside the cluster, on the Service's ports only (pod addresses are not `outside`).
            inbound.append(Rule(peer=Peer.outside(), ports=tuple(args.container_ports())))
        if args.ingress is not None and any(p.backend is None for p in args.ingress.paths):
            inbound.append(Rule(peer=Peer.pods(args.ingress.controller_namespace), ports=(args.port,)))
        return inbound

    def _ingress_backend_policies(self, name: str, args: StatelessServiceArgs) -> list:
        """The ingress controller into the pods of the Ingress's other backends, on their ports only."""
        if args.ingress is None:
            return []
        rule = args.ingress
        backends: dict[str, list[Endpoint]] = {}
        for path in rule.paths:
            if path.backend is not None:
                backends.setdefault(path.backend.workload, []).append(path.backend)
        ingress_name = rule.name or args.deployment_name
        return [
            network_policy(
                f"{name}-ingress-to-{workload}", name=f"{ingress_name}-to-{workload}",
                namespace=endpoints[0].namespace, pod_labels=endpoints[0].pod_labels,
                labels=object_labels(args, args.deployment_name), annotations=args.annotations,
                ingress=[Rule(peer=Peer.pods(rule.controller_namespace), ports=tuple(e.pod_port for e in endpoints))],
                policy_types=["Ingress"], opts=pulumi.ResourceOptions(parent=self),
            )
            for workload, endpoints in backends.items()
        ]

    def _ingress(self, name: str, args: StatelessServiceArgs) -> k8s.networking.v1.Ingress:
        rule = args.ingress
        paths = [
            k8s.networking.v1.HTTPIngressPathArgs(
                path=p.path,
                path_type=p.path_type,
                backend=k8s.networking.v1.IngressBackendArgs(
                    service=k8s.networking.v1.IngressServiceBackendArgs(
                        name=p.backend.host if p.backend else args.effective_service_name,
                        port=k8s.networking.v1.ServiceBackendPortArgs(
                            number=p.backend.port if p.backend else self.port
                        ),
                    )
                ),
            )
            for p in rule.paths
        ]
        tls = None
        if rule.tls_secret_name is not None:
            tls = [k8s.networking.v1.IngressTLSArgs(hosts=[rule.host], secret_name=rule.tls_secret_name)]
        return k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=object_meta(args, name=rule.name or args.deployment_name, app_name=args.deployment_name,
                                 annotations=rule.annotations),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=rule.class_name,
                rules=[k8s.networking.v1.IngressRuleArgs(
                    host=rule.host, http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=paths)
                )],
                tls=tls,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.service] if self.service else None),
        )
