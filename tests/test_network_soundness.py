"""Networks: the returned loss is the one derived, coded and validated; reductions, names,
sizes and numbers follow PyTorch or are refused with one clear error; every closed form shown
with a check mark is the one checked."""

from __future__ import annotations

import textwrap

import pytest

import symgrad
import symgrad.functional as F
from symgrad.core.errors import SymgradError
from symgrad.publish.codegen import backward_lines, emit, forward_lines, validate

from .commandline import run
from .conftest import require_torch


def generated_gradients(d, values: dict) -> dict:
    """Run the generated forward and backward lines on the given float64 tensors."""
    torch = require_torch()
    env = {"torch": torch, **{k: v.detach().clone() for k, v in values.items()}}
    exec("\n".join(forward_lines(d) + backward_lines(d)), env)
    return {name: env[f"g_{name}"] for name in d.wrt}


def autograd(fn, values: dict, wrt) -> dict:
    torch = require_torch()
    leaves = {k: v.detach().clone().requires_grad_(k in wrt) for k, v in values.items()}
    fn(**leaves).backward()
    return {k: leaves[k].grad if leaves[k].grad is not None else torch.zeros_like(leaves[k]) for k in wrt}


def randn(*shape, seed=0):
    torch = require_torch()
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- the returned tensor is the loss ------------------------------------------------------------


def loss_then_more(F):
    def net(x, w, t):
        loss = F.mse_loss(F.tanh(F.linear(x, w)), t)
        other = (x * x).sum()  # computed after the loss, and not returned
        _ = other * 3
        return loss

    return net


@pytest.mark.tools
def test_backward_code_is_for_the_returned_loss_not_the_last_layer():
    torch = require_torch()
    tf = torch.nn.functional
    d = symgrad.derive(loss_then_more(F), x=(2, 3), w=(4, 3), t=(2, 4))
    values = {"x": randn(2, 3, seed=1), "w": randn(4, 3, seed=2), "t": randn(2, 4, seed=3)}
    ours = generated_gradients(d, values)
    theirs = autograd(loss_then_more(tf), values, ("x", "w", "t"))
    for name in ("x", "w", "t"):
        assert torch.allclose(ours[name], theirs[name], rtol=0, atol=1e-12), name
    assert validate(d).ok
    assert "returns the loss, L" in d.loss_text


@pytest.mark.tools
@pytest.mark.slow
def test_validate_without_wrt_and_an_unread_input(tmp_path):
    require_torch()
    model = tmp_path / "model.py"
    model.write_text(
        textwrap.dedent(
            """
            import symgrad.functional as F

            def net(x, t, u):
                loss = F.mse_loss(F.sigmoid(x), t)
                extra = (u * x).sum()
                return loss
            """
        )
    )
    done = run(
        "derive",
        f"{model}:net",
        "--shape",
        "x=2x3",
        "--shape",
        "t=2x3",
        "--shape",
        "u=2x3",
        "--validate",
        "--out",
        str(tmp_path / "out"),
        "--emit-code",
        "torch",
    )
    assert done.returncode == 0, done.stderr
    assert ": match" in done.stdout and "Traceback" not in done.stderr
    code = next((tmp_path / "out").glob("*_backward.py")).read_text()
    assert "return L," in code


# --- reductions over dim=() follow PyTorch --------------------------------------------------------


@pytest.mark.tools
@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reduction_over_no_dims_reduces_every_dim_as_pytorch_does(op, keepdim):
    torch = require_torch()

    def net(x):
        return getattr(F.tanh(x), op)(dim=(), keepdim=keepdim) * 2

    def reference(x):
        return (getattr(torch.tanh(x), op)(dim=(), keepdim=keepdim) * 2).sum()

    d = symgrad.derive(net, x=(2, 3), loss="sum")
    assert d.prove().ok
    reduced = d.tensors[d.graph.nodes[1].output]
    assert reduced.shape == ((1, 1) if keepdim else ())
    values = {"x": randn(2, 3)}
    expected = autograd(reference, values, ("x",))["x"]
    assert torch.allclose(generated_gradients(d, values)["x"], expected, rtol=0, atol=1e-12)
    # the proven gradient too, in the tanh layer's values
    tanh = dict(zip(d.value("tanh").reshape(6).tolist(), torch.tanh(values["x"]).reshape(6).tolist()))
    proven = [float(g.subs(tanh)) for g in d.grad["x"].reshape(6).tolist()]
    assert proven == pytest.approx(expected.reshape(6).tolist(), abs=1e-12)


# --- the function's name is text, never markup or a path ------------------------------------------

HOSTILE = [
    "[click](javascript:alert(1))",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "../../../outside",
    r"\input{/etc/passwd}",
    "`code` *bold* $x$ \\(y\\)",
]


def named(name: str):
    def net(x):
        return F.tanh(x).sum()

    net.__name__ = name
    return net


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_function_name_is_escaped_in_every_format_and_never_a_path(name, tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    docutils_core = pytest.importorskip("docutils.core")
    d = symgrad.derive(named(name), x=(2,))
    out = tmp_path / "deep" / "out"
    paths = symgrad.write(d, out, formats="tex,html,fragment,jekyll,md,hugo")
    for path in paths:
        assert path.resolve().is_relative_to(out.resolve()), path
        if path.name != "symgrad.html":
            assert all(ch.isalnum() or ch in "-_." for ch in path.name), path.name
    for fmt in ("tex", "html", "fragment", "jekyll", "hugo", "md"):
        text = symgrad.render(d, fmt)
        if text.startswith("---\n"):  # a post's front matter is YAML, its title a quoted string
            text = text.split("\n---\n", 1)[1]
        body = text.split("This document derives", 1)[1].split("element by element", 1)[0]
        if fmt == "tex":
            assert r"\input{" not in body and "$x$" not in body
            continue
        if fmt != "md":  # HTML, which a site's Markdown engine may read again
            for markup in ("[", "]", "<script", "`", "*", "$x$", "\\("):
                assert markup not in body, (fmt, markup)
        if fmt != "html":
            page = markdown_it.MarkdownIt().render(text)
            assert 'href="javascript' not in page and "<script>alert" not in page, fmt
    rst = symgrad.render(d, "rst")
    page = docutils_core.publish_parts(rst, writer="html", settings_overrides={"report_level": 5})["body"]
    assert 'href="javascript' not in page and "<script>alert" not in page


def test_emitted_code_holds_any_function_name_as_a_string(tmp_path):
    d = symgrad.derive(named('x"""; import os; os.system("echo hacked"); """'), x=(2,))
    (path,) = emit(d, "torch", tmp_path)
    code = path.read_text()
    compile(code, str(path), "exec")
    namespace: dict = {}
    exec(code, namespace)  # defines the function and the name only; nothing runs
    assert namespace["NETWORK"] == d.function and "forward_backward" in namespace


# --- bad input is one error, never a traceback, and never built before it is sized ----------------


def slope_net(slope):
    return lambda x: F.leaky_relu(x, slope).sum()


def test_numpy_integers_are_accepted_as_exact_numbers():
    np = pytest.importorskip("numpy")

    def net(x, w):
        y = F.conv2d(x, w, stride=np.int64(1), padding=(np.int64(1), 1))
        z = F.reshape(F.leaky_relu(y, np.int64(0)), (np.int64(-1),))
        return (F.pow(z, np.int64(2)) * np.int32(3)).sum(dim=np.int64(0))

    d = symgrad.derive(net, x=(np.int64(1), 1, 2, 2), w=(1, 1, 2, 2), picks={"x": (np.int64(1), 1, 1, 2)})
    assert d.tensors["x"].shape == (1, 1, 2, 2) and type(d.tensors["x"].shape[0]) is int
    assert d.prove().ok
    nll = symgrad.derive(lambda x: F.nll_loss(F.log_softmax(x, np.int64(1)), [np.int64(0), 2]), x=(2, 3))
    assert nll.prove().ok


def test_exact_sympy_rational_eps_for_batch_norm():
    sympy = pytest.importorskip("sympy")

    def net(eps):
        return lambda x: (F.batch_norm(x, eps=eps) ** 2).sum()

    d = symgrad.derive(net(sympy.Rational(1, 100000)), x=(2, 2))
    assert d.prove().ok
    # the float 1e-5 is read as the decimal it prints as: the same network
    assert d.gradient("x") == symgrad.derive(net(1e-5), x=(2, 2)).gradient("x")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda np: symgrad.derive(slope_net(np.float64(0.5)), x=(2,)), "NumPy float"),
        (lambda np: symgrad.derive(lambda x: (x * np.float32(0.5)).sum(), x=(2,)), "not exact"),
        (lambda np: symgrad.derive(lambda x: F.batch_norm(x, eps=np.float64(1e-5)).sum(), x=(2, 2)), "NumPy float"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(10**30,)), "too large"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(100000, 100000)), "too large"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(2,), wrt=5), "wrt must name"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(True, 2)), "tuple of integers"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(2,), picks={"x": True}), "integer indices"),
        (lambda np: symgrad.derive(lambda x: x.sum(dim=True).sum(), x=(2, 3)), "dim must be"),
        (lambda np: symgrad.derive(lambda x: F.reshape(x, (True, 6)).sum(), x=(2, 3)), "must be integers"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(2,), picks=[1]), "picks must map"),
        (lambda np: symgrad.derive(lambda x: x.sum(), x=(2,), picks={"x": "a"}), "integer indices"),
        (lambda np: symgrad.derive(lambda x: F.reshape(x, (-2, -3)).sum(), x=(2, 3)), "at most one -1"),
        (lambda np: symgrad.derive(lambda x: F.reshape(x, (-1, -1)).sum(), x=(2, 3)), "at most one -1"),
        (lambda np: symgrad.derive(lambda x: F.reshape(x, (-1, 4)).sum(), x=(2, 3)), "cannot hold"),
        (lambda np: symgrad.derive(lambda x: F.reshape(x, (2.0, 3)).sum(), x=(2, 3)), "must be integers"),
        (lambda np: symgrad.derive(lambda x: x.sum(0, keepdim="yes").sum(), x=(2, 3)), "True or False"),
        (lambda np: symgrad.derive(lambda x: F.layer_norm(x, (3.0,)).sum(), x=(2, 3)), "normalized_shape"),
        (lambda np: symgrad.derive(lambda x: F.pow(x, 10**6).sum(), x=(2,)), "too large"),
        (
            lambda np: symgrad.derive(lambda x, w: F.conv2d(x, w, padding=10**6).sum(), x=(1, 1, 3, 3), w=(1, 1, 2, 2)),
            "conv2d in this network is too large",
        ),
        (
            lambda np: symgrad.derive(lambda x, w: F.linear(x, w).sum(), x=(30, 30), w=(30, 30), max_terms=10_000),
            "linear in this network is too large",
        ),
    ],
)
def test_bad_network_input_is_one_clear_error(call, message):
    np = pytest.importorskip("numpy")
    with pytest.raises(SymgradError, match=message):
        call(np)


def test_a_forward_function_that_raises_is_named_in_one_line():
    def broken_model(x):
        raise ValueError("shapes do not line up")

    with pytest.raises(SymgradError, match=r"broken_model raised ValueError: shapes do not line up"):
        symgrad.derive(broken_model, x=(2,))


def test_cli_refuses_bad_networks_in_one_line(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(
        textwrap.dedent(
            """
            import symgrad.functional as F

            def broken(x):
                raise RuntimeError("no")

            def padded(x, w):
                return F.conv2d(x, w, padding=10**6).sum()

            def wide(x):
                return x.sum()
            """
        )
    )
    for args, message in (
        (["broken", "--shape", "x=2"], "broken raised RuntimeError: no"),
        (["padded", "--shape", "x=1x1x3x3", "--shape", "w=1x1x2x2"], "too large"),
        (["wide", "--shape", "x=100000x100000"], "too large"),
    ):
        done = run("derive", f"{model}:{args[0]}", *args[1:], "--out", str(tmp_path / "out"))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def identity(x):
    return x


def chain(x):
    for _ in range(1500):
        x = x + 1
    return x.sum()


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.parametrize(
    "fn, shape, gradient",
    [(identity, (), "1"), (identity, (2,), "1/2"), (chain, (2,), "1")],  # L = x; mean of x; sum of x + 1500
)
def test_identity_and_long_chains_derive_render_and_validate(fn, shape, gradient, tmp_path):
    require_torch()
    d = symgrad.derive(fn, x=shape)
    assert d.prove().ok
    symgrad.write(d, tmp_path, formats="all")
    assert validate(d).ok
    assert symgrad.check(d, "x", f"x * 0 + {gradient}").ok
    assert not symgrad.check(d, "x", f"x * 0 + 2 * {gradient}").ok


# --- what pdflatex sets: names in formulas, math characters in titles ----------------------------


def test_a_tensor_name_pdflatex_cannot_set_is_refused_for_pdflatex(tmp_path):
    def net(中文, t):
        return F.mse_loss(F.tanh(中文), t)

    d = symgrad.derive(net, 中文=(2,), t=(2,))
    with pytest.raises(SymgradError, match="'中文' has letters pdflatex cannot set"):
        symgrad.write(d, tmp_path / "a", formats="tex")
    assert not (tmp_path / "a").exists() or not list((tmp_path / "a").iterdir())
    symgrad.write(d, tmp_path / "b", formats="html,md")  # the other formats set any name
    named_layer = symgrad.derive(lambda x: F.tanh(x, name="é").sum(), x=(2,))
    with pytest.raises(SymgradError, match="'é'"):
        symgrad.render(named_layer, "tex")


def test_cli_refuses_a_name_pdflatex_cannot_set_in_one_line(tmp_path):
    model = tmp_path / "model.py"
    model.write_text(
        "import symgrad.functional as F\n\ndef net(中文):\n    return F.tanh(中文).sum()\n", encoding="utf-8"
    )
    done = run("derive", f"{model}:net", "--shape", "中文=2", "--format", "tex", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pdflatex cannot set" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.tools
@pytest.mark.slow
def test_math_characters_in_a_title_and_a_latin_name_compile_with_pdflatex(tmp_path):
    from .checkers import compile_tex

    def réseau_ε(x):
        return F.tanh(x).sum()

    d = symgrad.derive(réseau_ε, x=(2,))
    title = "∂L/∂x ≤ ε → α·β − γ×δ, √n ∑ Ω ≥ ω"
    (path,) = symgrad.write(d, tmp_path, formats="tex", title=title)
    text = path.read_text()
    assert r"\title{\ensuremath{\partial}L/\ensuremath{\partial}x \ensuremath{\leq} \ensuremath{\varepsilon}" in text
    assert r"r\'eseau" in text or "réseau" in text
    done = compile_tex(path)
    assert done.returncode == 0, done.stdout[-2000:]
    assert path.with_suffix(".pdf").is_file()


# --- every closed form shown with a check mark is the one checked --------------------------------

G = r"\frac{\partial L}{\partial \boldsymbol{%s}}"
X, W, B, T = (rf"\boldsymbol{{{n}}}" for n in "xwbt")
TANH = r"\boldsymbol{\mathrm{tanh}}"
MEAN, SUM = r"\mathrm{mean}", r"\mathrm{sum}"
GPOW, GLEAKY = G % r"\mathrm{pow}", G % r"\mathrm{leaky\_relu}"

# (network, shapes, {(layer index, tensor): the closed form written out by hand})
CLOSED_CASES = {
    "linear, matrix input, bias": (
        lambda x, w, b: F.tanh(F.linear(x, w, b)).sum(),
        dict(x=(2, 3), w=(4, 3), b=(4,)),
        {
            (1, "x"): rf"{G % 'z'} {W}",
            (1, "w"): rf"\left({G % 'z'}\right)^{{T}} {X}",
            (1, "b"): rf"\textstyle\sum_{{\text{{rows}}}} {G % 'z'}",
        },
    ),
    "linear, vector input, bias": (
        lambda x, w, b: F.tanh(F.linear(x, w, b)).sum(),
        dict(x=(3,), w=(4, 3), b=(4,)),
        {(1, "x"): rf"{W}^{{T}} {G % 'z'}", (1, "w"): rf"{G % 'z'} \otimes {X}", (1, "b"): G % "z"},
    ),
    "linear, vector input, no bias": (
        lambda x, w: F.tanh(F.linear(x, w)).sum(),
        dict(x=(3,), w=(2, 3)),
        {(1, "w"): rf"{G % 'z'} \otimes {X}"},
    ),
    "mse mean": (
        lambda x, t: F.mse_loss(F.tanh(x), t),
        dict(x=(2, 3), t=(2, 3)),
        {
            (2, "tanh"): rf"\tfrac{{1}}{{3}} ({TANH} - {T}) {G % 'L'}",
            (2, "t"): rf"-\tfrac{{1}}{{3}} ({TANH} - {T}) {G % 'L'}",
        },
    ),
    "mse sum": (
        lambda x, t: F.mse_loss(F.tanh(x), t, reduction="sum"),
        dict(x=(2, 3), t=(2, 3)),
        {(2, "tanh"): rf"2 ({TANH} - {T}) {G % 'L'}", (2, "t"): rf"-2 ({TANH} - {T}) {G % 'L'}"},
    ),
    "mean over a dim": (
        lambda x: F.tanh(x).mean(dim=1).sum(),
        dict(x=(2, 5)),
        {(2, "tanh"): rf"\tfrac{{1}}{{5}}\, {G % MEAN}\, \mathbf{{1}}"},
    ),
    "mean over every dim": (
        lambda x: F.tanh(x).mean(dim=()) * 1,
        dict(x=(2, 3)),
        {(2, "tanh"): rf"\tfrac{{1}}{{6}}\, {G % MEAN}\, \mathbf{{1}}"},
    ),
    "sum": (
        lambda x: F.tanh(x).sum(dim=0, keepdim=True).sum(),
        dict(x=(2, 3)),
        {(2, "tanh"): rf"{G % SUM}\, \mathbf{{1}}"},
    ),
    "pow 3": (
        lambda x: F.pow(x, 3).sum(),
        dict(x=(2,)),
        {(1, "x"): rf"3\, {GPOW} \odot {X}^{{2}}"},
    ),
    "pow -1/2": (
        lambda x: F.pow(x, -0.5).sum(),
        dict(x=(2,)),
        {(1, "x"): rf"-\tfrac{{1}}{{2}}\, {GPOW} \odot {X}^{{-3/2}}"},
    ),
    "leaky relu": (
        lambda x: F.leaky_relu(x, 0.02).sum(),
        dict(x=(2,)),
        {(1, "x"): rf"{GLEAKY} \odot \bigl([{X} > 0] + \tfrac{{1}}{{50}}\,[{X} \le 0]\bigr)"},
    ),
}


@pytest.mark.parametrize("case", CLOSED_CASES)
def test_each_closed_form_shown_is_the_one_computed_for_its_options(case):
    net, shapes, expected = CLOSED_CASES[case]
    d = symgrad.derive(net, **shapes)
    for (layer, tensor), form in expected.items():
        (step,) = d.equations[f"closed_{layer}_{tensor}"].steps
        assert step.rhs.name == form, (layer, tensor)
    assert d.prove().ok


def test_a_closed_form_shown_for_other_options_is_refuted():
    """The prover checks the text too: the mean's 1/N shown beside a sum loss is not accepted."""
    from symgrad.chain.derivation import Step
    from symgrad.network.presentation import check_closed

    d = symgrad.derive(lambda x, t: F.mse_loss(F.tanh(x), t, reduction="sum"), x=(2, 3), t=(2, 3))
    (step,) = d.equations["closed_2_tanh"].steps
    assert check_closed(d, step) is None
    wrong = Step(step.lhs, sympy_symbol(rf"\tfrac{{1}}{{3}} ({TANH} - {T}) {G % 'L'}"), step.rule)
    assert "not the one written" in check_closed(d, wrong)


def sympy_symbol(text):
    import sympy

    return sympy.Symbol(text)


@pytest.mark.tools
@pytest.mark.parametrize("bias", [False, True])
def test_vector_linear_backward_code_matches_autograd(bias):
    torch = require_torch()
    tf = torch.nn.functional

    def net(F):
        return lambda x, w, b=None: F.tanh(F.linear(x, w, b) if bias else F.linear(x, w)).sum()

    shapes = dict(x=(3,), w=(4, 3), b=(4,)) if bias else dict(x=(3,), w=(4, 3))
    d = symgrad.derive(net(F), **shapes) if bias else symgrad.derive(lambda x, w: net(F)(x, w), **shapes)
    values = {k: randn(*s, seed=i) for i, (k, s) in enumerate(shapes.items())}
    ours = generated_gradients(d, values)
    theirs = autograd(net(tf), values, tuple(shapes))
    for name in shapes:
        assert torch.allclose(ours[name], theirs[name], rtol=0, atol=1e-12), name


def test_a_compound_layer_form_shown_differs_from_the_proven_one_is_rejected():
    from symgrad.chain.derivation import Step
    from symgrad.prove.network import check_block

    d = symgrad.derive(lambda x: (F.softmax(x, 1) ** 2).sum(), x=(2, 3))
    key = next(k for k in d.equations if k.startswith("block_"))
    (step,) = d.equations[key].steps
    assert check_block(d, step) is None
    altered = Step(step.lhs, sympy_symbol(step.rhs.name.replace("-", "+", 1)), step.rule)
    assert "not the one proven" in check_block(d, altered)


def test_latex_inline_of_a_network_is_refused_in_one_error():
    d = symgrad.derive(identity, x=(2, 3))
    with pytest.raises(SymgradError, match="latex-inline"):
        symgrad.render(d, "latex-inline")
    assert "derives the backward pass" in symgrad.render(d, "md")


def test_a_function_name_with_control_characters_or_a_multiline_error_stays_one_line():
    with pytest.raises(SymgradError, match="control characters"):
        symgrad.derive(named("net\n\x1b[2J"), x=(2,))

    def noisy(x):
        raise ValueError("first line\nsecond line")

    with pytest.raises(SymgradError) as caught:
        symgrad.derive(noisy, x=(2,))
    assert "\n" not in str(caught.value) and "first line second line" in str(caught.value)


@pytest.mark.parametrize("dim", [(0, 0), (0, -2), (1, -1)])
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_dim_given_twice_is_refused_as_pytorch_refuses_it(reduce, dim):
    # torch.ones(2, 3).sum(dim=(0, -2)) raises "dim 0 appears multiple times in the list of dims"
    with pytest.raises(SymgradError, match="appears more than once"):
        symgrad.derive(lambda x: getattr(F, reduce)(x * x, dim=dim).sum(), x=(2, 3))
