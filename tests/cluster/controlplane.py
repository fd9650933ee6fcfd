"""A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler.

Binaries are found the way envtest finds them: `KUBEBUILDER_ASSETS` names a folder holding `kube-apiserver`,
`kube-controller-manager`, `kube-scheduler` (and `etcd`, else `etcd` from PATH, e.g. Debian's `etcd-server`
at /usr/bin/etcd). Without it the project's `../shared/k8s-bin/*.xz` are decompressed once into
`build/cluster-tier/bin/` (gitignored) and checked against `SHA256SUMS` there. `find_binaries()` returns
None plus a one-line reason when something is missing; the tests skip with that line.

`ControlPlane.start()` picks free 127.0.0.1 ports, generates a CA and every certificate on the fly (EC P-256,
package `cryptography`), starts each process with its log file under `logs_dir`, waits (bounded) for each to
report healthy, and writes an admin kubeconfig. `stop()` ends every process it started, by pid (SIGTERM,
then SIGKILL after a bound). Data (etcd) lives in a temporary folder (in /dev/shm when there is one: etcd
fsyncs every write) removed on stop; the logs stay.

Flags tuned for fast failure scenarios, all documented flags of the real components:
- kube-controller-manager `--node-monitor-period=1s --node-monitor-grace-period=8s`: a node whose lease
  stops is NotReady after 8 s (default 40-50 s); `--node-eviction-rate=10`: the unreachable taint reaches
  every node of a lost zone at once (default 0.1 node/s);
- kube-apiserver `--default-not-ready-toleration-seconds=2 --default-unreachable-toleration-seconds=2`: the
  DefaultTolerationSeconds admission gives pods 2 s on an unreachable node instead of 300 s before the taint
  manager evicts them;
- `--endpoint-reconciler-type=none` (127.0.0.1 is not a valid Endpoints address) and kube-controller-manager
  `--controllers=*,-service-ca-certificate-publisher-controller` (the binaries are OpenShift's fork of
  v1.33; that removes its one extra controller, see ../shared/k8s-bin/README.md).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import lzma
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SHARED_BIN = PROJECT_DIR.parent / "shared" / "k8s-bin"
CACHE_BIN = PROJECT_DIR / "build" / "cluster-tier" / "bin"
KUBE_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
SERVICE_CIDR = "10.0.0.0/16"  # the dev stack's networkProfile.serviceCidr


@dataclass(frozen=True)
class Binaries:
    apiserver: Path
    controller_manager: Path
    scheduler: Path
    etcd: Path
    source: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_sums(sums_file: Path) -> dict[str, str]:
    sums = {}
    for line in sums_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*").rsplit("/", 1)[-1]] = parts[0]
    return sums


def _decompress_shared(shared: Path, cache: Path) -> tuple[Path | None, str]:
    """The shared binaries, decompressed into `cache` once and checked against SHA256SUMS."""
    sums_file = shared / "SHA256SUMS"
    if not all((shared / f"{b}.xz").is_file() for b in KUBE_BINARIES) or not sums_file.is_file():
        return None, f"no KUBEBUILDER_ASSETS and no {shared}/{{{','.join(KUBE_BINARIES)}}}.xz with SHA256SUMS"
    sums = _expected_sums(sums_file)
    cache.mkdir(parents=True, exist_ok=True)
    for name in KUBE_BINARIES:
        target = cache / name
        stamp = cache / f"{name}.sha256"
        if name not in sums:
            return None, f"{sums_file} lists no checksum for {name}"
        if target.is_file() and stamp.is_file() and stamp.read_text().strip() == sums[name]:
            continue  # checked when it was decompressed; the stamp names the sum it matched
        partial = cache / f"{name}.partial"
        with lzma.open(shared / f"{name}.xz") as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        actual = _sha256(partial)
        if actual != sums[name]:
            partial.unlink()
            return None, f"{name} from {shared} has sha256 {actual}, SHA256SUMS says {sums[name]}"
        partial.chmod(0o755)
        partial.replace(target)
        stamp.write_text(actual + "\n")
    return cache, f"{shared} (decompressed into {cache}, SHA256SUMS checked)"


def find_binaries(
    environ: dict[str, str] | None = None, shared: Path = SHARED_BIN, cache: Path = CACHE_BIN
) -> tuple[Binaries | None, str]:
    """The control-plane binaries and where they came from, or None and the one-line reason why not."""
    environ = os.environ if environ is None else environ
    assets = environ.get("KUBEBUILDER_ASSETS")
    if assets:
        folder, source = Path(assets), f"KUBEBUILDER_ASSETS={assets}"
        missing = [b for b in KUBE_BINARIES if not os.access(folder / b, os.X_OK)]
        if missing:
            return None, f"KUBEBUILDER_ASSETS={assets} holds no executable {', '.join(missing)}"
    else:
        found, source = _decompress_shared(shared, cache)
        if found is None:
            return None, source
        folder = found
    etcd = folder / "etcd" if os.access(folder / "etcd", os.X_OK) else shutil.which("etcd", path=environ.get("PATH"))
    if etcd is None:
        return None, f"no etcd in {folder} nor on PATH (Debian: apt-get install etcd-server)"
    return Binaries(folder / "kube-apiserver", folder / "kube-controller-manager", folder / "kube-scheduler",
                    Path(etcd), source), source


# Certificates ----------------------------------------------------------------------------------------------

def _write_pki(folder: Path) -> None:
    """A CA, the apiserver's serving certificate, client certificates and the service-account key pair."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=2)

    def key_pem(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("cluster-tier-ca")).issuer_name(name("cluster-tier-ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def leaf(file: str, subject: x509.Name, server: bool) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(later)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                         else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
            ]), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        (folder / f"{file}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{file}.key").write_bytes(key_pem(key))

    leaf("apiserver", name("kube-apiserver"), server=True)
    leaf("admin", name("cluster-tier-admin", "system:masters"), server=False)
    # The components' own identities: RBAC's bootstrap roles grant them what they need.
    leaf("controller-manager", name("system:kube-controller-manager"), server=False)
    leaf("scheduler", name("system:kube-scheduler"), server=False)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    (folder / "sa.key").write_bytes(key_pem(sa_key))
    (folder / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _kubeconfig(path: Path, server: str, pki: Path, user: str) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "tier",
        "clusters": [{"name": "tier", "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": user, "user": {"client-certificate": str(pki / f"{user}.crt"),
                                          "client-key": str(pki / f"{user}.key")}}],
        "contexts": [{"name": "tier", "context": {"cluster": "tier", "user": user}}],
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The control plane -----------------------------------------------------------------------------------------

class ControlPlaneError(RuntimeError):
    pass


@dataclass
class ControlPlane:
    binaries: Binaries
    logs_dir: Path
    startup_timeout: float = 90.0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    kubeconfig: Path | None = None
    server: str = ""
    _data: Path | None = None

    def start(self) -> ControlPlane:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self._data = Path(tempfile.mkdtemp(prefix="cluster-tier-", dir=base))
        pki = self._data / "pki"
        pki.mkdir()
        _write_pki(pki)
        try:
            self._start_all(pki)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_all(self, pki: Path) -> None:
        etcd_port, peer_port, api_port = _free_port(), _free_port(), _free_port()
        kcm_port, sched_port = _free_port(), _free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self._spawn("etcd", [
            str(self.binaries.etcd), "--data-dir", str(self._data / "etcd"), "--name", "tier",
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"tier=http://127.0.0.1:{peer_port}", "--log-level", "warn",
        ])
        self._wait("etcd", lambda: _http_ok(f"{etcd_url}/health"))

        self.server = f"https://127.0.0.1:{api_port}"
        self._spawn("kube-apiserver", [
            str(self.binaries.apiserver), f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}", f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--endpoint-reconciler-type=none",
            "--authorization-mode=RBAC", "--profiling=false", "--allow-privileged=true",  # as AKS: PSA decides
            "--default-not-ready-toleration-seconds=2", "--default-unreachable-toleration-seconds=2",
        ])
        admin = _kubeconfig(self._data / "admin.kubeconfig", self.server, pki, "admin")
        context = _tls_context(pki, "admin")
        self._wait("kube-apiserver", lambda: _http_ok(f"{self.server}/readyz", context))
        self.kubeconfig = admin

        kcm_config = _kubeconfig(self._data / "kcm.kubeconfig", self.server, pki, "controller-manager")
        self._spawn("kube-controller-manager", [
            str(self.binaries.controller_manager), f"--kubeconfig={kcm_config}",
            f"--authentication-kubeconfig={kcm_config}", f"--authorization-kubeconfig={kcm_config}",
            "--bind-address=127.0.0.1", f"--secure-port={kcm_port}", "--leader-elect=false",
            "--controllers=*,-service-ca-certificate-publisher-controller",
            f"--service-account-private-key-file={pki / 'sa.key'}", "--use-service-account-credentials",
            f"--root-ca-file={pki / 'ca.crt'}", f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--node-monitor-period=1s", "--node-monitor-grace-period=8s", "--node-eviction-rate=10",
            "--secondary-node-eviction-rate=10", "--profiling=false",
        ])
        sched_config = _kubeconfig(self._data / "scheduler.kubeconfig", self.server, pki, "scheduler")
        self._spawn("kube-scheduler", [
            str(self.binaries.scheduler), f"--kubeconfig={sched_config}",
            f"--authentication-kubeconfig={sched_config}", f"--authorization-kubeconfig={sched_config}",
            "--bind-address=127.0.0.1", f"--secure-port={sched_port}", "--leader-elect=false", "--profiling=false",
        ])
        insecure = ssl.create_default_context()
        insecure.check_hostname, insecure.verify_mode = False, ssl.CERT_NONE  # self-signed serving certs
        self._wait("kube-controller-manager", lambda: _http_ok(f"https://127.0.0.1:{kcm_port}/healthz", insecure))
        self._wait("kube-scheduler", lambda: _http_ok(f"https://127.0.0.1:{sched_port}/healthz", insecure))

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = (self.logs_dir / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True)
        log.close()

    def _wait(self, name: str, healthy: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise ControlPlaneError(f"{name} exited with {process.returncode}: {self.log_tail(name)}")
            if healthy():
                return
            time.sleep(0.2)
        raise ControlPlaneError(f"{name} not healthy within {self.startup_timeout:.0f}s: {self.log_tail(name)}")

    def log_tail(self, name: str, lines: int = 5) -> str:
        path = self.logs_dir / f"{name}.log"
        text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return " | ".join(text[-lines:]) or "(no output)"

    def alive(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is None]

    def stop(self, timeout: float = 15.0) -> None:
        """End every process this control plane started, by its pid, newest first; remove the data folder."""
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout)
        if self._data is not None:
            shutil.rmtree(self._data, ignore_errors=True)
            self._data = None


def _tls_context(pki: Path, user: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    context.load_cert_chain(str(pki / f"{user}.crt"), str(pki / f"{user}.key"))
    return context


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return response.status == 200
    except OSError:
        return False
