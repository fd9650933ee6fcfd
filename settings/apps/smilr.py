"""Settings of the Smilr app (stack config `apps.smilr`)."""

from __future__ import annotations

from dataclasses import dataclass

from settings.schema import boolean, integer, matching, optional, setting

IMAGE_TAG = matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag such as 7.0 or v1")
HTTP_URL = matching(r"https?://[^\s/]+(/\S*)?", "an http(s) URL such as http://smilr-api.example.com/api")


@dataclass(frozen=True)
class SmilrSettings:
    enabled: bool = setting("enabled", "Deploy the Smilr app.", boolean, default=True)
    data_api_replicas: int = setting(
        "dataApiReplicas", "Replicas of the data-api Deployment (the seed scales it to 3).", integer(1), default=3
    )
    frontend_replicas: int = setting(
        "frontendReplicas", "Replicas of the frontend Deployment (the seed scales it to 3).", integer(1), default=3
    )
    image_tag: str = setting(
        "imageTag",
        "Tag of the smilr/data-api and smilr/frontend images (released together; the seed pulls the default).",
        IMAGE_TAG,
        default="latest",
    )
    mongo_tag: str = setting(
        "mongoTag",
        "Tag of the `mongo` image of the `mongodb` StatefulSet (a maintained release the data-api's driver speaks to).",
        IMAGE_TAG,
        default="7.0",
    )
    api_endpoint: str | None = setting(
        "apiEndpoint",
        "Public URL of the data API handed to browsers as API_ENDPOINT; needed only where Services are not "
        "LoadBalancers (e.g. NodePort on an existing cluster).",
        optional(HTTP_URL),
        default=None,
        doc_default="http://<data-api-svc load-balancer address>/api",
    )

    def replicated_tiers(self) -> dict[str, int]:
        """Replica settings of the tiers that can run several pods (config key -> count): with
        `availability.allowSingleReplicaTiers` false each must be at least 2."""
        return {"dataApiReplicas": self.data_api_replicas, "frontendReplicas": self.frontend_replicas}
