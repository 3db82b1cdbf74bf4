"""The element-wise engine's large jobs, A/B: this tree against another checkout of symgrad.

Each job (derive and prove, under a loss) runs in a fresh process, imports excluded; the two trees
take turns, so both see the same load on a shared machine. Wall and CPU seconds and peak memory
are printed as medians, with the ratio branch / base (below 1, this tree is faster).

    git worktree add --detach /tmp/ab-engine main
    python benchmarks/bench_engine.py --base /tmp/ab-engine [--repeats 3] [--only matmul-64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, resource, sys, time
import sympy, sympy.tensor.tensor
import symgrad, symgrad.api, symgrad.prove, symgrad.ops.conv2d, symgrad.ops.matmul  # imports untimed
job = json.loads(sys.argv[1])
wall, cpu = time.perf_counter(), time.process_time()
if job["kind"] == "matmul":
    d = symgrad.matmul(*job["sizes"], job["loss"])
else:
    d = symgrad.conv2d(**job["spec"], loss=job["loss"])
ok = d.prove().ok
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "ok": ok,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PART2 = dict(input_shape=(9, 3, 16, 32), weight_shape=(2, 3, 4, 5), stride=2, padding=1)
JOBS = [
    *(("matmul-64", {"kind": "matmul", "sizes": [64] * 3, "loss": loss}) for loss in ("generic", "mean", "sum")),
    *(("matmul-128", {"kind": "matmul", "sizes": [128] * 3, "loss": loss}) for loss in ("generic", "mean", "sum")),
    *(("conv2d-part2", {"kind": "conv2d", "spec": PART2, "loss": loss}) for loss in ("generic", "mean", "sum")),
]


def run(tree: Path, job: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(job)], capture_output=True, text=True, cwd=tree, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="another checkout of symgrad (the branch point)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="run only the jobs whose name contains this")
    args = parser.parse_args()
    results: dict = {}
    for _ in range(args.repeats):
        for name, job in JOBS:
            if args.only not in name:
                continue
            for side, tree in (("base", args.base.resolve()), ("this", ROOT)):
                results.setdefault((name, job["loss"], side), []).append(run(tree, job))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"medians of {args.repeats} fresh processes; load average at the end {load}\n")
    print("| job | loss | base (s) | this (s) | this / base | base CPU (s) | this CPU (s) | base peak | this peak |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, job in JOBS:
        if (name, job["loss"], "base") not in results:
            continue
        base, this = results[(name, job["loss"], "base")], results[(name, job["loss"], "this")]
        if not all(r["ok"] for r in base + this):
            print(f"| {name} | {job['loss']} | a proof failed | | | | | | |")
            continue

        def med(rows, key):
            return statistics.median(r[key] for r in rows)

        print(
            f"| {name} | {job['loss']} | {med(base, 'wall'):.3f} | {med(this, 'wall'):.3f} | "
            f"{med(this, 'wall') / med(base, 'wall'):.2f} | {med(base, 'cpu'):.3f} | {med(this, 'cpu'):.3f} | "
            f"{max(r['peak'] for r in base):.0f} MiB | {max(r['peak'] for r in this):.0f} MiB |"
        )


if __name__ == "__main__":
    main()
