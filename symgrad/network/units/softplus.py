"""softplus(x) = log(1 + e^x), whose derivative is σ(x): an atom whose lemma is written in a second
atom, the sigmoid of the same argument, made once per entry beside it."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import mpmath
import sympy

from ...core.errors import SymgradError
from .atoms import SIGMOID
from .base import Elementwise, Lemma, atomic, exact, helper_atom, v

if TYPE_CHECKING:
    from ..graph import Graph, Tensor


def softplus(x, beta=1, threshold=20, name=None) -> Tensor:
    """torch.nn.functional.softplus with beta 1. PyTorch returns x itself past the threshold, a
    floating-point shortcut off by less than e^(-threshold); here every entry is log(1 + e^x)."""
    if exact(beta, "softplus: beta") != 1:
        raise SymgradError(f"softplus: only beta=1 is supported, got {beta!r}; write softplus(beta * x) / beta")
    exact(threshold, "softplus: the threshold")
    out = atomic("softplus", x, SOFTPLUS.lemmas[0], name)
    graph = out.graph
    for vid in out.ids:
        atom = graph.atoms[vid]
        graph.atoms[vid] = dataclasses.replace(atom, helper=_sigma(graph, atom.argument))
    return out


def _sigma(graph: Graph, z: int) -> int:
    """The atom σ(z), made once per variable."""
    return helper_atom(graph, SIGMOID.lemmas[0], z, rf"\sigma({graph.registry.names[z]})")


SOFTPLUS = Elementwise(
    lemma=Lemma(
        "softplus",
        lambda u, p: sympy.log(1 + sympy.exp(u)),
        lambda a, u, h, p: h,
        r"\frac{d}{du} \log(1 + e^{u}) = \sigma(u)",
        helper=lambda u, value: 1 / (1 + sympy.exp(-u)),
        numeric=lambda x, p, tiny: mpmath.log(1 + mpmath.exp(x)),
        grows=True,
    ),
    forward=softplus,
    forward_tex=lambda x, o: rf"{o} = \log(1 + e^{{{x}}})",
    closed_tex=lambda x, o, G: rf"{G} \odot \sigma({x})",
    derivative=lambda graph, y, z: v(_sigma(graph, z)),
    torch_call="torch.nn.functional.softplus",
    torch_grad=lambda x, o, g: f"{g} * torch.sigmoid({x})",
)
