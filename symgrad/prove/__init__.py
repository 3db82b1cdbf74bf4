"""The prove layer: one entry, ``prove(d)``, for every derivation.

A derivation of concrete sizes was derived on the graph engine; its document decides what is
checked beside the layers: an op's document proves its closed forms, views and upstream entries
element by element (``prover``), a network's proves every layer's closed form and every line it
marks as checked (``network``). A derivation for symbolic sizes is proven in index notation
(``general``). The verdict is computed once per derivation.
"""

from ..chain.derivation import Derivation, GeneralDerivation, Proof
from ..core.errors import SymgradError
from ..network.trace import NetworkDerivation
from . import general, network, prover


def prove(d) -> Proof:
    proof = d.cache.get("proof")
    if proof is None:
        if isinstance(d, GeneralDerivation):
            proof = general.prove(d)
        elif isinstance(d, Derivation):
            proof = prover.prove(d)
        elif isinstance(d, NetworkDerivation):
            proof = network.prove(d)
        else:
            raise SymgradError(f"prove needs a derivation, got {type(d).__name__}")
        d.cache["proof"] = proof
    return proof
