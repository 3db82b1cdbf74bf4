"""Derive and prove every element of dL/dX, dL/dW and dL/db for Y = conv2d(X, W, b) (generic loss).

symgrad is measured beside the naive SymPy approach in the same run: build L = Σ (dL/dy)·y over
every output, then call sympy.diff(L, x) for every input entry. On the large problem the naive
run is stopped after a time budget, and its total is projected from the entries it finished
(labelled as such); on the small problem it runs to the end. Each measurement runs in a fresh
process; medians over the repeats.

    python benchmarks/bench_conv2d.py [--budget 60] [--repeats 3]
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
import symgrad
method, spec, budget = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
start = time.perf_counter()
if method == "symgrad":
    d = symgrad.conv2d(**spec)
    proof = d.prove()
    result = {"ok": proof.ok, "entries": sum(len(t.ids) for t in d.input_tensors.values())}
else:
    d = symgrad.conv2d(**spec)  # only for the explicit output entries, built the plain way below
    reg = d.registry
    outputs = [sympy.Add(*[sympy.Mul(*[reg.symbol(v) for v in mono]) * c for mono, c in p.items()])
               for p in d.definitions.entries]
    L = sympy.Add(*[reg.symbol(g) * y for g, y in zip(d.upstream_symbols.ids, outputs)])
    built = time.perf_counter() - start
    entries = [v for t in d.input_tensors.values() for v in t.ids]
    done = 0
    for v in entries:
        sympy.diff(L, reg.symbol(v))
        done += 1
        if time.perf_counter() - start > budget:
            break
    elapsed = time.perf_counter() - start
    per_entry = (elapsed - built) / done
    result = {"ok": True, "entries": len(entries), "done": done, "built": built,
              "projected": built + per_entry * len(entries)}
result["seconds"] = time.perf_counter() - start
result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(result))
"""

# (problem, whether the naive run is capped by --budget; the small one always runs to the end)
PROBLEMS = {
    "1×3×32×32 input, 8×3×3×3 kernel, stride 1, padding 1": (
        dict(input_shape=(1, 3, 32, 32), weight_shape=(8, 3, 3, 3), stride=1, padding=1),
        True,
    ),
    "1×3×8×8 input, 4×3×3×3 kernel, stride 1, padding 1": (
        dict(input_shape=(1, 3, 8, 8), weight_shape=(4, 3, 3, 3), stride=1, padding=1),
        False,
    ),
}


def measure(method, spec, repeats, budget):
    runs = []
    for r in range(repeats):
        if sys.stderr.isatty():
            print(f"\r{method} run {r + 1}/{repeats}   ", end="", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-c", WORKER, method, json.dumps(spec), str(budget)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    if not all(r["ok"] for r in runs):
        raise SystemExit(f"{method} did not prove the closed forms")
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    if "projected" in out:
        out["projected"] = statistics.median(r["projected"] for r in runs)
    out["peak"] = max(r["peak"] for r in runs)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds the naive run may take")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| problem | symgrad (s) | naive SymPy (s) | naive / symgrad | symgrad peak memory |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (spec, capped) in PROBLEMS.items():
        ours = measure("symgrad", spec, args.repeats, args.budget)
        naive = measure("naive", spec, 1, args.budget if capped else float("inf"))
        if naive["done"] < naive["entries"]:
            naive_text = (
                f"{naive['projected']:.0f} projected ({naive['done']} of {naive['entries']} "
                f"entries in {naive['seconds']:.0f} s)"
            )
            total = naive["projected"]
        else:
            naive_text, total = f"{naive['seconds']:.2f}", naive["seconds"]
        print(
            f"| {name} | {ours['seconds']:.2f} | {naive_text} | {total / ours['seconds']:.0f}× | "
            f"{ours['peak'] / 2**20:.0f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
