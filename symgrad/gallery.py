"""The committed examples in output/: one command regenerates them all."""

from __future__ import annotations

from pathlib import Path

import sympy

from . import functional as F
from .api import Derivation, derive, write
from .ops.registry import REGISTRY
from .publish.documents import FORMATS
from .publish.writer import stem


def conv_leaky_relu_mean(x, w, b):
    """The series' Part 2 network, at a small shape: Conv2d → LeakyReLU(0.02) → mean."""
    return F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1, name="z"), 0.02, name="y")


def linear_sigmoid_mse(x, w, b, t):
    """A linear layer, a sigmoid and the mean squared error against targets t."""
    return F.mse_loss(F.sigmoid(F.linear(x, w, b, name="z"), name="s"), t)


def batch_norm_sigmoid_mse(x, w, b, t):
    """BatchNorm (training mode) → Sigmoid → MSE, as the series' BatchNorm post derives it, with
    ε kept as a symbol, as a hand derivation writes it."""
    return F.mse_loss(F.sigmoid(F.batch_norm(x, w, b, eps=sympy.Symbol("eps"), name="bn"), name="s"), t)


def linear_softmax_cross_entropy(x, w, b):
    """A linear classifier with softmax cross-entropy, for the classes 3 and 1."""
    return F.cross_entropy(F.linear(x, w, b, name="z"), [2, 0], name="L")


def layer_norm_tanh_sum(x, w, b):
    return F.tanh(F.layer_norm(x, 3, w, b, eps=1e-5, name="ln"), name="h")


def attention_head(q, k, v, t):
    """One attention head, 2 queries and 3 keys: softmax(q·kᵀ/√d)·v, then the MSE to a target."""
    return F.mse_loss(F.scaled_dot_product_attention(q, k, v, name="o"), t)


def _network(fn, **shapes):
    return (fn.__name__, lambda: derive(fn, **shapes))


def _public(make):
    return lambda: Derivation(make())


NETWORKS = (
    _network(conv_leaky_relu_mean, x=(1, 2, 4, 5), w=(2, 2, 3, 3), b=(2,), loss="mean"),
    _network(linear_sigmoid_mse, x=(2, 3), w=(2, 3), b=(2,), t=(2, 2)),
    _network(batch_norm_sigmoid_mse, x=(2, 2, 2), w=(2,), b=(2,), t=(2, 2, 2)),
    _network(linear_softmax_cross_entropy, x=(2, 3), w=(3, 3), b=(3,)),
    _network(layer_norm_tanh_sum, x=(2, 3), w=(3,), b=(3,), loss="sum"),
    _network(attention_head, q=(2, 4), k=(3, 4), v=(3, 2), t=(2, 2)),
)

# every op's examples, in the registry's order, then the networks
GALLERY = tuple((title, _public(make)) for spec in REGISTRY.values() for title, make in spec.examples) + NETWORKS


def build(root="output") -> list[Path]:
    paths = []
    for _, make in GALLERY:
        d = make()
        paths += write(d, Path(root) / stem(d), FORMATS)
    return paths
