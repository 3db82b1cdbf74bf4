"""Differential fuzzing of network claims: random small networks, random claims whose verdict is
known from how they are built.

A network is a chain of layers from a few templates, ending in an MSE loss. For each layer the
gradient of its input is known in closed form from the gradient of its output (worked out by
hand below, the same rules as PyTorch's backward): sigmoid dh = dy·y·(1 − y), tanh
dh = dy·(1 − y²), multiplying by c dh = c·dy, linear dh = dy·W and dW = dyᵀ·h, a mean over dim 1
with keepdim dh = dy/n, a sum dh = dy, and the MSE dy = 2(y − t)/N (mean) or 2(y − t) (sum).

A TRUE claim is that closed form written in one of several equal ways, with its numbers spelled
as products, quotients or powers of numbers; it must be proven. A FALSE claim perturbs one
coefficient, an index (a transpose) or an exponent; it must be refuted, never proven.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symgrad
import symgrad.functional as F

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
ROWS, WIDTH = 2, 3


@dataclass
class Layer:
    kind: str  # sigmoid, tanh, mulc, linear, mean, sum
    c: int = 1  # the constant of mulc


def _forward(layers: list, reduction: str):
    """The forward function: x -> layer 1 -> ... -> mse_loss(., t); h0 = x, layer k gives hk."""

    def net(x, w, t):
        h = x
        for k, layer in enumerate(layers, start=1):
            name = f"h{k}"
            if layer.kind == "sigmoid":
                h = F.sigmoid(h, name=name)
            elif layer.kind == "tanh":
                h = F.tanh(h, name=name)
            elif layer.kind == "mulc":
                h = F.mul(h, layer.c, name=name)
            elif layer.kind == "linear":
                h = F.linear(h, w, name=name)
            elif layer.kind == "mean":
                h = F.mean(h, 1, keepdim=True, name=name)
            else:
                h = F.sum(h, 1, keepdim=True, name=name)
        return F.mse_loss(h, t, reduction=reduction)

    return net


def _width(layers: list, upto: int) -> int:
    return 1 if any(layer.kind in ("mean", "sum") for layer in layers[:upto]) else WIDTH


@st.composite
def networks(draw):
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kinds = ["sigmoid", "tanh", "mulc", "mean", "sum"]
        if _width(layers, len(layers)) == WIDTH:
            kinds.append("linear")
        kind = draw(st.sampled_from(kinds))
        layers.append(Layer(kind, draw(st.integers(2, 5)) if kind == "mulc" else 1))
    reduction = draw(st.sampled_from(["mean", "sum"]))
    return layers, reduction


_CACHE: dict = {}


def derive(layers: list, reduction: str):
    key = (tuple((layer.kind, layer.c) for layer in layers), reduction)
    if key not in _CACHE:
        width = _width(layers, len(layers))
        _CACHE[key] = symgrad.derive(
            _forward(layers, reduction), x=(ROWS, WIDTH), w=(WIDTH, WIDTH), t=(ROWS, width), wrt=("x", "w")
        )
    return _CACHE[key]


# --- numbers spelled in different but equal ways ---------------------------------------------------


def spell(draw, value: Fraction) -> str:
    """An expression of numbers equal to ``value``."""
    p, q = value.numerator, value.denominator
    forms = [
        f"({p}/{q})",
        f"({2 * p}/{2 * q})",
        f"(2**3*{p}/({8 * q}))",
        f"({p}*2**-2*4/{q})",
        f"(({p} + 1 - 1)/{q})",
        f"(({p} - {q}) / {q} + 1)",
        f"({p}*{q}**0/{q})",
        f"(4**(1/2)*{p}/{2 * q})",
    ]
    return draw(st.sampled_from(forms))


# --- the closed forms, as families of equal claims ----------------------------------------------------


def true_forms(draw, layers, reduction, k: int) -> tuple[str, str]:
    """(tensor, claim): a claim for dL/d(h{k-1}) (x for k = 1), or for the loss's input when k is
    past the last layer; or for w when that layer is a linear one and the draw says so."""
    h_in = "x" if k == 1 else f"h{k - 1}"
    if k > len(layers):  # the MSE: dL/dy = 2(y - t)/N or 2(y - t)
        y = f"h{len(layers)}" if layers else "x"
        n = ROWS * _width(layers, len(layers)) if reduction == "mean" else 1
        c = spell(draw, Fraction(2, n))
        form = draw(st.sampled_from([f"{c}*({y} - t)", f"({y}*{c} - {c}*t)", f"-{c}*(t - {y})", f"({y} - t)*{c}"]))
        return y, form
    layer, y, dy = layers[k - 1], f"h{k}", f"dh{k}"
    if layer.kind == "sigmoid":
        forms = [f"{dy}*{y}*(1 - {y})", f"{y}*{dy}*(1 - {y})", f"({dy}*{y} - {dy}*{y}**2)", f"(1 - {y})*{y}*{dy}"]
    elif layer.kind == "tanh":
        forms = [f"{dy}*(1 - {y}**2)", f"({dy} - {dy}*{y}*{y})", f"(1 - {y})*(1 + {y})*{dy}", f"-{dy}*({y}**2 - 1)"]
    elif layer.kind == "mulc":
        c = spell(draw, Fraction(layer.c))
        forms = [f"{c}*{dy}", f"{dy}*{c}", f"({dy} + {dy})*{c}/2"]
    elif layer.kind == "linear":
        if draw(st.booleans()):
            return "w", draw(st.sampled_from([f"{dy}.T @ {h_in}", f"({h_in}.T @ {dy}).T"]))
        forms = [f"{dy} @ w", f"(w.T @ {dy}.T).T", f"{dy} @ w * {spell(draw, Fraction(1))}"]
    elif layer.kind == "mean":
        n = spell(draw, Fraction(_width(layers, k - 1)))
        forms = [f"{dy}/{n} + 0*{h_in}", f"({dy} + {h_in}*0)/{n}", f"{dy}*(0*{h_in} + 1)/{n}"]
    else:
        forms = [f"{dy} + 0*{h_in}", f"{dy}*(0*{h_in} + 1)", f"({dy} + {h_in}*0)*{spell(draw, Fraction(1))}"]
    return h_in, draw(st.sampled_from(forms))


def false_forms(draw, layers, reduction, k: int) -> tuple[str, str]:
    """A claim built like a true one with one coefficient, index or exponent perturbed."""
    h_in = "x" if k == 1 else f"h{k - 1}"
    if k > len(layers):
        y = f"h{len(layers)}" if layers else "x"
        n = ROWS * _width(layers, len(layers)) if reduction == "mean" else 1
        wrong = draw(st.sampled_from([Fraction(2, n) * 2, Fraction(1, n), Fraction(-2, n), Fraction(2, n) + 1]))
        return y, draw(st.sampled_from([f"{spell(draw, wrong)}*({y} - t)", f"{spell(draw, Fraction(2, n))}*({y} + t)"]))
    layer, y, dy = layers[k - 1], f"h{k}", f"dh{k}"
    if layer.kind == "sigmoid":
        forms = [f"{dy}*{y}*(1 + {y})", f"{dy}*{y}**2*(1 - {y})", f"2*{dy}*{y}*(1 - {y})", f"{dy}*(1 - {y})"]
    elif layer.kind == "tanh":
        forms = [
            f"{dy}*(1 - {y}**3)",
            f"{dy}*(1 + {y}**2)",
            f"{dy}*(1 - {y})",
            f"{spell(draw, Fraction(2))}*{dy}*(1 - {y}**2)",
        ]
    elif layer.kind == "mulc":
        forms = [
            f"{spell(draw, Fraction(layer.c + 1))}*{dy}",
            f"{dy}*{spell(draw, Fraction(layer.c, 2))}",
            f"{dy}**2*{layer.c}",
        ]
    elif layer.kind == "linear":
        if draw(st.booleans()):
            return "w", draw(st.sampled_from([f"{h_in}.T @ {dy}", f"2*{dy}.T @ {h_in}"]))
        forms = [f"{dy} @ w.T", f"{dy} @ w * {spell(draw, Fraction(3, 2))}", f"({dy} @ w)**2"]
    elif layer.kind == "mean":
        n = _width(layers, k - 1)
        forms = [f"{dy}/{spell(draw, Fraction(n + 1))} + 0*{h_in}", f"2*{dy}/{n} + 0*{h_in}", f"{dy}**2/{n} + 0*{h_in}"]
    else:
        forms = [f"{dy}/{spell(draw, Fraction(WIDTH + 1))} + 0*{h_in}", f"2*{dy} + 0*{h_in}", f"{dy}*{h_in}"]
    return h_in, draw(st.sampled_from(forms))


@st.composite
def claims(draw, truth: bool):
    layers, reduction = draw(networks())
    k = draw(st.integers(1, len(layers) + 1))
    build = true_forms if truth else false_forms
    return layers, reduction, *build(draw, layers, reduction, k)


@SETTINGS
@given(claims(truth=True))
def test_a_true_claim_is_proven(case):
    layers, reduction, name, claim = case
    d = derive(layers, reduction)
    proof = symgrad.check(d, name, claim)
    assert proof.status == "proven", (layers, reduction, name, claim, proof)


@SETTINGS
@given(claims(truth=False))
def test_a_false_claim_is_refuted(case):
    layers, reduction, name, claim = case
    d = derive(layers, reduction)
    proof = symgrad.check(d, name, claim)
    assert proof.status == "refuted", (layers, reduction, name, claim, proof)


@SETTINGS
@given(claims(truth=True), st.data())
def test_two_spellings_of_a_true_claim_are_equivalent_and_a_perturbed_one_is_not(case, data):
    layers, reduction, name, claim = case
    d = derive(layers, reduction)
    assert symgrad.equivalent(d, name, claim, f"d{name}").status == "proven", (layers, name, claim)
    assert symgrad.equivalent(d, name, claim, f"2*d{name}").status == "refuted", (layers, name, claim)
