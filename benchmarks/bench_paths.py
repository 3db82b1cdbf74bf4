"""Every job of the speed targets, timed in fresh processes, beside baselines measured in the same run.

Jobs, each with its target:
- matmul 64³ and 128³, derive and prove, under each loss (generic, mean, sum);
- the command line at 64³, summary only and every format written;
- conv2d at the series' Part 2 shape (9×3×16×32 · 2×3×4×5, stride 2, padding 1), each loss;
- conv2d 1×16×64×64 · 32×16×3×3 inside the default size budget, kept packed (``--large`` also runs
  it under the mean and sum losses);
- the README's compact BatchNorm claim at x 8×2×8 (``symgrad.check``), and attention's compact
  forms with 16 queries, 16 keys and d = 8;
- the general-size proof, ``import symgrad``;
- ``symgrad check-doc`` on every post of the corpus (tests/data/corpus), whole processes;
- with ``--suite``, the fast test subset and the whole suite on two workers.

Baselines, each measured once per run and given as a ratio (baseline / symgrad; above 1, symgrad
is faster):
- naive SymPy: build L = Σ g·(AB), ``sympy.diff`` per entry, check against G·Bᵀ and Aᵀ·G;
- a SymEngine local chain rule (each output differentiated only by the entries it contains);
- SymPy's ``simplify(left - right) == 0`` on the same check-doc links, read by symgrad's reader
  (timed from the process's first line, imports included, like the check-doc row);
- tensorgrad 0.3 on the two jobs it expresses: the gradient of sum(A·B) (against symgrad's
  general-size proof of the same) and a softmax cross-entropy (against symgrad's derivation and
  proof at 8×10). tensorgrad works on sizes left symbolic and proves nothing; symgrad proves.

Slopes: log-log slope of time and of the memory each job adds to its process, against the work (the
number of multiply terms, or N), for matmul 32³ → 128³, conv2d channels 4 → 16 (1×C×16×16 input,
C×C×3×3 kernel) and BatchNorm → Sigmoid → MSE with x of N×4×16, N 4 → 32.

API rows exclude process start and imports; command-line, check-doc, import and suite rows are
whole processes. Medians of ``--repeats`` runs (3 for the heavy jobs and the baselines).

    python benchmarks/bench_paths.py [--repeats 5] [--large] [--suite] [--json FILE] [--previous FILE]
                                     [--only TEXT | --series-only]

``--json`` saves the run; ``--previous`` prints an earlier saved run's medians beside this one's.
Baselines: ``pip install symengine tensorgrad==0.3.0`` (a missing one is reported, not fatal).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "corpus"

WORKER = r"""
import json, resource, subprocess, sys, tempfile, time
launched = time.perf_counter()
job = json.loads(sys.argv[1])
kind = job["kind"]
if kind == "process":
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *job["argv"]], capture_output=True, text=True,
                          cwd=job.get("cwd") or tempfile.mkdtemp())
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    ok = done.returncode in job.get("codes", [0])
    print(json.dumps({"seconds": seconds, "peak": peak, "ok": ok, "note": "" if ok else done.stdout[-300:]}))
    sys.exit()
import sympy
import symgrad
import symgrad.api, symgrad.prove, symgrad.ops.conv2d, symgrad.ops.matmul  # imports untimed
import symgrad.functional as F
from symgrad.core.errors import SymgradError
import sympy.tensor.tensor  # SymPy imports it on the first sum it builds; an import, not work
if kind == "symengine":
    import symengine as se
if kind.startswith("tensorgrad"):
    import tensorgrad as tg
    import tensorgrad.functions as TF
if kind == "checkdoc_simplify":
    import importlib
    from pathlib import Path
    from symgrad.checkdoc import declarations_for
    from symgrad.checkdoc.reader import read
    C = importlib.import_module("symgrad.checkdoc.check")  # the module, which the package's check() shadows

def bn_net(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=0, name="bn")), t)

def ce_net(z, t):
    return F.cross_entropy(z, t, reduction="sum")

COMPACT = ("bn_weight / bn_std * (dbn - dbn.mean((0, 2), keepdim=True)"
           " - bn_xhat * (dbn * bn_xhat).mean((0, 2), keepdim=True))")
def attention_net(q, k, v, t):
    return F.mse_loss(F.scaled_dot_product_attention(q, k, v, name="o"), t)

ATTENTION = [("v", "o_p.T @ do"), ("o_p", "do @ v.T"), ("o_s", "o_p * (do_p - (do_p * o_p).sum(1, keepdim=True))"),
             ("q", "do_s @ k / sqrt_d"), ("k", "do_s.T @ q / sqrt_d")]
ROWSUM = ("(do_p * o_p).sum(1, keepdim=True) + 0 * o_p", "(do * o).sum(1, keepdim=True) + 0 * o_p")
note = ""
# the memory the process holds before the job (interpreter, imports): a series' memory slope is
# over what the job adds to it
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
# check-doc's baseline counts its imports, as the check-doc row (a whole process) does
start = launched if kind == "checkdoc_simplify" else time.perf_counter()
if kind == "matmul":
    ok = symgrad.matmul(*job["sizes"], job["loss"]).prove().ok
elif kind == "conv2d":
    try:
        ok = symgrad.conv2d(**job["spec"]).prove().ok
    except SymgradError as error:
        ok, note = job.get("refusal_ok", False), "refused: " + str(error).split(";")[0]
elif kind == "general":
    ok = symgrad.matmul("m", "k", "n", job["loss"]).prove().ok
elif kind == "bn_claim":
    N, Ch, K = job["x"]
    d = symgrad.derive(bn_net, x=(N, Ch, K), w=(Ch,), b=(Ch,), t=(N, Ch, K))
    try:
        ok = symgrad.check(d, "x", COMPACT).ok
    except SymgradError as error:
        ok, note = True, "refused: " + str(error).split(";")[0]
elif kind == "attention_claims":
    Lq, Lk, dim = job["sizes"]
    d = symgrad.derive(attention_net, q=(Lq, dim), k=(Lk, dim), v=(Lk, dim), t=(Lq, dim))
    ok = all(symgrad.check(d, name, claim).ok for name, claim in ATTENTION)
    ok = ok and symgrad.equivalent(d, "o_p", *ROWSUM).ok
elif kind == "bn_network":
    N, Ch, K = job["x"]
    ok = symgrad.derive(bn_net, x=(N, Ch, K), w=(Ch,), b=(Ch,), t=(N, Ch, K)).prove().ok
elif kind == "ce_network":
    ok = symgrad.derive(ce_net, z=tuple(job["shape"]), t=tuple(job["shape"])).prove().ok
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
elif kind == "tensorgrad_matmul":
    i, j, k = sympy.symbols("i j k")
    A, B = tg.Variable("A", i, j), tg.Variable("B", j, k)
    L = TF.sum(A @ B)
    grads = [L.grad(A).full_simplify(), L.grad(B).full_simplify()]
    ok = all(g is not None for g in grads)
elif kind == "tensorgrad_ce":
    b, c = sympy.symbols("b c")
    Z, T = tg.Variable("Z", b, c), tg.Variable("T", b, c)
    L = TF.sum(TF.cross_entropy(Z, T, dim="c"))
    ok = L.grad(Z).full_simplify() is not None
elif kind == "checkdoc_simplify":
    def simplify_equal(a, b, conditions=(), named=None, quick=False, points=None):
        for _ in range(8):  # the names a reading kept, written out: simplify sees only the inputs
            if not named:
                break
            a, b = sympy.sympify(a).xreplace(named), sympy.sympify(b).xreplace(named)
        if isinstance(a, sympy.MatrixBase) != isinstance(b, sympy.MatrixBase):
            return False, ""
        if isinstance(a, sympy.MatrixBase):
            return a.shape == b.shape and all(sympy.simplify(x - y) == 0 for x, y in zip(a, b)), ""
        return sympy.simplify(a - b) == 0, ""
    C.equal = simplify_equal
    path = Path(job["post"])
    equations, text = read(path)
    report = C.check(equations, declarations_for(path, text, None))
    ok = True
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "peak": peak, "grown": peak - base, "ok": bool(ok), "note": note}))
"""

PART2 = dict(input_shape=(9, 3, 16, 32), weight_shape=(2, 3, 4, 5), stride=2, padding=1)
LARGE = dict(input_shape=(1, 16, 64, 64), weight_shape=(32, 16, 3, 3), padding=1, loss="generic")
GIB = 2**30


def measure(job: dict, repeats: int, timeout: float = 900) -> dict:
    """Median seconds and largest peak over fresh processes; a run past ``timeout`` stops the job
    and its time is given as a lower bound."""
    runs = []
    for r in range(repeats):
        if sys.stderr.isatty():
            print(f"\r{job['name'][:60]:60} run {r + 1}/{repeats}", end="", file=sys.stderr, flush=True)
        try:
            done = subprocess.run(
                [sys.executable, "-c", WORKER, json.dumps(job)], capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            return {"seconds": float(timeout), "peak": 0, "runs": r + 1, "over": True, "note": "", "ok": True}
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1:] or ["no output"]
            return {"seconds": math.nan, "peak": 0, "runs": 0, "over": False, "note": last[0][:120], "ok": False}
        runs.append(json.loads(done.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak": max(r["peak"] for r in runs),
        "grown": statistics.median(r.get("grown", r["peak"]) for r in runs),
        "runs": len(runs),
        "over": False,
        "note": runs[-1]["note"],
        "ok": all(r["ok"] for r in runs),
    }


def row(name, target_s, target_gib, job, baseline=None, heavy=False):
    return {
        "name": name,
        "target_s": target_s,
        "target_gib": target_gib,
        "job": job,
        "baseline": baseline,
        "heavy": heavy,
    }


def jobs(large: bool, suite: bool) -> list:
    se64 = {"name": "SymEngine local chain rule, 64³", "kind": "symengine", "sizes": [64] * 3}
    rows = []
    for loss in ("generic", "mean", "sum"):
        job = {"kind": "matmul", "sizes": [64] * 3, "loss": loss}
        rows.append(row(f"matmul 64³, derive and prove, {loss} loss", 0.5, None, job, se64))
    for loss in ("generic", "mean", "sum"):
        job = {"kind": "matmul", "sizes": [128] * 3, "loss": loss}
        rows.append(row(f"matmul 128³, derive and prove, {loss} loss", 4, 1, job, heavy=True))
    rows.append(
        row(
            "matmul 8³, mean loss",
            None,
            None,
            {"kind": "matmul", "sizes": [8] * 3, "loss": "mean"},
            {"name": "naive SymPy, 8³", "kind": "naive", "sizes": [8] * 3},
        )
    )
    cli = ["-m", "symgrad", "matmul", "-m", "64", "-k", "64", "-n", "64"]
    rows.append(row("CLI `symgrad matmul -m 64 -k 64 -n 64` (summary)", 1.5, None, {"kind": "process", "argv": cli}))
    everything = cli + ["--format", "all", "--out", tempfile.mkdtemp()]
    rows.append(row("CLI 64³ `--format all --out DIR`", 1.5, None, {"kind": "process", "argv": everything}))
    for loss in ("generic", "mean", "sum"):
        job = {"kind": "conv2d", "spec": {**PART2, "loss": loss}}
        rows.append(row(f"conv2d Part 2 shape (9×3×16×32 · 2×3×4×5, s2 p1), {loss}", 1.5, None, job))
    rows.append(
        row(
            "conv2d 1×16×64×64 · 32×16×3×3, p1, generic, default budget",
            30,
            4,
            {"kind": "conv2d", "spec": LARGE, "refusal_ok": False},
            heavy=True,
        )
    )
    if large:
        for loss in ("mean", "sum"):
            job = {"kind": "conv2d", "spec": {**LARGE, "loss": loss}, "refusal_ok": False}
            rows.append(row(f"the same, {loss} loss", 30, 4, job, heavy=True))
    rows.append(
        row(
            "BatchNorm compact claim, x 8×2×8 (`symgrad.check`)",
            5,
            None,
            {"kind": "bn_claim", "x": [8, 2, 8]},
            heavy=True,
        )
    )
    rows.append(
        row(
            "attention compact forms, 16 queries, 16 keys, d = 8 (five `symgrad.check`, one `equivalent`)",
            5,
            None,
            {"kind": "attention_claims", "sizes": [16, 16, 8]},
            heavy=True,
        )
    )
    rows.append(
        row(
            'general proof `matmul("m", "k", "n")`, sum loss',
            1,
            None,
            {"kind": "general", "loss": "sum"},
            {"name": "tensorgrad: d sum(A·B) / dA and dB", "kind": "tensorgrad_matmul"},
        )
    )
    rows.append(
        row(
            "softmax cross-entropy network 8×10, probability targets, sum",
            None,
            None,
            {"kind": "ce_network", "shape": [8, 10]},
            {"name": "tensorgrad: d CE / dZ, sizes symbolic", "kind": "tensorgrad_ce"},
        )
    )
    rows.append(
        row(
            "`import symgrad` (whole process)",
            0.4,
            None,
            {"kind": "process", "argv": ["-c", "import symgrad"]},
            {"name": "`python -c pass`", "kind": "process", "argv": ["-c", "pass"]},
        )
    )
    for post in sorted(CORPUS.glob("*.md")):
        if post.name == "README.md":
            continue
        job = {"kind": "process", "argv": ["-m", "symgrad", "check-doc", str(post)], "codes": [0, 1]}
        simplify = {"name": f"simplify, {post.stem}", "kind": "checkdoc_simplify", "post": str(post)}
        rows.append(row(f"check-doc {post.stem}", 5, None, job, simplify))
    if suite:
        fast = ["-m", "pytest", "-m", "not tools and not slow", "-n", "2", "-q", "-p", "no:cacheprovider"]
        # as scripts/test.sh runs it: tests that share a built document or a browser stay on one worker
        whole = ["-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q", "-p", "no:cacheprovider"]
        rows.append(row("fast test subset, 2 workers", 30, None, {"kind": "process", "argv": fast, "cwd": str(ROOT)}))
        rows.append(row("whole test suite, 2 workers", 240, None, {"kind": "process", "argv": whole, "cwd": str(ROOT)}))
    return rows


def slope(xs, ys) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def series(label: str, points: list, repeats: int) -> dict:
    """Time, peak and the memory the job added at each (work, job); slopes over every point.

    The memory slope is over what each job adds to its process (peak less the memory held after
    the imports). Subtracting the smallest job's peak instead, as run 1 did, also subtracts that
    job's own memory: for memory a + b·N it leaves b·(N − N₀), whose log-log slope is above 1
    for a series that grows exactly linearly."""
    measured = [(work, measure({"name": f"{label} {work}", **job}, repeats)) for work, job in points]
    works = [w for w, _ in measured]
    return {
        "label": label,
        "points": [(w, m["seconds"], m["peak"], m["grown"]) for w, m in measured],
        "time": slope(works, [m["seconds"] for _, m in measured]),
        "memory": slope(works, [max(m["grown"], 2**20) for _, m in measured]),
    }


def seconds_cell(m: dict) -> str:
    if m["over"]:
        return f"> {m['seconds']:.0f}"
    if math.isnan(m["seconds"]):
        return "failed"
    return f"{m['seconds']:.3f}"


def met(r: dict, m: dict) -> str:
    if not m["ok"] or m["note"].startswith("refused") or math.isnan(m["seconds"]):
        return "no"
    if r["target_s"] is None:
        return ""
    fits = m["seconds"] <= r["target_s"] and (r["target_gib"] is None or m["peak"] <= r["target_gib"] * GIB)
    return "yes" if fits and not m["over"] else "no"


def target_cell(r: dict) -> str:
    parts = [f"≤ {r['target_s']:g} s"] if r["target_s"] is not None else []
    parts += [f"≤ {r['target_gib']:g} GiB"] if r["target_gib"] is not None else []
    return ", ".join(parts)


def main() -> None:
    # every job runs as a default Python install does, keeping its compiled files: with bytecode
    # writing turned off in the environment, each fresh process would compile symgrad again
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--suite", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--previous", type=Path)
    parser.add_argument("--only", help="run only the rows whose name contains this, and no series")
    parser.add_argument("--series-only", action="store_true", help="run the three scaling series and no row")
    args = parser.parse_args()
    previous = json.loads(args.previous.read_text()) if args.previous else None
    before = {r["name"]: r for r in previous["rows"]} if previous else {}
    head = "| job | target | symgrad (s) | peak | met |" + (" previous run (s) |" if previous else "")
    print(head + " baseline | baseline (s) | baseline / symgrad |")
    print("| --- | --- | ---: | ---: | --- |" + (" ---: |" if previous else "") + " --- | ---: | ---: |")
    baselines: dict = {}  # one measurement of a baseline serves every row that compares with it
    saved = []
    notes: list = []
    for r in jobs(args.large, args.suite):
        if args.series_only or (args.only and args.only not in r["name"]):
            continue
        job = {"name": r["name"], **r["job"]}
        suite = "pytest" in job.get("argv", [])
        ours = measure(job, 1 if suite else 3 if r["heavy"] else args.repeats, timeout=1200 if suite else 300)
        cells = [r["name"], target_cell(r), seconds_cell(ours), f"{ours['peak'] / 2**20:.0f} MiB", met(r, ours)]
        if ours["note"]:
            notes.append(f"{r['name']}: {ours['note']}")
            cells[0] += (
                f" (refused, note {len(notes)})" if ours["note"].startswith("refused") else f" (note {len(notes)})"
            )
        if previous:
            cells.append(before[r["name"]]["seconds_cell"] if r["name"] in before else "–")
        base = None
        if r["baseline"]:
            b = r["baseline"]
            if b["name"] not in baselines:
                baselines[b["name"]] = measure(b, 3, timeout=60 if b["kind"] == "checkdoc_simplify" else 300)
            base = baselines[b["name"]]
            ratio = base["seconds"] / ours["seconds"]
            cells += [b["name"], seconds_cell(base), ("> " if base["over"] else "") + f"{ratio:.2g}×"]
            if math.isnan(base["seconds"]):
                cells[-2:] = [f"not run ({base['note']})", "–"]
        else:
            cells += ["–", "–", "–"]
        print("| " + " | ".join(cells) + " |", flush=True)
        saved.append({"name": r["name"], "seconds": ours["seconds"], "peak": ours["peak"], "seconds_cell": cells[2]})
    print()
    for number, note in enumerate(notes, 1):
        print(f"{number}. {note}")
    if args.only:
        return
    matmul = [(n**3, {"kind": "matmul", "sizes": [n] * 3, "loss": "generic"}) for n in (32, 64, 128)]
    conv = [
        (
            c * c * 9 * 16 * 16,
            {
                "kind": "conv2d",
                "spec": {"input_shape": (1, c, 16, 16), "weight_shape": (c, c, 3, 3), "padding": 1, "loss": "generic"},
            },
        )
        for c in (4, 8, 16)
    ]
    bn = [(n, {"kind": "bn_network", "x": [n, 4, 16]}) for n in (4, 8, 16, 32)]
    print()
    print("| series (generic loss, derive and prove) | points: work, seconds, peak | time slope | memory slope |")
    print("| --- | --- | ---: | ---: |")
    slopes = []
    for label, points in (
        ("matmul n³, work m·k·n, 32³ → 128³", matmul),
        ("conv2d 1×C×16×16 · C×C×3×3, work = terms, C 4 → 16", conv),
        ("BatchNorm → Sigmoid → MSE, x N×4×16, work N, N 4 → 32", bn),
    ):
        s = series(label, points, 3)
        shown = ", ".join(f"{w:,}: {t:.3f} s / {p / 2**20:.0f} MiB (+{g / 2**20:.0f})" for w, t, p, g in s["points"])
        print(f"| {label} | {shown} | {s['time']:.2f} | {s['memory']:.2f} |", flush=True)
        slopes.append(s)
    print("\n(Each point: median seconds / peak memory (+ what the job added to the process after its imports).)")
    if args.json:
        args.json.write_text(json.dumps({"rows": saved, "slopes": slopes}, indent=1))
    if sys.stderr.isatty():
        print("\r" + " " * 80 + "\r", end="", file=sys.stderr)


if __name__ == "__main__":
    main()
