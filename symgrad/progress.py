"""Progress on stderr for long commands: the stage (derive, prove, render) and an estimate.

Shown only while stderr is a terminal and the estimate passes a second, so pipes, files and CI
logs get nothing extra. The bar is tqdm's.
"""

from __future__ import annotations

import sys
from typing import TextIO

SECONDS_PER_TERM = 3e-6  # measured: derive and prove per term, 64³ to 128³ matmul, on 2 cores
THRESHOLD = 1.0  # seconds below which no bar is worth drawing
STAGES = ("derive", "prove", "render")


class Progress:
    def __init__(self, terms: int, stream: TextIO | None = None) -> None:
        stream = sys.stderr if stream is None else stream
        self.estimate = terms * SECONDS_PER_TERM
        self.bar = None
        self.current = -1
        if self.estimate >= THRESHOLD and getattr(stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(
                total=len(STAGES),
                file=stream,
                leave=False,
                dynamic_ncols=True,
                bar_format="symgrad: {desc} {bar} {n_fmt}/{total_fmt} stages, "
                f"{{elapsed}} of about {self.estimate:.0f} s",
            )

    def stage(self, name: str) -> None:
        """Enter a stage; the ones before it count as done."""
        if self.bar is None:
            return
        index = STAGES.index(name)
        if self.current >= 0:
            self.bar.update(index - self.current)
        self.current = index
        self.bar.set_description_str(name)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
