"""Checks a general (symbolic-size) derivation twice over.

Symbolically, each step by its rule, with SymPy only where it is sound (see ``index``). Then at
every concrete size up to ``instantiate_up_to`` and every value of the free indices, each step's
two sides are evaluated exactly and compared, with dL/dx taken from the element-wise engine.
"""

from __future__ import annotations

import itertools

import sympy

from ..chain.derivation import Proof
from ..chain.rules import (
    ALL_ELEMENTS,
    CHAIN_RULE,
    DEFINITION,
    DIFFERENTIATE,
    LOCAL_PARTIALS,
    LOSS,
    MATRIX_PRODUCT,
    SIFTING,
    SUBSTITUTE_THE_LOSS,
    SUM_RULE,
    TRANSPOSE,
)
from ..core import poly
from ..core.errors import SymgradError
from .evaluate import Meaning
from .index import Entry, Instantiate, canon, facts_of, sift
from .prover import by_rule, first_difference


def prove(gd) -> Proof:
    steps = 0
    for key, eq in gd.equations.items():
        facts = facts_of(gd.ranges.get(key, {}))
        for n, step in enumerate(eq.steps):
            why = chained(eq, n) or by_rule(step, check_symbolic, gd, key, step, facts)
            if why:
                return Proof(
                    "refuted", steps, steps=steps, failed_step=f"{key}, step {n + 1} ({step.rule.name}): {why}"
                )
            steps += 1
    instances = 0
    for d in concrete(gd):
        why, count = check_instances(gd, d)
        if why:
            return Proof("refuted", steps + instances, instances, steps, failed_step=why)
        instances += count
    return Proof(
        "proven",
        steps + instances,
        instances,
        steps,
        scope="every size and every upstream gradient G",
        claims=tuple(gd.claims.items()),
    )


def chained(eq, n: int) -> str | None:
    """Each step of an equation continues from the one before: its left side is the previous
    right side, so the first left side and the last right side are joined by every step between.
    (That the ends are the right ones is checked by the rules "local partials" and "all elements".)"""
    if n and eq.steps[n].lhs != eq.steps[n - 1].rhs:
        return "its left side is not the previous step's right side"
    return None


def concrete(gd):
    """The element-wise derivations at every size up to the instantiation limit."""
    from ..chain.build import derive
    from ..ops.matmul import problem

    top = gd.instantiate_up_to
    for m, k, n in itertools.product(range(1, top + 1), repeat=3):
        # no picked elements: only the gradients and the closed forms are compared here
        yield derive(problem(m, k, n, gd.loss, gd.letters), gd.loss, picks={})


def check_symbolic(gd, key, step, facts) -> str | None:
    bases = gd.bases
    c = bases[gd.output_name]
    rule = step.rule
    try:
        if rule is CHAIN_RULE:
            return chain_rule(gd, step)
        if rule is DEFINITION:
            (t,) = [s for s in step.rhs.atoms(sympy.Symbol) if s.name == "t"]
            i, j = step.lhs.expr.indices
            a, b = bases[gd.input_names[0]], bases[gd.input_names[1]]
            defined = step.lhs.xreplace({step.lhs.expr: sympy.Sum(a[i, t] * b[t, j], (t, 1, gd.sizes["k"]))})
            return same(defined, step.rhs, bases)
        if rule is SUM_RULE:
            inner = step.lhs.expr
            ok = isinstance(inner, sympy.Sum) and step.rhs == sympy.Sum(
                sympy.Derivative(inner.function, *step.lhs.variables), *inner.limits
            )
            return None if ok else "the derivative does not move inside the sum term by term"
        if rule is DIFFERENTIATE:
            summand = step.lhs.function
            derived = sympy.Sum(sympy.diff(summand.expr, *summand.variables), *step.lhs.limits)
            return same(derived, step.rhs, bases)
        if rule is SIFTING:
            var = sifted_variable(step.lhs)
            return same(sift(step.lhs, var, facts), step.rhs, bases)
        if rule is LOCAL_PARTIALS:
            local = gd.equations[key.replace("sift_", "local_")].steps
            chain = gd.equations[key.replace("sift_", "chain_")].steps[0]
            put = chain.rhs.xreplace({local[0].lhs: local[-1].rhs})
            if chain.lhs != step.lhs:
                return "not the derivative the chain rule gave"
            return same(put, step.rhs, bases)
        if rule is TRANSPOSE or rule is MATRIX_PRODUCT:
            return same(step.lhs, step.rhs, bases)
        if rule is ALL_ELEMENTS:
            return every_element(gd, key, step)
        if rule is LOSS:
            u, v, weight = gd.params.loss_sum
            i, j = step.lhs.variables[0].indices
            summand = sympy.diff(weight * c[u, v], c[i, j])
            value = sift(sift(sympy.Sum(summand, (v, 1, gd.sizes["n"]), (u, 1, gd.sizes["m"])), v, facts), u, facts)
            return same(value, step.rhs, bases)
        if rule is SUBSTITUTE_THE_LOSS:
            g = bases["G"]
            weight = gd.params.loss_sum[2]
            valued = step.lhs.replace(lambda e: isinstance(e, sympy.Indexed) and e.base == g, lambda e: weight)
            return same(valued, step.rhs, bases)
    except SymgradError as exc:
        return str(exc)
    return f"no checker for the rule {rule.name!r}"


def same(x, y, bases) -> str | None:
    return None if canon(x, bases) == canon(y, bases) else "the two sides differ"


def sifted_variable(expr):
    """The summation index that a Kronecker delta pins."""
    deltas = expr.atoms(sympy.KroneckerDelta)
    for var, *_ in expr.limits if isinstance(expr, sympy.Sum) else ():
        if any(var in dl.args for dl in deltas):
            return var
    for inner in expr.atoms(sympy.Sum):
        for var, *_ in inner.limits:
            if any(var in dl.args for dl in deltas):
                return var
    raise SymgradError("no Kronecker delta to sift")


def chain_rule(gd, step) -> str | None:
    """dL/dx = Σ over every entry c_ij of C of (dL/dc_ij)(dc_ij/dx): the sums must cover C."""
    c, g = gd.bases[gd.output_name], gd.bases["G"]
    rows, cols = gd.matrices[gd.output_name].shape
    rhs = step.rhs
    if not isinstance(rhs, sympy.Sum) or len(rhs.limits) != 2:
        return "the chain rule sums over both indices of C"
    (j, one_j, top_j), (i, one_i, top_i) = rhs.limits
    if (one_i, top_i, one_j, top_j) != (1, rows, 1, cols):
        return "the sums do not run over every entry of C"
    x = step.lhs.variables[0]
    expected = g[i, j] * sympy.Derivative(c[i, j], x)
    return None if sympy.expand(rhs.function - expected) == 0 else "a path is not upstream times local"


def every_element(gd, key, step) -> str | None:
    """(dL/dX)_pq = (closed form)_pq was derived for free p, q over X's whole range."""
    name = step.lhs.name[1:]
    element = gd.equations[key.replace("identity_", "sift_")].steps
    x_rows, x_cols = gd.matrices[name].shape
    (p, (lo_p, hi_p)), (q, (lo_q, hi_q)) = gd.ranges[key].items()
    if (lo_p, hi_p, lo_q, hi_q) != (1, x_rows, 1, x_cols):
        return "the element-wise result does not cover every element"
    if element[-1].rhs != Entry(step.rhs, p, q) or element[0].lhs.variables[0] != gd.bases[name][p, q]:
        return "the element-wise result is not this identity"
    if step.lhs.shape != step.rhs.shape:
        return "the shapes differ"
    return None


def check_instances(gd, d) -> tuple[str | None, int]:
    """Every step at the sizes of ``d``, for every value of its free indices."""
    inst = Instantiate(d, gd)
    sizes = {gd.sizes[r]: v for r, v in d.sizes.items()}
    values_of = dict(zip(d.upstream_symbols.ids, d.upstream_values.entries))
    count = 0
    for key, eq in gd.equations.items():
        if isinstance(eq.steps[0].lhs, sympy.MatrixExpr):
            for step in eq.steps:
                bad = closed_form_at(d, gd, step)
                if bad:
                    return f"{key} at {d.sizes}: {bad}", count
                count += 1
            continue
        free = gd.ranges.get(key, {})
        values = [range(int(lo), int(hi.xreplace(sizes)) + 1) for lo, hi in free.values()]
        for point in itertools.product(*values):
            env = {x.name: v for x, v in zip(free, point)}
            previous = None  # (expression, value): a continued chain reuses the last side
            for step in eq.steps:
                lhs = previous[1] if previous and step.lhs is previous[0] else inst(step.lhs, env)
                rhs = inst(step.rhs, env)
                if step.rule is SUBSTITUTE_THE_LOSS or step.rule is LOSS:
                    lhs = poly.substitute(lhs, values_of)
                if lhs != rhs:
                    where = ", ".join(f"{x}={v}" for x, v in env.items())
                    return f"{key} ({step.rule.name}) fails at {d.sizes}, {where}", count
                previous = (step.rhs, rhs)
                count += 1
    return None, count


def closed_form_at(d, gd, step) -> str | None:
    name = step.lhs.name[1:]
    meaning = Meaning(d)
    claimed = meaning(step.rhs.xreplace({s: d.sizes[r] for r, s in gd.sizes.items()}))
    bad = first_difference(d, name, d.grads_upstream[name], claimed)
    return str(bad) if bad else None


def _dims(shape) -> str:
    return "×".join(map(str, shape))
