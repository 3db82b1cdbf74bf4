"""Backward code written from the proven closed forms, in the reference's style, and its check.

The closed form G·Bᵀ becomes ``grad_C.mm(B.t())`` (torch) or ``grad_C @ B.T`` (NumPy); the
upstream line comes from the loss. ``emit`` writes the backward module and a standalone
validation script (autograd for torch, central finite differences for NumPy); ``validate``
runs that same code in-process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import SymgradError
from .codelines import backward_lines, check_library
from .documents import environment
from .writer import atomic_write, make_folder, stem

TOLERANCE = {"torch": 1e-10, "numpy": 1e-6}
SEED = 0


def _context(d, lib: str) -> dict:
    names = list(d.input_tensors)
    out = d.output.name
    last = out if d.loss.has_value else f"grad_{out}"
    backward_lines(d, lib)  # an op without code for this library says so before anything is written
    dims = ", ".join(f"{n} {'×'.join(map(str, t.shape))}" for n, t in d.input_tensors.items())
    return {
        "lib": lib,
        "title": f"{d.op} ({dims})",
        "names": names,
        "output": out,
        "output_shape": list(d.output.shape),
        "loss": d.loss.name,
        "seed": SEED,
        "tolerance": TOLERANCE[lib],
        "inputs": [(n, list(t.shape)) for n, t in d.input_tensors.items()],
        "args": ", ".join(names + [last]),
        "call_args": ", ".join(names + [last]),
        "forward": f"{out} = {d.presentation.forward_code[lib]}",
        "forward_code": d.presentation.forward_code[lib],
        "loss_note": f" and L = {out}.{d.loss}()" if d.loss.has_value else "",
        "lines": backward_lines(d, lib),
        "returns": ", ".join(f"grad_{n}" for n in names),
        "proven": "dL/d"
        + ", dL/d".join(f"{n} = {e}" for n, e in d.closed_forms.items())
        + f" (G = dL/d{out}) was proven for every element.",
        "backward_file": f"{stem(d)}_backward_{lib}.py",
    }


def sources(d, lib: str) -> dict[str, str]:
    """File name -> text: the backward module and its validation script."""
    check_library(lib)
    env, context = environment("code"), _context(d, lib)
    return {
        context["backward_file"]: env.get_template("code_backward.py.j2").render(**context),
        f"{stem(d)}_validate_{lib}.py": env.get_template(f"code_validate_{lib}.py.j2").render(**context),
    }


def emit(d, lib: str, out_dir) -> list[Path]:
    texts = sources(d, lib)
    folder = make_folder(out_dir)
    paths = []
    for name, text in texts.items():
        atomic_write(folder / name, text)
        paths.append(folder / name)
    return paths


@dataclass(frozen=True)
class Validation:
    reference: str
    errors: dict
    tolerance: float
    library: str = "torch"  # the library of the code that was run

    @property
    def ok(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    @property
    def figures(self) -> str:
        """The largest absolute difference of each gradient, as text."""
        return ", ".join(f"{e:.1e} for d{n}" for n, e in self.errors.items())

    def __str__(self) -> str:
        worst = ", ".join(f"grad_{n} {e:.2e}" for n, e in self.errors.items())
        verdict = "match" if self.ok else "MISMATCH"
        return f"validated against {self.reference}: max |Δ| {worst}; tolerance {self.tolerance:.0e}: {verdict}"


def _has_code(d, lib: str) -> bool:
    try:
        backward_lines(d, lib)
    except SymgradError:
        return False
    return True


def available_library() -> str:
    """torch when it can be imported, else NumPy."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "numpy"
    return "torch"


def validate(d, lib: str | None = None) -> Validation:
    """Run the generated backward pass and its validation script, in this process: in the library
    asked for, else torch when it is installed, else NumPy where the op has NumPy code."""
    lib = check_library(lib or available_library())
    if lib == "numpy" and not _has_code(d, "numpy"):
        raise SymgradError(
            f"validating {d.op} runs its PyTorch backward code against autograd, and PyTorch is not "
            "installed: pip install torch==2.13.0 (a CPU build), then run the command again"
        )
    texts = list(sources(d, lib).values())
    backward_ns: dict = {"__name__": "symgrad_generated_backward"}
    exec(compile(texts[0], "<generated backward>", "exec"), backward_ns)
    validate_ns: dict = {"__name__": "symgrad_generated_validation"}
    exec(compile(texts[1], "<generated validation>", "exec"), validate_ns)
    result = validate_ns["validate"](backward_ns["backward"])
    return Validation(result["reference"], result["errors"], result["tolerance"], lib)
