"""The reference's section 3, automated: generated backward code, its validation, and
symbolic checking of people's own backward functions."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import symgrad
import symgrad.testing
from symgrad.publish.codegen import backward_lines, sources, validate

from .conftest import require_torch

# --- symgrad.testing.assert_backward ---------------------------------------------------------


def reference_backward(A, B, G):
    """The reference post's three lines, with dL/dC handed in."""
    grad_C = G
    grad_A = grad_C.mm(B.t())
    grad_B = A.t().mm(grad_C)
    return grad_A, grad_B


def fused_mean_backward(A, B, G):
    """The reference's own form: the mean's upstream built inside, 1/numel included."""
    grad_C = G.new_ones(G.shape) / G.numel()
    return grad_C.mm(B.t()), A.t().mm(grad_C)


def numpy_style_backward(A, B, G):
    return G @ B.T, A.T @ G


def other_spellings(A, B, G):
    return G.matmul(B.transpose(0, 1)), (G.t().mm(A)).t() * 1 + 0


@pytest.mark.parametrize("fn", [reference_backward, numpy_style_backward, other_spellings])
@pytest.mark.parametrize("loss", ["mean", "sum", "generic"])
@pytest.mark.parametrize("sizes", [(2, 4, 3), (1, 1, 1), (3, 3, 3), (5, 2, 4)])
def test_correct_backward_passes(fn, loss, sizes):
    m, k, n = sizes
    assert symgrad.testing.assert_backward(fn, op="matmul", sizes=sizes, loss=loss) == m * k + k * n


def test_the_fused_mean_backward():
    # it ignores grad_C, so it holds for the mean loss only, and says so when asked to
    symgrad.testing.assert_backward(fused_mean_backward, sizes=(2, 4, 3), loss="mean", upstream="loss")
    with pytest.raises(AssertionError, match="with dL/dC symbolic"):
        symgrad.testing.assert_backward(fused_mean_backward, sizes=(2, 4, 3), loss="mean")
    with pytest.raises(AssertionError):
        symgrad.testing.assert_backward(fused_mean_backward, sizes=(2, 4, 3), loss="sum", upstream="loss")


@pytest.mark.parametrize(
    "name, fn",
    [
        ("ignores grad_C", lambda A, B, G: (G.new_ones(G.shape).mm(B.t()) / 9, A.t().mm(G.new_ones(G.shape)) / 9)),
        ("grad_C.t() on square sizes", lambda A, B, G: (G.t().mm(B.t()), A.t().mm(G.t()))),
        (
            "grad_C.mean()",
            lambda A, B, G: ((G.new_ones(G.shape) * G.mean()).mm(B.t()), A.t().mm(G.new_ones(G.shape) * G.mean())),
        ),
    ],
)
def test_a_backward_that_holds_only_for_the_losss_upstream_fails(name, fn):
    # under the mean loss every one of these gives the right numbers, because dL/dC is 1/9 everywhere
    symgrad.testing.assert_backward(fn, sizes=(3, 3, 3), loss="mean", upstream="loss")
    with pytest.raises(AssertionError, match=r"wrong at element .* with dL/dC symbolic"):
        symgrad.testing.assert_backward(fn, sizes=(3, 3, 3), loss="mean")


@pytest.mark.parametrize(
    "sizes, message",
    [
        (("m", "k", "n"), "concrete sizes"),
        ((2, 4, 3, 5), "three positive integers"),
        ((2, 0, 3), "positive integer"),
        ((2.0, 4, 3), "positive integer"),
    ],
)
def test_assert_backward_refuses_bad_sizes(sizes, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.testing.assert_backward(reference_backward, sizes=sizes)


def test_division_by_zero_is_named():
    with pytest.raises(symgrad.testing.UnsupportedOperation, match="divides a tensor by zero"):
        symgrad.testing.assert_backward(lambda A, B, G: (G.mm(B.t()) / 0, A.t().mm(G)), sizes=(2, 2, 2))
    with pytest.raises(symgrad.testing.UnsupportedOperation, match="division by a tensor"):
        symgrad.testing.assert_backward(lambda A, B, G: (1 / G, A.t().mm(G)), sizes=(2, 2, 2))


WRONG = {
    "missing 1/numel": (
        lambda A, B, G: (G.new_ones(G.shape).mm(B.t()), A.t().mm(G.new_ones(G.shape))),
        "grad_A is wrong at element (1, 1), dL/da_{11}",
    ),
    "G.mm(B) on square sizes": (lambda A, B, G: (G.mm(B), A.t().mm(G)), "grad_A is wrong at element (1, 1)"),
    "transposed result": (lambda A, B, G: (G.mm(B.t()).t(), A.t().mm(G)), "grad_A is wrong at element (1, 2)"),
    "grad_B scaled": (lambda A, B, G: (G.mm(B.t()), 2 * A.t().mm(G)), "grad_B is wrong at element (1, 1), dL/db_{11}"),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_backward_passes_fail_with_the_element(name):
    fn, message = WRONG[name]
    with pytest.raises(AssertionError) as info:
        symgrad.testing.assert_backward(fn, op="matmul", sizes=(3, 3, 3), loss="mean")
    text = str(info.value)
    assert message in text and "expected (chain rule):" in text and "actual (backward fn):" in text


def test_the_message_shows_both_expressions():
    with pytest.raises(AssertionError) as info:
        symgrad.testing.assert_backward(WRONG["missing 1/numel"][0], sizes=(2, 4, 3), loss="mean", upstream="loss")
    assert "expected (chain rule): b_{11}/6 + b_{12}/6 + b_{13}/6" in str(info.value)
    assert "actual (backward fn):  b_{11} + b_{12} + b_{13}" in str(info.value)


def test_shape_and_return_errors():
    with pytest.raises(AssertionError, match=r"grad_A has shape \(4, 2\), but A has shape \(2, 4\)"):
        symgrad.testing.assert_backward(lambda A, B, G: (B.mm(G.t()), A.t().mm(G)), sizes=(2, 4, 3))
    with pytest.raises(AssertionError, match="must return"):
        symgrad.testing.assert_backward(lambda A, B, G: G.mm(B.t()), sizes=(2, 4, 3))
    with pytest.raises(AssertionError, match="grad_B is a float"):
        symgrad.testing.assert_backward(lambda A, B, G: (G.mm(B.t()), 0.0), sizes=(2, 4, 3))


@pytest.mark.parametrize(
    "fn, named",
    [
        (lambda A, B, G: (G.relu().mm(B.t()), A.t().mm(G)), ".relu"),
        (lambda A, B, G: (G.mm(B.t()), A.t().mm(G).clamp(0)), ".clamp"),
        (lambda A, B, G: (__import__("numpy").dot(G, B.T), A.T @ G), "numpy.dot"),
        (lambda A, B, G: (__import__("numpy").exp(G) @ B.T, A.T @ G), "numpy.exp"),
        (lambda A, B, G: (G[0], A.T @ G), "indexing"),
        (lambda A, B, G: (G / G.sum(), A.T @ G), "division by a tensor"),
    ],
)
def test_unsupported_operations_are_named(fn, named):
    with pytest.raises(symgrad.testing.UnsupportedOperation, match=re.escape(named)):
        symgrad.testing.assert_backward(fn, sizes=(2, 2, 2))


def test_unknown_op():
    with pytest.raises(symgrad.SymgradError, match="unknown op 'conv9d'"):
        symgrad.testing.assert_backward(reference_backward, op="conv9d")


# --- generated code --------------------------------------------------------------------------


@pytest.mark.slow
def test_documents_show_the_generated_code():
    d = symgrad.matmul(2, 4, 3, "mean")
    module = next(iter(sources(d, "torch").values()))
    shown = "\n".join(backward_lines(d, "torch"))
    assert shown in symgrad.render(d, "md")
    assert "\n".join("    " + line for line in backward_lines(d, "torch")) in module
    assert backward_lines(d, "torch") == [
        "grad_C = torch.ones(C.shape, dtype=torch.float64) / C.numel()",
        "grad_A = grad_C.mm(B.t())",
        "grad_B = A.t().mm(grad_C)",
    ]
    assert backward_lines(d, "numpy")[1:] == ["grad_A = grad_C @ B.T", "grad_B = A.T @ grad_C"]


def emit(tmp_path, lib, *args):
    result = subprocess.run(
        [sys.executable, "-m", "symgrad", "matmul", *args, "--emit-code", lib, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    backward, validation = (tmp_path / line.split("/")[-1] for line in result.stdout.split())
    return backward, validation


@pytest.mark.parametrize("lib", ["torch", "numpy"])
@pytest.mark.parametrize("args", [[], ["-m", "3", "-k", "5", "-n", "2", "--loss", "generic"], ["--loss", "sum"]])
@pytest.mark.slow
def test_generated_scripts_run_and_pass(tmp_path, lib, args):
    if lib == "torch":
        require_torch()
    _backward, validation = emit(tmp_path, lib, *args)
    run = subprocess.run([sys.executable, str(validation)], capture_output=True, text=True, cwd="/")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"grad_A: max \|difference\| = \d\.\d+e[-+]\d+", run.stdout)
    assert "match" in run.stdout and "MISMATCH" not in run.stdout


@pytest.mark.parametrize("lib", ["torch", "numpy"])
@pytest.mark.slow
def test_a_corrupted_generated_backward_fails(tmp_path, lib):
    if lib == "torch":
        require_torch()
    backward, validation = emit(tmp_path, lib)
    text = backward.read_text()
    corrupted = text.replace("B.t()", "B.t() * 1.001") if lib == "torch" else text.replace("B.T", "B.T * 1.001")
    assert corrupted != text
    backward.write_text(corrupted)
    run = subprocess.run([sys.executable, str(validation)], capture_output=True, text=True)
    assert run.returncode == 1 and "MISMATCH" in run.stdout


def test_validate_in_process_with_torch():
    require_torch()
    result = validate(symgrad.matmul(3, 7, 2, "mean"))
    assert result.ok and result.reference.startswith("PyTorch 2.13") and set(result.errors) == {"A", "B"}
    assert max(result.errors.values()) <= result.tolerance == 1e-10


@pytest.mark.slow
def test_validate_cli_with_torch():
    require_torch()
    run = subprocess.run([sys.executable, "-m", "symgrad", "matmul", "--validate"], capture_output=True, text=True)
    assert run.returncode == 0
    assert re.search(
        r"validated against PyTorch 2\.13\.\S+ autograd: max \|Δ\| grad_A \S+, grad_B \S+; "
        r"tolerance 1e-10: match",
        run.stdout,
    )


@pytest.mark.slow
def test_validate_cli_without_torch_runs_the_numpy_code_it_is_asked_for(tmp_path):
    """torch made unimportable in a subprocess: --emit-code numpy --validate needs only NumPy."""
    script = (
        "import sys; sys.modules['torch'] = None; from symgrad.cli import main; "
        "sys.exit(main(['matmul', '-m', '3', '--loss', 'generic', '--emit-code', 'numpy', '--validate', "
        f"'--out', {str(tmp_path)!r}]))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "matmul-3x4x3_backward_numpy.py",
        "matmul-3x4x3_validate_numpy.py",
    ]
    assert "validated against NumPy central finite differences" in run.stdout
    assert "tolerance 1e-06: match" in run.stdout


def test_validate_reports_a_mismatch(monkeypatch):
    import symgrad.publish.codegen as codegen

    real = codegen.backward_lines
    monkeypatch.setattr(
        codegen, "backward_lines", lambda d, lib="torch": [line.replace("B.T", "(2 * B.T)") for line in real(d, lib)]
    )
    result = validate(symgrad.matmul(2, 2, 2), "numpy")
    assert not result.ok and "MISMATCH" in str(result)


@pytest.mark.slow
def test_emit_errors(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", "matmul", "--emit-code", "jax", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "unknown library 'jax'" in run.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_documents_carry_the_validation(tmp_path):
    require_torch()
    run = subprocess.run(
        [sys.executable, "-m", "symgrad", "matmul", "--validate", "--format", "md,tex", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    md = (tmp_path / "matmul-2x4x3.md").read_text()
    assert re.search(
        r"These lines were run against PyTorch 2\.13\S* autograd in float64 on seeded random values: "
        r"the largest absolute difference was \S+ for dA, \S+ for dB \(tolerance 1e-10\)",
        md,
    )
    assert "These lines were run against PyTorch" in (tmp_path / "matmul-2x4x3.tex").read_text()


def test_the_document_says_what_ran_when_the_numpy_code_was_validated():
    """The NumPy port ran; the document must not claim the PyTorch lines it shows ran."""
    d = symgrad.matmul(2, 3, 2)
    numpy_run = validate(d, "numpy")
    assert numpy_run.ok and numpy_run.library == "numpy"
    page = symgrad.render(d, "md", validation=numpy_run)
    assert "These lines were not run: their NumPy port, written from the same closed forms, was run" in page
    assert "These lines were run against" not in page


@pytest.mark.slow
@pytest.mark.tools
def test_the_readme_transposed_convolution_example_validates_its_torch_code(tmp_path):
    require_torch()
    args = ["conv-transpose2d", "--input", "1x2x3x3", "--weight", "2x1x3x3", "--stride", "2", "--padding", "1"]
    args += ["--output-padding", "0", "--format", "md", "--out", str(tmp_path), "--emit-code", "torch", "--validate"]
    run = subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "validated against PyTorch" in run.stdout and ": match" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize("op", ["conv2d", "conv-transpose2d"])
def test_validating_a_convolution_without_torch_says_what_to_install(op):
    script = (
        f"import sys; sys.modules['torch'] = None; from symgrad.cli import main; sys.exit(main([{op!r}, '--validate']))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert "PyTorch is not installed: pip install torch==2.13.0" in run.stderr
