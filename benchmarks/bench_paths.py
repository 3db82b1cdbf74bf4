"""Every path a user takes, timed in fresh processes, beside baselines measured in the same run.

Jobs: matmul derive-and-prove under each loss (API), the command line end to end (summary only,
and every format written), convolution at the series' Part 2 shape under each loss, the general
proof, and ``import symgrad``. Baselines: naive SymPy (build L, then ``sympy.diff`` per entry, then
check against G·Bᵀ and Aᵀ·G) where it finishes, and a local chain rule in SymEngine (each output
differentiated only with respect to the entries it contains, then checked against the closed
forms). A scaling series from 16³ to 128³ gives the log-log slope of time and memory against the
number of terms m·k·n.

Prints one Markdown table (medians; ratio = baseline / symgrad; peak resident memory of the
process) and the slopes. API times exclude process start and imports; command-line and import
times are whole processes.

    python benchmarks/bench_paths.py [--repeats 5] [--large]

``--large`` adds the 1×16×64×64 convolution with a 32×16×3×3 kernel (minutes and several GiB).
SymEngine is a benchmark-only dependency: ``pip install symengine``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile

WORKER = r"""
import json, resource, subprocess, sys, tempfile, time
job = json.loads(sys.argv[1])
kind = job["kind"]
if kind in ("cli", "import"):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *job["argv"]], capture_output=True, text=True, cwd=tempfile.mkdtemp())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak": peak, "ok": done.returncode == 0}))
    sys.exit()
import sympy
import symgrad
import symgrad.api, symgrad.prove, symgrad.ops.conv2d, symgrad.ops.matmul  # imports untimed
import sympy.tensor.tensor  # SymPy imports it on the first sum it builds; an import, not work
if kind == "symengine":
    import symengine as se
start = time.perf_counter()
if kind == "matmul":
    proof = symgrad.matmul(*job["sizes"], job["loss"]).prove()
    ok = proof.ok
elif kind == "conv2d":
    proof = symgrad.conv2d(**job["spec"]).prove()
    ok = proof.ok
elif kind == "general":
    ok = symgrad.matmul("m", "k", "n", job["loss"]).prove().ok
elif kind == "naive":
    m, k, n = job["sizes"]
    A = sympy.Matrix(m, k, lambda i, j: sympy.Symbol(f"a[{i},{j}]"))
    B = sympy.Matrix(k, n, lambda i, j: sympy.Symbol(f"b[{i},{j}]"))
    G = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"g[{i},{j}]"))
    C = A * B
    L = sum(G[i, j] * C[i, j] for i in range(m) for j in range(n))  # a generic loss: dL/dc_ij = g_ij
    dA = A.applyfunc(lambda x: sympy.diff(L, x))
    dB = B.applyfunc(lambda x: sympy.diff(L, x))
    ok = (dA - G * B.T).expand().is_zero_matrix and (dB - A.T * G).expand().is_zero_matrix
elif kind == "symengine":
    m, k, n = job["sizes"]
    A = [[se.Symbol(f"a_{i}_{t}") for t in range(k)] for i in range(m)]
    B = [[se.Symbol(f"b_{t}_{j}") for j in range(n)] for t in range(k)]
    G = [[se.Symbol(f"g_{i}_{j}") for j in range(n)] for i in range(m)]
    dA = [[se.Integer(0)] * k for _ in range(m)]
    dB = [[se.Integer(0)] * n for _ in range(k)]
    for i in range(m):
        for j in range(n):
            c = se.Add(*[A[i][t] * B[t][j] for t in range(k)])
            for t in range(k):  # c_ij contains only row i of A and column j of B
                dA[i][t] += G[i][j] * c.diff(A[i][t])
                dB[t][j] += G[i][j] * c.diff(B[t][j])
    ok = all(se.expand(dA[i][t] - se.Add(*[G[i][j] * B[t][j] for j in range(n)])) == 0
             for i in range(m) for t in range(k))
    ok = ok and all(se.expand(dB[t][j] - se.Add(*[A[i][t] * G[i][j] for i in range(m)])) == 0
                    for t in range(k) for j in range(n))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "ok": bool(ok)}))
"""

PART2 = dict(input_shape=(9, 3, 16, 32), weight_shape=(2, 3, 4, 5), stride=2, padding=1)
# over the default size budget, which it is the benchmark's business to lift
LARGE = dict(input_shape=(1, 16, 64, 64), weight_shape=(32, 16, 3, 3), padding=1, loss="generic", max_terms=30_000_000)


def measure(job: dict, repeats: int) -> dict:
    runs = []
    for r in range(repeats):
        if sys.stderr.isatty():
            print(f"\r{job['name'][:60]:60} run {r + 1}/{repeats}", end="", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(job)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{job['name']} failed:\n{done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout))
    if not all(r["ok"] for r in runs):
        raise SystemExit(f"{job['name']} did not finish with a proof")
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak": max(r["peak"] for r in runs),
        "runs": len(runs),
    }


def jobs(large: bool) -> list:
    out_dir = tempfile.mkdtemp()
    rows = []
    for loss in ("generic", "mean", "sum"):
        rows.append(
            (
                {
                    "name": f"matmul 64³, derive and prove, {loss} loss",
                    "kind": "matmul",
                    "sizes": [64] * 3,
                    "loss": loss,
                },
                "≤ 0.5 s",
                {"name": "SymEngine local chain rule, 64³", "kind": "symengine", "sizes": [64] * 3},
            )
        )
    for loss in ("generic", "mean", "sum"):
        rows.append(
            (
                {"name": f"matmul 128³, {loss} loss", "kind": "matmul", "sizes": [128] * 3, "loss": loss},
                "≤ 4 s, ≤ 1 GiB",
                None,
            )
        )
    rows.append(
        (
            {"name": "matmul 8³, mean loss", "kind": "matmul", "sizes": [8] * 3, "loss": "mean"},
            "",
            {"name": "naive SymPy, 8³", "kind": "naive", "sizes": [8] * 3},
        )
    )
    rows.append(
        (
            {
                "name": "CLI `symgrad matmul -m 64 -k 64 -n 64` (summary)",
                "kind": "cli",
                "argv": ["-m", "symgrad", "matmul", "-m", "64", "-k", "64", "-n", "64"],
            },
            "≤ 1.5 s",
            None,
        )
    )
    rows.append(
        (
            {
                "name": "CLI 64³ `--format all --out DIR`",
                "kind": "cli",
                "argv": [
                    "-m",
                    "symgrad",
                    "matmul",
                    "-m",
                    "64",
                    "-k",
                    "64",
                    "-n",
                    "64",
                    "--format",
                    "all",
                    "--out",
                    out_dir,
                ],
            },
            "≤ 1.5 s",
            None,
        )
    )
    for loss in ("generic", "mean", "sum"):
        rows.append(
            (
                {
                    "name": f"conv2d Part 2 shape (9×3×16×32, 2×3×4×5, s2 p1), {loss}",
                    "kind": "conv2d",
                    "spec": {**PART2, "loss": loss},
                },
                "≤ 1.5 s",
                None,
            )
        )
    rows.append(({"name": 'general proof `matmul("m", "k", "n")`', "kind": "general", "loss": "mean"}, "≤ 1 s", None))
    rows.append(
        (
            {"name": "`import symgrad` (whole process)", "kind": "import", "argv": ["-c", "import symgrad"]},
            "≤ 0.4 s",
            {"name": "`python -c pass`", "kind": "import", "argv": ["-c", "pass"]},
        )
    )
    if large:
        rows.append(
            ({"name": "conv2d 1×16×64×64, 32×16×3×3, p1, generic", "kind": "conv2d", "spec": LARGE}, "≤ 30 s", None)
        )
    return rows


def slope(xs, ys) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action="store_true")
    args = parser.parse_args()
    print("| job | target | symgrad (s) | peak | baseline | baseline (s) | baseline / symgrad |")
    print("| --- | --- | ---: | ---: | --- | ---: | ---: |")
    baselines: dict = {}  # one measurement of a baseline serves every row that compares with it
    for job, target, baseline in jobs(args.large):
        heavy = job.get("sizes") == [128] * 3 or job.get("spec") is LARGE
        ours = measure(job, 1 if job.get("spec") is LARGE else 3 if heavy else args.repeats)
        if baseline and baseline["name"] not in baselines:
            baselines[baseline["name"]] = measure(baseline, 3)
        base = baselines[baseline["name"]] if baseline else None
        cells = [job["name"], target, f"{ours['seconds']:.3f}", f"{ours['peak'] / 2**20:.0f} MiB"]
        if base:
            cells += [baseline["name"], f"{base['seconds']:.3f}", f"{base['seconds'] / ours['seconds']:.1f}×"]
        else:
            cells += ["–", "–", "–"]
        print("| " + " | ".join(cells) + " |", flush=True)
    sizes = [16, 32, 64, 128]
    series = [
        measure({"name": f"scaling {n}³", "kind": "matmul", "sizes": [n] * 3, "loss": "generic"}, 3) for n in sizes
    ]
    terms = [n**3 for n in sizes]
    print()
    print(
        "Scaling, generic loss, derive and prove: "
        + ", ".join(f"{n}³ {s['seconds']:.3f} s / {s['peak'] / 2**20:.0f} MiB" for n, s in zip(sizes, series))
    )
    print(
        "log-log slope against m·k·n from 32³ to 128³: time "
        f"{slope(terms[1:], [s['seconds'] for s in series[1:]]):.2f}, "
        f"peak memory above the 16³ baseline "
        f"{slope(terms[1:], [max(s['peak'] - series[0]['peak'], 1) for s in series[1:]]):.2f}"
    )
    if sys.stderr.isatty():
        print("\r" + " " * 80 + "\r", end="", file=sys.stderr)


if __name__ == "__main__":
    main()
