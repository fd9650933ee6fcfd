"""Settings of the Fibonacci app (stack config `apps.fibonacci`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, integer, matching, optional, setting

IMAGE_TAG = matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag such as 7.0 or v1")
HOST = matching(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+", "a DNS name such as fib.example.com"
)


@dataclass(frozen=True)
class FibonacciSettings:
    enabled: bool = setting("enabled", "Deploy the Fibonacci app.", boolean, default=True)
    client_replicas: int = setting(
        "clientReplicas", "Replicas of client-deployment (the seed runs 1).", integer(1), default=1
    )
    server_replicas: int = setting(
        "serverReplicas", "Replicas of server-deployment (the seed runs 2).", integer(1), default=2
    )
    worker_replicas: int = setting(
        "workerReplicas", "Replicas of worker-deployment (the seed runs 3).", integer(1), default=3
    )
    redis_replicas: int = setting(
        "redisReplicas",
        "Replicas of redis-statefulset: pod 0 is the write primary, the others replicate it (the seed runs 3).",
        integer(1),
        default=3,
    )
    image_tag: str = setting(
        "imageTag", "Tag of the mosabami/multi-{client,server,worker} images.", IMAGE_TAG, default="v1"
    )
    redis_tag: str = setting(
        "redisTag",
        "Tag of the `redis` image (a Debian variant: its redis user is uid/gid 999, as the shared volume expects).",
        IMAGE_TAG,
        default="7.4-bookworm",
    )
    postgres_tag: str = setting(
        "postgresTag",
        "Tag of the `postgres` image (a Debian variant: its postgres user is uid/gid 999).",
        IMAGE_TAG,
        default="16-bookworm",
    )
    ingress_host: str | None = setting(
        "ingressHost",
        "Host name the `ingress-service` Ingress answers for; unset answers every host (as the seed).",
        optional(HOST),
        default=None,
    )

    def replicated_tiers(self) -> dict[str, int]:
        """Replica settings of the tiers that can run several pods (config key -> count): with
        `availability.allowSingleReplicaTiers` false each must be at least 2."""
        return {"clientReplicas": self.client_replicas, "serverReplicas": self.server_replicas,
                "workerReplicas": self.worker_replicas, "redisReplicas": self.redis_replicas}
