"""`components` is a package others install with pip, with a documented public API."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from email.parser import Parser

import pytest

import components
from offline.engine import PROJECT_DIR


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`pip install` of a copy of the repository's package files (the build leaves the work tree untouched)."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    source.mkdir()
    shutil.copy(PROJECT_DIR / "pyproject.toml", source)
    shutil.copytree(PROJECT_DIR / "components", source / "components",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp / "site"
    # The build backend (setuptools, pinned in requirements.txt) is already installed: no isolated build env.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, capture_output=True, timeout=300)
    return target


def test_pip_installs_the_components_and_they_import_outside_the_repository(installed, tmp_path):
    script = "import components; print(components.__file__); print(','.join(components.__all__))"
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(installed)!r}); {script}"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60, check=True)
    path, names = result.stdout.splitlines()
    assert path.startswith(str(installed))
    assert names.split(",") == list(components.__all__)


def test_the_installed_package_declares_the_pulumi_sdks_it_needs(installed):
    [dist_info] = installed.glob("aks_microservices_components-*.dist-info")
    metadata = Parser().parsestr((dist_info / "METADATA").read_text())
    required = {line.split(">")[0].split("<")[0].split("=")[0].strip() for line in metadata.get_all("Requires-Dist")}
    assert {"pulumi", "pulumi-kubernetes", "pulumi-random"} <= required
    assert metadata["Name"] == "aks-microservices-components"


def test_every_public_name_is_exported_and_documented():
    assert components.__doc__ and "components-contract" in components.__doc__
    for name in components.__all__:
        value = getattr(components, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            own = value.__dict__.get("__doc__") if inspect.isclass(value) else value.__doc__
            assert own and own.strip(), f"components.{name} has no docstring"


def test_the_public_api_holds_the_four_components_and_their_args():
    for name in ("StatelessService", "AutoscaledApp", "StatefulStore", "ObjectStore"):
        assert name in components.__all__ and f"{name}Args" in components.__all__
