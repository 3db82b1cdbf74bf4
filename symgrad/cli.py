"""The symgrad command: parse arguments, call the public API, report.

Errors a user can cause are printed as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from . import __version__
from .core.budget import MAX_TERMS
from .core.errors import SymgradError
from .core.tensor import to_sympy
from .derive.build import parse_pick
from .derive.derivation import Derivation, GeneralDerivation
from .ops.conv2d import conv2d, geometry
from .ops.matmul import REFERENCE, matmul
from .progress import Progress
from .render.codegen import check_library, emit, validate
from .render.documents import DEFAULT_AUTHOR, DEFAULT_DATE, DEFAULT_MATHJAX, FORMATS, check_date
from .render.latex import DISPLAY_LIMIT
from .render.writer import stem, write

REFERENCE_OUT = "output/matmul-2x4x3"


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise SymgradError(message)


def size(text: str):
    """A positive integer, or a name (m, k, n) for the general derivation."""
    text = text.strip()
    if re.fullmatch(r"[0-9]{1,12}", text) and int(text) >= 1:
        return int(text)
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text):
        return text
    raise argparse.ArgumentTypeError(f"a size must be a positive integer or a name such as m, got {text!r}")


def dims(text: str) -> tuple:
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 4 or not all(re.fullmatch(r"[0-9]{1,12}", p.strip()) and int(p) >= 1 for p in parts):
        raise argparse.ArgumentTypeError(f"a shape is four positive integers such as 1x2x5x5, got {text!r}")
    return tuple(int(p) for p in parts)


def int_or_pair(text: str):
    parts = text.split(",")
    if len(parts) not in (1, 2) or not all(re.fullmatch(r"[0-9]{1,12}", p.strip()) for p in parts):
        raise argparse.ArgumentTypeError(f"expected an integer or a pair such as 2,1, got {text!r}")
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


def positive_int(text: str) -> int:
    text = text.strip().replace("_", "")
    if not re.fullmatch(r"[0-9]{1,12}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def pick(text: str):
    try:
        return parse_pick(text)
    except SymgradError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> Parser:
    parser = Parser(
        prog="symgrad",
        description=(
            "Derive gradients element by element with the chain rule, prove them exactly, and publish "
            f"the derivation. With no command, writes the reference example in every format to {REFERENCE_OUT}/."
        ),
    )
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    mm = sub.add_parser("matmul", help="C = AB: dL/dA and dL/dB")
    mm.add_argument("-m", type=size, default=REFERENCE["m"], help="rows of A (default 2)")
    mm.add_argument("-k", type=size, default=REFERENCE["k"], help="columns of A, rows of B (default 4)")
    mm.add_argument("-n", type=size, default=REFERENCE["n"], help="columns of B (default 3)")
    mm.add_argument("--loss", default="mean", help="mean (default), sum or generic")
    mm.add_argument("--pick-a", type=pick, help="1-based element of A to derive step by step (default 2,3)")
    mm.add_argument("--pick-b", type=pick, help="1-based element of B to derive step by step (default 1,2)")
    mm.add_argument("--letters", default="abc", help="entry letters of A, B and C (default abc)")
    add_output_options(mm)
    conv = sub.add_parser("conv2d", help="Y = conv2d(X, W, b): dL/dX, dL/dW and dL/db")
    conv.add_argument("--input", type=dims, default=(1, 2, 5, 5), help="N×C×H×W, as 1x2x5x5 (the default)")
    conv.add_argument("--weight", type=dims, default=(2, 2, 3, 3), help="O×(C/groups)×kH×kW, as 2x2x3x3 (the default)")
    for name, default in (("stride", "1"), ("padding", "0"), ("dilation", "1")):
        conv.add_argument(
            f"--{name}",
            type=int_or_pair,
            default=int(default),
            help=f"an integer or a pair such as 2,1 (default {default})",
        )
    conv.add_argument("--groups", type=int, default=1, help="default 1")
    conv.add_argument("--no-bias", action="store_true", help="a convolution without bias")
    conv.add_argument("--loss", default="generic", help="generic (default), mean or sum")
    conv.add_argument("--pick-x", help="1-based element of X to derive step by step, as 1,1,2,2")
    conv.add_argument("--pick-w", help="1-based element of W to derive step by step, as 1,1,2,2")
    add_output_options(conv)
    gallery = sub.add_parser("gallery", help="regenerate the committed examples")
    gallery.add_argument("--out", default="output", help="gallery folder (default output)")
    return parser


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", help=f"comma-separated formats or 'all': {','.join(FORMATS)}")
    p.add_argument("--out", help="output folder (default output/<op>-<sizes>)")
    p.add_argument("--title", help="document title")
    p.add_argument("--author", default=DEFAULT_AUTHOR, help=f"document author (default {DEFAULT_AUTHOR})")
    p.add_argument("--date", default=DEFAULT_DATE, help=f"document date, YYYY-MM-DD (default {DEFAULT_DATE})")
    p.add_argument("--mathjax-url", default=DEFAULT_MATHJAX, help="MathJax script for the html format")
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
        help="run the generated backward pass against PyTorch autograd (NumPy finite differences without torch)",
    )


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            d = matmul()
            for path in write(d, REFERENCE_OUT, FORMATS):
                print(path)
            return 0
        if args.command == "gallery":
            from .gallery import build

            for path in build(args.out):
                print(path)
            return 0
        if args.command == "conv2d":
            with Progress(conv_terms(args)) as progress:
                progress.stage("derive")
                d = conv2d(
                    args.input,
                    args.weight,
                    args.stride,
                    args.padding,
                    args.dilation,
                    args.groups,
                    bias=not args.no_bias,
                    loss=args.loss,
                    pick_x=args.pick_x,
                    pick_w=args.pick_w,
                    max_terms=args.max_terms,
                )
                return publish(d, args, progress)
        return run_matmul(args)
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        return 2


def run_matmul(args) -> int:
    sizes = (args.m, args.k, args.n)
    general = any(isinstance(s, str) for s in sizes)
    options = {} if general else {"max_terms": args.max_terms}
    with Progress(0 if general else args.m * args.k * args.n) as progress:
        progress.stage("derive")
        d = matmul(*sizes, args.loss, pick_a=args.pick_a, pick_b=args.pick_b, letters=tuple(args.letters), **options)
        return publish(d, args, progress)


def conv_terms(args) -> int:
    """The convolution's terms for the progress estimate, 0 when the shapes are not valid (the op says why)."""
    try:
        geo = geometry(args.input, args.weight, args.stride, args.padding, args.dilation, args.groups)
    except SymgradError:
        return 0
    return geo.N * geo.O * geo.out[0] * geo.out[1] * geo.Cg * geo.kH * geo.kW


def publish(d: Derivation, args, progress: Progress | None = None) -> int:
    progress = progress or Progress(0)
    check_date(args.date)  # options are checked even when nothing is written
    if args.title is not None and not args.title.strip():
        raise SymgradError("the title must not be empty")
    general = isinstance(d, GeneralDerivation)
    if general and (args.emit_code or args.validate):
        raise SymgradError("--emit-code and --validate need concrete sizes")
    if args.emit_code:
        check_library(args.emit_code)
    progress.stage("prove")
    proof = d.prove()
    out = args.out or f"output/{stem(d)}"
    validation = validate(d) if args.validate else None
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
            mathjax_url=args.mathjax_url,
            display_limit=args.display_limit,
            validation=validation,
        )
    if args.emit_code:
        paths += emit(d, args.emit_code, out)
    if not args.json:
        for path in paths:
            print(path)
        if not paths:
            print(text_summary(d, proof))
        if validation:
            print(validation)
    if args.json:
        data = summary(d, proof)
        if validation:
            data["validation"] = {
                "reference": validation.reference,
                "errors": validation.errors,
                "tolerance": validation.tolerance,
                "ok": validation.ok,
            }
        print(json.dumps(data, indent=2))
    return 0 if proof.ok and (validation is None or validation.ok) else 1


def summary(d: Derivation, proof) -> dict:
    if isinstance(d, GeneralDerivation):
        return {
            "op": d.op,
            "sizes": {r: str(s) for r, s in d.sizes.items()},
            "loss": d.loss,
            "closed_forms": {n: str(e) for n, e in d.closed_forms.items()},
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
        "loss": d.loss,
        "picks": {n: [i + 1 for i in ix] for n, ix in d.picks.items()},
        "grad": {n: nested(g) for n, g in d.grad.items()},
        "closed_forms": {n: str(e) for n, e in d.closed_forms.items()},
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


def text_summary(d: Derivation, proof) -> str:
    if isinstance(d, GeneralDerivation):
        m, k, n = d.sizes.values()
        lines = [f"{d.op} for every size: A {m}×{k}, B {k}×{n}, loss {d.loss}"]
        lines += [f"  dL/d{name} = {expr}" for name, expr in d.closed_forms.items()]
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
        lines.append(f"  dL/d{name} = {expr}")
    lines.append(str(proof))
    return "\n".join(lines)
