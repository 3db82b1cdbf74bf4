"""The committed examples in output/: one command regenerates them all."""

from __future__ import annotations

from pathlib import Path

from .ops.conv2d import conv2d
from .ops.matmul import matmul
from .render.documents import FORMATS
from .render.writer import stem, write

GALLERY = (
    ("the reference example: 2×4 times 4×3, mean loss", lambda: matmul(2, 4, 3, "mean")),
    ("3×2 times 2×5, sum loss", lambda: matmul(3, 2, 5, "sum")),
    ("12×12 times 12×12, generic loss: matrices elided", lambda: matmul(12, 12, 12, "generic")),
    ("every size, in index notation, mean loss", lambda: matmul("m", "k", "n", "mean")),
    (
        "a convolution: one 3-channel 16×32 sample, a 2×3×4×5 kernel, padding 1, stride 2",
        lambda: conv2d((1, 3, 16, 32), (2, 3, 4, 5), stride=2, padding=1, loss="mean"),
    ),
)


def build(root="output") -> list[Path]:
    paths = []
    for _, make in GALLERY:
        d = make()
        paths += write(d, Path(root) / stem(d), FORMATS)
    return paths
