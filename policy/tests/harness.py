"""Run the pack's policies offline, the way the policy engine calls them.

Properties go through the same unknown-checking proxy the engine uses, so a test can put
`UNKNOWN_STRING` where `pulumi preview` would have a value it cannot know yet.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

UNKNOWN_STRING = UNKNOWN_STRING_VALUE
PROJECT = "aks-microservices"


def urn(resource_type: str, name: str, *, stack: str = "dev", parents: Iterable[str] = ()) -> str:
    return f"urn:pulumi:{stack}::{PROJECT}::{'$'.join([*parents, resource_type])}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])


def check_resource(policy: ResourceValidationPolicy, resource_type: str, props: Mapping[str, Any], *,
                   name: str = "resource", stack: str = "dev", config: Mapping[str, Any] | None = None,
                   resource_urn: str | None = None) -> list[str]:
    """The violations `policy` reports for one resource."""
    violations: list[str] = []
    args = ResourceValidationArgs(resource_type, unknown_checking_proxy(copy.deepcopy(dict(props))),
                                  resource_urn or urn(resource_type, name, stack=stack), name, _options(), None,
                                  dict(config) if config else None)
    policy.validate(args, lambda message, _urn=None: violations.append(message))
    return violations


def resource(resource_type: str, props: Mapping[str, Any], *, name: str = "resource",
             resource_urn: str | None = None) -> PolicyResource:
    return PolicyResource(resource_type, unknown_checking_proxy(copy.deepcopy(dict(props))),
                          resource_urn or urn(resource_type, name), name, _options(), None, None, [], {})


def check_stack(policy: StackValidationPolicy, resources: Iterable[PolicyResource], *,
                config: Mapping[str, Any] | None = None) -> list[tuple[str, str | None]]:
    """The violations `policy` reports for a stack, each with the URN it names."""
    violations: list[tuple[str, str | None]] = []
    args = StackValidationArgs(list(resources), dict(config) if config else None)
    policy.validate(args, lambda message, violating_urn=None: violations.append((message, violating_urn)))
    return violations


def check_all(policies: Iterable[Policy], resources: list[dict], config: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every violation of every policy over exported resources (`{type, name, urn, props}`), like a preview."""
    found: list[str] = []
    for policy in policies:
        policy_config = config.get(policy.name)
        if isinstance(policy, ResourceValidationPolicy):
            for item in resources:
                found += [f"{policy.name}: {m}" for m in check_resource(
                    policy, item["type"], item["props"], name=item["name"], resource_urn=item["urn"],
                    config=policy_config)]
        else:
            stack = [resource(item["type"], item["props"], name=item["name"], resource_urn=item["urn"])
                     for item in resources]
            found += [f"{policy.name}: {m}" for m, _ in check_stack(policy, stack, config=policy_config)]
    return found
