"""Property tests: wrong claims are refuted with a correct counterexample, and hostile input to
the claim reader and the command line ends in a verdict or one clear error, never a traceback.

The expected values here are built with SymPy matrices from the public ``d.inputs`` and the
upstream symbols, not by symgrad's prover.
"""

from __future__ import annotations

import contextlib
import io

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symgrad
from symgrad.cli import main

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def matrices(d):
    """A, B and G as SymPy matrices of the derivation's own symbols."""
    G = sympy.Matrix(*d.output.shape, [d.registry.symbol(g) for g in d.upstream_symbols.ids])
    return d.inputs["A"], d.inputs["B"], G


def assert_refuted_correctly(d, wrt, claim_value, proof):
    """Refuted, at an element where the SymPy truth and the SymPy claim really differ, and the
    counterexample shows exactly those two values."""
    A, B, G = matrices(d)
    truth = G * B.T if wrt == "A" else A.T * G
    assert proof.status == "refuted", proof
    ce = proof.counterexample
    i, j = (x - 1 for x in ce.index)
    assert sympy.expand(ce.derived - truth[i, j]) == 0
    assert sympy.expand(ce.claimed - claim_value[i, j]) == 0
    assert sympy.expand(truth[i, j] - claim_value[i, j]) != 0
    # and it is the first such element, in row-major order
    for r in range(truth.rows):
        for c in range(truth.cols):
            if (r, c) == (i, j):
                return
            assert sympy.expand(truth[r, c] - claim_value[r, c]) == 0


sizes = st.integers(1, 4)
losses = st.sampled_from(["mean", "sum", "generic"])


@SETTINGS
@given(m=sizes, k=sizes, n=sizes, loss=losses, p=st.integers(-5, 5), q=st.integers(1, 5))
def test_a_rescaled_claim_is_refuted(m, k, n, loss, p, q):
    factor = sympy.Rational(p, q)
    assume(factor != 1)
    d = symgrad.matmul(m, k, n, loss)
    _A, B, G = matrices(d)
    proof = symgrad.check(d, "A", f"({p})/{q}*G @ B.T")
    assert_refuted_correctly(d, "A", factor * G * B.T, proof)


@SETTINGS
@given(s=st.integers(2, 4), k=sizes, loss=losses)
def test_a_transposed_upstream_is_refuted_on_square_sizes(s, k, loss):
    d = symgrad.matmul(s, k, s, loss)
    A, B, G = matrices(d)
    assert_refuted_correctly(d, "A", G.T * B.T, symgrad.check(d, "A", "G.T @ B.T"))
    assert_refuted_correctly(d, "B", A.T * G.T, symgrad.check(d, "B", "A.T @ G.T"))


@SETTINGS
@given(s=st.integers(2, 4), loss=losses)
def test_an_element_wise_product_on_square_sizes_is_refuted(s, loss):
    # "G*B" is G ⊙ B in PyTorch's meaning: a square B lets it through the shapes, never through the proof
    d = symgrad.matmul(s, s, s, loss)
    _A, B, G = matrices(d)
    assert_refuted_correctly(d, "A", G.multiply_elementwise(B), symgrad.check(d, "A", "G*B"))


@SETTINGS
@given(m=sizes, k=sizes, n=sizes, loss=losses, data=st.data())
def test_one_perturbed_entry_is_found(m, k, n, loss, data):
    d = symgrad.matmul(m, k, n, loss)
    A, _B, G = matrices(d)
    claim = sympy.Matrix(A.T * G)
    i, j = data.draw(st.integers(0, k - 1)), data.draw(st.integers(0, n - 1))
    claim[i, j] += data.draw(st.sampled_from([sympy.Integer(1), A[0, 0], sympy.Rational(-1, 7) * G[0, 0]]))
    assert_refuted_correctly(d, "B", claim, symgrad.check(d, "B", claim))


@SETTINGS
@given(s=sizes, k=sizes, loss=losses)
def test_a_term_that_vanishes_only_on_one_by_one_sizes(s, k, loss):
    # (G - G.T)·Bᵀ is zero when G is 1×1 and only then
    d = symgrad.matmul(s, k, s, loss)
    _A, B, G = matrices(d)
    proof = symgrad.check(d, "A", "G @ B.T + (G - G.T) @ B.T")
    if s == 1:
        assert proof.ok
    else:
        assert_refuted_correctly(d, "A", G * B.T + (G - G.T) * B.T, proof)


CLAIM_WORDS = [
    "G",
    "A",
    "B",
    "X",
    "W",
    "b",
    ".T",
    "*",
    "+",
    "-",
    "/",
    "@",
    "(",
    ")",
    "**",
    "2",
    "0",
    "1.5",
    "conv_transpose2d",
    "conv2d_weight",
    "conv2d_input",
    ".shape",
    ".sum",
    "exp",
    "stride=",
    "padding=",
    "groups=",
    ",",
    "True",
    " ",
    "inv",
    "[",
    "::",
    "-1",
    "]",
    "__",
    "lambda",
    ":",
    "'",
    "9" * 20,
    "\\",
    "²",
]


@pytest.fixture(scope="module")
def derivations():
    return {
        "mm": symgrad.matmul(2, 3, 2),
        "general": symgrad.matmul("m", "k", "n"),
        "conv": symgrad.conv2d((1, 2, 4, 4), (2, 1, 3, 3), padding=1, groups=2),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(CLAIM_WORDS), max_size=14), which=st.sampled_from(["mm", "general", "conv"]))
@pytest.mark.slow
def test_any_claim_text_ends_in_a_verdict_or_one_error(derivations, words, which):
    d = derivations[which]
    wrt = "X" if which == "conv" else "A"
    try:
        proof = symgrad.check(d, wrt, "".join(words))
    except symgrad.SymgradError as exc:
        message = str(exc)
    else:
        message = None
        assert proof.status in ("proven", "refuted", "undecided")
    if message is not None:
        assert message and "\n" not in message


OPTIONS = {
    "-m": ["1", "2", "0", "-1", "2.5", "m", "²", "99999"],
    "-k": ["1", "3", "k", "x y"],
    "-n": ["2", "n", ""],
    "--loss": ["mean", "sum", "generic", "max", ""],
    "--pick-a": ["1,1", "2,3", "0,1", "1", "a,b", "1,²"],
    "--pick-b": ["1,1", "9,9"],
    "--letters": ["abc", "ab", "ggl", "xyz", "aAb", "1bc"],
    "--format": ["md", "tex,md", "pdf", "all", ","],
    "--title": ["t", " ", "\\(x\\)", "a\nb", "\x07"],
    "--date": ["2024-05-01", "yesterday"],
    "--display-limit": ["3", "1", "x"],
    "--emit-code": ["torch", "julia"],
    "--max-terms": ["1", "0", "100000", "-5"],
    "--input": ["1x2x5x5", "1x1x1x1", "0x1x1x1", "1x2x5"],
    "--weight": ["2x2x3x3", "1x1x9x9"],
    "--stride": ["1", "2,1", "0", "a"],
    "--padding": ["0", "1", "3000"],
    "--groups": ["1", "2", "0", "-1"],
    "--pick-x": ["1,1,1,1", "1,1,2,²"],
}
FLAGS = ["--json", "--no-bias", "--frobnicate"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(["matmul", "conv2d", "nonsense"]),
    options=st.lists(st.sampled_from(sorted(OPTIONS)), max_size=5, unique=True),
    flags=st.lists(st.sampled_from(FLAGS), max_size=2, unique=True),
    data=st.data(),
)
@pytest.mark.slow
def test_the_command_line_exits_0_or_2_without_a_traceback(tmp_path_factory, command, options, flags, data):
    out = tmp_path_factory.mktemp("fuzz")
    argv = [command]
    for option in options:
        argv += [option, data.draw(st.sampled_from(OPTIONS[option]))]
    argv += flags + ["--out", str(out / "docs")]
    if "--max-terms" not in options:
        argv += ["--max-terms", "20000"]  # bounded work whatever the sizes
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse's own --help and --version
            status = exc.code
    assert status in (0, 2), (argv, stderr.getvalue())
    if status == 2:
        lines = stderr.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symgrad: error: "), (argv, lines)
        written = list((out / "docs").iterdir()) if (out / "docs").exists() else []
        assert written == [], argv  # a refused run writes nothing
