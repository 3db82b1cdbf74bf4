"""The symgrad command: parse arguments, call the public API, report.

Errors a user can cause are printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from . import __version__
from .chain.derivation import Derivation, GeneralDerivation
from .core.budget import MAX_TERMS
from .core.errors import SymgradError
from .core.tensor import to_sympy
from .ops.matmul import matmul
from .ops.registry import REGISTRY
from .progress import Progress
from .prove import prove
from .publish.codegen import check_library, emit, require, sources, validate
from .publish.documents import DEFAULT_AUTHOR, DEFAULT_DATE, FORMATS, TEX_ENGINES, check_date, post_options
from .publish.latex import DISPLAY_LIMIT
from .publish.mathjax import DEFAULT_MATHJAX, check_url
from .publish.writer import stem, write

REFERENCE_OUT = "output/matmul-2x4x3"


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise SymgradError(message)


def positive_int(text: str) -> int:
    text = text.strip().replace("_", "")
    if not re.fullmatch(r"[0-9]{1,12}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def build_parser() -> Parser:
    parser = Parser(
        prog="symgrad",
        allow_abbrev=False,
        description=(
            "Derive gradients element by element with the chain rule, prove them exactly, and publish "
            f"the derivation. With no command, writes the reference example in every format to {REFERENCE_OUT}/."
        ),
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    sub.required = False
    for spec in REGISTRY.values():  # one command per op, with the op's own arguments
        command = sub.add_parser(spec.command, help=spec.summary, allow_abbrev=False)
        spec.arguments(command)
        add_output_options(command)
        command.set_defaults(spec=spec)
    network = sub.add_parser(
        "derive", help="derive, prove and write a network's backward pass from its forward function", allow_abbrev=False
    )
    network.add_argument("target", help="the forward function, as path/to/model.py:function")
    network.add_argument(
        "--shape", action="append", default=[], metavar="NAME=AxBx...", help="an argument's shape (repeat for each)"
    )
    network.add_argument("--wrt", help="comma-separated inputs to differentiate (default all)")
    network.add_argument("--loss", default="mean", help="for a function that returns a tensor: mean, sum or generic")
    network.add_argument(
        "--pick", action="append", default=[], metavar="NAME=I,J,...", help="the element a tensor's sections follow"
    )
    network.add_argument(
        "--equivalent",
        nargs=3,
        metavar=("NAME", "FORM_A", "FORM_B"),
        help="prove two forms of dL/dNAME equal, or refute it (exit 1), e.g. x 'dz @ w' '(dz @ w) * 1'",
    )
    add_output_options(network)
    network.set_defaults(spec=None)
    gallery = sub.add_parser("gallery", help="regenerate the committed examples")
    gallery.add_argument("--out", default="output", help="gallery folder (default output)")
    doc = sub.add_parser(
        "check-doc", help="check every line of a hand-written derivation (.md, .html or .tex)", allow_abbrev=False
    )
    doc.add_argument("post", help="the document")
    doc.add_argument("--declarations", help="the declarations file (default POST.symgrad.yaml, else front matter)")
    doc.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="text (default); json; html: the post annotated, a mark beside every formula",
    )
    doc.add_argument("--json", action="store_true", help="the same as --format json")
    doc.add_argument("--strict", action="store_true", help="exit 1 on a line proven only in part, or not checked")
    return parser


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--format", help=f"comma-separated formats or 'all' ({','.join(FORMATS)}), or hugo (a post and its shortcode)"
    )
    p.add_argument("--out", help="output folder (default output/<op>-<sizes>)")
    p.add_argument("--title", help="document title")
    p.add_argument("--author", default=DEFAULT_AUTHOR, help=f"document author (default {DEFAULT_AUTHOR})")
    p.add_argument("--date", default=DEFAULT_DATE, help=f"document date, YYYY-MM-DD (default {DEFAULT_DATE})")
    p.add_argument("--layout", default="post", help="the Jekyll post's layout (default post)")
    p.add_argument("--categories", default="symgrad", help="the Jekyll post's categories, comma-separated")
    p.add_argument("--tags", default="", help="the Jekyll post's tags, comma-separated")
    p.add_argument(
        "--mathjax",
        choices=("cdn", "local"),
        default="cdn",
        help="html pages load MathJax from a CDN (default), or from a copy written next to them "
        "(local: works offline; needs MathJax 3 from npm, see the README)",
    )
    p.add_argument(
        "--mathjax-url",
        default=DEFAULT_MATHJAX,
        help="the MathJax script for --mathjax cdn: an http(s) or file URL, or a relative path",
    )
    p.add_argument(
        "--tex-engine",
        choices=TEX_ENGINES,
        default="pdflatex",
        help="the engine the tex format is written for (default pdflatex; lualatex sets a title "
        "or author in any script)",
    )
    p.add_argument(
        "--display-limit",
        type=int,
        default=DISPLAY_LIMIT,
        help=f"largest matrix side shown in full (default {DISPLAY_LIMIT})",
    )
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.add_argument(
        "--emit-code", metavar="LIB", help="write the backward pass and its validation script: torch or numpy"
    )
    p.add_argument(
        "--max-terms",
        type=positive_int,
        default=None,
        help=f"refuse problems with more terms and variables than this (default {MAX_TERMS:,})",
    )
    p.add_argument(
        "--validate",
        action="store_true",
        help="run the generated backward pass against PyTorch autograd (needs torch; with --emit-code numpy, "
        "the NumPy code against finite differences)",
    )


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            return reference_example()
        if args.command == "check-doc":
            return check_doc(args)
        if args.command == "gallery":
            from .gallery import build

            for path in build(args.out):
                print(path)
            return 0
        if args.command == "derive":
            from .network_cli import derive_network, equivalent_forms

            d = derive_network(args)
            if args.equivalent:
                return equivalent_forms(d, *args.equivalent)
            return publish(d, args)
        spec = args.spec
        with Progress(spec.terms(args)) as progress:
            progress.stage("derive")
            return publish(spec.build(args, args.max_terms), args, progress)
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        return 2


# how a reader opens each file the reference example writes
VIEWS = {
    ".fragment.html": "the body alone, to paste into a page that loads MathJax",
    ".html": "open it in a browser (MathJax from its CDN)",
    ".tex": "a standalone article: pdflatex {name}, in that folder",
    ".md": "Markdown with $$ display math (GitHub, pandoc, kramdown)",
}


def reference_example() -> int:
    """The reference post's derivation, proven and written in every format, with what was done
    and how to look at each file."""
    d = matmul()
    proof = prove(d)
    print(text_summary(d, proof))
    paths = write(d, REFERENCE_OUT, FORMATS)
    print(f"\nwritten to {REFERENCE_OUT}/:")
    rows = []
    for path in paths:
        relative = path.relative_to(REFERENCE_OUT) if path.is_relative_to(REFERENCE_OUT) else path
        kind = next((text for end, text in VIEWS.items() if path.name.endswith(end)), "")
        if path.parent.name == "_posts":
            kind = "a Jekyll post: copy _posts/ into a Jekyll site"
        rows.append((str(relative), kind.format(name=path.name)))
    width = max(len(name) for name, _ in rows)
    for name, kind in rows:
        print(f"  {name:<{width}}  {kind}".rstrip())
    return 0 if proof.ok else 1


def check_doc(args) -> int:
    """0 when no line is refuted (with --strict, when every line is proven), 1 otherwise."""
    from .checkdoc import check_document, json_report, text_report

    report = check_document(args.post, args.declarations)
    fmt = "json" if args.json else args.format
    if fmt == "html":
        from .checkdoc import html_report

        print(html_report(report, args.post))
    else:
        print(json_report(report) if fmt == "json" else text_report(report))
    if report.refuted:
        return 1
    if args.strict and (report.count("pattern") or report.count("unchecked")):
        return 1
    return 0


def publish(d: Derivation, args, progress: Progress | None = None) -> int:
    progress = progress or Progress(0)
    check_date(args.date)  # options are checked even when nothing is written
    check_url(args.mathjax_url)
    post_options(args.layout, args.categories, args.tags)
    if args.title is not None and not args.title.strip():
        raise SymgradError("the title must not be empty")
    general = isinstance(d, GeneralDerivation)
    network = not isinstance(d, (Derivation, GeneralDerivation))
    if general and (args.emit_code or args.validate):
        raise SymgradError("--emit-code and --validate need concrete sizes")
    # --validate runs the code of the library --emit-code names, torch by default; both are checked
    # (the library known, every layer with code in it, the library installed) before any work
    lib = check_library(args.emit_code or "torch")
    if args.emit_code or args.validate:
        sources(d, lib)
    if args.validate:
        require(lib)
    progress.stage("prove")
    proof = prove(d)
    out = args.out or f"output/{stem(d)}"
    validation = validate(d, lib) if args.validate else None
    paths = []
    progress.stage("render")
    if args.format or (args.out and not args.emit_code):
        paths += write(
            d,
            out,
            args.format or "all",
            title=args.title,
            author=args.author,
            date=args.date,
            mathjax_url="local" if args.mathjax == "local" else args.mathjax_url,
            layout=args.layout,
            categories=args.categories,
            tags=args.tags,
            display_limit=args.display_limit,
            tex_engine=args.tex_engine,
            validation=validation,
        )
    if args.emit_code:
        paths += emit(d, lib, out)
    if not args.json:
        for path in paths:
            print(path)
        if not paths:
            print(text_summary(d, proof))
        if validation:
            print(validation)
    if args.json:
        data = network_summary(d, proof) if network else summary(d, proof)
        if validation:
            data["validation"] = {
                "reference": validation.reference,
                "errors": validation.errors,
                "tolerance": validation.tolerance,
                "ok": validation.ok,
                "failure": validation.failure or None,  # what the generated code raised, if it did
            }
        print(json.dumps(data, indent=2))
    return 0 if proof.ok and (validation is None or validation.ok) else 1


def network_summary(d, proof) -> dict:
    return {
        "network": d.function,
        "shapes": {n: list(s) for n, s in d.shapes.items()},
        "wrt": list(d.wrt),
        "loss": None if d.loss is None else d.loss.name,
        "layers": [node.op for node in d.graph.nodes],
        "lemmas": d.lemmas,
        "proof": {"ok": proof.ok, "status": proof.status, "elements": proof.elements, "steps": proof.steps},
    }


def summary(d: Derivation, proof) -> dict:
    if isinstance(d, GeneralDerivation):
        return {
            "op": d.op,
            "sizes": {r: str(s) for r, s in d.sizes.items()},
            "loss": d.loss.name,
            "closed_forms": {n: claim_text(e) for n, e in d.closed_forms.items()},
            "proof": {
                "ok": proof.ok,
                "status": proof.status,
                "checked": proof.checked,
                "instances": proof.elements,
                "steps": proof.steps,
                "failed_step": proof.failed_step,
                "instantiated_up_to": d.instantiate_up_to,
            },
        }
    return {
        "op": d.op,
        "sizes": d.sizes,
        "loss": d.loss.name,
        "picks": {n: [i + 1 for i in ix] for n, ix in d.picks.items()},
        "grad": {n: nested(g) for n, g in d.grad.items()},
        "closed_forms": {n: claim_text(e) for n, e in d.closed_forms.items()},
        "proof": {
            "ok": proof.ok,
            "status": proof.status,
            "checked": proof.checked,
            "elements": proof.elements,
            "steps": proof.steps,
            "upstream": proof.upstream,
            "shown": proof.shown,
            "counterexample": str(proof.counterexample) if proof.counterexample else None,
            "failed_step": proof.failed_step,
        },
    }


def nested(array):
    """A SymPy matrix or array as nested lists of strings, indexed like the tensor."""
    return (
        [nested(row) for row in array.tolist()]
        if hasattr(array, "tolist")
        else ([nested(v) for v in array] if isinstance(array, list) else str(array))
    )


class _ClaimPrinter(StrPrinter):
    """SymPy's text with the matrix product written @, as the claim language and PyTorch write
    it: SymPy's own G*B.T is an element-wise product there."""

    def _print_MatMul(self, expr):
        coeff, matrices = expr.as_coeff_matrices()
        text = " @ ".join(self.parenthesize(m, PRECEDENCE["Mul"]) for m in matrices)
        return text if coeff == 1 else f"{self._print(coeff)} * {text}"


def claim_text(expr) -> str:
    """A closed form as a claim: what ``symgrad.check`` and ``--claim`` read back."""
    return _ClaimPrinter().doprint(expr)


def text_summary(d: Derivation, proof) -> str:
    if not isinstance(d, (Derivation, GeneralDerivation)):  # a network
        layers = " → ".join(node.op for node in d.graph.nodes)
        return f"{d.function}: {layers}; {d.shapes_text}\n{proof}"
    if isinstance(d, GeneralDerivation):
        m, k, n = d.sizes.values()
        lines = [f"{d.op} for every size: A {m}×{k}, B {k}×{n}, loss {d.loss}"]
        lines += [f"  dL/d{name} = {claim_text(expr)}" for name, expr in d.closed_forms.items()]
        if proof.ok:
            lines.append(
                f"proof holds: {proof.steps} steps checked symbolically, {proof.elements} instances "
                f"checked at every size up to {d.instantiate_up_to}"
            )
        else:
            lines.append(str(proof))
        return "\n".join(lines)
    dims = ", ".join(f"{n} {'×'.join(map(str, t.shape))}" for n, t in d.input_tensors.items())
    lines = [f"{d.op}: {dims}, loss {d.loss}"]
    for name, index in d.picks.items():
        vid = d.input_tensors[name].id_at(index)
        value = to_sympy(d.gradient_of(vid, values=True), d.registry)  # only the entry printed
        lines.append(f"  dL/d{d.registry.symbol(vid)} = {value}")
    for name, expr in d.closed_forms.items():
        lines.append(f"  dL/d{name} = {claim_text(expr)}")
    lines.append(str(proof))
    return "\n".join(lines)
