"""What the symbols of a hand-written derivation mean, from its declarations, and their exact
values at one declared size.

    sizes: [{m: 2, k: 4, n: 3}]
    indices: {i: m, j: n, t: k, p: m, q: k}
    tensors: {A: [m, k], B: [k, n]}            # inputs: A is the matrix, a_{it} its entries
    define:
      "c_{ij}": "\\sum_{t=1}^{k} a_{it} b_{tj}"
      "L": "\\frac{1}{m n}\\sum_{i=1}^{m}\\sum_{j=1}^{n} c_{ij}"

∂L/∂a_{23} is the exact derivative of L's definition, written out down to the inputs. A derivative
with respect to a defined quantity (∂L/∂c_{11}) has the meaning a backpropagation derivation gives
it: the derivative of L's own definition, with c as its variables, through the nodes that use c
directly, its value then written out. Sums run over the declared ranges; a bold capital is the
declared tensor (or the defined one whose entries carry its lower-case letter).
"""

from __future__ import annotations

import functools
import itertools
import math

import sympy

from ..core.errors import SymgradError
from .declarations import _brief
from .equality import expanded
from .exact import free_symbols
from .latex import Unsupported, index_letters
from .names import _key
from .outcomes import Ambiguous, OutOfRange, Undecided, Undefined
from .summation import _settled, _unsettled_out
from .trees import _children, _uses, _variables
from .values import Values, _undeclared


@functools.lru_cache(maxsize=4096)
def _diff(expr, variable):
    """sympy.diff, kept: the chain rule differentiates one function's value by the same names at
    every index value of a line (∂L/∂y_{c,i} for each c and i reads L by every y)."""
    return sympy.diff(expr, variable)


class Meaning(Values):
    """The values of a derivation's symbols at one size, and their derivatives."""

    def derivative(self, f, x, env):
        """∂f/∂x: for an input, the derivative of f written out; for a defined quantity, the
        derivative of f's own definition with that quantity as its variables. Where partials are
        declared local, the derivative of an intermediate quantity (one others are built from) is
        the derivative of its own definition, every other quantity it names held fixed."""
        if self._local(f):
            return self._local_partial(f, x, env)
        if x[0] == "bold":
            letter = _key(x[1])
            shape = self.shape_of(letter) if letter in self.inputs or letter in self.defined else None
            if shape is None or len(shape) not in (1, 2):
                raise Unsupported(f"a derivative with respect to {x[1]}")
            starts = self.first_of(letter)
            if len(shape) == 1:
                column = [self._derivative_entry(f, letter, (r + starts[0],), env) for r in range(shape[0])]
                if any(isinstance(d, sympy.MatrixBase) for d in column):  # a vector by a vector: a Jacobian
                    if self.decl.layout == "denominator":  # rows x_i, columns z_k
                        return sympy.Matrix.vstack(*(d.T for d in column))
                    return sympy.Matrix.hstack(*column)  # numerator: rows z_k, columns x_i
                return sympy.Matrix(shape[0], 1, lambda r, c: column[r])
            return sympy.Matrix(
                shape[0], shape[1], lambda r, c: self._derivative_entry(f, letter, (r + starts[0], c + starts[1]), env)
            )
        if x[0] == "sym" and x[2] is None and x[1] in self.defined and not self.defined[x[1]][0]:
            return self._derivative_entry(f, x[1], (), env)  # a defined scalar, such as a mean μ
        if x[0] == "sym" and x[2] is None and x[1] in self.inputs and not self.inputs[x[1]]:
            return self._derivative_entry(f, x[1], (), env)  # a scalar input, such as γ
        if x[0] != "sym" or x[2] is None:
            raise Unsupported(
                "a derivative with respect to something that is not an entry: write an entry (x_{i}), a declared "
                "tensor (X or \\boldsymbol{X}) or a defined quantity"
            )
        letter = x[1]
        if letter not in self.inputs and letter not in self.defined:
            raise Unsupported(_undeclared(letter, x[2]))
        try:
            values = self._index_values(letter, x[2], env)
        except OutOfRange:
            if self.decl.outside:  # declared: an entry outside its tensor is absent, and so is its term
                return sympy.Integer(0)
            raise
        return self._derivative_entry(f, letter, values, env)

    def _differential(self, node, env, opaque):
        """d of a formula: the sum, over every entry of the inputs that vary (those not declared
        constants), of its derivative by that entry times the entry's differential dx."""
        if node[0] == "sym" and node[2] is None and node[1] in self.decl.given:
            value = self._function(node, env, opaque)  # f given from outside: its first-order form
        else:
            value = self.value(node, env, opaque)

        def d(entry):
            return sympy.Add(*(self._total(entry, v) * sympy.Symbol(f"d{v.name}") for v in self._variables_of(entry)))

        return value.applyfunc(d) if isinstance(value, sympy.MatrixBase) else d(value)

    def _variables_of(self, expr) -> list:
        """The entries of inputs not declared constant that expr depends on, through its lets."""
        found, todo, seen = set(), list(expr.free_symbols), set()
        while todo:
            symbol = todo.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            if symbol in self.lets:
                todo += list(self.lets[symbol].free_symbols)
            elif symbol.name.split("_{")[0] in self.inputs and symbol.name.split("_{")[0] not in self.decl.constants:
                found.add(symbol)
        return sorted(found, key=lambda s: s.name)

    def let_symbols(self) -> set:
        """Every symbol that has stood for a defined quantity, in any reading."""
        return set(self._let_of)

    def written(self, exprs: list, keep: frozenset) -> tuple[list, dict]:
        """The expressions, and the lets kept, with every let of a quantity not in keep written
        out (its definition substituted, to the inputs or to kept lets)."""
        memo = self._written.setdefault((self.named, keep), {})

        def through(expr):
            light = {s: let(s) for s in free_symbols(expr) & self.lets.keys() if self._let_of[s] not in keep}
            return expr.xreplace(light) if light else expr

        def let(symbol):  # a light let written out, once
            if symbol not in memo:
                memo[symbol] = through(self.lets[symbol])
            return memo[symbol]

        out = [through(e) for e in exprs]
        lets: dict = {}  # the kept lets the expressions reach, and those their definitions reach
        todo = [s for e in out for s in free_symbols(e) if s in self.lets]
        while todo:
            symbol = todo.pop()
            if symbol not in lets:
                lets[symbol] = let(symbol)
                todo += [s for s in free_symbols(lets[symbol]) if s in self.lets]
        return out, lets

    def heavy_for(self, *nodes) -> frozenset:
        """The quantities to name in the middle reading of a line: those beyond polynomials, the
        defined quantities it differentiates by, and every quantity built on those (so that the
        chain rule through the names misses no path)."""
        named = set(self.heavy) | {x[1] for node in nodes for x in _variables(node) if x[1] in self.defined}
        while True:
            more = {n for n, (_, body) in self.defined.items() if n not in named and _uses(body) & named}
            if not more:
                return frozenset(named)
            named |= more

    def _total(self, expr, variable):
        """d expr / d variable by the chain rule through the lets expr names."""
        out = _diff(expr, variable)
        for s in sorted(free_symbols(expr) & self.lets.keys(), key=lambda s: s.name):
            if s != variable:
                through = self._through(s, variable)
                if through != 0:
                    out += _diff(expr, s) * through
        return out

    def _through(self, let, variable):
        key = (let, variable)
        if key not in self._derivatives:
            self._derivatives[key] = self._total(self.lets[let], variable)
        return self._derivatives[key]

    def _local(self, f) -> bool:
        local = self.decl.local
        scoped = local is True or (isinstance(local, frozenset) and self.display in local)
        return scoped and f[0] == "sym" and f[1] in self.intermediate

    def _local_partial(self, f, x, env):
        """∂u/∂v of an intermediate u: u's own definition at its indices, every defined quantity it
        names an opaque entry, differentiated by v's entry, then written out."""
        _, name, sub = f
        indices, body = self.defined[name]
        if len(sub or ()) != len(indices):
            raise Unsupported(f"a derivative of {name} without its indices (which entry, or a sum over them?)")
        values = self._index_values(name, sub, env) if sub else ()
        if x[0] != "sym" or (x[1] not in self.inputs and x[1] not in self.defined):
            raise Unsupported("a local partial with respect to something that is not an entry")
        letter = x[1]
        at = self._index_values(letter, x[2], env) if x[2] else ()
        if len(at) != len(self.shape_of(letter)):
            raise Unsupported(f"a derivative with respect to {letter} without its indices")
        opaque = frozenset(self.defined) - {name}
        value = self.value(body, dict(zip(indices, values)), opaque)
        if isinstance(value, sympy.MatrixBase):
            raise Unsupported("a derivative of a matrix")
        return self._write_all(sympy.diff(value if self.named else expanded(value), self.entry(letter, at)))

    def _write_all(self, expr):
        """Every opaque entry of a defined quantity replaced by its value (named: by its let)."""
        subs = {}
        for s in expr.free_symbols:
            for letter, (indices, _) in self.defined.items():
                if (s.name == letter and not indices) or (s.name.startswith(f"{letter}_{{") and indices):
                    values = tuple(int(v) for v in s.name[len(letter) + 2 : -1].split(",")) if indices else ()
                    subs[s] = self._defined_value(letter, values, frozenset())
        return expr.xreplace(subs)

    def _function(self, f, env, opaque: frozenset = frozenset()):
        """The value of the function differentiated: a function given from outside is read here,
        and only here, through its first-order form."""
        if f[0] == "sym" and f[2] is None and f[1] in self.decl.given:
            return self.value(self.defined[f[1]][1], env, opaque)
        if f[0] == "call" and f[1] in self.decl.given:  # J(W,b;Y,X): the given J, its arguments named
            return self.value(self.defined[f[1]][1], env, opaque)
        return self.value(f, env, opaque)

    def _derivative_entry(self, f, letter, values, env):
        if self.named:
            if letter not in self.inputs:
                if letter not in self.named:  # the chain rule goes through names only
                    raise Undecided(f"{letter} is written out in this reading")
                self._refuse_unreached(f, letter, values)
                self._defined_value(letter, values, frozenset())  # its let
            value = self._function(f, env)
            return self._entrywise(value, lambda e: self._total(e, self.entry(letter, values)))
        if letter in self.inputs:
            value = self._function(f, env)
            return self._entrywise(value, lambda e: _diff(expanded(e), self.entry(letter, values)))
        self._refuse_unreached(f, letter, values)
        value = self._function(f, env, opaque=frozenset({letter}))
        return self._entrywise(value, lambda e: self._write_out(_diff(expanded(e), self.entry(letter, values)), letter))

    def _entrywise(self, value, derivative):
        """The derivative of a number, or of a vector entry by entry where a Jacobian's layout is
        declared (any other matrix is not read)."""
        if not isinstance(value, sympy.MatrixBase):
            return derivative(value)
        if value.shape[1] == 1 and self.decl.layout:
            return value.applyfunc(derivative)
        if value.shape[1] == 1:
            raise Unsupported(
                "a derivative of a vector, a Jacobian: declare its layout, layout: numerator (rows the "
                "vector's entries) or layout: denominator (rows the variable's entries)"
            )
        raise Unsupported("a derivative of a matrix")

    def _refuse_unreached(self, f, letter, values) -> None:
        """∂L/∂y_1 where L's definition does not go through y is 0 as a backpropagation reads it,
        but when y is made of inputs L also reads, its author may mean L rewritten in y, which the
        declarations do not say: neither reading is checked."""
        reached = self._reach(f)
        if letter in reached:
            return
        shared = self._reach(self.defined[letter][1]) & reached & set(self.inputs)
        if shared:
            name = f[1] if f[0] == "sym" and f[1] in self.defined else "the function"
            raise Ambiguous(
                f"{name}'s definition does not go through {self.entry(letter, values)}, yet both read "
                f"{', '.join(sorted(shared))}: define {name} in terms of {letter} to mean the derivative through it"
            )

    def _reach(self, node) -> set:
        """The letters a formula names, and those its defined quantities' definitions name, down to
        the inputs."""
        out: set = set()
        for letter in _uses(node):
            out |= self._reach_of(letter)
        return out

    def _reach_of(self, letter: str) -> frozenset:
        """The letter, and every letter its definition names, down to the inputs: the same for
        every line, so found once."""
        reached = self._reached.get(letter)
        if reached is None:
            found: set = set()
            todo = [letter]
            while todo:
                name = todo.pop()
                if name not in found:
                    found.add(name)
                    if name in self.defined:
                        todo.extend(_uses(self.defined[name][1]))
            reached = self._reached[letter] = frozenset(found)
        return reached

    def _write_out(self, expr, letter):
        indices, body = self.defined[letter]
        subs = {}
        for s in expr.free_symbols:
            name = s.name
            if name == letter:  # a defined scalar
                subs[s] = self.value(body, {})
            elif name.startswith(f"{letter}_{{"):
                values = tuple(int(v) for v in name[len(letter) + 2 : -1].split(",") if v)
                subs[s] = self.value(body, dict(zip(indices, values)))
        return expr.xreplace(subs)

    # --- constraints on the inputs ------------------------------------------------------------

    def cases(self) -> list:
        """The substitutions that the declared constraints make, one dict per case: a one-hot
        vector is each of its unit vectors in turn (every case checked), a linear equation
        between entries (\\sum_{i=1}^{C} p_{i} = 1) solved for its last entry. A line holds under
        the constraints when it holds in every case."""
        if self._cases is None:
            cases: list = [{}]
            for constraint in self.decl.constraints:
                cases = [{**case, **more} for case in cases for more in self._constraint(constraint)]
            self._cases = cases
        return self._cases

    def _constraint(self, constraint) -> list:
        if isinstance(constraint, dict) and set(constraint) == {"one-hot"}:
            name = constraint["one-hot"]
            letter = _key(name) if isinstance(name, str) else ""
            if letter not in self.inputs or len(self.inputs[letter]) != 1:
                raise SymgradError(f"one-hot names a declared vector, as {{one-hot: T}}; got {_brief(name)}")
            (n,) = self.inputs[letter]
            entries = [self.entry(letter, (k,)) for k in range(1, n + 1)]
            return [{e: sympy.Integer(int(e == hot)) for e in entries} for hot in entries]
        if not isinstance(constraint, str) or "=" not in constraint:
            raise SymgradError(
                f"a constraint is an equation in LaTeX or {{one-hot: T}}, as constraints: "
                f'["\\sum_{{i=1}}^{{C}} p_{{i}} = 1"]; got {_brief(constraint)}'
            )
        from .latex import parse_chain

        try:
            left, right = (self.resolve(side) for side in parse_chain(constraint, *self.vocabulary))
        except (Unsupported, ValueError) as exc:
            raise SymgradError(f"the constraint {constraint} is not read: {exc}") from None
        solved: dict = {}
        free = self.free(left) | self.free(right)
        for env in self.bindings(free):
            difference = sympy.expand((self.value(left, env) - self.value(right, env)).xreplace(solved))
            entries = sorted(difference.free_symbols, key=lambda s: s.name)
            if not entries or sympy.Poly(difference, *entries).total_degree() != 1:
                raise SymgradError(f"the constraint {constraint} is not a linear equation between entries")
            last = entries[-1]
            coefficient = difference.coeff(last)
            solution = sympy.expand(-(difference - coefficient * last) / coefficient)
            solved = {k: v.xreplace({last: solution}) for k, v in solved.items()}
            solved[last] = solution
        return [solved]

    # --- sums whose index the line settles -----------------------------------------------------

    def settle(self, a, b) -> tuple:
        """Both sides with the index of every sum written without one settled by the line: the
        one index letter of its body that the line uses nowhere else (\\sum e^{x_k} beside x_i sums
        over k), and of \\sum_{i \\ne j} the letter that is not free elsewhere (beside x_i it sums over
        j ≠ i; the first letter when neither is). Anything else stays unsettled (not read)."""
        outside = self.free(_unsettled_out(a)) | self.free(_unsettled_out(b))
        return self._settle(a, outside), self._settle(b, outside)

    def _settle(self, node, outside: set):
        if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
            return node
        if node[0] == "sum" and node[1] is None:
            _, _, low, high, exclude, body = node
            var = None
            if exclude is not None:
                first, second = exclude
                if first not in outside or second not in outside:
                    var, exclude = (first, second) if first not in outside else (second, first)
            else:
                loose = {c for c in self.free(_unsettled_out(body)) if c in self.decl.indices} - outside
                if len(loose) == 1:
                    (var,) = loose
            if var is not None:
                node = ("sum", var, low, high, exclude, body)
        return tuple(_settled(child, self, outside) for child in node)

    # --- free indices ---------------------------------------------------------------------------

    def free(self, node, bound: frozenset = frozenset()) -> set:
        """Index letters a formula uses without binding them (c_{ij} in "c_{ij} = ..." has i, j)."""
        kind = node[0]
        if kind == "sym":
            sub = node[2] or ()
            if node[2] is not None and f"{node[1]}_{''.join(sub)}" in self.size:
                return set()  # N_i: a size
            out = {c for p in sub for c in index_letters(p) if c not in bound}  # i and m of x_{i+m-1}
            if node[2] is None and node[1] in self.decl.indices and node[1] not in bound:
                out.add(node[1])
            return out
        if kind == "sum":
            _, var, low, high, exclude, body = node
            out = self.free(body, bound | {var})
            for part in (low, high):
                if part is not None:
                    out |= self.free(part, bound)
            if isinstance(exclude, str) and exclude not in bound:
                out.add(exclude)
            return out
        if kind == "cond":
            return {p for p in (node[1], node[3]) if p.isalpha() and p not in bound}
        if kind == "example":
            return {node[2]} - bound
        out = set()
        for child in _children(node):
            out |= self.free(child, bound)
        return out

    def work(self, node, letters: frozenset = frozenset()) -> int:
        """An upper estimate of the terms evaluating node creates, from the declared sizes alone,
        so that a line too large is refused before any of it is evaluated."""
        kind = node[0]
        if kind == "sym":
            return self._work_of(node[1]) if node[1] in self.defined and node[1] not in letters else 1
        if kind == "example":
            return self.shape_of(node[1])[-1] * (1 if node[1] in self.inputs else self._work_of(node[1]))
        if kind == "bold":
            letter = _key(node[1])
            entries = math.prod(self.shape_of(letter)) if letter in self.inputs or letter in self.defined else 1
            return entries * (1 if letter in self.inputs else self._work_of(letter))
        if kind == "sum":
            _, var, low, high, _, body = node
            return self._length(var, low, high) * self.work(body, letters)
        children = [self.work(c, letters) for c in _children(node)]
        if kind == "mul":  # a product of matrices: every entry of the result sums a row by a column
            sides = [d for c in node[1] if c[0] == "bold" for d in self._shape_or_one(_key(c[1]))]
            return sum(children) * max(sides, default=1)
        if kind in ("deriv", "dop"):  # the function, and the written-out definition
            return 2 * sum(children)
        return max(1, sum(children))

    def _work_of(self, letter: str) -> int:
        if letter not in self._works:
            self._works[letter] = self.work(self.defined[letter][1])
        return self._works[letter]

    def _shape_or_one(self, letter: str) -> list:
        return self.shape_of(letter) if letter in self.inputs or letter in self.defined else [1]

    def _length(self, var: str, low, high) -> int:
        """The number of terms of a sum: its written bounds when they are numbers, else its
        index's range, else the largest declared size."""
        if low is not None and high is not None:
            try:
                first, last = self.value(low, {}), self.value(high, {})
                if first.is_Integer and last.is_Integer:
                    return max(0, int(last) - int(first) + 1)
            except (Unsupported, OutOfRange, Undefined):
                pass  # bounds that name a free index: the declared range bounds them
        if var in self.decl.indices:
            return len(self.range_of(var))
        return max(self.size.values())

    def bindings(self, letters: set):
        ordered = sorted(letters)
        ranges = [self.range_of(c) for c in ordered]
        for values in itertools.product(*ranges):
            yield dict(zip(ordered, values))
