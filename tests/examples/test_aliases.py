"""Renaming or re-parenting resources keeps existing stacks intact through aliases.

Pulumi matches a renamed component's children to their old selves by name: a child whose name starts with its
parent's name inherits the parent's alias, with the old parent name in place of the new one. The components
name every child from its parent, so renaming a component instance only needs `aliases` on the component
(tests/environments checks that every child of every stack is so named).
"""

from __future__ import annotations

import pulumi
import pytest

from components import StatelessService, StatelessServiceArgs
from offline.engine import PROJECT_DIR, RecordedResource, Recording, run, run_stack

OLD, NEW = "web", "storefront"


def service(name: str, opts: pulumi.ResourceOptions | None = None) -> StatelessService:
    return StatelessService(name, StatelessServiceArgs(
        namespace="shop", part_of="shop", component="frontend", image="nginx:1.27", port=8080,
        deployment_name="web", replicas=2), opts)


def urn_of(stack: str, project: str, parent_urn: str | None, type_: str, name: str) -> str:
    """A URN as the engine (and the offline mocks) build it: the parent's type qualifies the child's."""
    qualified = f"{parent_urn.split('::')[2].split('$')[-1]}${type_}" if parent_urn else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def inherited_aliases(recording: Recording, renamed: RecordedResource, old_name: str) -> dict[str, str]:
    """new URN -> the old URN Pulumi matches it with, for the renamed resource and all of its descendants."""
    aliases = {renamed.urn: urn_of(recording.stack, recording.project, renamed.parent_urn, renamed.type, old_name)}
    pending = [(renamed, old_name)]
    while pending:
        parent, parent_old_name = pending.pop()
        for child in recording.children_of(parent.urn):
            child_old = (parent_old_name + child.name[len(parent.name):]) if child.name.startswith(parent.name) \
                else child.name
            aliases[child.urn] = urn_of(recording.stack, recording.project, aliases[parent.urn], child.type, child_old)
            pending.append((child, child_old))
    return aliases


@pytest.fixture(scope="module")
def before_and_after():
    before = run(lambda: service(OLD))
    after = run(lambda: service(NEW, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=OLD)])))
    return before, after


def names(aliases: tuple[str, ...], old_urn: str) -> bool:
    """The engine records an alias as the old name today, as the old URN once it resolves alias specs."""
    return aliases in ((old_urn.rsplit("::", 1)[-1],), (old_urn,))


def test_the_renamed_component_carries_its_alias(before_and_after):
    before, after = before_and_after
    [old] = before.of_type("aks-microservices:components:StatelessService")
    [component] = after.of_type("aks-microservices:components:StatelessService")
    assert (old.name, component.name) == (OLD, NEW)
    assert names(component.aliases, old.urn)


def test_every_resource_of_the_existing_stack_is_matched_so_nothing_is_replaced(before_and_after):
    before, after = before_and_after
    [component] = after.of_type("aks-microservices:components:StatelessService")
    matched = inherited_aliases(after, component, OLD)
    assert sorted(matched.values()) == sorted(r.urn for r in before.resources)
    assert len(after.resources) == len(before.resources)  # and nothing new appears


def test_the_example_stack_keeps_its_renamed_service_through_an_alias(installed_package):
    example = run_stack("kind", project_dir=PROJECT_DIR / "examples" / "existing-cluster")
    [greeter] = [r for r in example.of_type("aks-microservices:components:StatelessService") if r.name == "greeter"]
    assert names(greeter.aliases, greeter.urn.rsplit("::", 1)[0] + "::web")
    assert {c.name for c in example.children_of(greeter.urn)} >= {"greeter-deployment", "greeter-service"}


def test_a_re_parented_child_records_the_urn_it_had_before():
    def before():
        pulumi.ComponentResource("demo:index:Part", "group-part")

    def after():  # the part moved under a new group; the alias names where it was
        group = pulumi.ComponentResource("demo:index:Group", "group")
        pulumi.ComponentResource("demo:index:Part", "group-part", opts=pulumi.ResourceOptions(
            parent=group, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)]))

    [old] = run(before).of_type("demo:index:Part")
    [moved] = run(after).of_type("demo:index:Part")
    assert moved.urn != old.urn
    assert moved.aliases == (old.urn,)
