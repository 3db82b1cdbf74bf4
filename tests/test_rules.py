"""A step's rule is a value: the prover checks a step by the rule it carries and the place the rule
names (a layer, an element, a compound layer's form). A rule swapped for another, or carrying the
wrong place, is caught; a checked line relabelled as shown loses its check mark and its count."""

from __future__ import annotations

import dataclasses

import pytest

import symgrad
import symgrad.functional as F
from symgrad.chain import rules as R
from symgrad.chain.derivation import Equation, Step
from symgrad.network import presentation as P
from symgrad.network.derivation import NetworkDerivation
from symgrad.ops.conv2d_document import OUTPUT_HEIGHT

CHECK_MARK = "&#10003;"


def swap(d, key, index, **change):
    """d with one step of one equation changed (a network's equations are its ``_equations``)."""
    steps = list(d.equations[key].steps)
    steps[index] = dataclasses.replace(steps[index], **change)
    field = "_equations" if isinstance(d.data, NetworkDerivation) else "equations"
    return d.replace(**{field: {**d.equations, key: Equation(key, tuple(steps))}})


@pytest.fixture(scope="module")
def matmul():
    d = symgrad.matmul(2, 4, 3, "mean")
    assert d.prove().ok
    return d


@pytest.fixture(scope="module")
def network():
    d = symgrad.derive(
        lambda x, w, b, t: F.mse_loss(F.sigmoid(F.linear(x, w, b)), t), x=(3, 4), w=(2, 4), b=(2,), t=(3, 2)
    )
    assert d.prove().ok
    return d


# --- rules are values, made well or refused --------------------------------------------------------


def test_a_step_takes_a_rule_not_a_name(matmul):
    with pytest.raises(symgrad.SymgradError, match="a step's rule is a Rule"):
        Step(1, 1, "closed form")
    with pytest.raises(symgrad.SymgradError, match="a step's rule is a Rule"):
        swap(matmul, "identity_A", 0, rule="by inspection")


def test_a_rule_with_an_unknown_check_or_a_misplaced_checker_is_refused():
    with pytest.raises(symgrad.SymgradError, match="unknown check 'obvious'"):
        R.Rule("by inspection", "obvious", "by inspection")
    with pytest.raises(symgrad.SymgradError, match="comes with its checker"):
        R.Rule("mine", "op", "mine")
    with pytest.raises(symgrad.SymgradError, match="comes with its checker"):
        R.Rule("mine", "equal", "mine", checker=lambda d, step: None)


def test_a_rule_about_a_place_is_the_same_rule_with_its_data():
    at = P.LAYER_CLOSED_FORM.at(1, "z")
    assert (at.name, at.text, at.checker, at.data) == (
        "layer closed form",
        P.LAYER_CLOSED_FORM.text,
        P.check_closed,
        (1, "z"),
    )
    assert at != P.LAYER_CLOSED_FORM.at(0, "z")
    assert str(at) == "layer closed form"


# --- an element-wise derivation ------------------------------------------------------------------


def test_a_checked_rule_swapped_for_another_checked_rule_is_caught(matmul):
    # the chain-rule sum read as a definition: dL/da has no meaning but the chain rule's
    proof = swap(matmul, "chain_A", 0, rule=R.DEFINITION).prove()
    assert proof.status == "refuted" and "chain_A, step 1 (definition)" in proof.failed_step
    # a general-size rule in an element-wise derivation: nothing here checks it
    proof = swap(matmul, "identity_A", 0, rule=R.TRANSPOSE).prove()
    assert proof.status == "refuted" and "no checker for the rule 'transpose'" in proof.failed_step
    # a compound layer's claim rule where the graph has no compound layer
    proof = swap(matmul, "identity_A", 0, rule=P.BLOCK_FORM.at(0, 0)).prove()
    assert proof.status == "refuted" and "compound layer 1 has no form 1 to prove" in proof.failed_step


def test_a_checked_line_relabelled_as_shown_loses_its_check_mark_and_its_count(matmul):
    before, page = matmul.prove(), symgrad.render(matmul, "fragment")
    relabelled = swap(matmul, "identity_A", 0, rule=R.NOTATION)
    after = relabelled.prove()
    assert (after.steps, after.shown) == (before.steps - 1, before.shown + 1)
    assert symgrad.render(relabelled, "fragment").count(CHECK_MARK) == page.count(CHECK_MARK) - 1


def test_a_size_rule_about_the_wrong_axis_is_caught():
    d = symgrad.conv2d(input_shape=(1, 1, 4, 6), weight_shape=(1, 1, 3, 3))  # output 2×4
    assert d.prove().ok
    assert d.equations["output_size"].steps[0].rule is OUTPUT_HEIGHT
    proof = swap(d, "output_size", 0, rule=OUTPUT_HEIGHT.at(-1)).prove()
    assert proof.status == "refuted" and "2 is not 4" in proof.failed_step


def test_a_general_step_under_another_rule_is_caught():
    gd = symgrad.matmul("m", "k", "n", "sum")
    steps = gd.equations["local_A"].steps
    index = next(i for i, s in enumerate(steps) if s.rule is R.SIFTING)
    proof = swap(gd, "local_A", index, rule=R.SUM_RULE).prove()
    assert proof.status == "refuted" and "(sum rule)" in proof.failed_step


# --- a network's document --------------------------------------------------------------------------


def test_a_closed_form_rule_about_the_wrong_layer_is_caught(network):
    (step,) = network.equations["closed_1_x"].steps
    assert step.rule == P.LAYER_CLOSED_FORM.at(0, "x")
    proof = swap(network, "closed_1_x", 0, rule=P.LAYER_CLOSED_FORM.at(1, "x")).prove()
    assert proof.status == "refuted" and "layer 2 does not read x" in proof.failed_step
    # the sigmoid's closed form for z, claimed for the linear layer's output in layer 3
    proof = swap(network, "closed_2_z", 0, rule=P.LAYER_CLOSED_FORM.at(2, "s")).prove()
    assert proof.status == "refuted" and "closed_2_z" in proof.failed_step


def test_chain_rule_lines_about_the_wrong_element_or_layer_are_caught(network):
    k, x = network.equations["chain_1_x"].steps[0].rule.data
    other = x + 1  # the next entry of x
    cases = (
        (0, P.NETWORK_CHAIN_RULE.at(k, other), "lists"),
        (0, P.NETWORK_CHAIN_RULE.at(k + 1, x), "lists"),
        (0, P.NETWORK_CHAIN_RULE.at(7, x), "no layer 8"),
        (1, P.NETWORK_LOCAL_PARTIALS.at(other), "not partial derivatives"),
        (2, P.NETWORK_UPSTREAM_VALUES.at(other), "sum to the displayed result"),
    )
    for index, rule, message in cases:
        proof = swap(network, "chain_1_x", index, rule=rule).prove()
        assert proof.status == "refuted" and message in proof.failed_step, (rule, proof)


def test_a_network_line_under_a_rule_without_a_checker_is_caught(network):
    proof = swap(network, "closed_1_w", 0, rule=R.CLOSED_FORM).prove()
    assert proof.status == "refuted" and "no checker for the rule 'closed form'" in proof.failed_step


def test_a_network_line_relabelled_as_shown_loses_its_check_mark_and_its_count(network):
    before, page = network.prove(), symgrad.render(network, "fragment")
    relabelled = swap(network, "closed_1_w", 0, rule=P.LAYER_DEFINITION)
    after = relabelled.prove()
    assert after.ok and (after.steps, after.shown) == (before.steps - 1, before.shown + 1)
    assert symgrad.render(relabelled, "fragment").count(CHECK_MARK) == page.count(CHECK_MARK) - 1


def test_a_compound_layer_form_rule_about_another_form_is_caught():
    d = symgrad.derive(lambda x, w, b: F.tanh(F.layer_norm(x, 3, w, b, eps=0)).sum(), x=(2, 3), w=(3,), b=(3,))
    assert d.prove().ok
    assert d.equations["block_0_0"].steps[0].rule == P.BLOCK_FORM.at(0, 0)
    proof = swap(d, "block_0_0", 0, rule=P.BLOCK_FORM.at(0, 1)).prove()
    assert proof.status == "refuted" and "not the one proven" in proof.failed_step
    proof = swap(d, "block_0_0", 0, rule=P.BLOCK_FORM.at(0, 5)).prove()
    assert proof.status == "refuted" and "has no form 6" in proof.failed_step
