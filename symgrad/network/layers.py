"""The layers a forward function may use, with PyTorch's names, signatures and conventions.

Each layer checks its arguments, makes its output tensor (one variable per entry), defines every
entry (a polynomial, or an atom with its lemma) and records itself as a node of the graph. Its
closed-form backward pass lives beside it in ``closed.py``.

Numbers given as Python floats (a slope of 0.02) are read as the decimal they print as (1/50), so
that every coefficient stays exact.
"""

from __future__ import annotations

import itertools
import math
import numbers as abstract
from fractions import Fraction

import sympy

from ..core import numbers, poly
from ..core.errors import SymgradError
from .graph import Graph, Tensor
from .units.conv2d import geometry
from .units.conv_transpose2d import transposed_geometry


def exact(value, what: str) -> Fraction:
    """A number as an exact fraction: a Python float as the decimal it prints as (0.02 is 1/50),
    integers and rationals (Python, NumPy, SymPy) as they are. A NumPy or SymPy float is refused:
    its printed digits are not a decimal the user wrote."""
    if type(value) is float:
        if not math.isfinite(value):
            raise SymgradError(f"{what} must be finite, got {value!r}")
        return numbers.bounded(Fraction(repr(value)), what)
    if isinstance(value, float):  # NumPy's float64 is a subclass of float
        raise SymgradError(
            f"{what} is the NumPy float {value!r}, which is not exact: write a Python number such as 0.5, "
            "an integer, or a fraction (fractions.Fraction(1, 2))"
        )
    return numbers.exact(value, what)


def whole(value, what: str, minimum: int | None = None) -> int:
    """An exact integer (Python, NumPy or SymPy), at least ``minimum``."""
    return numbers.integer(value, what, minimum)


def plain_ints(value):
    """NumPy or SymPy integers, alone or in a tuple, as Python ints; anything else unchanged, for
    the caller's own checks to refuse."""
    if isinstance(value, abstract.Integral) and not isinstance(value, bool):
        return whole(value, "an integer")
    if isinstance(value, (tuple, list)):
        return tuple(plain_ints(v) for v in value)
    return value


def int_tuple(value) -> tuple | None:
    """An integer or a sequence of them (Python, NumPy or SymPy; never True or False) as a tuple
    of Python ints, or None."""
    values = plain_ints(value)
    values = (values,) if isinstance(values, int) else values
    if not isinstance(values, tuple) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None
    return values


def _flag(value, what: str) -> bool:
    """A True/False option, as PyTorch takes it (a string or a number is refused)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise SymgradError(f"{what} must be True or False, got {value!r:.60}")


def _graph(*items) -> Graph:
    graphs = {id(t.graph): t.graph for t in items if isinstance(t, Tensor)}
    if len(graphs) != 1:
        raise SymgradError("a layer needs at least one tensor of the network, and all from the same network")
    return next(iter(graphs.values()))


def _check_tensor(x, op: str, role: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise SymgradError(f"{op}: the {role} must be a tensor of the network, got {type(x).__name__}")
    return x


def _name(graph: Graph, name, stem: str) -> str:
    if name is None:
        return graph.fresh_name(stem)
    if not isinstance(name, str):
        raise SymgradError(f"name= must be a string, got {name!r}")
    return name


def _out(graph: Graph, op: str, inputs: tuple, shape: tuple, name, stem: str, **params) -> Tensor:
    out = graph.new_tensor(_name(graph, name, stem), shape)
    graph.add_node(op, inputs, out, **params)
    return out


# --- element-wise arithmetic with broadcasting ---------------------------------------------------


def broadcast_shape(a: tuple, b: tuple, op: str) -> tuple:
    out = []
    for x, y in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):
        if x != y and 1 not in (x, y):
            raise SymgradError(f"{op}: shapes {a} and {b} do not broadcast")
        out.append(max(x, y))
    return tuple(reversed(out))


def source(shape: tuple, out_shape: tuple, index: tuple) -> int:
    """The row-major position in a tensor of ``shape`` that broadcasting reads for ``index``."""
    offset = len(out_shape) - len(shape)
    position = 0
    for size, i in zip(shape, index[offset:]):
        position = position * size + (0 if size == 1 else i)
    return position


def _operand(x, op: str):
    """A tensor, or a number as a constant polynomial."""
    if isinstance(x, Tensor):
        return x
    return poly.const(exact(x, f"{op}: a constant"))


def _binary(op: str, a, b, combine, name=None) -> Tensor:
    graph = _graph(a, b)
    a, b = _operand(a, op), _operand(b, op)
    sa = a.shape if isinstance(a, Tensor) else ()
    sb = b.shape if isinstance(b, Tensor) else ()
    shape = broadcast_shape(sa, sb, op)
    inputs = tuple(t for t in (a, b) if isinstance(t, Tensor))
    constants = {role: t for role, t in (("left", a), ("right", b)) if not isinstance(t, Tensor)}
    out = _out(graph, op, inputs, shape, name, op, **{k: _value(v) for k, v in constants.items()})
    for position, index in enumerate(itertools.product(*(range(s) for s in shape))):
        left = poly.var(a.ids[source(sa, shape, index)]) if isinstance(a, Tensor) else a
        right = poly.var(b.ids[source(sb, shape, index)]) if isinstance(b, Tensor) else b
        graph.define(out.ids[position], combine(graph, left, right))
    return out


def _value(p: poly.Poly) -> Fraction:
    return Fraction(p.get((), 0))


def add(a, b, name=None) -> Tensor:
    return _binary("add", a, b, lambda g, x, y: poly.add(x, y), name)


def sub(a, b, name=None) -> Tensor:
    return _binary("sub", a, b, lambda g, x, y: poly.add(x, poly.scale(y, -1)), name)


def mul(a, b, name=None) -> Tensor:
    return _binary("mul", a, b, lambda g, x, y: poly.mul(x, y), name)


def div(a, b, name=None) -> Tensor:
    def combine(graph, x, y):
        if len(y) == 1 and () in y:  # by a number
            return poly.scale(x, 1 / Fraction(y[()]))
        if not y:
            raise SymgradError("div: division by the constant zero")
        ((mono, _),) = y.items()
        return poly.mul(x, poly.var(graph.reciprocal(mono[0])))

    if not isinstance(b, Tensor) and exact(b, "div: the divisor") == 0:
        raise SymgradError("div: division by the constant zero")
    return _binary("div", a, b, combine, name)


# --- atoms: one scalar function per entry --------------------------------------------------------


def _atomic(op: str, x, lemma: str, name=None, parameter=None, stem: str | None = None) -> Tensor:
    x = _check_tensor(x, op)
    graph = x.graph
    params = {} if parameter is None else {"exponent": parameter}
    out = _out(graph, op, (x,), x.shape, name, stem or op, **params)
    for vid, argument in zip(out.ids, x.ids):
        graph.atom(vid, lemma, argument, parameter)
    return out


def exp(x, name=None) -> Tensor:
    return _atomic("exp", x, "exp", name)


def log(x, name=None) -> Tensor:
    return _atomic("log", x, "log", name)


def sqrt(x, name=None) -> Tensor:
    return _atomic("sqrt", x, "sqrt", name)


def sigmoid(x, name=None) -> Tensor:
    return _atomic("sigmoid", x, "sigmoid", name, stem="s")


def tanh(x, name=None) -> Tensor:
    return _atomic("tanh", x, "tanh", name)


def pow(x, exponent, name=None) -> Tensor:
    """x to a constant power: a polynomial for a whole exponent, a reciprocal's power for a
    negative whole one, an atom otherwise."""
    x = _check_tensor(x, "pow")
    p = exact(exponent, "pow: the exponent")
    numbers.check_exponent(p, "pow: the exponent")  # x**n is written out as n factors
    graph = x.graph
    if p.denominator != 1:
        return _atomic("pow", x, "power", name, parameter=p)
    n = int(p)
    out = _out(graph, "pow", (x,), x.shape, name, "pow", exponent=p)
    for vid, argument in zip(out.ids, x.ids):
        base = argument if n >= 0 else graph.reciprocal(argument)
        graph.define(vid, {tuple([base] * abs(n)): 1})
    return out


def relu(x, name=None) -> Tensor:
    return leaky_relu(x, 0, name=name, op="relu")


def leaky_relu(x, negative_slope=0.01, name=None, op="leaky_relu") -> Tensor:
    """y = z·H(z) + a·z·(1 − H(z)), with H the step (1 for z > 0, 0 for z ≤ 0): PyTorch's values,
    and its derivative at 0 (the slope a), which the step lemma's convention gives."""
    x = _check_tensor(x, op)
    a = exact(negative_slope, f"{op}: the negative slope")
    graph = x.graph
    out = _out(graph, op, (x,), x.shape, name, op, negative_slope=a)
    for vid, z in zip(out.ids, x.ids):
        m = graph.step(z)
        # z·m·(1 − a) + a·z
        definition = poly.add({tuple(sorted((z, m))): poly._tidy(1 - a)}, {(z,): poly._tidy(a)} if a else {})
        graph.define(vid, definition)
    return out


# --- reductions ----------------------------------------------------------------------------------


def _dims(x: Tensor, dim, op: str) -> tuple:
    dims = int_tuple(dim)
    if dim is None or dims == ():
        return tuple(range(x.ndim))  # PyTorch reduces every dimension for dim=None and for dim=()
    if dims is None:
        raise SymgradError(f"{op}: dim must be an integer or a tuple of them, got {dim!r}")
    out = []
    for d in dims:
        if not -x.ndim <= d < x.ndim:
            raise SymgradError(f"{op}: dim {d} is out of range for a tensor of {x.ndim} dimensions")
        if d % x.ndim in out:  # PyTorch: "dim 0 appears multiple times in the list of dims"
            raise SymgradError(f"{op}: dim {d % x.ndim} appears more than once in dim={dim!r}")
        out.append(d % x.ndim)
    return tuple(sorted(out))


def reduction_shape(shape: tuple, dims: tuple, keepdim: bool) -> tuple:
    """The shape a sum or mean over ``dims`` leaves."""
    if keepdim:
        return tuple(1 if d in dims else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in dims)


def reduction_targets(shape: tuple, dims: tuple, keepdim: bool) -> list:
    """For each entry of a tensor of ``shape`` (row-major), the position of the reduced entry it
    adds into."""
    out_shape = reduction_shape(shape, dims, keepdim)
    targets = []
    for index in itertools.product(*(range(s) for s in shape)):
        kept = (
            [0 if d in dims else i for d, i in enumerate(index)]
            if keepdim
            else [i for d, i in enumerate(index) if d not in dims]
        )
        target = 0
        for size, i in zip(out_shape, kept):
            target = target * size + i
        targets.append(target)
    return targets


def _reduce(op: str, x, dim, keepdim, weight_of, name=None) -> Tensor:
    x = _check_tensor(x, op)
    dims = _dims(x, dim, op)
    keepdim = _flag(keepdim, f"{op}: keepdim")
    graph = x.graph
    count = 1
    for d in dims:
        count *= x.shape[d]
    weight = poly._tidy(weight_of(count))
    out = _out(
        graph, op, (x,), reduction_shape(x.shape, dims, bool(keepdim)), name, op, dims=dims, keepdim=bool(keepdim)
    )
    sums: list = [dict() for _ in range(out.numel)]
    for vid, target in zip(x.ids, reduction_targets(x.shape, dims, bool(keepdim))):
        poly.add_into(sums[target], {(vid,): weight})
    for vid, definition in zip(out.ids, sums):
        graph.define(vid, definition)
    return out


def sum(x, dim=None, keepdim=False, name=None) -> Tensor:
    return _reduce("sum", x, dim, keepdim, lambda n: Fraction(1), name)


def mean(x, dim=None, keepdim=False, name=None) -> Tensor:
    return _reduce("mean", x, dim, keepdim, lambda n: Fraction(1, n), name)


# --- products ------------------------------------------------------------------------------------


def transpose(x, name=None) -> Tensor:
    x = _check_tensor(x, "transpose")
    if x.ndim != 2:
        raise SymgradError(f"transpose (.T) needs a matrix, got a tensor of shape {x.shape}")
    rows, cols = x.shape
    out = _out(x.graph, "transpose", (x,), (cols, rows), name, "transpose")
    for j, i in itertools.product(range(cols), range(rows)):
        x.graph.define(out.ids[j * rows + i], poly.var(x.ids[i * cols + j]))
    return out


def matmul(a, b, name=None) -> Tensor:
    a, b = _check_tensor(a, "matmul", "left factor"), _check_tensor(b, "matmul", "right factor")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise SymgradError(f"matmul: shapes {a.shape} and {b.shape} do not multiply (two matrices, m×k and k×n)")
    (m, k), n = a.shape, b.shape[1]
    graph = _graph(a, b)
    graph.reserve("matmul", m * k * n)
    out = _out(graph, "matmul", (a, b), (m, n), name, "matmul")
    for i, j in itertools.product(range(m), range(n)):
        entry: dict = {}
        for t in range(k):
            poly.add_into(entry, {tuple(sorted((a.ids[i * k + t], b.ids[t * n + j]))): 1})
        graph.define(out.ids[i * n + j], entry)
    return out


def linear(x, weight, bias=None, name=None) -> Tensor:
    """x·Wᵀ + b, with PyTorch's layout: W is out_features × in_features; x is (N, in) or (in,)."""
    x, weight = _check_tensor(x, "linear"), _check_tensor(weight, "linear", "weight")
    if weight.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weight.shape[1]:
        raise SymgradError(f"linear: input {x.shape} and weight {weight.shape} do not fit (weight is out × in)")
    outs, ins = weight.shape
    if bias is not None:
        bias = _check_tensor(bias, "linear", "bias")
        if bias.shape != (outs,):
            raise SymgradError(f"linear: the bias must have shape ({outs},), got {bias.shape}")
    rows = x.shape[0] if x.ndim == 2 else 1
    shape = (rows, outs) if x.ndim == 2 else (outs,)
    graph = _graph(x, weight)
    graph.reserve("linear", rows * outs * ins)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = _out(graph, "linear", inputs, shape, name, "z", vector=x.ndim == 1)
    for r, o in itertools.product(range(rows), range(outs)):
        entry: dict = {}
        for i in range(ins):
            poly.add_into(entry, {tuple(sorted((x.ids[r * ins + i], weight.ids[o * ins + i]))): 1})
        if bias is not None:
            poly.add_into(entry, poly.var(bias.ids[o]))
        graph.define(out.ids[r * outs + o], entry)
    return out


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, name=None) -> Tensor:
    """torch.nn.functional.conv2d, with its weight layout (out, in/groups, kH, kW)."""
    x, weight = _check_tensor(x, "conv2d"), _check_tensor(weight, "conv2d", "weight")
    stride, padding, dilation, groups = (plain_ints(v) for v in (stride, padding, dilation, groups))
    geo = geometry(x.shape, weight.shape, stride, padding, dilation, groups)
    x.graph.reserve("conv2d", geo.N * geo.O * math.prod(geo.out) * geo.Cg * geo.kH * geo.kW)
    if bias is not None and _check_tensor(bias, "conv2d", "bias").shape != (geo.O,):
        raise SymgradError(f"conv2d: the bias must have shape ({geo.O},), got {bias.shape}")
    Ho, Wo = geo.out
    graph = _graph(x, weight)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    params = dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation, groups=geo.groups)
    out = _out(graph, "conv2d", inputs, (geo.N, geo.O, Ho, Wo), name, "conv", **params)
    plane, kernel = geo.H * geo.W, geo.kH * geo.kW
    taps = {(i, j): list(geo.taps(i, j)) for i in range(Ho) for j in range(Wo)}
    for position, (n, o, i, j) in enumerate(itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo))):
        c0 = (o // geo.Og) * geo.Cg
        entry: dict = {}
        for c in range(geo.Cg):
            x0, w0 = (n * geo.C + c0 + c) * plane, (o * geo.Cg + c) * kernel
            for u, v, h, w in taps[(i, j)]:
                entry[tuple(sorted((x.ids[x0 + h * geo.W + w], weight.ids[w0 + u * geo.kW + v])))] = 1
        if bias is not None:
            entry[(bias.ids[o],)] = 1
        graph.define(out.ids[position], entry)
    return out


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1, name=None
) -> Tensor:
    """torch.nn.functional.conv_transpose2d, with its weight layout (in, out/groups, kH, kW)."""
    x, weight = _check_tensor(x, "conv_transpose2d"), _check_tensor(weight, "conv_transpose2d", "weight")
    stride, padding, output_padding, groups, dilation = (
        plain_ints(v) for v in (stride, padding, output_padding, groups, dilation)
    )
    geo = transposed_geometry(x.shape, weight.shape, stride, padding, output_padding, dilation, groups)
    x.graph.reserve("conv_transpose2d", geo.N * geo.C * geo.H * geo.W * geo.Og * geo.kH * geo.kW + math.prod(geo.out))
    if bias is not None and _check_tensor(bias, "conv_transpose2d", "bias").shape != (geo.O,):
        raise SymgradError(f"conv_transpose2d: the bias must have shape ({geo.O},), got {bias.shape}")
    Ho, Wo = geo.out
    graph = _graph(x, weight)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    params = dict(
        stride=geo.stride,
        padding=geo.padding,
        output_padding=geo.output_padding,
        groups=geo.groups,
        dilation=geo.dilation,
    )
    out = _out(graph, "conv_transpose2d", inputs, (geo.N, geo.O, Ho, Wo), name, "convt", **params)
    conv = geo.conv()
    entries: dict = {}
    for n, c, i, j in itertools.product(range(geo.N), range(geo.C), range(geo.H), range(geo.W)):
        xid = x.ids[((n * geo.C + c) * geo.H + i) * geo.W + j]
        group = c // geo.Cg
        for oo in range(geo.Og):
            o = group * geo.Og + oo
            for u, v, h, w in conv.taps(i, j):
                wid = weight.ids[((c * geo.Og + oo) * geo.kH + u) * geo.kW + v]
                entries.setdefault((n, o, h, w), {})[tuple(sorted((xid, wid)))] = 1
    for position, key in enumerate(itertools.product(range(geo.N), range(geo.O), range(Ho), range(Wo))):
        entry = entries.get(key, {})
        if bias is not None:
            entry[(bias.ids[key[1]],)] = 1
        graph.define(out.ids[position], entry)
    return out


# --- losses --------------------------------------------------------------------------------------


def mse_loss(input, target, reduction="mean", name=None) -> Tensor:
    """mean or sum of (input − target)², over every entry; the targets are inputs of the network."""
    input, target = _check_tensor(input, "mse_loss"), _check_tensor(target, "mse_loss", "target")
    if input.shape != target.shape:
        raise SymgradError(f"mse_loss: input {input.shape} and target {target.shape} differ in shape")
    if reduction not in ("mean", "sum"):
        raise SymgradError(f"mse_loss: reduction must be 'mean' or 'sum', got {reduction!r}")
    weight = Fraction(1, input.numel) if reduction == "mean" else Fraction(1)
    graph = _graph(input, target)
    out = _out(graph, "mse_loss", (input, target), (), name, "L", reduction=reduction)
    total: dict = {}
    for z, t in zip(input.ids, target.ids):
        difference = {(z,): 1, (t,): -1}
        poly.add_into(total, poly.scale(poly.mul(difference, difference), weight))
    graph.define(out.ids[0], total)
    return out


# --- layers built from the ones above (their backward passes follow from those layers') ----------


def _axis(x: Tensor, dim, op: str) -> int:
    dim = whole(dim, f"{op}: dim")
    if not -x.ndim <= dim < x.ndim:
        raise SymgradError(f"{op}: dim {dim} is out of range for a tensor of {x.ndim} dimensions")
    return dim % x.ndim


def _sub_name(name, part: str):
    return None if name is None else f"{name}_{part}"


def softmax(x, dim, name=None) -> Tensor:
    """exp(x) / Σ exp(x) along dim. (PyTorch subtracts the maximum first for floating point;
    exactly, the result is the same.)"""
    x = _check_tensor(x, "softmax")
    d = _axis(x, dim, "softmax")
    first = len(x.graph.nodes)
    e = exp(x, name=_sub_name(name, "exp"))
    out = div(e, sum(e, d, keepdim=True, name=_sub_name(name, "sum")), name=name)
    x.graph.add_block("softmax", first, {"input": x.name, "output": out.name}, dim=d)
    return out


def log_softmax(x, dim, name=None) -> Tensor:
    """x − log Σ exp(x) along dim."""
    x = _check_tensor(x, "log_softmax")
    d = _axis(x, dim, "log_softmax")
    first = len(x.graph.nodes)
    e = exp(x, name=_sub_name(name, "exp"))
    total = sum(e, d, keepdim=True, name=_sub_name(name, "sum"))
    out = sub(x, log(total, name=_sub_name(name, "lse")), name=name)
    roles = {"input": x.name, "output": out.name, "exp": e.name, "sum": total.name}
    x.graph.add_block("log_softmax", first, roles, dim=d)
    return out


def _reduction(value: Tensor, reduction: str, op: str, count: int | None = None, name=None) -> Tensor:
    if reduction == "mean":
        return div(sum(value), count, name=name) if count is not None else mean(value, name=name)
    if reduction == "sum":
        return sum(value, name=name)
    raise SymgradError(f"{op}: reduction must be 'mean' or 'sum', got {reduction!r}")


def nll_loss(input, target, reduction="mean", name=None) -> Tensor:
    """−input[n, target[n]], averaged or summed; ``input`` is N×C log-probabilities and ``target``
    N class indices (0-based, as PyTorch takes them: a list of integers, fixed, not differentiated)."""
    input = _check_tensor(input, "nll_loss")
    if input.ndim != 2:
        raise SymgradError(f"nll_loss: the input must be N×C, got shape {input.shape}")
    n, c = input.shape
    if isinstance(target, Tensor):
        raise SymgradError(
            "nll_loss: class-index targets are integers, given as a list (probability targets: cross_entropy)"
        )
    if not isinstance(target, (list, tuple)) or len(target) != n:
        raise SymgradError(f"nll_loss: the target must be a list of {n} class indices")
    target = [whole(t, "nll_loss: a class index") for t in target]
    for t in target:
        if not 0 <= t < c:
            raise SymgradError(f"nll_loss: a class index must be an integer in 0..{c - 1}, got {t!r}")
    mask = [[0] * c for _ in range(n)]
    for row, t in enumerate(target):
        mask[row][t] = 1
    graph = input.graph
    onehot = graph.constant(
        _sub_name(name, "onehot") or graph.fresh_name("onehot"), (n, c), [v for r in mask for v in r]
    )
    picked = mul(input, onehot)
    return mul(_reduction(picked, reduction, "nll_loss", count=n if reduction == "mean" else None), -1, name=name)


def cross_entropy(input, target, reduction="mean", name=None) -> Tensor:
    """PyTorch's cross_entropy over N×C logits: class indices (a list of integers) or class
    probabilities (a tensor of the network, N×C)."""
    input = _check_tensor(input, "cross_entropy")
    graph, first = input.graph, len(input.graph.nodes)
    logp = log_softmax(input, 1, name=_sub_name(name, "logp"))
    (inner,) = [b for b in graph.blocks if b.first == first]
    roles = {"input": input.name, "exp": inner.roles["exp"], "sum": inner.roles["sum"]}
    if isinstance(target, Tensor):
        if target.shape != input.shape:
            raise SymgradError(f"cross_entropy: probability targets must have the logits' shape {input.shape}")
        n = input.shape[0]
        total = _reduction(mul(logp, target), reduction, "cross_entropy", count=n if reduction == "mean" else None)
        out = mul(total, -1, name=name)
        roles["target"] = target.name
    else:
        out = nll_loss(logp, target, reduction, name=name)
        roles["onehot"] = list(graph.constants)[-1]  # the mask nll_loss made of the class indices
    roles["output"] = out.name
    graph.add_block("cross_entropy", first, roles, count=input.shape[0] if reduction == "mean" else 1)
    return out


def _epsilon(graph: Graph, eps, op: str):
    """eps as an exact number, or, given as a SymPy symbol, as a free scalar of the network."""
    if isinstance(eps, sympy.Symbol):
        name = eps.name if eps.name.isascii() and eps.name.isidentifier() else "eps"
        letter = r"\varepsilon" if name in ("eps", "epsilon", "varepsilon") else sympy.latex(eps)
        return graph.scalar(name, letter)
    if isinstance(eps, str):
        raise SymgradError(f"{op}: eps must be a number or a SymPy symbol (sympy.Symbol('eps')), got {eps!r}")
    e = exact(eps, f"{op}: eps")
    if e < 0:
        raise SymgradError(f"{op}: eps must not be negative, got {eps!r}")
    return e


def _normalize(x: Tensor, dims: tuple, eps, name, op: str) -> Tensor:
    e = _epsilon(x.graph, eps, op)
    mu = mean(x, dims, keepdim=True, name=_sub_name(name, "mean"))
    centred = sub(x, mu, name=_sub_name(name, "centred"))
    var = mean(mul(centred, centred), dims, keepdim=True, name=_sub_name(name, "var"))  # biased, as PyTorch trains
    std = sqrt(var if isinstance(e, Fraction) and not e else add(var, e), name=_sub_name(name, "std"))
    return div(centred, std, name=_sub_name(name, "xhat"))


def batch_norm(x, weight=None, bias=None, eps=1e-5, name=None) -> Tensor:
    """Training-mode batch normalization: statistics over every dim but 1 (the channels), the
    biased variance; ``weight`` and ``bias`` have one entry per channel."""
    x = _check_tensor(x, "batch_norm")
    if x.ndim < 2:
        raise SymgradError(f"batch_norm: the input needs a channel dimension, got shape {x.shape}")
    dims = tuple(d for d in range(x.ndim) if d != 1)
    first = len(x.graph.nodes)
    xhat = _normalize(x, dims, eps, name, "batch_norm")
    channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    out = _affine(xhat, weight, bias, channel, name, "batch_norm")
    _record_norm(x, xhat, out, first, "batch_norm", dims, weight, bias)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5, name=None) -> Tensor:
    """Normalization over the last dims (``normalized_shape``), with an elementwise affine."""
    x = _check_tensor(x, "layer_norm")
    shape = int_tuple(normalized_shape)
    if shape is None:
        raise SymgradError(
            f"layer_norm: normalized_shape must be an integer or a tuple of them, got {normalized_shape!r}"
        )
    if not shape or tuple(x.shape[-len(shape) :]) != shape:
        raise SymgradError(f"layer_norm: normalized_shape {shape} must be the last dims of {x.shape}")
    dims = tuple(range(x.ndim - len(shape), x.ndim))
    first = len(x.graph.nodes)
    xhat = _normalize(x, dims, eps, name, "layer_norm")
    out = _affine(xhat, weight, bias, shape, name, "layer_norm")
    _record_norm(x, xhat, out, first, "layer_norm", dims, weight, bias)
    return out


def _record_norm(x: Tensor, xhat: Tensor, out: Tensor, first: int, kind: str, dims: tuple, weight, bias) -> None:
    """The block of a normalization: its statistics, its weight and bias, and the weight as the
    output reads it (BatchNorm's is reshaped to broadcast over the channels)."""
    graph = x.graph
    node = {n.output: n for n in graph.nodes[first:]}
    std = node[xhat.name].inputs[1]  # xhat = centred / std
    var_of = node[std].inputs[0]  # std = sqrt(var) or sqrt(var + eps)
    var = node[var_of].inputs[0] if node[var_of].op == "add" else var_of
    centred = node[xhat.name].inputs[0]
    mean = node[centred].inputs[1]
    roles = {"input": x.name, "output": out.name, "mean": mean, "var": var, "std": std, "xhat": xhat.name}
    for later in graph.nodes[first:]:
        if later.op == "mul" and later.inputs[0] == xhat.name and len(later.inputs) == 2:
            roles["weight"] = later.inputs[1]
    for role, t in (("weight input", weight), ("bias input", bias)):
        if t is not None:
            roles[role] = t.name
    # the dims a weight's gradient sums over: all but the channels, or all but the normalized ones
    kept = (1,) if kind == "batch_norm" else dims
    graph.add_block(kind, first, roles, dims=dims, summed=tuple(d for d in range(x.ndim) if d not in kept))


def _affine(xhat: Tensor, weight, bias, shape: tuple, name, op: str) -> Tensor:
    out = xhat
    for role, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        t = _check_tensor(t, op, role)
        expected = tuple(s for s in shape if s != 1) if op == "batch_norm" else shape
        if t.shape != expected:
            raise SymgradError(f"{op}: the {role} must have shape {expected}, got {t.shape}")
    if weight is not None:
        w = weight if op == "layer_norm" else reshape(weight, shape, name=_sub_name(name, "weight"))
        out = mul(out, w, name=None if bias is not None else name)
    if bias is not None:
        b = bias if op == "layer_norm" else reshape(bias, shape, name=_sub_name(name, "bias"))
        out = add(out, b, name=name)
    return out


def reshape(x, shape, name=None) -> Tensor:
    x = _check_tensor(x, "reshape")
    shape = reshape_target(x, shape)
    out = _out(x.graph, "reshape", (x,), shape, name, "reshape")
    for vid, source_id in zip(out.ids, x.ids):
        x.graph.define(vid, poly.var(source_id))
    return out


def reshape_target(x: Tensor, shape) -> tuple:
    """The shape a reshape asks for, as PyTorch reads it: sizes of at least 1, and at most one -1
    standing for the size the others leave."""
    sizes = int_tuple(shape)
    if sizes is None:
        raise SymgradError(f"reshape: the shape must be integers, got {shape!r:.60}")
    if sizes.count(-1) > 1 or any(s < 1 and s != -1 for s in sizes):
        raise SymgradError(f"reshape: sizes must be at least 1, with at most one -1, got {sizes}")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and x.numel % known == 0:
        sizes = tuple(x.numel // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != x.numel:
        raise SymgradError(f"reshape: {x.shape} has {x.numel} entries, which the shape {tuple(shape)} cannot hold")
    return sizes


def scaled_dot_product_attention(q, k, v, name=None) -> Tensor:
    """softmax(q·kᵀ/√d)·v for 2-D q (Lq×d), k (Lk×d) and v (Lk×dv), without mask or dropout."""
    q, k, v = (_check_tensor(t, "scaled_dot_product_attention", r) for t, r in ((q, "query"), (k, "key"), (v, "value")))
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2 or q.shape[1] != k.shape[1] or k.shape[0] != v.shape[0]:
        raise SymgradError(f"scaled_dot_product_attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit")
    d = q.shape[1]
    graph, first = q.graph, len(q.graph.nodes)
    scores = matmul(q, transpose(k), name=_sub_name(name, "qk"))
    s = _scale_root(scores, d, name)
    p = softmax(s, 1, name=_sub_name(name, "p"))
    out = matmul(p, v, name=name)
    divisor = graph.nodes[[n.output for n in graph.nodes].index(s.name)]
    root = divisor.inputs[1] if len(divisor.inputs) == 2 else divisor.params["right"]
    roles = {"q": q.name, "k": k.name, "v": v.name, "scores": s.name, "p": p.name, "output": out.name}
    graph.add_block("attention", first, roles, root=root)
    return out


def _scale_root(scores: Tensor, d: int, name) -> Tensor:
    """scores / √d: exact for a square d; otherwise a division by the atom √d of a constant."""
    r = int(d**0.5)
    if r * r == d:
        return div(scores, r, name=_sub_name(name, "s"))
    graph = scores.graph
    dim = graph.constant(graph.fresh_name("d"), (), [d])
    return div(scores, sqrt(dim), name=_sub_name(name, "s"))
