"""The aks-microservices policy pack: every policy, in the order `pulumi preview --policy-pack` reports them."""

from . import availability, azure, stack, workloads

PACK_NAME = "aks-microservices"
ALL_POLICIES = [*workloads.POLICIES, *stack.POLICIES, *azure.POLICIES, *availability.POLICIES]

__all__ = ["ALL_POLICIES", "PACK_NAME"]
