"""Each lemma is proven on the domain it states, and the certificate prints that domain: log, sqrt
and fractional powers need positive arguments, the reciprocal a nonzero one."""

from __future__ import annotations

import dataclasses

import pytest
import sympy

import symgrad
import symgrad.functional as F
from symgrad.network.lemmas import LEMMAS
from symgrad.prove.network import check_lemma

DOMAINS = {  # written out by hand from each function's real domain
    "exp": r"u \in \mathbb{R}",
    "sigmoid": r"u \in \mathbb{R}",
    "tanh": r"u \in \mathbb{R}",
    "softplus": r"u \in \mathbb{R}",
    "step": r"u \in \mathbb{R}",
    "inverse": r"u \neq 0",
    "log": "u > 0",
    "sqrt": "u > 0",
    "power": "u > 0",
}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_each_lemma_is_proven_for_a_variable_with_exactly_its_domain(name):
    lemma = LEMMAS[name]
    assert sympy.latex(lemma.domain()) == DOMAINS[name]
    assert check_lemma(lemma) == "proven"


def test_every_lemma_states_a_domain():
    assert set(LEMMAS) == set(DOMAINS)


def test_a_wrong_derivative_is_refuted_on_the_lemma_s_own_domain():
    log = LEMMAS["log"]
    doubled = dataclasses.replace(log, derivative=lambda a, u, h, p: 2 * h)
    assert check_lemma(doubled).startswith("refuted")


def test_the_certificate_states_the_domain_of_every_lemma_it_used():
    d = symgrad.derive(lambda x, t: F.mse_loss(F.log(F.sigmoid(x)), t), x=(2, 2), t=(2, 2))
    page = symgrad.render(d, "md")
    assert "inverse ($u \\neq 0$), log ($u > 0$), sigmoid ($u \\in \\mathbb{R}$)." in page
    assert "The proof holds wherever the argument of every lemma lies in its domain." in page


def test_a_polynomial_network_says_it_needs_no_lemma():
    d = symgrad.derive(lambda x: (x * x).sum(), x=(2, 2))
    assert "No layer needs a lemma: every layer is a polynomial." in symgrad.render(d, "md")
