"""The display formulas of a published derivation, equation by equation, line by line.

- HTML (a Jekyll post such as the reference): each ``<div class="... equation ...">``, its
  formulas ``\\( ... \\)`` in order (one per line, as ``<p><span>`` groups write them), and its
  number from ``<span class="ref-num">``; MathJax 2's ``<script type="math/tex; mode=display">`` (an
  equation environment in one read row by row);
  ``\\[..\\]``, ``$$..$$`` and equation environments in the page's text.
- Markdown: each ``$$ ... $$`` or ``\\[ ... \\]`` block, each equation environment, and MathJax 2's
  display scripts.
- LaTeX: ``\\[..\\]``, ``$$..$$``, and each ``equation``, ``align``, ``gather``, ``multline``,
  ``eqnarray``, ``flalign``, ``alignat``, ``xalignat``, ``xxalignat``, ``dmath`` or ``displaymath``
  environment (starred or not).

An aligned display gives a line per row. What a reader does not see is never read: code (fenced,
indented, in backticks, <pre>, <code>, verbatim), comments (HTML, Liquid, LaTeX %, \\iffalse or
\\if0 ... \\fi), scripts, styles and front matter. A display never closed is an error.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import SymgradError


@dataclass
class Shown:
    """One display equation of the document: its number as printed (or its position), its lines.

    rows: how its rows relate. "align": a row may continue the one before, and the & of a row
    align it, an equation every two columns; "eqnarray": the same with three columns per
    equation; "gather": every row an equation of its own. ends: in an HTML page, where each
    line's formula ends (its mark goes there)."""

    number: str
    lines: list
    rows: str = "align"
    ends: list = field(default_factory=list)
    span: tuple = ()  # where the display starts and ends in the source: the prose before it is its lead-in


_DIV = re.compile(r'<div[^>]*class="[^"]*\bequation\b[^"]*"[^>]*>(.*?)</div>', re.DOTALL)
# an equation written as a paragraph of its own, its number beside it, in a div of another class
_PARAGRAPH = re.compile(r'<p[^>]*class="[^"]*\bequation\b[^"]*"[^>]*>(.*?)</p>', re.DOTALL)
_INLINE = re.compile(r"\\\((.*?)\\\)", re.DOTALL)
_NUMBER = re.compile(r'<span class="ref-num">\s*\(?\s*([^)<]*?)\s*\)?\s*</span>')
_TAG = re.compile(r"\\tag\*?\{([^}]*)\}")
# what opens a display, in Markdown, LaTeX and the text of an HTML page (\\[2pt] is a line break)
# (breqn's dmath, and xalignat and xxalignat, whose columns pair as align's do; breqn's dgroup
# holds dmath environments, each read)
_ENVIRONMENTS = "equation|align|gather|multline|eqnarray|flalign|alignat|xalignat|xxalignat|displaymath|dmath"
_OPEN = re.compile(r"\$\$|(?<!\\)\\\[|\\begin\{(" + _ENVIRONMENTS + r")(\*?)\}(\{\d+\})?")
# in Markdown, kramdown's escaped display: \\[ .. \\] is \[ .. \] once the Markdown is read
_OPEN_MARKDOWN = re.compile(r"\$\$|(?<!\\)\\\\\[|(?<!\\)\\\[|\\begin\{(" + _ENVIRONMENTS + r")(\*?)\}(\{\d+\})?")
_SCRIPT = re.compile(
    r"""<script\b[^>]*\btype\s*=\s*["']?math/tex;\s*mode\s*=\s*display["']?[^>]*>(.*?)</script\s*>""",
    re.DOTALL | re.IGNORECASE,
)


def read(path: Path) -> tuple[list, str]:
    """The equations of a document, and its text (for front matter)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SymgradError(f"cannot read {path}: {exc}") from None
    suffix = path.suffix.lower()
    if html_source(path, text):
        return from_html(text, markdown=suffix != ".html" and suffix != ".htm"), text
    if suffix in (".md", ".markdown"):
        return from_markdown(text), text
    if suffix == ".tex":
        return from_latex(text), text
    raise SymgradError(f"check-doc reads .md, .html and .tex files, not {path.name}")


def visible(path: Path, text: str) -> str:
    """The text as a reader sees it, positions kept: comments, code, scripts and front matter
    blanked out, as the displays are read."""
    suffix = path.suffix.lower()
    if suffix == ".tex" and not html_source(path, text):
        return _hidden_latex(text)
    return _hidden_html(text, markdown=suffix not in (".html", ".htm"))


def html_source(path: Path, text: str) -> bool:
    """An HTML page, or a post whose equations are HTML blocks (the reference is such a post)."""
    suffix = path.suffix.lower()
    return suffix in (".html", ".htm") or (
        suffix in (".md", ".markdown", ".txt") and bool(_DIV.search(text) or _PARAGRAPH.search(text))
    )


def annotate(text: str, equations: list, marks: list, verdicts: str, markdown: bool = False) -> str:
    """The HTML post with marks[e][k] where the k-th line of equations[e] ends (as from_html read
    them) and the verdicts at the end of its body: before the last </body> a reader's browser
    sees, not one inside a comment."""
    inserts = sorted(
        ((end, mark) for eq, row in zip(equations, marks) for end, mark in zip(eq.ends, row)), key=lambda x: x[0]
    )
    out, last = [], 0
    for end, mark in inserts:
        out += [defuse(text[last:end]), mark]
        last = end
    out.append(defuse(text[last:]))
    page = "".join(out)
    end = _hidden_html(page, markdown).lower().rfind("</body")
    return page[:end] + verdicts + page[end:] if end >= 0 else page + verdicts


# MathJax macros that act on the page (a link, a class, a style, an id, data, a loaded extension).
# The annotated copy runs the post's own MathJax, whatever its configuration, so their first
# argument is dropped from the post's text: \href{javascript:…}{x} is shown as x, and nothing acts.
# The backslash may be written as a character reference, which the browser decodes before MathJax
# reads the page; the macro is then dropped alone and its arguments stay as plain groups.
_ACTIVE = re.compile(r"(?:\\|&#0*92;|&#[xX]0*5[cC];|&bsol;)(href|class|style|cssId|data|require)(?![A-Za-z])\s*")


def defuse(text: str) -> str:
    """The text with every active MathJax macro reduced to its shown argument (or to nothing)."""
    out, last = [], 0
    for match in _ACTIVE.finditer(text):
        if match.start() < last:
            continue
        end = _group_end(text, match.end()) if match.group(0).startswith("\\") else None
        out.append(text[last : match.start()])
        last = match.end() if end is None else end  # without a plain group, the macro alone goes
    out.append(text[last:])
    return "".join(out)


def _group_end(text: str, start: int) -> int | None:
    """The index just past the brace group that opens at ``start``, or None."""
    if start >= len(text) or text[start] != "{":
        return None
    depth, k = 0, start
    while k < len(text):
        char = text[k]
        if char == "\\":
            k += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return k + 1
        k += 1
    return None


def from_html(text: str, markdown: bool = False) -> list:
    """Every display a reader of the page sees, in order: the equation blocks (a line per \\(..\\)),
    MathJax 2's display scripts, and \\[..\\], $$..$$ and equation environments in the page's
    text. Comments, code, scripts and styles are not seen, so not read."""
    seen = _hidden_html(text, markdown)
    found = []  # (start, Shown without its number, printed number or None)
    taken = []  # the spans already read, so a display is not read twice
    divs = list(_DIV.finditer(seen))
    paragraphs = [p for p in _PARAGRAPH.finditer(seen) if not any(d.start() <= p.start() < d.end() for d in divs)]
    for div in sorted(divs + paragraphs, key=lambda m: m.start()):
        body = seen[div.start(1) : div.end(1)]
        spans = list(_INLINE.finditer(seen, div.start(1), div.end(1)))
        number = _NUMBER.search(body)
        printed = number.group(1).strip() if number and number.group(1).strip() else None
        if spans:
            lines = [html.unescape(m.group(1)).strip() for m in spans]
            found.append((div.start(), Shown("", lines, ends=[m.end() for m in spans]), printed))
    for script in _SCRIPT.finditer(seen):
        shown = _script(text[script.start(1) : script.end(1)])
        found.append((script.start(), _at(shown, script.end()), None))
        taken.append((script.start(), script.end()))
    for start, end, body, rows in _displays(_blank(seen, taken), markdown):
        found.append((start, _at(_display(html.unescape(body), rows), end), None))
    found.sort(key=lambda item: item[0])
    for _, shown, printed in found:
        shown.number = printed or shown.number
    placed = [(start, shown.ends[-1] if shown.ends else start, shown) for start, shown, _ in found]
    return _numbered(_continued(seen, placed))


def from_markdown(text: str) -> list:
    """A Markdown post: its HTML blocks are HTML (a display script is read, <pre> and <code> are
    not), its code is code."""
    return from_html(text, markdown=True)


def from_latex(text: str) -> list:
    seen = _hidden_latex(text)
    return _numbered(_continued(seen, [(a, b, _display(body, rows)) for a, b, body, rows in _displays(seen)]))


def _numbered(displays: list) -> list:
    for k, shown in enumerate(displays, 1):
        shown.number = shown.number or f"#{k}"
    return displays


# a first row that can only go on with the display before: an operator first, no "=" of its own
_GOES_ON = re.compile(
    r"(\s|\\q?quad|\\[,;:!]|~|\{\}|\\hspace\*?\{[^{}]*\}|\\h?phantom\{[^{}]*\})*(\+|-|−|\\(?:cdot|times|pm|mp)(?![A-Za-z]))"
)


def _continued(seen: str, placed: list) -> list:
    """The displays in order, a display whose first row can only continue the one before
    (\\[a = b\\] then \\[\\quad + c\\], with nothing but markup between) read as its next rows."""
    out: list = []
    end = 0
    for start, stop, shown in placed:
        first = shown.lines[0] if shown.lines else ""
        between = re.sub(r"<[^>]*>", "", seen[end:start])
        relation = any(top and "=" in m.group(0) and not m.group(0).startswith("\\") for m, top in top_level(first))
        if out and not between.strip() and _GOES_ON.match(first) and not relation:
            out[-1].lines += shown.lines
            out[-1].ends += shown.ends
            out[-1].span = (out[-1].span[0], stop)
        else:
            shown.span = (start, stop)
            out.append(shown)
        end = stop
    return out


def _at(shown: Shown, end: int) -> Shown:
    """A display whose every line's mark goes at one place of the page (after it)."""
    shown.ends = [end] * len(shown.lines)
    return shown


def _display(body: str, rows: str) -> Shown:
    if rows == "enclosed":
        return _enclosed(body)
    tag = _TAG.search(body)
    if re.search(r"\\begin\{gathered\}", body):
        rows = "gather"
    return Shown(tag.group(1) if tag else "", _rows(_TAG.sub("", body)), rows)


def _script(body: str) -> Shown:
    """A MathJax display script's formula: MathJax reads an equation environment there, its rows
    included, as LaTeX does."""
    return _enclosed(body)


def _enclosed(body: str) -> Shown:
    """A display whose whole formula is one environment (``$$\\begin{align*} .. \\end{align*}$$``,
    which MathJax typesets as the environment, its rows included): read as that environment. A
    label or a full stop after it changes nothing that is read."""
    tag = _TAG.search(body)
    bare = re.sub(r"\\label\{[^}]*\}", "", _TAG.sub("", body)).rstrip().rstrip(".,;")
    inner = _WHOLE.fullmatch(bare)
    if inner is None or _OPEN.search(inner.group(4)):  # not one environment: read as written
        return _display(body, "align")
    shown = _display(inner.group(4), {"gather": "gather", "eqnarray": "eqnarray"}.get(inner.group(1), "align"))
    shown.number = shown.number or (tag.group(1) if tag else "")
    return shown


_WHOLE = re.compile(r"\s*\\begin\{(" + _ENVIRONMENTS + r")(\*?)\}(\{\d+\})?(.*)\\end\{\1\2\}\s*", re.DOTALL)


def _displays(text: str, markdown: bool = False):
    """(start, end, body, rows) of each display in text that masks what a reader does not see."""
    position = 0
    while True:
        opening = (_OPEN_MARKDOWN if markdown else _OPEN).search(text, position)
        if opening is None:
            return
        name = opening.group(1)
        closing = {"$$": "$$", "\\[": "\\]", "\\\\[": "\\\\]"}.get(
            opening.group(0)
        ) or f"\\end{{{name}{opening.group(2)}}}"
        end = text.find(closing, opening.end())
        if end < 0:
            line = text.count("\n", 0, opening.start()) + 1
            raise SymgradError(f"the display {opening.group(0)} on line {line} is never closed with {closing}")
        rows = {"gather": "gather", "eqnarray": "eqnarray"}.get(name or "", "align")
        body = text[opening.end() : end]
        if name is None:  # $$ or \[: one environment inside is read as that environment
            rows = "enclosed"
        if name == "dmath":  # its options: \begin{dmath}[label=...]
            body = re.sub(r"\A\s*\[[^\]]*\]", "", body)
        yield opening.start(), end + len(closing), body, rows
        position = end + len(closing)


# --- what a reader does not see: replaced by spaces, so that places in the text stay the same ------


def _blank(text: str, spans) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)  # spans may overlap
        if end > start:
            out += [text[last:start], re.sub(r"[^\n]", " ", text[start:end])]
            last = end
    out.append(text[last:])
    return "".join(out)


def _spans(pattern: str, text: str, flags: int = re.DOTALL) -> list:
    return [m.span() for m in re.finditer(pattern, text, flags)]


_FRONT = r"\A---\n.*?\n---[ \t]*(?:\n|\Z)"


# read from left to right, so that a "<!--" inside a script is the script's, and a "<script>" inside
# a comment is the comment's
# (<![CDATA[ and <!x or <?x open a comment in an HTML page, which the first > closes; a Liquid
# comment is never in the built page)
_UNSEEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<[!?][^>]*(?:>|\Z)|\{%-?\s*comment\s*-?%\}.*?(?:\{%-?\s*endcomment\s*-?%\}|\Z)"
    r"|<(script|style|pre|code|textarea)\b[^>]*>.*?(?:</\1\s*>|\Z)",
    re.DOTALL | re.IGNORECASE,
)


def _hidden_html(text: str, markdown: bool) -> str:
    if markdown:
        text = _hidden_markdown_code(text)
    hidden = _spans(_FRONT, text)
    for m in _UNSEEN.finditer(text):
        if not _SCRIPT.match(text, m.start()):  # MathJax reads a display script
            hidden.append(m.span())
    return _blank(text, hidden)


def _hidden_markdown_code(text: str) -> str:
    """Fenced code (``` or ~~~), indented code, and code spans: shown as code, never as math."""
    hidden: list = []
    offset, fence, blank_before, in_list, in_code = 0, "", True, False, False
    depth = 0  # inside a block of HTML (<div> .. </div>), as kramdown reads it: no Markdown there
    for line in text.splitlines(keepends=True):
        stripped, indented = line.strip(), bool(re.match(r"( {4}|\t)", line))
        inside, depth = (
            depth > 0,
            max(0, depth + len(re.findall(r"<div\b", line)) - len(re.findall(r"</div\s*>", line))),
        )
        if inside and not fence:
            offset += len(line)
            continue
        opening = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if fence:
            hidden.append((offset, offset + len(line)))
            if re.fullmatch(re.escape(fence[0]) + "{" + str(len(fence)) + r",}", stripped):
                fence = ""
        elif opening:
            fence = opening.group(1)
            hidden.append((offset, offset + len(line)))
        elif stripped and indented and (in_code or (blank_before and not in_list)):
            # indented code starts after a blank line, never inside a list (there it is the item's text)
            hidden.append((offset, offset + len(line)))
            in_code = True
        elif stripped:
            in_code = False
            if not indented:
                in_list = bool(re.match(r" {0,3}([-*+]|\d+[.)])\s", line))
        blank_before = not stripped
        offset += len(line)
    text = _blank(text, hidden)
    # a code span stays within its paragraph: it never crosses a blank line
    return _blank(text, _spans(r"(?<!`)(`+)(?!`)(?:[^\n]|\n(?![ \t]*\n))+?(?<!`)\1(?!`)", text))


def _hidden_latex(text: str) -> str:
    hidden = _spans(r"(?<!\\)%.*", text, 0)
    text = _blank(text, hidden)
    hidden = _spans(r"\\begin\{(comment|verbatim|Verbatim|lstlisting|minted)(\*?)\}.*?(?:\\end\{\1\2\}|\Z)", text)
    hidden += _spans(r"\\verb\*?(\S).*?\1", text, 0) + _iffalse(text)
    document = re.search(r"\\begin\{document\}", text)
    if document:
        hidden.append((0, document.end()))
    end = re.search(r"\\end\{document\}", text)
    if end:
        hidden.append((end.start(), len(text)))
    return _blank(text, hidden)


def _iffalse(text: str) -> list:
    """\\iffalse ... \\fi, conditionals inside it counted so that its own \\fi is the one found."""
    spans: list = []
    # \if0 compares 0 with the token after it: false unless that is 0 too
    for opening in re.finditer(r"\\iffalse(?![A-Za-z])|\\if\s*0(?!\s*0)", text):
        if spans and opening.start() < spans[-1][1]:
            continue
        depth = 0
        for token in re.finditer(r"\\if[A-Za-z]*|\\fi(?![A-Za-z])", text[opening.start() :]):
            depth += 1 if token.group(0) != r"\fi" else -1
            if depth == 0:
                spans.append((opening.start(), opening.start() + token.end()))
                break
        else:
            spans.append((opening.start(), len(text)))
    return spans


# --- rows -----------------------------------------------------------------------------------------

_NESTING = re.compile(r"\\begin\{[^}]*\}|\\end\{[^}]*\}|\\\\|\\.|[{}&]|[^\\{}&]+")


def top_level(text: str):
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
    """The rows of a display: split at each \\\\ that is not inside a matrix or a group. Their
    alignment marks & stay: they tell the equations of a row apart."""
    body = re.sub(r"\\(label|nonumber|notag)\b(\{[^}]*\})?", "", body)
    body = re.sub(r"\\(begin|end)\{(aligned|split|gathered|alignedat)\}(\{\d+\})?", "", body)
    body = re.sub(r"\\\\\*?\[[^\]]*\]", r"\\\\", body)  # \\[2pt]: a row's end with extra space
    return [r.strip() for r in _cut(body, "\\\\") if r.strip()]


def columns(row: str) -> list:
    """A row cut at its alignment marks & (outside groups and environments)."""
    return _cut(row, "&")


def _cut(text: str, mark: str) -> list:
    """The text cut at every ``mark`` token outside groups and environments."""
    parts: list[str] = []
    current: list[str] = []
    for m, top in top_level(text):
        if m.group(0) == mark and top:
            parts.append("".join(current))
            current = []
        else:
            current.append(m.group(0))
    parts.append("".join(current))
    return parts
