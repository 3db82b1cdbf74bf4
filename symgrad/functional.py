"""Layers for forward functions, with PyTorch's names: ``import symgrad.functional as F``.

    def net(x, w, b, t):
        z = F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1), 0.02, name="z")
        return F.mse_loss(z, t)

Every argument of a forward function is a symbolic tensor; these functions, and the tensors'
own ``+ - * / ** @ .T .sum() .mean()``, record the layers. A name that is not here raises a
SymgradError naming it. The layers are those of the units' table (``symgrad.network.units``) and
the compound layers built from them. In a claim function they act on the claim's tensors, as do
the gradient formulas ``conv2d_weight``, ``conv_transpose2d_weight`` and ``conv2d_input``, which
are no layers.
"""

from __future__ import annotations

import functools

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


def _on_claims_too(name: str, layer):
    """The layer, which on a claim's tensors (symgrad.check with a function) is the claim's own
    operation: a value that has ``__symgrad_function__`` is handed the call."""

    @functools.wraps(layer)
    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            hook = getattr(type(value), "__symgrad_function__", None)
            if hook is not None:
                return hook(name, args, kwargs)
        return layer(*args, **kwargs)

    return call


LAYERS = {name: _on_claims_too(name, layer) for name, layer in {**FORWARD, **COMPOUND}.items()}
globals().update(LAYERS)  # the compound layers imported above, as the claims see them too

__all__ = sorted(LAYERS)


def _claims_only(name: str):
    """A gradient formula with PyTorch's signature (torch.nn.grad's), for a claim's tensors only:
    it is no layer, so a forward function that calls it is told so."""

    def call(*args, **kwargs):
        for value in (*args, *kwargs.values()):
            hook = getattr(type(value), "__symgrad_function__", None)
            if hook is not None:
                return hook(name, args, kwargs)
        raise SymgradError(f"F.{name} is a gradient formula for claims (symgrad.check), not a layer of a network")

    call.__name__ = call.__qualname__ = name
    return call


# dL/dW of a convolution and of a transposed one, and dL/dX of a convolution, in claims
GRADIENTS = {name: _claims_only(name) for name in ("conv2d_weight", "conv_transpose2d_weight", "conv2d_input")}


def __getattr__(name: str):
    if name in LAYERS:
        return LAYERS[name]
    if name in GRADIENTS:
        return GRADIENTS[name]
    if name.startswith("__"):
        raise AttributeError(name)
    raise SymgradError(f"symgrad.functional has no layer {name!r}; the layers are {', '.join(__all__)}")


def __dir__() -> list[str]:
    return sorted([*globals(), *LAYERS, *GRADIENTS])
