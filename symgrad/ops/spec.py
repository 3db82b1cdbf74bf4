"""The op protocol's command-line half: an op's arguments, how they build its derivation, and its
gallery examples; plus the argument types the ops share."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..chain.build import parse_pick
from ..core.errors import SymgradError


@dataclass(frozen=True)
class OpSpec:
    name: str  # the Python function, and the command with dashes
    summary: str  # one line for --help
    arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace, int | None], object]  # parsed arguments, max_terms -> derivation
    terms: Callable[[argparse.Namespace], int]  # the size estimate behind the progress bar
    examples: tuple = field(default=())  # (description, callable) for the gallery
    backward: Callable | None = None  # (sizes, loss) -> the derivation symgrad.testing checks
    backward_arguments: str = ""  # what the user's backward function receives

    @property
    def command(self) -> str:
        return self.name.replace("_", "-")


def size(text: str):
    """A positive integer, or a name (m, k, n) for a general derivation."""
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


def pick(text: str):
    try:
        return parse_pick(text)
    except SymgradError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def convolution_arguments(
    parser: argparse.ArgumentParser,
    input_default,
    weight_default,
    weight_help,
    loss_default: str,
    transposed: bool = False,
) -> None:
    """The options convolution-like ops share, with PyTorch's names."""
    parser.add_argument(
        "--input",
        type=dims,
        default=input_default,
        help=f"N×C×H×W, as {'x'.join(map(str, input_default))} (the default)",
    )
    parser.add_argument("--weight", type=dims, default=weight_default, help=weight_help)
    defaults = {"stride": 1, "padding": 0, "dilation": 1}
    if transposed:
        defaults = {"stride": 2, "padding": 1, "output-padding": 0, "dilation": 1}
    for name, default in defaults.items():
        parser.add_argument(
            f"--{name}", type=int_or_pair, default=default, help=f"an integer or a pair such as 2,1 (default {default})"
        )
    parser.add_argument("--groups", type=int, default=1, help="default 1")
    parser.add_argument("--no-bias", action="store_true", help="no bias")
    parser.add_argument("--loss", default=loss_default, help=f"mean, sum or generic (default {loss_default})")
    parser.add_argument("--pick-x", help="1-based element of X to derive step by step, as 1,1,2,2")
    parser.add_argument("--pick-w", help="1-based element of W to derive step by step, as 1,1,2,2")
