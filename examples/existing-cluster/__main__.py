"""A small stack that reuses the aks-microservices components against an existing cluster.

A greeting service (StatelessService: Deployment, Service, PodDisruptionBudget) and a Redis for the app
that will replace it (StatefulStore: StatefulSet, headless and client Services, a volume per replica), in a
namespace of their own, on the cluster of a kubeconfig context. Every secure default (non-root, read-only root
filesystem, dropped capabilities, requests and limits, probes, recommended labels) comes from the components.

    pip install -r requirements.txt      # the components, from this repository or a git URL
    pulumi stack init kind && pulumi up  # Pulumi.kind.yaml: context kind-kind, namespace guestbook

Config (namespace `components-example`): `kubeconfig` (path; default: $KUBECONFIG or ~/.kube/config),
`context` (default: the kubeconfig's current context), `namespace` (default `guestbook`), `serviceType`
(`ClusterIP` or `LoadBalancer`, default `ClusterIP`), `greeting` (what the service answers).
"""

import pulumi
import pulumi_kubernetes as k8s
from aks_microservices.components import (
    Connection,
    ExecProbe,
    HttpProbe,
    PerReplicaStorage,
    Resources,
    StatefulStore,
    StatefulStoreArgs,
    StatelessService,
    StatelessServiceArgs,
    recommended_labels,
)

PART_OF = "guestbook"
# Pinned releases: a tag that moves would change the running code behind the stack's back.
ECHO_IMAGE = "hashicorp/http-echo:1.0.0"
REDIS_IMAGE = "redis:7.4-bookworm"
# The Debian redis image's `redis` user: it owns /data.
REDIS_UID = 999

config = pulumi.Config()
namespace_name = config.get("namespace") or "guestbook"
service_type = config.get("serviceType") or "ClusterIP"
if service_type not in ("ClusterIP", "LoadBalancer"):
    raise pulumi.RunError(f"components-example:serviceType: expected ClusterIP or LoadBalancer, got {service_type!r}")

# The only provider: every component below inherits it through its parent.
cluster = k8s.Provider("cluster", kubeconfig=config.get("kubeconfig"), context=config.get("context"))
on_cluster = pulumi.ResourceOptions(provider=cluster)

namespace = k8s.core.v1.Namespace(
    "namespace",
    metadata=k8s.meta.v1.ObjectMetaArgs(
        name=namespace_name,
        labels={
            **recommended_labels(namespace_name, namespace_name, "namespace", PART_OF),
            # The components' pods meet the restricted Pod Security Standard: let the cluster enforce it.
            "pod-security.kubernetes.io/enforce": "restricted",
        },
    ),
    opts=on_cluster,
)

redis = StatefulStore(
    "redis",
    StatefulStoreArgs(
        namespace=namespace.metadata.name,
        part_of=PART_OF,
        component="cache",
        image=REDIS_IMAGE,
        port=6379,
        statefulset_name="redis",
        headless_service_name="redis-headless",
        service_name="redis",
        storage=PerReplicaStorage(claim_name="data", size="1Gi", mount_path="/data"),
        args=["redis-server", "--appendonly", "yes"],
        run_as_user=REDIS_UID,
        run_as_group=REDIS_UID,
        readiness_probe=ExecProbe(command=["redis-cli", "ping"]),
        resources=Resources(cpu_request="50m", memory_request="64Mi", cpu_limit="250m", memory_limit="128Mi"),
    ),
    on_cluster,
)

greeter = StatelessService(
    "greeter",
    StatelessServiceArgs(
        namespace=namespace.metadata.name,
        part_of=PART_OF,
        component="frontend",
        image=ECHO_IMAGE,
        port=5678,
        args=[f"-text={config.get('greeting') or 'hello from the aks-microservices components'}"],
        # One declaration sets REDIS_HOST (the app a team puts here instead of the echo reads it) and opens the
        # NetworkPolicies both ways (with DNS); an env value alone would leave the pods able to reach nothing.
        connects_to=[Connection(to=redis.endpoint, env={"REDIS_HOST": "{fqdn}"})],
        deployment_name="greeter",
        service_type=service_type,
        service_port=80,
        replicas=2,
        readiness_probe=HttpProbe(path="/"),
        liveness_probe=HttpProbe(path="/"),
        resources=Resources(cpu_request="10m", memory_request="16Mi", cpu_limit="100m", memory_limit="32Mi"),
    ),
    # The first version of this example called the service `web`: the alias keeps that stack's Deployment,
    # Service and PodDisruptionBudget (children named from their parent, so they follow it) instead of
    # replacing them.
    pulumi.ResourceOptions(provider=cluster, aliases=[pulumi.Alias(name="web")]),
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("greeter", {"host": greeter.host, "port": greeter.port, "address": greeter.load_balancer_address})
pulumi.export("redis", {"host": redis.host, "port": redis.port})
