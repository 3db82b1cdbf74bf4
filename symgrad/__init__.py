"""symgrad: derive gradients element by element, prove them exactly, publish the derivation."""
from .claims import check
from .derivation import Counterexample, Derivation, Proof, Step
from .errors import SymgradError
from .ops.conv2d import conv2d
from .ops.matmul import matmul
from .renderer import render
from .writer import write

__all__ = ["matmul", "conv2d", "check", "render", "write", "Derivation", "Proof", "Step", "Counterexample", "SymgradError"]
__version__ = "0.1.0"
