"""Production's Azure posture: no public API server, host encryption on every pool, no registry on the internet."""

from __future__ import annotations

import copy

import pytest
from aks_policies import ALL_POLICIES
from aks_policies.azure import (
    aks_api_server_not_public_in_production,
    aks_host_encryption_in_production,
    registry_not_public_in_production,
)
from harness import UNKNOWN_STRING, check_all, check_resource
from test_rendered_stacks import CONFIG, exported

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
ENCRYPTED_POOLS = {"agentPoolProfiles": [{"name": "system", "enableEncryptionAtHost": True}]}


# API server -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("access", [
    {},
    {"apiServerAccessProfile": {"enablePrivateCluster": False}},
    {"apiServerAccessProfile": {"authorizedIPRanges": []}},
    {"apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/28", "0.0.0.0/0"]}},
])
def test_a_production_api_server_open_to_any_address_is_a_violation(access):
    [violation] = check_resource(aks_api_server_not_public_in_production, CLUSTER, access, name="aks", stack="prod")
    assert "production stack 'prod'" in violation and "reachable from any address" in violation


@pytest.mark.parametrize("access", [
    {"apiServerAccessProfile": {"enablePrivateCluster": True}},
    {"apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/28"]}},
])
def test_a_private_or_range_restricted_production_api_server_passes(access):
    assert check_resource(aks_api_server_not_public_in_production, CLUSTER, access, stack="prod") == []


def test_the_classic_provider_cluster_is_checked_too():
    classic = "azure:containerservice/kubernetesCluster:KubernetesCluster"
    assert len(check_resource(aks_api_server_not_public_in_production, classic, {}, stack="prod")) == 1
    assert check_resource(aks_api_server_not_public_in_production, classic, {"privateClusterEnabled": True},
                          stack="prod") == []


def test_dev_may_keep_a_public_api_server_and_unknown_access_is_left_to_the_update():
    assert check_resource(aks_api_server_not_public_in_production, CLUSTER, {}, stack="dev") == []
    unknown = {"apiServerAccessProfile": {"enablePrivateCluster": UNKNOWN_STRING}}
    assert check_resource(aks_api_server_not_public_in_production, CLUSTER, unknown, stack="prod") == []


# Host encryption --------------------------------------------------------------------------------------------

def test_a_production_pool_without_encryption_at_host_is_a_violation():
    props = {"agentPoolProfiles": [{"name": "system", "enableEncryptionAtHost": False}]}
    [violation] = check_resource(aks_host_encryption_in_production, CLUSTER, props, name="aks", stack="prod")
    assert violation.startswith("node pool system of aks in production stack 'prod': encryption at host is off")
    [violation] = check_resource(aks_host_encryption_in_production, AGENT_POOL, {"agentPoolName": "user"}, stack="prod")
    assert violation.startswith("node pool user of")


def test_production_pools_with_encryption_at_host_pass_and_dev_is_not_judged():
    assert check_resource(aks_host_encryption_in_production, CLUSTER, ENCRYPTED_POOLS, stack="prod") == []
    assert check_resource(aks_host_encryption_in_production, AGENT_POOL,
                          {"agentPoolName": "user", "enableEncryptionAtHost": True}, stack="prod") == []
    assert check_resource(aks_host_encryption_in_production, AGENT_POOL, {"agentPoolName": "user"}, stack="dev") == []


# Registry network -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("props", [{}, {"publicNetworkAccess": "Enabled"}])
def test_a_production_registry_on_the_public_network_is_a_violation(props):
    [violation] = check_resource(registry_not_public_in_production, REGISTRY, props, name="acr", stack="prod")
    assert violation.startswith("registry acr of production stack 'prod': publicNetworkAccess")


def test_a_production_registry_off_the_public_network_passes_and_dev_is_not_judged():
    assert check_resource(registry_not_public_in_production, REGISTRY, {"publicNetworkAccess": "Disabled"},
                          stack="prod") == []
    assert check_resource(registry_not_public_in_production, REGISTRY, {}, stack="dev") == []
    classic = "azure:containerservice/registry:Registry"
    assert len(check_resource(registry_not_public_in_production, classic, {}, stack="prod")) == 1


# The real prod stack: it passes, and each invariant dropped from it is caught --------------------------------

def _violations_after(change) -> list[str]:
    resources = copy.deepcopy(exported("prod"))
    change(resources)
    return check_all(ALL_POLICIES, resources, CONFIG)


def _only(resources, resource_type):
    [found] = [r for r in resources if r["type"] == resource_type]
    return found["props"]


def test_production_with_a_public_api_server_would_be_caught():
    def public(resources):
        _only(resources, CLUSTER)["apiServerAccessProfile"] = {"enablePrivateCluster": False}
    assert [v for v in _violations_after(public) if v.startswith("aks-api-server-not-public-in-production")]


def test_production_without_host_encryption_on_the_user_pool_would_be_caught():
    def plain(resources):
        _only(resources, AGENT_POOL)["enableEncryptionAtHost"] = False
    assert [v for v in _violations_after(plain) if v.startswith("aks-host-encryption-in-production")]


def test_production_with_a_public_registry_would_be_caught():
    def public(resources):
        _only(resources, REGISTRY)["publicNetworkAccess"] = "Enabled"
    assert [v for v in _violations_after(public) if v.startswith("registry-not-public-in-production")]
