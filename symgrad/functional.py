"""Layers for forward functions, with PyTorch's names: ``import symgrad.functional as F``.

    def net(x, w, b, t):
        z = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
        return F.mse_loss(z, t)

Every argument of a forward function is a symbolic tensor; these functions, and the tensors'
own ``+ - * / ** @ .T .sum() .mean()``, record the layers. A name that is not here raises a
SymgradError naming it.
"""

from __future__ import annotations

from .core.errors import SymgradError
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


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise SymgradError(f"symgrad.functional has no layer {name!r}; the layers are {', '.join(__all__)}")
