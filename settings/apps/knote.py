"""Settings of the Knote app (stack config `apps.knote`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, integer, matching, optional, setting

IMAGE_TAG = matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag such as 7.0 or v1")


@dataclass(frozen=True)
class KnoteSettings:
    enabled: bool = setting("enabled", "Deploy the Knote app.", boolean, default=True)
    replicas: int = setting(
        "replicas", "Replicas of the knote Deployment (the seed's end state is 10).", integer(1), default=10
    )
    image_tag: str = setting(
        "imageTag", "Tag of the learnk8s/knote-js image (2.0.0 is the release that stores pictures in MinIO).",
        IMAGE_TAG, default="2.0.0",
    )
    mongo_tag: str = setting(
        "mongoTag", "Tag of the `mongo` image behind Service `mongo` (a maintained release).", IMAGE_TAG,
        default="7.0",
    )
    minio_tag: str | None = setting(
        "minioTag",
        "Tag (a MinIO release) of the `minio/minio` image behind Service `minio`.",
        optional(IMAGE_TAG),
        default=None,
        doc_default="the ObjectStore component's pinned release",
    )

    def replicated_tiers(self) -> dict[str, int]:
        """Replica settings of the tiers that can run several pods (config key -> count): with
        `availability.allowSingleReplicaTiers` false each must be at least 2."""
        return {"replicas": self.replicas}
