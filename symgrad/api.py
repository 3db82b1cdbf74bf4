"""The public functions, in the order of the pipeline: build and derive (one function per op),
prove, check a claim, render and write. Importing this module loads every layer, which is what
registers the prover and the renderer with the data layer."""

from __future__ import annotations

from . import derive
from . import prove as _prove_layer  # noqa: F401  (registers d.prove())
from . import render as _render_layer  # noqa: F401  (registers the Jupyter views)
from .derive.derivation import Counterexample, Derivation, GeneralDerivation, Proof, Step
from .network import trace as _network  # noqa: F401  (registers symgrad.derive(fn, ...))
from .ops.conv2d import conv2d
from .ops.conv_transpose2d import conv_transpose2d
from .ops.matmul import matmul
from .prove.claims import check
from .prove.network import equivalent
from .render.documents import render
from .render.writer import write

__all__ = [
    "Counterexample",
    "Derivation",
    "GeneralDerivation",
    "Proof",
    "Step",
    "check",
    "conv2d",
    "conv_transpose2d",
    "derive",
    "equivalent",
    "matmul",
    "render",
    "write",
]
