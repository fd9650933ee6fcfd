"""The README's component snippet is a workload that would start under the components' secure defaults."""

from __future__ import annotations

import re

from offline.engine import PROJECT_DIR, run

# What the image needs, from nginxinc/docker-nginx-unprivileged's README: "The default NGINX listen port is now
# 8080", "The default NGINX PID has been moved from /var/run/nginx.pid to /tmp/nginx.pid", "Change *_temp_path
# variables to /tmp/*", and its Dockerfile's `USER 101`. Stock `nginx` listens on 80 as root and writes
# /var/cache/nginx and /var/run: it fails under runAsNonRoot and a read-only root filesystem.
IMAGES = {
    "nginxinc/nginx-unprivileged": {"listens": 8080, "writes": {"/tmp"}, "serves": "/"},
}


def _snippet_recording():
    code = re.search(r"```python\n(.*?)```", (PROJECT_DIR / "README.md").read_text(), re.S).group(1)
    return run(lambda: exec(code, {}))


def test_the_snippet_runs_an_image_whose_needs_are_known_not_stock_nginx():
    deployment = _snippet_recording().k8s("Deployment", "web", "shop")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    repository = container["image"].rsplit(":", 1)[0]
    assert repository in IMAGES, f"{repository}: add what it listens on and writes, or use a known image"


def test_the_snippet_listens_where_the_image_listens_and_probes_a_page_it_serves():
    deployment = _snippet_recording().k8s("Deployment", "web", "shop")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    needs = IMAGES[container["image"].rsplit(":", 1)[0]]
    assert [p["containerPort"] for p in container["ports"]] == [needs["listens"]]
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == needs["serves"]
    assert probe["port"] in (needs["listens"], container["ports"][0].get("name"))


def test_every_path_the_image_writes_is_writable_under_a_read_only_root_filesystem():
    pod = _snippet_recording().k8s("Deployment", "web", "shop")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    needs = IMAGES[container["image"].rsplit(":", 1)[0]]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    empty_dirs = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    writable = {m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty_dirs}
    assert needs["writes"] <= writable


def test_the_snippet_runs_as_a_non_root_user_without_privileges():
    pod = _snippet_recording().k8s("Deployment", "web", "shop")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    context = {**pod.get("securityContext", {}), **container["securityContext"]}
    assert context["runAsNonRoot"] is True and context["runAsUser"] != 0
    assert context["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
