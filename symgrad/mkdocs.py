"""MkDocs: a ``symgrad`` fence becomes its proven derivation, through pymdownx.superfences.

    markdown_extensions:
      - pymdownx.arithmatex:
          generic: true
      - pymdownx.superfences:
          custom_fences:
            - name: symgrad
              class: symgrad
              format: !!python/name:symgrad.mkdocs.fence

The derivation is symgrad's HTML fragment (its equations as grids of \\( \\) formulas, its own
scoped style) inside an ``arithmatex`` box, which the MathJax setup that MkDocs Material
documents for arithmatex typesets. A bad fence stops ``mkdocs build`` with symgrad's one-line
error.
"""

from __future__ import annotations

import re

from .core.errors import SymgradError
from .embed import derivation, options
from .publish.documents import render


def _fence_error():
    # superfences turns any other exception in a fence into a plain code block, silently; MkDocs
    # prints an Abort as its message alone, without a traceback
    from mkdocs.exceptions import Abort
    from pymdownx.superfences import SuperFencesException

    class FenceError(SuperFencesException, Abort):
        """What a bad fence raises: MkDocs stops the build and prints it."""

    return FenceError


FORMULA = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)


def _arithmatex(html: str) -> str:
    """Each formula in its own arithmatex span, as arithmatex writes them: the documented MathJax
    setup ignores every element with a class unless it is an arithmatex one, and the fragment's
    layout boxes all have classes."""
    return FORMULA.sub(lambda m: f'<span class="arithmatex">{m.group(0)}</span>', html)


def fence(source, language, class_name, options_, md, **kwargs) -> str:
    try:
        d, args = derivation(source)
        html = render(d, "fragment", **options(args))
    except SymgradError as exc:
        raise _fence_error()(f"symgrad: error: {exc}") from None
    return f'<div class="{class_name}">\n{_arithmatex(html)}\n</div>'
