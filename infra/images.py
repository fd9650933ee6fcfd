"""Container image references: parsing, and the ACR artifact-cache rules that serve public images.

Pure functions, no resources: the registry module turns `CacheRuleSpec`s into `CacheRule` resources, and
`Platform.image` uses the same parsing to rewrite a workload's reference to the registry's copy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})

# Upstream registries that ACR artifact cache can pull from. Images of any other registry are pulled
# from their registry directly, unchanged.
CACHEABLE_REGISTRIES = frozenset(
    {DOCKER_HUB, "mcr.microsoft.com", "ghcr.io", "quay.io", "public.ecr.aws", "registry.k8s.io"}
)

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}")
_REGISTRY = re.compile(r"[a-zA-Z0-9.-]+(?::[0-9]+)?")

# ACR cache rule names: 5-50 letters, digits and '-'.
_RULE_NAME_MIN, _RULE_NAME_MAX = 5, 50


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference, e.g. `mongo:7.0` -> docker.io / library/mongo / 7.0."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def upstream(self) -> str:
        """The repository with its registry: what an ACR cache rule names as its source."""
        return f"{self.registry}/{self.repository}"

    @property
    def version(self) -> str:
        """`:tag`, `@digest` or both; an untagged reference means `:latest`, written out."""
        if self.digest and not self.tag:
            return f"@{self.digest}"
        return f":{self.tag or 'latest'}" + (f"@{self.digest}" if self.digest else "")


def parse_image(reference: str) -> ImageRef:
    """Parse a reference like `mongo`, `smilr/data-api`, `quay.io/minio/minio:RELEASE.x` or `x@sha256:...`."""
    if not isinstance(reference, str) or not reference or reference != reference.strip():
        raise ValueError(f"image reference {reference!r}: expected [registry/]repository[:tag][@digest]")
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    parts = name.split("/")
    registry = DOCKER_HUB
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry, parts = parts[0], parts[1:]
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if len(parts) == 1:
            parts = ["library", *parts]  # Docker Hub official images
    problems = []
    if not _REGISTRY.fullmatch(registry):
        problems.append("registry")
    if not parts or not all(_COMPONENT.fullmatch(p) for p in parts):
        problems.append("repository (lowercase letters, digits, '.', '_', '-', '/')")
    if tag is not None and not _TAG.fullmatch(tag):
        problems.append("tag")
    if digest and not _DIGEST.fullmatch(digest):
        problems.append("digest")
    if "@" in reference and not digest:
        problems.append("digest")
    if problems:
        raise ValueError(f"image reference {reference!r}: invalid {' and '.join(problems)}")
    return ImageRef(registry=registry.lower(), repository="/".join(parts), tag=tag, digest=digest or None)


@dataclass(frozen=True)
class CacheRuleSpec:
    """One ACR artifact-cache rule: pulls of `target_repository` from the registry come from `source_repository`."""

    name: str
    source_repository: str
    target_repository: str

    @property
    def from_docker_hub(self) -> bool:
        return self.source_repository.startswith(DOCKER_HUB + "/")


def cache_target(image: ImageRef) -> str:
    # Docker Hub repositories keep their path (`library/mongo`); other registries' paths are prefixed with
    # the registry host so that two registries' `foo/bar` never share a target repository.
    return image.repository if image.registry == DOCKER_HUB else f"{image.registry}/{image.repository}"


def _rule_name(target: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9]+", "-", target).strip("-")
    if _RULE_NAME_MIN <= len(name) <= _RULE_NAME_MAX:
        return name
    digest = hashlib.sha256(target.encode()).hexdigest()[:8]
    return f"{name[: _RULE_NAME_MAX - len(digest) - 1].rstrip('-')}-{digest}"


def cache_rules(images: Iterable[str]) -> dict[str, CacheRuleSpec]:
    """One rule per cacheable upstream repository among `images`, keyed by that repository (sorted)."""
    upstreams = {parse_image(ref) for ref in images}
    rules: dict[str, CacheRuleSpec] = {}
    names: set[str] = set()
    for image in sorted(upstreams, key=lambda i: i.upstream):
        if image.registry not in CACHEABLE_REGISTRIES or image.upstream in rules:
            continue
        target = cache_target(image)
        name = _rule_name(target)
        if name in names:  # two targets that differ only in punctuation
            name = _rule_name(f"{target}-{hashlib.sha256(target.encode()).hexdigest()[:8]}")
        names.add(name)
        rules[image.upstream] = CacheRuleSpec(name=name, source_repository=image.upstream, target_repository=target)
    return rules


@dataclass(frozen=True)
class DeclaredImages:
    """The upstream repositories the enabled apps declared; `Platform.image` accepts only those."""

    upstreams: frozenset[str]

    @classmethod
    def of(cls, images: Iterable[str]) -> DeclaredImages:
        return cls(frozenset(parse_image(ref).upstream for ref in images))

    def require(self, reference: str) -> ImageRef:
        image = parse_image(reference)
        if image.upstream not in self.upstreams:
            raise ValueError(
                f"Platform.image: {reference!r} is not among the images the enabled apps declare "
                "(each app's `images()`); declare it so the platform can serve it"
            )
        return image
