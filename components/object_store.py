"""ObjectStore: a single-node MinIO (S3 API) with generated root credentials kept in a Secret."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from . import _checks as c
from .connections import Endpoint
from .labels import RECOMMENDED_KEYS
from .pod import HttpProbe, Resources, SecretFile, SecretStoreVolume, object_meta
from .stateful_store import PerReplicaStorage, StatefulStore, StatefulStoreArgs

# Pinned: MinIO ships only date-stamped releases and `latest` moves under the data; a fixed release makes
# every deploy reproducible. Newer releases read MINIO_ROOT_USER/MINIO_ROOT_PASSWORD (used below).
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
ACCESS_KEY_KEY = "MINIO_ROOT_USER"
SECRET_KEY_KEY = "MINIO_ROOT_PASSWORD"
ACCESS_KEY_LENGTH = 20
SECRET_KEY_LENGTH = 40
# MinIO creates its certs directory at startup; the default (~/.minio/certs) is on the read-only root.
CERTS_DIR = "/tmp/certs"
# The root credentials as files (MinIO's MINIO_ROOT_USER_FILE / MINIO_ROOT_PASSWORD_FILE), not in the environment.
CREDENTIALS_DIR = "/run/secrets/minio"
DEFAULT_STORAGE = PerReplicaStorage(claim_name="data", size="256Mi", mount_path="/storage")
DEFAULT_RESOURCES = Resources(memory_request="256Mi", memory_limit="512Mi")


@dataclass(frozen=True, kw_only=True)
class ObjectStoreArgs:
    """MinIO as a one-replica StatefulStore: StatefulSet and client Service `service_name` (port 9000),
    headless Service `<service_name>-headless`, Secret `<service_name>-credentials` with keys
    MINIO_ROOT_USER / MINIO_ROOT_PASSWORD. Defaults: the pinned `MINIO_IMAGE`, a 256Mi claim `data` at
    `/storage` (cluster default class), args `server <mount_path> --certs-dir /tmp/certs`, requests
    100m/256Mi and limits 500m/512Mi. `access_key`/`secret_key` (e.g. secret config) default to
    RandomPasswords of 20 and 40 alphanumerics. `protect` protects the data and the credentials (MinIO
    encrypts its IAM state with the root credentials, so losing them loses access). `zone_spread` and
    `disruption_allowed` as in `WorkloadArgs` (one MinIO node: a drain of its node stops it; say why that is
    acceptable in `disruption_allowed`). `create_secret=False`:
    the Secret `<service_name>-credentials` comes from elsewhere (e.g. synced by the Secrets Store CSI driver
    from `secret_store`, which the pods then mount); the credentials are still generated here and exposed as
    `ObjectStore.credentials` for whoever provides that Secret."""

    namespace: pulumi.Input[str]
    part_of: str
    component: str = "object-store"
    instance: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    service_name: str = "minio"
    port: int = 9000
    image: pulumi.Input[str] = MINIO_IMAGE
    storage: PerReplicaStorage = DEFAULT_STORAGE
    args: Sequence[pulumi.Input[str]] | None = None
    access_key: pulumi.Input[str] | None = None
    secret_key: pulumi.Input[str] | None = None
    resources: Resources = DEFAULT_RESOURCES
    protect: bool = False
    zone_spread: Literal["soft", "hard"] = "soft"
    disruption_allowed: str | None = None
    create_secret: bool = True
    secret_store: SecretStoreVolume | None = None

    def __post_init__(self) -> None:
        owner = "ObjectStoreArgs"
        c.check_bool(owner, "create_secret", self.create_secret)
        c.check_str(owner, "namespace", self.namespace)
        c.check_dns_label(owner, "namespace", self.namespace)
        for name in ("part_of", "component", "instance"):
            value = getattr(self, name)
            if value is not None or name != "instance":
                c.check_str(owner, name, value)
                c.check_label_value(owner, name, value)
        c.check_labels(owner, "labels", self.labels, reserved=RECOMMENDED_KEYS)
        c.check_annotations(owner, "annotations", self.annotations)
        # The StatefulSet is named after the Service, so the StatefulSet limit applies.
        c.check_pattern(owner, "service_name", self.service_name, c.DNS_1035_LABEL,
                        "a DNS-1035 label of at most 52 characters", max_len=52)
        c.check_port(owner, "port", self.port)
        c.check_str(owner, "image", self.image)
        c.check_type(owner, "storage", self.storage, PerReplicaStorage)
        if self.args is not None:
            c.check_str_sequence(owner, "args", self.args)
        c.check_type(owner, "resources", self.resources, Resources)
        c.check_bool(owner, "protect", self.protect)
        # MinIO refuses shorter root credentials at startup; fail here instead.
        for name, minimum in (("access_key", 3), ("secret_key", 8)):
            value = getattr(self, name)
            if value is not None and not c.is_output(value) and (not isinstance(value, str) or len(value) < minimum):
                c.fail(owner, name, f"None (generated) or a string of at least {minimum} characters", value,
                       hide=True)

    @property
    def secret_name(self) -> str:
        return f"{self.service_name}-credentials"

    def store_args(self, secret_name: pulumi.Input[str]) -> StatefulStoreArgs:
        return StatefulStoreArgs(
            namespace=self.namespace,
            part_of=self.part_of,
            component=self.component,
            instance=self.instance,
            labels=self.labels,
            annotations=self.annotations,
            image=self.image,
            port=self.port,
            port_name="s3",
            statefulset_name=self.service_name,
            headless_service_name=f"{self.service_name}-headless",
            service_name=self.service_name,
            storage=self.storage,
            args=self.args or ["server", self.storage.mount_path, "--certs-dir", CERTS_DIR],
            env={f"{key}_FILE": f"{CREDENTIALS_DIR}/{key}" for key in (ACCESS_KEY_KEY, SECRET_KEY_KEY)},
            secret_files=(SecretFile(secret_name=secret_name, mount_path=CREDENTIALS_DIR),),
            secret_store=self.secret_store,
            resources=self.resources,
            readiness_probe=HttpProbe(path="/minio/health/ready"),
            liveness_probe=HttpProbe(path="/minio/health/live"),
            writable_paths=("/tmp",),
            protect=self.protect,
            zone_spread=self.zone_spread,
            disruption_allowed=self.disruption_allowed,
        )


class ObjectStore(pulumi.ComponentResource):
    """Children: `<name>-access-key`/`<name>-secret-key` (RandomPassword, when not given),
    `<name>-credentials` (Secret, unless `create_secret` is off) and `<name>-store` (StatefulStore)."""

    store: StatefulStore
    endpoint: Endpoint
    statefulset: k8s.apps.v1.StatefulSet
    service: k8s.core.v1.Service
    secret: k8s.core.v1.Secret | None
    credentials: dict[str, pulumi.Output[str]]
    host: pulumi.Output[str]
    port: int
    secret_name: pulumi.Output[str]
    access_key_key: str
    secret_key_key: str

    def __init__(self, name: str, args: ObjectStoreArgs, opts: pulumi.ResourceOptions | None = None):
        """Declare the ObjectStore `name` (its children are named from it) as `args` describe it. `opts` are the
        component's resource options (provider, protect, aliases, ...), inherited by every child. Invalid
        `args` raise `InvalidArgsError` (one line naming the field and the value) before anything is
        registered."""
        if not isinstance(args, ObjectStoreArgs):
            raise TypeError(f"ObjectStore: args must be an ObjectStoreArgs, got {type(args).__name__}")
        store_args = args.store_args(args.secret_name)  # validates the whole workload before any child
        super().__init__("aks-microservices:components:ObjectStore", name, None, opts)
        protect = True if args.protect else None

        def credential(role: str, given: pulumi.Input[str] | None, length: int) -> pulumi.Output[str]:
            if given is not None:
                return pulumi.Output.secret(given)
            password = random.RandomPassword(f"{name}-{role}", length=length, special=False,
                                             opts=pulumi.ResourceOptions(parent=self, protect=protect))
            return password.result

        self.credentials = {
            ACCESS_KEY_KEY: credential("access-key", args.access_key, ACCESS_KEY_LENGTH),
            SECRET_KEY_KEY: credential("secret-key", args.secret_key, SECRET_KEY_LENGTH),
        }
        self.secret = None
        if args.create_secret:
            self.secret = k8s.core.v1.Secret(
                f"{name}-credentials",
                metadata=object_meta(store_args, name=args.secret_name, app_name=args.service_name),
                type="Opaque",
                # string_data: the provider marks it secret and stores it base64-encoded as data.
                string_data=dict(self.credentials),
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            )
            self.secret_name = self.secret.metadata.name
            # The pods read the Secret through its Output name, so the StatefulSet waits for the Secret.
            store_args = dataclasses.replace(store_args, secret_files=tuple(
                dataclasses.replace(secret_file, secret_name=self.secret_name)
                for secret_file in store_args.secret_files
            ))
        else:
            self.secret_name = pulumi.Output.from_input(args.secret_name)
        self.store = StatefulStore(f"{name}-store", store_args, pulumi.ResourceOptions(parent=self))
        self.statefulset = self.store.statefulset
        self.service = self.store.service
        self.host = self.store.host
        self.port = self.store.port
        self.endpoint = self.store.endpoint
        self.access_key_key = ACCESS_KEY_KEY
        self.secret_key_key = SECRET_KEY_KEY
        self.register_outputs({
            "host": self.host,
            "port": self.port,
            "secret_name": self.secret_name,
            "access_key_key": ACCESS_KEY_KEY,
            "secret_key_key": SECRET_KEY_KEY,
        })
