"""Layers for forward functions, with PyTorch's names: ``import symgrad.functional as F``.

    def net(x, w, b, t):
        z = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
        return F.mse_loss(z, t)

Every argument of a forward function is a symbolic tensor; these functions, and the tensors'
own ``+ - * / ** @ .T .sum() .mean()``, record the layers. A name that is not here raises a
SymgradError naming it.
"""

from __future__ import annotations

import functools

from .core.errors import SymgradError
from .network import layers
from .network.layers import (
    add,
    batch_norm,
    conv2d,
    conv_transpose2d,
    cross_entropy,
    div,
    exp,
    layer_norm,
    leaky_relu,
    linear,
    log,
    log_softmax,
    matmul,
    mean,
    mse_loss,
    mul,
    nll_loss,
    pow,
    relu,
    reshape,
    scaled_dot_product_attention,
    sigmoid,
    softmax,
    sqrt,
    sub,
    sum,
    tanh,
    transpose,
)

__all__ = [
    "add",
    "batch_norm",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy",
    "div",
    "exp",
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
    "pow",
    "relu",
    "reshape",
    "scaled_dot_product_attention",
    "sigmoid",
    "softmax",
    "sqrt",
    "sub",
    "sum",
    "tanh",
    "transpose",
]


def _on_claims_too(layer):
    """The layer, which on a claim's tensors (symgrad.check with a function) is the claim's own
    operation: a value that has ``__symgrad_function__`` is handed the call."""

    @functools.wraps(layer)
    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            hook = getattr(type(value), "__symgrad_function__", None)
            if hook is not None:
                return hook(layer.__name__, args, kwargs)
        return layer(*args, **kwargs)

    return call


globals().update({name: _on_claims_too(getattr(layers, name)) for name in __all__})


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise SymgradError(f"symgrad.functional has no layer {name!r}; the layers are {', '.join(__all__)}")
