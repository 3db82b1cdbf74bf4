"""The gallery's pages as a reader sees them in Chromium, on a desktop (1200 px) and a phone (400 px),
and the reference post inside a fresh minima site: measured, so that what a reader would notice
fails a test.

- an equation number never sits on its formula (at phone width it goes above it);
- the number and every rule label stay in sight, however wide the math (only the math scrolls,
  and a label wraps instead of being cut);
- only an explicit matrix scrolls, and on a desktop no equation is wider than its column: a long
  sum breaks into rows, a matrix product too wide for the column is written entry by entry;
- the left and right sides of a line never run into each other;
- a side that wraps starts each further row with its operator (a sum's sign, a product's dot),
  never with a bare term or factor that reads as a new line;
- generated code wraps at the column;
- no fraction is set inside another fraction's numerator or denominator, where it would be two
  sizes down, and the results (the summary, the gradients with the loss put in) are set at full
  display size;
- an operator's name reads as one word (conv2d, not conv 2d);
- every formula is typeset, and the equation boxes pass test_tools.layout_problems (aligned "=",
  labels apart from the math, no page wider than the window).

Each page is typeset once and measured at both widths (checkers.at_widths).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import symgrad

from .checkers import LOCAL_MATHJAX, ROOT, at_widths, html_formulas, restyled, typeset
from .conftest import require, require_program
from .test_tools import (
    browser,  # noqa: F401  (the module's Chromium, a fixture)
    layout_problems,
)

# one worker typesets and measures the pages once, for every test that reads them
pytestmark = [pytest.mark.tools, pytest.mark.xdist_group("page-layout")]

WIDTHS = (1200, 400)
PAGES = sorted(p for p in (ROOT / "output").glob("*/*.html") if not p.name.endswith(".fragment.html"))

# One pass over a typeset page; every list names what a reader would see wrong, as "eq-key (n) ...".
MEASURE = r"""() => {
  const rect = e => e.getBoundingClientRect();
  const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
    && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  // the part of an element a reader sees: its box cut by every box that clips it (a side that scrolls)
  const seen = el => {
    let {left, right, top, bottom} = rect(el);
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const c = rect(a);
      left = Math.max(left, c.left + a.clientLeft);
      right = Math.min(right, c.left + a.clientLeft + a.clientWidth);
    }
    return {left, right, top, bottom, width: right - left, height: bottom - top};
  };
  const glyphs = el => Array.from(el.querySelectorAll('mjx-container mjx-c')).map(seen)
    .filter(r => r.width > 0 && r.height > 0);
  // the TeX each container was typeset from
  const source = new Map(Array.from(MathJax.startup.document.math, m => [m.typesetRoot, m.math]));
  const matrix = el => Array.from(el.querySelectorAll('mjx-container'))
    .some(c => /\\left\[\\begin\{array\}/.test(source.get(c) || ''));
  // an element is in sight when no box that clips it (a scrolling side, the box, the page) cuts it
  const clipped = el => {
    const r = rect(el);
    if (r.left < -0.5 || r.right > window.innerWidth + 0.5) return true;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const c = rect(a), left = c.left + a.clientLeft, right = left + a.clientWidth;
      if (r.left < left - 0.5 || r.right > right + 0.5) return true;
    }
    return el.scrollWidth > el.clientWidth + 1;
  };
  // a side's pieces, one formula each, inside a product's unit or not
  const pieces = side => Array.from(side.querySelectorAll('mjx-container')).map(c => c.parentElement)
    .filter(p => rect(p).height > 0);
  const out = {overlap: [], hidden: [], scrolls: [], wide: [], sides: [], breaks: [], code: [], nested: [],
               small: [], names: [], cut: [], wideboxes: [], dots: [], boxes: 0};
  for (const box of document.querySelectorAll('.equation')) {
    out.boxes += 1;
    const num = box.querySelector('.ref-num');
    const id = box.id + ' ' + (num ? num.textContent.trim() : '');
    if (num && glyphs(box).some(g => hit(rect(num), g))) out.overlap.push(id);
    if (num && clipped(num)) out.hidden.push(id + ' number');
    for (const label of box.querySelectorAll('.rule')) {
      if (label.textContent.trim() && clipped(label)) out.hidden.push(id + ' label ' + label.textContent.trim());
    }
    for (const el of [box, ...box.querySelectorAll('*')]) {
      if (el.tagName.startsWith('MJX') || el.scrollWidth <= el.clientWidth + 1) continue;
      if (getComputedStyle(el).overflowX === 'visible') continue;
      if (!matrix(el)) out.scrolls.push(id + ' ' + el.scrollWidth + '/' + el.clientWidth);
      // any side that scrolls shows only part of its math: a box with one is a wide box
      out.cut.push(id + ' ' + el.scrollWidth + '/' + el.clientWidth);
      if (!out.wideboxes.includes(id)) out.wideboxes.push(id);
      if (el.scrollWidth > box.clientWidth + 1) out.wide.push(id + ' ' + el.scrollWidth + '/' + box.clientWidth);
    }
    for (const line of box.querySelectorAll('.lines > p')) {
      const left = line.querySelector('.lhs'), right = line.querySelector('.rhs');
      if (!left || !right) continue;
      const l = glyphs(left), r = glyphs(right);
      // a left side that wraps: the right side starts beside its last row or below it, never
      // beside an earlier row, where the two sides' rows would read as one
      const parts = pieces(left).map(rect);
      const last = Math.max(...parts.map(p => p.top));
      const level = (a, b) => a.top < b.bottom - 2 && b.top < a.bottom - 2;
      const early = parts.filter(p => p.bottom <= last + 2);
      if (l.some(a => r.some(b => hit(a, b))) || early.some(p => r.some(b => level(p, b)))) out.sides.push(id);
    }
    // a piece that a side wraps to a row of its own (left of the piece before it) starts with an
    // operator, or with the dots of an elided run
    for (const side of box.querySelectorAll('.lhs, .rhs')) {
      let before = null;
      for (const piece of pieces(side)) {
        const r = rect(piece);
        if (before && r.left < before.right - 1 && r.top >= before.top) {
          const tex = (source.get(piece.querySelector('mjx-container')) || '').replace(/^\\displaystyle\s*/, '');
          // (a dot the page hid, in a product it meant to keep on one row, is no operator)
          const dot = piece.querySelector('mjx-mstyle > mjx-mo:nth-child(2)');
          const hidden = /^\{\}\s*\\cdot/.test(tex) && (!dot || rect(dot).width === 0);
          if (hidden || !/^(\{\}\s*)?(=|\+|-|\\cdot|\\times|\\odot|\\oslash|\\vdots|\\ )/.test(tex)) {
            out.breaks.push(id + ' ' + tex.slice(0, 60));
          }
        }
        before = r;
      }
    }
    // a product's dot where its factors stand side by side on one row: the reference writes them
    // juxtaposed ([a][b], a_{11} b_{11}); a dot belongs to a product that breaks, or next to a factor
    // named by a word or a number, which side by side would read as one name
    for (const side of box.querySelectorAll('.lhs, .rhs')) {
      const tex = p => (source.get(p.querySelector('mjx-container')) || '').replace(/^\\displaystyle\s*/, '');
      const products = [];  // each piece after the first of a product starts with its dot
      for (const p of pieces(side)) {
        if (products.length && /^\{\}\s*\\cdot\s/.test(tex(p))) products[products.length - 1].push(p);
        else products.push([p]);
      }
      for (const product of products) {
        const oneRow = product.every((p, k) => k === 0 || rect(p).left >= rect(product[k - 1]).right - 1);
        if (product.length < 2 || !oneRow) continue;
        for (let k = 1; k < product.length; k++) {
          const dot = product[k].querySelector('mjx-mstyle > mjx-mo:nth-child(2)');
          if (!dot || rect(dot).width === 0) continue;
          const factor = tex(product[k]).replace(/^\{\}\s*\\cdot\s*/, '');
          const wordBefore = /\\mathrm\{[^{}]*\}(_\{[^{}]*\})?(\^\{[^{}]*\}|\^[0-9])?\s*$/.test(tex(product[k - 1]));
          if (!wordBefore && !/^(\\mathrm|[0-9])/.test(factor)) out.dots.push(id + ' ' + tex(product[k]).slice(0, 60));
        }
      }
    }
    if (/^eq-values_/.test(box.id)) {
      box.querySelectorAll('mjx-mfrac').forEach(f => small(f, id));
    }
  }
  // a fraction's numerator, measured on its first glyph, against the formula's own size
  function small(frac, id) {
    const c = frac.querySelector('mjx-num mjx-c');
    const container = frac.closest('mjx-container');
    if (!c) return;
    const ratio = parseFloat(getComputedStyle(c).fontSize) / parseFloat(getComputedStyle(container).fontSize);
    if (ratio < 0.95) out.small.push(id + ' ' + ratio.toFixed(2));
  }
  const summary = document.querySelector('a[name="summary"]');
  if (summary) {
    let el = summary.parentElement.nextElementSibling;
    for (; el && !/^H[1-6]$/.test(el.tagName); el = el.nextElementSibling) {
      if (el.tagName === 'UL') el.querySelectorAll('mjx-mfrac').forEach(f => small(f, 'summary'));
    }
  }
  for (const c of document.querySelectorAll('mjx-container')) {
    const tex = source.get(c) || '';
    c.querySelectorAll('mjx-mfrac mjx-num mjx-mfrac, mjx-mfrac mjx-den mjx-mfrac').forEach(() =>
      out.nested.push(tex.slice(0, 80)));
    // an operator's name spaced apart (conv 2d), an intermediate named after its layer
    // (transpose, sqrt) instead of what it is, a root left unsimplified (√4), or a transpose set
    // on a fraction, where its T floats detached from the bar
    c.querySelectorAll('mjx-texatom[texclass="OP"]').forEach(op => {
      if (op.querySelector('[space]')) out.names.push(tex.slice(0, 80));
    });
    if (/\\mathrm\{(transpose|sqrt)|\\sqrt\{(4|9|16|25|36|49|64)\}/.test(tex)) out.names.push(tex.slice(0, 80));
    c.querySelectorAll('mjx-msup').forEach(sup => {
      if (sup.firstElementChild && sup.firstElementChild.tagName === 'MJX-MFRAC') out.names.push(tex.slice(0, 80));
    });
  }
  for (const pre of document.querySelectorAll('pre')) {
    if (pre.scrollWidth > pre.clientWidth + 1) out.code.push(pre.scrollWidth + '/' + pre.clientWidth);
  }
  return out;
}"""


def _local(page: Path, folder: Path) -> Path:
    """The committed page, loading the local MathJax."""
    html = page.read_text(encoding="utf-8")
    html = re.sub(
        r'(<script id="MathJax-script" async src=")[^"]*', lambda m: m.group(1) + LOCAL_MATHJAX.as_uri(), html
    )
    path = folder / page.name
    path.write_text(html, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def minima(tmp_path_factory) -> tuple[Path, Path]:
    """The reference post dropped into a fresh site with Jekyll's default theme: the post as
    written, and the page Jekyll built from it."""
    jekyll = require_program("jekyll", "apt-get install jekyll jekyll-theme-minima")
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    site = tmp_path_factory.mktemp("minima") / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: A blog\ntheme: minima\nmarkdown: kramdown\n")
    (post,) = symgrad.write(
        symgrad.matmul(2, 4, 3),
        site,
        "jekyll",
        date="2024-05-01",
        mathjax_url=LOCAL_MATHJAX.as_uri(),
        categories="ml calculus",
        tags="gradients",
    )
    done = subprocess.run(
        [jekyll, "build", "--source", str(site), "--destination", str(site / "_site")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (page,) = [p for p in (site / "_site").rglob("*.html") if "matmul" in p.name]
    return post, page


def _measure(page) -> dict:
    """MEASURE, the equation boxes' layout (test_tools.layout_problems) and what MathJax set."""
    out = page.evaluate(MEASURE)
    out["layout"] = layout_problems(page)
    out.update(
        page.evaluate("""() => ({
        containers: document.querySelectorAll('mjx-container').length,
        text: document.body.innerText,
        title: (document.querySelector('.post-title, h1') || {}).innerText || '',
    })""")
    )
    return out


@pytest.fixture(scope="module")
def measured(browser, minima, tmp_path_factory) -> dict:  # noqa: F811
    """(page name, width) -> what _measure found, for every gallery page and the minima post."""
    require("local MathJax", LOCAL_MATHJAX.is_file(), "npm ci")
    folder = tmp_path_factory.mktemp("pages")
    paths = {p.stem: _local(p, folder) for p in PAGES}
    paths["minima post"] = minima[1]
    out = {}
    for name, path in paths.items():
        for width, result in at_widths(browser, path.as_uri(), WIDTHS, _measure).items():
            assert result["boxes"] > 5, name
            out[name, width] = result
    return out


def found(measured: dict, what: str, widths=WIDTHS) -> dict:
    return {f"{name} at {width} px": r[what] for (name, width), r in measured.items() if width in widths and r[what]}


def test_the_gallery_has_every_page():
    assert len(PAGES) == 12


def test_every_formula_is_typeset_and_none_is_left_as_text(measured, minima):
    written = {p.stem: p for p in PAGES} | {"minima post": minima[0]}
    for (name, width), r in measured.items():
        expected, _ = html_formulas(written[name].read_text(encoding="utf-8"))
        assert r["containers"] == len(expected) > 5, (name, width)
        assert "\\(" not in r["text"] and "\\[" not in r["text"], (name, width)


def test_the_minima_post_is_found_where_jekyll_puts_it(measured, minima):
    """The front matter's date and categories make the post's address; its title is the page's."""
    post, page = minima
    assert post.relative_to(post.parent.parent).as_posix() == "_posts/2024-05-01-matmul-2x4x3.md"
    assert "/ml/calculus/2024/05/01/" in page.as_posix()
    assert all("Matrix multiplication" in measured["minima post", width]["title"] for width in WIDTHS)
    assert measured["minima post", 1200]["containers"] > 50


def test_equation_boxes_fit_their_math_and_align_their_equals(measured):
    """See test_tools.layout_problems: no box or side scrolls vertically, only a matrix scrolls
    sideways, the "=" of a box's lines align, rule labels stand apart, the page fits the window."""
    assert not found(measured, "layout")


def test_a_narrowed_window_measures_as_a_page_opened_at_that_width(browser, measured, tmp_path):  # noqa: F811
    """What at_widths relies on: the reference page opened at 400 px measures as the page opened at
    1200 px and then narrowed to 400 px."""
    path = _local(ROOT / "output" / "matmul-2x4x3" / "matmul-2x4x3.html", tmp_path)
    assert at_widths(browser, path.as_uri(), (400,), _measure)[400] == measured["matmul-2x4x3", 400]
    assert measured["matmul-2x4x3", 400] != measured["matmul-2x4x3", 1200]


def test_an_equation_number_never_sits_on_its_formula(measured):
    assert not found(measured, "overlap")


def test_numbers_and_rule_labels_stay_in_sight(measured):
    assert not found(measured, "hidden")


def test_a_wide_box_keeps_its_number_and_labels_in_sight(measured):
    """Every box whose math scrolls, at either width: its number and its rule labels are in sight
    (the phone's column has such boxes, so the check is not empty)."""
    wide = {(name, width): r["wideboxes"] for (name, width), r in measured.items() if r["wideboxes"]}
    assert any(width == 400 for _, width in wide)
    hidden = {
        (name, width, box): [h for h in measured[name, width]["hidden"] if h.startswith(box + " ")]
        for (name, width), boxes in wide.items()
        for box in boxes
    }
    assert not {key: h for key, h in hidden.items() if h}


def test_on_a_desktop_every_equation_shows_whole(measured):
    """At 1200 px nothing scrolls, not even a matrix: one too wide to stand beside its left side
    and its label has the whole row (the reference's (7) and (10))."""
    assert not found(measured, "cut", widths=(1200,))


def test_on_a_desktop_a_products_dot_stands_only_at_a_break(measured):
    """At 1200 px a product that stands on one row sets its factors side by side, as the reference
    writes [a][b]; a dot shows in a product that breaks (and on a phone), or beside a word or a
    number."""
    assert not found(measured, "dots", widths=(1200,))


def test_only_an_explicit_matrix_scrolls(measured):
    assert not found(measured, "scrolls")


def test_on_a_desktop_no_equation_is_wider_than_its_column(measured):
    assert not found(measured, "wide", widths=(1200,))


def test_the_two_sides_of_a_line_never_run_into_each_other(measured):
    assert not found(measured, "sides")


def test_a_row_that_goes_on_starts_with_its_operator(measured):
    assert not found(measured, "breaks")


def test_generated_code_wraps_at_the_column(measured):
    assert not found(measured, "code")


def test_no_fraction_is_set_inside_another(measured):
    assert not found(measured, "nested")


def test_results_are_set_at_display_size(measured):
    assert measured["matmul-2x4x3", 1200]["boxes"] and not found(measured, "small")


def test_operator_names_read_as_one_word(measured):
    assert not found(measured, "names")


@pytest.mark.parametrize(
    "page, css, width, seen",
    [
        (
            "matmul-2x4x3",
            ".equation { position: relative; } .ref-num { position: absolute; left: 1rem; top: 0.6rem; }",
            400,
            "overlap",
        ),
        ("matmul-2x4x3", ".rule { white-space: nowrap; max-width: 3rem; overflow: hidden; }", 1200, "hidden"),
        ("matmul-2x4x3", ".equation .rhs { flex-wrap: nowrap; }", 400, "scrolls"),
        ("conv2d-1x3x16x32-2x3x4x5", ".equation .long .lhs { grid-column: 1; }", 1200, "sides"),
        ("matmul-2x4x3", "pre { white-space: pre; overflow-x: auto; }", 400, "code"),
        ("matmul-2x4x3", ".equation .wide .rhs { grid-column: 2; }", 1200, "cut"),
        ("matmul-2x4x3", ".equation .times mjx-mo { display: inline-block !important; }", 1200, "dots"),
        (
            "matmul-2x4x3",
            ".equation .product { display: inline-flex; flex-wrap: wrap; }"
            " .equation .times mjx-mstyle > mjx-mo:nth-child(2) { display: none; }",
            400,
            "breaks",
        ),
    ],
)
def test_the_measures_see_a_broken_stylesheet(tabs, page, css, width, seen):
    """Each measure fails on a page whose stylesheet brings back what it looks for."""
    tab = tabs(page)
    tab.set_viewport_size({"width": width, "height": 900})
    assert not tab.evaluate(MEASURE)[seen]
    with restyled(tab, css):
        result = tab.evaluate(MEASURE)
    assert result[seen], result


@pytest.fixture(scope="module")
def tabs(browser, tmp_path_factory):  # noqa: F811
    """A gallery page by name, typeset once for every stylesheet the measures are tried on."""
    folder = tmp_path_factory.mktemp("restyled")
    opened: dict = {}

    def tab(name: str):
        if name not in opened:
            opened[name] = browser.new_page(viewport={"width": 1200, "height": 900})
            typeset(opened[name], _local(ROOT / "output" / name / f"{name}.html", folder).as_uri())
        return opened[name]

    yield tab
    for page in opened.values():
        page.close()


def test_the_break_measure_sees_a_product_wrapped_without_its_dot(browser, tmp_path):  # noqa: F811
    """The reference's (11) on a phone: its two matrices take a row each, and without the dot the
    second reads as a line of its own."""
    path = _local(ROOT / "output" / "matmul-2x4x3" / "matmul-2x4x3.html", tmp_path)
    html = path.read_text(encoding="utf-8")
    assert html.count(r"{} \cdot ") >= 3
    path.write_text(html.replace(r"{} \cdot ", ""), encoding="utf-8")
    tab = browser.new_page(viewport={"width": 400, "height": 900})
    typeset(tab, path.as_uri())
    result = tab.evaluate(MEASURE)
    tab.close()
    assert any(b.startswith("eq-regroup_A (11)") for b in result["breaks"]), result["breaks"]
