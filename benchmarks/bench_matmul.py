"""Derive and prove every element of dL/dA and dL/dB for C = AB under a generic loss.

symgrad is measured beside the naive SymPy approach (build L, call sympy.diff(L, x) for every entry
x, then check the result against the SymPy matrix product G·Bᵀ), in the same run. Each measurement
runs in a fresh process, so its peak memory is its own. Prints a Markdown table: median wall time
(imports excluded) over the repeats, the ratio naive / symgrad, and peak resident memory.

    python benchmarks/bench_matmul.py [--sizes 4,8,12,32,64,128] [--naive-up-to 12] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
import sympy
import symgrad  # imports stay outside the timing, for both methods
method, n = sys.argv[1], int(sys.argv[2])
start = time.perf_counter()
if method == "symgrad":
    proof = symgrad.matmul(n, n, n, "generic").prove()
    ok = proof.ok and proof.elements == 2 * n * n
else:
    A = sympy.Matrix(n, n, lambda i, j: sympy.Symbol(f"a[{i},{j}]"))
    B = sympy.Matrix(n, n, lambda i, j: sympy.Symbol(f"b[{i},{j}]"))
    G = sympy.Matrix(n, n, lambda i, j: sympy.Symbol(f"g[{i},{j}]"))
    C = A * B
    L = sum(G[i, j] * C[i, j] for i in range(n) for j in range(n))  # dL/dc_ij = g_ij: a generic loss
    dA = A.applyfunc(lambda x: sympy.diff(L, x))
    dB = B.applyfunc(lambda x: sympy.diff(L, x))
    ok = (dA - G * B.T).expand().is_zero_matrix and (dB - A.T * G).expand().is_zero_matrix
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": elapsed, "peak": peak, "ok": bool(ok)}))
"""


def measure(method: str, n: int, repeats: int) -> dict:
    runs = []
    for r in range(repeats):
        if sys.stderr.isatty():
            print(f"\r{method} n={n} run {r + 1}/{repeats}   ", end="", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-c", WORKER, method, str(n)], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout))
    if not all(r["ok"] for r in runs):
        raise SystemExit(f"{method} at n={n} did not prove the closed forms")
    return {"seconds": statistics.median(r["seconds"] for r in runs), "peak": max(r["peak"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,8,12,32,64,128")
    parser.add_argument("--naive-up-to", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| m = k = n | symgrad (s) | naive SymPy (s) | naive / symgrad | symgrad peak memory |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n in (int(s) for s in args.sizes.split(",")):
        ours = measure("symgrad", n, args.repeats if n <= 64 else 1)
        naive = measure("naive", n, args.repeats) if n <= args.naive_up_to else None
        naive_s = f"{naive['seconds']:.2f}" if naive else "not run"
        ratio = f"{naive['seconds'] / ours['seconds']:.0f}×" if naive else "–"
        print(f"| {n} | {ours['seconds']:.3f} | {naive_s} | {ratio} | {ours['peak'] / 2**20:.0f} MiB |", flush=True)
    if sys.stderr.isatty():
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)


if __name__ == "__main__":
    main()
