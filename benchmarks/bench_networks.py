"""Networks: derive and prove, beside naive SymPy, in fresh processes of the same run.

Jobs:
- Linear(64→32) → Sigmoid → MSE on a batch of 16 (x 16×64, W 32×64, b 32, targets 16×32);
- the series' Part 2 network at its companion shapes: Conv2d (a 9×3×16×32 input, a 2×3×4×5 kernel,
  stride 2, padding 1) → LeakyReLU(0.02) → mean;
- BatchNorm (training mode, eps 1e-5) → Sigmoid → MSE, x of 16×8×32;
- one attention head, softmax(q·kᵀ/√8)·v with 16 queries, 16 keys and d = 8, then the MSE to a target.

symgrad: ``symgrad.derive(net, ...)`` then ``.prove()`` (every layer's closed form against the
chain rule at every element, and every checked line of the document).

Naive SymPy: the loss built as one SymPy expression (σ as 1/(1 + e^{−z}), LeakyReLU as a
Piecewise), then ``sympy.diff`` of the whole loss with respect to each weight. Differentiating
every one of the 2048 (or 120) weights does not finish in reasonable time, so the job differentiates
the first ``--naive-entries`` weights (for BatchNorm the input x, for attention the queries); the
table gives the measured time (building the loss once, then those derivatives) and the total with
the derivatives extrapolated linearly to every entry, marked as such. A naive job still running
after ``--naive-limit`` seconds is stopped, and the table gives that time as a lower bound. It
proves nothing; it only computes.

    python benchmarks/bench_networks.py [--repeats 3] [--naive-entries 4] [--naive-limit 600] [--only NET]
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

def batch_norm_sigmoid_mse(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=1e-5)), t)

def attention(q, k, v, t):
    return F.mse_loss(F.scaled_dot_product_attention(q, k, v), t)

shapes = {
    "linear": dict(x=(16, 64), w=(32, 64), b=(32,), t=(16, 32)),
    "part2": dict(x=(9, 3, 16, 32), w=(2, 3, 4, 5), b=(2,)),
    "batchnorm": dict(x=(16, 8, 32), w=(8,), b=(8,), t=(16, 8, 32)),
    "attention": dict(q=(16, 8), k=(16, 8), v=(16, 8), t=(16, 8)),
}[job["net"]]
start = time.perf_counter()
if job["kind"] == "symgrad":
    net = {"linear": linear_sigmoid_mse, "part2": part2, "batchnorm": batch_norm_sigmoid_mse,
           "attention": attention}[job["net"]]
    d = symgrad.derive(net, **shapes, **({"loss": "mean"} if job["net"] == "part2" else {}))
    ok = d.prove().ok
    done = 1
else:
    import itertools
    def tensor(name, shape):
        return {ix: sympy.Symbol(f"{name}{ix}") for ix in itertools.product(*(range(s) for s in shape))}
    def sigmoid(z):
        return 1 / (1 + sympy.exp(-z))
    if job["net"] == "batchnorm":
        (N, C, K) = shapes["x"]
        x, w, b, t = (tensor(n, shapes[n]) for n in "xwbt")
        terms = []
        for c in range(C):
            xs = [x[(n, c, k)] for n in range(N) for k in range(K)]
            mu = sympy.Add(*xs) / len(xs)
            std = sympy.sqrt(sympy.Add(*[(e - mu) ** 2 for e in xs]) / len(xs) + sympy.Rational(1, 10**5))
            for n in range(N):
                for k in range(K):
                    y = w[(c,)] * (x[(n, c, k)] - mu) / std + b[(c,)]
                    terms.append((sigmoid(y) - t[(n, c, k)]) ** 2)
        loss = sympy.Add(*terms) / len(terms)
        weights = list(x.values())
    elif job["net"] == "attention":
        q, k, v, t = (tensor(n, shapes[n]) for n in "qkvt")
        (Lq, D), Lk = shapes["q"], shapes["k"][0]
        terms = []
        for i in range(Lq):
            e = [sympy.exp(sum(q[(i, c)] * k[(j, c)] for c in range(D)) / sympy.sqrt(D)) for j in range(Lk)]
            total = sympy.Add(*e)
            for c in range(D):
                o = sympy.Add(*(e[j] / total * v[(j, c)] for j in range(Lk)))
                terms.append((o - t[(i, c)]) ** 2)
        loss = sympy.Add(*terms) / len(terms)
        weights = list(q.values())
    elif job["net"] == "linear":
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


def run(job: dict, repeats: int, limit: float | None = None) -> dict | None:
    """Median of fresh processes; None when one runs past ``limit`` seconds."""
    results = []
    for _ in range(repeats):
        try:
            out = subprocess.run(
                [sys.executable, "-c", WORKER, json.dumps(job)],
                capture_output=True,
                text=True,
                check=True,
                timeout=limit,
            )
        except subprocess.TimeoutExpired:
            return None
        results.append(json.loads(out.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "fraction": results[0]["fraction"],
        "measured": results[0].get("measured", 0.0),
        "ok": all(r["ok"] for r in results),
        "peak": max(r["peak"] for r in results),
    }


JOBS = (  # name, label, target in seconds, what the naive job differentiates
    ("linear", "Linear(64→32) → Sigmoid → MSE, batch 16", 5, "weights"),
    ("part2", "Conv2d → LeakyReLU(0.02) → mean, Part 2 shapes", 10, "weights"),
    ("batchnorm", "BatchNorm → Sigmoid → MSE, x 16×8×32", 10, "entries of x"),
    ("attention", "attention, 16 queries, 16 keys, d = 8, → MSE", 10, "entries of q"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-entries", type=int, default=4)
    parser.add_argument("--naive-limit", type=float, default=600, help="seconds before a naive job is stopped")
    parser.add_argument("--only", choices=[n for n, *_ in JOBS], action="append", help="run only these networks")
    args = parser.parse_args()
    rows = []
    for net, label, target, entries in JOBS:
        if args.only and net not in args.only:
            continue
        ours = run({"kind": "symgrad", "net": net}, args.repeats)
        assert ours is not None
        mine = f"| {label} | {ours['seconds']:.2f} s | ≤ {target} s | {ours['peak'] / 2**20:.0f} MiB | "
        verdict = "proven" if ours["ok"] else "NOT PROVEN"
        naive = run({"kind": "naive", "net": net, "entries": args.naive_entries}, 1, args.naive_limit)
        if naive is None:
            limit = args.naive_limit
            rows.append(
                f"{mine}{args.naive_entries} {entries} not done after {limit:.0f} s | > {limit:,.0f} s | "
                f"> {limit / ours['seconds']:,.0f}× | {verdict} |"
            )
            continue
        total = naive["seconds"]  # the loss built once, the derivatives extrapolated to every entry
        rows.append(
            f"{mine}{naive['measured']:.1f} s for {args.naive_entries} {entries} | {total:,.0f} s (extrapolated) | "
            f"{total / ours['seconds']:,.0f}× | {verdict} |"
        )
    print(
        "| network | symgrad derive + prove (median) | target | peak | naive SymPy, measured | naive SymPy, "
        "every entry | ratio | verdict |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
