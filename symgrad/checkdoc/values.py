"""The values of a derivation's symbols at one declared size: each input's entries a symbol, each
defined quantity its definition's value, and every formula of them evaluated exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from fractions import Fraction

import sympy

from ..core.errors import SymgradError
from ..core.numbers import MAX_EXPONENT, check_exponent, power
from .activations import activation
from .declarations import Declarations, _bound, _function_names, _names, definitions, functions_defined
from .equality import _scalar_if_one_by_one, _show, _zero, certain
from .latex import Unsupported, index_value
from .names import _key, _spellings, reading_of, resolve
from .outcomes import MAX_WORK, Illustrative, Mismatch, OutOfRange, TooLarge, Undefined
from .summation import with_samples
from .trees import (
    _beyond_polynomials,
    _constant,
    _transcendental,
    _uses,
    bound_letters,
    parameter,
    substituted,
    written_letters,
)


class Values:
    """The values of a derivation's symbols at one size: the inputs' entries, the defined quantities
    and every formula written in them. What a derivative means is ``Meaning``'s."""

    def __init__(self, decl: Declarations, size: dict) -> None:
        self.decl, self.size = decl, size
        # each input's dimensions: how many entries, and the first one's index (1, or as declared: θ_0)
        self.first: dict = {}
        self.inputs = {}
        for name, dims in decl.tensors.items():
            bounds = [
                (_bound(name, d[0], size, decl.layers), _bound(name, d[1], size, decl.layers))
                if isinstance(d, list)
                else (1, size[d])
                for d in dims
            ]
            self.inputs[_key(name)] = [last - first + 1 for first, last in bounds]
            self.first[_key(name)] = [first for first, _ in bounds]
        self.inputs.update({name: [] for name in decl.scalars})  # a scalar input: no index
        self.defined = definitions(decl)  # letter -> (index letters, value tree)
        self.names = _names(decl, set(self.defined))
        self.reading = reading_of(decl, self.names, frozenset(n for n, (ix, _) in self.defined.items() if ix))
        if decl.layout:  # a Jacobian's layout declared: a defined vector named alone (z for z_k) is the vector
            named_alone = {n for n, (ix, _) in self.defined.items() if len(ix) == 1 and len(n) == 1}
            self.reading = dataclasses.replace(self.reading, vectors=self.reading.vectors | named_alone)
        self.callables = functions_defined(decl, self.reading)
        self.sizes = frozenset(size)
        self.functions = frozenset(decl.functions) | frozenset(decl.given)
        # letters declared as values (a scalar a, a defined scalar L, a size n): a(x + 1) is a product
        values = set(decl.scalars) | set(size) | set(self.defined) | _spellings(*decl.tensors)
        operators = frozenset(name for name, kind in decl.functions.items() if kind == "differential")
        self.vocabulary = (
            self.functions - operators | _function_names(decl),
            frozenset(values),
            operators,
            decl.layers,
            tuple(decl.channels.items()),
        )
        for name, of in decl.given.items():  # f given from outside: f = Σ (∂f/∂y_e) y_e to first order
            self.defined[name] = ((), self._upstream(name, of))
        self._cases: list | None = None
        self._values: dict = {}  # (letter, index values, opaque) -> (value, the conditions it requires)
        # named: each defined entry stands as a symbol (y_{1}) whose definition is in lets, and a
        # derivative goes through them by the chain rule; else every value is written out
        self._named: frozenset = frozenset()
        # quantities beyond polynomials (roots, quotients, exponentials), named in a pass of their own
        constants = set(self.sizes) | {
            n for n, (ix, body) in self.defined.items() if not ix and _constant(body, self.sizes)
        }
        self.heavy = frozenset(
            name for name, (_, body) in self.defined.items() if _beyond_polynomials(body, frozenset(constants))
        )
        # of those, the ones with an exponential, a logarithm or a function (a root or a quotient
        # written out is still in the exact form's reach)
        self.transcendental = frozenset(name for name, (_, body) in self.defined.items() if _transcendental(body))
        # each reading's lets (symbol -> its definition's value, in inputs and other lets) and the
        # derivatives of its lets ((let, variable) -> d let / d variable): a let means another
        # expression in another reading
        self._readings: dict = {frozenset(): ({}, {})}
        self._let_of: dict = {}  # a let's symbol -> the defined quantity it names
        self._zeros: dict = {}  # denominator -> whether it is identically zero
        self._written: dict = {}  # (reading, kept) -> {let: its value, light lets written out}
        self.display = ""  # the equation being checked, for declarations scoped to some equations
        built = set().union(*(_uses(body) for _, body in self.defined.values())) if self.defined else set()
        self.intermediate = {name for name in self.defined if name in built and name not in decl.given}
        # (kind, expression): where the formulas evaluated since the last reset are defined
        self.conditions: list = []
        self._works: dict = {}  # letter -> the work of evaluating its definition once
        self.points: dict = {}  # the points equality.equal has made at this size, kept for the next line
        self._reached: dict = {}  # letter -> the letters its definition names, down to the inputs

    @property
    def named(self) -> frozenset:
        return self._named

    @named.setter
    def named(self, names: frozenset) -> None:
        self._named = names
        self._readings.setdefault(names, ({}, {}))

    @property
    def lets(self) -> dict:
        return self._readings[self._named][0]

    @property
    def _derivatives(self) -> dict:
        return self._readings[self._named][1]

    # --- ranges and symbols ---------------------------------------------------------------------

    def range_of(self, letter: str) -> range:
        size = self.decl.indices.get(letter)
        if size is None:
            raise Unsupported(f"the index {letter} is not declared: declare it, as indices: {{{letter}: n}}")
        if isinstance(size, list):
            first, last = (_bound(letter, b, self.size, self.decl.layers) for b in size)
            return range(first, last + 1)
        return range(1, self.size[size] + 1)

    def first_of(self, letter: str) -> list:
        """The index of each dimension's first entry (1 unless declared otherwise)."""
        if letter in self.first:
            return self.first[letter]
        if letter in self.inputs:
            return [1] * len(self.inputs[letter])
        indices, _ = self.defined[letter]
        return [self.range_of(c)[0] for c in indices]

    def shape_of(self, letter: str) -> list:
        if letter in self.inputs:
            return self.inputs[letter]
        indices, _ = self.defined[letter]
        return [len(self.range_of(c)) for c in indices]

    def entry(self, letter: str, values: tuple) -> sympy.Symbol:
        if not values:
            return sympy.Symbol(letter)
        return sympy.Symbol(f"{letter}_{{{','.join(map(str, values))}}}")

    def _upstream(self, name: str, reads: tuple) -> tuple:
        """The given function f of y as a tree Σ_e g_e y_e, each g_e a free symbol standing for
        ∂f/∂y_e (over every quantity it reads): its first derivatives are exact for every
        upstream, and nothing else of it is read (``value`` refuses f itself)."""
        terms = []
        for of in reads:
            letter = _key(of) if _key(of) in self.inputs else of
            starts = self.first_of(letter)
            for values in itertools.product(*(range(a, a + n) for a, n in zip(starts, self.shape_of(letter)))):
                sub = tuple(str(v) for v in values)
                terms.append(("mul", [("upstream", name, of, values), ("sym", letter, sub or None)]))
        return ("add", terms) if len(terms) > 1 else terms[0]

    def _index_values(self, letter: str, sub: tuple, env: dict) -> tuple:
        ndim = len(self.shape_of(letter))
        if ndim == 0:
            raise Unsupported(f"{letter} is a scalar, written with an index {''.join(sub)}")
        if len(sub) != ndim:  # a loose x_k for x_{c,k}: that line is not read, the others are
            raise Unsupported(
                f"{letter}_{{{''.join(sub)}}} has {len(sub)} indices, but {letter} has {ndim} "
                "(write indices of 10 or more with commas, as x_{1,10})"
            )
        values = []
        for part, bound, start in zip(sub, self.shape_of(letter), self.first_of(letter)):
            value = index_value(part, lambda c: self._letter_value(c, env))
            if not start <= value < start + bound:
                raise OutOfRange(
                    f"{letter}_{{{','.join(sub)}}} with {part} = {value} is outside {start}..{start + bound - 1}"
                )
            values.append(value)
        return tuple(values)

    # --- values ---------------------------------------------------------------------------------

    def value(self, node, env: dict, opaque: frozenset = frozenset()):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "dots":
            raise Illustrative("dots")
        if kind == "sym":
            return self._symbol(node, env, opaque)
        if kind == "bold":
            return self._tensor(node[1], env, opaque)
        if kind == "neg":
            return -self.value(node[1], env, opaque)
        if kind == "add":
            values = [self.value(t, env, opaque) for t in node[1]]
            if any(not isinstance(v, sympy.MatrixBase) for v in values):  # θ^T x - y: a 1×1 matrix is a number
                values = [_scalar_if_one_by_one(v) for v in values]
            kinds = {isinstance(v, sympy.MatrixBase) for v in values}
            if len(kinds) > 1 and self.decl.elementwise:  # declared: X - μ subtracts μ from every entry
                shape = next(v.shape for v in values if isinstance(v, sympy.MatrixBase))
                values = [v if isinstance(v, sympy.MatrixBase) else v * sympy.ones(*shape) for v in values]
            elif len(kinds) > 1:
                raise Unsupported(
                    "a matrix plus a number, which only a convention of broadcasting gives a meaning: declare "
                    "elementwise: true if the number is added to every entry"
                )
            shapes = {v.shape for v in values if isinstance(v, sympy.MatrixBase)}
            if len(shapes) > 1:
                raise Mismatch(f"a sum of matrices of shapes {' and '.join(f'{r}×{c}' for r, c in sorted(shapes))}")
            out = values[0]
            for v in values[1:]:
                out = out + v
            return out
        if kind == "mul":
            out = sympy.Integer(1)
            for f in node[1]:
                out = _times(out, self.value(f, env, opaque))
            return out
        if kind == "pow":
            base, exponent = self.value(node[1], env, opaque), self.value(node[2], env, opaque)
            if self.decl.elementwise and (isinstance(base, sympy.MatrixBase) != isinstance(exponent, sympy.MatrixBase)):
                if isinstance(base, sympy.MatrixBase):  # (B_2)^{-1} entry by entry
                    return base.applyfunc(lambda entry: self._power(entry, exponent))
                return exponent.applyfunc(lambda entry: self._power(base, entry))  # e^{Xb} entry by entry
            if isinstance(base, sympy.MatrixBase) or isinstance(exponent, sympy.MatrixBase):
                raise Unsupported("a power of a matrix: declare elementwise: true if it acts entry by entry")
            return self._power(base, exponent)
        if kind == "frac":
            num, den = self.value(node[1], env, opaque), self.value(node[2], env, opaque)
            if isinstance(den, sympy.MatrixBase):
                raise Unsupported("a division by a matrix")
            self._require("nonzero", den, "a denominator")
            return num / den
        if kind == "transpose":
            m = self.value(node[1], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                raise Unsupported("a transpose of a scalar")
            return m.T
        if kind == "hadamard":
            return self._hadamard([self.value(g, env, opaque) for g in node[1]])
        if kind == "trace":
            m = self.value(node[1], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                return m  # a number is its own trace
            if m.shape[0] != m.shape[1]:
                raise Mismatch(f"the trace of a {m.shape[0]}×{m.shape[1]} matrix, which is not square")
            return sympy.Add(*(m[k, k] for k in range(m.shape[0])))
        if kind == "example":
            return self._example(node[1], node[2], env, opaque)
        if kind == "ones":
            if node[1] not in self.size:
                raise Unsupported(f"a column of {node[1]} ones, {node[1]} not a declared size")
            return sympy.ones(self.size[node[1]], 1)
        if kind == "matrix":
            rows = [[self.value(c, env, opaque) for c in row] for row in node[1]]
            if len({len(r) for r in rows}) != 1:
                raise Unsupported("a matrix with rows of different lengths")
            return sympy.Matrix(rows)
        if kind == "sum":
            return self._sum(node, env, opaque)
        if kind == "func":
            arg = self.value(node[2], env, opaque)
            if isinstance(arg, sympy.MatrixBase) and self.decl.elementwise:
                return arg.applyfunc(lambda entry: self._function_of(node[1], entry))
            if isinstance(arg, sympy.MatrixBase):
                raise Unsupported(f"{node[1]} of a matrix: declare elementwise: true if it acts entry by entry")
            return self._function_of(node[1], arg)
            raise AssertionError("unreachable")
        if kind in ("deriv", "dop"):
            f, x = (node[1], node[2]) if kind == "deriv" else (node[2], node[1])
            return self.derivative(f, x, env)
        if kind == "upstream":
            _, name, of, values = node
            where = f"_{{{','.join(map(str, values))}}}" if values else ""
            return sympy.Symbol(f"\\frac{{\\partial {name}}}{{\\partial {of}{where}}}")
        if kind == "call":
            return self._call(node, env, opaque)
        if kind == "cases":
            return self._case(node, env, opaque)
        raise Unsupported(f"the construct {kind}")

    def _call(self, node, env, opaque):
        """A declared function applied to its argument."""
        _, name, args = node
        kind = self.decl.functions.get(name.rstrip("'"))
        if kind == "sigmoid" and len(args) == 1:
            z = self.value(args[0], env, opaque)
            if isinstance(z, sympy.MatrixBase):
                raise Unsupported(f"{name} of a matrix")
            primes = len(name) - len(name.rstrip("'"))
            s = 1 / (1 + sympy.exp(-z))
            if primes == 0:
                return s
            if primes == 1:
                return s * (1 - s)
            raise Unsupported(f"the derivative {name} of order {primes}")
        if name in self.callables:
            params, body = self.callables[name]
            if tuple(args) != tuple(params):
                body = self._applied(name, params, body, args)
            return self.value(body, env, opaque)
        if kind == "activation" and len(args) == 1:
            z = self.value(args[0], env, opaque)
            primes = len(name) - len(name.rstrip("'"))
            if isinstance(z, sympy.MatrixBase):
                return z.applyfunc(lambda entry: activation(name.rstrip("'"), primes)(entry))
            return activation(name.rstrip("'"), primes)(z)
        if kind == "differential" and len(args) == 1:
            return self._differential(args[0], env, opaque)
        if name == "softmax" and len(args) == 1:
            m = self.value(args[0], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                raise Unsupported("a softmax of a number")
            if m.shape[1] == 1 or m.shape[0] == 1:
                total = sympy.Add(*(sympy.exp(v) for v in m))
                return m.applyfunc(lambda v: sympy.exp(v) / total)
            if self.decl.functions.get("softmax") != "rows":
                raise Unsupported("a softmax of a matrix: declare functions: {softmax: rows} if it acts row by row")
            rows = [
                [sympy.exp(v) / sympy.Add(*(sympy.exp(w) for w in m.row(r))) for v in m.row(r)] for r in range(m.rows)
            ]
            return sympy.Matrix(rows)
        if name.startswith("softmax_") and len(args) == 1:
            axis = name.removeprefix("softmax_")
            if axis not in env:
                raise Unsupported(f"a softmax over {axis}, which is not an index of the line")
            terms = [sympy.exp(self.value(args[0], {**env, axis: t}, opaque)) for t in self.range_of(axis)]
            return sympy.exp(self.value(args[0], env, opaque)) / sympy.Add(*terms)
        if name in self.decl.given:
            raise Unsupported(f"{name} is given only through its derivatives, not as a value")
        raise Unsupported(f"the function {name} applied as {name}(...): declare it under functions")

    def _applied(self, name: str, params: tuple, body, args: tuple):
        """The body of a function defined with parameters, each parameter replaced by its argument
        (h_\\theta(x^{(i)}) is \\theta^T x^{(i)}), where every parameter is a name standing alone and
        no sum of the body binds a letter an argument writes (the argument's i would be captured)."""
        names = [parameter(p) for p in params]
        if len(args) != len(params) or None in names or len(set(names)) != len(names):
            raise Unsupported(f"{name} applied to other arguments than those of its definition")
        # a parameter the body reaches through a defined quantity (W = QK^T read by softmax(W)) is not
        # replaced there: the call would keep the parameter's own value, silently
        reached, todo = set(), [u for u in _uses(body) if u in self.defined]
        while todo:
            letter = todo.pop()
            if letter not in reached:
                reached.add(letter)
                todo += [u for u in _uses(self.defined[letter][1]) if u in self.defined]
        through = set().union(*(_uses(self.defined[letter][1]) for letter in reached))
        hidden = sorted(n for n in names if n is not None and {n, _key(n)} & through)
        if hidden:
            raise Unsupported(
                f"{name} applied to other arguments than those of its definition, which reads "
                f"{', '.join(hidden)} through a defined quantity"
            )
        captured = bound_letters(body) & set().union(*(written_letters(a) for a in args))
        if captured:
            raise Unsupported(
                f"{name} applied to an argument that writes {', '.join(sorted(captured))}, which a sum of its "
                "definition binds"
            )
        return substituted(body, dict(zip(names, args)))

    def _case(self, node, env, opaque):
        """The value of the case whose condition holds at these index values (the one with no
        condition where none other does)."""
        chosen = [value for value, conditions in node[1] if conditions and all(self._holds(c, env) for c in conditions)]
        if not chosen:
            chosen = [value for value, conditions in node[1] if not conditions]
        if len(chosen) != 1:
            where = ", ".join(f"{k} = {v}" for k, v in env.items())
            raise Unsupported(f"{'no case' if not chosen else 'more than one case'} of the cases holds at {where}")
        return self.value(chosen[0], env, opaque)

    def _holds(self, condition, env) -> bool:
        _, x, op, y = condition
        a, b = (self._index_of(p, env) for p in (x, y))
        return (a == b) == (op == "=")

    def _index_of(self, part: str, env) -> int:
        if part.isdigit():
            return int(part)
        if part in env:
            return env[part]
        raise Unsupported(f"the index {part} of a case is not bound")

    def _letter_value(self, letter: str, env) -> int:
        """The value of an index letter in a subscript: bound, or a size (a_{1k}: the last column)."""
        if letter in env:
            return env[letter]
        if letter in self.size:
            return self.size[letter]
        raise Unsupported(f"the index {letter} is not bound")

    def _function_of(self, name: str, arg):
        if name == "log":
            self._require("positive", arg, "the argument of a logarithm")
        if name == "sqrt":
            self._require("positive", arg, "the argument of a square root")
        return {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos}[name](arg)

    def _hadamard(self, values: list):
        """An entrywise product: matrices of one shape (a number scales)."""
        out = values[0]
        for value in values[1:]:
            if isinstance(out, sympy.MatrixBase) and isinstance(value, sympy.MatrixBase):
                if out.shape != value.shape:  # what ⊙ binds is then in doubt: not read
                    raise Unsupported(
                        f"an entrywise product of a {out.shape[0]}×{out.shape[1]} and a "
                        f"{value.shape[0]}×{value.shape[1]} matrix"
                    )
                out = out.multiply_elementwise(value)
            else:
                out = out * value
        return out

    def _require(self, kind: str, expr, what: str) -> None:
        """Where the line is defined: a denominator must not vanish, and the argument of a
        logarithm, a root or a fractional power must be positive. A condition that can never
        hold (a denominator identically zero) leaves the line undefined at once; the others
        are checked at the points where the line is evaluated."""
        if kind == "nonzero" and expr not in self._zeros:
            self._zeros[expr] = _zero(expr)
        if kind == "nonzero" and self._zeros[expr]:
            raise Undefined(f"{what}, {_show(expr)}, is identically zero")
        if not expr.free_symbols and certain(kind, expr) is False:
            raise Undefined(f"{what}, {_show(expr)}, is not {'positive' if kind == 'positive' else 'nonzero'}")
        self.conditions.append((kind, expr))

    def _power(self, base, exponent):
        """base**exponent, its size bounded before SymPy computes it."""
        if exponent.is_Number:
            try:
                check_exponent(Fraction(int(exponent.p), int(exponent.q)))
            except (SymgradError, AttributeError, TypeError):
                raise TooLarge(f"the exponent {_show(exponent)} is over the limit of {MAX_EXPONENT}") from None
        if base == sympy.E:
            return sympy.exp(exponent)
        if not exponent.is_Integer:
            self._require("positive", base, "the base of a fractional or variable power")
        elif exponent < 0:
            self._require("nonzero", base, "a base raised to a negative power")
        if base.is_Rational and exponent.is_Rational:
            try:
                if power(Fraction(int(base.p), int(base.q)), Fraction(int(exponent.p), int(exponent.q))) is None:
                    return base**exponent  # irrational: SymPy keeps the root
            except SymgradError as exc:
                raise TooLarge(str(exc)) from None
        return base**exponent

    def _symbol(self, node, env, opaque):
        _, letter, sub = node
        if letter in self.decl.given and letter not in opaque:
            raise Unsupported(f"{letter} is given only through its derivatives, not as a value")
        if self.decl.functions.get(letter) == "kronecker":
            if sub is None or len(sub) != 2:
                raise Unsupported(f"the Kronecker delta {letter} with {len(sub or ())} indices, not two")
            a, b = (self._index_of(p, env) for p in sub)
            return sympy.Integer(1 if a == b else 0)
        if sub is not None and f"{letter}_{''.join(sub)}" in self.size:  # N_i: a size named with a subscript
            return sympy.Integer(self.size[f"{letter}_{''.join(sub)}"])
        if sub is None and letter in self.inputs and not self.inputs[letter]:
            return self.entry(letter, ())  # a scalar input
        if sub is None:
            if letter in env:
                return sympy.Integer(env[letter])
            if letter in self.size:
                return sympy.Integer(self.size[letter])
            if letter in self.defined and not self.defined[letter][0]:
                return self.entry(letter, ()) if letter in opaque else self._defined_value(letter, (), opaque)
            if letter == "e":  # Euler's number: the declarations cannot name an e (see RESERVED)
                return sympy.E
            raise Unsupported(_undeclared(letter, sub))
        if letter in self.inputs or letter in self.defined:
            try:
                values = self._index_values(letter, sub, env)
            except OutOfRange:
                if self.decl.outside:  # declared: an entry outside its tensor is absent
                    return sympy.Integer(0)
                raise
        if letter in self.inputs:
            return self.entry(letter, values)
        if letter in self.defined:
            if letter in opaque:
                return self.entry(letter, values)
            return self._defined_value(letter, values, opaque)
        raise Unsupported(_undeclared(letter, sub))

    def _defined_value(self, letter: str, values: tuple, opaque: frozenset):
        """A defined quantity's entry, evaluated once for all its uses (a variance appears many
        times in a line); the conditions its evaluation requires are required again each time."""
        key = (letter, values, opaque, self.display, self.named)
        if key not in self._values:
            start = len(self.conditions)
            indices, body = self.defined[letter]
            named = letter in self.named
            value = self.value(body, dict(zip(indices, values)), frozenset() if named else opaque)
            if named and not isinstance(value, sympy.MatrixBase):  # a matrix is written out
                symbol = self.entry(letter, values)
                self.lets[symbol], value = value, symbol
                self._let_of[symbol] = letter
            self._values[key] = (value, self.conditions[start:])
        value, conditions = self._values[key]
        self.conditions.extend(conditions)
        return value

    def _example(self, letter: str, index: str, env, opaque):
        """x^{(i)}: the row i of the examples' matrix, as a column, or the entry i of their vector."""
        shape = self.shape_of(letter)
        first = self.first_of(letter)
        if len(shape) == 1:
            return self._symbol(("sym", letter, (index,)), env, opaque)
        (row,) = self._index_values(letter, (index, str(first[1])), env)[:1]
        return sympy.Matrix(shape[1], 1, lambda r, c: self._entry_value(letter, (row, r + first[1]), opaque))

    def _tensor(self, name: str, env, opaque):
        letter = _key(name)
        if letter not in self.inputs and letter not in self.defined:
            raise Unsupported(f"the tensor {name} is not declared: declare it, as tensors: {{{name}: [n]}}")
        shape = self.shape_of(letter)
        if len(shape) == 1:  # a vector, as a column
            (a,) = self.first_of(letter)
            return sympy.Matrix(shape[0], 1, lambda r, c: self._entry_value(letter, (r + a,), opaque))
        if len(shape) != 2:
            raise Unsupported(f"the tensor {name} has more than two dimensions")
        a, b = self.first_of(letter)
        return sympy.Matrix(shape[0], shape[1], lambda r, c: self._entry_value(letter, (r + a, c + b), opaque))

    def _entry_value(self, letter, values, opaque):
        if letter in self.inputs or letter in opaque:
            return self.entry(letter, values)
        indices, body = self.defined[letter]
        return self.value(body, dict(zip(indices, values)), opaque)

    def _sum(self, node, env, opaque):
        _, var, low, high, exclude, body = node
        if var is None:
            raise Unsupported("a sum whose index the line does not settle: write the index under the sum")
        if low is None and high is not None:  # an upper bound alone: the index's declared range, up to it
            declared, last = self.range_of(var), self.value(high, env)
            # i ∈ [0, w) declared, \sum^{w}_i written: the sum up to the range's open end. The
            # range's own bounds, not its entries: an empty range has none
            end = declared.stop if var in self.decl.ends else None
            if not (last.is_Integer and int(last) in (declared.stop - 1, end)):
                raise Unsupported(
                    f"a sum over {var} up to {_show(last)} with no lower bound, where {var} runs over "
                    f"{declared.start}..{declared.stop - 1}: write the lower bound"
                )
            high = None
        if low is not None and high is not None:
            first, last = self.value(low, env), self.value(high, env)
            if not (first.is_Integer and last.is_Integer):
                raise Unsupported("a sum whose bounds are not integers")
            if int(last) - int(first) + 1 > MAX_WORK:
                raise TooLarge(f"a sum of {int(last) - int(first) + 1:,} terms, over the limit of {MAX_WORK:,}")
            values: list = list(range(int(first), int(last) + 1))
        else:
            values = list(self.range_of(var))
        if exclude is not None:
            if exclude not in env:
                raise Unsupported(f"the sum excludes {exclude}, which is not bound")
            values = [v for v in values if v != env[exclude]]
        terms = [self.value(body, {**env, var: v}, opaque) for v in values]
        if any(isinstance(t, sympy.MatrixBase) for t in terms):
            return functools.reduce(operator.add, terms) if terms else sympy.Integer(0)
        return sympy.Add(*terms)  # at once: adding one term at a time is quadratic

    def resolve(self, node):
        return with_samples(resolve(node, self.reading), self.decl.samples, self.decl.indices)

    # --- what a derivative means (``Meaning``) ----------------------------------------------------

    def derivative(self, f, x, env):
        """∂f/∂x, as ``Meaning`` reads it."""
        raise NotImplementedError

    def _differential(self, node, env, opaque):
        """d of a formula, as ``Meaning`` reads it."""
        raise NotImplementedError


def _times(a, b):
    if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase):
        if a.shape[1] != b.shape[0]:
            raise Mismatch(f"a product of a {a.shape[0]}×{a.shape[1]} and a {b.shape[0]}×{b.shape[1]} matrix")
        return a * b
    return a * b


def _undeclared(letter: str, sub) -> str:
    """What to declare for a symbol the declarations do not name, as the line to add."""
    if sub:
        written, tensor = f"{letter}_{{{''.join(sub)}}}", letter.upper() if len(letter) == 1 else letter
        return (
            f"the symbol {letter} is not declared: declare it, as tensors: {{{tensor}: "
            f'[n]}} (an input with {len(sub)} ind{"ex" if len(sub) == 1 else "ices"}) or define: {{"{written}": ...}}'
        )
    return (
        f"the symbol {letter} is not declared: declare it, as scalars: [{letter}] (an input), define: "
        f'{{"{letter}": ...}}, or a size'
    )
