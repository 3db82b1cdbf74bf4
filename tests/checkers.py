"""Drivers for the real tools that check symgrad's output, and formula extraction."""

from __future__ import annotations

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
    payload = json.dumps([{"id": i, "tex": t, "display": d} for i, t, d in formulas])
    done = subprocess.run(
        ["node", str(NODE_CHECKER)], input=payload, capture_output=True, text=True, cwd=ROOT, check=True
    )
    return [r for r in json.loads(done.stdout) if r["mathjax"] or r["katex"]]


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
