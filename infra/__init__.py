"""The platform the apps run on: what `stacks/` needs to know about the cluster, and how to build it."""

from infra.platform import AppSecrets, Platform, SecretShape, build_platform

__all__ = ["AppSecrets", "Platform", "SecretShape", "build_platform"]
