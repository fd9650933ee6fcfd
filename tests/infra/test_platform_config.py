"""Platform config: defaults, and every bad value or combination stopped with one line before any resource exists."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from infra_runs import main_until_error

from settings import ConfigError, StackSettings
from settings.schema import load_section

KEY_VAULT = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-dev"
USER_SECRET = "https://kv-dev.vault.azure.net/secrets/dockerhub-user"
TOKEN_SECRET = "https://kv-dev.vault.azure.net/secrets/dockerhub-token"
GROUP = "5f2c6a1e-0b7d-4c1e-9a57-3d2b8e4f6a10"


def load(raw: dict) -> StackSettings:
    return load_section(StackSettings, raw)


def test_platform_defaults_are_an_aks_cluster_of_three_system_nodes_with_monitoring_and_image_cache():
    platform = load({}).platform
    assert platform.kind == "aks"
    assert platform.cluster.node_count == 3
    assert platform.cluster.user_pool.enabled
    assert platform.cluster.sku_tier == "Free"
    assert platform.monitoring.container_insights is True
    assert platform.registry.cache_images is True
    assert platform.registry.credential_set.configured is False
    assert platform.existing.ingress_class == "nginx"
    assert platform.existing.exposure == "LoadBalancer"
    assert platform.existing.per_replica_storage_class is None


def test_zones_may_be_written_as_numbers_and_become_the_strings_azure_wants():
    assert load({"cluster": {"zones": [1, 2, "3"]}}).platform.cluster.zones == ("1", "2", "3")


def test_the_dev_stack_file_loads_as_a_complete_example():
    # Every platform section of Pulumi.dev.yaml is spelled out; it must load as it stands.
    import yaml

    from offline.engine import PROJECT_DIR

    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    raw = {key.split(":", 1)[1]: value for key, value in document["config"].items()}
    assert {"platform", "azure", "cluster", "registry", "monitoring", "storage", "ingress"} <= set(raw)
    assert load(raw).platform.kind == "aks"


# Every error path: (config overrides, the exact one-line message) ----------------------------------------

N = "aks-microservices"
ERRORS = [
    ({"cluster": {"nodeCount": "three"}}, f'{N}:cluster.nodeCount: expected an integer from 1 to 100, got "three"'),
    ({"cluster": {"nodeCount": 0}}, f"{N}:cluster.nodeCount: expected an integer from 1 to 100, got 0"),
    ({"platform": "gke"}, f'{N}:platform: expected one of "aks", "existing", got "gke"'),
    (
        {"cluster": {"userPool": {"minCount": 6, "maxCount": 3}}},
        f"{N}:cluster.userPool.minCount: expected at most userPool.maxCount (3), got 6",
    ),
    (
        {"cluster": {"systemPool": {"minCount": 2}}},
        f"{N}:cluster.systemPool.minCount: expected minCount and maxCount set together (both or neither), got 2",
    ),
    (
        {"cluster": {"systemPool": {"minCount": 4, "maxCount": 2}}},
        f"{N}:cluster.systemPool.minCount: expected at most systemPool.maxCount (2), got 4",
    ),
    (
        {"cluster": {"nodeCount": 6, "systemPool": {"minCount": 1, "maxCount": 5}}},
        f"{N}:cluster.nodeCount: expected an integer from systemPool.minCount to systemPool.maxCount (1-5), got 6",
    ),
    (
        {"cluster": {"zones": ["4"]}},
        f"{N}:cluster.zones: expected a list of availability zones \"1\", \"2\", \"3\" without duplicates, got ['4']",
    ),
    (
        {"cluster": {"zones": ["1", "1"]}},
        f"{N}:cluster.zones: expected a list of availability zones \"1\", \"2\", \"3\" without duplicates, got ['1', '1']",
    ),
    ({"cluster": {"skuTier": "Premium"}}, f'{N}:cluster.skuTier: expected one of "Free", "Standard", got "Premium"'),
    (
        {"cluster": {"upgradeChannel": "weekly"}},
        f'{N}:cluster.upgradeChannel: expected one of "none", "patch", "stable", "rapid", "node-image", got "weekly"',
    ),
    (
        {"cluster": {"systemPool": {"vmSize": "D4s_v5"}}},
        f'{N}:cluster.systemPool.vmSize: expected an Azure VM size such as "Standard_D4s_v5", got "D4s_v5"',
    ),
    (
        {"cluster": {"disableLocalAccounts": True}},
        f"{N}:cluster.disableLocalAccounts: expected false unless cluster.entraId is true, got True",
    ),
    (
        {"cluster": {"azureRbac": True}},
        f"{N}:cluster.azureRbac: expected false unless cluster.entraId is true, got True",
    ),
    (
        {"cluster": {"adminGroupObjectIds": [GROUP]}},
        f"{N}:cluster.adminGroupObjectIds: expected [] unless cluster.entraId is true, got ['{GROUP}']",
    ),
    (
        {"cluster": {"entraId": True}},
        f"{N}:cluster.adminGroupObjectIds: expected at least one group (with the deploying identity in it) "
        "when entraId is on and azureRbac is off, got []",
    ),
    (
        {"cluster": {"entraId": True, "adminGroupObjectIds": ["admins"]}},
        f"{N}:cluster.adminGroupObjectIds: expected a list of Entra ID object ids (UUIDs) without duplicates, got ['admins']",
    ),
    ({"registry": {"sku": "Free"}}, f'{N}:registry.sku: expected one of "Basic", "Standard", "Premium", got "Free"'),
    (
        {"registry": {"name": "my-registry"}},
        f'{N}:registry.name: expected a container registry name (5-50 letters and digits, globally unique) or null, '
        'got "my-registry"',
    ),
    (
        {"registry": {"credentialSet": {"usernameSecretId": USER_SECRET, "keyVaultId": KEY_VAULT}}},
        f"{N}:registry.credentialSet.passwordSecretId: expected a value: usernameSecretId, passwordSecretId and "
        "keyVaultId go together, got None",
    ),
    (
        {
            "registry": {
                "cacheImages": False,
                "credentialSet": {"usernameSecretId": USER_SECRET, "passwordSecretId": TOKEN_SECRET, "keyVaultId": KEY_VAULT},
            }
        },
        f'{N}:registry.credentialSet.usernameSecretId: expected no value when registry.cacheImages is false, got "{USER_SECRET}"',
    ),
    (
        {"registry": {"credentialSet": {"usernameSecretId": "dockerhub-user"}}},
        f'{N}:registry.credentialSet.usernameSecretId: expected a Key Vault secret URI such as '
        '"https://myvault.vault.azure.net/secrets/dockerhub-user" or null, got "dockerhub-user"',
    ),
    (
        {"monitoring": {"retentionInDays": 7}},
        f"{N}:monitoring.retentionInDays: expected an integer from 30 to 730, got 7",
    ),
    (
        {"monitoring": {"containerInsights": "sometimes"}},
        f'{N}:monitoring.containerInsights: expected true or false, got "sometimes"',
    ),
    (
        {"storage": {"sharedSku": "Premium_GRS"}},
        f'{N}:storage.sharedSku: expected one of "Standard_LRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS", '
        'got "Premium_GRS"',
    ),
    (
        {"storage": {"sharedClassName": "managed-retain-disk"}},
        f'{N}:storage.sharedClassName: expected a name other than storage.perReplicaClassName, got "managed-retain-disk"',
    ),
    (
        {"azure": {"location": "West Europe"}},
        f'{N}:azure.location: expected an Azure region name such as "westeurope" (lowercase letters and digits), '
        'got "West Europe"',
    ),
    (
        {"ingress": {"controllerExposure": "None"}},
        f'{N}:ingress.controllerExposure: expected one of "External", "Internal", "AnnotationControlled", got "None"',
    ),
    (
        {"cluster": {"nodecount": 3}},
        f"{N}:cluster.nodecount: unknown key (did you mean 'nodeCount'?); allowed keys: adminGroupObjectIds, "
        "authorizedIpRanges, azurePolicy, azureRbac, defender, disableLocalAccounts, encryptionAtHost, entraId, "
        "imageCleanerIntervalHours, maxPods, name, nodeCount, nodeOsUpgradeChannel, privateCluster, skuTier, "
        "systemPool, upgradeChannel, userPool, zones",
    ),
    (
        # Below 1.27 the workloads' matchLabelKeys and unhealthyPodEvictionPolicy are off by default.
        {"kubernetesVersion": "1.26"},
        f'{N}:kubernetesVersion: expected a supported minor version from "1.27" to "1.37", got "1.26"',
    ),
    (
        {"registry": {"cache": True}},
        f"{N}:registry.cache: unknown key; allowed keys: cacheImages, credentialSet, exportsAllowed, name, "
        "privateEndpoint, publicNetworkAccess, quarantine, retentionDays, sku, zoneRedundancy",
    ),
    (
        {"existing": {"kubeconfig": "~/.kube/config"}},
        f'{N}:existing.kubeconfig: expected no value with platform "aks" (set platform: existing to use it), '
        'got "~/.kube/config"',
    ),
    (
        {"platform": "existing", "cluster": {"nodeCount": 5}},
        f'{N}:cluster.nodeCount: expected no value with platform "existing" (it applies to platform "aks"), got 5',
    ),
    (
        {"platform": "existing", "existing": {"exposure": "ClusterIP"}},
        f'{N}:existing.exposure: expected one of "LoadBalancer", "NodePort", got "ClusterIP"',
    ),
    (
        {"platform": "existing", "existing": {"ingressClass": "Nginx"}},
        f"{N}:existing.ingressClass: expected a Kubernetes object name (lowercase letters, digits, '-', '.'), "
        'got "Nginx"',
    ),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS, ids=[m.split(":")[1] for _, m in ERRORS])
def test_bad_platform_config_stops_the_program_with_one_line_and_registers_nothing(overrides, message):
    # The dev stack (an aks stack) holds no `existing` keys, the local stack no aks keys: start from the one
    # whose platform the overrides pick, so that the error is about the override alone.
    stack = "local" if overrides.get("platform") == "existing" else "dev"
    recording, error = main_until_error(stack, overrides)
    assert error is not None, "the program accepted the config"
    assert str(error) == message
    assert recording.resources == []


def test_config_errors_are_config_errors_before_main_turns_them_into_run_errors():
    with pytest.raises(ConfigError, match=re.escape('cluster.nodeCount: expected an integer from 1 to 100, got "three"')):
        load({"cluster": {"nodeCount": "three"}})


def test_a_complete_entra_id_setup_loads():
    cluster = load(
        {"cluster": {"entraId": True, "azureRbac": True, "disableLocalAccounts": True, "adminGroupObjectIds": [GROUP]}}
    ).platform.cluster
    assert (cluster.entra_id, cluster.azure_rbac, cluster.disable_local_accounts) == (True, True, True)


# Any config either loads, with its invariants holding, or is a ConfigError ------------------------------

counts = st.one_of(st.integers(-2, 120), st.sampled_from(["3", "three", None, True, 2.5]))
texts = st.one_of(st.text(max_size=12), st.sampled_from(["Standard_D4s_v5", "westeurope", "nginx", ""]), st.none())
flags = st.one_of(st.booleans(), st.sampled_from(["true", "false", "yes", 1, None]))
zones = st.one_of(st.lists(st.sampled_from(["1", "2", "3", "4", 1, 2, 0, "a"]), max_size=4), st.just("1,2"))


def maybe(**fields):
    """A dict holding any subset of the given fields (absent keys take their defaults)."""
    return st.fixed_dictionaries({}, optional=fields)


platform_configs = maybe(
    platform=st.sampled_from(["aks", "existing", "gke", 1]),
    cluster=st.one_of(
        maybe(
            nodeCount=counts,
            systemPool=maybe(vmSize=texts, minCount=counts, maxCount=counts),
            userPool=maybe(enabled=flags, vmSize=texts, minCount=counts, maxCount=counts),
            zones=zones,
            skuTier=st.sampled_from(["Free", "Standard", "Premium", "free"]),
            upgradeChannel=st.sampled_from(["patch", "stable", "none", "weekly"]),
            entraId=flags,
            azureRbac=flags,
            disableLocalAccounts=flags,
            adminGroupObjectIds=st.lists(st.sampled_from([GROUP, "admins"]), max_size=2),
            surprise=st.just(1),
        ),
        st.sampled_from(["big", 3, None]),
    ),
    registry=maybe(
        name=texts,
        sku=st.sampled_from(["Basic", "Premium", "Free"]),
        cacheImages=flags,
        credentialSet=maybe(
            usernameSecretId=st.sampled_from([USER_SECRET, "x", None]),
            passwordSecretId=st.sampled_from([TOKEN_SECRET, None]),
            keyVaultId=st.sampled_from([KEY_VAULT, "kv", None]),
        ),
    ),
    monitoring=maybe(containerInsights=flags, retentionInDays=counts),
    storage=maybe(
        perReplicaClassName=texts,
        sharedClassName=st.sampled_from(["azurefile-retain-rwx", "managed-retain-disk", "Bad"]),
        sharedMountUid=counts,
    ),
    existing=maybe(
        kubeconfig=texts, context=texts, exposure=st.sampled_from(["LoadBalancer", "NodePort", "ClusterIP"])
    ),
    azure=maybe(location=texts, tags=st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()))),
)


@given(platform_configs)
def test_any_platform_config_loads_consistently_or_raises_a_config_error(raw):
    try:
        platform = load(raw).platform
    except ConfigError as error:
        message = str(error)
        assert message.startswith("aks-microservices:")
        assert "\n" not in message
        return
    cluster = platform.cluster
    assert 1 <= cluster.node_count <= 100
    assert cluster.user_pool.min_count <= cluster.user_pool.max_count
    if cluster.system_pool.min_count is not None:
        assert cluster.system_pool.min_count <= cluster.node_count <= cluster.system_pool.max_count
    assert set(cluster.zones) <= {"1", "2", "3"}
    if cluster.disable_local_accounts or cluster.azure_rbac:
        assert cluster.entra_id
    if platform.kind == "existing":
        assert platform.cluster == type(platform.cluster)()
