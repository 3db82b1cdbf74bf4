"""A pandoc filter: each ``symgrad`` code block becomes its proven derivation.

    pandoc post.md --filter symgrad-pandoc --mathjax -s -o post.html
    pandoc post.md --filter symgrad-pandoc -o post.pdf

The block is the command line's arguments (```` ```symgrad ```` then ``matmul -m 2 -k 4 -n 3``);
the derivation is written as symgrad's Markdown (display math in $$, numbered with \\tag) and
read back by pandoc, so it reaches every output pandoc writes. Quarto runs the same filter
(``filters: [symgrad-pandoc]``). A bad block stops pandoc with symgrad's one-line error.
"""

from __future__ import annotations

import sys

from .core.errors import SymgradError
from .embed import derivation, options
from .publish.documents import render


def expand(elem, doc):
    import panflute as pf

    if not (isinstance(elem, pf.CodeBlock) and "symgrad" in elem.classes):
        return None
    try:
        d, args = derivation(elem.text)
        # pandoc's math converter for Word and OpenDocument knows no \color: those get no colour
        colour = doc.format.startswith(("html", "latex", "beamer", "revealjs", "slidy", "s5", "dzslides"))
        markdown = render(d, "md", colour=colour, **options(args))
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        sys.exit(2)
    return pf.convert_text(markdown, input_format="markdown")


def main(doc=None):
    try:
        import panflute as pf
    except ImportError:
        print("symgrad: error: the pandoc filter needs panflute: pip install panflute", file=sys.stderr)
        return 2
    return pf.run_filter(expand, doc=doc)


if __name__ == "__main__":
    main()
