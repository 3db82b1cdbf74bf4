"""The real tools readers use: pdflatex, MathJax and KaTeX, headless Chromium, Jekyll.

Outside CI a missing tool skips its tests with the reason; with CI=true it fails them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import symgrad
from symgrad.gallery import GALLERY as GALLERY_ENTRIES
from symgrad.publish.writer import stem

from .checkers import (
    ARTICLE_11PT_SIZES,
    LOCAL_MATHJAX,
    ROOT,
    at_widths,
    break_problems,
    check_formulas,
    chromium_browser,
    compile_tex,
    formulas_of,
    glyph_sizes,
    html_formulas,
    lone_marks,
    overfull_boxes,
    page_gaps,
    restyled,
    typeset,
    undefined_references,
)
from .conftest import require, require_program

pytestmark = pytest.mark.tools

CONV_CASES = [
    dict(
        input_shape=(2, 4, 6, 7),
        weight_shape=(4, 2, 3, 2),
        stride=(2, 1),
        padding=(1, 2),
        dilation=(2, 1),
        groups=2,
        bias=False,
        loss="sum",
    ),
    dict(input_shape=(1, 1, 3, 3), weight_shape=(1, 1, 1, 1), loss="mean"),
]
GALLERY = sorted(p for p in (ROOT / "output").rglob("*") if p.is_file())
CASES = [
    (1, 1, 1, "mean"),
    (2, 4, 3, "mean"),
    (2, 4, 3, "sum"),
    (2, 4, 3, "generic"),
    (3, 7, 2, "mean"),
    (12, 12, 12, "mean"),
    ("m", "k", "n", "generic"),
    ("m", "k", "n", "sum"),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """Every format of every case, written the way users write them."""
    root = tmp_path_factory.mktemp("generated")
    paths = []
    for m, k, n, loss in CASES:
        d = symgrad.matmul(m, k, n, loss)
        paths += symgrad.write(d, root / f"{stem(d)}-{loss}", "all")
    for kwargs in CONV_CASES:
        d = symgrad.conv2d(**kwargs)
        paths += symgrad.write(d, root / f"{stem(d)}-{d.loss}", "all")
    return paths


def documents(generated, suffixes):
    return [p for p in GALLERY + generated if p.name.endswith(suffixes)]


# --- pdflatex -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled(generated, tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Every .tex document of the gallery and the grid, compiled once for every test that reads
    a PDF or a log: its name, the copy compiled and latexmk's run."""
    root = tmp_path_factory.mktemp("printed")
    runs = {}
    seen = set()  # a generated document the gallery already holds (matmul 2×4×3) is compiled once
    for i, source in enumerate(documents(generated, (".tex",))):
        if source.read_bytes() in seen:
            continue
        seen.add(source.read_bytes())
        target = root / str(i) / source.name
        target.parent.mkdir()
        shutil.copy(source, target)
        runs[f"{source.parent.name}/{source.name}"] = target, compile_tex(target)
    return runs


@pytest.mark.xdist_group("pdf")  # one worker compiles every document once
def test_every_tex_document_compiles(compiled):
    assert len(compiled) >= len(CASES) + 3
    failures = [
        (name, done.stdout[-2000:])
        for name, (target, done) in compiled.items()
        if done.returncode != 0 or undefined_references(target) or not target.with_suffix(".pdf").is_file()
    ]
    assert not failures, failures


@pytest.fixture(scope="module")
def printed(compiled) -> dict[str, Path]:
    """Every compiled document's PDF, by name."""
    for name, (_, done) in compiled.items():
        assert done.returncode == 0, name
    return {name: target.with_suffix(".pdf") for name, (target, _) in compiled.items()}


def pdf_problems(pdf: Path) -> list[str]:
    """What a reader of the printed pages would see wrong: a line sticking into the margin (by
    any amount), an equation shrunk to fit, or a page left mostly empty by a display pushed to
    the next one."""
    problems = [f"overfull by {x} pt" for x in overfull_boxes(pdf.with_suffix(".tex"))]
    scaled = sorted(s for s in glyph_sizes(pdf) if all(abs(s - size) > 0.05 for size in ARTICLE_11PT_SIZES))
    if scaled:  # subscripts sit at the class's script sizes; any other size is a scaled box
        problems.append(f"glyphs at sizes the 11pt article does not use: {scaled[:5]}")
    gaps = page_gaps(pdf)
    # a quarter of a page left blank is what a display pushed whole to the next page leaves
    problems += [f"page {n} is {gap:.0%} empty" for n, gap in enumerate(gaps[:-1], 1) if gap > 0.25]
    return problems


@pytest.mark.xdist_group("pdf")  # one worker compiles every document once
def test_printed_pages_are_full_size_within_the_margins_and_filled(printed):
    failures = {name: problems for name, pdf in printed.items() if (problems := pdf_problems(pdf))}
    assert not failures, failures
    assert not any("resizebox" in p.read_text() for p in (ROOT / "templates").glob("*.j2"))


@pytest.mark.xdist_group("pdf")  # one worker compiles every document once
def test_no_equation_number_or_operator_has_a_line_of_its_own(printed):
    # a wide product is set by its factors, its number beside its first row, never below it
    failures = {name: found for name, pdf in printed.items() if (found := lone_marks(pdf))}
    assert not failures, failures


@pytest.mark.xdist_group("pdf")  # one worker compiles every document once
def test_pages_break_between_whole_thoughts(printed):
    # an introducing line stays with its display, a heading with what follows it, a short first
    # row of an equation with the row after it, and a parameter's name with its value
    failures = {name: found for name, pdf in printed.items() if (found := break_problems(pdf))}
    assert not failures, failures


BREAK_PREAMBLE = (
    "\\documentclass[11pt]{article}\\usepackage[margin=2cm]{geometry}\\usepackage{amsmath}\\begin{document}\n"
)


@pytest.mark.parametrize(
    "body, check, what",
    [
        (r"\begin{equation}\makebox[0.98\linewidth]{$a = b + c$}\end{equation}", lone_marks, "(1) on a line"),
        (r"\[\begin{array}{l} a + b \\ {}+{} \end{array}\]", lone_marks, "+ on a line"),
        ("Some words.\n\nIn matrix notation:\n\n\\newpage\n\\[ a + b = c + d \\]", break_problems, "ends with"),
        (r"\section{Alone}\newpage Text.", break_problems, "nothing under the heading"),
        (r"Then $\operatorname{conv}(X; \text{padding} =$\newline $(1, 1))$ follows.", break_problems, "parameter"),
        (r"\section{First part}\section{Second part} Text.", break_problems, "nothing under the heading '1"),
        (
            r"\begin{align} a &= b && \text{definition} \displaybreak \\ &= c && \text{definition} \notag \end{align}",
            break_problems,
            "first row of (1)",
        ),
    ],
)
def test_the_break_checks_see_a_lone_mark_and_a_bad_break(tmp_path, body, check, what):
    target = tmp_path / "bad.tex"
    target.write_text(BREAK_PREAMBLE + body + "\n\\end{document}\n")
    assert compile_tex(target).returncode == 0
    found = check(target.with_suffix(".pdf"))
    assert any(what in f for f in found), found


@pytest.mark.parametrize(
    "body, what",
    [
        (r"\[\resizebox{0.5\linewidth}{!}{$a_{11} + b_{22}$}\]", "sizes"),
        (r"\[" + "+".join(f"a_{{{i}}} b_{{{i}}}" for i in range(40)) + r"\]", "overfull"),
        ("Text. " * 300 + r"\[\begin{aligned}" + r"\\".join(["x &= y"] * 45) + r"\end{aligned}\]", "empty"),
    ],
)
def test_the_page_checks_see_a_shrunk_a_wide_and_a_pushed_display(tmp_path, body, what):
    target = tmp_path / "bad.tex"
    target.write_text(
        "\\documentclass[11pt]{article}\\usepackage[margin=2cm]{geometry}\\usepackage{amsmath,graphicx}"
        "\\begin{document}\n" + body + "\n\\end{document}\n"
    )
    assert compile_tex(target).returncode == 0
    problems = pdf_problems(target.with_suffix(".pdf"))
    assert any(what in p for p in problems), problems


@pytest.mark.parametrize(
    "body, why",
    [
        (r"\[ \foo \]", "undefined macro"),
        (r"\[ \frac{a \]", "missing brace"),
        (r"\begin{equation}x\label{eq:a}\end{equation} see \eqref{eq:missing}", "broken reference"),
    ],
)
def test_pdflatex_rejects_broken_documents(tmp_path, body, why):
    target = tmp_path / "broken.tex"
    target.write_text("\\documentclass{article}\\usepackage{amsmath}\\begin{document}\n" + body + "\n\\end{document}\n")
    done = compile_tex(target)
    assert done.returncode != 0 or undefined_references(target), why


# --- MathJax and KaTeX ----------------------------------------------------------------------


def test_every_formula_parses_in_mathjax_and_katex(generated):
    formulas, count_by_file = [], {}
    for path in documents(generated, (".html", ".md")):
        found, leftover = formulas_of(path)
        assert "\\(" not in leftover and "\\[" not in leftover, f"unbalanced math delimiter in {path}"
        count_by_file[path] = len(found)
        formulas += [(f"{path.name}#{i}", tex, display) for i, (tex, display) in enumerate(found)]
    assert all(count_by_file.values()), "a document without formulas"
    failures = check_formulas(formulas)
    assert not failures, failures[:5]
    print(f"{len(formulas)} formulas from {len(count_by_file)} documents parsed in MathJax and KaTeX")


BROKEN = [r"\frac{a", r"\foo", r"x_{1", "a}", r"\begin{aligned} a \end{array}", r"\left( x", "a^", "x^2^3"]


def test_mathjax_and_katex_reject_broken_formulas():
    failures = check_formulas([(tex, tex, True) for tex in BROKEN])
    by_id = {f["id"]: f for f in failures}
    for tex in BROKEN:
        assert tex in by_id, f"{tex!r} was accepted"
        assert by_id[tex]["mathjax"] and by_id[tex]["katex"], by_id[tex]


def test_a_template_that_breaks_a_formula_is_caught(tmp_path):
    """Render with a printer that emits an undefined macro: the checker must see it."""
    d = symgrad.matmul(2, 2, 2)
    page = symgrad.render(d, "fragment").replace(r"\boldsymbol{A}", r"\boldsymbo{A}", 1)
    found, _ = html_formulas(page)
    failures = check_formulas([(i, t, disp) for i, (t, disp) in enumerate(found)])
    assert len(failures) == 1 and "boldsymbo" in (failures[0]["mathjax"] + failures[0]["katex"])


# --- Chromium -------------------------------------------------------------------------------


def playwright_sync():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require("playwright", sync_playwright is not None, "pip install playwright (never 'playwright install')")
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = playwright_sync()
    require_program("chromium", "apt-get install chromium")
    with sync_playwright() as p:
        b = chromium_browser(p)
        yield b
        b.close()


def local_page(d, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(symgrad.render(d, "html", mathjax_url=LOCAL_MATHJAX.as_uri()), encoding="utf-8")
    return path


# pages beside the gallery's, whose every page test_page_layout.py typesets and counts
@pytest.mark.parametrize(
    "case",
    [
        (1, 1, 1, "mean"),
        CONV_CASES[0],
        dict(input_shape=(1, 3, 16, 32), weight_shape=(2, 3, 4, 5), stride=2, padding=1),
    ],
)
def test_pages_typeset_every_formula_in_chromium(browser, tmp_path, case):
    d = symgrad.conv2d(**case) if isinstance(case, dict) else symgrad.matmul(*case)
    path = local_page(d, tmp_path, "page.html")
    emitted, _ = html_formulas(path.read_text(encoding="utf-8"))
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    shot = tmp_path / "page.png"
    result = typeset(page, path.as_uri(), screenshot=shot)
    page.close()
    assert result["containers"] == len(emitted) > 0
    assert result["errors"] == 0
    assert "\\(" not in result["text"] and "\\[" not in result["text"]
    assert shot.stat().st_size > 10_000


def test_chromium_check_catches_broken_math(browser, tmp_path):
    path = tmp_path / "broken.html"
    good = symgrad.render(symgrad.matmul(1, 1, 1), "html", mathjax_url=LOCAL_MATHJAX.as_uri())
    path.write_text(good.replace("<main>", r"<main><p>\(\foo{x}\) and \(a_{1}</p>", 1), encoding="utf-8")
    page = browser.new_page()
    result = typeset(page, path.as_uri())
    page.close()
    assert result["errors"] >= 1  # the undefined macro
    assert "\\(" in result["text"]  # the unbalanced delimiter stays raw


# --- Jekyll ---------------------------------------------------------------------------------


def build_site(tmp_path: Path, *posts: str) -> list[str]:
    """The pages Jekyll builds from the posts, in a site with a bare layout: one build for all."""
    jekyll = require_program("jekyll", "apt-get install jekyll")
    site = tmp_path / "site"
    (site / "_posts").mkdir(parents=True)
    (site / "_layouts").mkdir()
    (site / "_config.yml").write_text("markdown: kramdown\n")
    (site / "_layouts" / "post.html").write_text("<html><body>{{ content }}</body></html>\n")
    for k, post in enumerate(posts):
        (site / "_posts" / f"2000-01-01-derivation-{k}.md").write_text(post, encoding="utf-8")
    done = subprocess.run(
        [jekyll, "build", "--source", str(site), "--destination", str(site / "_site")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pages = sorted((site / "_site").rglob("*.html"))
    assert len(pages) == len(posts), pages
    return [
        next(p for p in pages if p.stem == f"derivation-{k}").read_text(encoding="utf-8") for k in range(len(posts))
    ]


def test_jekyll_keeps_every_formula_intact(tmp_path):
    cases = [(2, 4, 3, "mean"), (12, 12, 12, "generic"), ("m", "k", "n", "sum"), CONV_CASES[0]]
    posts = [
        symgrad.render(symgrad.conv2d(**case) if isinstance(case, dict) else symgrad.matmul(*case), "jekyll")
        for case in cases
    ]
    for case, post, built in zip(cases, posts, build_site(tmp_path, *posts)):
        assert "{{" not in post and "{%" not in post, case
        expected, _ = html_formulas(post)
        found, leftover = html_formulas(built)
        assert found == expected and len(found) > 50, case
        assert "\\(" not in leftover, case


def test_jekyll_check_catches_mangled_math(tmp_path):
    """Math outside a raw HTML block is mangled by kramdown, and the comparison sees it."""
    post = "---\nlayout: post\ntitle: t\n---\n\nThe entry \\(a_{1} * b_{2}\\) in plain Markdown.\n"
    (built,) = build_site(tmp_path, post)
    expected, _ = html_formulas(post)
    found, _ = html_formulas(built)
    assert found != expected


# --- hostile user text, as the real tools read it -----------------------------------------------

ATTACK = r"\(\href{javascript:alert(1)}{x}\style{position:fixed;top:0;left:0;width:100%;height:100%}{X}\)"


def test_a_title_is_never_typeset_by_mathjax(browser, tmp_path):
    d = symgrad.matmul(1, 1, 1)
    path = tmp_path / "page.html"
    page_text = symgrad.render(d, "html", mathjax_url=LOCAL_MATHJAX.as_uri(), title=ATTACK + " $$y$$", author=ATTACK)
    path.write_text(page_text, encoding="utf-8")
    emitted, _ = html_formulas(page_text.split("</h1>", 1)[1])
    page = browser.new_page()
    result = typeset(page, path.as_uri())
    found = page.evaluate("""() => ({
        links: document.querySelectorAll('a[href^="javascript"]').length,
        titleMath: document.querySelectorAll('h1 mjx-container, .byline mjx-container').length,
        title: document.querySelector('h1').innerText,
    })""")
    page.close()
    assert found["links"] == 0 and found["titleMath"] == 0
    assert found["title"].replace("\u200b", "") == ATTACK + " $$y$$"
    assert result["containers"] == len(emitted)  # the document's own formulas still typeset


def test_a_tex_title_refuses_what_pdflatex_cannot_set():
    for ch in "Ħſж中😀":
        with pytest.raises(symgrad.SymgradError, match="pdflatex cannot set"):
            symgrad.render(symgrad.matmul(1, 1, 1), "tex", title=f"a {ch} b")


def test_lualatex_sets_a_title_in_any_script(tmp_path):
    title = "Градиенты — βήματα, 梯度 и ∑ <|>"
    target = tmp_path / "unicode.tex"
    target.write_text(symgrad.render(symgrad.matmul(2, 4, 3), "tex", title=title, tex_engine="lualatex"))
    done = compile_tex(target, engine="lualatex")
    assert done.returncode == 0, done.stdout[-3000:]
    log = target.with_suffix(".log").read_text(errors="replace")
    assert "Missing character" not in log
    pdftotext = require_program("pdftotext", "apt-get install poppler-utils")
    text = subprocess.run([pdftotext, str(target.with_suffix(".pdf")), "-"], capture_output=True, text=True).stdout
    assert title in text
    assert not pdf_problems(target.with_suffix(".pdf"))


def test_every_character_a_tex_title_may_hold_compiles(tmp_path):
    left_out = {0x126, 0x127, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167, 0x17F}  # not in LaTeX's T1 tables
    settable = [chr(c) for c in range(0x21, 0x7F)] + [chr(c) for c in range(0xA1, 0x17F) if c not in left_out]
    settable += list("\u2013\u2014\u2018\u2019\u201c\u201d\u2026")
    pdftotext = require_program("pdftotext", "apt-get install poppler-utils")
    d = symgrad.matmul(1, 1, 1)
    for n, start in enumerate(range(0, len(settable), 140)):  # a title holds at most 300 characters
        chunk = settable[start : start + 140]
        target = tmp_path / f"title{n}.tex"
        target.write_text(
            symgrad.render(d, "tex", title=" ".join(chunk[::2]), author=" ".join(chunk[1::2])), encoding="utf-8"
        )
        done = compile_tex(target)
        assert done.returncode == 0, done.stdout[-3000:]
        text = subprocess.run([pdftotext, str(target.with_suffix(".pdf")), "-"], capture_output=True, text=True).stdout
        if n == 0:  # T1 fonts print < > | as themselves, where OT1 prints ¡ ¿ —
            assert all(ch in text for ch in "<>|")


def test_a_page_with_local_mathjax_typesets_offline(browser, tmp_path):
    # symgrad's own copy of MathJax, not the test tools' npm one
    d = symgrad.matmul(2, 4, 3)
    paths = symgrad.write(d, tmp_path / "site", "html", mathjax_url="local")
    page_path = next(p for p in paths if p.suffix == ".html")
    assert 'src="mathjax/tex-chtml-full.js"' in page_path.read_text()
    emitted, _ = html_formulas(page_path.read_text(encoding="utf-8"))
    page = browser.new_page()
    result = typeset(page, page_path.as_uri())
    page.close()
    assert result["containers"] == len(emitted) > 0 and result["errors"] == 0


# --- layout, measured as a reader's browser lays it out ------------------------------------------

LAYOUT = """() => Array.from(document.querySelectorAll('.equation')).map(box => {
  const lines = Array.from(box.querySelectorAll('.lines > p'));
  // a right side too wide to stand beside its left side has the row to itself, its "=" at the
  // row's start (class wide); the other lines' "=" align
  const aligned = lines.filter(line => !line.classList.contains('wide'));
  const start = box.querySelector('.lines').getBoundingClientRect().left;
  const inner = 'mjx-munderover, mjx-msub, mjx-msup, mjx-msubsup, mjx-mfrac, mjx-mtable, mjx-script, '
              + 'mjx-munder, mjx-mover';
  // the x of each line's first top-level "=" (CHTML draws glyphs with CSS, so an mjx-mo has no
  // text: the "=" is the one whose glyph element has the class for U+003D)
  const equal = line => Array.from(line.querySelectorAll('mjx-mo'))
    .find(m => m.querySelector('mjx-c.mjx-c3D') && !m.closest(inner));
  const equals = aligned.map(line => equal(line) ? equal(line).getBoundingClientRect().left : null)
    .filter(x => x !== null);
  const astray = lines.filter(line => line.classList.contains('wide') && equal(line))
    .filter(line => equal(line).getBoundingClientRect().left - start > 16).length;
  // the part of a formula a reader sees: cut by the side that scrolls it
  const seen = container => {
    const m = container.getBoundingClientRect(), side = container.closest('.lhs, .rhs');
    const s = side ? side.getBoundingClientRect() : m;
    return {left: Math.max(m.left, s.left), right: Math.min(m.right, s.right), top: m.top, bottom: m.bottom};
  };
  // a rule label stands apart from its line's math: at least 8 px to its right, or below it
  const apart = lines.filter(line => line.querySelector('.rule')).every(line => {
    const r = line.querySelector('.rule').getBoundingClientRect();
    return Array.from(line.querySelectorAll('mjx-container')).every(container => {
      const m = seen(container);
      return m.right <= m.left || r.left - m.right >= 8 || r.top >= m.bottom;
    });
  });
  // the sides, each of which scrolls its own math when it must
  const sides = Array.from(box.querySelectorAll('.lhs, .rhs')).filter(s => s.scrollWidth > s.clientWidth + 1);
  const tall = Array.from(box.querySelectorAll('.lhs, .rhs'), s => s.scrollHeight - s.clientHeight);
  return {id: box.id, vertical: Math.max(box.scrollHeight - box.clientHeight, ...tall),
          horizontal: sides.filter(s => !s.querySelector('mjx-mtable')).length,
          clipped: sides.filter(s => !['auto', 'scroll'].includes(getComputedStyle(s).overflowX)).length,
          equals, astray, labelsApart: apart,
          errors: box.querySelectorAll('mjx-merror').length};
})"""


def layout_problems(page) -> dict:
    """What a reader would see wrong in the equation boxes of a typeset page: a box or a side that
    scrolls vertically, a side wider than its column that holds no matrix (only an explicit matrix
    may be, and then it scrolls instead of sticking out), a continuation line whose "=" is more than
    2 px off the first line's (or, for a right side with a row of its own, not at the row's start),
    a rule label run into its formula, a MathJax error, or a page wider than the window (a figure
    that does not shrink, say)."""
    boxes = page.evaluate(LAYOUT)
    assert boxes, "no equation boxes"
    assert any(len(b["equals"]) > 1 for b in boxes), "no equals sign found: the check would pass vacuously"
    problems = {
        "vertical": [b["id"] for b in boxes if b["vertical"] > 1],
        "horizontal": [b["id"] for b in boxes if b["horizontal"]],
        "clipped": [b["id"] for b in boxes if b["clipped"]],
        "equals": [b["id"] for b in boxes if len(b["equals"]) > 1 and max(b["equals"]) - min(b["equals"]) > 2]
        + [b["id"] for b in boxes if b["astray"]],
        "labels": [b["id"] for b in boxes if not b["labelsApart"]],
        "errors": [b["id"] for b in boxes if b["errors"]],
    }
    page_width = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    problems["page"] = [f"the page is {page_width} px wider than the window"] if page_width > 1 else []
    return {k: v for k, v in problems.items() if v}


LAYOUT_CASES = {
    "reference": lambda: symgrad.matmul(2, 4, 3),
    "10x11x12": lambda: symgrad.matmul(10, 11, 12),
    "general": lambda: symgrad.matmul("m", "k", "n"),
    "conv2d": lambda: symgrad.conv2d((1, 3, 16, 32), (2, 3, 4, 5), stride=2, padding=1, loss="mean"),
    "conv_transpose2d": lambda: symgrad.conv_transpose2d(),
    "network conv": lambda: dict(GALLERY_ENTRIES)["conv_leaky_relu_mean"](),
    "network linear": lambda: dict(GALLERY_ENTRIES)["linear_sigmoid_mse"](),
}


@pytest.mark.parametrize(
    "css, width, seen",
    [
        (".equation .rhs { flex-wrap: nowrap; }", 400, "horizontal"),
        (".equation .lines { display: block; } .equation .lines > p { display: flex; }", 1200, "equals"),
        # the reference's (10) beside its left side again, its matrix reaching the label's column
        (".rule { margin-left: 0 !important; } .equation .wide .rhs { grid-column: 2; }", 1200, "labels"),
        (".equation .lhs, .equation .rhs { overflow: visible; }", 400, "clipped"),
        (".equation .lhs, .equation .rhs { overflow: visible; }", 400, "page"),
        (".equation mjx-container { display: inline; } .equation { max-height: 3rem; }", 1200, "vertical"),
    ],
)
def test_the_layout_check_sees_a_broken_stylesheet(reference_tab, css, width, seen):
    reference_tab.set_viewport_size({"width": width, "height": 900})
    assert not layout_problems(reference_tab)
    with restyled(reference_tab, css):
        problems = layout_problems(reference_tab)
    assert seen in problems, problems


@pytest.fixture(scope="module")
def reference_tab(browser, tmp_path_factory):
    """The reference page, typeset once for every stylesheet the layout check is tried on."""
    page_path = tmp_path_factory.mktemp("reference") / "page.html"
    page_path.write_text(
        symgrad.render(symgrad.matmul(2, 4, 3), "html", mathjax_url=LOCAL_MATHJAX.as_uri()), encoding="utf-8"
    )
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    typeset(page, page_path.as_uri())
    yield page
    page.close()


# the page as symgrad writes it is measured for every gallery page in test_page_layout.py; here a
# page of none of them, and each fragment in a page with no stylesheet of symgrad's
@pytest.mark.parametrize("fmt, case", [("html", "10x11x12")] + [("fragment", case) for case in LAYOUT_CASES])
def test_equation_boxes_fit_their_math_and_align_their_equals(browser, tmp_path, case, fmt):
    """The page, and the fragment in a page with no stylesheet of symgrad's, on a desktop and a
    phone: see layout_problems."""
    d = LAYOUT_CASES[case]()
    page_path = tmp_path / "page.html"
    if fmt == "html":
        page_path.write_text(symgrad.render(d, "html", mathjax_url=LOCAL_MATHJAX.as_uri()), encoding="utf-8")
    else:  # the fragment as a plain page embeds it: no CSS but the fragment's own
        page_path.write_text(
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><script async src="'
            f'{LOCAL_MATHJAX.as_uri()}"></script></head><body>{symgrad.render(d, "fragment")}'
            "</body></html>",
            encoding="utf-8",
        )
    problems = at_widths(browser, page_path.as_uri(), (1200, 400), layout_problems)
    assert not any(problems.values()), problems
