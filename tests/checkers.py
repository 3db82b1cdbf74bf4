"""Drivers for the real tools that check symgrad's output, and formula extraction."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from .conftest import require, require_program

ROOT = Path(__file__).resolve().parent.parent
NODE_CHECKER = ROOT / "tests" / "js" / "check-formulas.js"
LOCAL_MATHJAX = ROOT / "node_modules" / "mathjax" / "es5" / "tex-chtml-full.js"


class _TextOnly(HTMLParser):
    """The page's text as a reader's typesetter sees it: no scripts, styles or code."""

    SKIP = frozenset({"script", "style", "pre", "code"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def html_text(source: str) -> str:
    parser = _TextOnly()
    parser.feed(source)
    return "".join(parser.parts)


def strip_front_matter(source: str) -> str:
    if source.startswith("---\n"):
        end = source.index("\n---\n", 4)
        return source[end + 5 :]
    return source


INLINE = re.compile(r"\\\((.*?)\\\)", re.S)
DISPLAY = re.compile(r"\\\[(.*?)\\\]", re.S)


def html_formulas(source: str) -> tuple[list[tuple[str, bool]], str]:
    """(formulas, text left over once they are removed) of an HTML page or fragment."""
    text = html_text(strip_front_matter(source))
    found = [(m.group(1), False) for m in INLINE.finditer(text)]
    found += [(m.group(1), True) for m in DISPLAY.finditer(text)]
    rest = DISPLAY.sub("", INLINE.sub("", text))
    return found, rest


def md_formulas(source: str) -> tuple[list[tuple[str, bool]], str]:
    text = re.sub(r"^```.*?^```", "", source, flags=re.S | re.M)
    display = [(m.group(1), True) for m in re.finditer(r"\$\$(.*?)\$\$", text, re.S)]
    text = re.sub(r"\$\$(.*?)\$\$", "", text, flags=re.S)
    inline_re = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.S)
    inline = [(m.group(1), False) for m in inline_re.finditer(text)]
    return display + inline, inline_re.sub("", text)


def formulas_of(path: Path) -> tuple[list[tuple[str, bool]], str]:
    source = path.read_text(encoding="utf-8")
    if path.name.endswith(".html") or path.parent.name == "_posts":
        return html_formulas(source)
    if path.suffix == ".md":
        return md_formulas(source)
    raise ValueError(f"no formula extraction for {path}")


def check_formulas(formulas: list[tuple[str, str, bool]]) -> list[dict]:
    """Run MathJax and KaTeX over (id, tex, display) triples in one Node process; returns failures."""
    require_program("node", "Node.js 20")
    require(
        "mathjax-full and katex",
        (ROOT / "node_modules" / "mathjax-full").is_dir() and (ROOT / "node_modules" / "katex").is_dir(),
        "npm ci",
    )
    # the same formula often stands in several documents (a page's .html and .md): parse it once
    # and report its failure under every id that holds it
    ids: dict[tuple[str, bool], list[str]] = {}
    for i, t, d in formulas:
        ids.setdefault((t, d), []).append(i)
    payload = json.dumps([{"id": n, "tex": t, "display": d} for n, (t, d) in enumerate(ids)])
    done = subprocess.run(
        ["node", str(NODE_CHECKER)], input=payload, capture_output=True, text=True, cwd=ROOT, check=True
    )
    holders = list(ids.values())
    return [{**r, "id": i} for r in json.loads(done.stdout) if r["mathjax"] or r["katex"] for i in holders[r["id"]]]


def compile_tex(tex_path: Path, engine: str = "pdflatex") -> subprocess.CompletedProcess:
    """latexmk in a fresh folder; -Werror turns undefined references into failures."""
    require_program("latexmk", "apt-get install latexmk texlive-latex-base texlive-latex-recommended")
    require_program(engine, "apt-get install texlive-latex-base texlive-luatex")
    return subprocess.run(
        [
            "latexmk",
            "-pdf" if engine == "pdflatex" else f"-{engine}",
            "-Werror",
            "-interaction=nonstopmode",
            "-halt-on-error",
            tex_path.name,
        ],
        cwd=tex_path.parent,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=300,
    )


def overfull_boxes(tex_path: Path) -> list[float]:
    """How far, in points, each overfull line of the last compilation sticks out."""
    log = tex_path.with_suffix(".log").read_text(errors="replace")
    return [float(x) for x in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]


def undefined_references(tex_path: Path) -> list[str]:
    log = tex_path.with_suffix(".log").read_text(errors="replace")
    return re.findall(r"Reference `([^']+)' on page \d+ undefined", log) + (
        ["undefined references"] if "There were undefined references" in log else []
    )


def chromium_browser(playwright):
    require_program("chromium", "apt-get install chromium")
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium"),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


def typeset(page, url: str, screenshot: Path | None = None) -> dict:
    """Open a page, wait for MathJax, count what it typeset and what it rejected."""
    page.goto(url)
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")
    result = page.evaluate("""() => ({
        containers: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
        text: document.body.innerText,
    })""")
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=False)
    return result


@contextlib.contextmanager
def restyled(page, css: str):
    """The typeset page with ``css`` after its own stylesheet, as if written at the end of it, and
    without it again afterwards: the layout follows the stylesheet, and MathJax's output does not
    (see at_widths), so one typeset page serves every stylesheet a test tries."""
    handle = page.add_style_tag(content=css)
    try:
        yield page
    finally:
        handle.evaluate("e => e.remove()")


def at_widths(browser, url: str, widths, measure, height: int = 900) -> dict:
    """Typeset a page once, in a window of the first width, and measure it at each width in turn:
    width -> what measure(page) returned. MathJax 3's CommonHTML output breaks no lines, so what it
    sets does not depend on the window, and the page's stylesheet lays a narrowed window out as one
    opened at that width (test_page_layout.py checks this on the reference page); one typeset
    instead of one per width."""
    page = browser.new_page(viewport={"width": widths[0], "height": height})
    try:
        result = typeset(page, url)
        assert result["errors"] == 0, url
        out = {}
        for width in widths:
            page.set_viewport_size({"width": width, "height": height})
            out[width] = measure(page)
        return out
    finally:
        page.close()


# --- PDF pages ------------------------------------------------------------------------------

# The font sizes of LaTeX's 11pt article in PDF points (TeX's 10.95pt is 10.91bp): script,
# scriptscript, footnote, small, normal and the heading sizes. A scaled equation sets glyphs at
# other sizes, which is how a \resizebox shows in the PDF.
ARTICLE_11PT_SIZES = (5.98, 7.97, 8.97, 9.96, 10.91, 11.96, 14.35, 17.22, 20.66)
FOOTNOTE_SIZE = 8.97


def glyph_sizes(pdf: Path) -> set[float]:
    """The size of every piece of text on every page, in PDF points."""
    import pypdf

    sizes: set[float] = set()

    def visit(text, cm, tm, font, size):
        if text.strip():
            sizes.add(round(size * abs(tm[3] * cm[3]), 2))

    for page in pypdf.PdfReader(pdf).pages:
        page.extract_text(visitor_text=visit)
    return sizes


def page_gaps(pdf: Path, margin_cm: float = 2.0, dpi: int = 40) -> list[float]:
    """For every page, the tallest run of blank pixel rows inside the text area, as a fraction
    of its height: what a display pushed to the next page leaves behind."""
    require_program("pdftoppm", "apt-get install poppler-utils")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(pdf), f"{folder}/p"], check=True)
        gaps = []
        for image in sorted(Path(folder).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[1])):
            width, height, pixels = _pgm(image.read_bytes())
            margin = round(margin_cm / 2.54 * dpi)
            rows = range(margin, height - margin)
            blank = [min(pixels[r * width + margin : (r + 1) * width - margin]) > 200 for r in rows]
            run = longest = 0
            for is_blank in blank:
                run = run + 1 if is_blank else 0
                longest = max(longest, run)
            gaps.append(longest / len(rows))
        return gaps


def _pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and 8-bit pixels of a binary PGM (P5), as pdftoppm -gray writes it."""
    fields, position = [], 0
    while len(fields) < 4:
        while data[position : position + 1].isspace():
            position += 1
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    magic, width, height, _ = fields
    assert magic == b"P5", magic
    return int(width), int(height), data[position + 1 :]


# --- How the printed pages break ------------------------------------------------------------
# Read from poppler's pdftotext: the words of each page with their boxes (-bbox) and its lines
# as laid out (-layout). Pages are US letter with 2 cm margins (tex.j2's geometry).

PAGE_HEIGHT, MARGIN = 792.0, 2 / 2.54 * 72
TALL_ROW = 0.15 * (PAGE_HEIGHT - 2 * MARGIN)  # a row this tall may end a page (tex.j2's \sgshort)
_BOX = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
_DELIMITER_PIECE = re.compile(r"[\s\ue000-\uf8ff\u239b-\u23ad]")  # how pdftotext gives tall brackets
_EQUATION_NUMBER = re.compile(r"\(\d+\)")
_OPERATOR = re.compile(r"[=+\-−·×⊙⊘]+")
_HEADING = re.compile(r"^\s*(\d+(?:\.\d+)*)\s{2,}[A-Z]")
_WIDE_GAP = 9.0  # points: wider than any space between words of running text
_NAME_EQUALS = re.compile(r"[a-z]{2,} =$")  # "padding =": a parameter's name, its value to follow


def pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every page's words as (left, top, right, bottom, text); a piece of a tall delimiter is "|"."""
    import html

    require_program("pdftotext", "apt-get install poppler-utils")
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        words = []
        for found in _BOX.finditer(page):
            raw = html.unescape(found.group(5))
            text = _DELIMITER_PIECE.sub("", raw) or ("|" if raw.strip() else "")
            if text:
                words.append((*(float(found.group(i)) for i in range(1, 5)), text))
        pages.append(words)
    return pages


def pdf_lines(pdf: Path) -> list[list[str]]:
    """Every page's lines as pdftotext -layout sets them, without blank lines, fragments of four
    characters or fewer (the numerator or the subscripts of a formula) and the page number."""
    require_program("pdftotext", "apt-get install poppler-utils")
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in out.split("\f"):
        lines = [line.rstrip() for line in page.split("\n") if len(_DELIMITER_PIECE.sub("", line)) > 4]
        pages.append(lines)
    while pages and not pages[-1]:
        pages.pop()
    return pages


def _beside(words, word):
    """The other words on the same line as word: reaching into the middle half of its height."""
    middle, quarter = (word[1] + word[3]) / 2, (word[3] - word[1]) / 4
    return [w for w in words if w is not word and w[1] < middle + quarter and w[3] > middle - quarter]


def lone_marks(pdf: Path) -> list[str]:
    """Equation numbers and operators that have a line to themselves: nothing but other operators
    beside them, or (an operator) only a bracket on one side."""
    found = []
    for n, words in enumerate(pdf_words(pdf), 1):
        for word in words:
            number = _EQUATION_NUMBER.fullmatch(word[4])
            if not (number or _OPERATOR.fullmatch(word[4])):
                continue
            near = [w for w in _beside(words, word) if not _OPERATOR.fullmatch(w[4])]
            between = any(w[2] <= word[0] for w in near) and any(w[0] >= word[2] for w in near)
            if not any(w[4] != "|" for w in near) and (number or not between):
                found.append(f"page {n}: {word[4]} on a line of its own")
    return found


def _label_start(words, number):
    """The first word of the rule label left of an equation number: after a wide gap."""
    start = None
    for w in sorted((w for w in _beside(words, number) if w[2] <= number[0]), key=lambda w: -w[0]):
        if start is not None and start[0] - w[2] > _WIDE_GAP:
            break
        start = w
    return start


def _label_starts(words, start):
    """Words that start a rule label in the column where start does: a check mark or a word of
    its size, at its left edge, after a wide gap."""
    found = []
    for w in words:
        alike = w[4] == "✓" or (w[4].isalpha() and abs((w[3] - w[1]) - (start[3] - start[1])) < 0.5)
        if alike and abs(w[0] - start[0]) < 1.5:
            left = [v for v in _beside(words, w) if v[2] <= w[0] + 0.5]
            if not left or w[0] - max(v[2] for v in left) > _WIDE_GAP:
                found.append(w)
    return found


def break_problems(pdf: Path) -> list[str]:
    """Breaks a reader would mind: a line of an argument list that ends with a parameter's name
    and "=", its value on the next line; a page that ends with the line introducing a display (it
    ends with a colon), a heading with nothing under it (at a page's foot, or straight before a
    heading of its own rank or above), and a page that ends with the short first row of an
    equation whose next row, by the column of its rule labels, starts the next page."""
    words, lines = pdf_words(pdf), pdf_lines(pdf)
    found = []
    for n, text in enumerate(lines, 1):
        for line, after in zip(text, [*text[1:], ""]):
            for part in re.split(r"\s{3,}", line.strip()):  # a rule label stands apart
                inside = part.count("(") > part.count(")") or re.match(r"\s*\(\d", after)
                if _NAME_EQUALS.search(part) and inside:
                    found.append(f"page {n}: a parameter's name apart from its value: {part!r}")
        last_page = n == len(lines)
        for i, line in enumerate(text):
            heading = _HEADING.match(line)
            if not heading:
                continue
            below = _HEADING.match(text[i + 1]) if i + 1 < len(text) else None
            sibling = below is not None and not below.group(1).startswith(heading.group(1) + ".")
            if sibling or (len(text) - i <= 2 and not last_page):
                found.append(f"page {n}: nothing under the heading {line.strip()!r}")
        if last_page:
            continue
        if text and text[-1].endswith(":"):
            found.append(f"page {n} ends with {text[-1].strip()!r}, its display on page {n + 1}")
        numbers = [w for w in words[n - 1] if _EQUATION_NUMBER.fullmatch(w[4])]
        if not numbers:
            continue
        last = max(numbers, key=lambda w: w[1])
        start = _label_start(words[n - 1], last)
        if start is None:
            continue
        later = [w for w in _label_starts(words[n - 1], start) if w[1] > last[3]]
        first_number = min((w[1] for w in words[n] if _EQUATION_NUMBER.fullmatch(w[4])), default=PAGE_HEIGHT)
        continued = [w for w in _label_starts(words[n], start) if w[3] < first_number]
        depth = max(w[3] for w in words[n - 1] if w[3] < PAGE_HEIGHT - MARGIN) - (last[1] + last[3]) / 2
        if not later and continued and 2 * depth < TALL_ROW:
            found.append(f"page {n} ends with the first row of {last[4]}, its next row on page {n + 1}")
    return found
