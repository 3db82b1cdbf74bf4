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

import itertools
import re
from dataclasses import dataclass, field

from .latex import Unread, Unsupported, parse_chain
from .meaning import Declarations, Illustrative, Meaning, Mismatch, OutOfRange, Undecided, equal
from .reader import columns, top_level

DOTS = re.compile(r"\\(ldots|cdots|vdots|ddots|dots)(?![A-Za-z])")
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


def check(equations: list, decl: Declarations) -> Report:
    meanings = [Meaning(decl, size) for size in decl.sizes]
    report = Report()
    numbers = [e.number for e in equations if not e.number.startswith("#")]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        report.notes.append(f"equation number ({number}) is used {numbers.count(number)} times")
    for position, eq in enumerate(equations):
        for chain in _chains(eq):
            for link in _check_chain(eq.number, chain, meanings):
                link.position = position
                report.links.append(link)
    return report


def _chains(eq) -> list:
    r"""Lists of (line number, LaTeX of one side), one list per chain of equalities.

    A row's alignment marks & cut it into equations, two columns each (three in eqnarray); the
    equation in a column continues that column's chain when it starts with "=", and continues its
    last side when that side ends with an operator or is empty, or when the row goes on with an
    operator (+, -, \cdot, \times). In a display with alignment marks a row goes on with the side
    above only when its left column is empty: "-x_1 &= ..." is an equation of its own. Without
    alignment marks (HTML spans, multline) a row that starts with an operator goes on with the side
    above, unless it has an "=" of its own: then it may be either, and both sides where it may join
    are left unread, with the reason. In a gather every row is an equation of its own.
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
            sides = _split(text)
            chain: list = chains[last[column]] if column in last and eq.rows != "gather" else []
            how = _joins(text, len(sides), chain[-1][1], pieces[0], marked) if chain else "new"
            if how == "side":
                chain[-1] = (k, f"{chain[-1][1]} {sides[0]}")
                chain += [(k, s) for s in sides[1:]]
            elif how == "chain":
                chain += [(k, s) for s in sides[1:]]
            else:
                if how == "either":  # neither reading is checked: the side above and this line's first
                    chain[-1] = (chain[-1][0], Unread(chain[-1][1], _EITHER))
                    sides[0] = Unread(sides[0], _EITHER)
                last[column] = len(chains)
                chains.append([(k, s) for s in sides])
    return chains


def _joins(text: str, count: int, before: str, left: str, marked: bool) -> str:
    """How an equation's text goes on from the side before it (before): "side" (it continues that
    side), "chain" (it continues the chain), "either" (a reader cannot tell), or "new"."""
    if _RELATION.match(text):
        return "chain"
    if marked:  # the alignment shows it: only a row whose left column is empty goes on
        if _SPACING.fullmatch(left) and (_OPERATOR.match(text) or _DANGLING.search(before)):
            return "side"
        return "new"
    if _DANGLING.search(before):
        return "side"
    if _OPERATOR.match(text):
        return "side" if count == 1 else "either"
    return "new"


_EITHER = (
    "ambiguous: a line that starts with +, -, \\cdot or \\times and has an = of its own may continue the side "
    "before it or be an equation of its own: write a continued side on one line (or start the line with = to "
    "continue the chain), an equation of its own in a display of its own or an aligned row (-x &= ...)"
)


# spacing a row may start with; the operator or relation after it says how the row goes on
_SPACING = re.compile(r"(\s|\\quad|\\qquad|\\[,;:!]|~|\{\}|\\hspace\*?\{[^{}]*\})*")
_OPERATOR = re.compile(_SPACING.pattern + r"(\+|-|\\cdot(?![A-Za-z])|\\times(?![A-Za-z]))")
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


def _check_chain(number: str, chain: list, meanings: list) -> list:
    parsed = []
    for line, text in chain:
        if not text:
            parsed.append((line, text, None, "an empty side"))
            continue
        if DOTS.search(text):  # a pattern shown with dots, such as a general m × k matrix
            parsed.append((line, text, None, "illustrative: written with dots"))
            continue
        try:
            (node,) = parse_chain(text)
            parsed.append((line, text, node, ""))
        except Unsupported as exc:
            parsed.append((line, text, None, f"not read: {exc}"))
    if len(parsed) == 1:  # a formula with no "=": nothing to check, but said
        line, text, _, why = parsed[0]
        return [Link(number, line, text, "", "unchecked", why or "no equality to check")]
    links = []
    for (_, left, a, why_a), (line, right, b, why_b) in itertools.pairwise(parsed):
        if a is None or b is None:
            links.append(Link(number, line, left, right, "unchecked", why_a or why_b))
            continue
        verdict, reason = _decide(a, b, meanings)
        links.append(Link(number, line, left, right, verdict, reason))
    _name_the_wrong_line(links, parsed, meanings)
    return links


def _decide(a, b, meanings: list) -> tuple[str, str]:
    held: list = []
    failed: list = []
    applies = []  # the sizes where the line names only entries that exist
    for meaning in meanings:
        try:
            free = meaning.free(a) | meaning.free(b)
            bindings = list(meaning.bindings(free))
        except Unsupported as exc:
            return "unchecked", f"not read: {exc}"
        for env in bindings:
            try:
                ok, where = equal(meaning.value(a, env), meaning.value(b, env))
            except Illustrative:
                return "unchecked", "illustrative: written with dots"
            except Undecided as exc:
                return "unchecked", f"undecided: {exc}"
            except Unsupported as exc:
                return "unchecked", f"not read: {exc}"
            except OutOfRange:  # the line does not apply at this size
                continue
            except Mismatch as exc:
                ok, where = False, str(exc)
            (held if ok else failed).append((meaning.size, env, where))
            if meaning.size not in applies:
                applies.append(meaning.size)
    if not failed:
        if not held:
            return "unchecked", "no declared size has the entries it names"
        if len(applies) < len(meanings):
            sizes = "; ".join(", ".join(f"{k} = {v}" for k, v in size.items()) for size in applies)
            return "proven", f"at {sizes}, the sizes that have the entries it names"
        return "proven", ""
    size, env, where = failed[0]
    at = ", ".join(f"{k} = {v}" for k, v in {**size, **env}.items())
    if not held:
        return "refuted", f"at {at}: the sides are {where}"
    return "pattern", _pattern(held, failed)


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


def _name_the_wrong_line(links: list, parsed: list, meanings: list) -> None:
    """Two failing links around one side, whose neighbours agree once it is left out: that
    side's line is the one to fix."""
    for k in range(1, len(links)):
        if links[k - 1].verdict == "refuted" and links[k].verdict == "refuted":
            before, after = parsed[k - 1][2], parsed[k + 1][2]
            if before is not None and after is not None and _decide(before, after, meanings)[0] == "proven":
                links[k - 1].culprit = True
