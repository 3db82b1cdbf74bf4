"""The lines of backward (and forward) code, written by the unit of every layer.

An op preset is a one-layer network: its backward pass is the loss's upstream line and the layer's
shares (``grad_A = grad_C.mm(B.t())``). A network's is every layer's shares from the loss back,
added up. The documents show these lines; ``codegen`` writes them into files and runs them.
"""

from __future__ import annotations

from ..core.errors import SymgradError
from ..network.units.table import unit

LIBRARIES = ("torch", "numpy")


def check_library(lib: str) -> str:
    if lib not in LIBRARIES:
        raise SymgradError(f"unknown library {lib!r}: use one of {', '.join(LIBRARIES)}")
    return lib


def is_network(d) -> bool:
    """Read from what a derivation has, as the documents do: it may come wrapped by the public API."""
    if hasattr(d, "instantiate_up_to"):  # an op for every size
        raise SymgradError("code is written for concrete sizes: give the sizes as integers")
    return not hasattr(d, "closed_forms")


# --- the lines, from the layers' units ------------------------------------------------------------


def forward_call(graph, node, lib: str) -> str:
    layer, inputs = unit(node), list(node.inputs)
    return layer.torch_forward(graph, node, inputs) if lib == "torch" else layer.numpy_forward(graph, node, inputs)


def _shares(graph, node, g: str, lib: str) -> list[tuple[str, str]]:
    layer = unit(node)
    return layer.torch_backward(graph, node, g) if lib == "torch" else layer.numpy_backward(graph, node, g)


def op_layer(d):
    """An op preset's one layer: the node that makes its output (the next one closes the graph
    with L = Σ G·Y, the upstream gradient kept free)."""
    return next(node for node in d.graph.nodes if node.output == d.output.name)


def network_library(lib: str) -> None:
    if check_library(lib) != "torch":
        raise SymgradError("a network's code is written for torch: use --emit-code torch")


def forward_lines(d, lib: str = "torch") -> list[str]:
    """The forward pass: an op's one line (C = A.mm(B)), or a network's constants and layers."""
    if not is_network(d):
        node = op_layer(d)
        return [f"{node.output} = {forward_call(d.graph, node, check_library(lib))}"]
    network_library(lib)
    lines = [
        f"{name} = torch.tensor({list(values)}, dtype=torch.float64).reshape({d.graph.tensors[name].shape})"
        for name, values in d.graph.constants.items()
    ]
    return lines + [f"{node.output} = {forward_call(d.graph, node, lib)}" for node in d.graph.nodes]


def backward_lines(d, lib: str = "torch") -> list[str]:
    """The backward pass, the lines the documents show. An op: the loss's upstream line, then each
    input's gradient as its layer's closed form. A network: from the loss back, each layer adds its
    share to the gradient of every tensor it reads, as a hand-written backward pass does."""
    if not is_network(d):
        node = op_layer(d)
        lines = [d.loss.upstream_code(check_library(lib), d.output.name)]
        return lines + [f"grad_{name} = {expr}" for name, expr in _shares(d.graph, node, f"grad_{node.output}", lib)]
    network_library(lib)
    graph = d.graph
    needed = set(d.wrt)
    for node in graph.nodes:
        if needed & set(node.inputs):
            needed.add(node.output)
    lines = [f"g_{name} = torch.zeros_like({name})" for name in graph.tensors if name in needed and name != d.loss_name]
    lines.append(f"g_{d.loss_name} = torch.ones_like({d.loss_name})")
    for node in reversed(graph.nodes):
        for name, expr in _shares(graph, node, f"g_{node.output}", lib):
            if name in needed:
                lines.append(f"g_{name} = g_{name} + ({expr}).sum_to_size({name}.shape)")
    return lines
