"""Networks: derive and prove, beside naive SymPy, in fresh processes of the same run.

Jobs:
- Linear(64→32) → Sigmoid → MSE on a batch of 16 (x 16×64, W 32×64, b 32, targets 16×32);
- the series' Part 2 network at its companion shapes: Conv2d (a 9×3×16×32 input, a 2×3×4×5 kernel,
  stride 2, padding 1) → LeakyReLU(0.02) → mean.

symgrad: ``symgrad.derive(net, ...)`` then ``.prove()`` (every layer's closed form against the
chain rule at every element, and every checked line of the document).

Naive SymPy: the loss built as one SymPy expression (σ as 1/(1 + e^{−z}), LeakyReLU as a
Piecewise), then ``sympy.diff`` of the whole loss with respect to each weight. Differentiating
every one of the 2048 (or 120) weights does not finish in reasonable time, so the job differentiates
the first ``--naive-entries`` weights; the table gives the measured time (building the loss once,
then those derivatives) and the total with the derivatives extrapolated linearly to every weight,
marked as such. It proves nothing; it only computes.

    python benchmarks/bench_networks.py [--repeats 3] [--naive-entries 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

WORKER = r"""
import json, resource, sys, time
job = json.loads(sys.argv[1])
import sympy
import symgrad, symgrad.api, symgrad.functional as F

def linear_sigmoid_mse(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.linear(x, w, b)), t)

def part2(x, w, b):
    return F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02)

shapes = {
    "linear": dict(x=(16, 64), w=(32, 64), b=(32,), t=(16, 32)),
    "part2": dict(x=(9, 3, 16, 32), w=(2, 3, 4, 5), b=(2,)),
}[job["net"]]
start = time.perf_counter()
if job["kind"] == "symgrad":
    if job["net"] == "linear":
        d = symgrad.derive(linear_sigmoid_mse, **shapes)
    else:
        d = symgrad.derive(part2, **shapes, loss="mean")
    ok = d.prove().ok
    done = 1
else:
    def tensor(name, shape):
        import itertools
        return {ix: sympy.Symbol(f"{name}{ix}") for ix in itertools.product(*(range(s) for s in shape))}
    if job["net"] == "linear":
        x, w, b, t = (tensor(n, shapes[n]) for n in "xwbt")
        loss = 0
        for i in range(16):
            for o in range(32):
                z = sum(x[(i, k)] * w[(o, k)] for k in range(64)) + b[(o,)]
                loss += (1 / (1 + sympy.exp(-z)) - t[(i, o)]) ** 2
        loss = loss / (16 * 32)
        weights = list(w.values())
    else:
        x, w, b = (tensor(n, shapes[n]) for n in "xwb")
        terms = []
        for n in range(9):
            for o in range(2):
                for i in range(8):
                    for j in range(15):
                        z = b[(o,)]
                        for c in range(3):
                            for u in range(4):
                                for v in range(5):
                                    h, ww = 2 * i - 1 + u, 2 * j - 1 + v
                                    if 0 <= h < 16 and 0 <= ww < 32:
                                        z += w[(o, c, u, v)] * x[(n, c, h, ww)]
                        terms.append(sympy.Piecewise((z, z > 0), (sympy.Rational(1, 50) * z, True)))
        loss = sympy.Add(*terms) / len(terms)
        weights = list(w.values())
    built = time.perf_counter() - start
    for entry in weights[: job["entries"]]:
        sympy.diff(loss, entry)
    ok = True
    done = min(job["entries"], len(weights)) / len(weights)
seconds = time.perf_counter() - start
if job["kind"] == "naive":  # building the loss happens once; only the derivatives scale with the weights
    seconds = built + (seconds - built) / done
    done = 1
print(json.dumps({"seconds": seconds, "measured": time.perf_counter() - start, "fraction": done, "ok": ok,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def run(job: dict, repeats: int) -> dict:
    results = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", WORKER, json.dumps(job)], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "fraction": results[0]["fraction"],
        "measured": results[0].get("measured", 0.0),
        "ok": all(r["ok"] for r in results),
        "peak": max(r["peak"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-entries", type=int, default=4)
    args = parser.parse_args()
    rows = []
    for net, label, target in (
        ("linear", "Linear(64→32) → Sigmoid → MSE, batch 16", 5),
        ("part2", "Conv2d → LeakyReLU(0.02) → mean, Part 2 shapes", 10),
    ):
        ours = run({"kind": "symgrad", "net": net}, args.repeats)
        naive = run({"kind": "naive", "net": net, "entries": args.naive_entries}, 1)
        total = naive["seconds"]  # the loss built once, the derivatives extrapolated to every weight
        rows.append(
            f"| {label} | {ours['seconds']:.2f} s | ≤ {target} s | {ours['peak'] / 2**20:.0f} MiB | "
            f"{naive['measured']:.1f} s for {args.naive_entries} weights | {total:,.0f} s (extrapolated) | "
            f"{total / ours['seconds']:,.0f}× | {'proven' if ours['ok'] else 'NOT PROVEN'} |"
        )
    print(
        "| network | symgrad derive + prove (median) | target | peak | naive SymPy, measured | naive SymPy, "
        "every weight | ratio | verdict |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
