"""The prove layer: the prover's rules, claims, and general-size proofs."""

from ..derive.derivation import SERVICES
from . import network as _network  # noqa: F401  (registers the network prover)
from .general import prove as _prove_general
from .prover import prove as _prove

SERVICES["prove"] = _prove
SERVICES["prove general"] = _prove_general
