"""Exact arithmetic candidates on symgrad's own jobs, measured in one run.

The candidates hold the same polynomials with exact rational coefficients:
- dicts:    symgrad.core.poly today (a dict of sorted id tuples to int or Fraction);
- gmpy2:    the same dicts with gmpy2.mpq coefficients;
- FLINT:    python-flint's fmpq_mpoly (one context holding every variable);
- SymEngine: expressions expanded by SymEngine, compared by expanding their difference.

The jobs:
1. matmul s×s×s under the mean: L = (1/s²) Σ_ij Σ_t a_it b_tj, every dL/da_pq and dL/db_pq as a
   polynomial (one pass over L's terms where the library allows it, else one derivative per
   input), then every entry compared with its closed form (G·Bᵀ and Aᵀ·G, G = 1/s²).
2. softmax with cross-entropy over n classes, as rational functions in the atoms e_k = exp(z_k)
   and the targets y_k: the chain rule Σ_k (−y_k/p_k)·p_k(δ_ki − p_i) against the closed form
   p_i·Σ_k y_k − y_i, for every i, each side a numerator over a denominator and equality by
   cross-multiplication (a/b = c/d exactly when a·d = c·b).

Run: .venv/bin/python benchmarks/bench_exact.py [--repeat 5]
Needs: pip install python-flint symengine gmpy2 (the `bench` extra).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symgrad.core import poly

# --- job 1: matmul under the mean ----------------------------------------------------------------


def matmul_dicts(s: int, coefficient=Fraction) -> int:
    a = [[i * s + t for t in range(s)] for i in range(s)]
    b = [[s * s + t * s + j for j in range(s)] for t in range(s)]
    scale = coefficient(1, s * s)
    L: dict = {}
    for i in range(s):
        for j in range(s):
            for t in range(s):
                L[(a[i][t], b[t][j])] = scale
    grads = poly.gradient(L)
    checked = 0
    for p in range(s):
        for q in range(s):
            closed = {(b[q][j],): scale for j in range(s)}  # (G Bᵀ)_pq with G = 1/s²
            assert grads[a[p][q]] == closed
            closed = {(a[i][p],): scale for i in range(s)}  # (Aᵀ G)_pq
            assert grads[b[p][q]] == closed
            checked += 2
    return checked


def matmul_gmpy2(s: int) -> int:
    import gmpy2

    return matmul_dicts(s, coefficient=gmpy2.mpq)


def matmul_flint(s: int) -> int:
    import flint

    ctx = flint.fmpq_mpoly_ctx.get(("v", 2 * s * s), "lex")
    v = ctx.gens()
    a = [[v[i * s + t] for t in range(s)] for i in range(s)]
    b = [[v[s * s + t * s + j] for j in range(s)] for t in range(s)]
    scale = flint.fmpq(1, s * s)
    L = ctx.from_dict({})
    terms = {}
    for i in range(s):
        for j in range(s):
            for t in range(s):
                exps = [0] * (2 * s * s)
                exps[i * s + t] += 1
                exps[s * s + t * s + j] += 1
                terms[tuple(exps)] = scale
    L = ctx.from_dict(terms)
    checked = 0
    for p in range(s):
        for q in range(s):
            closed = sum((b[q][j] for j in range(s)), ctx.from_dict({})) * scale
            assert L.derivative(p * s + q) == closed
            closed = sum((a[i][p] for i in range(s)), ctx.from_dict({})) * scale
            assert L.derivative(s * s + p * s + q) == closed
            checked += 2
    return checked


def matmul_symengine(s: int) -> int:
    import symengine as se

    a = [[se.Symbol(f"a_{i}_{t}") for t in range(s)] for i in range(s)]
    b = [[se.Symbol(f"b_{t}_{j}") for j in range(s)] for t in range(s)]
    scale = se.Rational(1, s * s)
    L = se.expand(scale * se.Add(*(a[i][t] * b[t][j] for i in range(s) for j in range(s) for t in range(s))))
    checked = 0
    for p in range(s):
        for q in range(s):
            closed = scale * se.Add(*(b[q][j] for j in range(s)))
            assert se.expand(L.diff(a[p][q]) - closed) == 0
            closed = scale * se.Add(*(a[i][p] for i in range(s)))
            assert se.expand(L.diff(b[p][q]) - closed) == 0
            checked += 2
    return checked


# --- job 2: softmax with cross-entropy as rational functions -------------------------------------


def softmax_generic(n: int, var, const, add, mul, is_zero) -> int:
    """The job written once over a polynomial library's operations."""
    e = [var(k) for k in range(n)]
    y = [var(n + k) for k in range(n)]
    S = add(*e)
    sum_y = add(*y)
    minus = const(-1)
    E = e[0]
    for k in range(1, n):
        E = mul(E, e[k])  # Π e_k: a monomial, so the common denominator E·S² stays one product
    others = []
    for k in range(n):
        rest = const(1)
        for m in range(n):
            if m != k:
                rest = mul(rest, e[m])
        others.append(rest)  # E / e_k
    checked = 0
    for i in range(n):
        # the chain rule: Σ_k (−y_k / p_k) · p_k (δ_ki − p_i), p_k = e_k / S, uncancelled as it comes:
        # (−y_k S / e_k) · (e_k / S) · (δ_ki S − e_i) / S, a fraction over e_k S², put over E S²
        numerator = const(0)
        for k in range(n):
            factor = add(S, mul(minus, e[i])) if k == i else mul(minus, e[i])
            term = mul(mul(mul(minus, y[k]), S), mul(e[k], factor))
            numerator = add(numerator, mul(term, others[k]))
        denominator = mul(E, mul(S, S))  # e_k · S · S · (E / e_k)
        # the closed form p_i Σy − y_i = (e_i Σy − y_i S) / S; equal when a·d = c·b
        closed_num, closed_den = add(mul(e[i], sum_y), mul(minus, mul(y[i], S))), S
        assert is_zero(add(mul(numerator, closed_den), mul(minus, mul(closed_num, denominator))))
        checked += 1
    return checked


def softmax_dicts(n: int) -> int:
    return softmax_generic(n, poly.var, poly.const, poly.add, poly.mul, lambda p: not p)


def softmax_flint(n: int) -> int:
    import flint

    ctx = flint.fmpq_mpoly_ctx.get(("v", 2 * n), "lex")
    gens = ctx.gens()
    return softmax_generic(
        n,
        lambda k: gens[k],
        lambda c: ctx.from_dict({(0,) * (2 * n): c}) if c else ctx.from_dict({}),
        lambda *ps: sum(ps[1:], ps[0]),
        lambda p, q: p * q,
        lambda p: p.is_zero(),
    )


def softmax_symengine(n: int) -> int:
    import symengine as se

    gens = [se.Symbol(f"v{k}") for k in range(2 * n)]
    return softmax_generic(
        n,
        lambda k: gens[k],
        se.Integer,
        lambda *ps: se.expand(se.Add(*ps)),
        lambda p, q: se.expand(p * q),
        lambda p: se.expand(p) == 0,
    )


# --- the run -------------------------------------------------------------------------------------

MATMUL = {"dicts": matmul_dicts, "gmpy2": matmul_gmpy2, "FLINT": matmul_flint, "SymEngine": matmul_symengine}
SOFTMAX = {"dicts": softmax_dicts, "FLINT": softmax_flint, "SymEngine": softmax_symengine}
JOBS = {
    "matmul mean 12³": ((12,), MATMUL),
    "matmul mean 24³": ((24,), MATMUL),
    "softmax CE, 8 classes": ((8,), SOFTMAX),
    "softmax CE, 16 classes": ((16,), SOFTMAX),
    # SymEngine is left out here: it took over a minute a run
    "softmax CE, 32 classes": ((32,), {"dicts": softmax_dicts, "FLINT": softmax_flint}),
}


def median_time(job, args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| job | candidate | median | ratio to dicts |")
    print("| --- | --- | ---: | ---: |")
    for name, (job_args, candidates) in JOBS.items():
        base = None
        for candidate, job in candidates.items():
            job(*job_args)  # once untimed: imports and contexts are not the job
            seconds = median_time(job, job_args, args.repeat)
            base = seconds if base is None else base
            print(f"| {name} | {candidate} | {seconds * 1000:.1f} ms | {seconds / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
