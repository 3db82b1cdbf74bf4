"""The derive layer: the chain-rule engine, losses, recorded steps, and the Derivation as data.

``symgrad.derive`` names both this package and the public function that derives a network's
backward pass from its forward function (``symgrad.derive(net, x=(2, 3), ...)``); the package is
made callable, and the call goes to the network layer, which registers itself in SERVICES.
"""

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, fn, /, **kwargs):
        """Derive the backward pass of ``fn``, a forward function over symbolic tensors: give each of
        its parameters a shape (``x=(2, 3)``), and optionally ``wrt`` (the inputs to differentiate,
        default all), ``loss`` (mean, sum or generic, for a function that returns a tensor) and
        ``max_terms``."""
        import importlib  # noqa: TID251

        return importlib.import_module("symgrad.api").derive(fn, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
