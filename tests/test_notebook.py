"""symgrad in an executed Jupyter notebook: a kernel runs the cells, as a reader's notebook does,
and what it sends back is checked as Jupyter receives it (the mime bundles of each result), then
shown in Chromium with MathJax configured as Jupyter configures it ($ as well as \\( delimiters).

The rich views themselves are tested method by method in test_evaluate_display.py; this checks
that a real kernel picks them, for an op's preset, a network and a refuted claim.
"""

from __future__ import annotations

import html as html_module
import re

import pytest

from .checkers import LOCAL_MATHJAX, ROOT, html_formulas, typeset
from .conftest import require
from .test_tools import browser  # noqa: F401  (the module's Chromium, a fixture)

pytestmark = pytest.mark.tools

CELLS = [
    "import symgrad\nfrom symgrad import functional as F",
    "symgrad.matmul(2, 4, 3)",
    "net = symgrad.derive(lambda x, w: F.sigmoid(x @ w), x=(2, 3), w=(3, 2))\nnet",
    # the claim drops the factor 1 - s of the sigmoid's derivative
    'symgrad.check(net, "w", "x.T @ (ds * s)")',
    'symgrad.check(net, "w", "x.T @ dmatmul")',
]

# MathJax as Jupyter (the classic notebook and JupyterLab) sets it up: $...$ is inline math too
JUPYTER_MATHJAX = """
window.MathJax = {tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
                        processEscapes: true, packages: {"[-]": ["noundefined", "noerrors"]}}};
"""


def _imports():
    try:
        import nbclient
        import nbformat
    except ImportError:
        nbclient = nbformat = None
    require("nbclient and nbformat", nbclient is not None, "pip install '.[test]'")
    try:
        import ipykernel
    except ImportError:
        ipykernel = None
    require("ipykernel", ipykernel is not None, "pip install '.[test]'")
    return nbclient, nbformat


@pytest.fixture(scope="module")
def results() -> list[dict]:
    """The mime bundle of each cell's result, from a notebook executed by a real kernel."""
    nbclient, nbformat = _imports()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    # the kernel starts in the repository, so it imports this checkout's symgrad
    where = {"metadata": {"path": str(ROOT)}}
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources=where)
    client.execute()  # a cell that raises, or a view that raises inside Jupyter's formatter, fails here
    out = []
    for cell in nb.cells[1:]:
        (result,) = [o for o in cell.outputs if o.output_type == "execute_result"]
        assert not [o for o in cell.outputs if o.output_type in ("error", "stream") and o.get("name") != "stdout"]
        out.append(dict(result.data))
    return out


def test_every_result_has_a_rich_view_and_no_bare_object(results):
    assert len(results) == 4
    for bundle in results:
        assert "text/html" in bundle and "text/plain" in bundle
        for text in bundle.values():
            assert "object at 0x" not in text
    matmul, network, _, proven = results
    assert 'class="alert alert-secondary equation"' in matmul["text/html"]
    assert matmul["text/markdown"].startswith("# Matrix multiplication")
    # the network's document, with its computation graph drawn
    assert "Backpropagation through" in network["text/markdown"]
    assert "<svg" in network["text/html"] and "Graph object" not in network["text/plain"]
    assert "<strong>Proven</strong>: 6 element equalities" in proven["text/html"]


def test_a_refuted_claim_shows_its_verdict_and_counterexample_typeset(results):
    refuted = results[2]["text/html"]
    assert "<strong>Refuted</strong>: 6 element equalities" in refuted
    assert "Proof(" not in refuted and "Counterexample(" not in refuted
    formulas, rest = html_formulas(refuted)
    # no TeX outside a formula: the entry, both sides and the point are all typeset
    assert "\\" not in rest and "_{" not in rest and "$" not in rest, rest
    tex = [t for t, _ in formulas]
    assert r"\frac{\partial L}{\partial w_{11}}" in tex
    assert any(r"s_{11}^{2}" in t for t in tex)  # the chain rule's side, with the factor the claim lacks
    assert any(t.startswith("x_{11} = ") and r"\frac{" in t for t in tex)  # the point, in fractions
    assert r"\(1.28174603166\)" in refuted  # what the claim gives there


def _page(bundles: list[dict]) -> str:
    """The results as a notebook shows them: each html view in an output area, MathJax as Jupyter sets it."""
    body = "\n".join(f'<div class="output_area">{b["text/html"]}</div>' for b in bundles)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<script>{JUPYTER_MATHJAX}</script>"
        f'<script id="MathJax-script" async src="{html_module.escape(LOCAL_MATHJAX.as_uri())}"></script>'
        f'</head><body style="max-width: 60rem">{body}</body></html>'
    )


def test_the_notebook_results_typeset_in_chromium_with_jupyters_mathjax(results, browser, tmp_path):  # noqa: F811
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    path = tmp_path / "notebook.html"
    path.write_text(_page(results), encoding="utf-8")
    # every formula the views hold, and nothing else: a stray $ in the text would be typeset as math too
    expected = sum(len(html_formulas(b["text/html"])[0]) for b in results)
    assert not any(re.search(r"(?<!\\)\$", html_formulas(b["text/html"])[1]) for b in results)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    result = typeset(page, path.as_uri())
    page.close()
    assert result["errors"] == 0
    assert result["containers"] == expected > 20
    assert "\\(" not in result["text"] and "\\[" not in result["text"]


def test_the_chromium_check_sees_a_formula_that_fails_to_typeset(results, browser, tmp_path):  # noqa: F811
    """A view whose counterexample holds a macro MathJax does not know fails the check above."""
    broken = [dict(b) for b in results]
    broken[2]["text/html"] = broken[2]["text/html"].replace(r"\frac{\partial L}{\partial w_{11}}", r"\fracc{w}", 1)
    path = tmp_path / "broken.html"
    path.write_text(_page(broken), encoding="utf-8")
    page = browser.new_page()
    result = typeset(page, path.as_uri())
    page.close()
    assert result["errors"] >= 1
