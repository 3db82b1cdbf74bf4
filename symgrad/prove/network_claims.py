"""Claims about a network's gradients: read and evaluated into exact polynomials, by one path.

A claim is a string or a Python function of the network's tensors. Both reach the same
arithmetic (``apply``), which handles each operator it accepts explicitly and refuses everything
else with a SymgradError: nothing is ever read as something else. Numbers are exact Fractions
made and combined by ``core.numbers``, so ``2**5`` is 32 and a power too large to hold is refused
before it is computed. The work a claim asks for (a product of long entries, a power of one) is
sized before it starts and refused over the network's ``max_terms``.
"""

from __future__ import annotations

import ast
import itertools
import math
from fractions import Fraction

from ..core import numbers, poly
from ..core.budget import check_max_terms
from ..core.errors import SymgradError
from ..network.graph import Graph
from ..network.layers import broadcast_shape, reduction_shape, reduction_targets, source
from .points import zero_everywhere

MAX_LENGTH = 2000
MAX_DEPTH = 200  # nesting of the syntax tree: evaluation recurses once per level
SYNTAX = "tensor names, d<name> for dL/d(name), exact numbers, + - * / ** @, .T, .sum(dim) and .mean(dim)"


class ClaimTensor:
    """A tensor in a claim: a shape and a polynomial per entry, with PyTorch-like operations.

    Every operator goes through ``apply``; the ones a claim may not use are refused there or
    below, so a claim function gets the same answers as a claim string."""

    def __init__(self, graph: Graph, shape: tuple, entries: list, spent: int = 0) -> None:
        self.graph, self.shape, self.entries = graph, tuple(shape), list(entries)
        self.spent = spent  # the work that made it, counted against the budget (see _spend)

    @property
    def T(self) -> ClaimTensor:
        if len(self.shape) != 2:
            raise SymgradError(f"claim: .T needs a matrix, got shape {self.shape}")
        r, c = self.shape
        entries = [self.entries[i * c + j] for j in range(c) for i in range(r)]
        return ClaimTensor(self.graph, (c, r), entries, self.spent)

    def __add__(self, o):
        return apply("+", self, o)

    def __radd__(self, o):
        return apply("+", o, self)

    def __sub__(self, o):
        return apply("-", self, o)

    def __rsub__(self, o):
        return apply("-", o, self)

    def __mul__(self, o):
        return apply("*", self, o)

    def __rmul__(self, o):
        return apply("*", o, self)

    def __truediv__(self, o):
        return apply("/", self, o)

    def __rtruediv__(self, o):
        return apply("/", o, self)

    def __pow__(self, o):
        return apply("**", self, o)

    def __rpow__(self, o):
        return apply("**", o, self)

    def __matmul__(self, o):
        return apply("@", self, o)

    def __rmatmul__(self, o):
        return apply("@", o, self)

    def __neg__(self):
        return apply("*", Fraction(-1), self)

    def __pos__(self):
        return self

    def __abs__(self):
        raise SymgradError("claim: abs() is not allowed in a claim; " + SYNTAX)

    def __bool__(self):
        raise SymgradError("claim: a tensor has no truth value; a claim cannot branch on one")

    def sum(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=False)

    def mean(self, dim=None, keepdim=False) -> ClaimTensor:
        return _reduce(self, dim, keepdim, mean=True)


class ClaimNames(dict):
    """The names a claim may use; an unknown or ambiguous one is a SymgradError saying why."""

    def __init__(self) -> None:
        super().__init__()
        self.ambiguous: set = set()

    def __getitem__(self, key):
        if key in self.ambiguous:
            raise SymgradError(
                f"claim: {key} is ambiguous: the network has a tensor named {key!r} and one named {key[1:]!r}, "
                f"and in a claim {key} means dL/d{key[1:]}; give the tensor {key!r} another name (name=... or "
                "the function's argument)"
            )
        return super().__getitem__(key)

    def __missing__(self, key):
        shown = ", ".join(list(self)[:40]) + (", ..." if len(self) > 40 else "")
        raise SymgradError(f"claim: unknown name {key!r}; the claim may use {shown}")


def claim_tensors(d) -> ClaimNames:
    """What a claim may name: every tensor of the network, and dL/d(it) as d<name>.

    A tensor named d<other tensor> clashes with that tensor's gradient: the name is refused when
    a claim uses it, rather than one of its two meanings picked silently."""
    out = ClaimNames()
    for name, tensor in d.graph.tensors.items():
        out[name] = ClaimTensor(d.graph, tensor.shape, [poly.var(v) for v in tensor.ids])
        out[f"d{name}"] = ClaimTensor(d.graph, tensor.shape, d.gradient(name))
    out.ambiguous = {name for name in d.graph.tensors if name.startswith("d") and name[1:] in d.graph.tensors}
    return out


# --- the arithmetic ------------------------------------------------------------------------------


def operand(x) -> Fraction | ClaimTensor:
    """A claim's value: a tensor, or an exact number (floats and everything else refused)."""
    if isinstance(x, ClaimTensor):
        return x
    return numbers.exact(x, "a number in a claim")


def apply(op: str, a, b) -> Fraction | ClaimTensor:
    """a op b for op in + - * / ** @, on exact numbers and claim tensors."""
    a, b = operand(a), operand(b)
    if isinstance(a, Fraction) and isinstance(b, Fraction):
        return _numbers(op, a, b)
    if op == "+":
        return _elementwise(a, b, poly.add, products=False)
    if op == "-":
        return _elementwise(a, b, lambda x, y: poly.add(x, poly.scale(y, -1)), products=False)
    if op == "*":
        return _elementwise(a, b, poly.mul, products=True)
    if op == "/":
        return _divide(a, b)
    if op == "**":
        return _power(a, b)
    if op == "@":
        return _matmul(a, b)
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _numbers(op: str, a: Fraction, b: Fraction) -> Fraction:
    if op == "+":
        return numbers.bounded(a + b)
    if op == "-":
        return numbers.bounded(a - b)
    if op == "*":
        return numbers.bounded(a * b)
    if op == "/":
        if b == 0:
            raise SymgradError("claim: division by zero")
        return numbers.bounded(a / b)
    if op == "**":
        value = numbers.power(a, b)
        if value is None:
            raise SymgradError(f"claim: {a}**({b}) is not a rational number; a claim's numbers must be exact")
        return value
    if op == "@":
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    raise SymgradError(f"claim: the operator {op} is not allowed; " + SYNTAX)


def _as_tensor(x: Fraction | ClaimTensor, graph: Graph) -> ClaimTensor:
    return x if isinstance(x, ClaimTensor) else ClaimTensor(graph, (), [poly.const(x)])


def _graph(a, b) -> Graph:
    graph = a.graph if isinstance(a, ClaimTensor) else b.graph
    if isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor) and a.graph is not b.graph:
        raise SymgradError("claim: the tensors come from two different derivations")
    return graph


def _elementwise(a, b, combine, products: bool) -> ClaimTensor:
    graph = _graph(a, b)
    a, b = _as_tensor(a, graph), _as_tensor(b, graph)
    shape = broadcast_shape(a.shape, b.shape, "claim")
    pairs = [
        (a.entries[source(a.shape, shape, index)], b.entries[source(b.shape, shape, index)])
        for index in itertools.product(*(range(s) for s in shape))
    ]
    cost = sum(_product_cost(x, y) for x, y in pairs) if products else len(pairs)
    spent = _spend(graph, cost, "product" if products else "sum", a, b)
    return ClaimTensor(graph, shape, [combine(x, y) for x, y in pairs], spent)


def _matmul(a, b) -> ClaimTensor:
    if not (isinstance(a, ClaimTensor) and isinstance(b, ClaimTensor)):
        raise SymgradError("claim: @ multiplies two tensors; use * for a number")
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise SymgradError(f"claim: shapes {a.shape} and {b.shape} do not multiply with @")
    graph = _graph(a, b)
    (m, k), n = a.shape, b.shape[1]
    cost = sum(
        _product_cost(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k) for i in range(m) for j in range(n)
    )
    spent = _spend(graph, cost, "matrix product", a, b)
    entries = [
        poly.add(*(poly.mul(a.entries[i * k + t], b.entries[t * n + j]) for t in range(k)))
        for i in range(m)
        for j in range(n)
    ]
    return ClaimTensor(graph, (m, n), entries, spent)


def _power(a, b) -> ClaimTensor:
    if isinstance(b, ClaimTensor):
        raise SymgradError("claim: an exponent must be a number, not a tensor")
    numbers.check_exponent(b, "claim: the exponent")
    if b.denominator != 1 or b < 0:
        raise SymgradError(f"claim: ** takes a whole exponent of at least 0, got {b}; write 1/x for an inverse")
    n = int(b)
    spent = _spend(a.graph, sum(_power_cost(p, n) for p in a.entries), "power", a)
    return ClaimTensor(a.graph, a.shape, [_poly_power(p, n) for p in a.entries], spent)


def _power_cost(p: poly.Poly, n: int) -> int:
    """The cost of p**n by squaring: p**j has at most C(j + k - 1, k - 1) terms for k terms in p,
    each of degree at most j times p's."""
    k, degree = max(len(p), 1), _degree(p)

    def terms(j: int) -> int:
        return math.comb(j + k - 1, k - 1)

    cost, have, square = 0, 0, 1
    while n:
        if n & 1:
            cost += terms(have) * terms(square) * (1 + (have + square) * degree)
            have += square
        n >>= 1
        if n:
            cost += terms(square) ** 2 * (1 + 2 * square * degree)
            square *= 2
    return cost


def _product_cost(p: poly.Poly, q: poly.Poly) -> int:
    """Term products, each as long as the monomial it makes."""
    return len(p) * len(q) * (1 + _degree(p) + _degree(q))


def _degree(p: poly.Poly) -> int:
    return max((len(mono) for mono in p), default=0)


def _poly_power(p: poly.Poly, n: int) -> poly.Poly:
    result: poly.Poly = {(): 1}
    square = p
    while n:  # by squaring: log2(n) products
        if n & 1:
            result = poly.mul(result, square)
        n >>= 1
        if n:
            square = poly.mul(square, square)
    return result


def _divide(a, b) -> ClaimTensor:
    if isinstance(b, Fraction):
        if b == 0:
            raise SymgradError("claim: division by zero")
        return _elementwise(a, Fraction(1) / b, poly.mul, products=True)
    graph = _graph(a, b)
    inverse = ClaimTensor(graph, b.shape, [_reciprocal(graph, p) for p in b.entries])
    return _elementwise(a, inverse, poly.mul, products=True)


def _reciprocal(graph: Graph, p: poly.Poly) -> poly.Poly:
    """1/p for an entry that is a nonzero number or a multiple of one variable; a denominator
    that is zero as a polynomial in the inputs is refused, never cancelled against a numerator."""
    if len(p) == 1:
        ((mono, c),) = p.items()
        if not mono:
            return poly.const(1 / Fraction(c))
        if len(mono) == 1:
            vid = mono[0]
            if _is_zero(graph, {mono: 1}):
                raise SymgradError(f"claim: division by {graph.registry.names[vid]}, which is identically zero")
            if zero_everywhere(graph, vid):
                raise SymgradError(
                    f"claim: division by {graph.registry.names[vid]}, which is zero at every point tried "
                    "(zero through a relation between exp, log, ... that the canonical form cannot see)"
                )
            return poly.scale(poly.var(graph.reciprocal(vid)), 1 / Fraction(c))
    if _is_zero(graph, p):
        raise SymgradError("claim: division by an expression that is identically zero")
    raise SymgradError(
        "claim: division by a tensor needs each of its entries to be a number or a single variable "
        "(a tensor of the network, not a sum or product of them)"
    )


def _is_zero(graph: Graph, p: poly.Poly) -> bool:
    return expand_within(graph, p, Work(graph, "checking that a claim's denominator is not zero", [p])) == {}


def _reduce(x: ClaimTensor, dim, keepdim, mean: bool) -> ClaimTensor:
    if not isinstance(x, ClaimTensor):
        raise SymgradError("claim: .sum and .mean apply to a tensor, not a number")
    if not isinstance(keepdim, bool):
        raise SymgradError(f"claim: keepdim must be True or False, got {keepdim!r}")
    dims = _dims(dim, len(x.shape))
    shape = reduction_shape(x.shape, dims, keepdim)
    count = math.prod(x.shape[d] for d in dims)
    out: list = [dict() for _ in range(max(1, math.prod(shape)))]
    for entry, target in zip(x.entries, reduction_targets(x.shape, dims, keepdim)):
        poly.add_into(out[target], poly.scale(entry, Fraction(1, count) if mean else 1))
    return ClaimTensor(x.graph, shape, out, _spend(x.graph, len(x.entries), "reduction", x))


def _dims(dim, ndim: int) -> tuple:
    """The reduced dims, as PyTorch reads them: each in -ndim..ndim-1 (-1..0 for a scalar), once."""
    if dim is None:
        return tuple(range(ndim))
    given = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not given:  # PyTorch has read dim=() both as every dim and as none
        raise SymgradError("claim: dim=() is ambiguous; leave dim out to reduce over every dim")
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    dims = []
    for d in given:
        d = numbers.integer(d, "claim: a dim of .sum or .mean")
        if not low <= d <= high:
            raise SymgradError(f"claim: dim {d} is out of range for a {ndim}-dimensional tensor ({low} to {high})")
        dims.append(d % ndim if ndim else None)
    if len(set(dims)) != len(dims):
        raise SymgradError(f"claim: dim {dim} names the same dimension twice")
    return tuple(sorted(d for d in dims if d is not None))


def _spend(graph: Graph, cost: int, what: str, *operands) -> int:
    """The work done so far for a value: its operands' and its own ``cost``, refused before it is
    done when the total passes the network's ``max_terms``."""
    total = cost + sum(x.spent for x in operands if isinstance(x, ClaimTensor))
    limit = check_max_terms(graph.max_terms)
    if total > limit:
        raise SymgradError(
            f"the claim is too large to evaluate: with its {what} it takes about {total:,} term operations, over "
            f"the budget of {limit:,}; write it with smaller powers or products, or derive with max_terms={total} "
            f"(--max-terms {total} on the command line)"
        )
    return total


class Work:
    """The term products a comparison may spend writing polynomials out in the inputs. Each
    level of definitions is sized before it is expanded, and the first that would pass the
    budget is refused, with an estimate and the setting that allows it.

    While ``copies`` is above 1 the polynomial being written out stands for that many alike (the
    entries of one tensor cost about the same), so the whole is refused as soon as the first
    entry's cost, times their number, passes the budget."""

    def __init__(self, graph: Graph, what: str, pending: list) -> None:
        self.graph, self.what, self.pending = graph, what, pending
        self.limit = check_max_terms(graph.max_terms)
        self.spent = 0
        self.copies = 1

    def spend(self, terms: int) -> None:
        if (self.spent + terms) * self.copies > self.limit:
            self.refuse((self.spent + terms) * self.copies)
        self.spent += terms

    def refuse(self, lower: int) -> None:
        memo: dict = {}
        upper = max(lower, sum(expansion_size(self.graph, p, memo) for p in self.pending))
        raise SymgradError(
            f"{self.what} is too large: written out in the inputs it takes more than about {lower:,} term products "
            f"(at most {upper:,}), over the budget of {self.limit:,}; check it at smaller sizes, or derive with "
            f"max_terms={upper} (--max-terms {upper} on the command line) if there is time for it"
        )


def differing(graph: Graph, pairs: list, what: str) -> list[int]:
    """The positions where the two polynomials of a pair differ in the inputs and atoms."""
    candidates = [i for i, (a, b) in enumerate(pairs) if a != b]
    differences = [poly.add(pairs[i][0], poly.scale(pairs[i][1], -1)) for i in candidates]
    work = Work(graph, what, differences)
    out = []
    for k, (i, difference) in enumerate(zip(candidates, differences)):
        work.copies = len(candidates) if k == 0 else 1
        if expand_within(graph, difference, work) != {}:
            out.append(i)
    return out


def expand_within(graph: Graph, p: poly.Poly, work: Work) -> poly.Poly:
    """``graph.expand(p)``, one level of definitions at a time, each level's products counted
    against ``work`` before they are made."""
    while True:
        defined = {v for v in poly.variables(p) if v in graph.defs}
        if not defined:
            return p
        work.spend(sum(math.prod(len(graph.defs[u]) for u in mono if u in defined) for mono in p))
        p = poly.substitute(p, {v: graph.defs[v] for v in defined})


def expansion_size(graph: Graph, p: poly.Poly, memo: dict) -> int:
    """An upper bound on the term products writing ``p`` out in the inputs takes, from the
    definitions' sizes alone (each defined variable counts as the terms of its own expansion)."""

    def product(mono) -> int:
        return math.prod(memo[u] if u in graph.defs else 1 for u in mono)

    stack = [u for mono in p for u in mono]
    while stack:  # definitions before what reads them, without recursion: chains can be long
        vid = stack[-1]
        if vid in memo or vid not in graph.defs:
            stack.pop()
            continue
        missing = [u for mono in graph.defs[vid] for u in mono if u in graph.defs and u not in memo]
        if missing:
            stack += missing
            continue
        stack.pop()
        memo[vid] = sum(product(mono) for mono in graph.defs[vid])
    return sum(product(mono) for mono in p)


# --- claim strings -------------------------------------------------------------------------------


def read_claim(text: str, names: dict):
    """A claim string: parsed by Python's ``ast`` and evaluated node by node, each kind of node
    handled explicitly and anything else refused."""
    if len(text) > MAX_LENGTH:
        raise SymgradError(f"claim: at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SymgradError(f"claim: not an expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise SymgradError("claim: not an expression Python can read (nested too deeply?)") from None
    check_depth(tree)
    return _eval(tree.body, names)


def check_depth(tree: ast.AST, limit: int = MAX_DEPTH) -> None:
    """Refuse a syntax tree nested deeper than ``limit``, walking it without recursion."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise SymgradError(f"claim: nested more than {limit} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def _eval(node: ast.AST, names: dict):
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise SymgradError(
                f"claim: only whole numbers may be written (5/2 for two and a half, not 2.5), got {node.value!r}"
            )
        return numbers.exact(node.value, "a number in a claim")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, names)
        return apply("*", Fraction(-1), value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return apply(_BINARY[type(node.op)], _eval(node.left, names), _eval(node.right, names))
    if isinstance(node, ast.Attribute) and node.attr == "T":
        value = _eval(node.value, names)
        if not isinstance(value, ClaimTensor):
            raise SymgradError("claim: a number has no transpose")
        return value.T
    if isinstance(node, ast.Attribute) and node.attr in ("sum", "mean"):
        raise SymgradError(f"claim: .{node.attr} must be called: .{node.attr}() or .{node.attr}(dim)")
    if isinstance(node, ast.Call):
        return _call(node, names)
    what = ast.unparse(node)
    raise SymgradError(f"claim: {what[:60]!r} is not allowed; a claim may use " + SYNTAX)


def _call(node: ast.Call, names: dict) -> ClaimTensor:
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("sum", "mean")):
        raise SymgradError("claim: the only calls allowed are .sum(...) and .mean(...)")
    if len(node.args) > 1 or any(isinstance(a, ast.Starred) for a in node.args):
        raise SymgradError(f"claim: .{func.attr} takes one dim (an integer or a tuple of integers)")
    given = {"dim": node.args[0]} if node.args else {}
    for keyword in node.keywords:
        if keyword.arg not in ("dim", "keepdim") or keyword.arg in given:
            raise SymgradError(f"claim: .{func.attr} takes dim and keepdim, got {keyword.arg or '**'}=")
        given[keyword.arg] = keyword.value
    target = _eval(func.value, names)
    if not isinstance(target, ClaimTensor):
        raise SymgradError(f"claim: .{func.attr} applies to a tensor, not a number")
    dim = _literal_dims(given["dim"], func.attr) if "dim" in given else None
    keepdim = given.get("keepdim")
    if keepdim is not None and not (isinstance(keepdim, ast.Constant) and isinstance(keepdim.value, bool)):
        raise SymgradError(f"claim: keepdim must be True or False, got {ast.unparse(keepdim)[:40]}")
    return _reduce(target, dim, bool(keepdim.value) if keepdim is not None else False, mean=func.attr == "mean")


def _literal_dims(node: ast.AST, method: str):
    """A dim as written: an integer, a negative integer, a tuple of them, or None."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal_dim(e, method) for e in node.elts)
    return _literal_dim(node, method)


def _literal_dim(node: ast.AST, method: str) -> int:
    negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    inner = node.operand if isinstance(node, ast.UnaryOp) and negative else node
    if not (isinstance(inner, ast.Constant) and type(inner.value) is int):
        raise SymgradError(
            f"claim: the dim of .{method} must be an integer or a tuple of integers written out, "
            f"got {ast.unparse(node)[:40]}"
        )
    return -inner.value if negative else inner.value


# --- a claim, whichever way it is given -----------------------------------------------------------


def claim_value(d, claim, names: ClaimNames, shape: tuple) -> tuple:
    """A claimed gradient as a ClaimTensor of the given shape, and its text."""
    if isinstance(claim, str):
        got, text = read_claim(claim, names), claim
    elif callable(claim):
        got, text = _call_function(claim, names), getattr(claim, "__name__", "claim")
    else:
        raise SymgradError(f"a claim is a string or a function, got {type(claim).__name__}")
    got = operand(got)
    if isinstance(got, Fraction):
        got = ClaimTensor(d.graph, (), [poly.const(got)])
    if got.graph is not d.graph:
        raise SymgradError("claim: the claim's tensors come from another derivation")
    if got.shape != shape:
        if math.prod(got.shape) == 1 and not shape:
            got = ClaimTensor(d.graph, (), got.entries)
        else:
            raise SymgradError(f"the claim has shape {got.shape}, but the gradient has shape {shape}")
    return got, text


def _call_function(claim, names: ClaimNames):
    try:
        return claim(names)
    except SymgradError:
        raise
    except RecursionError:
        raise SymgradError("the claim function recursed too deeply") from None
    except Exception as exc:  # the user's code: any failure becomes one message
        raise SymgradError(f"the claim function failed: {type(exc).__name__}: {exc}") from None
