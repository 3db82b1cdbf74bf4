"""A derivation named in someone else's document: the arguments of a ``symgrad`` block, read as
the command line reads them, and the proven derivation they describe.

    ```symgrad
    matmul -m 2 -k 4 -n 3 --loss mean
    ```

The documentation-tool integrations (``symgrad.sphinx``, ``symgrad.pandoc``, ``symgrad.mkdocs``)
all start here, so a block means the same in every tool and a bad one fails each build with the
same one-line error.
"""

from __future__ import annotations

import os
import shlex

from .api import Derivation
from .core.errors import SymgradError
from .prove import prove

# What a block may say: the derivation, and how many terms a long sum shows. Each option it may
# not give, with the reason.
_FILES = "the build writes the page"
_PAGE = "the page around the block has its own"
REFUSED = {
    **dict.fromkeys(("--out", "--format", "--emit-code", "--validate", "--json", "--equivalent"), _FILES),
    **dict.fromkeys(("--title", "--author", "--date"), _PAGE),
    **dict.fromkeys(("-h", "--help", "--version"), "a block is not a command to ask for help"),
}


def derivation(text: str, base: str | None = None):
    """The proven derivation a block's arguments describe; a SymgradError for anything else,
    including a derivation that is not proven. ``base`` is the folder a network's model file is
    looked up from (the document's), when its path is relative."""
    from .cli import build_parser
    from .network_cli import derive_network

    try:
        argv = shlex.split(text, comments=True)
    except ValueError as exc:
        raise SymgradError(f"a symgrad block's arguments do not parse: {exc}") from None
    if not argv:
        raise SymgradError("a symgrad block is empty: name an op (matmul -m 2 -k 4 -n 3) or a network (derive ...)")
    for arg in argv:
        option = arg.split("=", 1)[0]
        if option in REFUSED:
            raise SymgradError(f"{option} has no meaning in a symgrad block: {REFUSED[option]}")
    if argv[0] == "gallery":
        raise SymgradError(f"a symgrad block names an op or a network, not {argv[0]}")
    args = build_parser().parse_args(argv)
    if args.command is None:
        raise SymgradError("a symgrad block names an op (matmul -m 2 -k 4 -n 3) or a network (derive ...)")
    if args.command == "derive":
        if base is not None and ":" in args.target:
            path, function = args.target.rsplit(":", 1)
            args.target = f"{os.path.join(base, path)}:{function}"
        d = derive_network(args)
    else:
        d = args.spec.build(args, args.max_terms)
    proof = prove(d)
    if proof.status != "proven":
        raise SymgradError(f"the derivation is {proof.status}: {proof.failed_step or proof.counterexample}")
    return Derivation(d), args


def options(args) -> dict:
    """How the derivation is written inside the page: the block's display limit, no byline."""
    return {"display_limit": args.display_limit, "standalone": False}
