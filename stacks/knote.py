"""Knote (seed 001): a stateless note-taking app scaled to 10 replicas, MongoDB for notes, MinIO for pictures.

Only knote is reachable from outside (its LoadBalancer); knote's declared connections to `mongo:27017` and
`minio:9000` are the only traffic the stores accept, and they carry the addresses knote reads (MONGO_URL,
MINIO_HOST). The seed's clear-text MinIO keys become the ObjectStore's generated Secret.
"""

from __future__ import annotations

import pulumi

from components import (
    MINIO_IMAGE,
    Connection,
    EnvFromSecret,
    HttpProbe,
    ObjectStore,
    ObjectStoreArgs,
    PerReplicaStorage,
    StatelessService,
    StatelessServiceArgs,
    recommended_labels,
)
from components.object_store import ACCESS_KEY_KEY, SECRET_KEY_KEY
from infra import Platform, SecretShape
from settings import StackSettings
from settings.apps.knote import KnoteSettings
from stacks.common import open_app, public_service_type
from stacks.mongodb import mongodb_store

KEY = "knote"
NAMESPACE = "knote"
# The `node` user of the node:12-slim base image; knote only reads its code (at /) and keeps uploads in memory.
NODE_USER = 1000
MINIO_REPOSITORY = MINIO_IMAGE.split(":", 1)[0]
# Why MinIO runs one pod, and may reach zero ready pods while its node is drained (the workload annotation).
MINIO_SINGLE_NODE = (
    "single-node MinIO on one volume: MinIO replicates only in distributed mode (erasure coding over at "
    "least 4 drives), which the ObjectStore component does not run"
)
KNOTE = "knote"
MINIO_SERVICE = "minio"
MINIO_SECRET = f"{MINIO_SERVICE}-credentials"  # ObjectStoreArgs.secret_name


def _image_refs(app: KnoteSettings) -> dict[str, str]:
    # The seed's mongo:6.0.2-focal is past its end of life (July 2025); 7.0 is maintained and still speaks
    # to knote's Node driver (3.x, OP_MSG). MinIO: the ObjectStore's pinned current release (the seed's is from
    # 2022) unless minioTag is set; knote's MinIO client only needs the S3 API.
    return {
        "knote": f"learnk8s/knote-js:{app.image_tag}",
        "mongo": f"mongo:{app.mongo_tag}",
        "minio": f"{MINIO_REPOSITORY}:{app.minio_tag}" if app.minio_tag else MINIO_IMAGE,
    }


def images(settings: KnoteSettings) -> set[str]:
    return set(_image_refs(settings).values())


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    app = settings.apps.knote
    service_type = public_service_type(platform)
    scope = open_app(KEY, NAMESPACE, settings, platform)
    refs = _image_refs(app)

    # The seed's Deployment `mongo` with claim `mongo-pvc`, as a StatefulStore behind the same Service name.
    mongo = mongodb_store(
        "knote-mongo",
        scope,
        image=scope.image(refs["mongo"]),
        container_name="mongo",
        statefulset_name="mongo",
        headless_service_name="mongo-headless",
        service_name="mongo",
        claim_name="storage",
        size="256Mi",
    )

    # MinIO's root credentials are read by MinIO and knote. With a secret store (AKS with a vault) both mount
    # it and it syncs Secret `minio-credentials` for them; otherwise the ObjectStore creates that Secret.
    secrets = platform.app_secrets(
        KEY, NAMESPACE,
        secrets={MINIO_SECRET: SecretShape(
            keys=(ACCESS_KEY_KEY, SECRET_KEY_KEY),
            labels=recommended_labels(name=MINIO_SECRET, instance=KEY, component="object-store", part_of=KEY),
        )},
        readers=(MINIO_SERVICE, KNOTE),
        opts=scope.opts(),
    )
    # The seed's Deployment `minio` (Recreate, claim `minio-pvc`): one replica with its own claim.
    minio = ObjectStore(
        "knote-minio",
        ObjectStoreArgs(
            namespace=scope.namespace_name,
            part_of=KEY,
            service_name=MINIO_SERVICE,
            image=scope.image(refs["minio"]),
            storage=PerReplicaStorage(
                claim_name="storage",
                size="256Mi",
                mount_path="/storage",
                storage_class=platform.per_replica_storage_class,
            ),
            access_key=settings.secrets.secret_input("knoteMinioAccessKey"),
            secret_key=settings.secrets.secret_input("knoteMinioSecretKey"),
            protect=settings.data_protection,
            zone_spread=scope.zone_spread,
            disruption_allowed=MINIO_SINGLE_NODE,
            create_secret=secrets.volume is None,
            secret_store=secrets.volume,
        ),
        scope.opts(stateful=True),
    )
    secret_name = minio.secret_name
    if secrets.volume is not None:
        secret_name = secrets.provide("knote-minio-credentials", name=MINIO_SECRET, data=minio.credentials,
                                      opts=scope.opts(stateful=True))

    knote = StatelessService(
        "knote",
        StatelessServiceArgs(
            namespace=scope.namespace_name,
            part_of=KEY,
            component="web",
            image=scope.image(refs["knote"]),
            deployment_name=KNOTE,
            service_type=service_type,
            port=3000,
            port_name="http",
            service_port=80,
            replicas=app.replicas,
            # The stores knote dials: their addresses (from the stores' Services, so knote is created after
            # them) and the only way into their pods.
            connects_to=(
                Connection(to=mongo.endpoint, env={"MONGO_URL": "mongodb://{host}:{port}/dev"}),
                Connection(to=minio.endpoint, env={"MINIO_HOST": "{host}"}),
            ),
            env_from_secrets={
                "MINIO_ACCESS_KEY": EnvFromSecret(secret_name=secret_name, key=minio.access_key_key),
                "MINIO_SECRET_KEY": EnvFromSecret(secret_name=secret_name, key=minio.secret_key_key),
            },
            secret_store=secrets.volume,
            # knote listens only once MongoDB and MinIO answer (it retries both every second), so `/` is ready.
            readiness_probe=HttpProbe(path="/", timeout_seconds=5),
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=("/tmp",),
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.replicas, "apps.knote.replicas"),
        ),
        scope.opts(),
    )

    outputs: dict[str, pulumi.Input] = {
        "mongo": pulumi.Output.concat(mongo.host, ":", str(mongo.port)),
        "minio": pulumi.Output.concat(minio.host, ":", str(minio.port)),
    }
    if service_type == "LoadBalancer":
        outputs["url"] = pulumi.Output.concat("http://", knote.load_balancer_address)
    else:
        outputs["service"] = pulumi.Output.concat(knote.host, f" ({service_type})")
    return scope.finish(outputs)
