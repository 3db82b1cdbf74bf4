"""The prove layer: one entry, ``prove(d)``, for every derivation.

A derivation of concrete sizes, an op preset's or a network's, is proven by one prover
(``prover``): the obligations it carries (lemmas, layers, the lines its document checks, the loss's
upstream entries, views and closed forms), in one order. A derivation for symbolic sizes is proven
in index notation (``general``). The verdict is computed once per derivation.
"""

from ..chain.derivation import Derivation, GeneralDerivation, Proof
from ..core.errors import SymgradError
from ..network.derivation import NetworkDerivation
from . import general, prover


def prove(d) -> Proof:
    proof = d.cache.get("proof")
    if proof is None:
        if isinstance(d, GeneralDerivation):
            proof = general.prove(d)
        elif isinstance(d, (Derivation, NetworkDerivation)):
            proof = prover.prove(d)
        else:
            raise SymgradError(f"prove needs a derivation, got {type(d).__name__}")
        d.cache["proof"] = proof
    return proof
