"""symgrad check-doc: time to check a document, beside a naive CAS check of the same links, in
fresh processes of the same run.

Jobs:
- the reference post (tests/data/reference-post.html) with tests/data/reference.txt.symgrad.yaml, at its two
  declared sizes (target ≤ 5 s);
- a post of 30 equation lines (the variance derivation of tests/data/checkdoc, five times over)
  at three sizes, N = 3, 4, 5 (target ≤ 30 s).

Both are timed as whole processes (interpreter start, imports and reading included), median of
``--repeats``. symgrad: ``symgrad check-doc``. Naive: the same documents read and evaluated by
symgrad's reader, every link then compared with ``sympy.simplify(left - right) == 0``, the usual
way to ask a CAS whether two sides are equal; it gives no index patterns and no counterexamples.

    python benchmarks/bench_checkdoc.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "reference-post.html"
NAIVE = r"""
import json, sys, time
start = time.perf_counter()
import importlib
import sympy
from pathlib import Path
from symgrad.checkdoc import declarations_for
from symgrad.checkdoc.reader import read
C = importlib.import_module("symgrad.checkdoc.check")  # the module, which the package's check() shadows

def simplify_equal(a, b, conditions=(), named=None, quick=False, points=None):
    for _ in range(8):  # the names a reading kept, written out: simplify sees only the inputs
        if not named:
            break
        a, b = sympy.sympify(a).xreplace(named), sympy.sympify(b).xreplace(named)
    if isinstance(a, sympy.MatrixBase) != isinstance(b, sympy.MatrixBase):
        return False, ""
    if isinstance(a, sympy.MatrixBase):
        ok = a.shape == b.shape and all(sympy.simplify(x - y) == 0 for x, y in zip(a, b))
        return ok, ""
    return sympy.simplify(a - b) == 0, ""

C.equal = simplify_equal
path = Path(sys.argv[1])
equations, text = read(path)
decl = declarations_for(path, text, Path(sys.argv[2]) if len(sys.argv) > 2 else None)
report = C.check(equations, decl)
print(json.dumps({"seconds": time.perf_counter() - start, "links": len(report.links)}))
"""


def thirty_lines(folder: Path) -> Path:
    source = (ROOT / "tests" / "data" / "checkdoc" / "variance.md").read_text(encoding="utf-8")
    front, body = source.split("\n---\n", 1)
    front = front.replace("sizes: [{N: 3}, {N: 4}]", "sizes: [{N: 3}, {N: 4}, {N: 5}]")
    post = folder / "thirty.md"
    post.write_text(front + "\n---\n" + body * 5, encoding="utf-8")
    return post


def timed(args: list) -> float:
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, text=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    jobs = [
        ("the reference post, 2 sizes", [str(REFERENCE), str(ROOT / "tests/data/reference.txt.symgrad.yaml")], 5),
        ("30 equation lines, 3 sizes", [str(thirty_lines(folder))], 30),
    ]
    print("| document | symgrad check-doc (median) | target | naive simplify, same links | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, files, target in jobs:
        cli = [sys.executable, "-m", "symgrad", "check-doc", files[0]] + (
            ["--declarations", files[1]] if len(files) > 1 else []
        )
        ours = statistics.median(timed(cli) for _ in range(args.repeats))
        naive = statistics.median(timed([sys.executable, "-c", NAIVE, *files]) for _ in range(args.repeats))
        print(f"| {label} | {ours:.2f} s | ≤ {target} s | {naive:.2f} s | {naive / ours:.1f}× |")


if __name__ == "__main__":
    main()
