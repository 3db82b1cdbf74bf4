"""Rendering: the printer's exact strings, document structure, escaping, elision, determinism."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from sympy.matrices.expressions import MatrixSymbol

import symgrad
from symgrad.chain import rules as R
from symgrad.chain.derivation import GeneralMatrix, TensorView
from symgrad.core.tensor import PolyTensor
from symgrad.publish.documents import FORMATS
from symgrad.publish.latex import to_latex

from .checkers import ROOT, html_formulas, md_formulas
from .conftest import require_program

S = sympy.Symbol
a23, b31, c21 = S("a_{23}"), S("b_{31}"), S("c_{21}")


@pytest.fixture(scope="module")
def ref():
    return symgrad.matmul(2, 4, 3, "mean")


@pytest.mark.parametrize(
    "expr, settings, expected",
    [
        (a23, {}, "a_{23}"),
        (S("a_{2,13}"), {}, "a_{2,13}"),
        (sympy.Derivative(c21, a23), {}, r"\frac{\partial c_{21}}{\partial a_{23}}"),
        (sympy.Derivative(a23 * b31, a23), {}, r"\frac{\partial}{\partial a_{23}}\bigl(a_{23} b_{31}\bigr)"),
        (S(r"\frac{\partial L}{\partial c_{21}}"), {}, r"\frac{\partial L}{\partial c_{21}}"),
        (
            sympy.Add(0, 0, sympy.Derivative(a23 * b31, a23), 0, evaluate=False),
            {},
            r"0 + 0 + \frac{\partial}{\partial a_{23}}\bigl(a_{23} b_{31}\bigr) + 0",
        ),
        (a23, {"highlight": frozenset({a23})}, r"{\color{red}{a_{23}}}"),
        (sympy.Indexed("c", S("i"), S("j")), {}, "c_{ij}"),
        (
            sympy.Sum(sympy.Indexed("a", S("i"), S("t")) * sympy.Indexed("b", S("t"), S("j")), (S("t"), 1, S("k"))),
            {},
            r"\sum_{t=1}^{k} a_{it} b_{tj}",
        ),
        (MatrixSymbol("A", 2, 2), {}, r"\boldsymbol{A}"),
        (
            MatrixSymbol("G", 2, 3) * MatrixSymbol("B", 4, 3).T,
            {"matrix_names": {"G": r"\frac{\partial L}{\partial \boldsymbol{C}}"}},
            r"\frac{\partial L}{\partial \boldsymbol{C}} {\boldsymbol{B}^{T}}",
        ),
        (
            GeneralMatrix("a", "m", "k"),
            {},
            r"\left[\begin{array}{cccc}a_{11} & a_{12} & \ldots & a_{1k} \\ a_{21} & a_{22} & \ldots & a_{2k} \\ "
            r"\vdots & \vdots & \ddots & \vdots \\ a_{m1} & a_{m2} & \ldots & a_{mk}\end{array}\right]",
        ),
    ],
)
def test_printer(expr, settings, expected):
    assert to_latex(expr, **settings) == expected


def test_explicit_matrix_as_the_reference_lays_it_out(ref):
    view = TensorView("A", PolyTensor.of_symbols(ref.input_tensors["A"]), ref.registry)
    assert to_latex(view) == (
        r"\left[\begin{array}{cccc}a_{11} & a_{12} & a_{13} & a_{14} \\ "
        r"a_{21} & a_{22} & a_{23} & a_{24}\end{array}\right]"
    )


def test_large_matrices_and_sums_are_elided():
    d = symgrad.matmul(8, 9, 7, "generic")
    view = TensorView("A", PolyTensor.of_symbols(d.input_tensors["A"]), d.registry)
    tex = to_latex(view, display_limit=6)
    rows = tex.split(r"\\")
    assert len(rows) == 6 and rows[4].strip().startswith(r"\vdots") and r"\ddots" in rows[4]
    assert rows[0].count("&") == 5 and r"\cdots" in rows[0] and "a_{19}" in rows[0]
    assert "a_{8,9}" not in tex and "a_{89}" in tex
    long_sum = sympy.Add(*[S(f"x_{{{i}}}") for i in range(1, 13)], evaluate=False)
    assert to_latex(long_sum, display_limit=6) == r"x_{1} + x_{2} + x_{3} + x_{4} + x_{5} + x_{6} + \cdots + x_{12}"


ORDER = [
    "general_inputs",
    "general_product",
    "entry",
    "loss_definition",
    "chain_general",
    "inputs",
    "product",
    "local_A",
    "chain_A",
    "grad_A",
    "regroup_A",
    "identity_A",
    "local_B",
    "chain_B",
    "grad_B",
    "regroup_B",
    "identity_B",
    "loss",
    "pick_value_A",
    "pick_value_B",
    "values_A",
    "values_B",
    "general_result",
]


def test_document_follows_the_hand_derivation(ref):
    page = symgrad.render(ref, "fragment")
    assert re.findall(r'id="eq-([^"]+)"', page) == ORDER
    number_spans = r'<span class="ref-num"[^>]*> \((\d+)\) </span>'
    numbers = [int(n) for n in re.findall(number_spans, page)]
    assert numbers == list(range(1, len(ORDER) + 1))
    referenced = {int(n) for n in re.findall(r"\((\d+)\)", re.sub(number_spans, "", page))}
    assert referenced <= set(numbers)
    assert r"{\color{red}{a_{23}}}" in page and r"{\color{red}{b_{12}}}" in page
    # definitions and computed results carry no check mark: only steps that were checked do
    unmarked = (R.NOTATION, R.EVERY_ELEMENT, R.LOSS_SUBSTITUTED)
    shown = [s for k, eq in ref.equations.items() if k in ORDER for s in eq.steps]
    assert page.count("&#10003;") == sum(s.rule not in unmarked for s in shown) == 37
    assert ref.prove().shown == sum(s.rule in unmarked for s in shown) == 7
    for heading in ["Matrix multiplication", "The chain rule", "Implementation", "Summary", "Proof certificate"]:
        assert heading in page
    assert "grad_A = grad_C.mm(B.t())" in page and "grad_B = A.t().mm(grad_C)" in page
    assert "grad_C = torch.ones(C.shape, dtype=torch.float64) / C.numel()" in page
    assert f"Checked with SymPy {sympy.__version__}" in page
    # 2·4 + 4·3 elements with G symbolic; 2·3 upstream entries; 46 recorded lines, 7 of them unchecked
    assert "20 element equalities" in page and "6 entries of the upstream gradient" in page
    assert "39 recorded steps" in page and "The 7 lines without a check mark" in page


def test_tex_refers_by_label(ref):
    tex = symgrad.render(ref, "tex")
    # \sgbegin{key} labels the equation's first row (tex.j2)
    labels = re.findall(r"\\sgbegin\{([^}]+)\}", tex)
    assert labels == ORDER
    assert set(re.findall(r"\\eqref\{eq:([^}]+)\}", tex)) <= set(labels)


def test_loss_values_in_the_document():
    assert r"\frac{1}{6}" in symgrad.render(symgrad.matmul(2, 4, 3, "mean"), "md")
    generic = symgrad.render(symgrad.matmul(2, 4, 3, "generic"), "md")
    assert r"\frac{b_{31}}{6}" not in generic and "handed in by the layer above" in generic


HOSTILE = "<script>alert(1)</script> \\input{/etc/passwd} } {{ x }} {% raw %} a: \"b\" 'c' #1 $5 & 10%"


def test_hostile_title_is_escaped_in_every_format(ref):
    html = symgrad.render(ref, "html", title=HOSTILE, author=HOSTILE)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tex = symgrad.render(ref, "tex", title=HOSTILE, author=HOSTILE)
    assert r"\input{" not in tex and r"\textbackslash{}input\{/etc/passwd\} \}" in tex
    assert r"\$5 \& 10\%" in tex
    md = symgrad.render(ref, "md", title=HOSTILE)
    assert "<script>" not in md.splitlines()[0]
    jekyll = symgrad.render(ref, "jekyll", title=HOSTILE, author=HOSTILE)
    yaml = pytest.importorskip("yaml")
    front = yaml.safe_load(jekyll.split("---\n")[1])
    # the same text, with a zero-width space after each backslash and dollar so that no theme's
    # MathJax reads it as mathematics
    assert front["title"].replace("\u200b", "") == HOSTILE and front["author"].replace("\u200b", "") == HOSTILE
    assert front["layout"] == "post" and front["mathjax"] is True and front["categories"] == ["symgrad"]


@pytest.mark.parametrize("fmt", ["jekyll", "fragment"])
@pytest.mark.parametrize("sizes", [(2, 4, 3), (12, 12, 12), (1, 1, 1)])
def test_no_liquid_markup(fmt, sizes):
    page = symgrad.render(symgrad.matmul(*sizes), fmt)
    body = page.split("---\n", 2)[-1]
    assert "{{" not in body and "{%" not in body


def test_formulas_have_balanced_braces_and_delimiters(ref):
    for fmt in ("html", "fragment", "jekyll", "md"):
        page = symgrad.render(ref, fmt)
        found, rest = md_formulas(page) if fmt == "md" else html_formulas(page)
        assert found and "\\(" not in rest
        for tex, _ in found:
            depth = 0
            for ch in tex.replace(r"\{", "").replace(r"\}", ""):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                assert depth >= 0, tex
            assert depth == 0, tex
            assert tex.count(r"\left") == tex.count(r"\right"), tex
            assert tex.count(r"\begin") == tex.count(r"\end"), tex


@pytest.mark.slow
def test_same_inputs_same_bytes(tmp_path):
    for fmt in FORMATS:
        a = symgrad.render(symgrad.matmul(3, 2, 5, "sum"), fmt)
        b = symgrad.render(symgrad.matmul(3, 2, 5, "sum"), fmt)
        assert a == b
    runs = []
    for i in range(2):
        out = tmp_path / str(i)
        subprocess.run([sys.executable, "-m", "symgrad", "matmul", "--out", str(out)], check=True, capture_output=True)
        runs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert runs[0] == runs[1] and len(runs[0]) == len(FORMATS)


def test_date_and_author_come_from_the_caller(ref):
    md = symgrad.render(ref, "md", author="Ada", date="2024-05-01")
    assert "*Ada · 2024-05-01*" in md
    assert "date: 2000-01-01 00:00:00 +0000" in symgrad.render(ref, "jekyll")


@pytest.mark.slow
def test_gallery_is_up_to_date(tmp_path):
    """output/ must be what `symgrad gallery` writes now; regenerate it with that command. The
    network documents' figures are laid out by Graphviz's dot, without which they differ."""
    from symgrad.gallery import build

    require_program("dot", "apt-get install graphviz")

    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in build(tmp_path)}
    committed = {p.relative_to(ROOT / "output"): p.read_bytes() for p in (ROOT / "output").rglob("*") if p.is_file()}
    stale = sorted(str(p) for p in fresh if committed.get(p) != fresh[p])
    assert not stale, f"run `symgrad gallery`: stale {stale}"
    assert set(committed) == set(fresh)


@pytest.mark.slow
def test_a_64_cubed_document_stays_small_and_reports_the_full_proof():
    d = symgrad.matmul(64, 64, 64, "generic")
    for fmt in FORMATS:
        page = symgrad.render(d, fmt)
        assert len(page.encode()) < 200_000, (fmt, len(page))
        assert "8192 element equalities" in page


def test_write_returns_paths_and_leaves_no_temporary_files(ref, tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    paths = symgrad.write(ref, tmp_path, ["md", "tex"])
    assert [p.name for p in paths] == ["matmul-2x4x3.md", "matmul-2x4x3.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matmul-2x4x3.md", "matmul-2x4x3.tex", "mine.txt"]


def test_a_failed_render_writes_nothing(ref, tmp_path):
    with pytest.raises(symgrad.SymgradError, match="date"):
        symgrad.write(ref, tmp_path / "out", "all", date="2024-02-30")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fmt": "pdf"}, "unknown format 'pdf'"),
        ({"fmt": "md", "display_limit": 2}, "display limit"),
        ({"fmt": "md", "title": "  "}, "title must not be empty"),
    ],
)
def test_render_errors(ref, kwargs, message):
    with pytest.raises(symgrad.SymgradError, match=message):
        symgrad.render(ref, **kwargs)


def test_jupyter_views(ref):
    latex = ref._repr_latex_()
    assert latex.startswith("$$") and r"\frac{\partial L}{\partial \boldsymbol{A}}" in latex
    assert "proven for every element" in latex
    assert 'class="alert alert-secondary equation"' in ref._repr_html_()
    assert ref._repr_markdown_().startswith("# Matrix multiplication")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """symgrad's wheel, built once for the tests that read or install it."""
    wheels = tmp_path_factory.mktemp("wheels")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (found,) = wheels.glob("symgrad-*.whl")
    return found


@pytest.mark.slow
@pytest.mark.xdist_group("wheel")  # one worker builds the wheel once
def test_the_built_wheel_carries_its_templates(wheel, tmp_path):
    """Build a wheel, install it in a fresh venv, render from outside the checkout."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
        capture_output=True,
    )
    script = (
        "import symgrad, pathlib; d = symgrad.matmul(2, 2, 2);"
        "print(symgrad.__file__); print(len(symgrad.render(d, 'tex')))"
    )
    done = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    location, size = done.stdout.split()
    assert location.startswith(str(venv)) and int(size) > 5000
    cli = subprocess.run([str(venv / "bin" / "symgrad")], cwd=tmp_path, capture_output=True, text=True)
    assert cli.returncode == 0 and (tmp_path / "output" / "matmul-2x4x3" / "matmul-2x4x3.html").is_file()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/mathjax/tex-chtml.js",
        "file:///opt/mj/tex-chtml.js",
        "vendor/mathjax/tex-chtml-full.js",
        "../mj.js",
    ],
)
def test_mathjax_urls_that_are_accepted(url):
    assert f'src="{url}"' in symgrad.render(symgrad.matmul(1, 1, 1), "html", mathjax_url=url)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/javascript,1", 'x.js" onload="alert(1)', "//cdn.example.org/x.js", "", "a b.js"],
)
def test_mathjax_urls_that_are_refused(url):
    with pytest.raises(symgrad.SymgradError, match="MathJax URL"):
        symgrad.render(symgrad.matmul(1, 1, 1), "html", mathjax_url=url)


def test_a_missing_local_mathjax_leaves_the_folder_alone(tmp_path, monkeypatch):
    from symgrad.publish import mathjax

    def nowhere():
        raise symgrad.SymgradError("no local MathJax 3 found")

    monkeypatch.setattr(mathjax, "find_bundle", nowhere)
    import symgrad.publish.writer as writer

    monkeypatch.setattr(writer, "find_bundle", nowhere)
    (tmp_path / "mine.txt").write_text("mine")
    with pytest.raises(symgrad.SymgradError, match="no local MathJax"):
        symgrad.write(symgrad.matmul(1, 1, 1), tmp_path, "html", mathjax_url="local")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_the_pieces_a_browser_wraps_between_read_as_the_whole_formula():
    """Set side by side, an equation's pieces are its formula: each sign kept once, nothing lost;
    a product's factors after the first each carry the dot that starts a row when the page wraps
    between them (the formula as printed sets them side by side)."""
    from symgrad.publish.latex import SymgradLatexPrinter

    def joined(parts):
        parts = [p.removeprefix("{} \\cdot ").removeprefix("{} ") for p in parts]
        return " ".join(parts).replace("; \\ ", ";\\ ").replace(", \\ ", ",\\ ")

    ds = [symgrad.matmul(2, 4, 3, "generic"), symgrad.matmul(3, 9, 2), symgrad.conv_transpose2d()]
    ds.append(symgrad.conv2d((1, 2, 4, 4), (2, 2, 2, 2), stride=2, padding=1))
    split = dotted = 0
    for d in ds:
        for equation in d.equations.values():
            for step in equation.steps:
                for expr in (step.lhs, step.rhs):
                    printer = SymgradLatexPrinter({"highlight": step.highlight})
                    parts = printer.parts(expr)
                    split += len(parts) > 1
                    dotted += isinstance(expr, sympy.MatMul)
                    if isinstance(expr, sympy.MatMul):
                        assert all(p.startswith("{} \\cdot ") for p in parts[1:]), parts
                    assert " ".join(joined(parts).split()) == " ".join(printer.doprint(expr).split())
    assert split > 20 and dotted > 2
    a, b = sympy.symbols("a b")
    negative = SymgradLatexPrinter({}).parts(sympy.Add(a, -2 * b, evaluate=False))
    assert negative == ["a", "{} - 2 b"]


def test_the_screenshots_in_docs_show_the_documents_as_they_are_now():
    """docs/screenshots.json records what the pictures were taken from; a change to a template
    that alters the reference documents makes them stale until scripts/screenshots.py is run."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    record = json.loads((ROOT / "docs" / "screenshots.json").read_text())
    assert record["pictures"] == screenshots.PICTURES
    for name in record["pictures"].values():
        assert (ROOT / "docs" / name).stat().st_size > 20_000, name
    assert record["digest"] == screenshots.digest(), "run .venv/bin/python scripts/screenshots.py"


def test_local_mathjax_comes_with_the_package(tmp_path, monkeypatch):
    from symgrad.publish import mathjax

    monkeypatch.delenv("SYMGRAD_MATHJAX", raising=False)
    monkeypatch.chdir(tmp_path)  # no node_modules here
    folder = mathjax.find_bundle()
    assert folder == Path(symgrad.__file__).parent / "mathjax"
    assert (folder / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert len(list((folder / mathjax.FONTS).glob("*.woff"))) == 23


def test_a_wrong_mathjax_folder_is_named_not_ignored(tmp_path, monkeypatch):
    from symgrad.publish import mathjax

    monkeypatch.setenv("SYMGRAD_MATHJAX", str(tmp_path))
    with pytest.raises(symgrad.SymgradError, match=r"SYMGRAD_MATHJAX=.*does not hold MathJax 3"):
        mathjax.find_bundle()


@pytest.mark.slow
@pytest.mark.xdist_group("wheel")  # one worker builds the wheel once
def test_the_wheel_carries_mathjax(wheel):
    """A pip user gets `--mathjax local` without npm: the wheel holds the bundle, fonts and licence."""
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"symgrad/mathjax/tex-chtml-full.js", "symgrad/mathjax/LICENSE"} <= names
    assert sum(n.startswith("symgrad/mathjax/output/chtml/fonts/woff-v2/") for n in names) == 23


def test_attention_writes_its_intermediates_as_what_they_are():
    """kᵀ and √d, not tensors named "transpose" and "sqrt" (whose reciprocal printed as 1/sqrt);
    √4 as 2; the constant d stated; a transpose of a fraction in parentheses."""
    import symgrad.functional as F

    def head(q, k, v, t):
        return F.mse_loss(F.scaled_dot_product_attention(q, k, v, name="o"), t)

    for width, root in ((4, "/ 2"), (2, r"\oslash \sqrt{d}")):
        d = symgrad.derive(head, q=(2, width), k=(3, width), v=(3, 2), t=(2, 2))
        page = symgrad.render(d, "md")
        assert r"\mathrm{transpose}" not in page and r"\mathrm{sqrt" not in page and r"\sqrt{4}" not in page
        assert r"\boldsymbol{k}^{T}" in page and "k^{T}_{" in page and root in page
        assert r"\left(\frac{\partial L}{\partial \boldsymbol{\mathrm{o\_s}}}\right)^{T}" in page
        assert ("The network holds a constant: $d = 2$." in page) == (width == 2)
        assert d.prove().ok


def test_a_reciprocal_goes_below_the_bar_and_no_fraction_sits_in_another():
    from symgrad.publish.latex import to_latex

    r, s, e, t = sympy.symbols(r"\frac{1}{s_{1}} s_{1} e_{1} t_{1}")
    assert to_latex(-(r**2) * e * t / 4) == r"- \frac{e_{1} t_{1}}{4 s_{1}^{2}}"
    assert to_latex(r * s) == r"\frac{s_{1}}{s_{1}}"  # shown as written, never cancelled
    upstream = sympy.Symbol(r"\frac{\partial L}{\partial \mu}")
    assert to_latex(upstream * e / 4) == r"\frac{\partial L}{\partial \mu} \frac{e_{1}}{4}"


# An entry written with indices (a_{11}, \mathrm{bn\_xhat}_{1,2,1}, with a power or not), and two of
# them side by side with nothing between, at least one named by a word: bn_xhat₁,₂,₁bn_weight₁,₂,₁
_ENTRY = r"(?:\\mathrm\{[^{}]*\}|(?<![\\A-Za-z])[A-Za-z])(?:_\{[^{}]*\})(?:\^\{[^{}]*\}|\^[0-9])?"
_RUN_TOGETHER = re.compile(rf"({_ENTRY})\s*(?=({_ENTRY}))")
GALLERY_DOCUMENTS = sorted(p for p in (ROOT / "output").rglob("*") if p.suffix in (".md", ".tex", ".html"))


def run_together(text: str) -> list[str]:
    return [m.group(1) + m.group(2) for m in _RUN_TOGETHER.finditer(text) if r"\mathrm" in m.group(1) + m.group(2)]


def test_the_run_together_check_sees_two_names_side_by_side():
    assert run_together(r"x = \mathrm{bn\_xhat}_{2,2,2} \mathrm{bn\_weight}_{1,2,1}") == [
        r"\mathrm{bn\_xhat}_{2,2,2}\mathrm{bn\_weight}_{1,2,1}"
    ]
    assert run_together(r"v_{12} \mathrm{o\_p}_{21}^{2}") != []
    assert run_together(r"a_{11} b_{11} + \mathrm{bn\_xhat}_{2,2,2} \cdot \mathrm{bn\_weight}_{1,2,1}") == []


def test_no_two_names_run_together_in_any_gallery_document():
    assert len(GALLERY_DOCUMENTS) >= 48
    found = {p.name: run_together(p.read_text(encoding="utf-8"))[:3] for p in GALLERY_DOCUMENTS}
    assert not {name: pairs for name, pairs in found.items() if pairs}


def test_a_named_normalization_names_its_intermediates_after_what_they_are():
    from symgrad.gallery import NETWORKS

    names = {name: list(make().graph.tensors) for name, make in NETWORKS}
    assert names["batch_norm_sigmoid_mse"][5:16] == [
        "bn_mean", "bn_centred", "bn_square", "bn_var", "bn_var_eps", "bn_std", "bn_xhat", "bn_weight",
        "bn_scaled", "bn_bias", "bn",
    ]  # fmt: skip
    # no tensor of a gallery network is called by the bare operation that made it (mul, mul2, add)
    bare = re.compile(r"(mul|add|sub|div|sum|mean|sqrt|neg|pow|exp|log)[0-9]*")
    assert not [(net, t) for net, tensors in names.items() for t in tensors if bare.fullmatch(t)]


def test_a_product_that_fits_a_desktop_row_is_one_unit_its_dots_hidden_beside_letters():
    """The reference's (11), dL/dA = [G][Bᵀ]: one unit, its second factor's dot hidden on a desktop
    (class times); a factor named by a word or a number keeps its dot; a product too wide for a row
    is no unit (its factors wrap, each row that goes on starting with its dot)."""
    from symgrad.publish.documents import _units

    page = symgrad.render(symgrad.matmul(2, 4, 3), "fragment")
    (regroup,) = re.findall(r'<div [^>]*id="eq-regroup_A">.*?</div>', page, re.S)
    assert '<span class="product"><span>\\(\\displaystyle {} = \\left[' in regroup  # whole on a desktop
    assert '<span class="times">\\(\\displaystyle {} \\cdot \\left[' in regroup
    word = (r"x_{1}", r"{} \cdot \mathrm{bn\_weight}_{1}", r"{} \cdot 2", r"{} \cdot s_{1}")
    # the dot stays before the word and before the number; a letter after a number stands beside it (2 s₁)
    assert _units(word, 40.0) == (
        ("always", ((word[0], True), (word[1], True), (word[2], True), (word[3], False))),
    )  # fmt: skip
    letters = (r"a_{1}", r"{} \cdot b_{1}", r"{} + c_{1}")
    assert _units(letters, 40.0) == (("always", ((letters[0], True), (letters[1], False))), ("", ((letters[2], True),)))
    assert _units(letters, 1.0)[0] == ("", ((letters[0], True), (letters[1], True)))
    # wider than a phone's row (15 em) but not a desktop's: whole on a desktop only
    long = (r"\mathrm{abcdefghijkl}_{1}", r"{} \cdot \mathrm{abcdefghijkl}_{2}", r"{} \cdot \mathrm{abcdefghijkl}_{3}")
    assert _units(long, 40.0)[0][0] == "desktop"


@pytest.mark.parametrize("op", ["matmul", "conv2d"])
def test_a_write_shared_by_formats_prints_what_each_format_prints_alone(op):
    """The formats of one write share printed formulas: each must come out as it does when
    written alone, whatever was printed before it (another display limit, colour off)."""
    render = symgrad.render
    d = symgrad.matmul(5, 6, 4, "mean") if op == "matmul" else symgrad.conv2d((1, 2, 6, 6), (2, 2, 2, 2))
    options = [dict(fmt=f) for f in FORMATS] + [dict(fmt="html", display_limit=3), dict(fmt="md", colour=False)]
    alone = [render(d, **o) for o in options]
    shared: dict = {}
    for order in (options, options[::-1]):
        together = {id(o): render(d, **o, cache=shared) for o in order}
        assert [together[id(o)] for o in options] == alone
    assert alone[len(FORMATS)] != render(d, "html"), "the display limit changes the page"
