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


# --- the check reads the lemma, never its name ------------------------------------------------------


def test_a_lemma_is_checked_by_what_it_carries_not_by_its_name():
    # a lemma called "step" whose function is e^u: a derivative of 0 is wrong for it
    misnamed = dataclasses.replace(LEMMAS["step"], function=lambda u, p: sympy.exp(u))
    assert check_lemma(misnamed).startswith("refuted at u = 1/3")
    # the sigmoid's lemma under the power's name is the sigmoid's lemma, and holds
    assert check_lemma(dataclasses.replace(LEMMAS["sigmoid"], name="power")) == "proven"


def test_a_wrong_power_rule_is_refuted_at_the_lemma_s_parameter_point_only_if_it_has_one():
    wrong = dataclasses.replace(LEMMAS["power"], derivative=lambda a, u, h, p: (p + 1) * a * h)
    # at u = 1/3, p = 3/2: (3/2)(1/3)^{1/2} against (5/2)(1/3)^{1/2}, apart by (1/3)^{1/2}
    assert check_lemma(wrong) == "refuted at u = 1/3: the derivative and the rule differ by -0.577350"
    # with no point for p the difference stays a formula in p: neither proven nor refuted
    assert check_lemma(dataclasses.replace(wrong, parameter_point=None)) == "undecided"


def test_a_true_lemma_the_canonical_form_cannot_see_is_undecided_never_refuted():
    # 1 − tanh²u = 4/(e^u + e^{−u})², but tanh u and e^u are separate variables to the cancellation
    sech_squared = dataclasses.replace(
        LEMMAS["tanh"], derivative=lambda a, u, h, p: 4 / (sympy.exp(u) + sympy.exp(-u)) ** 2
    )
    assert check_lemma(sech_squared) == "undecided"
