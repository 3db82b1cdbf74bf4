"""The display formulas of a published derivation, equation by equation, line by line.

- HTML (a Jekyll post such as the reference): each ``<div class="... equation ...">``, its
  formulas ``\\( ... \\)`` in order (one per line, as ``<p><span>`` groups write them), and its
  number from ``<span class="ref-num">``.
- Markdown: each ``$$ ... $$`` block; an ``aligned`` block gives a line per row.
- LaTeX: each ``equation``, ``align`` or ``gather`` environment (starred or not), a line per row.

A line that starts with "=" continues the chain of the line before it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import SymgradError


@dataclass
class Shown:
    """One display equation of the document: its number as printed (or its position), its lines."""

    number: str
    lines: list


_DIV = re.compile(r'<div[^>]*class="[^"]*\bequation\b[^"]*"[^>]*>(.*?)</div>', re.DOTALL)
_INLINE = re.compile(r"\\\((.*?)\\\)", re.DOTALL)
_NUMBER = re.compile(r'<span class="ref-num">\s*\(?\s*([^)<]*?)\s*\)?\s*</span>')
_DOLLARS = re.compile(r"\$\$(.*?)\$\$", re.DOTALL)
_ENV = re.compile(r"\\begin\{(equation|align|gather|multline)(\*?)\}(.*?)\\end\{\1\2\}", re.DOTALL)
_TAG = re.compile(r"\\tag\{([^}]*)\}")


def read(path: Path) -> tuple[list, str]:
    """The equations of a document, and its text (for front matter)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymgradError(f"cannot read {path}: {exc}") from None
    suffix = path.suffix.lower()
    if html_source(path, text):
        return from_html(text), text
    if suffix in (".md", ".markdown"):
        return from_markdown(text), text
    if suffix == ".tex":
        return from_latex(text), text
    raise SymgradError(f"check-doc reads .md, .html and .tex files, not {path.name}")


def html_source(path: Path, text: str) -> bool:
    """An HTML page, or a post whose equations are HTML blocks (the reference is such a post)."""
    suffix = path.suffix.lower()
    return suffix in (".html", ".htm") or (suffix in (".md", ".markdown", ".txt") and bool(_DIV.search(text)))


def annotate(text: str, marks: list, verdicts: str) -> str:
    """The HTML post with marks[e][k] after the k-th formula of its e-th equation (the equations
    from_html reads, in order) and the verdicts at the end of the body."""
    out, last, e = [], 0, 0
    for div in _DIV.finditer(text):
        if not _INLINE.search(div.group(1)):
            continue
        for k, formula in enumerate(_INLINE.finditer(text, div.start(1), div.end(1))):
            out.append(text[last : formula.end()])
            out.append(marks[e][k])
            last = formula.end()
        e += 1
    out.append(text[last:])
    page = "".join(out)
    end = page.rfind("</body>")
    return page[:end] + verdicts + page[end:] if end >= 0 else page + verdicts


def from_html(text: str) -> list:
    out = []
    for k, div in enumerate(_DIV.finditer(text), 1):
        body = div.group(1)
        number = _NUMBER.search(body)
        lines = [html.unescape(m.group(1)).strip() for m in _INLINE.finditer(body)]
        if lines:
            out.append(Shown(number.group(1).strip() if number and number.group(1).strip() else f"#{k}", lines))
    return out


_NESTING = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\\\|\\.|[{}&]|[^\\{}&]+")


def _top_level(text: str):
    """Each piece of the text, with whether it stands outside every group and environment (where
    a \\\\ ends a row and an & aligns it)."""
    depth = 0
    for m in _NESTING.finditer(text):
        token = m.group(0)
        if token.startswith(r"\begin") or token == "{":
            depth += 1
        elif token.startswith(r"\end") or token == "}":
            depth -= 1
        yield m, depth == 0


def _rows(body: str) -> list:
    """The rows of an aligned display: split at each \\\\ that is not inside a matrix or a group,
    with the alignment marks & taken out of the rows (not out of a matrix)."""
    body = re.sub(r"\\(label|nonumber|notag)\b(\{[^}]*\})?", "", body)
    body = re.sub(r"\\(begin|end)\{(aligned|split|gathered)\}", "", body)
    rows: list[str] = []
    row: list[str] = []
    for m, top in _top_level(body):
        if m.group(0) == "\\\\" and top:
            rows.append("".join(row))
            row = []
        elif not (m.group(0) == "&" and top):
            row.append(m.group(0))
    rows.append("".join(row))
    return [r.strip() for r in rows if r.strip()]


def from_markdown(text: str) -> list:
    out = []
    for k, block in enumerate(_DOLLARS.finditer(text), 1):
        body = block.group(1)
        tag = _TAG.search(body)
        body = _TAG.sub("", body)
        out.append(Shown(tag.group(1) if tag else f"#{k}", _rows(body)))
    return out


def from_latex(text: str) -> list:
    text = re.sub(r"(?<!\\)%.*", "", text)  # comments
    out = []
    for k, env in enumerate(_ENV.finditer(text), 1):
        body = env.group(3)
        tag = _TAG.search(body)
        out.append(Shown(tag.group(1) if tag else f"#{k}", _rows(_TAG.sub("", body))))
    return out
