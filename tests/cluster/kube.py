"""A small JSON client over the `kubernetes` Python client's transport (its kubeconfig loader and TLS pool).

Objects stay plain dicts, as rendered: the generated models would round-trip every pod through pydantic, and
the tier reads and writes a few hundred objects a second while it samples.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import urllib3


class KubeError(Exception):
    def __init__(self, status: int, payload: dict, where: str):
        self.status, self.payload = status, payload
        super().__init__(f"{where}: HTTP {status}: {payload.get('message') or payload}")

    @property
    def reason(self) -> str:
        return str(self.payload.get("reason", ""))


class Kube:
    def __init__(self, kubeconfig: Path):
        from kubernetes import config

        self.client = config.new_client_from_config(config_file=str(kubeconfig))
        self.host = self.client.configuration.host
        self._pool = self.client.rest_client.pool_manager
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}

    def request(self, method: str, path: str, body: Any = None, query: dict | None = None,
                content_type: str = "application/json", timeout: float = 30.0) -> dict:
        url = self.host + path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body), content_type
        response = self._pool.request(method, url, body=data, headers=headers, retries=False,
                                      timeout=urllib3.Timeout(total=timeout))
        try:
            payload = json.loads(response.data) if response.data else {}
        except ValueError:  # e.g. a plain-text 404 for an API group that is not served
            payload = {"message": response.data.decode(errors="replace").strip()}
        if response.status >= 400:
            raise KubeError(response.status, payload, f"{method} {path}")
        return payload

    def get(self, path: str, **query) -> dict:
        return self.request("GET", path, query=query or None)

    def items(self, path: str, **query) -> list[dict]:
        return self.get(path, **query).get("items", [])

    def watch(self, path: str, resource_version: str, timeout_seconds: int = 60) -> Iterator[dict]:
        """Watch events (`{type, object}`) from `resource_version` on, until the server ends the watch."""
        query = {"watch": "true", "resourceVersion": resource_version, "timeoutSeconds": timeout_seconds,
                 "allowWatchBookmarks": "true"}
        response = self._pool.request("GET", f"{self.host}{path}?{urlencode(query)}", preload_content=False,
                                      headers={"Accept": "application/json"}, retries=False,
                                      timeout=urllib3.Timeout(connect=5, read=timeout_seconds + 10))
        try:
            if response.status >= 400:
                raise KubeError(response.status, json.loads(response.data or b"{}"), f"WATCH {path}")
            buffer = b""
            for chunk in response.stream(65536):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        finally:
            response.release_conn()

    # Resource paths from discovery ----------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        """(plural, namespaced) of a kind the server serves, else None."""
        key = (api_version, kind)
        if key not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                listing = self.get(base)
            except KubeError as e:
                if e.status == 404:
                    return None
                raise
            for r in listing.get("resources", []):
                if "/" not in r["name"]:
                    self._resources[(api_version, r["kind"])] = (r["name"], r["namespaced"])
        return self._resources.get(key)

    def path(self, obj_or_version: dict | str, kind: str | None = None, namespace: str | None = None,
             name: str | None = None) -> str:
        if isinstance(obj_or_version, dict):
            api_version, kind = obj_or_version["apiVersion"], obj_or_version["kind"]
            namespace = (obj_or_version.get("metadata") or {}).get("namespace")
            name = (obj_or_version.get("metadata") or {}).get("name")
        else:
            api_version = obj_or_version
        found = self.resource(api_version, kind)
        if found is None:
            raise LookupError(f"{api_version} {kind} is not served")
        plural, namespaced = found
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if namespaced and namespace:
            base += f"/namespaces/{quote(namespace)}"
        return f"{base}/{plural}" + (f"/{quote(name)}" if name else "")

    def apply(self, obj: dict, manager: str = "cluster-tier") -> dict:
        """Server-side apply with strict field validation: an unknown or duplicate field is a refusal."""
        return self.request("PATCH", self.path(obj), body=obj, content_type="application/apply-patch+yaml",
                            query={"fieldManager": manager, "fieldValidation": "Strict", "force": "true"})

    def delete(self, path: str, grace: int | None = None, missing_ok: bool = True, **extra) -> None:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", **extra}
        if grace is not None:
            body["gracePeriodSeconds"] = grace
        try:
            self.request("DELETE", path, body=body)
        except KubeError as e:
            if not (missing_ok and e.status in (404, 409)):
                raise

    def wait_for(self, what: str, check, timeout: float, interval: float = 0.25):
        """Poll `check()` until it returns something truthy; a TimeoutError names `what` and the last value."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(interval)
        raise TimeoutError(f"{what}: not within {timeout:.0f}s (last: {last!r})")
