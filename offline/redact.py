"""Replace every secret value in what the render writes, keeping each object valid.

Three rules, applied to copies (the recording is never changed):
- a Kubernetes Secret's `data` values become base64 of the marker and `stringData` values the marker, so the
  object stays a valid Secret;
- every input the program passed as a Pulumi secret (a recorded secret path) becomes the marker; in a
  Kubernetes object only where the path is a single value, because Pulumi marks a whole top-level property
  (say `spec`) secret as soon as one value inside it is, and wiping a whole spec would hide the object;
- any string that contains a secret the run generated or read from secret config has it replaced, wherever
  it appears (an env literal, an annotation, a connection string).
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "REDACTED-BY-OFFLINE-RENDER"
REDACTED_B64 = base64.b64encode(REDACTED.encode()).decode()

_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Redactor:
    def __init__(self, secret_values: Iterable[str]):
        # Longest first so that a secret containing another is replaced whole.
        self._values = sorted((v for v in set(secret_values) if v), key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        return value

    def manifest(self, obj: dict, secret_paths: Iterable[str] = ()) -> dict:
        out = copy.deepcopy(obj)
        for path in secret_paths:
            _replace_at(out, path, scalars_only=True)
        if out.get("kind") == "Secret" and out.get("apiVersion") == "v1":
            if isinstance(out.get("data"), dict):
                out["data"] = {k: REDACTED_B64 for k in out["data"]}
            if isinstance(out.get("stringData"), dict):
                out["stringData"] = {k: REDACTED for k in out["stringData"]}
        return self.deep(out)

    def inputs(self, inputs: dict, secret_paths: Iterable[str] = ()) -> dict:
        out = copy.deepcopy(inputs)
        for path in secret_paths:
            _replace_at(out, path)
        return self.deep(out)


def _replace_at(obj: Any, path: str, scalars_only: bool = False) -> None:
    """Replace the value at a recorded path (`a.b[0].c`) with the marker, keeping the container's shape."""
    tokens = [(m.group(1), m.group(2)) for m in _PATH_TOKEN.finditer(path)]
    if not tokens:
        return
    node = obj
    for key, index in tokens[:-1]:
        try:
            node = node[int(index)] if index is not None else node[key]
        except (KeyError, IndexError, TypeError):
            return
    key, index = tokens[-1]
    target = int(index) if index is not None else key
    try:
        current = node[target]
    except (KeyError, IndexError, TypeError):
        return
    if scalars_only and isinstance(current, (dict, list)):
        return
    node[target] = _marker_like(current)


def _marker_like(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _marker_like(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_marker_like(v) for v in value]
    return REDACTED
