"""The layers a forward function may use, with PyTorch's names, signatures and conventions.

Each layer is a unit of ``symgrad.network.units``: it checks its arguments, makes its output
tensor (one variable per entry), defines every entry (a polynomial, or an atom with its lemma) and
records itself as a node of the graph; the unit also holds its closed-form backward pass. The
compound layers below (softmax, the normalizations, attention) are built from those units.

Numbers given as Python floats (a slope of 0.02) are read as the decimal they print as (1/50), so
that every coefficient stays exact.
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from ..core.errors import SymgradError
from .graph import Graph, Tensor
from .units.arithmetic import add, broadcast_shape, div, mul, source, sub
from .units.atoms import exp, log, sigmoid, sqrt, tanh
from .units.base import bold, check_tensor, exact, int_tuple, plain_ints, whole
from .units.conv2d import conv2d
from .units.conv_transpose2d import conv_transpose2d
from .units.losses import mse_loss
from .units.power import pow
from .units.products import linear, matmul
from .units.rectifiers import leaky_relu, relu
from .units.reductions import mean, reduction_shape, reduction_targets, sum
from .units.shapes import reshape, reshape_target, transpose

__all__ = [
    "add",
    "batch_norm",
    "broadcast_shape",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "div",
    "exact",
    "exp",
    "int_tuple",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "matmul",
    "mean",
    "mse_loss",
    "mul",
    "nll_loss",
    "plain_ints",
    "pow",
    "reduction_shape",
    "reduction_targets",
    "relu",
    "reshape",
    "reshape_target",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "source",
    "sqrt",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "whole",
]


# --- layers built from the units (their backward passes follow from those layers') ---------------


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
    x = check_tensor(x, "softmax")
    d = _axis(x, dim, "softmax")
    first = len(x.graph.nodes)
    e = exp(x, name=_sub_name(name, "exp"))
    out = div(e, sum(e, d, keepdim=True, name=_sub_name(name, "sum")), name=name)
    x.graph.add_block("softmax", first, {"input": x.name, "output": out.name}, dim=d)
    return out


def log_softmax(x, dim, name=None) -> Tensor:
    """x − log Σ exp(x) along dim."""
    x = check_tensor(x, "log_softmax")
    d = _axis(x, dim, "log_softmax")
    first = len(x.graph.nodes)
    e = exp(x, name=_sub_name(name, "exp"))
    total = sum(e, d, keepdim=True, name=_sub_name(name, "sum"))
    out = sub(x, log(total, name=_sub_name(name, "lse")), name=name)
    roles = {"input": x.name, "output": out.name, "exp": e.name, "sum": total.name}
    x.graph.add_block("log_softmax", first, roles, dim=d)
    return out


def _reduction(value: Tensor, reduction: str, op: str, count: int | None = None, name=None) -> Tensor:
    """The sum of ``value``, or its mean (over ``count`` rows when given); a loss named L names them
    L_total and L_mean."""
    if reduction == "mean" and count is None:
        return mean(value, name=_sub_name(name, "mean"))
    if reduction in ("mean", "sum"):
        total = sum(value, name=_sub_name(name, "total"))
        return total if reduction == "sum" else div(total, count, name=_sub_name(name, "mean"))
    raise SymgradError(f"{op}: reduction must be 'mean' or 'sum', got {reduction!r}")


def nll_loss(input, target, reduction="mean", name=None) -> Tensor:
    """−input[n, target[n]], averaged or summed; ``input`` is N×C log-probabilities and ``target``
    N class indices (0-based, as PyTorch takes them: a list of integers, fixed, not differentiated)."""
    input = check_tensor(input, "nll_loss")
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
    picked = mul(input, onehot, name=_sub_name(name, "picked"))  # each row's log-probability of its class
    reduced = _reduction(picked, reduction, "nll_loss", count=n if reduction == "mean" else None, name=name)
    return mul(reduced, -1, name=name)


def cross_entropy(input, target, reduction="mean", name=None) -> Tensor:
    """PyTorch's cross_entropy over N×C logits: class indices (a list of integers) or class
    probabilities (a tensor of the network, N×C)."""
    input = check_tensor(input, "cross_entropy")
    graph, first = input.graph, len(input.graph.nodes)
    logp = log_softmax(input, 1, name=_sub_name(name, "logp"))
    (inner,) = [b for b in graph.blocks if b.first == first]
    roles = {"input": input.name, "exp": inner.roles["exp"], "sum": inner.roles["sum"]}
    if isinstance(target, Tensor):
        if target.shape != input.shape:
            raise SymgradError(f"cross_entropy: probability targets must have the logits' shape {input.shape}")
        n = input.shape[0]
        picked = mul(logp, target, name=_sub_name(name, "picked"))
        total = _reduction(picked, reduction, "cross_entropy", count=n if reduction == "mean" else None, name=name)
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
    # a named layer names its intermediates after what they are (bn_square, not mul)
    square = mul(centred, centred, name=_sub_name(name, "square"))
    var = mean(square, dims, keepdim=True, name=_sub_name(name, "var"))  # biased, as PyTorch trains
    shifted = var if isinstance(e, Fraction) and not e else add(var, e, name=_sub_name(name, "var_eps"))
    std = sqrt(shifted, name=_sub_name(name, "std"))
    return div(centred, std, name=_sub_name(name, "xhat"))


def batch_norm(x, weight=None, bias=None, eps=1e-5, name=None) -> Tensor:
    """Training-mode batch normalization: statistics over every dim but 1 (the channels), the
    biased variance; ``weight`` and ``bias`` have one entry per channel."""
    x = check_tensor(x, "batch_norm")
    if x.ndim < 2:
        raise SymgradError(f"batch_norm: the input needs a channel dimension, got shape {x.shape}")
    dims = tuple(d for d in range(x.ndim) if d != 1)
    first = len(x.graph.nodes)
    xhat = _normalize(x, dims, eps, name, "batch_norm")
    channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    out = _affine(xhat, weight, bias, channel, (x.shape[1],), name, "batch_norm")
    _record_norm(x, xhat, out, first, "batch_norm", dims, (1,), weight, bias)
    return out


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5, name=None) -> Tensor:
    """Normalization over the last dims (``normalized_shape``), with an elementwise affine."""
    x = check_tensor(x, "layer_norm")
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
    out = _affine(xhat, weight, bias, shape, shape, name, "layer_norm")
    _record_norm(x, xhat, out, first, "layer_norm", dims, dims, weight, bias)
    return out


def _record_norm(
    x: Tensor, xhat: Tensor, out: Tensor, first: int, kind: str, dims: tuple, kept: tuple, weight, bias
) -> None:
    """The block of a normalization: its statistics, its weight and bias, and the weight as the
    output reads it (BatchNorm's is reshaped to broadcast over the channels). ``kept`` are the dims
    the weight runs along: the channels, or the normalized dims; its gradient sums over the rest."""
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
    graph.add_block(kind, first, roles, dims=dims, summed=tuple(d for d in range(x.ndim) if d not in kept))


def _affine(xhat: Tensor, weight, bias, shape: tuple, expected: tuple, name, op: str) -> Tensor:
    """w ⊙ x̂ + β, with w and β given in the shape ``expected`` (BatchNorm's one number per channel)
    and reshaped to ``shape`` to broadcast where that differs (LayerNorm's are already)."""
    out = xhat
    for role, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        t = check_tensor(t, op, role)
        if t.shape != expected:
            raise SymgradError(f"{op}: the {role} must have shape {expected}, got {t.shape}")
    if weight is not None:
        w = weight if expected == shape else reshape(weight, shape, name=_sub_name(name, "weight"))
        out = mul(out, w, name=_sub_name(name, "scaled") if bias is not None else name)  # w ⊙ x̂
    if bias is not None:
        b = bias if expected == shape else reshape(bias, shape, name=_sub_name(name, "bias"))
        out = add(out, b, name=name)
    return out


def scaled_dot_product_attention(q, k, v, name=None) -> Tensor:
    """softmax(q·kᵀ/√d)·v for 2-D q (Lq×d), k (Lk×d) and v (Lk×dv), without mask or dropout."""
    q, k, v = (check_tensor(t, "scaled_dot_product_attention", r) for t, r in ((q, "query"), (k, "key"), (v, "value")))
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2 or q.shape[1] != k.shape[1] or k.shape[0] != v.shape[0]:
        raise SymgradError(f"scaled_dot_product_attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit")
    d = q.shape[1]
    graph, first = q.graph, len(q.graph.nodes)
    # kᵀ and √d are written as what they are, not as "transpose" and "sqrt"
    kt = transpose(k, name=graph.fresh_name(f"{k.name}_T"))
    graph.show_as(kt, rf"{_letter(k.name)}^{{T}}", rf"{bold(k.name)}^{{T}}")
    scores = matmul(q, kt, name=_sub_name(name, "qk"))
    s = _scale_root(scores, d, name)
    p = softmax(s, 1, name=_sub_name(name, "p"))
    out = matmul(p, v, name=name)
    divisor = graph.nodes[[n.output for n in graph.nodes].index(s.name)]
    root = divisor.inputs[1] if len(divisor.inputs) == 2 else divisor.params["right"]
    roles = {"q": q.name, "k": k.name, "v": v.name, "scores": s.name, "p": p.name, "output": out.name}
    graph.add_block("attention", first, roles, root=root)
    return out


def _letter(name: str) -> str:
    """The letter a tensor's entries are written with (graph.new_tensor)."""
    return name if len(name) == 1 else rf"\mathrm{{{name}}}".replace("_", r"\_")


def _scale_root(scores: Tensor, d: int, name) -> Tensor:
    """scores / √d: exact for a square d; otherwise a division by the atom √d of a constant."""
    r = int(d**0.5)
    if r * r == d:
        return div(scores, r, name=_sub_name(name, "s"))
    graph = scores.graph
    dim = graph.constant(graph.fresh_name("d"), (), [d])
    graph.shown[dim.name] = graph.registry.names[dim.ids[0]]  # a number, not a bold tensor
    root = sqrt(dim, name=graph.fresh_name(f"sqrt_{dim.name}"))
    graph.show_as(root, rf"\sqrt{{{graph.shown[dim.name]}}}", rf"\sqrt{{{graph.shown[dim.name]}}}")
    return div(scores, root, name=_sub_name(name, "s"))
