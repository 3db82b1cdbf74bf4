"""A compound layer's compact form is a line of the document only up to 32 input entries
(``compound.SHOWN_UP_TO``); a larger layer is still proven layer by layer, without the section."""

from __future__ import annotations

import pytest
import sympy

import symgrad
import symgrad.functional as F

SECTION = "The compound layers in closed form"


def batch_norm_sigmoid_mse(x, w, b, t):
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=sympy.Symbol("eps"))), t)


def derive(shape):
    return symgrad.derive(batch_norm_sigmoid_mse, x=shape, w=(shape[1],), b=(shape[1],), t=shape)


@pytest.mark.slow
def test_a_batch_norm_too_large_for_its_compact_form_is_proven_layer_by_layer():
    d = derive((4, 2, 8))
    assert d.prove().status == "proven"
    assert SECTION not in symgrad.render(d, "md")


def test_a_batch_norm_small_enough_shows_its_compact_form_proven():
    d = derive((2, 2, 2))
    assert d.prove().status == "proven"
    assert SECTION in symgrad.render(d, "md")
