"""The platform the apps run on: what `stacks/` needs to know about the cluster, and how to build it."""

from infra.platform import Platform, build_platform

__all__ = ["Platform", "build_platform"]
