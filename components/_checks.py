"""Construction-time checks shared by the Args classes.

Every failure is one line, `<Owner>.<field>: expected <what is allowed>, got <value>`, raised before any
resource is registered. Values that may be Pulumi Outputs are only checked when they are plain values.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NoReturn

import pulumi


class InvalidArgsError(ValueError, pulumi.RunError):
    """Bad component arguments. A `pulumi.RunError` so that `pulumi up` prints the message, not a traceback."""


DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Service names must also start with a letter (RFC 1035).
DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# IANA service name: what Kubernetes accepts as a port name.
PORT_NAME = re.compile(r"(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*")
SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")
# A non-negative Kubernetes resource.Quantity.
QUANTITY = re.compile(
    r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?"
)
_SUFFIX_MULTIPLIER = types.MappingProxyType({
    None: Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
})


def show(value: Any) -> str:
    return repr(value)


def fail(owner: str, field: str, expected: str, got: Any, *, hide: bool = False) -> NoReturn:
    shown = f"a {type(got).__name__} (value hidden: secret)" if hide else show(got)
    raise InvalidArgsError(f"{owner}.{field}: expected {expected}, got {shown}")


def is_output(value: Any) -> bool:
    return isinstance(value, pulumi.Output)


def check_bool(owner: str, field: str, value: Any) -> None:
    if not isinstance(value, bool):
        fail(owner, field, "True or False", value)


def check_int(owner: str, field: str, value: Any, *, lo: int, hi: int | None = None) -> None:
    expected = f"an integer {lo}-{hi}" if hi is not None else f"an integer >= {lo}"
    # bool is an int subclass; True is never a meaningful count or port.
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        fail(owner, field, expected, value)


def check_port(owner: str, field: str, value: Any) -> None:
    check_int(owner, field, value, lo=1, hi=65535)


def check_str(owner: str, field: str, value: Any, *, hide: bool = False) -> None:
    """A non-empty string or an Output (checked when known, by the provider)."""
    if is_output(value):
        return
    if not isinstance(value, str) or not value.strip():
        fail(owner, field, "a non-empty string or Output", value, hide=hide)


def check_pattern(owner: str, field: str, value: Any, pattern: re.Pattern, expected: str,
                  *, max_len: int = 63) -> None:
    if is_output(value):
        return
    if not isinstance(value, str) or len(value) > max_len or not pattern.fullmatch(value):
        fail(owner, field, expected, value)


def check_dns_label(owner: str, field: str, value: Any) -> None:
    check_pattern(owner, field, value, DNS_LABEL,
                  "a DNS-1123 label (at most 63 lowercase letters, digits and '-', alphanumeric at both ends)")


def check_service_name(owner: str, field: str, value: Any) -> None:
    check_pattern(owner, field, value, DNS_1035_LABEL,
                  "a DNS-1035 label (at most 63 lowercase letters, digits and '-', starting with a letter)")


def check_label_value(owner: str, field: str, value: Any) -> None:
    check_pattern(owner, field, value, LABEL_VALUE,
                  "a label value (at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends)")


def check_abs_path(owner: str, field: str, value: Any) -> None:
    if not isinstance(value, str) or not value.startswith("/") or value.rstrip("/") == "" \
            or ".." in value.split("/") or ":" in value:
        fail(owner, field, "an absolute path below '/' without '..' or ':'", value)


def check_rel_path(owner: str, field: str, value: Any) -> None:
    if (not isinstance(value, str) or not value or value.startswith("/") or ".." in value.split("/")):
        fail(owner, field, "a relative path without '..'", value)


def check_sequence(owner: str, field: str, value: Any) -> None:
    # A bare string is a sequence of characters: almost always a mistake for args, paths or capabilities.
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        fail(owner, field, "a list or tuple", value)


def check_str_sequence(owner: str, field: str, value: Any) -> None:
    check_sequence(owner, field, value)
    for i, item in enumerate(value):
        if not (is_output(item) or isinstance(item, str)):
            fail(owner, f"{field}[{i}]", "a string or Output", item)


def check_mapping(owner: str, field: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        fail(owner, field, "a mapping", value)


def check_qualified_key(owner: str, field: str, key: Any) -> None:
    """A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters."""
    expected = "a key '[prefix/]name' (prefix a DNS subdomain, name at most 63 alphanumerics, '-', '_', '.')"
    if not isinstance(key, str):
        fail(owner, field, expected, key)
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix))) or len(name) > 63 \
            or not QUALIFIED_NAME.fullmatch(name):
        fail(owner, field, expected, key)


def check_labels(owner: str, field: str, value: Any, *, reserved: Iterable[str] = ()) -> None:
    check_mapping(owner, field, value)
    reserved = set(reserved)
    for key, item in value.items():
        check_qualified_key(owner, field, key)
        if key in reserved:
            fail(owner, field, f"no key of {sorted(reserved)} (set by the component)", key)
        check_label_value(owner, f"{field}[{key!r}]", item)


def check_annotations(owner: str, field: str, value: Any) -> None:
    check_mapping(owner, field, value)
    for key, item in value.items():
        check_qualified_key(owner, field, key)
        if not (is_output(item) or isinstance(item, str)):
            fail(owner, f"{field}[{key!r}]", "a string or Output", item)


def parse_quantity(value: str) -> Decimal | None:
    match = QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    suffix = match["suffix"]
    if suffix and suffix[0] in "eE":
        return Decimal(match["number"] + suffix)
    return Decimal(match["number"]) * _SUFFIX_MULTIPLIER[suffix]


def check_quantity(owner: str, field: str, value: Any) -> Decimal:
    parsed = parse_quantity(value)
    if parsed is None:
        fail(owner, field, "a Kubernetes quantity such as '250m', '0.5', '128Mi', '1Gi' or '500M'", value)
    return parsed


def check_one_of(owner: str, field: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        fail(owner, field, f"one of {', '.join(map(show, allowed))}", value)


def check_type(owner: str, field: str, value: Any, types: type | tuple[type, ...]) -> None:
    types = types if isinstance(types, tuple) else (types,)
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types)
        article = "an" if names[0] in "AEIOU" else "a"
        fail(owner, field, f"{article} {names}", value)
