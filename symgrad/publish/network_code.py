"""A network's forward and backward passes as PyTorch code, written from the layers' closed forms,
and their validation against autograd.

The backward lines are the proven closed forms in PyTorch's notation, from the loss back: each
layer adds its share to the gradient of every tensor it reads (``sum_to_size`` undoes
broadcasting), so the lines read like a hand-written backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import SymgradError
from ..network.lemmas import LEMMAS
from ..network.units.table import unit


def forward_lines(d) -> list[str]:
    lines = [
        f"{name} = torch.tensor({list(values)}, dtype=torch.float64).reshape({d.graph.tensors[name].shape})"
        for name, values in d.graph.constants.items()
    ]
    for node in d.graph.nodes:
        lines.append(f"{node.output} = {unit(node).torch_forward(d.graph, node, list(node.inputs))}")
    return lines


def backward_lines(d) -> list[str]:
    graph = d.graph
    needed = set(d.wrt)
    for node in graph.nodes:
        if needed & set(node.inputs):
            needed.add(node.output)
    lines = [f"g_{name} = torch.zeros_like({name})" for name in graph.tensors if name in needed and name != d.loss_name]
    last = d.loss_name
    lines.append(f"g_{last} = torch.ones_like({last})")
    for node in reversed(graph.nodes):
        for name, expr in unit(node).torch_backward(node):
            if name in needed:
                lines.append(f"g_{name} = g_{name} + ({expr}).sum_to_size({name}.shape)")
    return lines


@dataclass(frozen=True)
class NetworkValidation:
    library: str
    reference: str
    figures: str
    tolerance: float
    errors: dict
    ok: bool

    def __str__(self) -> str:
        verdict = "agree" if self.ok else "DISAGREE"
        return (
            f"validation: the generated backward pass and {self.reference} {verdict} in float64 on seeded random "
            f"inputs; largest difference {self.figures} (tolerance {self.tolerance:.0e})"
        )


def _grad_or_zero(torch, tensor):
    return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad


def validate(d, seed: int = 0, tolerance: float = 1e-9) -> NetworkValidation:
    """Run the forward and backward lines in float64 on seeded random inputs and compare every
    gradient with torch.autograd's. Conv layers' transposes are validated through autograd too."""
    try:
        import torch
    except ImportError:
        raise SymgradError("validating a network's code needs PyTorch: pip install torch") from None
    gen = torch.Generator().manual_seed(seed)
    env: dict = {"torch": torch}
    for name in d.graph.inputs:
        shape = d.graph.tensors[name].shape
        value = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
        if any(
            a.argument in d.graph.tensors[name].ids
            for a in d.graph.atoms.values()
            if LEMMAS[a.lemma].variable().is_positive
        ):
            value = value.abs() + 0.5  # the domain of a logarithm or a root
        if name in d.graph.scalars:
            value = value.abs() + 0.5  # a symbolic eps stands for a positive number
        env[name] = value.requires_grad_(name in d.wrt)
    exec("\n".join(forward_lines(d)), env)  # our own generated lines
    loss = env[d.loss_name]
    loss.backward()
    with torch.no_grad():
        exec("\n".join(backward_lines(d)), env)
    # an input the loss does not read has no autograd gradient: it is zero
    errors = {name: float((env[f"g_{name}"] - _grad_or_zero(torch, env[name])).abs().max()) for name in d.wrt}
    figure = max(errors.values()) if errors else 0.0
    return NetworkValidation(
        "torch", "torch.autograd", f"{figure:.1e}", tolerance, errors, all(e <= tolerance for e in errors.values())
    )
