"""Hand-written LaTeX, as derivations are published, read into a small tree that means one thing.

The reader accepts what blog posts, lecture notes and MathType write for gradient derivations:
spaced braces ``{ {a_{11} } }``, ``\\mathop \\sum \\limits``, ``\\boldsymbol``, ``\\left[
{\\begin{array}{*{20}{c}} ... } \\right]``, ``\\cdot`` and ``\\times`` between scalars, and products
written by juxtaposition (``{a_{it}}{b_{tj}}``). It is a parser of its own, not a general LaTeX
one, so that nothing is guessed: a construct it does not know (a function call ``f(x)``, an
unknown command) raises ``Unsupported`` with the reason, and the line is reported as not checked.

Nodes are tuples: ("num", Rational), ("sym", letter, subscript), ("bold", letter), ("add", terms),
("neg", x), ("mul", factors), ("pow", base, exponent), ("frac", num, den), ("deriv", f, x),
("dop", x, body), ("sum", var, low, high, exclude, body), ("matrix", rows), ("dots",),
("transpose", x), ("func", name, argument) for exp, log and sqrt (e^{x} is a power of e).
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy

from ..core.errors import SymgradError
from ..core.numbers import check_exponent, decimal, power


class Unsupported(Exception):
    """A formula, or part of one, that the reader does not give a meaning to (reported as '?')."""


class Unread(str):
    """A side of a chain that the document's layout leaves open to two readings: it is shown as
    written, and reading it raises Unsupported with the reason."""

    reason: str

    def __new__(cls, text: str, reason: str) -> Unread:
        side = super().__new__(cls, text)
        side.reason = reason
        return side


# commands that only change how a formula looks
_DROP = (
    r"\mathop",
    r"\limits",
    r"\nolimits",
    r"\displaystyle",
    r"\textstyle",
    r"\left",
    r"\right",
    r"\bigl",
    r"\bigr",
    r"\Bigl",
    r"\Bigr",
    r"\big",
    r"\Big",
    r"\bigg",
    r"\Bigg",
    r"\biggl",
    r"\biggr",
    r"\Biggl",
    r"\Biggr",
    r"\bigm",
    r"\Bigm",
    r"\,",
    r"\;",
    r"\!",
    r"\:",
    r"\nonumber",
    r"\space",
)
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "eta", "theta", "lambda", "mu",
    "nu", "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
}  # fmt: skip
FUNCTIONS = {r"\exp": "exp", r"\log": "log", r"\ln": "log", r"\sqrt": "sqrt"}
DOTS = {r"\ldots", r"\cdots", r"\vdots", r"\ddots", r"\dots"}
# spacing as wide as a letter or more, written to set two formulas apart: never a product
WIDE = r"\quad"
WIDE_SPACE = re.compile(
    r"\\hspace\*?\{[^{}]*\}|\\hskip\s*[-+]?(?:[0-9]*\.)?[0-9]+\s*(?:pt|cm|mm|em|ex|in|bp|pc|dd|cc|sp|mu)"
    r"|\\h?phantom\{[^{}]*\}|\\(?:q?quad|enspace|enskip)(?![A-Za-z])|(?<!\\)\\ "  # \\ and a space: a row's end
)
_WIDE_REASON = "a wide space between two factors (\\quad, \\hspace, ...): a reader does not read a product there"
TOKEN = re.compile(r"\\[A-Za-z]+|\\\\|\\[,;!:{}]|\\.|[0-9]+(?:\.[0-9]+)?|[A-Za-z]|\S")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# after these a "." is the empty delimiter (\left. x \right|), not a decimal point
_DELIMITER = frozenset(
    {r"\left", r"\right", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr", r"\big", r"\Big", r"\bigg", r"\Bigg"}
)
# fractions that differ in size only
_FRACTIONS = {r"\dfrac": r"\frac", r"\tfrac": r"\frac", r"\cfrac": r"\frac"}
# a colour changes how what follows looks, nothing else: \color{red} and its argument are dropped
_COLOUR = re.compile(r"\\color\s*\{[^{}]*\}")


def tokenize(text: str) -> list[str]:
    if isinstance(text, Unread):
        raise Unsupported(text.reason)
    text = WIDE_SPACE.sub(lambda _: f" {WIDE} ", text)
    text = re.sub(r"\\vphantom\{[^{}]*\}", " ", text)  # height only: no width, nothing printed
    text = _COLOUR.sub(" ", text)
    text = text.replace("\u2212", "-")  # the minus sign, as MathJax and unicode-math print it
    text = re.sub(r"(?<!\\)~", " ", text)  # a space that does not break
    text = re.sub(r"\.\.\.", r" \\ldots ", text)  # three full stops: dots, as \ldots
    tokens: list[str] = []
    previous, number_before = "", False  # number_before: the last kept token is a number
    for tok in TOKEN.findall(text):
        tok = _FRACTIONS.get(tok, tok)
        delimiter, previous = previous in _DELIMITER, tok
        if tok in _DROP:
            continue
        if tok == r"\{" or tok == r"\}":
            raise Unsupported("a literal brace")
        if tok == "." and delimiter:
            continue
        if tok == ".":
            raise Unsupported("a decimal point with no digit before it: write 0.5, not .5")
        if tok == WIDE:  # kept for the parser, which refuses it between two factors
            if tokens[-1:] != [WIDE]:
                tokens.append(tok)
            continue
        if NUMBER.fullmatch(tok) and number_before:
            # "10\,001" or "2 5": digit groups a reader may take for one number or for a product
            raise Unsupported(f"digit groups side by side ({tokens[-1]} {tok}): write one number, or \\cdot between")
        number_before = bool(NUMBER.fullmatch(tok))
        tokens.append(tok)
    depth = 0
    for tok in tokens:
        depth += tok == "{"
        depth -= tok == "}"
        if depth < 0:
            raise SymgradError(f"unbalanced braces in {text.strip()[:80]!r}")
    if depth:
        raise SymgradError(f"unbalanced braces in {text.strip()[:80]!r}")
    # \left. and \right. leave a lone "." that means nothing
    return tokens


def number(tok: str) -> tuple:
    """A written number as the exact rational it prints as: "2.5" is 5/2."""
    try:
        value = decimal(tok)
    except SymgradError as exc:
        raise Unsupported(str(exc)) from None
    return ("num", sympy.Rational(value.numerator, value.denominator))


def literal(node: tuple) -> Fraction | None:
    """The exact value of a formula written with numbers only (2, -1, \frac{3}{2}, 10^{3}), or
    None; powers go through the bounded exact power, so 2^{99999999999} is refused, not computed."""
    kind = node[0]
    if kind == "num":
        return Fraction(int(node[1].p), int(node[1].q))
    if kind == "neg":
        inner = literal(node[1])
        return None if inner is None else -inner
    if kind == "frac":
        num, den = literal(node[1]), literal(node[2])
        return None if num is None or den is None or den == 0 else num / den
    if kind == "pow":
        base, exponent = literal(node[1]), literal(node[2])
        if base is None or exponent is None:
            return None
        try:
            return power(base, exponent)
        except SymgradError as exc:
            raise Unsupported(str(exc)) from None
    return None


# decorations that make a name of their own: \hat{x} is not x, nor a function of it
DECORATIONS = {
    r"\hat", r"\widehat", r"\bar", r"\overline", r"\tilde", r"\widetilde", r"\check", r"\vec", r"\dot",
    r"\ddot", r"\mathcal", r"\mathscr", r"\mathfrak",
}  # fmt: skip
# functions a reader knows by their spelled name, when a parenthesis follows: log(p), exp(W), tr(AB)
SPELLED = {
    "softmax": "softmax", "log": "log", "ln": "log", "exp": "exp", "sin": "sin", "cos": "cos", "tr": "tr", "Tr": "tr",
}  # fmt: skip
_NAMED = {r"\text", r"\operatorname", r"\mathrm", r"\textrm", r"\mathit"}  # \operatorname{tr}(A)
_COMMANDS = {r"\sin": "sin", r"\cos": "cos", r"\Tr": "tr", r"\tr": "tr"}


def name_of(text: str) -> str:
    """A declared name written in LaTeX (h_\\theta, {f_a}, \\sigma, \\hat{x}) as the parser spells
    it: the letter or command, its decoration's braces, and its subscript in braces (h_{\\theta})."""
    tokens = [t for t in tokenize(text) if t not in ("{", "}")]
    if len(tokens) >= 2 and tokens[0] in DECORATIONS:
        tokens = [f"{tokens[0]}{{{tokens[1]}}}", *tokens[2:]]
    if len(tokens) >= 3 and tokens[1] == "_":
        return f"{tokens[0]}_{{{''.join(tokens[2:])}}}"
    return "".join(tokens)


class Parser:
    def __init__(
        self,
        tokens: list[str],
        functions: frozenset = frozenset(),
        values: frozenset = frozenset(),
        operators: frozenset = frozenset(),
        layers: tuple = (),
        channels: tuple = (),
    ) -> None:
        self.functions = functions  # names declared as functions: f(x) is a call, not a product
        self.values = values  # letters declared as values: a(x + 1) is a product
        self.operators = operators  # applied to what follows, parentheses or not: the differential d
        self.layers = dict(layers)  # a superscript spelled so names a layer: x^{(l+1)} is x of the layer l+1
        self.channels = dict(channels)  # w(f)_{m,n,d}: the channel f of a tensor, its entry W_{f,m,n,d}
        # wide spaces leave the tokens; `wide` keeps where they stood (before which token)
        self.t: list[str] = []
        self.wide: set[int] = set()
        for tok in tokens:
            if tok == WIDE:
                self.wide.add(len(self.t))
            else:
                self.t.append(tok)
        self.i = 0

    def sub(self, tokens: list[str]) -> tuple:
        """A part of the formula (a fraction's numerator, a sum's bound) read whole."""
        return Parser(
            tokens,
            self.functions,
            self.values,
            self.operators,
            tuple(self.layers.items()),
            tuple(self.channels.items()),
        ).whole()

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise Unsupported(f"expected {expected or 'more'} and found {tok or 'the end'}")
        self.i += 1
        return tok

    # chain := expr ("=" expr)*
    def chain(self) -> list:
        parts = [self.expr()]
        while self.peek() == "=":
            self.take()
            if self.peek() == "=":  # "==" written by mistake: read as one "="
                self.take()
            parts.append(self.expr())
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek()}")
        return parts

    def expr(self) -> tuple:
        terms = []
        sign = 1
        if self.peek() in ("+", "-"):
            sign = -1 if self.take() == "-" else 1
        while True:
            term = self.term()
            terms.append(term if sign > 0 else ("neg", term))
            if self.peek() in ("+", "-"):
                sign = -1 if self.take() == "-" else 1
                continue
            break
        return terms[0] if len(terms) == 1 else ("add", terms)

    STOP = frozenset({"+", "-", "=", "}", ")", "]", "&", "\\\\", r"\end", ",", ";", None})

    def term(self) -> tuple:
        """A product; an entrywise product A \\odot B binds looser than a product written side by side
        (e^{Xb} \\odot dX b is e^{Xb} ⊙ (dX b))."""
        groups = [self.product()]
        while self.peek() == r"\odot":
            self.take()
            groups.append(self.product())
        return groups[0] if len(groups) == 1 else ("hadamard", groups)

    STOP_PRODUCT = STOP | {r"\odot"}

    def product(self) -> tuple:
        start = self.i
        factors = [self.factor()]
        while self.peek() not in self.STOP_PRODUCT:
            if self.peek() == "/":
                return self._slashed(factors)
            juxtaposed = self.peek() not in (r"\cdot", r"\times")
            if juxtaposed:
                self.juxtaposed(self.t[start : self.i])
            else:
                self.take()
            start = self.i
            factors.append(self.factor())
            if juxtaposed and _mixed(factors[-2], factors[-1], self.t[start]):
                raise Unsupported(
                    "a number before a fraction of numbers, which many read as a mixed number (2\\frac{1}{2} as 5/2): "
                    "write 2 \\cdot \\frac{1}{2} or \\frac{5}{2}"
                )
        return factors[0] if len(factors) == 1 else ("mul", factors)

    def _slashed(self, factors: list) -> tuple:
        """a b / c: the product before the slash over the one factor after it (a b/c is (ab)/c and
        a(b/c) alike). Anything after the denominator (a/b c, a/b/c) may be read over it or beside
        it, so it is not read."""
        self.take("/")
        den = self.factor()
        if self.peek() not in self.STOP_PRODUCT:
            raise Unsupported(
                "a / b followed by more (a/b c or a/b/c), which reads as over b or beside it: write \\frac"
            )
        return ("frac", factors[0] if len(factors) == 1 else ("mul", factors), den)

    def juxtaposed(self, before: list[str]) -> None:
        """Refuses a product written by juxtaposition where a reader sees no product: across a wide
        space, between digits that print as one number (2{5} prints 25), or before a group that
        starts with a sign (a{-b} prints a-b)."""
        if self.i in self.wide:
            raise Unsupported(_WIDE_REASON)
        after = self.t[self.i :]
        if _ends_in_digit(before) and _starts_with_digit(after):
            raise Unsupported(
                f"ambiguous digits: {''.join(before)}{''.join(after[:3])}... prints as one number: "
                "write one number, or \\cdot between"
            )
        if _starts_with_digit(after):  # x_{1} 2 prints x₁2: a product is written 2 x_{1}
            raise Unsupported(
                f"a number after a factor ({''.join(before)} {''.join(after[:3])}...), which may be read as part "
                "of it: write the number first, or \\cdot between"
            )
        if after[:1] == ["{"] and after[1:2] in (["-"], ["+"]):
            raise Unsupported(
                "a group that starts with a sign after a factor, which prints as a sum: write \\cdot or ( )"
            )

    def factor(self) -> tuple:
        node = self.primary()
        layer = self._layer() if self.peek() == "^" and self.layers else None
        if layer is not None:
            return self._layered(node, layer)
        if self.peek() == "^":
            self.take()
            mark = self._transpose_mark()
            primed = self._primed_indices()
            if mark:
                self.i += mark
                node = ("transpose", node)
            elif primed is not None:
                node = ("pow", node, primed)
            else:
                node = _power(node, self.argument())
            if self.peek() == "^":  # a^b^c stops TeX with "Double superscript"
                raise Unsupported("a double superscript, which TeX refuses: write {a^{b}}^{c} or a^{b^{c}}")
            if self.peek() == "_":  # \sigma^{2}_{c} prints as \sigma_{c}^{2}: the subscript is the letter's
                if node[0] != "pow" or node[1][0] != "sym" or node[1][2] is not None:
                    raise Unsupported("a subscript after a superscript on what is not a letter")
                node = ("pow", ("sym", node[1][1], self.subscript()), node[2])
        return node

    def _primed_indices(self) -> tuple | None:
        """A superscript of letters with a primed one among them ({ij'}): the letters, as a product
        of index symbols (read as indices where the declarations write indices above)."""
        if self.peek() != "{":
            return None
        end = self.t.index("}", self.i) if "}" in self.t[self.i :] else -1
        inside = self.t[self.i + 1 : end]
        if "'" not in inside or not inside or not all(t.isalpha() or t == "'" for t in inside) or inside[0] == "'":
            return None
        self.i = end + 1
        letters = re.findall(r"[A-Za-z]'*", "".join(inside))
        return ("mul", [("sym", letter, None) for letter in letters])

    def _layer(self) -> str | None:
        """The layer a superscript names, as declared (^{(l+1)}, ^l, ^{l(t+1)}), the ^ and the
        superscript taken; None (nothing taken) when it names none."""
        start = self.i
        self.take("^")
        if self.peek() == "{":
            end = self._group_end()
            spelled = "".join(self.t[self.i + 1 : end - 1])
        else:
            end, spelled = self.i + 1, self.peek() or ""
        if spelled in self.layers:
            self.i = end
            return self.layers[spelled]
        self.i = start
        return None

    def _group_end(self) -> int:
        depth, k = 0, self.i
        while k < len(self.t):
            depth += {"{": 1, "}": -1}.get(self.t[k], 0)
            k += 1
            if depth == 0:
                break
        return k

    def _layered(self, node: tuple, layer: str) -> tuple:
        """x^{(l)}_j: the quantity x of the layer l, a name of its own, and its subscript."""
        if node[0] != "sym":
            raise Unsupported("a layer's label on what is not a letter")
        sub = node[2]
        name = f"{node[1]}^{{{layer}}}"
        if self.peek() == "_" and sub is None and self.values:
            named = self._named_below(name)  # w^{(l)}_{img}: a size of the layer l
            if named is not None:
                return named
        if sub is not None and f"{name}_{{{''.join(sub)}}}" in self.values:  # D_o^{l+1}: a size of the layer l+1
            return ("sym", f"{name}_{{{''.join(sub)}}}", None)
        if self.peek() == "_":
            if sub is not None:
                raise Unsupported("a double subscript, which TeX refuses: write x_{12} or x_{1,2}")
            sub = self.subscript()
        if name in self.functions and self.peek() in ("(", "'"):
            return self._call(name)
        return ("sym", name, sub)

    def _transpose_mark(self) -> int:
        """How many tokens after ^ write a transpose: T, \\top, \\intercal, \\mathsf{T}, \\text{T},
        \\mathrm{T}, each perhaps in braces; 0 when they do not."""
        ahead = self.t[self.i : self.i + 6]
        braced = ahead[:1] == ["{"]
        inner = ahead[1:] if braced else ahead
        for mark in (
            ["T"],
            [r"\top"],
            [r"\intercal"],
            *([cmd, "{", "T", "}"] for cmd in (r"\mathsf", r"\text", r"\mathrm")),
        ):
            if inner[: len(mark)] == mark and (not braced or inner[len(mark) : len(mark) + 1] == ["}"]):
                return len(mark) + (2 if braced else 0)
        return 0

    def argument(self) -> tuple:
        """A group {...} or a single token, as a superscript or a \\frac part takes it."""
        if self.peek() == "{":
            return self.group()
        tok = self.take()
        if NUMBER.fullmatch(tok):
            if len(tok) > 1:  # TeX takes one character: x^12 prints as x¹2
                raise Unsupported(f"{tok} without braces, which TeX prints as {tok[0]} then {tok[1:]}: write {{{tok}}}")
            return number(tok)
        if tok.isalpha():
            return ("sym", tok, None)
        raise Unsupported(f"cannot read {tok} as an argument")

    def group(self) -> tuple:
        over = self._over()
        if over is not None:  # {a \\over b}: TeX's plain fraction
            return self._fraction(*over)
        self.take("{")
        if self.peek() == "}":
            raise Unsupported("an empty group")
        node = self.expr()
        self.take("}")
        return node

    def _over(self) -> tuple | None:
        """The numerator's and denominator's tokens of a group {a \\over b}, the group taken; or None."""
        end = self._group_end()
        inside = self.t[self.i + 1 : end - 1]
        depth, at = 0, []
        for k, tok in enumerate(inside):
            depth += {"{": 1, "}": -1}.get(tok, 0)
            if tok == r"\over" and depth == 0:
                at.append(k)
        if len(at) != 1:
            return None
        self.i = end
        return _unwrap(inside[: at[0]]), _unwrap(inside[at[0] + 1 :])

    def raw_group(self) -> list[str]:
        """The tokens of a {...} group, unparsed."""
        self.take("{")
        depth, out = 1, []  # type: int, list[str]
        while True:
            if self.i in self.wide:  # the group's own parser refuses it where it matters
                out.append(WIDE)
            tok = self.take()
            depth += tok == "{"
            depth -= tok == "}"
            if depth == 0:
                return out
            out.append(tok)

    def subscript(self) -> tuple | None:
        if self.peek() != "_":
            return None
        self.take()
        if self.peek() == "{":
            tokens = self.raw_group()
        else:
            tokens = [self.take()]
            if len(tokens[0]) > 1 and NUMBER.fullmatch(tokens[0]):  # TeX takes one character: x_12 prints as x₁2
                raise Unsupported(f"a subscript {tokens[0]} without braces: write {{{tokens[0]}}}")
        parts = [t for t in tokens if t not in ("{", "}", r"\rm", r"\mathrm")]  # x_{\rm{i}} is x_i
        if {"+", "-"} & set(parts):  # x_{n, i+m-1, j+n-1, d}, y_{(i+a),(j+b),k}: index arithmetic
            if self.peek() == "_":
                raise Unsupported("a double subscript, which TeX refuses: write x_{12} or x_{1,2}")
            return _arithmetic(parts, "".join(tokens))
        if not parts or not all(re.fullmatch(r"[A-Za-z0-9]+|,|'", p) for p in parts) or parts[0] == "'":
            raise Unsupported(f"a subscript {''.join(tokens)} that is not indices")
        if self.peek() == "_":  # x_1_2 stops TeX with "Double subscript"
            raise Unsupported("a double subscript, which TeX refuses: write x_{12} or x_{1,2}")
        text = "".join(parts)
        # each index a letter or a digit, a primed letter (j') an index of its own
        return tuple(text.split(",")) if "," in text else tuple(re.findall(r"[A-Za-z]'*|[0-9]", text))

    def primary(self) -> tuple:
        tok = self.peek()
        if tok is None:
            raise Unsupported("a formula that ends too early")
        if tok == "{":
            node = self.group()
            called = self._function_name(node) if node[0] == "sym" else None
            if called is not None and self.peek() in ("(", "'"):
                return self._call(called)  # {f_a}'(x)
            if self.peek() == "_":  # {\sigma^2}_c: the subscript of the letter raised, σ_c²
                sub = self.subscript()
                if node[0] != "pow" or node[1][0] != "sym" or node[1][2] is not None:
                    raise Unsupported("a subscript after a group that is not a letter's power")
                return ("pow", ("sym", node[1][1], sub), node[2])
            return node
        if tok in ("(", "["):
            self.take()
            node = self.expr()
            self.take(")" if tok == "(" else "]")
            return node
        if NUMBER.fullmatch(tok):
            self.take()
            return number(tok)
        spelled = self._spelled() if tok.isalpha() else None
        if spelled is not None:
            return spelled
        if tok.isalpha() or tok[1:] in GREEK or tok in DECORATIONS or tok == r"\ell":
            return self.name()
        if tok in DOTS:
            self.take()
            return ("dots",)
        ones = self._ones() if tok in (r"\boldsymbol", r"\mathbf", r"\bm", r"\bold") else None
        if ones is not None:
            return ones
        if tok in (r"\boldsymbol", r"\mathbf", r"\bm", r"\bold"):
            self.take()
            inner = self.argument()
            while inner[0] == "bold":
                inner = ("sym", inner[1], None)
            if inner[0] != "sym" or inner[2] is not None:
                raise Unsupported("a bold expression that is not one letter")
            return ("bold", inner[1])
        if tok in _NAMED and self.peek(1) == "{":
            letters: list[str] = self.t[self.i + 2 : self.t.index("}", self.i)] if "}" in self.t[self.i :] else []
            name = "".join(letters)
            if len(letters) > 1 and all(t.isalpha() for t in letters):  # \operatorname{tr}, \text{softmax}
                if SPELLED.get(name) or name in self.functions:
                    self.i += len(letters) + 3
                    return self._applied(SPELLED.get(name, name))
                raise Unsupported(f"the function {name}")
        if tok in (r"\rm", r"\mathrm"):
            self.take()
            return self.primary()
        if tok in _COMMANDS:
            self.take()
            return self._applied(_COMMANDS[tok])
        if tok in (r"\partial", r"\nabla") and self.peek(1) == "_":
            # \partial_{\theta_j} J, \nabla_\theta J: the derivative of the product that follows
            self.take()
            self.take("_")
            variable = self.sub(self.raw_group()) if self.peek() == "{" else self.sub([self.take()])
            return ("dop", variable, self.term())
        if tok in (r"\underbrace", r"\overbrace"):  # what it says of the formula is an annotation
            self.take()
            node = self.group()
            if self.peek() in ("_", "^"):
                self.take()
                self.raw_group() if self.peek() == "{" else self.take()
            return node
        if tok in FUNCTIONS:
            self.take()
            if tok == r"\sqrt" and self.peek() == "[":
                raise Unsupported("a root other than the square root")
            if self.peek() == "(":
                self.take()
                arg = self.expr()
                self.take(")")
            elif tok == r"\sqrt":
                arg = self.argument()
            else:  # \log p_{1}: the next factor, subscripts and powers included
                arg = self.factor()
                if self.peek() not in self.STOP and self.peek() not in (r"\cdot", r"\times"):
                    # \log 2 x: log(2) x to the parser, log(2x) to many readers
                    raise Unsupported(
                        f"{tok} without parentheses, followed by a product: write {tok}(...) around its argument"
                    )
            return ("func", FUNCTIONS[tok], arg)
        if tok == r"\frac":
            return self.fraction()
        if tok == r"\sum":
            return self.summation()
        if tok == r"\begin":
            return self.matrix()
        raise Unsupported(f"the command {tok}")

    def _ones(self) -> tuple | None:
        """\\mathbf{1}_n, \\bold{1_n}, \\bold{1_n^T}: a column of n ones (its transpose a row)."""
        start = self.i
        self.take()
        inner = self.raw_group() if self.peek() == "{" else [self.take()]
        if inner[:1] == ["1"] and len(inner) == 1 and self.peek() == "_":
            self.take()
            inner = ["1", "_", *(self.raw_group() if self.peek() == "{" else [self.take()])]
        bare = [t for t in inner if t not in ("{", "}")]
        if len(bare) >= 3 and bare[:2] == ["1", "_"] and bare[2].isalpha():
            node = ("ones", bare[2])
            if bare[3:] in (["^", "T"], ["^", r"\top"]):
                return ("transpose", node)
            if not bare[3:]:
                return node
        self.i = start
        return None

    def name(self) -> tuple:
        """A letter, a Greek letter or a decorated one (\\hat{x}), with its subscript; a call when
        the name is declared a function and a parenthesis follows (\\sigma(z), h_\\theta(x), f'(x))."""
        tok = self.take()
        if tok in DECORATIONS:
            inner = [t for t in (self.raw_group() if self.peek() == "{" else [self.take()]) if t not in ("{", "}")]
            if len(inner) != 1 or not (inner[0].isalpha() or inner[0][1:] in GREEK):
                raise Unsupported(f"{tok} over something that is not one letter")
            tok = f"{tok}{{{inner[0]}}}"
        if self.peek() == "_" and any(f.startswith(tok + "_") for f in self.functions):
            start = self.i
            self.take()
            tokens = self.raw_group() if self.peek() == "{" else [self.take()]
            called = f"{tok}_{{{''.join(t for t in tokens if t not in ('{', '}'))}}}"
            if called in self.functions and self.peek() in ("(", "'"):
                return self._call(called)
            self.i = start
        if tok in self.channels and self.peek() == "(":
            return self._channel(tok)
        if tok in self.operators:  # dX, d x_{11}, d(AXB): the differential of what follows
            return ("call", tok, (self.factor(),))
        if tok in self.functions and self.peek() in ("(", "'"):
            return self._call(tok)
        if self.peek() == "_" and self.values:
            named = self._named_below(tok)
            if named is not None:
                return named
        if self.peek() == "(" and tok.isalpha() and tok not in self.values:
            raise Unsupported(f"a function call {tok}(...): declare {tok} under functions")
        return ("sym", tok, self.subscript())

    def _channel(self, tok: str) -> tuple:
        """w(f)_{m,n,d}, b(f)^{l+1}: the channel f of the declared tensor, its entry with f first
        (W_{f,m,n,d}, c_{f}), a layer's superscript before or after its subscript."""
        self.take("(")
        label = self.take()
        if not (re.fullmatch(r"[A-Za-z]'*", label) or label.isdigit()) or self.peek() != ")":
            raise Unsupported(f"a channel {tok}(...) that is not one index")
        self.take(")")
        name = self.channels[tok]
        layer = self._layer() if self.peek() == "^" and self.layers else None
        if layer is not None:
            name = f"{name}^{{{layer}}}"
        return ("sym", name, (label, *(self.subscript() or ())))

    def _named_below(self, tok: str) -> tuple | None:
        """s_{l+1}, w_{img}: a value declared under that whole name (a size), the subscript taken."""
        start = self.i
        self.take("_")
        below = [t for t in (self.raw_group() if self.peek() == "{" else [self.take()]) if t not in ("{", "}")]
        name = f"{tok}_{{{''.join(below)}}}"
        if name in self.values:
            return ("sym", name, None)
        self.i = start
        return None

    def _function_name(self, node: tuple) -> str | None:
        """The declared function a letter (with its subscript) names, or None."""
        name = node[1] if node[2] is None else f"{node[1]}_{{{''.join(node[2])}}}"
        return name if name in self.functions else None

    def _call(self, name: str) -> tuple:
        """A declared function applied: f(x), f(x, y), its derivative f'(x); softmax_j(S^{ij}) over
        the index j."""
        if name == "softmax" and self.peek() == "_":
            self.take()
            axis = [t for t in (self.raw_group() if self.peek() == "{" else [self.take()]) if t not in ("{", "}")]
            if len(axis) != 1 or not axis[0].isalpha():
                raise Unsupported(f"a softmax over {''.join(axis)}, which is not one index")
            name = f"softmax_{axis[0]}"
        while self.peek() == "'":
            self.take()
            name += "'"
        if self.peek() != "(":
            raise Unsupported(f"the function {name} without its argument in parentheses")
        self.take("(")
        args = [self.expr()]
        while self.peek() in (",", ";"):
            self.take()
            args.append(self.expr())
        self.take(")")
        return ("call", name, tuple(args))

    def _spelled(self) -> tuple | None:
        """log(p), exp(W), tr(AB) written in letters, a parenthesis after: the function, as
        every reader reads it (never l·o·g(p), which would be a call of g)."""
        for word in ("argmin", "argmax", "min", "max"):  # min_{\theta} f: an optimum, not m·i·n_θ f
            if self.t[self.i : self.i + len(word)] == list(word) and self.peek(len(word)) == "_":
                raise Unsupported(f"{word}_{{...}}, an optimum over a variable, which is not evaluated")
        named = {name: name for name in self.functions if len(name) > 1 and name.isalpha()}
        for spelling, function in {**SPELLED, **named}.items():
            n = len(spelling)
            if self.t[self.i : self.i + n] == list(spelling) and self.peek(n) == "(":
                if set(spelling) <= self.values:  # t r (A B): a product the declarations allow
                    raise Unsupported(
                        f"{spelling}(...) may be the function {spelling} or a product of the declared "
                        f"{', '.join(sorted(set(spelling)))}: write \\operatorname{{{spelling}}}(...)"
                    )
                self.i += n
                return self._applied(function)
        return None

    def _applied(self, function: str) -> tuple:
        """A function applied to its argument in parentheses (or to the next factor)."""
        if function in ("softmax",) or function in self.functions:
            return self._call(function)
        if self.peek() == "(":
            self.take()
            arg = self.expr()
            self.take(")")
        else:
            arg = self.factor()
        return ("trace", arg) if function == "tr" else ("func", function, arg)

    def fraction(self) -> tuple:
        self.take(r"\frac")
        return self._fraction(_unwrap(self.raw_group()), _unwrap(self.raw_group()))

    def _fraction(self, num: list[str], den: list[str]) -> tuple:
        if num[:1] == [r"\partial"] or den[:1] == [r"\partial"]:
            if den[:1] != [r"\partial"]:
                raise Unsupported("a derivative whose denominator is not ∂x")
            x = self.sub(den[1:])
            if len(num) == 1:  # \frac{\partial}{\partial x} applies to the whole product that follows
                return ("dop", x, self.term())
            if num[0] != r"\partial":
                raise Unsupported("a derivative whose numerator is not ∂f")
            return ("deriv", self.sub(num[1:]), x)
        return ("frac", self.sub(num), self.sub(den))

    def whole(self) -> tuple:
        node = self.expr()
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek()}")
        return node

    def summation(self) -> tuple:
        """A sum: its index and bounds under and over it, in either order (\\sum_{i=1}^{n},
        \\sum^n_r). Without an index (\\sum e^{x_k}) or with two letters apart (\\sum_{i \\ne j}) the
        index is left for the line to settle (``bind_sums``); several indices (\\sum_{k,s}) are
        nested sums; an upper bound alone is checked against the index's declared range."""
        self.take(r"\sum")
        lower: list[str] | None = None
        high = None
        for _ in range(2):
            if self.peek() == "_" and lower is None:
                self.take()
                lower = self.raw_group() if self.peek() == "{" else [self.take()]
            elif self.peek() == "^" and high is None:
                self.take()
                high = self.argument()
        var, low, exclude = None, None, None
        if lower is not None:  # j' is one index
            lower = _primes_joined(lower)
        if lower is None:
            pass  # the index is the line's to settle
        elif len(lower) >= 3 and lower[1] == "=":
            var, low = lower[0], self.sub(lower[2:])
        elif len(lower) >= 3 and lower[1] in (r"\ne", r"\neq") and len(_bare(lower[2:])) == 1:
            exclude = (lower[0], _bare(lower[2:])[0])  # which of the two is summed, the line settles
        elif len(lower) == 1:
            var = lower[0]
        elif len(lower) > 1 and lower[1::2] == [","] * (len(lower) // 2) and high is None:
            body = self.term()
            for letter in reversed(lower[0::2]):
                body = ("sum", _index(letter), None, None, None, body)
            return body
        else:
            raise Unsupported(f"the sum's index {''.join(lower)}")
        if var is not None:
            var = _index(var)
        if exclude is not None:
            exclude = (_index(exclude[0]), _index(exclude[1]))
        # one bound alone would be read as the whole declared range: only a start at 1 means that
        if low is not None and high is None:
            if low != ("num", 1):
                start = "".join((lower or [])[2:])
                raise Unsupported(f"a sum from {var} = {start} with no upper bound: write its upper bound")
            low = None
        if self.peek() in ("-", "+"):  # \sum_i -2 x_i: the sign is the summand's
            return ("sum", var, low, high, exclude, ("neg", self.term()) if self.take() == "-" else self.term())
        return ("sum", var, low, high, exclude, self.term())

    def matrix(self) -> tuple:
        self.take(r"\begin")
        kind = "".join(self.raw_group())
        if kind == "array":
            self.raw_group()  # the column specification
        elif kind == "cases":
            return self.cases()
        elif kind not in ("bmatrix", "pmatrix", "matrix"):
            raise Unsupported(f"the environment {kind}")
        rows, row = [], []
        while True:
            if self.peek() == r"\end":
                self.take()
                self.raw_group()
                break
            row.append(self.cell())
            sep = self.peek()
            if sep == "&":
                self.take()
            elif sep == "\\\\":
                self.take()
                rows.append(row)
                row = []
                while self.peek() == "\\\\":  # \\\\ as Markdown escapes a row's end: one end, no empty row
                    self.take()
        if row:
            rows.append(row)
        return ("matrix", rows)

    def cases(self) -> tuple:
        """\\begin{cases} value & condition \\\\ ... \\end{cases}: each value with the index relations
        under which it holds (i = k, i \\neq 1, \\text{if } i=k, otherwise)."""
        rows = []
        while self.peek() != r"\end":
            value = self.cell()
            condition: list[str] = []
            if self.peek() == "&":
                self.take()
                depth = 0
                while depth or self.peek() not in ("\\\\", r"\end", None):
                    tok = self.take()
                    depth += {"{": 1, "}": -1}.get(tok, 0)
                    condition.append(tok)
            rows.append((value, _condition(condition)))
            if self.peek() == "\\\\":
                self.take()
        self.take(r"\end")
        self.raw_group()
        return ("cases", tuple(rows))

    def cell(self) -> tuple:
        if self.peek() in ("&", "\\\\", r"\end"):
            raise Unsupported("an empty matrix cell")
        return self.expr()


def _primes_joined(tokens: list[str]) -> list[str]:
    """The tokens with each prime joined to the letter before it: j, ' is j'."""
    out: list[str] = []
    for tok in tokens:
        if tok == "'" and out and re.fullmatch(r"[A-Za-z]'*", out[-1]):
            out[-1] += "'"
        else:
            out.append(tok)
    return out


def _bare(tokens: list[str]) -> list[str]:
    """Tokens without braces and upright type: {\\rm{i}} is i."""
    return [t for t in tokens if t not in ("{", "}", r"\rm", r"\mathrm")]


def _index(letter: str) -> str:
    if not (letter.isalpha() and len(letter) == 1) and letter != r"\ell" and not re.fullmatch(r"[A-Za-z]'+", letter):
        raise Unsupported(f"the sum's index {letter}")
    return letter


def _arithmetic(parts: list[str], written: str) -> tuple:
    """A subscript with index arithmetic, its indices set apart by commas (x_{n, i+m-1, j+n-1, d})
    or one index alone (x_{i+1}): each index a sum of index letters and integers, kept as one
    string in a plain spelling ((i-m+1)+a-1 as i-m+a). A product (2i, ij+1) or a group after a
    minus sign is not read."""
    out, current = [], []  # type: list, list
    for tok in [*parts, ","]:
        if tok == "," and current:
            out.append(_linear(current, written))
            current = []
        elif tok == ",":
            raise Unsupported(f"a subscript {written} with an empty index")
        else:
            current.append(tok)
    if len(out) > 1 and "," not in parts:
        raise Unsupported(f"a subscript {written} that is not indices")
    return tuple(out)


def _linear(tokens: list[str], written: str) -> str:
    """One index of a subscript, a sum of letters and integers, in a plain spelling."""
    terms: list = []  # (sign, letter or integer)
    sign, outer, expect_term = 1, [1], True
    for previous, tok in zip([None, *tokens], tokens):
        if tok in ("+", "-") and previous in ("+", "-"):  # -+a: not read, as i-+a is not
            raise Unsupported(f"a subscript {written} with two signs in a row")
        if tok in ("+", "-") and (expect_term is False or not terms):
            sign = outer[-1] * (-1 if tok == "-" else 1)
            expect_term = True
        elif tok == "(" and expect_term:
            if sign < 0:  # -(a+b): the sign of every term inside changes; not read, to keep it plain
                raise Unsupported(f"a subscript {written} with a group after a minus sign")
            outer.append(sign)
        elif tok == ")" and len(outer) > 1 and not expect_term:
            outer.pop()
        elif expect_term and (re.fullmatch(r"[A-Za-z]'*", tok) or tok.isdigit()):
            terms.append((sign, tok))
            expect_term = False
        else:
            raise Unsupported(f"a subscript {written} that is not a sum of indices and integers")
    if expect_term or len(outer) > 1:
        raise Unsupported(f"a subscript {written} that is not a sum of indices and integers")
    constant = sum(s * int(t) for s, t in terms if t.isdigit())
    spelled = "".join(("+" if s > 0 else "-") + t for s, t in terms if not t.isdigit())
    if constant:
        spelled += f"{constant:+d}"
    return spelled.lstrip("+") or "0"


def index_letters(part: str) -> list:
    """The index letters an index of a subscript names: j of x_{j}, i and m of x_{i+m-1}."""
    return re.findall(r"[A-Za-z]'*", part)


def index_value(part: str, value_of) -> int:
    """An index of a subscript at the values `value_of` gives its letters (i+m-1 at i = 2, m = 1)."""
    if part.isdigit():
        return int(part)
    total = 0
    for sign, term in re.findall(r"([+-]?)([A-Za-z]'*|[0-9]+)", part):
        total += (-1 if sign == "-" else 1) * (int(term) if term.isdigit() else value_of(term))
    return total


_WORDS = {"if", "for", "when", "where"}


def _condition(tokens: list[str]) -> tuple:
    """The relations of a case's condition, as ("cond", x, "=" or "≠", y) nodes; "otherwise" (or
    nothing written) is the empty tuple, which holds where no other case does."""
    words = []
    for tok in tokens:
        if tok in ("{", "}", ",", r"\text", r"\mathrm", r"\textrm", r"\mbox", r"\quad", r"\qquad", WIDE):
            continue
        words.append(tok)
    text = "".join(words)
    for word in sorted(_WORDS, key=len, reverse=True):
        if text.startswith(word):
            text = text[len(word) :]
            break
    if text in ("", "otherwise", "else"):
        return ()
    out = []
    for part in text.split(","):
        m = re.fullmatch(r"([A-Za-z]|[0-9]+)(=|\\neq?|≠)([A-Za-z]|[0-9]+)", part)
        if m is None:
            raise Unsupported(f"the condition {''.join(tokens)} of a case")
        out.append(("cond", m.group(1), "=" if m.group(2) == "=" else "≠", m.group(3)))
    return tuple(out)


def _ends_in_digit(tokens: list[str]) -> bool:
    """A factor that prints with a digit last on the line: a number, or a plain group {..2}."""
    if len(tokens) == 1:
        return bool(NUMBER.fullmatch(tokens[0]))
    if tokens[:1] != ["{"] or _unwrap(tokens) is tokens:  # not one group around the whole factor
        return False
    end = len(tokens)
    while end and tokens[end - 1] == "}":
        end -= 1
    if not end or not NUMBER.fullmatch(tokens[end - 1]):
        return False
    # a digit raised or lowered (x^{2}) is not on the line
    return tokens[end - 2 : end - 1] not in (["^"], ["_"]) and tokens[end - 3 : end - 1] not in (["^", "{"], ["_", "{"])


def _starts_with_digit(tokens: list[str]) -> bool:
    """What follows prints a digit first: 5, or a group {5..}, {{5}}."""
    k = 0
    while k < len(tokens) and tokens[k] == "{":
        k += 1
    return k < len(tokens) and bool(NUMBER.fullmatch(tokens[k]))


def _mixed(before: tuple, node: tuple, first: str) -> bool:
    """2\\frac{1}{2}: a number, then directly a fraction of numbers."""
    return (
        before[0] == "num"
        and first == r"\frac"
        and node[0] == "frac"
        and literal(node[1]) is not None
        and literal(node[2]) is not None
    )


def _power(base: tuple, exponent: tuple) -> tuple:
    """base^{exponent}, its exponent bounded before anything is expanded; a power of numbers
    becomes the number it is, when that is rational."""
    value = literal(exponent)
    if value is not None:
        try:
            check_exponent(value)
        except SymgradError as exc:
            raise Unsupported(str(exc)) from None
        exponent = ("num", sympy.Rational(value.numerator, value.denominator))
        known = literal(("pow", base, exponent))
        if known is not None:
            return ("num", sympy.Rational(known.numerator, known.denominator))
    return ("pow", base, exponent)


def _unwrap(tokens: list[str]) -> list[str]:
    """{ {x} } is x: spaced braces around a whole group mean nothing."""
    while len(tokens) >= 2 and tokens[0] == "{" and tokens[-1] == "}":
        depth = 0
        for k, tok in enumerate(tokens):
            depth += tok == "{"
            depth -= tok == "}"
            if depth == 0 and k < len(tokens) - 1:
                return tokens  # the first brace closes before the end: {a}{b}
        tokens = tokens[1:-1]
    return tokens


def parse_chain(text: str, *vocabulary) -> list:
    """A formula as its chain of equal expressions (a = b = c gives three); `vocabulary` is the
    declared functions, values and operators (``Parser``)."""
    return Parser(tokenize(text), *vocabulary).chain()


def parse(text: str, *vocabulary) -> tuple:
    return Parser(tokenize(text), *vocabulary).whole()
