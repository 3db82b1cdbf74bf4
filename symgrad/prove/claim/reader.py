"""A claim, whichever way it is given: the names it may use, and its value as a tensor of the gradient's shape.

A claim string is parsed by Python's ``ast`` and evaluated node by node, each kind of node handled
explicitly and anything else refused; a claim function is called with the names, and whatever it
raises becomes one SymgradError.
"""

from __future__ import annotations

import ast
import math
from fractions import Fraction

from ...core import numbers, poly
from ...core.errors import SymgradError
from ...network.graph import Graph
from .functions import CALLS, CONVOLUTIONS, FUNCTIONS
from .tensor import SYNTAX, ClaimTensor, _reduce, _tensor, apply, filled, operand

MAX_LENGTH = 2000
MAX_DEPTH = 200  # nesting of the syntax tree: evaluation recurses once per level


class ClaimNames(dict):
    """The names a claim may use; an unknown or ambiguous one is a SymgradError saying why."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.ambiguous: set = set()
        self.used: set = set()  # the names a claim looked up: an op's claim that names G is about every G

    def __getitem__(self, key):
        self.used.add(key)
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
    out = ClaimNames(d.graph)
    for name, tensor in d.graph.tensors.items():
        out[name] = ClaimTensor(d.graph, tensor.shape, [poly.var(v) for v in tensor.ids])
        out[f"d{name}"] = ClaimTensor(d.graph, tensor.shape, d.gradient(name))
    out.ambiguous = {name for name in d.graph.tensors if name.startswith("d") and name[1:] in d.graph.tensors}
    return out


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
        if isinstance(value, Fraction):
            raise SymgradError("claim: a number has no transpose")
        return _tensor(value, ".T").T
    if isinstance(node, ast.Attribute) and node.attr == "shape":  # a size for a convolution's gradient
        return _tensor(_eval(node.value, names), ".shape").shape
    if isinstance(node, ast.Attribute) and node.attr in ("sum", "mean", "transpose", "reshape"):
        raise SymgradError(f"claim: .{node.attr} must be called, as .{node.attr}(...)")
    if isinstance(node, ast.Call):
        return _call(node, names)
    if isinstance(node, ast.Subscript):  # x[0], x[:, :, :3]: literal whole numbers only
        value = _eval(node.value, names)
        if isinstance(value, Fraction):
            raise SymgradError("claim: a number cannot be indexed")
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return _tensor(value, "indexing")[tuple(_subscript(part) for part in parts)]
    what = ast.unparse(node)
    raise SymgradError(f"claim: {what[:60]!r} is not allowed; a claim may use " + SYNTAX)


def _subscript(node: ast.AST):
    """One index of a subscript, written as a whole number or a slice of whole numbers."""
    if isinstance(node, ast.Slice):
        lower, upper, step = (None if p is None else _whole(p) for p in (node.lower, node.upper, node.step))
        return slice(lower, upper, step)
    return _whole(node)


def _whole(node: ast.AST) -> int:
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node, sign = node.operand, -1
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return sign * node.value
    raise SymgradError(f"claim: an index is a whole number written out, got {ast.unparse(node)[:40]!r}")


def _call(node: ast.Call, names: dict) -> ClaimTensor:
    """A call written in a claim: exp(v), softmax(v, 1), ones(2, 3), v.sum(0), v.transpose(0, 1), ..."""
    func = node.func
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        raise SymgradError("claim: a call's arguments must be written out (no * or **)")
    if isinstance(func, ast.Attribute) and func.attr in ("sum", "mean"):
        return _reduction_call(node, func, names)
    if isinstance(func, ast.Attribute) and func.attr in ("transpose", "reshape"):
        target = _tensor(_eval(func.value, names), f".{func.attr}")
        args, keywords = _arguments(node, names, first=0)
        try:
            return getattr(target, func.attr)(*args, **keywords)
        except TypeError as exc:
            raise SymgradError(f"claim: .{func.attr}: {exc}") from None
    if isinstance(func, ast.Name) and func.id in ("ones", "zeros"):
        args, keywords = _arguments(node, names, first=0)
        if keywords or not args:
            raise SymgradError(f"claim: {func.id} takes its shape: {func.id}(2, 3) or {func.id}((2, 3))")
        return filled(_names_graph(names), args[0] if len(args) == 1 else args, 1 if func.id == "ones" else 0)
    if isinstance(func, ast.Name) and func.id in CALLS + CONVOLUTIONS:
        # a convolution's arguments are tensors, sizes and settings, each read as written
        args, keywords = _arguments(node, names, first=0 if func.id in CONVOLUTIONS else 1)
        if args and isinstance(args[0], Fraction):  # exp(1/2): a number as a tensor of the claim
            args[0] = ClaimTensor(_names_graph(names), (), [poly.const(args[0])])
        try:
            return FUNCTIONS[func.id](*args, **keywords)
        except TypeError as exc:
            raise SymgradError(f"claim: {func.id}: {exc}") from None
    raise SymgradError(
        f"claim: {ast.unparse(func)[:40]}(...) cannot be called; the only calls allowed are .sum, .mean, .transpose, "
        f".reshape, ones, zeros and {', '.join(CALLS + CONVOLUTIONS)}"
    )


def _names_graph(names: dict) -> Graph:
    if not isinstance(names, ClaimNames):
        raise SymgradError("claim: a constant tensor needs the network's tensors")
    return names.graph


def _arguments(node: ast.Call, names: dict, first: int) -> tuple[list, dict]:
    """A call's arguments: the first ``first`` evaluated as values of the claim, the rest read as
    written (whole numbers and tuples of them for dims and sizes, or a number's value)."""
    args = [_eval(a, names) if k < first else _literal(a, names) for k, a in enumerate(node.args)]
    return args, {str(k.arg): _literal(k.value, names) for k in node.keywords}


def _literal(node: ast.AST, names: dict):
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(e, names) for e in node.elts)
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, str))):
        return node.value
    value = _eval(node, names)
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)  # a dim or a size as written; an exact number stays exact either way
    return value


def _reduction_call(node: ast.Call, func: ast.Attribute, names: dict) -> ClaimTensor:
    if len(node.args) > 1:
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


def claim_value(d, claim, names: ClaimNames, name: str, shape: tuple) -> tuple:
    """A claimed dL/d(name) as a ClaimTensor of the given shape, and its text."""
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
            why = f"the claim for d{name} is {_size(got.shape)}, but {name} is {_size(shape)}"
            if isinstance(claim, str) and _tensor_product(claim):  # a broadcast product written for @
                why += "; * multiplies element by element, broadcasting; use @ for the matrix product"
            raise SymgradError(why)
    return got, text


def _tensor_product(text: str) -> bool:
    """Whether the claim (already read once) writes * between two operands neither of which is a
    number as written."""

    def number(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) or (isinstance(node, ast.UnaryOp) and number(node.operand))

    return any(
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mult)
        and not number(node.left)
        and not number(node.right)
        for node in ast.walk(ast.parse(text.strip(), mode="eval"))
    )


def _size(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "a scalar"


def _call_function(claim, names: ClaimNames):
    try:
        return claim(names)
    except SymgradError:
        raise
    except RecursionError:
        raise SymgradError("the claim function recursed too deeply") from None
    except Exception as exc:  # the user's code: any failure becomes one message
        raise SymgradError(f"the claim function failed: {type(exc).__name__}: {exc}") from None
