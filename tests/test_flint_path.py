"""Claims decided with FLINT and without it give the same verdicts.

FLINT (python-flint) gives the claim's frame exact rationals in C (``fmpq``); without it the frame
computes with Python's ``Fraction``. Both are run here on the BatchNorm compact form and its slips,
so the pure-Python path stays tested where FLINT is installed."""

from __future__ import annotations

from fractions import Fraction

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.core import flint_poly

COMPACT = (
    "bn_weight / bn_std * (dbn - dbn.mean((0, 2), keepdim=True) - bn_xhat * (dbn * bn_xhat).mean((0, 2), keepdim=True))"
)
SLIPS = (
    COMPACT.replace(" - dbn.mean((0, 2), keepdim=True)", ""),
    COMPACT.replace("bn_weight / bn_std", "bn_weight * bn_std"),
    COMPACT.replace("bn_xhat * (dbn", "2 * bn_xhat * (dbn"),
)


def bn():
    def net(x, w, b, t):
        return SF.mse_loss(SF.sigmoid(SF.batch_norm(x, w, b, eps=0, name="bn")), t)

    return symgrad.derive(net, x=(2, 2, 3), w=(2,), b=(2,), t=(2, 2, 3))


@pytest.mark.parametrize("with_flint", [True, False], ids=["flint", "dicts"])
def test_the_compact_form_is_proven_and_its_slips_refuted_either_way(with_flint, monkeypatch):
    if with_flint:
        pytest.importorskip("flint")
    else:
        monkeypatch.setattr(flint_poly, "flint", None)
    d = bn()
    assert symgrad.check(d, "x", COMPACT).status == "proven"
    for slip in SLIPS:
        assert symgrad.check(d, "x", slip).status == "refuted", slip


def test_flint_coefficients_are_the_same_numbers():
    flint = pytest.importorskip("flint")
    p = {(1, 2): Fraction(3, 64), (1,): -2, (): Fraction(-5, 7)}
    converted = flint_poly.coefficients(p)
    assert set(converted) == set(p)
    assert all(isinstance(c, flint.fmpq) for c in converted.values())
    assert [(int(c.p), int(c.q)) for c in converted.values()] == [(3, 64), (-2, 1), (-5, 7)]


def test_without_flint_the_coefficients_stay_as_they_are(monkeypatch):
    monkeypatch.setattr(flint_poly, "flint", None)
    p = {(1, 2): Fraction(3, 64)}
    assert flint_poly.coefficients(p) is p
