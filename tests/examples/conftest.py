"""The package as another repository gets it: pip-installed into a fresh virtualenv outside this repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from offline.engine import PROJECT_DIR

# What the distribution is built from (pyproject.toml maps the folders to the import names).
SOURCES = ("pyproject.toml", "components", "offline")


@pytest.fixture(scope="session")
def venv(tmp_path_factory) -> Path:
    """A fresh virtualenv with the package pip-installed from a copy of the repository's package files (the
    build leaves the work tree untouched). Its dependencies are this suite's own: a .pth file puts the
    repository venv's site-packages on its path, so pip finds them installed and downloads nothing."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        if (PROJECT_DIR / name).is_dir():
            shutil.copytree(PROJECT_DIR / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(PROJECT_DIR / name, source / name)
    env = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    (site_packages(env) / "suite-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # The build backend (setuptools, pinned in requirements) is among them: no isolated build env.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--quiet",
                    "--disable-pip-version-check", "--no-build-isolation", f"{source}[offline]"],
                   check=True, capture_output=True, timeout=300)
    return env


def site_packages(env: Path) -> Path:
    return env / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture(scope="session")
def installed_package(venv) -> Path:
    """`aks_microservices` importable in this process, from the venv (not from the repository's folders), for
    programs that import it as another repository does (examples/existing-cluster)."""
    site = site_packages(venv)
    sys.path.append(str(site))  # after the suite's own paths: the package's dependencies stay the suite's
    yield site
    sys.path.remove(str(site))
