"""A difference seen at a point counts only if it is the same at twice the digits: terms of 10^30
that cancel leave a rounding residue at 60 digits, which must never refute a true claim nor make
an identically zero divisor look nonzero."""

from __future__ import annotations

import mpmath
import pytest

import symgrad
import symgrad.functional as F
from symgrad.core.errors import SymgradError
from symgrad.prove import points


def cancelling(x):
    # e^{2x} − e^x·e^x is zero everywhere; scaled by 10^30 its rounding residue at 60 digits is
    # about 10^-26 at the points drawn, far above the 10^-40 a difference has to exceed
    z = (F.exp(x * 2) - F.exp(x) * F.exp(x)) * 10**30
    return (z + x).sum()


def test_a_true_claim_with_large_cancelling_terms_is_never_refuted():
    d = symgrad.derive(cancelling, x=(2,))
    # dL/dx = 1 everywhere: x's own term; the chain rule through z gives 10^30 (2e^{2x} − 2e^x e^x)
    assert symgrad.check(d, "x", "dx").status == "proven"
    verdict = symgrad.check(d, "x", "1 + 0*x")
    assert verdict.status != "refuted"


def test_a_divisor_zero_through_large_cancelling_terms_is_refused():
    d = symgrad.derive(cancelling, x=(2,))
    z = d.graph.nodes[-3].output  # the scaled difference, zero everywhere
    with pytest.raises(SymgradError, match="zero at every point tried"):
        symgrad.check(d, "x", f"dx*{z}/{z}")


def test_a_false_claim_with_large_terms_is_still_refuted():
    d = symgrad.derive(lambda x: (F.exp(x * 2) * 10**30).sum(), x=(2,))
    wrong = symgrad.check(d, "x", "4*dx")
    assert wrong.status == "refuted"


def test_without_the_second_precision_the_residue_would_refute(monkeypatch):
    d = symgrad.derive(residue_only, x=(2,))
    assert symgrad.check(d, "x", "0*x").status == "undecided"
    # the 60-digit values taken for the 120-digit ones, and any difference taken as stable
    monkeypatch.setattr(points.Comparer, "fine", lambda self, k: self.points()[k][0])
    monkeypatch.setattr(points, "STABLE", mpmath.inf)
    assert symgrad.check(d, "x", "0*x").status == "refuted"


def residue_only(x):
    e = F.exp(x)
    return ((F.exp(x * 2) - e * e) * 10**30).sum()  # zero everywhere, so dL/dx is 0
