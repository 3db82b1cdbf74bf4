"""Networks: the returned loss is the one derived, coded and validated; reductions, names,
sizes and numbers follow PyTorch or are refused with one clear error; every closed form shown
with a check mark is the one checked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import symgrad
import symgrad.functional as F
from symgrad.render.network_code import backward_lines, forward_lines, validate

from .conftest import require_torch


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True, text=True, cwd=cwd)


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
    assert "agree" in done.stdout and "Traceback" not in done.stderr
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
    page = docutils_core.publish_parts(rst, writer_name="html", settings_overrides={"report_level": 5})["body"]
    assert 'href="javascript' not in page and "<script>alert" not in page


def test_emitted_code_holds_any_function_name_as_a_string(tmp_path):
    d = symgrad.derive(named('x"""\nimport os; os.system("echo hacked")\n"""'), x=(2,))
    from symgrad.network_cli import emit_network

    (path,) = emit_network(d, tmp_path)
    code = path.read_text()
    compile(code, str(path), "exec")
    namespace: dict = {}
    exec(code, namespace)  # defines the function and the name only; nothing runs
    assert namespace["NETWORK"] == d.function and "forward_backward" in namespace
