"""AutoscaledApp: a StatelessService whose replica count belongs to an autoscaling/v2 HPA."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from . import _checks as c
from .connections import Endpoint
from .pod import object_meta
from .stateless_service import StatelessService, StatelessServiceArgs

# autoscaling/v2 caps stabilization windows at one hour.
MAX_STABILIZATION_SECONDS = 3600


@dataclass(frozen=True, kw_only=True)
class AutoscaledAppArgs:
    """`service` describes the app; its `replicas` must stay at the default (1) or None because the HPA owns
    the count (the Deployment's `spec.replicas` is left unset, so Pulumi never fights the HPA). Defaults:
    2-5 replicas, 80% of the CPU request, no memory target, 300 s scale-down stabilization. A PDB
    (maxUnavailable 1) is added when `min_replicas >= 2` unless `service.pdb` says otherwise."""

    service: StatelessServiceArgs
    min_replicas: int = 2
    max_replicas: int = 5
    target_cpu_percent: int | None = 80
    target_memory_percent: int | None = None
    scale_down_stabilization_seconds: int = 300

    def __post_init__(self) -> None:
        owner = "AutoscaledAppArgs"
        c.check_type(owner, "service", self.service, StatelessServiceArgs)
        if self.service.replicas not in (1, None) or isinstance(self.service.replicas, bool):
            c.fail(owner, "service.replicas", "1 (the default) or None: the HPA owns the replica count",
                   self.service.replicas)
        c.check_int(owner, "min_replicas", self.min_replicas, lo=1)
        c.check_int(owner, "max_replicas", self.max_replicas, lo=1)
        if self.max_replicas < self.min_replicas:
            c.fail(owner, "max_replicas", f"an integer >= min_replicas ({self.min_replicas})", self.max_replicas)
        for name in ("target_cpu_percent", "target_memory_percent"):
            if getattr(self, name) is not None:
                c.check_int(owner, name, getattr(self, name), lo=1)
        if self.target_cpu_percent is None and self.target_memory_percent is None:
            c.fail(owner, "target_cpu_percent", "a CPU or memory target (both are None)", None)
        if self.target_cpu_percent is not None and self.service.resources.cpu_request is None:
            c.fail(owner, "target_cpu_percent", "None when service.resources.cpu_request is None "
                   "(utilization is a percentage of the request)", self.target_cpu_percent)
        c.check_int(owner, "scale_down_stabilization_seconds", self.scale_down_stabilization_seconds,
                    lo=0, hi=MAX_STABILIZATION_SECONDS)

    def service_args(self) -> StatelessServiceArgs:
        """The child service: no `spec.replicas`, and a PDB when at least two replicas always run."""
        pdb = self.service.pdb if self.service.pdb is not None else self.min_replicas >= 2
        return dataclasses.replace(self.service, replicas=None, pdb=pdb)


def _utilization(resource: str, percent: int) -> k8s.autoscaling.v2.MetricSpecArgs:
    return k8s.autoscaling.v2.MetricSpecArgs(
        type="Resource",
        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
            name=resource,
            target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=percent),
        ),
    )


class AutoscaledApp(pulumi.ComponentResource):
    """A StatelessService (child `<name>-app`) and an HPA named like its Deployment (child `<name>-hpa`)."""

    app: StatelessService
    hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler
    host: pulumi.Output[str] | None
    port: int | None
    endpoint: Endpoint | None

    def __init__(self, name: str, args: AutoscaledAppArgs, opts: pulumi.ResourceOptions | None = None):
        """Declare the AutoscaledApp `name` (its children are named from it) as `args` describe it. `opts` are the
        component's resource options (provider, protect, aliases, ...), inherited by every child. Invalid
        `args` raise `InvalidArgsError` (one line naming the field and the value) before anything is
        registered."""
        if not isinstance(args, AutoscaledAppArgs):
            raise TypeError(f"AutoscaledApp: args must be an AutoscaledAppArgs, got {type(args).__name__}")
        service_args = args.service_args()
        super().__init__("aks-microservices:components:AutoscaledApp", name, None, opts)
        deployment_name = service_args.deployment_name

        self.app = StatelessService(f"{name}-app", service_args, pulumi.ResourceOptions(parent=self))
        metrics = []
        if args.target_cpu_percent is not None:
            metrics.append(_utilization("cpu", args.target_cpu_percent))
        if args.target_memory_percent is not None:
            metrics.append(_utilization("memory", args.target_memory_percent))
        self.hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=object_meta(service_args, name=deployment_name, app_name=deployment_name),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment_name
                ),
                min_replicas=args.min_replicas,
                max_replicas=args.max_replicas,
                metrics=metrics,
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=args.scale_down_stabilization_seconds
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.app.deployment]),
        )
        self.host = self.app.host
        self.port = self.app.port
        self.endpoint = self.app.endpoint
        self.register_outputs({"host": self.host, "port": self.port, "deployment_name": deployment_name})
