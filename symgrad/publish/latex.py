"""symgrad's notation: one LatexPrinter subclass, used by every output format.

Entries print as their names (``a_{23}``, ``a_{2,13}``); derivatives as
``\\frac{\\partial c_{11}}{\\partial a_{23}}``; matrix symbols in bold; explicit
matrices as bracketed arrays, elided with \\cdots, \\vdots and \\ddots past the
display limit; highlighted sub-expressions in red. Unevaluated sums keep the
order the derivation gave them, so ``0 + 0 + ... + 0`` reads as written.
"""

from __future__ import annotations

import re
from typing import ClassVar

import sympy
from sympy.core.function import _coeff_isneg
from sympy.printing.latex import LatexPrinter

from ..core.symbols import operator_name
from ..core.tensorop import TensorOpBase
from .measure import PHONE_EM, width

DISPLAY_LIMIT = 6
HIGHLIGHT = "red"


class SymgradLatexPrinter(LatexPrinter):
    """Settings beyond SymPy's: ``matrix_names`` (matrix symbol -> LaTeX),
    ``explicit`` (matrix symbol -> TensorView, printed entry by entry),
    ``highlight`` (expressions to colour) and ``display_limit``."""

    _default_settings: ClassVar[dict] = {
        **LatexPrinter._default_settings,
        "order": "none",
        "matrix_names": {},
        "explicit": {},
        "highlight": frozenset(),
        "display_limit": DISPLAY_LIMIT,
        "display_cells": False,
    }

    def _print(self, expr, **kwargs):
        out = super()._print(expr, **kwargs)
        if isinstance(expr, sympy.Basic) and not expr.is_Number and expr in self._settings["highlight"]:
            return rf"{{\color{{{HIGHLIGHT}}}{{{out}}}}}"
        return out

    def _print_Add(self, expr, order=None):
        """Long sums show their first terms, a \\cdots, and the last one."""
        terms = list(expr.args)
        limit = max(self._settings["display_limit"], 3) + 2
        if len(terms) <= limit:
            return super()._print_Add(expr, order="none")
        head = super()._print_Add(sympy.Add._from_args(terms[: limit - 2]), order="none")
        tail = self._print(terms[-1])
        return f"{head} + \\cdots + {tail}"

    def parts(self, expr) -> list[str]:
        """``expr`` as LaTeX pieces that read as ``expr`` when set side by side, so that a page can
        wrap a long formula between them (MathJax 3 does not break lines): the terms of a sum,
        each after the first with its sign (``{} + t``, so that the sign keeps its binary
        spacing); the terms inside a derivative of a sum; an operation's name and tensors, then
        each of its parameters; the factors of a matrix product, and of a product too wide for a
        phone, each after the first with its \\cdot (``{} \\cdot B``); a formula written as LaTeX,
        before each of its operators outside braces and \\left ... \\right. Anything else is one
        piece."""
        highlighted = isinstance(expr, sympy.Basic) and expr in self._settings["highlight"]
        if isinstance(expr, TensorOpBase) and not highlighted:
            return self._op_parts(expr)
        if isinstance(expr, sympy.MatMul) and not highlighted:
            return _times(self._matmul_parts(expr))
        if isinstance(expr, sympy.Derivative) and not highlighted:
            inner = expr.expr
            if not (inner.is_Symbol or isinstance(inner, sympy.Indexed)):
                ((x, _count),) = expr.variable_count
                pieces = self.parts(inner)
                pieces[0] = rf"\frac{{\partial}}{{\partial {self._print(x)}}}\bigl(" + pieces[0]
                pieces[-1] += r"\bigr)"
                return pieces
        if isinstance(expr, sympy.Symbol) and not highlighted:  # a closed form written as LaTeX
            return split_formula(self._print(expr))
        if isinstance(expr, sympy.Mul) and not highlighted and self._long(expr):
            return _times(self._product_parts(expr))
        if not isinstance(expr, sympy.Add) or highlighted:
            return [self._print(expr)]
        terms = list(expr.args)
        limit = max(self._settings["display_limit"], 3) + 2
        shown = terms if len(terms) <= limit else [*terms[: limit - 2], None, terms[-1]]
        pieces = []
        for term in shown:  # the signs as LatexPrinter._print_Add writes them
            if term is None:
                pieces.append(r"{} + \cdots")
            else:
                negative = bool(pieces) and _coeff_isneg(term)
                inner = self.parts(-term if negative else term)
                if not isinstance(term, (TensorOpBase, sympy.Derivative)) and not self._long(term):
                    inner = [" ".join(inner)]  # a term splits only where its own printing would allow
                if pieces and inner[0].startswith("- "):  # a sign the term's pieces put in front
                    negative, inner[0] = True, inner[0][2:]
                inner[0] = ("{} - " if negative else "{} + " if pieces else "") + inner[0]
                pieces += inner
        return pieces

    def _long(self, expr) -> bool:
        """A product wider than a phone's column."""
        return isinstance(expr, sympy.Mul) and width(self._print(expr)) > PHONE_EM

    def _product_parts(self, expr) -> list[str]:
        """A product too wide for a phone, as pieces a page may wrap between: its number and
        denominators first, as one fraction (-\\frac{1}{16 σ³}), then each factor of its
        numerator. Set side by side they read as the product."""
        moved = _denominators(expr)
        coeff, factors = moved.as_coeff_mul()
        below = [f for f in factors if f.is_Pow and f.exp.is_negative]
        above = [f for f in factors if f not in below]
        if not above or not all(_named(f.base if f.is_Pow else f) for f in above):
            return self._upstream_apart(expr)
        head = self._print(sympy.Mul(coeff, *below)) if coeff != 1 or below else ""
        head = "- " if head == "-1" else head
        pieces = [self._print(f) for f in above]
        pieces[0] = f"{head} {pieces[0]}".strip()
        return pieces

    def _upstream_apart(self, expr) -> list[str]:
        """A product with a factor that is a sum or a product of its own, (∂L/∂y)(−(w/σ)(…)):
        the upstream gradients each a piece, then the rest, whole (a sum in parentheses); the
        minus sign of a product goes in front, −(∂L/∂y)·(w/σ)(…), where a sum shows it as the
        term's sign."""
        lead = [f for f in expr.args if _named(f) and self._print(f).startswith(r"\frac")]
        if not lead:
            return [self._print(expr)]
        rest = expr / sympy.Mul(*lead)
        sign = "- " if not isinstance(rest, sympy.Add) and rest.could_extract_minus_sign() else ""
        rest = -rest if sign else rest
        text = self._print(rest)
        if isinstance(rest, sympy.Add):
            text = rf"\left({text}\right)"
        pieces = [self._print(f) for f in lead] + [text]
        return [sign + pieces[0], *pieces[1:]]

    def _print_Sum(self, expr):
        """One \\sum per index, outermost first: \\sum_{i=1}^{m} \\sum_{j=1}^{n} c_{ij}."""
        signs = "".join(
            rf"\sum_{{{self._print(v)}={self._print(lo)}}}^{{{self._print(hi)}}} "
            for v, lo, hi in reversed(expr.limits)
        )
        body = self._print(expr.function)
        if isinstance(expr.function, sympy.Add):
            body = rf"\left({body}\right)"
        return signs + body

    def _print_Indexed(self, expr):
        """c_{ij} for single-letter indices, as the reference writes them; commas otherwise.
        The upstream entries (base ``dL/dc``) print as \\frac{\\partial L}{\\partial c_{ij}}."""
        idx = [self._print(i) for i in expr.indices]
        sep = "" if all(len(i) == 1 for i in idx) else ","
        label = expr.base.label.name
        entry = f"{label[4:] if label.startswith('dL/d') else label}_{{{sep.join(idx)}}}"
        return rf"\frac{{\partial L}}{{\partial {entry}}}" if label.startswith("dL/d") else entry

    def _print_KroneckerDelta(self, expr, exp=None):
        return rf"\delta_{{{self._print(expr.args[0])}{self._print(expr.args[1])}}}"

    def _print_Entry(self, expr):
        matrix, row, col = expr.args
        inner = self._print(matrix)
        return rf"\left({inner}\right)_{{{self._print(row)}{self._print(col)}}}"

    def _print_Symbol(self, expr, style="plain"):
        # entry names are symgrad's LaTeX already (see symbols.py); whole tensors (X, dX, G) are mapped
        return self._settings["matrix_names"].get(expr.name, expr.name)

    def _print_Mul(self, expr):
        """A product as an author sets it: a reciprocal variable (the atom 1/σ) goes into the
        denominator (a b/(4σ²), not a b (1/σ)²/4), and a factor that is itself a fraction (an
        upstream gradient ∂L/∂μ) is never put inside another fraction: it stands in front of
        the rest, ∂L/∂μ · x/4."""
        moved = _denominators(expr)
        if moved is not expr:
            return self._print(moved)
        if not isinstance(expr, sympy.Mul):  # SymPy prints a power with a negative exponent here
            return super()._print_Mul(expr)
        fractions = [f for f in expr.args if _named(f) and self._print(f).startswith(r"\frac")]
        if fractions:
            rest = expr / sympy.Mul(*fractions)
            if sympy.fraction(rest)[1] != 1:
                sign, rest = ("- ", -rest) if rest.could_extract_minus_sign() else ("", rest)
                return sign + " ".join([*(self._print(f) for f in fractions), self._print(rest)])
        return apart(super()._print_Mul(expr))

    def _print_Pow(self, expr):
        # a power of a reciprocal variable is a power in the denominator: 1/σ³, not (1/σ)³
        moved = _denominators(expr)
        if moved is not expr:
            return self._print(moved)
        return super()._print_Pow(expr)

    def _print_TensorOpBase(self, expr):  # SymPy dispatches Function subclasses only to names ending in Base
        """An operation on whole tensors: its name, its tensors, and its parameters."""
        # plain parentheses: the arguments are one line high, and a printed page may break the
        # list after an "=" only outside \left ... \right
        return " ".join(self._op_parts(expr)).replace(r"; \ ", r";\ ").replace(r", \ ", r",\ ")

    def _op_parts(self, expr) -> list[str]:
        """An operation on whole tensors as pieces: its name and tensors, then each parameter."""
        tensors = ", ".join(self._print(a) for a in expr.args[: expr.tensors])
        params = []
        for name, value in expr.describe():
            if value is None:
                params.append(rf"\text{{{name}}}")
            else:
                shown = "(" + ", ".join(map(str, value)) + ")" if isinstance(value, tuple) else str(value)
                params.append(rf"\text{{{name}}} = {shown}")
        head = f"{operator_name(expr.label)}({tensors}"
        if not params:
            return [head + ")"]
        return [head + ";", *(rf"\ {p}," for p in params[:-1]), rf"\ {params[-1]})"]

    def _print_Derivative(self, expr):
        ((x, _count),) = expr.variable_count
        wrt = self._print(x)
        if expr.expr.is_Symbol or isinstance(expr.expr, sympy.Indexed):
            return rf"\frac{{\partial {self._print(expr.expr)}}}{{\partial {wrt}}}"
        # \bigl( \bigr): the sum inside is one line high, and a printed page may break it after a
        # + only outside \left ... \right
        return rf"\frac{{\partial}}{{\partial {wrt}}}\bigl({self._print(expr.expr)}\bigr)"

    def _print_MatrixSymbol(self, expr):
        view = self._settings["explicit"].get(expr.name)
        if view is not None:
            return self._print(view)
        return self._settings["matrix_names"].get(expr.name, rf"\boldsymbol{{{expr.name}}}")

    def _print_Transpose(self, expr):
        arg = expr.arg
        view = self._settings["explicit"].get(getattr(arg, "name", None))
        if view is not None:
            return self._print_grid(arg.shape[::-1], lambda i, j: view.entry((j, i)))
        return rf"{{{self._print(arg)}^{{T}}}}"

    def _print_MatMul(self, expr):
        return " ".join(self._matmul_parts(expr))

    def _matmul_parts(self, expr) -> list[str]:
        parts = []
        for a in expr.args:
            text = self._print(a)
            if isinstance(a, sympy.Add):
                text = rf"\left({text}\right)"
            parts.append(text)
        return parts

    def _print_TensorView(self, view):
        return self._print_grid(view.shape, lambda i, j: view.entry((i, j)))

    def _print_Dims(self, dims):
        return r" \times ".join(self._print(s) for s in dims.sizes)

    def _print_Call(self, call):
        args = ", ".join(self._print(a) for a in call.args)
        return f"{operator_name(call.name)}({args})"

    def _print_IndexRange(self, r):
        return rf"{self._print(r.lo)} \le {self._print(r.index)} \le {self._print(r.hi)}"

    def _print_Enumeration(self, e):
        return rf"{self._print(e.index)} = {self._print(e.lo)}, \ldots, {self._print(e.hi)}"

    def _print_Equals(self, e):
        return f"{self._print(e.lhs)} = {self._print(e.rhs)}"

    def _print_Product(self, p):
        parts = [self._print(f) for f in p.factors]
        if p.transpose_last:
            parts[-1] = f"{parts[-1]}^{{T}}"
        text = " ".join(parts)
        return rf"\sum_{{{p.sum_over}}} {text}" if p.sum_over else text

    def _print_Joined(self, joined):
        return joined.separator.join(self._print(p) for p in joined.parts)

    def _print_GeneralMatrix(self, g):
        """A matrix of unspecified size, as the reference's Eq. (1)."""
        rows, cols = ["1", "2", None, g.rows], ["1", "2", None, g.cols]
        return self._grid(rows, cols, lambda i, j: f"{g.letter}_{{{i}{j}}}", across=r"\ldots")

    def _print_grid(self, shape, entry):
        """An explicit matrix; past the display limit, the first rows and columns, dots, and the last."""
        limit = max(self._settings["display_limit"], 3)
        rows, cols = (_shown(n, limit) for n in shape)
        style = r"\displaystyle " if self._settings["display_cells"] else ""  # a cell is text style otherwise
        return self._grid(rows, cols, lambda i, j: style + self._print(entry(i, j)))

    @staticmethod
    def _grid(rows, cols, cell, across=r"\cdots"):
        """Rows and columns listed by index; None stands for an elided run."""
        lines = []
        for i in rows:
            cells = []
            for j in cols:
                if i is None:
                    cells.append(r"\ddots" if j is None else r"\vdots")
                else:
                    cells.append(across if j is None else cell(i, j))
            lines.append(" & ".join(cells))
        spec = "c" * len(cols)
        return rf"\left[\begin{{array}}{{{spec}}}" + r" \\ ".join(lines) + r"\end{array}\right]"


class _Below(sympy.Symbol):
    """A variable written in a denominator: prints as its name, and is never the variable of
    that name, so that a reciprocal 1/v moved below the bar never cancels v itself."""


RECIPROCAL = r"\frac{1}{"


def _reciprocal(symbol) -> str | None:
    """The name of v when ``symbol`` is the reciprocal variable named \frac{1}{v}."""
    name = getattr(symbol, "name", "")
    if not (symbol.is_Symbol and name.startswith(RECIPROCAL) and name.endswith("}")):
        return None
    inner, depth = name[len(RECIPROCAL) : -1], 0
    for ch in inner:  # the braces of \frac{1}{...} must close at the very end
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return None
    return inner if depth == 0 else None


# an entry with its indices and perhaps a power: a_{11}, \sigma_{2}^{2}, \mathrm{bn\_xhat}_{1,2,1}
_ENTRY = (
    r"(?:\\mathrm\{[^{}]*\}|\\(?!sum|prod)[A-Za-z]+|(?<![\\A-Za-z])[A-Za-z])"  # a word, a command or a letter
    r"(?:\^\{[^{}]*\})?_\{[^{}]*\}(?:\^\{[^{}]*\}|\^[0-9])?"  # its indices, and a power
)
_SIDE_BY_SIDE = re.compile(rf"({_ENTRY})\s+(?=({_ENTRY}))")


def apart(tex: str) -> str:
    r"""A product's factors as an author separates them: letters side by side (a_{11} b_{11}, as
    the reference writes them), but a \cdot next to an entry named by a word, where the two names
    side by side would read as one (bn_xhat₁,₂,₁bn_weight₁,₂,₁)."""

    def join(m: re.Match) -> str:
        word = r"\mathrm" in m.group(1) or r"\mathrm" in m.group(2)
        return m.group(1) + (r" \cdot " if word else " ")

    return _SIDE_BY_SIDE.sub(join, tex)


def _times(factors: list[str]) -> list[str]:
    """A product's factors as pieces, each after the first with its \\cdot: where a page wraps
    the product, the row that goes on starts with the operator, as a sum's row starts with its
    sign (set side by side, the dots read as the product)."""
    return [factors[0], *(r"{} \cdot " + f for f in factors[1:])]


def _named(expr) -> bool:
    """A variable, an entry or a derivative of one: printed whole, as a name or a \\frac."""
    return bool(expr.is_Symbol) or isinstance(expr, (sympy.Indexed, sympy.Derivative))


def _denominators(expr):
    """``expr`` with each reciprocal variable (or its power) written as 1/v (or 1/vⁿ); ``expr``
    itself when it has none."""
    factors = expr.args if isinstance(expr, sympy.Mul) else (expr,)
    changed, out = False, []
    for f in factors:
        base, exp = (f.base, f.exp) if isinstance(f, sympy.Pow) else (f, sympy.Integer(1))
        inner = _reciprocal(base) if exp.is_Integer and exp > 0 else None
        if inner is None:
            out.append(f)
        else:
            changed = True
            out.append(sympy.Pow(_Below(inner), -exp))
    return sympy.Mul(*out) if changed else expr


_OPERATOR = re.compile(r" (?:\\odot|\\oslash|\\otimes|\+|-) ")
_NESTING = re.compile(r"\\left\b|\\right\b|[{}]")


def split_formula(tex: str) -> list[str]:
    """LaTeX as pieces that read as it when set side by side: a piece starts at each binary
    operator (" \\odot ", " + ", ...) that is outside every brace and \\left ... \\right pair,
    written "{} \\odot ..." so that the operator keeps its spacing. \\bigl( and \\Bigl( are
    delimiters of a fixed size, so a piece may open one that a later piece closes."""
    depth, cuts = 0, [0]
    events = sorted(
        [(m.start(), m.group()) for m in _NESTING.finditer(tex)] + [(m.start(), "op") for m in _OPERATOR.finditer(tex)]
    )
    for at, what in events:
        if what == "op":
            if depth == 0:
                cuts.append(at)
        else:
            depth += 1 if what in ("{", r"\left") else -1
    pieces = [tex[a:b] for a, b in zip(cuts, [*cuts[1:], len(tex)])]
    return [pieces[0], *("{}" + p for p in pieces[1:])]


def _shown(n: int, limit: int) -> list:
    """Indices to show along one axis; None marks the elided run."""
    if n <= limit:
        return list(range(n))
    return list(range(limit - 2)) + [None, n - 1]


def to_latex(expr, **settings) -> str:
    return SymgradLatexPrinter(settings).doprint(expr)


def matrix_names(d) -> dict:
    """Bold capitals for tensors, and dL/dX for the upstream and the gradients."""
    out_bold = rf"\boldsymbol{{{d.output_name}}}"
    names = {d.output_name: out_bold, "G": rf"\frac{{\partial L}}{{\partial {out_bold}}}"}
    for n in d.input_names:
        names[n] = rf"\boldsymbol{{{n}}}"
        names[f"d{n}"] = rf"\frac{{\partial L}}{{\partial \boldsymbol{{{n}}}}}"
    return names
