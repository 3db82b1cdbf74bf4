"""A Sphinx extension: the ``symgrad`` directive expands into a proven derivation.

    extensions = ["symgrad.sphinx"]          # conf.py; for Markdown add "myst_parser"

    .. symgrad:: matmul -m 2 -k 4 -n 3 --loss mean
       :label-prefix: mm

In MyST Markdown the same directive is a fence, ```` ```{symgrad} matmul -m 2 -k 4 -n 3 ```` ````,
and with ``myst_fence_as_directive = ["symgrad"]`` a plain ```` ```symgrad ```` fence works too.

The derivation is written as reStructuredText (the ``rst`` format) and parsed in place, so every
equation is Sphinx's own numbered math block with a label (``:eq:`mm-chain-a``` refers to it) and
every heading a rubric with a label. A bad block is reported as one error line at its place, and
the build then ends with status 2.
"""

from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from . import __version__
from .core.errors import SymgradError
from .embed import derivation, options
from .publish.documents import render

LOGGER = logging.getLogger(__name__)


class SymgradDirective(SphinxDirective):
    """The block's arguments (on the directive's line or as its content), as the CLI takes them."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = {"label-prefix": directives.unchanged}  # noqa: RUF012 (docutils reads a plain dict)

    def run(self) -> list:
        text = " ".join(self.arguments) if self.arguments else "\n".join(self.content)
        where = f"{self.env.docname}:{self.lineno}"
        try:
            d, args = derivation(text, base=str(self.env.srcdir / self.env.docname).rsplit("/", 1)[0])
            source = render(d, "rst", label_prefix=self.options.get("label-prefix"), **options(args))
        except SymgradError as exc:
            # one line at the block's place, and a failed build (see _fail): the page would
            # otherwise be published without its derivation
            LOGGER.error("symgrad: error: %s", exc, location=(self.env.docname, self.lineno))
            _failed(self.env).add(self.env.docname)
            return []
        if type(self.state).__module__.startswith("myst_parser"):
            # in a Markdown page the content is parsed as MyST: hand the reStructuredText to
            # MyST's own eval-rst directive, which parses it as reStructuredText in place
            source = f"`````{{eval-rst}}\n{source}\n`````"
        box = nodes.container(classes=["symgrad-derivation"])
        nested_parse_with_titles(self.state, StringList(source.splitlines(), source=where), box)
        return [box]


def _failed(env) -> set:
    """The pages with a bad block. The set lives in the saved environment, so a later build that
    does not read such a page again still fails, until the page is read again without the error."""
    if not hasattr(env, "symgrad_failed"):
        env.symgrad_failed = set()
    return env.symgrad_failed


def _purge(app, env, docname) -> None:  # a page about to be read again
    _failed(env).discard(docname)


def _fail(app, exception) -> None:
    if exception is None and _failed(app.env):
        app.statuscode = 2


def setup(app) -> dict:
    app.add_directive("symgrad", SymgradDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("build-finished", _fail)
    # reading in parallel would keep a worker's failure from the main process's environment
    return {"version": __version__, "parallel_read_safe": False, "parallel_write_safe": True}
