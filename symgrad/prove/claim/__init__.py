"""Claims about a network's gradients: read and evaluated into exact polynomials, by one path.

A claim is a string or a Python function of the network's tensors. Both reach the same
arithmetic (``apply``), which handles each operator it accepts explicitly and refuses everything
else with a SymgradError: nothing is ever read as something else. A function of an entry (exp,
sqrt, 1/p, a step for relu, ...) is the network's own atom when the network applies the same
function to an argument equal to it, else an atom of the claim's. In a claim function,
``symgrad.functional``'s layers reach these operations through ``ClaimTensor.__symgrad_function__``.
Two sides whose difference is not zero as a polynomial are compared as rational functions
(``rational.vanishes``) when it holds reciprocals or roots.

The modules, each importing only those below it: ``reader`` (the names a claim may use, a claim
string read node by node, and a claim's value whichever way it is given), ``functions`` (what a
claim may call), ``convolutions`` (the convolutions and their gradients, entry by entry),
``tensor`` (the claim tensor and its arithmetic, each operation's work counted), ``atoms`` (a
function of one entry: the network's atom or the claim's own), ``decision`` (where two sides
differ, within the budget) and ``frame`` (a difference written out only as far as deciding it
needs: linear variables kept as coordinates, with the relations among them).
"""

# the functions fill in what symgrad.functional's layers are on a claim's tensors (tensor.LAYERS):
# they are loaded with the package, whichever of its modules is imported first
from . import functions  # noqa: F401
