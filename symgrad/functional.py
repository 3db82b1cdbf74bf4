"""Layers for forward functions, with PyTorch's names: ``import symgrad.functional as F``.

    def net(x, w, b, t):
        z = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
        return F.mse_loss(z, t)

Every argument of a forward function is a symbolic tensor; these functions, and the tensors'
own ``+ - * / ** @ .T .sum() .mean()``, record the layers. A name that is not here raises a
SymgradError naming it. The layers are those of the units' table (``symgrad.network.units``) and
the compound layers built from them.
"""

from __future__ import annotations

from .core.errors import SymgradError
from .network.layers import (
    batch_norm,
    cross_entropy,
    layer_norm,
    log_softmax,
    nll_loss,
    scaled_dot_product_attention,
    softmax,
)
from .network.units.table import FORWARD

COMPOUND = {
    "batch_norm": batch_norm,
    "cross_entropy": cross_entropy,
    "layer_norm": layer_norm,
    "log_softmax": log_softmax,
    "nll_loss": nll_loss,
    "scaled_dot_product_attention": scaled_dot_product_attention,
    "softmax": softmax,
}

LAYERS = {**FORWARD, **COMPOUND}

__all__ = sorted(LAYERS)


def __getattr__(name: str):
    if name in LAYERS:
        return LAYERS[name]
    if name.startswith("__"):
        raise AttributeError(name)
    raise SymgradError(f"symgrad.functional has no layer {name!r}; the layers are {', '.join(__all__)}")


def __dir__() -> list[str]:
    return sorted([*globals(), *LAYERS])
