"""Smilr (seed 000): data-api and frontend behind public Services, MongoDB as a StatefulSet with a disk per replica.

The frontend hands `API_ENDPOINT` to the browser, so it must be the data-api's public address: it is wired from
the data-api Service's load-balancer output (or `apps.smilr.apiEndpoint` where Services are not load balancers).
The frontend pods therefore dial nothing in the cluster; the data-api's declared connection to `mongodb-svc`
is the only way into MongoDB, and it carries MONGO_CONNSTR.
"""

from __future__ import annotations

import pulumi

from components import (
    Connection,
    HttpProbe,
    StatelessService,
    StatelessServiceArgs,
    TcpProbe,
)
from infra import Platform
from settings import StackSettings
from settings.apps.smilr import SmilrSettings
from settings.schema import NAMESPACE as CONFIG_NAMESPACE
from settings.schema import ConfigError
from stacks.common import open_app, public_service_type, pull_policy
from stacks.mongodb import mongodb_store

KEY = "smilr"
NAMESPACE = "smilr"
# The `node` user (uid/gid 1000) of the node:*-alpine images both Smilr services are built on; they would
# run as root, but only read their code and need nothing root can do.
NODE_USER = 1000
# `npm start` writes its logs and update-check state below $HOME/.npm; everything else is read-only.
NODE_WRITABLE_PATHS = ("/tmp", "/home/node/.npm")


def _image_refs(app: SmilrSettings) -> dict[str, str]:
    # The seed's mongo:3.4-jessie has been out of support since 2020. 7.0 is a maintained release that the
    # data-api's Node driver (3.x, via mongoose 5) still speaks to: it uses OP_MSG against servers >= 3.6, and
    # the legacy opcodes that servers refuse from 6.0 on are used only by drivers older than 3.0.
    # Configurable: mongoTag.
    return {
        "data-api": f"smilr/data-api:{app.image_tag}",
        "frontend": f"smilr/frontend:{app.image_tag}",
        "mongodb": f"mongo:{app.mongo_tag}",
    }


def images(settings: SmilrSettings) -> set[str]:
    return set(_image_refs(settings).values())


def deploy(settings: StackSettings, platform: Platform) -> dict[str, pulumi.Input]:
    app = settings.apps.smilr
    service_type = public_service_type(platform)
    if service_type != "LoadBalancer" and app.api_endpoint is None:
        # Without a load balancer there is no address to hand to browsers: the user must say where the API is.
        raise ConfigError(
            f"{CONFIG_NAMESPACE}:apps.smilr.apiEndpoint: expected the data API's public URL when Services are "
            f"exposed as {service_type}, got null"
        )
    scope = open_app(KEY, NAMESPACE, settings, platform)
    refs = _image_refs(app)

    mongodb = mongodb_store(
        "smilr-mongodb",
        scope,
        image=scope.image(refs["mongodb"]),
        container_name="mongodb-pod",
        statefulset_name="mongodb",
        # The seed named `serviceName: mongodb` without creating it: this is that headless Service.
        headless_service_name="mongodb",
        service_name="mongodb-svc",
        claim_name="mongo-vol",
        size="500M",
    )
    data_api = StatelessService(
        "smilr-data-api",
        StatelessServiceArgs(
            namespace=scope.namespace_name,
            part_of=KEY,
            component="api",
            image=scope.image(refs["data-api"]),
            image_pull_policy=pull_policy(app.image_tag),
            deployment_name="data-api",
            service_name="data-api-svc",
            service_type=service_type,
            port=4000,
            port_name="http",
            service_port=80,
            replicas=app.data_api_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.data_api_replicas, "apps.smilr.dataApiReplicas"),
            # The seed's `mongodb://mongodb-svc.<namespace>` (the default port), from the store's Service.
            connects_to=(Connection(to=mongodb.endpoint, env={"MONGO_CONNSTR": "mongodb://{host}.{namespace}"}),),
            # The data-api listens at once but exits when Mongo stays unreachable for 30 s, so it restarts until
            # Mongo is up: readiness follows /api/health (503 until the database is connected), liveness only
            # checks the port, slowly, so a Mongo outage is never answered by killing healthy API pods.
            readiness_probe=HttpProbe(path="/api/health", period_seconds=10, timeout_seconds=5),
            liveness_probe=TcpProbe(period_seconds=20, timeout_seconds=5, failure_threshold=6),
            startup_probe=TcpProbe(period_seconds=5, failure_threshold=60),
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=NODE_WRITABLE_PATHS,
        ),
        scope.opts(),
    )
    # Read by the browser: the data-api's external address, never an in-cluster name.
    api_endpoint = app.api_endpoint or pulumi.Output.concat("http://", data_api.load_balancer_address, "/api")

    frontend = StatelessService(
        "smilr-frontend",
        StatelessServiceArgs(
            namespace=scope.namespace_name,
            part_of=KEY,
            component="frontend",
            image=scope.image(refs["frontend"]),
            image_pull_policy=pull_policy(app.image_tag),
            deployment_name="frontend",
            service_name="frontend-svc",
            service_type=service_type,
            port=3000,
            port_name="http",
            service_port=80,
            replicas=app.frontend_replicas,
            zone_spread=scope.zone_spread,
            disruption_allowed=scope.single_replica(app.frontend_replicas, "apps.smilr.frontendReplicas"),
            env={"API_ENDPOINT": api_endpoint},
            readiness_probe=HttpProbe(path="/", timeout_seconds=5),
            liveness_probe=TcpProbe(period_seconds=20, timeout_seconds=5, failure_threshold=3),
            run_as_user=NODE_USER,
            run_as_group=NODE_USER,
            writable_paths=NODE_WRITABLE_PATHS,
        ),
        scope.opts(),
    )

    outputs: dict[str, pulumi.Input] = {
        "apiEndpoint": api_endpoint,
        "mongodb": pulumi.Output.concat(mongodb.host, ":", str(mongodb.port)),
    }
    if service_type == "LoadBalancer":
        outputs["frontendUrl"] = pulumi.Output.concat("http://", frontend.load_balancer_address)
    else:
        outputs["frontendService"] = pulumi.Output.concat(frontend.host, f" ({service_type})")
    return scope.finish(outputs)
