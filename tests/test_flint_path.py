"""Claims decided with FLINT and without it give the same verdicts.

FLINT (python-flint) writes a large difference out in C and says whether it is zero; without it
the dict path decides alone. Both are run here on the BatchNorm compact form and its slips, so the
pure-Python path stays tested where FLINT is installed."""

from __future__ import annotations

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
        monkeypatch.setattr(flint_poly, "WORTH_IT", 0)  # FLINT for every size, however small
    else:
        monkeypatch.setattr(flint_poly, "flint", None)
    d = bn()
    assert symgrad.check(d, "x", COMPACT).status == "proven"
    for slip in SLIPS:
        assert symgrad.check(d, "x", slip).status == "refuted", slip


def test_flint_says_zero_only_for_the_zero_polynomial():
    pytest.importorskip("flint")
    # v3 = v1 + v2, v4 = v1 - v2: v3·v4 - v1² + v2² is zero once written out; a changed sign is not
    defs = {3: {(1,): 1, (2,): 1}, 4: {(1,): 1, (2,): -1}}
    zero = {(3, 4): 1, (1, 1): -1, (2, 2): 1}
    assert flint_poly.written_out_is_zero(zero, defs) is True
    assert flint_poly.written_out_is_zero({**zero, (2, 2): -1}, defs) is False
    assert flint_poly.written_out_is_zero({(3,): 1, (1,): -1}, defs) is False
