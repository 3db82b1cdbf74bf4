"""Renders a Derivation through Jinja2 templates: tex, html, fragment, jekyll, md.

Three template families, each with one Environment: TeX, HTML (html, fragment,
jekyll; autoescaped) and Markdown. A document's prose is one shared body per op
(``<op>.body.j2``); the family's macros (``macros.<family>.j2``) decide how an
equation, a heading or a paragraph is written, and a frame per format
(``<format>.j2``) wraps the body. Equations are numbered in the order the body
shows them; a reference to an equation not yet shown is an error.
"""

from __future__ import annotations

import datetime
import html
import itertools
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import sympy

from ..chain.derivation import Equation
from ..core.errors import SymgradError
from ..prove import prove
from .codelines import backward_lines, forward_lines
from .latex import DISPLAY_LIMIT, SymgradLatexPrinter, apart, matrix_names
from .mathjax import DEFAULT_MATHJAX, LOCAL, check_url
from .measure import COLUMN_EM, LABEL_EM, PHONE_EM, width

FORMATS = ("tex", "html", "fragment", "jekyll", "md")
FAMILY = {
    "tex": "tex",
    "html": "html",
    "fragment": "html",
    "jekyll": "html",
    "md": "md",
    "latex-inline": "md",
    "rst": "rst",  # for the Sphinx directive (symgrad.sphinx), not written as a file
    "hugo": "html",
}
# written on request only, not by "all": a Hugo post and its shortcode
EXTRA_FORMATS = ("hugo",)
SUFFIX = {"tex": ".tex", "html": ".html", "fragment": ".fragment.html", "jekyll": ".jekyll.md", "md": ".md"}
DEFAULT_DATE = "2000-01-01"
TEX_ENGINES = ("pdflatex", "lualatex")
DEFAULT_AUTHOR = "symgrad"


def templates_dir() -> Path:
    """Inside an installed wheel the templates sit in the package; in a checkout, at the top."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "macros.tex.j2").is_file():
            return candidate
    raise SymgradError("symgrad's templates are missing from this installation")


def environment(family: str) -> jinja2.Environment:
    return _environment(family == "html")


@cache  # one per escaping: the families that do not escape share their compiled templates
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        # delimiters that TeX, HTML, Markdown and Python never write, so a template's own braces
        # (\frac{a}{b}, a_{ij}, {{ in a Liquid-safe page) are never read as Jinja
        variable_start_string="<<",
        variable_end_string=">>",
        block_start_string="<%",
        block_end_string="%>",
        comment_start_string="<#",
        comment_end_string="#>",
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        tex_escape=tex_escape,
        yaml_quote=yaml_quote,
        md_escape=md_escape,
        rst_escape=rst_escape,
        liquid_safe=liquid_safe,
        no_tex=no_tex,
    )
    return env


# Escaping of user text, one function per target language.
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


# The mathematical characters a title may hold, set as the math symbols they are (pdflatex's text
# fonts have none of them; × and · are in them already); the text around them stays text.
_TEX_MATH_CHARACTERS = {
    "∂": r"\partial",
    "≤": r"\leq",
    "≥": r"\geq",
    "≠": r"\neq",
    "≈": r"\approx",
    "−": "-",
    "→": r"\to",
    "←": r"\leftarrow",
    "∑": r"\sum",
    "∏": r"\prod",
    "√": r"\surd",
    "∞": r"\infty",
    "∇": r"\nabla",
    "∈": r"\in",
    "⊙": r"\odot",
    "ε": r"\varepsilon",
    "ϵ": r"\epsilon",
    "ο": "o",
    **{
        chr(0x3B1 + i): rf"\{name}"
        for i, name in enumerate(
            [
                "alpha",
                "beta",
                "gamma",
                "delta",
                "epsilon",
                "zeta",
                "eta",
                "theta",
                "iota",
                "kappa",
                "lambda",
                "mu",
                "nu",
                "xi",
                "omicron",
                "pi",
                "rho",
                "varsigma",
                "sigma",
                "tau",
                "upsilon",
                "phi",
                "chi",
                "psi",
                "omega",
            ]
        )
        if name not in ("epsilon", "omicron")
    },
    **{
        letter: rf"\{name}"
        for letter, name in zip(
            "ΓΔΘΛΞΠΣΥΦΨΩ", ["Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"]
        )
    },
}


def tex_escape(text, math_symbols: bool = False) -> str:
    """Text for TeX; with ``math_symbols`` (for pdflatex, whose text fonts lack them) the
    mathematical characters are set as math symbols. lualatex sets them as they are."""
    out = []
    for ch in str(text):
        math = _TEX_MATH_CHARACTERS.get(ch) if math_symbols else None
        out.append(_TEX_SPECIAL.get(ch, ch) if math is None else rf"\ensuremath{{{math}}}")
    return "".join(out)


def yaml_quote(text) -> str:
    """A double-quoted YAML scalar: valid whatever quotes, colons or control characters the text
    holds (a JSON string is a YAML double-quoted scalar).

    Front matter is YAML, not HTML, so the result is marked safe from HTML escaping; the
    text itself stays exactly what the user gave.
    """
    return markupsafe.Markup(json.dumps(str(text), ensure_ascii=False))


ZWSP = "\u200b"


def no_tex(text) -> str:
    """User text that MathJax (or kramdown, or pandoc) can never read as mathematics.

    Every delimiter MathJax looks for in text starts with a backslash or a dollar sign (\\( \\[
    \\begin{...} $$ $): an invisible zero-width space after each of them breaks every delimiter,
    while the text reads the same."""
    return str(text).replace("\\", "\\" + ZWSP).replace("$", "$" + ZWSP)


# What pdflatex sets with T1 fonts and UTF-8 input: printable ASCII, Latin-1, and Latin Extended-A
# except the nine letters LaTeX's T1 tables leave out (Ħ ħ ĸ Ŀ ŀ ŉ Ŧ ŧ ſ), and the usual typographic
# punctuation. Anything else in a title would stop the compilation.
_TEX_SETTABLE = re.compile(
    "[\x20-\x7e\u00a0-\u0125\u0128-\u0137\u0139-\u013e\u0141-\u0148\u014a-\u0165"
    "\u0168-\u017e\u2013\u2014\u2018\u2019\u201c\u201d\u2026]*"
)
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_TEXT = 300


def clean_text(value, what: str) -> str:
    """Title or author as one line of printable text: runs of whitespace (newlines included)
    become one space; control and bidirectional-override characters are refused."""
    text = " ".join(str(value).split())
    bad = [ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in _BIDI]
    if bad:
        raise SymgradError(f"the {what} contains the control character U+{ord(bad[0]):04X}; use printable text")
    if not text:
        raise SymgradError(f"the {what} must not be empty")
    if len(text) > MAX_TEXT:
        raise SymgradError(f"the {what} is {len(text)} characters long; at most {MAX_TEXT} are allowed")
    return text


def check_tex_text(text: str, what: str) -> None:
    """Refuse text that pdflatex cannot set: what is neither in its T1 fonts nor a math character
    tex_escape sets as a symbol."""
    text = "".join(ch for ch in text if ch not in _TEX_MATH_CHARACTERS)
    if not _TEX_SETTABLE.fullmatch(text):
        ch = next(c for c in text if not _TEX_SETTABLE.fullmatch(c))
        raise SymgradError(
            f"the {what} contains {ch!r} (U+{ord(ch):04X}), which pdflatex cannot set with T1 fonts; "
            "write the tex format for lualatex (--tex-engine lualatex), or leave the character out"
        )


def check_tex_names(d) -> None:
    """A network's names as pdflatex must set them: tensor names inside formulas, where only ASCII
    letters are safe, and the function's name in the text."""
    if getattr(d, "function", None) is not None:
        check_tex_text(d.function, "network's function name")
    for name in getattr(d, "math_names", ()):
        if not name.isascii():
            raise SymgradError(
                f"the tensor name {name!r} has letters pdflatex cannot set in a formula: name the argument or "
                "the layer (name=...) in ASCII letters, or write the tex format for lualatex (--tex-engine lualatex)"
            )


def md_escape(text) -> str:
    text = html.escape(str(text), quote=False)
    return re.sub(r"([\\`*_\[\]#|$])", r"\\\1", text)


def rst_escape(text) -> str:
    """Plain text in reStructuredText: a backslash before each character that starts markup, and
    before each colon, which would otherwise let docutils read javascript:... as a live link."""
    return re.sub(r"([\\`*_|\[\]<>:])", r"\\\1", str(text))


_HTML_MARKUP = re.compile(r"[\[\]*_`|~#{}]")


def html_text(text) -> markupsafe.Markup:
    """Plain text in an HTML page that a Markdown engine may read again (a Jekyll or Hugo post):
    HTML-escaped, with every character that starts Markdown markup or a link ([text](url)) written
    as a character reference, which no Markdown engine reads as markup; MathJax delimiters broken."""
    return markupsafe.Markup(
        "".join(f"&#{ord(ch)};" if _HTML_MARKUP.fullmatch(ch) else html.escape(ch) for ch in no_tex(text))
    )


def liquid_safe(tex: str) -> str:
    """Jekyll's Liquid reads {{ and {% anywhere; a space between the braces means the same to TeX."""
    while "{{" in tex or "{%" in tex:
        tex = tex.replace("{{", "{ {").replace("{%", "{ %")
    return tex


@dataclass(frozen=True)
class Line:
    lhs: str | None  # None: continues the previous line ("= rhs")
    rhs: str
    rule: str
    checked: bool
    # TeX only: the same line as pieces that can be set one below the other, used when the
    # equation is wider than the page (TeX measures; see tex.j2)
    rows: tuple = ()
    # HTML only: the two sides as pieces a browser may wrap between (see SymgradLatexPrinter.parts)
    lhs_parts: tuple = ()
    rhs_parts: tuple = ()
    # TeX only: a product of explicit factors too wide for the page, as its left side (empty when
    # the line continues the one above) and its factors, which TeX sets side by side while they
    # fit (see tex.j2)
    factors: tuple = ()
    repeat: bool = False  # HTML only: one more entry of the line above, under its rule label
    wide: bool = False  # HTML only: a right side with the whole row, under its left side and above its label
    # HTML only: the sides' pieces grouped into products that stand whole on a desktop (see _units)
    lhs_units: tuple = ()
    rhs_units: tuple = ()


@dataclass(frozen=True)
class Shown:
    key: str
    number: int
    lines: tuple
    stacked: bool = False  # HTML only: in a phone's column, each left side on a row of its own


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


@dataclass(frozen=True)
class Post:
    """A blog post's front matter beyond title, author and date (Jekyll's names)."""

    layout: str = "post"
    categories: tuple = ("symgrad",)
    tags: tuple = ()


def post_options(layout: object = "post", categories: object = ("symgrad",), tags: object = ()) -> Post:
    """Checked words: a category, tag or layout is a word of letters, digits, - and _."""

    def words(value: object, what: str) -> tuple:
        items = value.replace(",", " ").split() if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        for item in items:
            if not isinstance(item, str) or not _WORD.fullmatch(item):
                raise SymgradError(f"a {what} is a word of letters, digits, - and _, got {item!r}")
        return tuple(items)

    (checked_layout,) = words(layout, "layout") if str(layout).strip() else ("",)
    if not checked_layout:
        raise SymgradError("the layout must not be empty")
    return Post(checked_layout, words(categories, "category"), words(tags, "tag"))


@dataclass
class Document:
    """What the templates see: the derivation, the options, and numbered equations."""

    d: Any
    fmt: str
    title: str
    author: str
    date: str
    display_limit: int
    mathjax_url: str
    validation: Any = None
    post: Post = field(default_factory=Post)
    numbers: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # LaTeX of equations, shared by the formats of one write
    tex_engine: str = "pdflatex"
    prefix: str = "symgrad"  # the labels' prefix, where a format names equations
    standalone: bool = True  # False inside someone else's page: no title and byline of its own
    colour: bool = True  # False for a target whose math converter knows no \color (pandoc to docx)

    def text(self, value) -> str:
        """Plain text from outside the templates, escaped for this format (HTML escapes itself)."""
        family = FAMILY[self.fmt]
        if family == "rst":
            return rst_escape(value)
        if family == "html":
            return html_text(value)
        return tex_escape(value, self.tex_engine == "pdflatex") if family == "tex" else md_escape(value)

    def label(self, key: str) -> str:
        """An equation's or a heading's label in formats that name them (reStructuredText)."""
        return f"{self.prefix}-{key}".replace("_", "-").lower()  # as Sphinx writes its HTML ids

    def tex(self, expr, **settings) -> str:
        return self._safe(self._latex(expr, **settings))

    def _latex(self, expr, **settings) -> str:
        key = self._printed_key(expr, settings)
        if key in self.cache:  # the formats of one write print the same formulas
            return self.cache[key][1]
        settings.setdefault("matrix_names", self.names)
        settings.setdefault("display_limit", self.display_limit)
        out = SymgradLatexPrinter(settings).doprint(expr)
        if key is not None:
            self.cache[key] = (expr, out)  # the expression is kept, so its id is not reused while cached
        return out

    def _printed_key(self, expr, settings: dict):
        """What the printer's output depends on, or None when a setting is not one this knows."""
        if not set(settings) <= {"highlight", "display_cells", "explicit"}:
            return None
        explicit = settings.get("explicit")
        if explicit is not None and explicit is not self.cache.get("views"):
            return None
        shown = frozenset(settings.get("highlight", ())), bool(settings.get("display_cells")), explicit is not None
        key = ("latex", expr, *shown, self.display_limit)
        try:
            hash(key)
        except TypeError:  # a tensor view holds dicts: it is known by its identity
            key = ("latex view", id(expr), *shown, self.display_limit)
        return key

    def _safe(self, tex: str) -> str:
        return liquid_safe(tex) if self.fmt in ("jekyll", "fragment", "hugo") else tex

    @property
    def names(self) -> dict:
        return matrix_names(self.d)

    def math(self, key: str) -> str:
        """An inline formula the op declared, printed."""
        try:
            formula = self.d.presentation.inline[key]
        except KeyError:
            raise SymgradError(f"template asks for the inline formula {key!r}, which the op does not declare") from None
        return self.tex(formula)

    def _number(self, key: str) -> int:
        if key in self.numbers:
            raise SymgradError(f"template shows equation {key!r} twice")
        self.numbers[key] = len(self.numbers) + 1
        return self.numbers[key]

    def eq(self, key: str) -> Shown:
        """A recorded equation of the derivation; its checked steps carry a check mark."""
        family = FAMILY[self.fmt]
        cached = ("eq", key, self.display_limit, family, self.colour)
        if cached not in self.cache:  # printed once for every format of one write
            equation: Equation = self.d.equations[key]
            lines, previous, first = [], None, ""
            for step in equation.steps:
                marked = step.highlight if self.colour else frozenset()
                settings = {"highlight": marked, "display_cells": step.result}
                if step.explicit:
                    settings["explicit"] = self.views()
                rhs = self._latex(step.rhs, **settings)
                lhs = None if previous is not None and step.lhs is previous else self._latex(step.lhs, highlight=marked)
                first = first if lhs is None else lhs
                line = Line(lhs, rhs, step.rule.text, step.rule.checked)
                if family == "tex":
                    line = replace(line, rows=self._rows(step, lhs, first, settings))
                    if isinstance(step.rhs, sympy.MatMul) and step.explicit:
                        factors = tuple(self._latex(f, **settings) for f in step.rhs.args)
                        line = replace(line, factors=(lhs or "", *factors))
                elif family == "html":
                    entries = self._entries(step, lhs, first, line, settings)
                    if entries:
                        lines += entries
                        previous = step.rhs
                        continue
                    line = replace(
                        line,
                        lhs_parts=() if lhs is None else self._parts(step.lhs, highlight=marked),
                        rhs_parts=self._parts(step.rhs, **settings),
                    )
                lines.append(line)
                previous = step.rhs
            self.cache[cached] = lines
        lines = [
            replace(
                l,
                lhs=None if l.lhs is None else self._safe(l.lhs),
                rhs=self._safe(l.rhs),
                lhs_parts=tuple(map(self._safe, l.lhs_parts)),
                rhs_parts=tuple(map(self._safe, l.rhs_parts)),
            )
            for l in self.cache[cached]
        ]
        if family == "html":
            lines = _widen(lines)
        return Shown(key, self._number(key), self._elide(lines), family == "html" and any(map(_crowded, lines)))

    def _parts(self, expr, **settings) -> tuple:
        settings.setdefault("matrix_names", self.names)
        settings.setdefault("display_limit", self.display_limit)
        return tuple(SymgradLatexPrinter(settings).parts(expr))

    def _rows(self, step, lhs: str | None, first: str, settings: dict) -> tuple:
        """The same line as pieces for a printed page, used when the line is too wide.

        TeX sets a line as a paragraph and breaks it after a + as in running text (no pieces
        needed), and a product of explicit factors between its factors (Line.factors); what it
        cannot break is split here. An explicit tensor is listed entry by entry
        (X = M means X_ij = M_ij for every i, j; past the display limit, the first entries, a
        vertical ellipsis and the last). The = of a piece is tex.j2's sgrel, after which a line
        breaks only when nothing else fits.
        """
        from ..chain.derivation import TensorView

        rhs = step.rhs
        if isinstance(rhs, TensorView) and len(rhs.shape) == 2:
            rows, cols = rhs.shape
            cells: list = [(i, j) for i in range(rows) for j in range(cols)]
            limit = 2 * self.display_limit
            if len(cells) > limit:
                cells = [*cells[: limit - 2], None, cells[-1]]
            sep = "" if max(rows, cols) <= 9 else ","
            name = first if lhs is None else lhs
            return tuple(
                r"\vdots"
                if cell is None
                else rf"\left({name}\right)_{{{cell[0] + 1}{sep}{cell[1] + 1}}} \sgrel "
                + self._latex(rhs.entry(cell), **settings)
                for cell in cells
            )
        return ()  # TeX breaks the line as written, or a product between its factors

    def _entries(self, step, lhs: str | None, first: str, line: Line, settings: dict) -> list:
        """An explicit matrix wider than a desktop column, as the page writes it: entry by entry,
        (X)_ij = M_ij, one line each (past the display limit, the first entries, a vertical
        ellipsis and the last), as the printed page writes a matrix too wide for it. A narrower
        matrix is kept whole (on a phone it scrolls in its own row). None when the matrix fits."""
        from ..chain.derivation import TensorView

        rhs = step.rhs
        if not (isinstance(rhs, TensorView) and len(rhs.shape) == 2) or width(line.rhs) <= COLUMN_EM:
            return []
        rows, cols = rhs.shape
        cells: list = [(i, j) for i in range(rows) for j in range(cols)]
        limit = 2 * self.display_limit
        if len(cells) > limit:
            cells = [*cells[: limit - 2], None, cells[-1]]
        sep = "" if max(rows, cols) <= 9 else ","
        name = first if lhs is None else lhs
        out = []
        for cell in cells:
            if cell is None:
                out.append(Line(None, r"\vdots", "", True))
                continue
            entry = rhs.entry(cell)
            left = rf"\left({name}\right)_{{{cell[0] + 1}{sep}{cell[1] + 1}}}"
            out.append(
                replace(
                    line,
                    lhs=left,
                    rhs=self._latex(entry, **settings),
                    lhs_parts=(left,),
                    rhs_parts=self._parts(entry, **settings),
                    repeat=bool(out),
                )
            )
        return out

    def notation(self, key: str) -> Shown:
        """A premise (a definition the derivation starts from): shown, not derived."""
        pairs = self.d.presentation.notation[key]
        lines = [
            Line(self.tex(lhs), self.tex(rhs), label, False, (), (self.tex(lhs),), (self.tex(rhs),))
            for lhs, rhs, label in ((*pair, "definition")[:3] for pair in pairs)
        ]
        return Shown(key, self._number(key), tuple(_widen(lines) if FAMILY[self.fmt] == "html" else lines))

    def ref(self, key: str) -> int:
        if key not in self.numbers:
            raise SymgradError(f"template refers to equation {key!r} before showing it")
        return self.numbers[key]

    def views(self) -> dict:
        if "views" not in self.cache:
            from ..chain.derivation import TensorView
            from ..core.tensor import PolyTensor

            d = self.d
            out = {n: TensorView(n, PolyTensor.of_symbols(t), d.registry) for n, t in d.input_tensors.items()}
            out["G"] = TensorView("G", PolyTensor.of_symbols(d.upstream_symbols), d.registry)
            self.cache["views"] = out
        return self.cache["views"]

    def _elide(self, lines: list) -> tuple:
        """Very long equations show their first lines, a vertical ellipsis, and the last."""
        limit = 2 * self.display_limit
        if len(lines) <= limit:
            return tuple(lines)
        dots = Line(None, r"\vdots", "", True)
        return tuple(lines[: limit - 2]) + (dots, lines[-1])

    def symbol(self, name: str, index) -> str:
        """LaTeX of one entry of an input, from a 0-based index."""
        return self.tex(self.d.registry.symbol(self.d.input_tensors[name].id_at(index)))

    def code(self, lib: str) -> str:
        return "\n".join(backward_lines(self.d, lib))

    def figure(self) -> str:
        """A network's computation graph: TikZ for TeX, inline SVG for the others."""
        from .figure import layout, svg, tikz

        if "figure" not in self.cache:  # one layout (one run of dot) for every format of a write
            self.cache["figure"] = layout(self.d)
        drawn = self.cache["figure"]
        return tikz(self.d, self.text, drawn) if FAMILY[self.fmt] == "tex" else svg(self.d, drawn)

    def network_code(self) -> str:
        """A network's forward pass, then its backward pass from the closed forms, in PyTorch."""
        return "\n".join(["# forward", *forward_lines(self.d), "", "# backward", *backward_lines(self.d)])

    def bold(self, name: str) -> str:
        """A network's tensor as its formulas write it: bold, or as what it is (kᵀ)."""
        from ..network.presentation import tex

        return tex(self.d.graph, name)

    def constants(self) -> list:
        """A network's constants, stated: d = 4, or a mask's entries."""
        graph = self.d.graph
        out = []
        for name, values in graph.constants.items():
            shape = graph.tensors[name].shape
            value: object = values[0] if not shape else sympy.Matrix(len(values) // shape[-1], shape[-1], values)
            out.append(self.tex(sympy.Eq(sympy.Symbol(self.bold(name)), value, evaluate=False)))
        return out

    def lemma(self, name: str) -> str:
        from ..network.lemmas import LEMMAS

        return LEMMAS[name].statement

    def domain(self, name: str) -> str:
        """Where a lemma holds (u > 0, u ≠ 0, u ∈ ℝ), in LaTeX."""
        from ..network.lemmas import LEMMAS

        return self._latex(LEMMAS[name].domain())

    def convention(self, name: str) -> str:
        from ..network.lemmas import LEMMAS

        return LEMMAS[name].convention

    @property
    def sympy_version(self) -> str:
        return sympy.__version__


def _widen(lines: list) -> list:
    """Mark the lines whose right side has a piece (an explicit matrix, which does not wrap) too
    wide for the room beside the equation's left sides and the rule labels: the page gives such a
    side the whole row, its left side above it and its label below (see html.j2), where it would
    otherwise scroll and show part of a matrix."""
    left = max((width(l.lhs) for l in lines if l.lhs and len(l.lhs_parts) == 1), default=0.0)
    room = COLUMN_EM - LABEL_EM - min(left, 0.4 * COLUMN_EM)
    out = []
    for l in lines:
        wide = max(map(width, l.rhs_parts), default=0.0) > room
        out.append(
            replace(
                l,
                wide=wide,
                lhs_units=_units(l.lhs_parts, COLUMN_EM - LABEL_EM),
                rhs_units=_units(l.rhs_parts, COLUMN_EM - LABEL_EM if wide else room),
            )
        )
    return out


_TIMES = r"{} \cdot "


def _units(parts: tuple, room: float) -> tuple:
    """A side's pieces as (whole, pieces) units, each piece as (LaTeX, dot): a product's factors,
    each after the first with its dot (the pieces printer.parts makes), form one unit that a row
    keeps whole where it fits: ``whole`` is "desktop" for a product that fits a desktop row,
    "always" for one that fits a phone's too, "" for one wider (or a piece alone). Where the unit
    is whole, its factors stand side by side as the reference writes them: the page hides the dot
    (``dot`` False) unless a factor named by a word or a number stands beside it (apart). Elsewhere
    the factors wrap, each row that goes on starting with its dot."""
    runs: list = []
    for piece in parts:
        if runs and piece.startswith(_TIMES):
            runs[-1].append(piece)
        else:
            runs.append([piece])
    units = []
    for run in runs:
        # the estimate runs about a tenth wide of what MathJax sets (measured in the gallery's pages)
        wide = 0.9 * sum(map(width, run))
        whole = "" if len(run) < 2 or wide > room else "always" if wide <= PHONE_EM else "desktop"
        pieces = [(run[0], True)]
        for before, piece in itertools.pairwise(run):
            factor = piece[len(_TIMES) :]
            side_by_side = f"{before} {factor}"
            # a number after a factor keeps its dot too (x · 2, never x 2)
            pieces.append((piece, not whole or factor[:1].isdigit() or apart(side_by_side) != side_by_side))
        units.append((whole, tuple(pieces)))
    return tuple(units)


def _crowded(line: Line) -> bool:
    """Whether a line's left side and its widest term leave a phone's column too narrow for
    either: then the page sets each left side above its right side there (see html.j2)."""
    widest = max((width("{} = " + p) for p in line.rhs_parts), default=0.0)
    return width(line.lhs or "") + widest > PHONE_EM


def render(
    d,
    fmt: str,
    *,
    title: str | None = None,
    author: str = DEFAULT_AUTHOR,
    date: str = DEFAULT_DATE,
    display_limit: int = DISPLAY_LIMIT,
    mathjax_url: str = DEFAULT_MATHJAX,
    validation=None,
    cache: dict | None = None,
    layout: str = "post",
    categories: object = ("symgrad",),
    tags: object = (),
    tex_engine: str = "pdflatex",
    label_prefix: str | None = None,
    standalone: bool = True,
    colour: bool = True,
) -> str:
    r"""The document of a derivation in one format (see FORMATS).

    ``validation``, the result of ``codegen.validate``, adds its figures to the implementation section.
    ``cache``, one dict passed to several renders of the same derivation and options, lets them
    print each formula once. ``layout``, ``categories`` and ``tags`` go into a Jekyll post's front
    matter (words, or a string of them). ``tex_engine`` is the engine the tex format is written
    for: pdflatex (T1 fonts, so a title or author is limited to Latin scripts) or lualatex (any
    printable Unicode, in Latin Modern with DejaVu for the scripts it lacks). ``label_prefix``
    starts the labels of the rst format's equations and headings (by default the document's stem).
    ``standalone=False`` leaves out the md format's title and byline, for a derivation placed in
    someone else's page (the pandoc filter). ``colour=False`` leaves the followed element uncoloured,
    for converters that know no ``\color`` (pandoc's to Word).
    """
    if fmt not in FAMILY:
        raise SymgradError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "latex-inline" and not hasattr(d, "closed_forms"):  # a network has a closed form per layer
        raise SymgradError(
            "the latex-inline format shows an op's closed forms in one display; a network's closed forms "
            f"are in its document: use one of {', '.join(FORMATS)}"
        )
    check_date(date)
    if mathjax_url == LOCAL:
        raise SymgradError("mathjax_url='local' copies MathJax next to the page: use write(), or --mathjax local")
    mathjax_url = check_url(mathjax_url)
    if isinstance(display_limit, bool) or not isinstance(display_limit, int) or display_limit < 3:
        raise SymgradError(f"display limit must be an integer of at least 3, got {display_limit!r}")
    title = clean_text(d.presentation.title if title is None else title, "title")  # each op names its own document
    author = clean_text(author, "author")
    post = post_options(layout, categories, tags)
    if tex_engine not in TEX_ENGINES:
        raise SymgradError(f"unknown TeX engine {tex_engine!r}: use one of {', '.join(TEX_ENGINES)}")
    if fmt == "tex" and tex_engine == "pdflatex":
        check_tex_text(title, "title")
        check_tex_text(author, "author")
        check_tex_names(d)
    proof = prove(d)
    doc = Document(
        d,
        fmt,
        title,
        str(author),
        date,
        display_limit,
        str(mathjax_url),
        validation,
        post=post,
        cache={} if cache is None else cache,
        tex_engine=tex_engine,
        prefix=_label_prefix(d, label_prefix),
        standalone=bool(standalone),
        colour=bool(colour),
    )
    template = environment(FAMILY[fmt]).get_template(f"{fmt}.j2")
    body = d.presentation.body
    return template.render(doc=doc, d=d, proof=proof, family=FAMILY[fmt], body=f"{body}.body.j2")


def _label_prefix(d, prefix: str | None) -> str:
    if prefix is None:
        return d.presentation.stem
    if not isinstance(prefix, str) or not _WORD.fullmatch(prefix):
        raise SymgradError(f"a label prefix is a word of letters, digits, - and _, got {prefix!r}")
    return prefix


def check_date(date: str) -> None:
    try:
        datetime.date.fromisoformat(str(date))
    except ValueError:
        raise SymgradError(f"date must be YYYY-MM-DD, got {date!r}") from None
