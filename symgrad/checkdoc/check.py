"""Every link of every chain of equalities in a document, checked exactly at every declared size
and every value of its free indices.

Verdicts, per link:
- "proven": equal at every declared size, for every value of the free indices;
- "pattern": equal only for some index values (a line written "for k ≠ i"), the pattern shown;
- "refuted": unequal for every index value tried, at a size shown, with the two sides' values;
- "unchecked": not checked, with the reason (illustrative dots, a construct not read, an
  undeclared symbol).
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from ..core.errors import SymgradError
from .declarations import Declarations
from .equality import equal
from .exact import free_symbols
from .latex import WIDE_SPACE, Unread, Unsupported, parse_chain
from .meaning import Meaning
from .outcomes import MAX_WORK, Ambiguous, Illustrative, Mismatch, OutOfRange, TooLarge, Undecided, Undefined
from .reader import columns, top_level, visible
from .summation import free_by_convention, summed, with_dropped

DOTS = re.compile(r"\\(ldots|cdots|vdots|ddots|dots)(?![A-Za-z])|\.\.\.")
# \frac{dL}{dx}, \frac{\mathrm{d}}{\mathrm{d}x}: a derivative written with the differential d, which
# the reader would otherwise take for a product by a declared d (a size d cancelling out)
_D = r"(?:\\(?:mathrm|text|operatorname)\s*\{\s*d\s*\}|\\rm\s*d|d)"
_GROUP_BODY = r"(?:[^{}]|\{[^{}]*\})*"  # a group's content, one level of braces inside
DIFFERENTIAL = re.compile(rf"\\frac\s*\{{\s*{_D}(?!\s*_){_GROUP_BODY}\}}\s*\{{\s*{_D}\s*(?:[A-Za-z{{]|\\[A-Za-z])")
SYMBOL = {"proven": "✓", "pattern": "◐", "refuted": "✗", "unchecked": "?"}


@dataclass
class Link:
    equation: str  # the document's number
    line: int  # 1-based line of the equation where the link's right side is written
    left: str  # LaTeX of the two sides, as written
    right: str
    verdict: str
    reason: str = ""  # for "unchecked" and "pattern"; for "refuted", the counterexample
    culprit: bool = False  # the line of this link's right side is the wrong one (its neighbours agree)
    position: int = 0  # which display of the document (numbers can repeat)


@dataclass
class Report:
    links: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # about the document itself (a number used twice)
    equations: list = field(default_factory=list)  # the document's, as read

    def count(self, verdict: str) -> int:
        return sum(1 for link in self.links if link.verdict == verdict)

    @property
    def refuted(self) -> list:
        return [link for link in self.links if link.verdict == "refuted"]


def check(equations: list, decl: Declarations, lead_ins: list | None = None) -> Report:
    """Every link of every equation. `lead_ins` is the prose just before each equation, where its
    author may state the case it covers ("for j ≠ i,")."""
    # the cycle collector off while the links are decided: the expressions made are freed as they
    # are dropped, and a collection walks every object kept (SymPy's caches, the points' intervals)
    # again and again, for nothing
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check(equations, decl, lead_ins)
    finally:
        if collecting:
            gc.enable()


def _check(equations: list, decl: Declarations, lead_ins: list | None = None) -> Report:
    meaning_of: dict = {}  # the declarations an equation reads (its scope's, or the post's) -> their meanings
    report = Report()
    numbers = [e.number for e in equations if not e.number.startswith("#")]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        report.notes.append(f"equation number ({number}) is used {numbers.count(number)} times")
    last = ""  # the last side of the display before, which a display starting with "=" goes on from
    for position, eq in enumerate(equations):
        stated = _conditions(PROSE, lead_ins[position], decl) if lead_ins else []
        lines, written = [], {}
        for k, line in enumerate(eq.lines, 1):
            formula, conditions = _written_condition(_unboxed(line), decl)
            lines.append(formula)
            written[k] = conditions
        scoped = decl.scopes.get(eq.number, decl)
        if id(scoped) not in meaning_of:
            meaning_of[id(scoped)] = [Meaning(scoped, size) for size in scoped.sizes]
        meanings = meaning_of[id(scoped)]
        stated = stated + [pair for case in scoped.cases for pair in _pairs(case, scoped)]
        chains = _chains(dataclasses.replace(eq, lines=lines))
        # "$$ = a_i(1 - a_i) $$" right after a display, nothing written between: it goes on from there
        opens = chains and chains[0][0][1] == "" and lines[0].lstrip().startswith("=")
        if opens and last and lead_ins and not lead_ins[position].strip():
            chains[0][0] = (chains[0][0][0], last)
        last = chains[-1][-1][1] if chains and chains[-1] else ""
        for chain in chains:
            if scoped.condition:  # declared a condition the author imposes: each "=" is shown, none checked
                for (_, left), (line, right) in itertools.pairwise(chain):
                    why = "a condition the author imposes (declared so), not an identity"
                    report.links.append(Link(eq.number, line, left, right, "unchecked", why, position=position))
                continue
            for link in _check_chain(eq.number, chain, meanings, stated, written):
                link.position = position
                report.links.append(link)
    return report


# "k ≠ i", "k \ne i", "i = j", "i = k = j": a case, between index letters, chained or not
_RELATION_OF_CASE = r"(=|≠|!=|\\neq?(?![A-Za-z]))"
_CASE = rf"(?P<case>[A-Za-z](?:\s*{_RELATION_OF_CASE}\s*[A-Za-z])+)(?![A-Za-z_{{])"
# in prose: the case after "if", "for", "when", "where", "case", capitalised too ("For $j \ne i$,"; "when
# $k \ne i$:"; "The diagonal case, i = k:")
PROSE = re.compile(r"\b(?i:if|for|when|whenever|where|provided|case),?\s*(?:\$|\\\()?\s*" + _CASE)
# after a formula: ", i = j", "\\quad (k \\ne i)", "\\qquad \\text{if } i = j", "\\text{ for } k \\neq i"
_WORD = r"(?:\\(?:text|mathrm|textrm|mbox)\{\s*(?:if|for|when|where)\s*\}|\b(?:if|for|when|where)\b)"
_GAP = rf"(?:\s|,|\\q?quad|\\[,;: ]|{_WORD})"
TRAILING = re.compile(rf"(?:,|\\q?quad|\\[,;]|{_WORD}){_GAP}*\(?\s*{_CASE}\s*\)?\s*[,.;]?\s*$")
# before a formula: "{\rm if}~i=j,~", "\text{if } i \ne j,": the case the rest of the line is stated for
_IF = r"(?:\{\s*\\rm\s*if\s*\}|\\(?:text|mathrm|textrm|mbox)\s*\{\s*if\s*\}|\\rm\s*if\b|\bif\b)"
_SPACE = r"(?:\s|~|\\[,;: ]|\\q?quad)*"
LEADING = re.compile(rf"^{_SPACE}{_IF}{_SPACE}{_CASE}{_SPACE},{_SPACE}")
# a condition whose "=" splits it over two sides: "{\rm if}~i" = "j,~\frac{..}"
_LEADING_LEFT = re.compile(rf"^{_SPACE}{_IF}{_SPACE}(?P<x>[A-Za-z]){_SPACE}$")
_LEADING_RIGHT = re.compile(rf"^{_SPACE}(?P<y>[A-Za-z]){_SPACE},{_SPACE}")
# after a formula: ", for~i=1,..., C", "\quad \text{for } i = 1, \dots, n": the range of an index
_RANGE_LEFT = re.compile(
    rf",?{_SPACE}(?:\\(?:text|mathrm|textrm|mbox)\s*\{{\s*for\s*\}}|\bfor\b){_SPACE}(?P<x>[A-Za-z]){_SPACE}$"
)
_RANGE_RIGHT = re.compile(r"^\s*[0-9A-Za-z]+\s*,\s*(?:\.\.\.|\\l?dots|\\cdots)\s*,?\s*[0-9A-Za-z{}]+\s*[.,;]?\s*$")


def lead_ins(path: Path, text: str, equations: list) -> list | None:
    """The sentence just before each display, in the same paragraph (where "for j ≠ i," is
    written), in the text a reader sees; None when a display's place is not known (then no case
    counts as stated)."""
    if not all(eq.span for eq in equations):
        return None
    seen = visible(path, text)
    out, end = [], 0
    for eq in equations:
        start, stop = eq.span
        paragraph = re.split(r"\n\s*\n", re.sub(r"<[^>]*>", " ", seen[end:start]).strip())[-1]
        out.append(re.split(r"(?<=[.!?])\s+(?=\S)", paragraph)[-1])
        end = stop
    return out


def _conditions(pattern, text: str, decl: Declarations) -> list:
    """The cases (x, "=" or "≠", y) the pattern finds in the text, between declared index letters."""
    return [case for m in pattern.finditer(text) for case in _pairs(m.group("case"), decl)]


def _pairs(chain: str, decl: Declarations) -> list:
    """Every pair of a chained case: "i = k = j" sets all three equal, "i ≠ k ≠ j" all three apart,
    "i = k ≠ j" i and k equal and both apart from j (as a chain of relations is read)."""
    parts = re.split(rf"\s*{_RELATION_OF_CASE}\s*", chain.strip())
    letters, relations = parts[0::2], parts[1::2]
    if not all(c in decl.indices for c in letters):
        return []
    run = list(itertools.accumulate(relation != "=" for relation in relations))
    group = [0] + run  # letters with no ≠ between them are one run, equal
    out = []
    for (a, x), (b, y) in itertools.combinations(zip(group, letters), 2):
        if x != y:
            out.append((x, "=" if a == b else "≠", y))
    return out


_BOX = re.compile(r"\\(?:boxed|fbox|bbox(?:\[[^\]]*\])?|color\s*\{[^{}]*\})\s*\{")


# "W = ... \in \mathbb{R}^{n \times n}": where a quantity lives, said of it, not a factor of it
_MEMBERSHIP = re.compile(r"\\in\s*\\mathbb\s*\{?\s*R\s*\}?(?:\s*\^\s*(?:\{[^{}]*\}|\S))?")


_STACKED = re.compile(r"\\(?:stackrel|overset)\s*\{(?:[^{}]|\{[^{}]*\})*\}\s*\{\s*=\s*\}")
# the end of a proof at the end of a line: \quad \blacksquare
_QED = re.compile(r"(?:\s|\\q?quad|\\[,;: ]|[.,])*\\(?:blacksquare|square|qed|Box|qedsymbol)\s*$")


def _unboxed(line: str) -> str:
    """The line with every box (\\boxed{a = b}) around its formula taken off, and the colour of a
    coloured equation (\\color{red}{a = b}): they are how the result looks, and the equalities
    inside are the line's own. A set the quantity belongs to (\\in \\mathbb{R}^{n}) is said of it, and taken off."""
    line = _MEMBERSHIP.sub(" ", line)
    line = _STACKED.sub(" = ", line)  # \stackrel{\text{chain rule}}{=}: an equality, its reason above it
    line = _QED.sub("", line)
    while (m := _BOX.search(line)) is not None:
        depth, k = 1, m.end()
        while k < len(line) and depth:
            depth += {"{": 1, "}": -1}.get(line[k], 0) if line[k - 1] != "\\" else 0
            k += 1
        if depth:
            return line  # an unbalanced box: the reader says so
        inside = line[m.end() : k - 1]
        if m.group(0).startswith("\\color") and not any(top and "=" in p.group(0) for p, top in top_level(inside)):
            inside = f"{{{inside}}}"  # a coloured group stays a group, unless a whole equation is coloured
        line = f"{line[: m.start()]} {inside} {line[k:]}"
    return line


def _written_condition(line: str, decl: Declarations) -> tuple[str, list]:
    """A line without the case written after its formula, and that case."""
    m = TRAILING.search(line)
    if m is None:
        return line, []
    conditions = _pairs(m.group("case"), decl)
    return (line[: m.start()], conditions) if conditions else (line, [])


def _holds(conditions: list, env: dict) -> bool:
    return all((env[x] == env[y]) == (op == "=") for x, op, y in conditions)


def _chains(eq) -> list:
    r"""Lists of (line number, LaTeX of one side), one list per chain of equalities.

    A row's alignment marks & cut it into equations, two columns each (three in eqnarray); the
    equation in a column continues that column's chain when it starts with "=", and continues its
    last side when that side ends with an operator or is empty, or when the row goes on with an
    operator (+, -, \cdot, \times). In a display with alignment marks a row goes on with the side
    above only when its left column is empty: "-x_1 &= ..." is an equation of its own. Without
    alignment marks (HTML spans, multline) a row that starts with an operator goes on with the side
    above, unless it has an "=" of its own: then it may be either, and both sides where it may join
    are left unread, with the reason. Whatever the layout, a row that starts with an operator and
    has no "=" of its own can only go on with the side above, and a row with neither after a chain
    leaves that side unread (it may continue it as a product). In a gather every other row is an
    equation of its own. A wide space at the top level sets equations apart (x = y \qquad z = w).
    """
    chains: list = []
    last: dict = {}  # column -> the chain that column writes
    width = 3 if eq.rows == "eqnarray" else 2
    rows = [columns(line.strip()) for line in eq.lines]
    marked = any(len(parts) > 1 for parts in rows)  # the display aligns its rows with &
    for k, parts in enumerate(rows, 1):
        for column in range((len(parts) + width - 1) // width):
            pieces = parts[column * width : (column + 1) * width]
            text = " ".join(p.strip() for p in pieces).strip().rstrip(",.;").strip()
            if not text:
                continue
            for n, equation in enumerate(_equations(text)):
                sides = [_wide_side(s) for s in _split(equation)]
                # in a gather a row is an equation of its own, unless it can only go on (+ 3 x_1 alone)
                going_on = eq.rows != "gather" or _continues(equation)
                chain: list = chains[last[column]] if column in last and going_on and not n else []
                how = _joins(equation, len(sides), len(chain), chain[-1][1], pieces[0], marked) if chain else "new"
                if how == "side":
                    chain[-1] = (k, _joined(chain[-1][1], sides[0]))
                    chain += [(k, s) for s in sides[1:]]
                elif how == "juxtaposed":  # a product across rows may be meant: not checked
                    chain[-1] = (k, Unread(_joined(chain[-1][1], sides[0]), _JUXTAPOSED))
                elif how == "chain":
                    if len(chain) > 1 and chain[-1][1] == "" and not isinstance(chain[-1][1], Unread):
                        # "a =" ending a row, "= b" starting the next: one equality, a = b, written
                        # with its "=" twice; the side between stays, so that each "=" is a link
                        chain[-1] = (chain[-1][0], Doubled("", _DOUBLED))
                    chain += [(k, s) for s in sides[1:]]
                else:
                    if how == "either":  # neither reading is checked: the side above and this line's first
                        chain[-1] = (chain[-1][0], Unread(chain[-1][1], _EITHER))
                        sides[0] = Unread(sides[0], _EITHER)
                    last[column] = len(chains)
                    chains.append([(k, s) for s in sides])
    return chains


def _wide_cuts(text: str) -> list:
    """The wide spaces (\\quad, \\hspace{..}, ...) of a text outside its groups and environments,
    with text on both sides of them."""
    tops = [(m.start(), m.end(), top) for m, top in top_level(text)]
    return [
        m
        for m in WIDE_SPACE.finditer(text)
        if text[: m.start()].strip()
        and text[m.end() :].strip()
        and any(start <= m.start() < end and top for start, end, top in tops)
    ]


def _equations(text: str) -> list:
    """A column's text cut into equations at its wide spaces, when each part has a relation of
    its own (x_1 = x_1 \\qquad x_2 = x_2); else the text whole, its wide-spaced sides unread."""
    parts, start = [], 0
    for m in _wide_cuts(text):
        parts.append(text[start : m.start()].strip())
        start = m.end()
    parts.append(text[start:].strip())
    if len(parts) > 1 and all(len(_split(part)) > 1 for part in parts):
        return [part.rstrip(",.;").strip() for part in parts]  # "X = A , \quad Y = B": two equations
    return [text]


_WIDE_APART = (
    "a wide space (\\quad, \\hspace, ...) inside a side: it sets formulas apart, so the side is not one "
    "formula; write each equation with its own =, or remove the space"
)


def _wide_side(side: str) -> str:
    return Unread(side, _WIDE_APART) if _wide_cuts(side) and not isinstance(side, Unread) else side


def _joined(before: str, after: str) -> str:
    """A side continued by the next row: left unread if either part is."""
    text = f"{before} {after}"
    for part in (before, after):
        if isinstance(part, Unread):
            return Unread(text, part.reason)
    return text


def _joins(text: str, count: int, chain_above: int, before: str, left: str, marked: bool) -> str:
    """How an equation's text goes on from the side before it (before): "side" (it continues that
    side), "chain" (it continues the chain), "either" (a reader cannot tell), "juxtaposed" (a
    row with no = and no operator, which may continue the side as a product: not checked), or
    "new"."""
    if _RELATION.match(text):
        return "chain"
    if count == 1 and _OPERATOR.match(text):  # an operator-led row with no = of its own can only go on
        return "side"
    if marked:  # the alignment shows it: only a row whose left column is empty goes on
        if _SPACING.fullmatch(left) and (_OPERATOR.match(text) or _DANGLING.search(before)):
            return "side"
    elif _DANGLING.search(before):
        return "side"
    if count == 1 and chain_above > 1 and not _OPERATOR.match(text):
        return "juxtaposed"  # no =, no operator: it may go on with the side above as a product
    if marked:
        return "new"
    if _OPERATOR.match(text):
        return "either"
    return "new"


def _continues(text: str) -> bool:
    return len(_split(text)) == 1 and bool(_OPERATOR.match(text))


_JUXTAPOSED = (
    "a row with no = and no operator after this side, which it may continue as a product: write the operator "
    "(\\cdot) at the start of the row, or keep the side on one row"
)


_EITHER = (
    "ambiguous: a line that starts with +, -, \\cdot or \\times and has an = of its own may continue the side "
    "before it or be an equation of its own: write a continued side on one line (or start the line with = to "
    "continue the chain), an equation of its own in a display of its own or an aligned row (-x &= ...)"
)


# spacing a row may start with; the operator or relation after it says how the row goes on
_SPACING = re.compile(r"(\s|\\quad|\\qquad|\\[,;:!]|~|\{\}|\\hspace\*?\{[^{}]*\}|\\h?phantom\{[^{}]*\})*")
_OPERATOR = re.compile(_SPACING.pattern + r"(\+|-|−|\\(?:cdot|times|pm|mp)(?![A-Za-z]))")
_RELATION = re.compile(_SPACING.pattern + r"=")
# a side that ends with an operator, or is empty ("L =" alone on its line), goes on in the next row
_DANGLING = re.compile(r"(\+|-|\\cdot|\\times)\s*$|^\s*$")


def _split(text: str) -> list:
    """The sides of a chain, split at the "=" outside braces and environments ("==" is one "=")."""
    sides, start = [], 0
    for m, top in top_level(text):
        if top and m.group(0) not in ("{", "}") and not m.group(0).startswith("\\"):
            for eq in re.finditer(r"==?", m.group(0)):
                sides.append(text[start : m.start() + eq.start()])
                start = m.start() + eq.end()
    sides.append(text[start:])
    return [s.strip() for s in sides]


class Framing(Unread):
    """A side that is a condition or a range written around the formula, not a claim."""


class Doubled(Unread):
    """The empty side between a row ending with "=" and the next starting with "=": the link
    before it is the equality of its neighbours, the link after it that same equality again."""


_DOUBLED = "the equality of the line before, its = written again at the start of this row"


def _framed(chain: list, decl: Declarations) -> tuple[list, list]:
    """The chain with the case it is stated for taken off its first side ("if i = j, ..."), and
    the range written after a side ("..., for i = 1, ..., C") taken off it: the "=" of such a
    condition or range stays a link of the chain, shown as what it is and not checked."""
    chain = list(chain)
    cases: list = []
    if len(chain) > 1 and not any(isinstance(text, Unread) for _, text in chain[:2]):
        left, right = _LEADING_LEFT.match(chain[0][1]), _LEADING_RIGHT.match(chain[1][1])
        if left and right and left.group("x") in decl.indices and right.group("y") in decl.indices:
            x, y = left.group("x"), right.group("y")
            why = f"the case the line is stated for (if {x} = {y}), not a claim"
            chain[0] = (chain[0][0], Framing(chain[0][1], why))
            chain[1] = (chain[1][0], chain[1][1][right.end() :])
            cases = [(x, "=", y)] if x != y else []
    leading = LEADING.match(chain[0][1]) if chain and not isinstance(chain[0][1], Unread) else None
    if leading:
        cases = _pairs(leading.group("case"), decl)
        if cases:
            chain[0] = (chain[0][0], chain[0][1][leading.end() :])
    for k in range(len(chain) - 1):
        if isinstance(chain[k][1], Unread) or isinstance(chain[k + 1][1], Unread):
            continue
        before = _RANGE_LEFT.search(chain[k][1])
        if before and before.group("x") in decl.indices and _RANGE_RIGHT.match(chain[k + 1][1]):
            why = f"the range of {before.group('x')}, not a claim"
            chain[k] = (chain[k][0], chain[k][1][: before.start()])
            chain[k + 1] = (chain[k + 1][0], Framing(chain[k + 1][1], why))
    return chain, cases


def _check_chain(number: str, chain: list, meanings: list, stated: list, written: dict) -> list:
    if meanings:
        chain, cases = _framed(chain, meanings[0].decl)
        stated = stated + cases
    parsed = []
    for line, text in chain:
        if isinstance(text, (Framing, Doubled)):
            parsed.append((line, text, None, text.reason))
            continue
        if not text:
            parsed.append((line, text, None, "an empty side"))
            continue
        if DOTS.search(text):  # a pattern shown with dots, such as a general m × k matrix
            parsed.append((line, text, None, "illustrative: written with dots"))
            continue
        if DIFFERENTIAL.search(text):
            parsed.append((line, text, None, "not read: a derivative written with d: write it with \\partial"))
            continue
        try:
            (node,) = parse_chain(text, *(meanings[0].vocabulary if meanings else ()))
            node = meanings[0].resolve(node) if meanings else node
            node = with_dropped(node, meanings[0].decl.dropped) if meanings else node
            parsed.append((line, text, node, ""))
        except Unsupported as exc:
            parsed.append((line, text, None, f"not read: {exc}"))
        except RecursionError:
            raise SymgradError(f"({number}) line {line}: the formula is nested too deeply to read") from None
    if meanings and meanings[0].decl.einstein:
        parsed = _by_convention(parsed, meanings[0])
    if len(parsed) == 1:  # a formula with no "=": nothing to check, but said
        line, text, _, why = parsed[0]
        return [Link(number, line, text, "", "unchecked", why or "no equality to check")]
    links: list = []
    hint: list = []  # the reading that decided the line before: the lines of one chain are alike
    for k, ((_, left, a, why_a), (line, right, b, why_b)) in enumerate(itertools.pairwise(parsed)):
        if isinstance(right, Doubled) and k + 2 < len(parsed):  # a = (row's end) = b: decided as a = b
            line, right, b, why_b = parsed[k + 2]
        if isinstance(left, Doubled):
            links.append(Link(number, line, left, right, "unchecked", left.reason))
            continue
        if a is None or b is None:
            links.append(Link(number, line, left, right, "unchecked", why_a or why_b))
            continue
        verdict, reason = _decide(a, b, meanings, stated + written.get(line, []), number, hint)
        links.append(Link(number, line, left, right, verdict, reason))
    _name_the_wrong_line(links, parsed, meanings, number)
    return links


def _by_convention(parsed: list, meaning) -> list:
    """Every side with the summation convention applied, the equation's free indices those of its
    left side (so that δ^i_m A^{ij}(δ^j_n - A^{in}) after ∂A^{ij}/∂S^{mn} sums over nothing)."""
    left = next((node for _, _, node, _ in parsed if node is not None), None)
    if left is None:
        return parsed
    free, indices = free_by_convention(left), frozenset(meaning.decl.indices)
    return [
        (line, text, None if node is None else summed(node, free, indices), why) for line, text, node, why in parsed
    ]


def _decide(
    a, b, meanings: list, conditions: list | None = None, number: str = "", hint: list | None = None
) -> tuple[str, str]:
    """proven, refuted, or ◐ "pattern": a line that fails for some index values is ◐ only when
    its author stated the case it covers (`conditions`, such as k ≠ i) and it holds in that case;
    any other failure, at a whole size or at index values the author did not set apart, is a
    refutation."""
    held: list = []
    failed: list = []
    applies = []  # the sizes where the line names only entries that exist
    undefined = ""  # where the line is defined nowhere (a denominator identically zero there)
    skipped: list = []  # (meaning, index values) where the line names an entry that does not exist
    hint = [] if hint is None else hint  # the reading that decided the last binding: the next likely needs it
    if meanings:
        a, b = meanings[0].settle(a, b)
    for meaning in meanings:
        meaning.display = number
    for meaning in meanings:
        try:
            free = meaning.free(a) | meaning.free(b)
            work = math.prod(len(meaning.range_of(c)) for c in sorted(free)) * (meaning.work(a) + meaning.work(b))
            if work > MAX_WORK:
                return (
                    "unchecked",
                    f"too large: about {work:,} terms at {_at(meaning.size, {})}, over the limit of {MAX_WORK:,}",
                )
            bindings = list(meaning.bindings(free))
        except Unsupported as exc:
            return "unchecked", f"not read: {exc}"
        for env in bindings:
            try:
                ok, where = _named_first(a, b, env, meaning, hint)
            except Illustrative:
                return "unchecked", "illustrative: written with dots"
            except Undecided as exc:
                return "unchecked", f"undecided: {exc}"
            except Ambiguous as exc:
                return "unchecked", f"ambiguous: {exc}"
            except TooLarge as exc:
                return "unchecked", f"too large: {exc}"
            except Unsupported as exc:
                return "unchecked", f"not read: {exc}"
            except OutOfRange:  # the line does not apply at this size, or at these index values
                skipped.append((meaning, env))
                continue
            except Undefined as exc:  # nor where it divides by zero
                undefined = undefined or f"not defined at {_at(meaning.size, env)}: {exc}"
                continue
            except Mismatch as exc:
                ok, where = False, str(exc)
            except RecursionError:
                raise SymgradError("a formula or definition is nested too deeply to evaluate") from None
            except OverflowError:  # SymPy evaluating a number such as e^(e^(e^10)) for its own purposes
                return "unchecked", "too large: a number in it overflows when evaluated"
            except SymgradError:  # a declaration found wrong as it is used: one message, exit status 2
                raise
            except (TypeError, ValueError) as exc:  # SymPy refusing what the formula combines (shapes)
                return "unchecked", f"not read: {str(exc).splitlines()[0][:120] or type(exc).__name__}"
            (held if ok else failed).append((meaning.size, env, where))
            if meaning.size not in applies:
                applies.append(meaning.size)
            if failed and not conditions:
                break  # no case is stated that could set this failure apart: refuted, at the point shown
        if failed and not conditions:
            break
    if not failed:
        if not held:
            return "unchecked", undefined or "no declared size has the entries it names"
        if undefined:
            return "proven", f"where it is defined ({undefined})"
        if any(m.size not in applies for m in meanings):  # a size declared twice is one size
            sizes = "; ".join(", ".join(f"{k} = {v}" for k, v in size.items()) for size in applies)
            return "proven", f"at {sizes}, the sizes that have the entries it names"
        if skipped:  # x_{i+1} at the last i: said, so that a proof at the inner values is not taken for more
            points = _skipped(skipped, meanings)
            return "proven", f"at the index values where every entry it names exists (not at {points})"
        return "proven", ""
    cases = [c for c in conditions or [] if all(c[0] in env and c[2] in env for _, env, _ in held + failed)]
    outside = [f for f in failed if not (cases and not _holds(cases, f[1]))]
    if not outside:
        if not any(_holds(cases, env) for _, env, _ in held):
            return "unchecked", "the case it is stated for does not occur at the declared sizes"
        return "pattern", _pattern(held, failed)
    size, env, where = (outside or failed)[0]
    return "refuted", f"at {_at(size, env)}: the sides are {where}"


def _named_first(a, b, env: dict, meaning, hint: list | None = None) -> tuple[bool, str]:
    """Decided first with every defined quantity a named symbol (small forms, the chain rule
    through the names), then with the quotients and roots among them written out, then with
    those beyond polynomials named (a mean and a variance written out, so that deviations summing
    to zero are seen), then with only those with an exponential, a logarithm or a function named,
    and when that leaves the line undecided, written out. The reading that decided the binding
    before is tried first."""
    everything = frozenset(meaning.defined)
    middle = meaning.heavy_for(a, b)
    readings = [
        (everything, everything),
        (everything, everything - (meaning.heavy - meaning.transcendental)),  # quotients and roots written out
        (middle, meaning.heavy),
        (middle, meaning.transcendental),
    ]
    readings = list(dict.fromkeys(readings)) + [(frozenset(), frozenset())]
    if hint:
        readings = [r for r in hint if r in readings] + [r for r in readings if r not in hint]
    for named, keep in readings:
        meaning.named, meaning.conditions = named, []
        try:
            left, right = meaning.value(a, env), meaning.value(b, env)
            if not named:
                decided = _equal_in_every_case(left, right, meaning)
            else:
                required = list(dict.fromkeys(meaning.conditions))
                # the lets both sides and every condition reach: a condition's names are defined too
                written, lets = meaning.written([left, right, *(expr for _, expr in required)], keep)
                meaning.conditions = [(kind, expr) for (kind, _), expr in zip(required, written[2:])]
                named_symbols = set().union(*(free_symbols(sympy.sympify(e)) for e in written)) & meaning.let_symbols()
                if named_symbols - set(lets):  # a name whose definition the decision would not see
                    raise Undecided("a named quantity without its definition")
                decided = _equal_in_every_case(written[0], written[1], meaning, quick=True, lets=lets)
            if hint is not None:
                hint[:] = [(named, keep)]
            return decided
        except (Undecided, TooLarge):
            if (named, keep) == readings[-1]:
                raise
        finally:
            meaning.named = frozenset()
    raise AssertionError("unreachable")


def _equal_in_every_case(left, right, meaning, quick: bool = False, lets: dict | None = None) -> tuple[bool, str]:
    """Equal in every case the declared constraints allow (each unit vector of a one-hot
    label, an entry solved from a linear equation); where not, the case shown."""
    for case in meaning.cases():
        conditions = [(kind, expr.xreplace(case)) for kind, expr in meaning.conditions]
        named = {k: _at_case(v, case) for k, v in lets.items()} if lets else None
        ok, where = equal(_at_case(left, case), _at_case(right, case), conditions, named, quick, points=meaning.points)
        if not ok:
            shown = ", ".join(f"{k} = {v}" for k, v in case.items() if v != 0 or len(case) < 4)
            return False, where + (f" (where {shown})" if case else "")
    return True, ""


def _at_case(value, case: dict):
    return value.xreplace(case) if case else value


def _at(size: dict, env: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in {**size, **env}.items())


def _skipped(skipped: list, meanings: list) -> str:
    """The index values a line skips, each point in full; a letter every value of which is skipped
    alike is left out (j = 3 for every i is "j = 3"), and of the sizes, those that differ between
    the declared sizes."""
    differ = {k for meaning in meanings for k, v in meaning.size.items() if meanings[0].size.get(k) != v}
    points: list = []
    for meaning in meanings:
        envs = [tuple(env.items()) for m, env in skipped if m is meaning]  # in the order of the bindings
        if not envs:
            continue
        # points as sets of (letter, value): whether a letter is skipped at every value does not
        # depend on the order the bindings name the letters in
        kept, letters = {frozenset(env) for env in envs}, [k for k, _ in envs[0]]
        for letter in list(letters):
            rest = {frozenset(kv for kv in point if kv[0] != letter) for point in kept}
            if all(point | {(letter, v)} in kept for point in rest for v in meaning.range_of(letter)):
                kept, letters = rest, [k for k in letters if k != letter]
        size = {k: v for k, v in meaning.size.items() if k in differ}
        points += [_at(size, {k: v for k, v in env if k in letters}) for env in envs]
    shown = list(dict.fromkeys(points))
    more = len(shown) - 4
    return "; ".join(shown[:4]) + (f" and {more} other{'s' if more > 1 else ''}" if more > 0 else "")


def _pattern(held: list, failed: list) -> str:
    """The index values where a link holds, as "k ≠ i" or "k = i" when that is what they are."""
    letters = sorted(set().union(*(set(env) for _, env, _ in held + failed)))
    for x in letters:
        for y in letters:
            if x < y:
                if all(env[x] != env[y] for _, env, _ in held) and all(env[x] == env[y] for _, env, _ in failed):
                    return f"holds only where {x} ≠ {y}"
                if all(env[x] == env[y] for _, env, _ in held) and all(env[x] != env[y] for _, env, _ in failed):
                    return f"holds only where {x} = {y}"
    shown = "; ".join(", ".join(f"{k} = {v}" for k, v in {**size, **env}.items()) for size, env, _ in held[:4])
    return f"holds only at {shown}" + (" and others" if len(held) > 4 else "")


def _name_the_wrong_line(links: list, parsed: list, meanings: list, number: str = "") -> None:
    """Two failing links around one side, whose neighbours agree once it is left out: that
    side's line is the one to fix."""
    for k in range(1, len(links)):
        if links[k - 1].verdict == "refuted" and links[k].verdict == "refuted":
            before, after = parsed[k - 1][2], parsed[k + 1][2]
            if (
                before is not None
                and after is not None
                and _decide(before, after, meanings, None, number)[0] == "proven"
            ):
                links[k - 1].culprit = True
