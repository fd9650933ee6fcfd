"""Finding the control-plane binaries: envtest's KUBEBUILDER_ASSETS first, else the checked shared copies;
anything missing is one line saying what (the tier skips with it)."""

from __future__ import annotations

import hashlib
import lzma
import os

from controlplane import KUBE_BINARIES, find_binaries


def _executables(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return folder


def _shared(folder, corrupt: str | None = None):
    folder.mkdir()
    sums = []
    for name in KUBE_BINARIES:
        content = f"binary {name}".encode()
        (folder / f"{name}.xz").write_bytes(lzma.compress(content))
        digest = hashlib.sha256(b"other" if name == corrupt else content).hexdigest()
        sums.append(f"{digest}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    return folder


def test_kubebuilder_assets_names_the_folder_and_etcd_comes_from_it(tmp_path):
    assets = _executables(tmp_path / "assets", [*KUBE_BINARIES, "etcd"])
    found, source = find_binaries({"KUBEBUILDER_ASSETS": str(assets), "PATH": ""}, shared=tmp_path / "none")
    assert found is not None and found.etcd == assets / "etcd" and found.apiserver == assets / "kube-apiserver"
    assert source == f"KUBEBUILDER_ASSETS={assets}"


def test_kubebuilder_assets_without_a_binary_says_which(tmp_path):
    assets = _executables(tmp_path / "assets", ["kube-apiserver", "etcd"])
    found, why = find_binaries({"KUBEBUILDER_ASSETS": str(assets), "PATH": ""})
    assert found is None
    assert why == f"KUBEBUILDER_ASSETS={assets} holds no executable kube-controller-manager, kube-scheduler"


def test_etcd_is_taken_from_path_when_the_folder_has_none(tmp_path):
    assets = _executables(tmp_path / "assets", KUBE_BINARIES)
    bin_dir = _executables(tmp_path / "bin", ["etcd"])
    found, _ = find_binaries({"KUBEBUILDER_ASSETS": str(assets), "PATH": str(bin_dir)})
    assert found is not None and found.etcd == bin_dir / "etcd"
    missing, why = find_binaries({"KUBEBUILDER_ASSETS": str(assets), "PATH": str(tmp_path / "empty")})
    assert missing is None and why.startswith("no etcd in ") and "etcd-server" in why


def test_shared_binaries_are_decompressed_once_and_checked(tmp_path):
    shared = _shared(tmp_path / "k8s-bin")
    etcd_dir = _executables(tmp_path / "bin", ["etcd"])
    cache = tmp_path / "cache"
    found, source = find_binaries({"PATH": str(etcd_dir)}, shared=shared, cache=cache)
    assert found is not None and (cache / "kube-scheduler").read_bytes() == b"binary kube-scheduler"
    assert os.access(cache / "kube-scheduler", os.X_OK) and "SHA256SUMS checked" in source
    before = (cache / "kube-apiserver").stat().st_mtime_ns
    find_binaries({"PATH": str(etcd_dir)}, shared=shared, cache=cache)
    assert (cache / "kube-apiserver").stat().st_mtime_ns == before


def test_a_shared_binary_with_the_wrong_checksum_is_refused(tmp_path):
    shared = _shared(tmp_path / "k8s-bin", corrupt="kube-controller-manager")
    found, why = find_binaries({"PATH": ""}, shared=shared, cache=tmp_path / "cache")
    assert found is None and why.startswith("kube-controller-manager from ") and "SHA256SUMS says" in why
    assert not (tmp_path / "cache" / "kube-controller-manager").exists()


def test_without_assets_or_shared_binaries_the_reason_is_one_line(tmp_path):
    found, why = find_binaries({"PATH": ""}, shared=tmp_path / "absent", cache=tmp_path / "cache")
    assert found is None and "\n" not in why and why.startswith("no KUBEBUILDER_ASSETS and no ")
