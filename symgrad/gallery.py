"""The committed examples in output/: one command regenerates them all."""

from __future__ import annotations

from pathlib import Path

from . import functional as F
from .ops.registry import REGISTRY
from .render.documents import FORMATS
from .render.writer import stem, write


def conv_leaky_relu_mean(x, w, b):
    """The series' Part 2 network, at a small shape: Conv2d → LeakyReLU(0.02) → mean."""
    return F.leaky_relu(F.conv2d(x, w, b, stride=2, padding=1, name="z"), 0.02, name="y")


def linear_sigmoid_mse(x, w, b, t):
    """A linear layer, a sigmoid and the mean squared error against targets t."""
    return F.mse_loss(F.sigmoid(F.linear(x, w, b, name="z"), name="s"), t)


def _network(fn, **shapes):
    def make():
        from .network.trace import derive_network as derive

        return derive(fn, **shapes)

    return (fn.__name__, make)


NETWORKS = (
    _network(conv_leaky_relu_mean, x=(1, 2, 4, 5), w=(2, 2, 3, 3), b=(2,), loss="mean"),
    _network(linear_sigmoid_mse, x=(2, 3), w=(2, 3), b=(2,), t=(2, 2)),
)

# every op's examples, in the registry's order, then the networks
GALLERY = tuple(example for spec in REGISTRY.values() for example in spec.examples) + NETWORKS


def build(root="output") -> list[Path]:
    paths = []
    for _, make in GALLERY:
        d = make()
        paths += write(d, Path(root) / stem(d), FORMATS)
    return paths
