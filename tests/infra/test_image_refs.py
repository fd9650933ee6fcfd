"""Image references: how a public reference maps to an upstream repository and an ACR cache rule."""

from __future__ import annotations

import base64
import re

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from infra.images import cache_rules, parse_image
from infra.kubeconfig import decode_kubeconfig
from offline.mocks import offline_exec_kubeconfig, offline_kubeconfig


@pytest.mark.parametrize(
    ("reference", "upstream", "version"),
    [
        ("mongo", "docker.io/library/mongo", ":latest"),
        ("mongo:7.0", "docker.io/library/mongo", ":7.0"),
        ("smilr/data-api", "docker.io/smilr/data-api", ":latest"),
        ("docker.io/bitnami/redis:7.2", "docker.io/bitnami/redis", ":7.2"),
        ("index.docker.io/library/nginx:1.27", "docker.io/library/nginx", ":1.27"),
        ("quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z", "quay.io/minio/minio", ":RELEASE.2025-04-22T22-12-26Z"),
        ("localhost:5000/team/app:1", "localhost:5000/team/app", ":1"),
        ("redis@sha256:" + "ab" * 32, "docker.io/library/redis", "@sha256:" + "ab" * 32),
    ],
)
def test_references_name_their_upstream_repository(reference, upstream, version):
    image = parse_image(reference)
    assert image.upstream == upstream
    assert image.version == version


@pytest.mark.parametrize("reference", ["", "Mongo", "mongo:", "mongo@", "mongo@sha256:zz", " mongo", "a b"])
def test_malformed_references_are_refused_with_the_reference_in_the_message(reference):
    with pytest.raises(ValueError, match=re.escape(repr(reference))):
        parse_image(reference)


def test_rule_names_stay_within_acr_limits_and_distinct():
    long_path = "ghcr.io/some-org/" + "a" * 80
    rules = cache_rules(["redis:7", long_path + ":1", "library/a.b", "library/a-b"])
    names = [rule.name for rule in rules.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-zA-Z0-9-]{5,50}", name) for name in names)


# Path components without dots: a first component with a dot names a registry (Docker's rule).
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
components = st.one_of(words, st.builds(lambda a, sep, b: f"{a}{sep}{b}", words, st.sampled_from("_-"), words))
references = st.builds(
    lambda registry, path, tag: f"{registry}{'/'.join(path)}{tag}",
    st.sampled_from(["", "docker.io/", "quay.io/", "ghcr.io/", "example.com:5000/"]),
    st.lists(components, min_size=1, max_size=3),
    st.sampled_from(["", ":1", ":v2.0.1", ":latest"]),
)


@given(st.sets(references, max_size=8))
def test_any_set_of_images_gives_one_valid_rule_per_cacheable_repository(images):
    rules = cache_rules(images)
    upstreams = {parse_image(ref).upstream for ref in images}
    assert set(rules) == {u for u in upstreams if not u.startswith("example.com:5000/")}
    names = [rule.name for rule in rules.values()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-zA-Z0-9-]{5,50}", name) for name in names)
    for upstream, rule in rules.items():
        assert rule.source_repository == upstream


def test_a_plain_kubeconfig_is_only_decoded():
    text = offline_kubeconfig("c", "https://c:443")
    assert decode_kubeconfig(base64.b64encode(text.encode()).decode(), entra_id=False) == text


def test_an_entra_id_kubeconfig_logs_in_with_the_azure_cli():
    text = offline_exec_kubeconfig("c", "https://c:443")
    converted = yaml.safe_load(decode_kubeconfig(base64.b64encode(text.encode()).decode(), entra_id=True))
    exec_spec = converted["users"][0]["user"]["exec"]
    assert exec_spec["command"] == "kubelogin"
    assert exec_spec["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
    ]
