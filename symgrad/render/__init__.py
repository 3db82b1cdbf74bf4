"""The render layer: the LaTeX printer, documents, the writer and code generation.

``symgrad.render`` names both this package and the public function that renders a document; the
package is made callable so that ``symgrad.render(d, "md")`` works whichever of the two Python
finds first.
"""

import sys
import types

from ..derive.derivation import SERVICES, Proof
from .display import proof as _proof_view
from .documents import render as _render


def _serve(d, fmt, **options):
    """A derivation's document, or a proof's notebook view (display.py)."""
    if isinstance(d, Proof):
        return _proof_view(d, fmt)
    return _render(d, fmt, **options)


SERVICES["render"] = _serve


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return _render(*args, **kwargs)

    __call__.__doc__ = _render.__doc__


sys.modules[__name__].__class__ = _CallableModule
