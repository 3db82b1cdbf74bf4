"""The render layer: the LaTeX printer, documents, the writer and code generation.

``symgrad.render`` names both this package and the public function that renders a document; the
package is made callable so that ``symgrad.render(d, "md")`` works whichever of the two Python
finds first.
"""

import sys
import types

from .documents import render as _render


class _CallableModule(types.ModuleType):
    def __call__(self, d, *args, **kwargs):
        return _render(getattr(d, "data", d), *args, **kwargs)

    __call__.__doc__ = _render.__doc__


sys.modules[__name__].__class__ = _CallableModule
