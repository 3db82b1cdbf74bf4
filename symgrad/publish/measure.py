"""How wide a formula sets, in em, estimated from its LaTeX.

A browser page cannot ask TeX how wide a line is, and MathJax 3 does not break lines, so the HTML
formats decide when they write a page whether an explicit matrix fits a desktop column or is
written entry by entry (documents.py). The estimate follows TeX's rules for the symgrad's own
notation: fractions and scripts shrink their parts by style, an array is its columns' widest
cells with the column gaps between them. It need not be exact: a matrix near the limit either
fits or scrolls by a little in its own row.
"""

from __future__ import annotations

import functools
import re

# The math a desktop column holds, in em (a 62 rem column less the box's padding, with the margin
# the estimate keeps): an explicit matrix wider than this is written entry by entry
COLUMN_EM = 55
# ... of which a rule label's column takes this much (9 rem of 0.78 rem type and its margin): a side
# wider than what is left beside its left side has a row of its own
LABEL_EM = 9
# ... and a phone's (400 px, less the page's and the box's padding): a term wider than this is
# broken between its factors, and an equation with a line wider than it sets its left sides above
# their right sides on a phone
PHONE_EM = 15

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}_^&]|\s+|.")
SCRIPT = 0.7  # the size of a script, and of a fraction's parts in text style
# widths in em of what is not a letter: binary operators and relations with their spaces
_WIDE = {"+": 1.2, "-": 1.2, "=": 1.3, "<": 1.3, ">": 1.3, ",": 0.45, "(": 0.4, ")": 0.4, "[": 0.3, "]": 0.3, "|": 0.3}
_COMMANDS = {
    r"\partial": 0.57,
    r"\cdots": 1.2,
    r"\ldots": 1.2,
    r"\vdots": 0.35,
    r"\ddots": 1.0,
    r"\cdot": 0.7,
    r"\times": 1.2,
    r"\odot": 1.2,
    r"\oslash": 1.2,
    r"\otimes": 1.2,
    r"\le": 1.3,
    r"\sum": 1.45,
    r"\left": 0.0,
    r"\right": 0.0,
    r"\bigl": 0.0,
    r"\bigr": 0.0,
    r"\Bigl": 0.0,
    r"\Bigr": 0.0,
    r"\,": 0.17,
    r"\ ": 0.25,
    r"\quad": 1.0,
    r"\qquad": 2.0,
    r"\\": 0.0,
}
_STYLE = {r"\displaystyle": 1.0, r"\textstyle": SCRIPT / SCRIPT, r"\scriptstyle": SCRIPT}
_ONE_ARGUMENT = (r"\boldsymbol", r"\mathrm", r"\operatorname", r"\mathbf", r"\text", r"\sqrt", r"\overline", r"\hat")


@functools.lru_cache(maxsize=8192)  # the HTML formats of one write measure the same lines
def width(tex: str, display: bool = True) -> float:
    """The estimated width of ``tex`` in em of the surrounding math."""
    tokens = [t for t in _TOKEN.findall(tex) if not t.isspace()]
    value, _ = _row(tokens, 0, 1.0, display)
    return value


def _group(tokens: list, i: int, scale: float, display: bool) -> tuple[float, int]:
    """One argument: a {...} group or a single token."""
    if i >= len(tokens):
        return 0.0, i
    if tokens[i] == "{":
        return _row(tokens, i + 1, scale, display, until="}")
    return _row([tokens[i]], 0, scale, display)[0], i + 1


def _row(tokens: list, i: int, scale: float, display: bool, until: str | None = None) -> tuple[float, int]:
    total = 0.0
    while i < len(tokens):
        t = tokens[i]
        if t == until:
            return total, i + 1
        if t in ("&", r"\\") and until is None:
            return total, i
        i += 1
        if t == "{":
            w, i = _row(tokens, i, scale, display, until="}")
        elif t in ("_", "^"):
            w, i = _group(tokens, i, scale * SCRIPT, False)
        elif t == r"\frac":
            inner = scale if display else scale * SCRIPT
            top, i = _group(tokens, i, inner, False)
            bottom, i = _group(tokens, i, inner, False)
            w = max(top, bottom) + 0.25 * scale
        elif t == r"\color":
            _, i = _group(tokens, i, scale, display)  # the colour's name
            w = 0.0
        elif t == r"\begin":
            w, i = _array(tokens, i, scale)
        elif t in _STYLE:
            display = t == r"\displaystyle"
            scale = scale if display or t == r"\textstyle" else scale * _STYLE[t]
            w = 0.0
        elif t in _ONE_ARGUMENT:
            w, i = _group(tokens, i, scale, display)
            w *= 1.1 if t == r"\boldsymbol" else 1.0
        elif t.startswith("\\"):
            w = _COMMANDS.get(t, 0.6) * scale
        else:
            w = _WIDE.get(t, 0.55) * scale
        total += w
    return total, i


def _array(tokens: list, i: int, scale: float) -> tuple[float, int]:
    """\\begin{array}{spec} cells \\end{array}: the widest cell of each column, and the gaps."""
    _, i = _group(tokens, i, scale, False)  # {array}
    _, i = _group(tokens, i, scale, False)  # {ccc}
    columns: dict[int, float] = {}
    column = 0
    while i < len(tokens) and tokens[i] != r"\end":
        w, i = _row(tokens, i, scale, False)
        columns[column] = max(columns.get(column, 0.0), w)
        if i < len(tokens) and tokens[i] == "&":
            column += 1
        elif i < len(tokens) and tokens[i] == r"\\":
            column = 0
        if i < len(tokens) and tokens[i] != r"\end":
            i += 1
    _, i = _group(tokens, i + 1, scale, False)  # {array} after \end
    return sum(columns.values()) + max(len(columns) - 1, 0) * 1.0 * scale + 0.4 * scale, i
