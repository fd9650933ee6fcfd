"""Secrets through Key Vault on AKS, plain Kubernetes Secrets elsewhere: what each app's pods read and from where.

On AKS (dev and prod) every generated secret is a vault secret, each app reads its own through a workload
identity federated with exactly the ServiceAccounts of its reading pods, and a SecretProviderClass syncs the
Kubernetes Secret names the apps and the MySQL operator expect. On an existing cluster (the local stack) the
same names are plain Kubernetes Secrets and nothing of Azure's workload identity appears.
"""

from __future__ import annotations

import json

import pytest
import yaml

from infra.keyvault import CLIENT_ID_ANNOTATION, USE_LABEL, WORKLOAD_IDENTITY_AUDIENCE
from offline.engine import run_stack
from offline.validate import validate_object

VAULT = "azure-native:keyvault:Vault"
VAULT_SECRET = "azure-native:keyvault:Secret"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
CLUSTER = "azure-native:containerservice:ManagedCluster"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CSI_DRIVER = "secrets-store.csi.k8s.io"
# What each app's pods read, by Kubernetes Secret name and key (the names the seeds, the apps and the operator use),
# and which workloads read them (ServiceAccounts are named like their workloads).
EXPECTED = {
    "fibonacci": ({"pgpassword": {"PGPASSWORD"}}, {"postgres-statefulset", "server-deployment"}),
    "knote": ({"minio-credentials": {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}}, {"minio", "knote"}),
    "todo": ({"mysqlpwd": {"rootUser", "rootHost", "rootPassword", "password"}},
             {"todo-api", "todo-db-init", "mysqlpwd-sync"}),
}


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.fixture(scope="module")
def local():
    return run_stack("local")


def only(recording, type_):
    [resource] = recording.of_type(type_)
    return resource


def pod_templates(recording, namespace):
    for obj in recording.k8s_objects():
        if obj["metadata"].get("namespace") != namespace:
            continue
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield obj["metadata"]["name"], obj["spec"]["template"]


def secret_names_read(template) -> set[str]:
    spec = template["spec"]
    names = {v["secret"]["secretName"] for v in spec.get("volumes") or [] if "secret" in v}
    for container in spec["containers"]:
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                names.add(ref["name"])
    return names


def csi_classes(template) -> list[str]:
    return [v["csi"]["volumeAttributes"]["secretProviderClass"] for v in template["spec"].get("volumes") or []
            if v.get("csi", {}).get("driver") == CSI_DRIVER]


def provider_objects(spc) -> list[dict]:
    """The Azure provider's `objects` parameter: a YAML array of YAML strings."""
    return [yaml.safe_load(entry) for entry in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]]


# The vault ----------------------------------------------------------------------------------------------------

def test_the_vault_authorizes_with_rbac_and_keeps_deleted_secrets(dev, prod):
    for recording in (dev, prod):
        properties = only(recording, VAULT).inputs["properties"]
        assert properties["enableRbacAuthorization"] is True
        assert properties["enableSoftDelete"] is True
        assert "accessPolicies" not in properties
        assert properties["tenantId"] == only(recording, CLUSTER).outputs["identity"]["tenantId"]


def test_dev_vault_is_cheap_to_recreate_and_prod_vault_is_purge_protected_and_private(dev, prod):
    dev_vault, prod_vault = only(dev, VAULT).inputs["properties"], only(prod, VAULT).inputs["properties"]
    # Purge protection cannot be turned off again: dev leaves it unset so a torn-down stack reuses its name.
    assert "enablePurgeProtection" not in dev_vault and dev_vault["softDeleteRetentionInDays"] == 7
    assert dev_vault["publicNetworkAccess"] == "Enabled"
    assert prod_vault["enablePurgeProtection"] is True and prod_vault["softDeleteRetentionInDays"] == 90
    assert prod_vault["publicNetworkAccess"] == "Disabled"
    assert prod_vault["networkAcls"]["defaultAction"] == "Deny"


def test_prod_vault_is_reached_over_a_private_endpoint_in_the_stacks_vnet(prod, dev):
    vault = only(prod, VAULT)
    [endpoint] = [r for r in prod.of_type("azure-native:network:PrivateEndpoint")
                  if r.name.startswith("aks-key-vault-")]
    [connection] = endpoint.inputs["privateLinkServiceConnections"]
    assert connection["privateLinkServiceId"] == vault.outputs["id"] and connection["groupIds"] == ["vault"]
    subnet = next(r for r in prod.of_type("azure-native:network:Subnet") if r.inputs["subnetName"] != "nodes")
    assert endpoint.inputs["subnet"]["id"] == subnet.outputs["id"]
    zones = [r.inputs["privateZoneName"] for r in prod.of_type("azure-native:privatedns:PrivateZone")]
    assert "privatelink.vaultcore.azure.net" in zones
    # Pods mount the class only once the vault's name resolves privately.
    [zone_group] = [r for r in prod.of_type("azure-native:network:PrivateDnsZoneGroup")
                    if r.name.startswith("aks-key-vault-")]
    spc = prod.k8s_resource("SecretProviderClass", "key-vault-secrets", "fibonacci")
    assert zone_group.urn in spc.dependencies
    assert [r for r in dev.of_type("azure-native:network:PrivateEndpoint") if r.name.startswith("aks-key-vault-")] == []


def test_a_private_only_vault_without_its_endpoint_is_one_line_naming_the_key():
    from infra_runs import main_until_error

    _, error = main_until_error("dev", {"keyVault": {"publicNetworkAccess": False, "privateEndpoint": False}})
    assert str(error).startswith("aks-microservices:keyVault.publicNetworkAccess: expected true unless "
                                 "keyVault.privateEndpoint is true")


# Per app: identity, federation, grant, provider class ---------------------------------------------------------

@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_each_app_has_its_own_identity_federated_with_exactly_its_reading_accounts(dev, app):
    _, readers = EXPECTED[app]
    [identity] = [r for r in dev.of_type(IDENTITY) if r.name == f"{app}-key-vault-identity"]
    federations = [r.inputs for r in dev.of_type(FEDERATION) if r.inputs["resourceName"] == identity.outputs["name"]]
    issuer = only(dev, CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]
    assert {f["subject"] for f in federations} == {f"system:serviceaccount:{app}:{sa}" for sa in readers}
    assert all(f["issuer"] == issuer and f["audiences"] == [WORKLOAD_IDENTITY_AUDIENCE] for f in federations)


def test_federated_credentials_of_one_identity_are_written_one_after_the_other(dev):
    # Azure refuses concurrent federated identity credential writes under the same managed identity.
    federations = [r for r in dev.of_type(FEDERATION) if r.name.startswith("todo-key-vault-")]
    assert len(federations) == 3
    urns = {r.urn for r in federations}
    waits_for = [urns & set(r.dependencies) for r in federations]
    # A chain: one starts, every other waits for exactly one, and none is waited for twice.
    assert sorted(len(w) for w in waits_for) == [0, 1, 1]
    assert len(set().union(*waits_for)) == 2


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_each_identity_may_read_secrets_of_this_vault_only(dev, app):
    [identity] = [r for r in dev.of_type(IDENTITY) if r.name == f"{app}-key-vault-identity"]
    grants = [r.inputs for r in dev.of_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] == identity.outputs["principalId"]]
    assert len(grants) == 1
    assert grants[0]["roleDefinitionId"].endswith(f"/roleDefinitions/{KEY_VAULT_SECRETS_USER}")
    assert grants[0]["scope"] == only(dev, VAULT).outputs["id"]
    assert grants[0]["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_each_app_has_one_provider_class_syncing_the_secret_names_it_reads(dev, app):
    secrets, _ = EXPECTED[app]
    [spc] = [o for o in dev.k8s_objects() if o["kind"] == "SecretProviderClass" and o["metadata"]["namespace"] == app]
    assert validate_object(spc, "1.33") == []  # against the driver's CRD (offline/schemas/crds)
    parameters = spc["spec"]["parameters"]
    vault = only(dev, VAULT)
    assert spc["spec"]["provider"] == "azure"
    assert parameters["keyvaultName"] == vault.outputs["name"] and parameters["usePodIdentity"] == "false"
    [identity] = [r for r in dev.of_type(IDENTITY) if r.name == f"{app}-key-vault-identity"]
    assert parameters["clientID"] == identity.outputs["clientId"]
    synced = {s["secretName"]: {d["key"] for d in s["data"]} for s in spc["spec"]["secretObjects"]}
    assert synced == secrets
    # Every synced key comes from a mounted object, and every object is a secret of the stack's vault.
    objects = provider_objects(spc)
    aliases = {o["objectAlias"] for o in objects}
    assert {d["objectName"] for s in spc["spec"]["secretObjects"] for d in s["data"]} == aliases
    stored = {r.inputs["secretName"] for r in dev.of_type(VAULT_SECRET) if r.inputs["vaultName"] == vault.outputs["name"]}
    assert {o["objectName"] for o in objects} <= stored and all(o["objectType"] == "secret" for o in objects)


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_only_the_pods_that_read_a_secret_mount_the_store_and_carry_the_identity(dev, app):
    secrets, readers = EXPECTED[app]
    [identity] = [r for r in dev.of_type(IDENTITY) if r.name == f"{app}-key-vault-identity"]
    accounts = {o["metadata"]["name"]: o for o in dev.k8s_objects()
                if o["kind"] == "ServiceAccount" and o["metadata"]["namespace"] == app}
    mounting = set()
    for name, template in pod_templates(dev, app):
        reads = secret_names_read(template) & set(secrets)
        labelled = (template["metadata"].get("labels") or {}).get(USE_LABEL) == "true"
        account = accounts[template["spec"]["serviceAccountName"]]
        annotated = (account["metadata"].get("annotations") or {}).get(CLIENT_ID_ANNOTATION)
        if csi_classes(template):
            mounting.add(name)
            assert csi_classes(template) == ["key-vault-secrets"], name
            assert labelled and annotated == identity.outputs["clientId"], name
        else:
            # A pod reading a synced Secret must mount the store (the driver syncs only for mounting pods).
            assert not reads, f"{name} reads {reads} without mounting the store"
            assert not labelled and annotated is None, name
    assert mounting == readers


def test_no_app_creates_a_kubernetes_secret_on_aks_the_driver_syncs_them(dev):
    assert [o["metadata"]["name"] for o in dev.k8s_objects() if o["kind"] == "Secret"] == []


@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_every_vault_secret_holds_a_generated_value_recorded_as_secret(dev, app):
    generated = {r.outputs["result"] for r in dev.of_type(RANDOM_PASSWORD)}
    stored = [r for r in dev.of_type(VAULT_SECRET) if r.inputs["secretName"].startswith(f"{app}-")]
    assert stored
    for secret in stored:
        assert {"properties", "properties.value"} & set(secret.secret_paths), secret.name
        value = secret.inputs["properties"]["value"]
        assert value in generated or value in ("root", "%"), secret.name  # the operator's fixed root account
        assert secret.protect is True  # the store was initialised with it
    assert any(s.inputs["properties"]["value"] in generated for s in stored)


def test_the_mysql_operator_finds_mysqlpwd_synced_before_the_cluster_exists(dev):
    """The operator reads Secret `mysqlpwd` through the API, not a volume: Deployment `mysqlpwd-sync` mounts the
    store (so the driver syncs it) and the InnoDBCluster waits for that Deployment to be ready."""
    holder = dev.k8s_resource("Deployment", "mysqlpwd-sync", "todo")
    cluster = dev.k8s_resource("InnoDBCluster", "todo-mysql", "todo")
    assert holder.urn in cluster.dependencies
    assert cluster.inputs["spec"]["secretName"] == "mysqlpwd"
    template = holder.inputs["spec"]["template"]
    assert csi_classes(template) == ["key-vault-secrets"]
    assert holder.inputs["spec"]["replicas"] == 1
    [container] = template["spec"]["containers"]
    assert container["command"] == ["sleep", "infinity"] and "ports" not in container


def test_stack_outputs_name_the_vault(dev):
    vault = only(dev, VAULT).outputs
    assert dev.stack_outputs["keyVaultName"] == vault["name"]
    assert dev.stack_outputs["keyVaultUri"] == f"https://{vault['name']}.vault.azure.net/"


# Elsewhere: plain Kubernetes Secrets --------------------------------------------------------------------------

@pytest.mark.parametrize("app", sorted(EXPECTED))
def test_an_existing_cluster_reads_the_same_secret_names_from_plain_kubernetes_secrets(local, app):
    secrets, _ = EXPECTED[app]
    for name, keys in secrets.items():
        secret = local.k8s_resource("Secret", name, app)
        assert set(secret.inputs["stringData"]) == keys
        assert any(path.startswith("stringData") for path in secret.secret_paths)
    for _, template in pod_templates(local, app):
        assert csi_classes(template) == []
        assert USE_LABEL not in (template["metadata"].get("labels") or {})


def test_an_existing_cluster_has_no_azure_resource_provider_class_or_workload_identity(local):
    assert [r.type for r in local.resources if r.type.startswith("azure-native:")] == []
    assert [o for o in local.k8s_objects() if o["kind"] == "SecretProviderClass"] == []
    text = json.dumps(local.k8s_objects())
    assert CLIENT_ID_ANNOTATION not in text and USE_LABEL not in text
    assert local.k8s_resource("Deployment", "todo-api", "todo")  # the apps are there
    assert [o for o in local.k8s_objects() if o["metadata"]["name"] == "mysqlpwd-sync"] == []
