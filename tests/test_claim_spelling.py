"""A preset's closed forms are printed in the claim language, and read back by ``check`` as the
same gradient: the summary, the JSON and a proof's claims speak the language a user writes."""

import json
import re
import subprocess
import sys

import pytest

import symgrad

# the texts are written here by hand, in PyTorch's spelling (torch.nn.grad's signatures)
CASES = [
    (
        # an output padding of at least the stride (allowed by the dilation): conv2d's result is cropped
        lambda: symgrad.conv_transpose2d(
            (1, 2, 3, 4), (2, 1, 3, 2), stride=1, padding=(1, 0), output_padding=(1, 0), dilation=(2, 1)
        ),
        {
            "X": "conv2d(G, W, padding=(1, 0), dilation=(2, 1))[:, :, :3, :4]",
            "W": "conv_transpose2d_weight(X, (2, 1, 3, 2), G, padding=(1, 0), output_padding=(1, 0), dilation=(2, 1))",
            "b": "G.sum((0, 2, 3))",
        },
    ),
    (lambda: symgrad.matmul(2, 4, 3), {"A": "G @ B.T", "B": "A.T @ G"}),
    (lambda: symgrad.matmul("m", "k", "n"), {"A": "G @ B.T", "B": "A.T @ G"}),
    (
        lambda: symgrad.conv2d((1, 2, 4, 4), (3, 2, 2, 2)),
        {"X": "conv_transpose2d(G, W)", "W": "conv2d_weight(X, (3, 2, 2, 2), G)", "b": "G.sum((0, 2, 3))"},
    ),
    (
        lambda: symgrad.conv2d((2, 4, 5, 5), (6, 2, 3, 3), stride=2, padding=1, groups=2),
        {
            "X": "conv_transpose2d(G, W, stride=2, padding=1, groups=2)",
            "W": "conv2d_weight(X, (6, 2, 3, 3), G, stride=2, padding=1, groups=2)",
            "b": "G.sum((0, 2, 3))",
        },
    ),
    (
        lambda: symgrad.conv2d((1, 1, 5, 6), (1, 1, 2, 3), stride=(2, 1), dilation=(1, 2), bias=False),
        {
            "X": "conv_transpose2d(G, W, stride=(2, 1), output_padding=(1, 0), dilation=(1, 2))",
            "W": "conv2d_weight(X, (1, 1, 2, 3), G, stride=(2, 1), dilation=(1, 2))",
        },
    ),
    (
        lambda: symgrad.conv_transpose2d((1, 2, 3, 3), (2, 1, 3, 3), stride=2, padding=1, output_padding=1),
        {
            "X": "conv2d(G, W, stride=2, padding=1)",
            "W": "conv_transpose2d_weight(X, (2, 1, 3, 3), G, stride=2, padding=1, output_padding=1)",
            "b": "G.sum((0, 2, 3))",
        },
    ),
]


@pytest.mark.parametrize("make, texts", CASES, ids=range(len(CASES)))
def test_every_closed_form_is_spelled_as_a_claim_and_read_back_proven(make, texts):
    d = make()
    assert d.claims == texts
    for name, text in texts.items():
        assert symgrad.check(d, name, text).status == "proven", (name, text)
        # the same text with a factor 2 is a different gradient: refuted, at a point shown
        wrong = symgrad.check(d, name, f"2 * {text}")
        assert wrong.status == "refuted" and wrong.counterexample is not None, (name, text)


def test_the_summary_and_the_json_print_claims(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "symgrad",
            "conv2d",
            "--input",
            "1x2x4x4",
            "--weight",
            "3x2x2x2",
            "--stride",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert json.loads(out)["closed_forms"] == {
        "X": "conv_transpose2d(G, W, stride=2)",
        "W": "conv2d_weight(X, (3, 2, 2, 2), G, stride=2)",
        "b": "G.sum((0, 2, 3))",
    }


def test_a_proof_names_its_claims_as_written():
    proof = symgrad.matmul(2, 4, 3).prove()
    assert proof.claims == (("A", "G @ B.T"), ("B", "A.T @ G"))


def test_a_claim_indexes_and_slices_as_pytorch_does():
    d = symgrad.matmul(2, 4, 3)
    assert symgrad.check(d, "A", "(G @ B.T)[:, :]").ok
    assert symgrad.check(d, "A", "(G @ B.T)[0:2, -4:]").ok
    # the second row broadcast over both: the first row is wrong, refuted at an element
    second = symgrad.equivalent(d, "A", "G @ B.T", "(G[1:2] @ B.T) + 0 * (G @ B.T)")
    assert second.status == "refuted" and second.counterexample.index[0] == 1
    # a claim function slices as a claim string does
    assert symgrad.check(d, "A", lambda T: (T["G"] @ T["B"].T)[0:2]).ok


@pytest.mark.parametrize(
    "claim, message",
    [
        ("G[5]", "index 5 is out of range for a dim of size 2"),
        ("G[1.5]", "an index is a whole number written out"),
        ("G[::0]", "a slice's step must be at least 1"),
        ("G[::-1]", "a slice's step must be at least 1"),
        ("G[:, :, :]", "3 indices for a tensor of shape"),
        ("G[A]", "an index is a whole number written out"),
        ("G[0]", "the claim for dA is 3, but A is 2×4"),
        # an empty slice: the sums and means of nothing would make true-looking claims of any value
        ("G @ B.T + (A[0:0].sum(1) + 1).sum() - 1", "[0:0] selects no entries of a tensor of shape (2, 4)"),
        ("G @ B.T + G[:, 5:].mean()", "[:, 5:] selects no entries"),
    ],
)
def test_a_bad_index_is_one_clear_error(claim, message):
    with pytest.raises(symgrad.SymgradError, match=re.escape(message)):
        symgrad.check(symgrad.matmul(2, 4, 3), "A", claim)


def test_a_claim_function_iterates_a_tensor_as_pytorch_does():
    d = symgrad.matmul(2, 4, 3)
    # sum() adds up the rows of G (2×3): a 3-vector, broadcast over the rows of dB (4×3)
    assert symgrad.check(d, "B", lambda T: T["dB"] + 0 * sum(T["G"])).ok
    assert symgrad.check(d, "B", lambda T: T["A"].T @ T["G"] + sum(T["G"]) - T["G"].sum(0)).ok
    assert symgrad.check(d, "B", lambda T: T["dB"] + sum(T["G"])).status == "refuted"


def test_a_closed_form_without_a_claim_spelling_is_shown_by_its_name():
    d = symgrad.conv2d((1, 2, 4, 4), (2, 2, 2, 2))
    view = d.presentation.views[1][1]  # the im2col view of dL/dW: proven, but no claim's function
    proof = d.replace(closed_forms={**d.closed_forms, "W": view}).prove()
    assert proof.status == "proven" and dict(proof.claims)["W"].startswith("im2col_weight(X, G")
