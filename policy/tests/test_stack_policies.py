"""Stack policies: no store behind a public load balancer, no Secret value copied into an env literal."""

from __future__ import annotations

import base64

from aks_policies.stack import no_secret_values_in_env, no_store_load_balancers
from harness import UNKNOWN_STRING, check_stack, resource, urn
from manifests import DEPLOYMENT, compliant_container, deployment, pod_spec

SERVICE = "kubernetes:core/v1:Service"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SECRET = "kubernetes:core/v1:Secret"
STORE = "aks-microservices:components:StatefulStore"


def service(name: str, service_type: str, selector: dict, namespace: str = "shop") -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": service_type, "selector": selector, "ports": [{"port": 80}]}}


def statefulset(name: str = "mongo", namespace: str = "shop") -> dict:
    manifest = deployment(name=name, namespace=namespace)
    manifest["kind"] = "StatefulSet"
    return manifest


def test_a_load_balancer_inside_a_store_component_is_a_violation():
    service_urn = urn(SERVICE, "mongo-service", parents=["aks-microservices:apps:App", STORE])
    lb = resource(SERVICE, service("mongo", "LoadBalancer", {"app.kubernetes.io/name": "mongo"}),
                  name="mongo-service", resource_urn=service_urn)
    [(message, violating)] = check_stack(no_store_load_balancers, [lb])
    assert "Service shop/mongo is a LoadBalancer inside a StatefulStore" in message
    assert violating == service_urn


def test_a_load_balancer_that_selects_statefulset_pods_is_a_violation_whoever_built_it():
    resources = [resource(STATEFUL_SET, statefulset(), name="mongo"),
                 resource(SERVICE, service("mongo-public", "LoadBalancer", {"app.kubernetes.io/name": "mongo"}))]
    [(message, _)] = check_stack(no_store_load_balancers, resources)
    assert "selects the pods of StatefulSet shop/mongo" in message


def test_private_store_services_and_public_app_services_pass():
    resources = [
        resource(STATEFUL_SET, statefulset(), name="mongo"),
        resource(DEPLOYMENT, deployment(name="web"), name="web"),
        resource(SERVICE, service("mongo", "ClusterIP", {"app.kubernetes.io/name": "mongo"}),
                 resource_urn=urn(SERVICE, "mongo-service", parents=[STORE])),
        resource(SERVICE, service("web", "LoadBalancer", {"app.kubernetes.io/name": "web"})),
        # Same labels, another namespace: not the store's pods.
        resource(SERVICE, service("mongo-elsewhere", "LoadBalancer", {"app.kubernetes.io/name": "mongo"}, "other")),
    ]
    assert check_stack(no_store_load_balancers, resources) == []


def secret(data: dict | None = None, string_data: dict | None = None) -> dict:
    manifest = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"}}
    if data is not None:
        manifest["data"] = data
    if string_data is not None:
        manifest["stringData"] = string_data
    return manifest


def app_with_env(value: str) -> dict:
    return deployment(pod_spec(compliant_container(env=[{"name": "DATABASE_URL", "value": value}])))


def test_an_env_literal_holding_a_secret_value_is_a_violation():
    resources = [resource(SECRET, secret(string_data={"password": "s3cr3t-pa55word"})),
                 resource(DEPLOYMENT, app_with_env("postgres://app:s3cr3t-pa55word@db:5432/app"), name="web")]
    [(message, _)] = check_stack(no_secret_values_in_env, resources)
    assert "env DATABASE_URL holds the value of Secret shop/db key password" in message
    assert "s3cr3t" not in message


def test_a_key_vault_secret_value_in_an_env_literal_is_a_violation_too():
    # On AKS the Kubernetes Secret is synced from Key Vault at run time: the vault secret holds the value.
    vault_secret = {"secretName": "shop-db-password", "vaultName": "kv1", "properties": {"value": "vault-pa55word"}}
    resources = [resource("azure-native:keyvault:Secret", vault_secret, name="db-password"),
                 resource(DEPLOYMENT, app_with_env("postgres://app:vault-pa55word@db:5432/app"), name="web")]
    [(message, _)] = check_stack(no_secret_values_in_env, resources)
    assert "Key Vault secret shop-db-password" in message and "pa55word" not in message


def test_base64_secret_data_is_decoded_before_comparing():
    encoded = base64.b64encode(b"another-long-secret").decode()
    resources = [resource(SECRET, secret(data={"token": encoded})),
                 resource(DEPLOYMENT, app_with_env("another-long-secret"), name="web")]
    assert len(check_stack(no_secret_values_in_env, resources)) == 1


def test_short_unknown_or_unrelated_values_do_not_count():
    resources = [
        resource(SECRET, secret(string_data={"rootUser": "root", "password": UNKNOWN_STRING})),
        resource(DEPLOYMENT, app_with_env("mysql://root@todo-mysql"), name="web"),
    ]
    assert check_stack(no_secret_values_in_env, resources) == []
    assert check_stack(no_secret_values_in_env, resources, config={"minSecretLength": 4}) != []
