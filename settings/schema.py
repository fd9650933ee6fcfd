"""A small declarative schema for stack config: typed sections, checks, defaults and docs in one place.

A settings section is a frozen dataclass whose fields are declared with `setting(...)`: the config key as
users write it (camelCase), a check, a default and a one-line doc. `load_section` turns the raw config
mapping into the dataclass, rejecting unknown keys and bad values with one `ConfigError` line that names
the full key, the value and what is allowed. `describe` walks the same declarations to document every key
(the README's config table is generated from it), so docs and checks cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass
from typing import Any, TypeVar

import pulumi

T = TypeVar("T")

NAMESPACE = "aks-microservices"


class ConfigError(ValueError, pulumi.RunError):
    """Bad stack config. The message is one line: `<namespace>:<key>: <problem>`.

    It is a `pulumi.RunError` so that `pulumi up` reports the message without a Python traceback.
    """


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


@dataclass(frozen=True)
class Check:
    """Validates and converts one raw value; `allowed` is the human description used in errors and docs."""

    allowed: str
    convert: Callable[[Any], Any]
    hide_value: bool = False  # secrets: never echo the value in an error

    def __call__(self, key: str, value: Any) -> Any:
        try:
            return self.convert(value)
        except Invalid as invalid:  # a check that knows more: which entry is wrong, or what was meant
            key = f"{key}.{invalid.entry}" if invalid.entry else key
            if self.hide_value:
                shown = f"a {type(value).__name__} (value hidden: secret)"
            else:
                shown = invalid.shown if invalid.shown is not None else _show(value)
            hint = f" ({invalid.hint})" if invalid.hint else ""
            raise ConfigError(f"{NAMESPACE}:{key}: expected {invalid.allowed or self.allowed}, got {shown}{hint}") from None
        except (TypeError, ValueError):
            shown = f"a {type(value).__name__} (value hidden: secret)" if self.hide_value else _show(value)
            raise ConfigError(f"{NAMESPACE}:{key}: expected {self.allowed}, got {shown}") from None


class Invalid(ValueError):
    """Raised by a check's `convert` to say more than "expected <allowed>": the entry of a map that is wrong
    (named in the key), what to show instead of the whole value, what the entry allows, and a hint."""

    def __init__(self, *, entry: str | None = None, shown: str | None = None, allowed: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(hint or allowed or entry or "invalid")
        self.entry, self.shown, self.allowed, self.hint = entry, shown, allowed, hint


def _int_in(lo: int | None, hi: int | None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if not isinstance(value, int):
            raise TypeError
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError
        return value

    return convert


def integer(lo: int | None = None, hi: int | None = None) -> Check:
    if lo is not None and hi is not None:
        allowed = f"an integer from {lo} to {hi}"
    elif lo is not None:
        allowed = f"an integer >= {lo}"
    else:
        allowed = "an integer"
    return Check(allowed, _int_in(lo, hi))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError


boolean = Check("true or false", _bool)


def one_of(*choices: str) -> Check:
    def convert(value: Any) -> str:
        if value not in choices:
            raise ValueError
        return value

    return Check("one of " + ", ".join(_show(c) for c in choices), convert)


def matching(pattern: str, description: str) -> Check:
    compiled = re.compile(pattern)

    def convert(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError
        return value

    return Check(description, convert)


def text(allow_empty: bool = False, min_length: int = 1) -> Check:
    def convert(value: Any) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise TypeError
        if not allow_empty and len(value) < min_length:
            raise ValueError
        return value

    if allow_empty:
        return Check("a string", convert)
    return Check("a non-empty string" if min_length <= 1 else f"a string of at least {min_length} characters", convert)


def given(check: Check) -> Check:
    """Validate a secret value but keep only whether it was given: the value stays in Pulumi's config."""
    return Check(check.allowed, lambda v: check.convert(v) is not None, hide_value=True)


def optional(check: Check) -> Check:
    return Check(f"{check.allowed} or null", lambda v: None if v is None else check.convert(v))


def list_of(check: Check, min_items: int = 0) -> Check:
    def convert(value: Any) -> tuple:
        if not isinstance(value, list) or len(value) < min_items:
            raise TypeError
        return tuple(check.convert(item) for item in value)

    return Check(f"a list of {check.allowed}" + (f" (at least {min_items})" if min_items else ""), convert)


def map_of(check: Check) -> Check:
    def convert(value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError
        return {k: check.convert(v) for k, v in value.items()}

    return Check(f"a map of string to {check.allowed}", convert)


_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


def _size(value: Any) -> str:
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise ValueError
    if not any(c in "123456789" for c in value.rstrip("mkMGTPEi")):  # "0", "0Gi", "0.0": an empty volume
        raise ValueError
    return value


def quantity(examples: str) -> Check:
    return Check(f"a Kubernetes quantity greater than zero such as {examples}", _size)


QUANTITY = quantity("500M or 5Gi")


def dns_name(example: str, wildcard: bool = False) -> Check:
    """A DNS name (RFC 1123, as Kubernetes checks an Ingress host): labels of 1-63 lowercase letters, digits
    and '-', not starting or ending with '-', at least two of them, 253 characters in all."""
    label = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError
        labels = value.split(".")
        if wildcard and labels[0] == "*":
            labels = labels[1:]
        if len(value) > 253 or len(labels) < 2 or not all(label.fullmatch(part) for part in labels):
            raise ValueError
        too_long = next((part for part in labels if len(part) > 63), None)
        if too_long is not None:
            raise Invalid(hint=f"the label {too_long[:12]}... has {len(too_long)} characters, at most 63 are allowed")
        return value

    return Check(f"a DNS name such as {example} (labels of at most 63 characters, 253 in all)", convert)
DNS_LABEL = matching(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", "a DNS-1123 label (lowercase letters, digits, '-')")


def setting(
    key: str, doc: str, check: Check | None = None, default: Any = MISSING, doc_default: str | None = None, **kwargs: Any
) -> Any:
    """Declare one config key of a section; `doc_default` describes a default that is computed elsewhere."""
    metadata = {"key": key, "doc": doc, "check": check, "doc_default": doc_default}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use default_factory or a tuple for mutable defaults")
    if default is MISSING and "default_factory" not in kwargs:
        return dataclasses.field(metadata=metadata, **kwargs)
    if default is MISSING:
        return dataclasses.field(metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def section(key: str, doc: str, cls: type) -> Any:
    """Declare a nested section (a dataclass of settings), defaulting to all its defaults."""
    return dataclasses.field(default_factory=cls, metadata={"key": key, "doc": doc, "check": None, "section": cls})


def inline(cls: type) -> Any:
    """Declare a group of settings whose keys sit beside the parent's own keys (no extra nesting level)."""
    return dataclasses.field(
        default_factory=cls, metadata={"key": "", "doc": "", "check": None, "section": cls, "inline": True}
    )


def _keys(cls: type) -> dict[str, dataclasses.Field]:
    """The config keys a section accepts, with inline groups flattened in."""
    keys: dict[str, dataclasses.Field] = {}
    for f in _fields(cls):
        if f.metadata.get("inline"):
            keys.update(_keys(f.metadata["section"]))
        else:
            keys[f.metadata["key"]] = f
    return keys


def _fields(cls: type) -> Iterator[dataclasses.Field]:
    for f in dataclasses.fields(cls):
        if "key" in f.metadata:
            yield f


def load_section(cls: type[T], raw: Any, path: str = "") -> T:
    """Build `cls` from a raw mapping, with defaults for absent keys; unknown keys are errors."""
    where = f"{NAMESPACE}:{path}" if path else NAMESPACE
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a map of settings, got {_show(raw)}")
    known = _keys(cls)
    for key in raw:
        if key not in known:
            full = f"{path}.{key}" if path else key
            close = [k for k in known if k.lower() == str(key).lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            head, _, rest = str(key).partition(".")
            if rest and head in known:  # `cluster.nodeCount: 2` written flat instead of nested
                hint = (f" (a dotted key is not a path here: nest it as `{head}:` with `{rest.replace('.', ': ')}:`"
                        f" beneath, or use `pulumi config set --path {full} <value>`)")
            raise ConfigError(
                f"{NAMESPACE}:{full}: unknown key{hint}; allowed keys: {', '.join(sorted(known))}"
            )
    values: dict[str, Any] = {}
    for f in _fields(cls):
        if f.metadata.get("inline"):
            group = f.metadata["section"]
            values[f.name] = load_section(group, {k: v for k, v in raw.items() if k in _keys(group)}, path)
    for f in _fields(cls):
        if f.metadata.get("inline"):
            continue
        key = f.metadata["key"]
        full = f"{path}.{key}" if path else key
        nested = f.metadata.get("section")
        if key not in raw:
            if nested is not None:
                values[f.name] = load_section(nested, {}, full)
            continue
        if nested is not None:
            values[f.name] = load_section(nested, raw[key], full)
        else:
            values[f.name] = f.metadata["check"](full, raw[key])
    try:
        return cls(**values)
    except ConfigError:
        raise
    except TypeError as exc:  # a required key is missing
        missing = [f.metadata["key"] for f in _fields(cls) if f.name not in values and _required(f)]
        if missing:
            full = f"{path}.{missing[0]}" if path else missing[0]
            raise ConfigError(f"{NAMESPACE}:{full}: required key is missing") from None
        raise ConfigError(f"{where}: {exc}") from None


def _required(f: dataclasses.Field) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


@dataclass(frozen=True)
class KeyDoc:
    key: str
    allowed: str
    default: str
    doc: str


def describe(cls: type, path: str = "") -> list[KeyDoc]:
    """Every key of a section, depth first, with what it accepts, its default and its doc."""
    docs: list[KeyDoc] = []
    for f in _fields(cls):
        if f.metadata.get("inline"):
            docs.extend(describe(f.metadata["section"], path))
            continue
        full = f"{path}.{f.metadata['key']}" if path else f.metadata["key"]
        nested = f.metadata.get("section")
        if nested is not None:
            docs.extend(describe(nested, full))
            continue
        if f.metadata.get("doc_default"):
            default = f.metadata["doc_default"]
        elif f.default is not MISSING:
            default = _doc_default(f.default)
        elif f.default_factory is not MISSING:
            default = _doc_default(f.default_factory())
        else:
            default = "(required)"
        docs.append(KeyDoc(full, f.metadata["check"].allowed, default, f.metadata["doc"]))
    return docs


def _doc_default(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"
    return str(value)
