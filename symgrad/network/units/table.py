"""The one static table of the layer units: a node's layer is ``unit(node)``, the atoms' lemmas are
``LEMMAS``. Adding a layer is adding its module and its line here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...core.errors import SymgradError
from .arithmetic import ADD, DIV, MUL, SUB
from .atoms import EXP, LOG, SIGMOID, SQRT, TANH
from .base import Layer, Lemma
from .conv2d import CONV2D
from .conv_transpose2d import CONV_TRANSPOSE2D
from .losses import MSE_LOSS, UPSTREAM
from .power import POW
from .products import LINEAR, MATMUL
from .rectifiers import LEAKY_RELU, RELU
from .reductions import MEAN, SUM
from .shapes import RESHAPE, TRANSPOSE
from .softplus import SOFTPLUS

if TYPE_CHECKING:
    from ..graph import Node

UNITS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        ADD,
        SUB,
        MUL,
        DIV,
        EXP,
        LOG,
        SQRT,
        POW,
        SIGMOID,
        TANH,
        SOFTPLUS,
        RELU,
        LEAKY_RELU,
        SUM,
        MEAN,
        TRANSPOSE,
        RESHAPE,
        MATMUL,
        LINEAR,
        CONV2D,
        CONV_TRANSPOSE2D,
        MSE_LOSS,
        UPSTREAM,
    )
}

LEMMAS: dict[str, Lemma] = {lemma.name: lemma for layer in UNITS.values() for lemma in layer.lemmas}

# what symgrad.functional offers of them, by name
FORWARD = {name: layer.forward for name, layer in UNITS.items() if layer.forward is not None}


def unit(node: Node) -> Layer:
    """The layer a node of the graph applies."""
    if node.op not in UNITS:
        raise SymgradError(f"no layer {node.op!r}")
    return UNITS[node.op]
