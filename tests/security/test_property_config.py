"""Bad stack config: any values under the real keys load, or fail with one ConfigError line naming a real key;
a stack that loads renders schema-valid objects; the CLI never answers bad input with a traceback.

Values reach the program the way the Pulumi CLI hands them over: strings for scalars, JSON for maps and lists.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pulumi.runtime import config as runtime_config

import offline.__main__ as cli
from offline.engine import PROJECT_DIR, run_stack
from offline.validate import validate_object
from settings import ConfigError, describe_all, load_settings

NAMESPACE = "aks-microservices"
KEYS = [doc.key for doc in describe_all()]
SECRET_KEYS = [key for key in KEYS if key.startswith("secrets.")]
PLAIN_KEYS = [key for key in KEYS if not key.startswith("secrets.")]
# Every key, and every section above one (an error about a section's shape names the section).
KNOWN_PATHS = {".".join(key.split(".")[:n]) for key in KEYS for n in range(1, key.count(".") + 2)}
APPS = ("smilr", "knote", "todo", "fibonacci", "homics")

# Values of every shape, and values that are plausible for some key (so that examples often load).
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 200), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=5)
PLAUSIBLE_POOL = (
    True, False, 0, 1, 2, 3, 5, 9, 12, 30, 100, "aks", "existing", "1.33", "1.30", "westeurope", "Standard_D2s_v5",
    "Standard_D4s_v5", "Standard_D8s_v5", "latest", "7.0", "3.9.1", "1.0.0", "1Gi", "500M", "5Gi",
    "shop.example.com", "nginx", "NodePort", "LoadBalancer", "ClusterIP", "auto", "Ingress", "Premium_LRS",
    "StandardSSD_ZRS", "External", "Internal", "patch", "stable", "Free", "Standard", "http://api.example.com/api",
    "todo-org", "gateways", "v1", "Basic", "Premium", ["1", "2", "3"], ["1"], [], {}, {"team": "shop"},
)
plausible = st.sampled_from(PLAUSIBLE_POOL)
# A key with a value it accepts on its own (the pool filtered through the key's own check).
key_and_plausible_value = st.sampled_from(PLAIN_KEYS).flatmap(
    lambda key: st.tuples(st.just(key), st.sampled_from(plausible_values(key))))


@functools.cache
def plausible_values(key: str) -> tuple:
    """The values of the `plausible` pool (and the dev stack's own value) that the key accepts on its own."""
    pool = [*PLAUSIBLE_POOL, *([_dev_value(key)] if _dev_value(key) is not None else [])]
    accepted = []
    for value in pool:
        try:
            load({key: value})
        except ConfigError:
            continue
        accepted.append(value)
    return tuple(accepted) or tuple(PLAUSIBLE_POOL)


def _dev_value(key: str):
    node = _dev_config()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def nested(values: dict[str, object]) -> dict[str, object]:
    """{"cluster.userPool.maxCount": 3} -> the top-level config keys {"cluster": {"userPool": {"maxCount": 3}}}."""
    top: dict[str, object] = {}
    for key, value in values.items():
        *sections, leaf = key.split(".")
        node = top
        for section in sections:
            node = node.setdefault(section, {})
        node[leaf] = value
    return top


def as_config(top: dict[str, object]) -> dict[str, str]:
    # What the CLI passes the language host: scalars as strings, structured values as JSON.
    def text(value: object) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value)

    return {f"{NAMESPACE}:{key}": text(value) for key, value in top.items()}


def load(values: dict[str, object]):
    """`load_settings()` as the program calls it, on the given config."""
    config = as_config(nested(values))
    secret = [f"{NAMESPACE}:secrets"] if any(k.startswith("secrets.") for k in values) else []
    runtime_config.set_all_config(config, secret)
    try:
        return load_settings()
    finally:
        runtime_config.set_all_config({}, [])


def assert_one_line_naming_a_real_key(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message, message
    assert message.startswith(f"{NAMESPACE}:"), message
    key = message[len(NAMESPACE) + 1:].split(":", 1)[0]
    assert key in KNOWN_PATHS, message
    return key


# Settings ----------------------------------------------------------------------------------------------------

@given(st.dictionaries(st.sampled_from(PLAIN_KEYS), st.one_of(plausible, json_values), min_size=1, max_size=4))
def test_any_values_under_the_real_keys_load_or_fail_with_one_line_naming_a_real_key(values):
    try:
        load(values)
    except ConfigError as error:
        assert_one_line_naming_a_real_key(error)


@given(st.sampled_from(PLAIN_KEYS), st.one_of(plausible, json_values))
def test_an_error_about_a_single_key_names_that_key_or_a_setting_it_depends_on(key, value):
    try:
        load({key: value})
    except ConfigError as error:
        named = assert_one_line_naming_a_real_key(error)
        # Cross-key rules name the other half (e.g. entraId on needs adminGroupObjectIds): same section.
        assert named == key or named.rsplit(".", 1)[0] == key.rsplit(".", 1)[0], (key, str(error))


@given(st.sampled_from(SECRET_KEYS), json_values.filter(lambda v: v not in ("", None) and not isinstance(v, bool)))
def test_a_rejected_secret_value_is_never_echoed(key, value):
    try:
        load({key: value})
    except ConfigError as error:
        assert_one_line_naming_a_real_key(error)
        shown = value if isinstance(value, str) else json.dumps(value)
        assert len(shown) < 4 or shown not in str(error)


# The program ---------------------------------------------------------------------------------------------------

def _dev_config() -> dict[str, object]:
    doc = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in doc.items()}


def _with(base: dict[str, object], values: dict[str, object]) -> dict[str, object]:
    merged = json.loads(json.dumps(base))
    for key, value in nested(values).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _deep_merge(old: dict, new: dict) -> dict:
    out = dict(old)
    for key, value in new.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@settings(max_examples=3)  # each example runs the whole program (one app) under the engine
@given(st.lists(key_and_plausible_value, min_size=1, max_size=3), st.sampled_from(APPS))
def test_a_dev_stack_with_plausible_values_renders_valid_objects_or_fails_with_one_line(changes, app):
    """Values each key accepts on its own, in combination. Only the app of the first key (or one app, for platform
    keys) is enabled, to keep each run short."""
    first = changes[0][0]
    owner = first.split(".")[1] if first.startswith("apps.") else app
    enabled = {f"apps.{name}.enabled": name == owner for name in APPS}
    config = _with(_with(_dev_config(), enabled), dict(changes))
    try:
        recording = run_stack("dev", overrides=config)
    except pulumi.RunError as error:  # ConfigError and InvalidArgsError are RunErrors; __main__ wraps ValueError
        assert "\n" not in str(error) and str(error), str(error)
        return
    objects = recording.k8s_objects()
    problems = {f"{o['kind']}/{o['metadata'].get('name')}": validate_object(o, "1.33") for o in objects}
    assert {k: v for k, v in problems.items() if v} == {}


# The CLI -------------------------------------------------------------------------------------------------------

def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, project / name)
    for name, content in files.items():
        (project / name).write_text(content)
    return project


@settings(max_examples=15)
@given(st.dictionaries(st.sampled_from(PLAIN_KEYS), json_values, min_size=1, max_size=3))
def test_the_cli_answers_any_bad_stack_file_with_one_error_line_and_exit_code_2(tmp_path_factory, values):
    try:
        load(values)
    except ConfigError:
        pass
    else:
        assume(False)  # a config that loads renders: the program-level test covers those
    tmp = tmp_path_factory.mktemp("cli")
    document = {"config": {f"{NAMESPACE}:{key}": value for key, value in nested(values).items()}}
    project = _project(tmp, {"Pulumi.bad.yaml": yaml.safe_dump(document)})
    stderr = io.StringIO()
    original = cli.PROJECT_DIR
    cli.PROJECT_DIR = project  # not monkeypatch: hypothesis runs many examples in one test call
    try:
        with contextlib.redirect_stderr(stderr):
            code = cli.main(["render", "--stack", "bad", "--out", str(tmp / "out")])
    finally:
        cli.PROJECT_DIR = original
    errors = stderr.getvalue().strip().splitlines()
    assert code == 2
    assert errors[-1].startswith(f"error: {NAMESPACE}:"), errors
    assert not any("Traceback" in line for line in errors)


def _copy_of_the_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("components", "infra", "offline", "settings", "stacks"):
        shutil.copytree(PROJECT_DIR / folder, copy / folder, ignore=ignore)
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.dev.yaml"):
        shutil.copy(PROJECT_DIR / name, copy / name)
    return copy


def test_the_real_cli_prints_one_line_and_no_traceback_for_a_bad_stack_file(tmp_path):
    project = _copy_of_the_project(tmp_path)
    stack_file = {"aks-microservices:cluster": {"userPool": {"maxCount": "lots"}}}
    expected = 'error: aks-microservices:cluster.userPool.maxCount: expected an integer from 1 to 100, got "lots"'
    (project / "Pulumi.bad.yaml").write_text(yaml.safe_dump({"config": stack_file}))
    done = subprocess.run([sys.executable, "-m", "offline", "render", "--stack", "bad", "--out", str(tmp_path / "out")],
                          cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == expected
