"""Each layer's backward pass in closed form, computed on its own from the upstream gradient.

``backward(graph, node, G)`` takes dL/d(output) as a list of polynomials (row-major) and returns,
for each tensor the layer reads, the layer's share of dL/d(tensor) computed by the formula people
implement (G ⊙ s ⊙ (1 − s) for a sigmoid, G·W for a linear layer's input, a transposed convolution
for conv2d's), never by the chain rule. Each layer's unit (``symgrad.network.units``) holds its
formula. The prover compares every entry with the element-wise chain rule through the same layer;
``symgrad.network.presentation`` writes each in LaTeX.
"""

from __future__ import annotations

from .graph import Graph, Node
from .units.table import unit


def backward(graph: Graph, node: Node, G: list) -> dict[str, list]:
    """The layer's closed-form share of dL/d(input), for each tensor it reads."""
    return unit(node).backward(graph, node, G)
