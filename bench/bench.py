"""Benchmark of the offline engine, side by side with the alternatives, in one run.

    make bench                      # = .venv/bin/python bench/bench.py --cdk8s-python bench/.venv-cdk8s/bin/python

Measures (each figure the median of --runs runs, each run in a fresh process so peak RSS is its own):
1. our render of the dev stack: wall time including interpreter start, peak RSS, objects written;
2. our engine on synthetic stacks of N StatelessServices (a Deployment and a Service each, plus the
   component's secure defaults: a ServiceAccount and a NetworkPolicy);
3. the plain recording-mocks baseline (Pulumi's stock mock monitor, the docs' Mocks subclass) on the same;
4. cdk8s-plus synthesizing N Deployments + Services (bench-only venv), and the same four objects per service
   as ours (ServiceAccount, Deployment, Service, NetworkPolicy);
5. the floor: dumping our engine's objects for N to YAML with PyYAML's C dumper.
Program time starts after the libraries are imported, on every side: cdk8s-plus loads its whole library
at `import`, pulumi_kubernetes loads each API group on first use, so ours imports the groups it uses first.
Prints a table with ratios and writes bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10, 100, 1000)


# Children: each measures one thing and prints one JSON line ------------------------------------------


# The pulumi_kubernetes API groups StatelessService uses (loaded lazily on first use otherwise).
_K8S_MODULES = ("apps.v1", "core.v1", "meta.v1", "networking.v1", "policy.v1")


def _import_libraries() -> None:
    import importlib

    import components  # noqa: F401

    for module in _K8S_MODULES:
        importlib.import_module(f"pulumi_kubernetes.{module}")


def _synthetic_program(n: int):
    from components import StatelessService, StatelessServiceArgs

    def program() -> None:
        for i in range(n):
            StatelessService(
                f"svc{i}",
                StatelessServiceArgs(
                    namespace="bench",
                    part_of="bench",
                    component="web",
                    deployment_name=f"svc{i}",
                    image="nginx:1.27",
                    port=8080,
                    service_port=80,
                    replicas=1,
                ),
            )

    return program


def child_ours(n: int) -> dict:
    from offline.engine import run

    _import_libraries()
    started = time.perf_counter()
    # As the CLI runs it: one program per process, no last garbage-collection pass over its heap.
    recording = run(_synthetic_program(n), stack="bench", collect_garbage=False)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "objects": len(recording.k8s_objects())}


def child_baseline(n: int) -> dict:
    from offline.baseline import PlainRecordingMocks, run_with_stock_monitor

    _import_libraries()
    mocks = PlainRecordingMocks()
    started = time.perf_counter()
    run_with_stock_monitor(_synthetic_program(n), mocks, project="aks-microservices", stack="bench")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "objects": sum(1 for t, _, _ in mocks.records if t.startswith("kubernetes:"))}


def child_floor(n: int) -> dict:
    import yaml

    from offline.engine import run

    objects = run(_synthetic_program(n), stack="bench").k8s_objects()
    started = time.perf_counter()
    text = "".join(yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=False) for obj in objects)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "objects": len(objects), "chars": len(text)}


# argv: N, then "same" for ours' four objects per service (else a Deployment and its Service), then the folder
# to synthesize into. cdk8s-plus runs its fastest documented path, the one its CLI takes: `cdk8s synth` runs
# the app, whose `app.synth()` writes one YAML file per chart into the app's outdir (`app.synth_yaml()`, which
# builds the whole YAML as one string, measured some 15-20% slower).
CDK8S_CHILD = """
import json, pathlib, sys, time
import cdk8s, cdk8s_plus_33 as kplus
n, same, outdir = int(sys.argv[1]), sys.argv[2] == "same", sys.argv[3]
deny = kplus.NetworkPolicyTraffic(default=kplus.NetworkPolicyTrafficDefault.DENY)
started = time.perf_counter()
app = cdk8s.App(outdir=outdir)
chart = cdk8s.Chart(app, "bench")
for i in range(n):
    account = kplus.ServiceAccount(chart, f"svc{i}-account", automount_token=False) if same else None
    deployment = kplus.Deployment(chart, f"svc{i}", replicas=1, service_account=account,
                                  containers=[kplus.ContainerProps(image="nginx:1.27", port_number=8080)])
    deployment.expose_via_service(ports=[kplus.ServicePort(port=80, target_port=8080)])
    if same:
        kplus.NetworkPolicy(chart, f"svc{i}-policy", selector=deployment, ingress=deny, egress=deny)
app.synth()
seconds = time.perf_counter() - started
text = "".join(path.read_text() for path in pathlib.Path(outdir).glob("*.yaml"))
print(json.dumps({"seconds": seconds, "objects": text.count("\\nkind: ") + text.startswith("kind: ")}))
"""
CDK8S_PATH = "app.synth()"


# Parent ---------------------------------------------------------------------------------------------------


def _spawn(argv: list[str], env: dict | None = None) -> tuple[dict, float, float]:
    """Run a child; return its JSON line, its wall time and its own peak RSS in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench child failed ({' '.join(argv)}):\n{err[-2000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    return result, wall, usage.ru_maxrss / 1024


def _median(samples: list[tuple[dict, float, float]], key: str) -> float:
    if key == "wall":
        return statistics.median(s[1] for s in samples)
    if key == "rss":
        return statistics.median(s[2] for s in samples)
    return statistics.median(s[0][key] for s in samples)


def measure(runs: int, cdk8s_python: str | None, sizes: tuple[int, ...]) -> dict:
    python = sys.executable
    results: dict = {"sizes": list(sizes), "cdk8s_path": CDK8S_PATH, "machine": _machine(), "runs": runs}
    with tempfile.TemporaryDirectory() as out:
        samples = [
            _spawn([python, "-m", "offline", "render", "--stack", "dev", "--out", out]) for _ in range(runs)
        ]
        objects = sum(1 for _ in Path(out, "k8s").rglob("*.yaml"))
    results["render"] = {"wall": _median(samples, "wall"), "rss": _median(samples, "rss"), "objects": objects}
    for kind in ("ours", "baseline", "floor"):
        for n in sizes:
            samples = [_spawn([python, __file__, "--child", kind, str(n)]) for _ in range(runs)]
            results[f"{kind}/{n}"] = {
                "seconds": _median(samples, "seconds"),
                "rss": _median(samples, "rss"),
                "objects": samples[0][0]["objects"],
            }
            print(f"  {kind:8} N={n:<5} {results[f'{kind}/{n}']['seconds']:.3f}s", file=sys.stderr)
    if cdk8s_python:
        for variant, kind in (("pair", "cdk8s"), ("same", "cdk8s-same")):
            for n in sizes:
                samples = []
                for _ in range(runs):
                    with tempfile.TemporaryDirectory() as outdir:
                        samples.append(_spawn([cdk8s_python, "-c", CDK8S_CHILD, str(n), variant, outdir]))
                results[f"{kind}/{n}"] = {
                    "seconds": _median(samples, "seconds"),
                    "rss": _median(samples, "rss"),
                    "objects": samples[0][0]["objects"],
                }
                print(f"  {kind:10} N={n:<5} {results[f'{kind}/{n}']['seconds']:.3f}s", file=sys.stderr)
    return results


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def report(results: dict, runs: int) -> str:
    sizes = results["sizes"]
    lines = [
        "# Offline engine benchmark",
        "",
        f"Machine: {_machine()}. Each figure is the median of {runs} runs, each in a fresh process.",
        "",
        f"Render of the dev stack (`python -m offline render --stack dev`, wall time including interpreter start):"
        f" **{results['render']['wall']:.2f} s**, peak RSS {results['render']['rss']:.0f} MB,"
        f" {results['render']['objects']} objects written.",
        "",
        "Synthetic stacks of N services, program time (from after the libraries are imported to the objects"
        " in memory; cdk8s-plus to its YAML files, written by `app.synth()` as `cdk8s synth` does). Ours and the baseline build N `StatelessService` components: a"
        " Deployment, a Service and the component's secure defaults, a ServiceAccount and a NetworkPolicy (4"
        " Kubernetes objects, 5 resources with the component). cdk8s-plus builds the same 4 objects per service"
        " (\"same objects\"), and a Deployment + Service only (\"2 objects\"). Per object = ours / Kubernetes"
        " objects.",
        "",
        "| N | ours | per object | peak RSS | baseline (stock mocks) | cdk8s-plus, same objects"
        " | cdk8s-plus, 2 objects | floor (C YAML dump) | ours / cdk8s-plus same | ours / cdk8s-plus 2"
        " | ours / baseline | ours / floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def seconds(kind: str, n: int) -> str:
        figure = results.get(f"{kind}/{n}")
        return f"{figure['seconds']:.2f} s" if figure else "-"

    def ratio(ours: dict, kind: str, n: int, digits: int = 2) -> str:
        figure = results.get(f"{kind}/{n}")
        return f"{ours['seconds'] / max(figure['seconds'], 1e-9):.{digits}f}" if figure else "-"

    for n in sizes:
        ours, floor = results[f"ours/{n}"], results[f"floor/{n}"]
        cells = [
            str(n),
            f"{ours['seconds']:.2f} s",
            f"{ours['seconds'] / max(ours['objects'], 1) * 1000:.2f} ms",
            f"{ours['rss']:.0f} MB",
            seconds("baseline", n),
            seconds("cdk8s-same", n),
            seconds("cdk8s", n),
            f"{floor['seconds']:.3f} s",
            ratio(ours, "cdk8s-same", n),
            ratio(ours, "cdk8s", n),
            ratio(ours, "baseline", n),
            ratio(ours, "floor", n, 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if 100 in sizes and 1000 in sizes:
        growth = results["ours/1000"]["seconds"] / results["ours/100"]["seconds"]
        base_growth = results["baseline/1000"]["seconds"] / results["baseline/100"]["seconds"]
        lines += ["", f"Growth t(1000)/t(100): ours {growth:.1f}, baseline {base_growth:.1f} (10 is linear)."]
    block = readme_block(results)
    if block:
        lines += ["", "The README's Performance table and ratios, from this run (`make bench` copies them there):", "",
                  README_BEGIN, block, README_END]
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- bench:begin -->"
README_END = "<!-- bench:end -->"


def readme_block(results: dict) -> str | None:
    """The README's table and ratio sentence, computed from a run with N = 10, 100, 1,000 and cdk8s-plus."""
    sizes = (10, 100, 1000)
    if not all(f"{kind}/{n}" in results for kind in ("ours", "baseline", "cdk8s", "cdk8s-same") for n in sizes):
        return None

    def s(kind: str, n: int) -> str:
        value = results[f"{kind}/{n}"]["seconds"]
        return f"{value:.3f} s" if value < (0.1 if kind == "floor" else 0.01) else f"{value:.2f} s"

    def growth(kind: str) -> str:
        return f"{results[f'{kind}/1000']['seconds'] / results[f'{kind}/100']['seconds']:.1f}"

    ours = results["ours/1000"]
    rows = [
        "| | N = 10 | N = 100 | N = 1,000 | growth t(1000)/t(100) | peak RSS at 1,000 |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| **ours** (4 objects per service) | {s('ours', 10)} | {s('ours', 100)} | **{s('ours', 1000)}** | "
        f"{growth('ours')} | {ours['rss']:.0f} MB |",
        f"| baseline, stock mocks (same program) | {s('baseline', 10)} | {s('baseline', 100)} | "
        f"{s('baseline', 1000)} | {growth('baseline')} | |",
        f"| cdk8s-plus, the same 4 objects per service | {s('cdk8s-same', 10)} | {s('cdk8s-same', 100)} | "
        f"{s('cdk8s-same', 1000)} | | |",
        f"| cdk8s-plus, Deployment + Service only | {s('cdk8s', 10)} | {s('cdk8s', 100)} | {s('cdk8s', 1000)} | | |",
    ]
    if all(f"floor/{n}" in results for n in sizes):
        rows.append(f"| floor: C YAML dump of our objects | {s('floor', 10)} | {s('floor', 100)} | "
                    f"{s('floor', 1000)} | | |")

    def of(kind: str) -> str:
        return f"{ours['seconds'] / results[f'{kind}/1000']['seconds']:.2f}"

    path = results.get("cdk8s_path")
    how = (f"cdk8s-plus through `{path}` writing its files, as `cdk8s synth` does" if path else
           "cdk8s-plus through `app.synth_yaml()`, NOT its fastest path: re-measure with `make bench`")
    sentence = (
        f"At N = 1,000 ours takes {of('cdk8s')} of cdk8s-plus's time with half the objects, {of('cdk8s-same')} "
        f"with the same objects, and {of('baseline')} of the stock-mocks baseline's "
        f"({ours['seconds'] / max(ours['objects'], 1) * 1000:.2f} ms per Kubernetes object). Measured on "
        f"{results.get('machine', 'this machine')}, median of {results.get('runs', '?')} runs; {how}."
    )
    return "\n".join(rows) + "\n\n" + sentence


def update_readme(block: str, readme: Path = ROOT / "README.md") -> None:
    text = readme.read_text()
    if README_BEGIN not in text or README_END not in text:
        return
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_BEGIN}\n{block}\n{README_END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median); default 3")
    parser.add_argument("--cdk8s-python", help="python of a venv with cdk8s-plus-33 installed")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N values")
    args = parser.parse_args()
    if args.child:
        kind, n = args.child[0], int(args.child[1])
        sys.path.insert(0, str(ROOT))
        print(json.dumps({"ours": child_ours, "baseline": child_baseline, "floor": child_floor}[kind](n)))
        return 0
    sizes = tuple(int(s) for s in args.sizes.split(","))
    results = measure(args.runs, args.cdk8s_python, sizes)
    text = report(results, args.runs)
    (ROOT / "bench" / "results.md").write_text(text)
    block = readme_block(results)
    if block:
        update_readme(block)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
