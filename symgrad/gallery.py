"""The committed examples in output/: one command regenerates them all."""

from __future__ import annotations

from pathlib import Path

from .ops.registry import REGISTRY
from .render.documents import FORMATS
from .render.writer import stem, write

# every op's examples, in the registry's order
GALLERY = tuple(example for spec in REGISTRY.values() for example in spec.examples)


def build(root="output") -> list[Path]:
    paths = []
    for _, make in GALLERY:
        d = make()
        paths += write(d, Path(root) / stem(d), FORMATS)
    return paths
