"""Backward code, written from each layer's closed forms, and its check against autograd.

There is one source of code: the unit of every layer writes its forward call and its share of the
gradient of each tensor it reads (``torch_forward`` and ``torch_backward``; ``numpy_forward`` and
``numpy_backward`` where a layer has NumPy code, the matrix product). Two layouts use it:

- an op preset (matmul, conv2d, conv_transpose2d) is a one-layer network: its backward pass is the
  loss's upstream line and the layer's shares, in the reference's style (``grad_A =
  grad_C.mm(B.t())``); ``emit`` writes it as a module with a standalone validation script
  (autograd for torch, central finite differences for NumPy);
- a network's code is its forward lines, then every layer's shares from the loss back, added up
  (``sum_to_size`` undoes broadcasting), in one module with ``forward_backward``.

``validate`` runs the very text ``emit`` writes, in this process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.errors import SymgradError
from ..network.lemmas import LEMMAS
from .codelines import backward_lines, check_library, forward_call, forward_lines, is_network, network_library, op_layer
from .documents import environment
from .writer import atomic_write, make_folder, stem

TOLERANCE = {"torch": 1e-10, "numpy": 1e-6}
NETWORK_TOLERANCE = 1e-9  # a network's exp, log and divisions round more than one product does
SEED = 0
NEEDED = {
    "torch": "validating runs the generated code against PyTorch's autograd, and PyTorch is not installed: "
    "pip install torch==2.13.0 (a CPU build), or pip install 'symgrad[torch]', then run the command again",
    "numpy": "validating the NumPy code compares it with finite differences in NumPy, which is not installed: "
    "pip install numpy, then run the command again",
}


def require(lib: str) -> None:
    """One line naming what to install when the library a validation runs in cannot be imported."""
    try:
        if check_library(lib) == "torch":
            import torch  # noqa: F401
        else:
            import numpy  # noqa: F401
    except ImportError:
        raise SymgradError(NEEDED[lib]) from None


# --- the files -------------------------------------------------------------------------------------


def _op_context(d, lib: str) -> dict:
    names = list(d.input_tensors)
    out = d.output.name
    last = out if d.loss.has_value else f"grad_{out}"
    forward = forward_call(d.graph, op_layer(d), lib)
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
        "forward": f"{out} = {forward}",
        "forward_code": forward,
        "loss_note": f" and L = {out}.{d.loss}()" if d.loss.has_value else "",
        "lines": backward_lines(d, lib),
        "returns": ", ".join(f"grad_{n}" for n in names),
        "proven": "dL/d"
        + ", dL/d".join(f"{n} = {e}" for n, e in d.claims.items())
        + f" (G = dL/d{out}) was proven for every element.",
        "backward_file": f"{stem(d)}_backward_{lib}.py",
    }


def _network_module(d) -> str:
    return "\n".join(
        [
            # the function's name as a string literal: whatever it holds, it cannot end the docstring
            '"""The forward and backward passes of a network, written by symgrad from the proven closed forms."""',
            f"NETWORK = {d.function!r}",
            "",
            "import torch",
            "",
            "",
            f"def forward_backward({', '.join(d.graph.inputs)}):",
            *(f"    {line}" for line in forward_lines(d)),
            *(f"    {line}" for line in backward_lines(d)),
            f"    return {d.loss_name}, {{{', '.join(f'{n!r}: g_{n}' for n in d.wrt)}}}",
            "",
        ]
    )


def sources(d, lib: str = "torch") -> dict[str, str]:
    """File name -> text. An op: its backward module and its validation script; a network: the
    module of its forward and backward passes. A layer without code in the library is refused
    here, before anything is written."""
    if is_network(d):
        network_library(lib)
        return {f"{stem(d)}_backward.py": _network_module(d)}
    env, context = environment("code"), _op_context(d, check_library(lib))
    return {
        context["backward_file"]: env.get_template("code_backward.py.j2").render(**context),
        f"{stem(d)}_validate_{lib}.py": env.get_template(f"code_validate_{lib}.py.j2").render(**context),
    }


def emit(d, lib: str, out_dir) -> list[Path]:
    texts = sources(d, lib)  # every text made before the folder is touched
    folder = make_folder(out_dir)
    paths = []
    for name, text in texts.items():
        atomic_write(folder / name, text)
        paths.append(folder / name)
    return paths


# --- the check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validation:
    reference: str
    errors: dict  # input name -> largest absolute difference of its gradient
    tolerance: float
    library: str = "torch"  # the library of the code that was run
    failure: str = ""  # what the generated code raised, when it did not run through

    @property
    def ok(self) -> bool:
        return not self.failure and all(e <= self.tolerance for e in self.errors.values())

    @property
    def figures(self) -> str:
        """The largest absolute difference of each gradient, as text."""
        if self.failure:
            return f"none, as the code raised {self.failure}"
        return ", ".join(f"{e:.1e} for d{n}" for n, e in self.errors.items())

    def __str__(self) -> str:
        if self.failure:
            return f"validation against {self.reference}: the generated code raised {self.failure}: MISMATCH"
        worst = ", ".join(f"grad_{n} {e:.2e}" for n, e in self.errors.items())
        verdict = "match" if self.ok else "MISMATCH"
        return f"validated against {self.reference}: max |Δ| {worst}; tolerance {self.tolerance:.0e}: {verdict}"


REFERENCE = {"torch": "PyTorch autograd", "numpy": "NumPy central finite differences"}


def validate(d, lib: str = "torch") -> Validation:
    """Run the generated code, as ``emit`` writes it, in this process on seeded random float64
    values: an op's backward module through its validation script (PyTorch's autograd, or NumPy's
    finite differences for lib="numpy"), a network's module against autograd. Code that raises is
    a failed validation, not a crash: it is the code under test."""
    texts = sources(d, lib)
    require(lib)
    network = is_network(d)
    try:
        return _validate_network(d, next(iter(texts.values()))) if network else _validate_op(texts, lib)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        tolerance = NETWORK_TOLERANCE if network else TOLERANCE[lib]
        return Validation(REFERENCE[lib], {}, tolerance, lib, failure=f"{type(exc).__name__} ({first})")


def _validate_op(texts: dict, lib: str) -> Validation:
    backward, script = texts.values()
    backward_ns: dict = {"__name__": "symgrad_generated_backward"}
    exec(compile(backward, "<generated backward>", "exec"), backward_ns)
    validate_ns: dict = {"__name__": "symgrad_generated_validation"}
    exec(compile(script, "<generated validation>", "exec"), validate_ns)
    result = validate_ns["validate"](backward_ns["backward"])
    return Validation(result["reference"], result["errors"], result["tolerance"], lib)


def _validate_network(d, module: str) -> Validation:
    import torch

    gen = torch.Generator().manual_seed(SEED)
    values = {}
    for name in d.graph.inputs:
        value = torch.randn(tuple(d.graph.tensors[name].shape), generator=gen, dtype=torch.float64)
        if name in d.graph.scalars or any(
            a.argument in d.graph.tensors[name].ids
            for a in d.graph.atoms.values()
            if LEMMAS[a.lemma].variable().is_positive
        ):
            value = value.abs() + 0.5  # the domain of a logarithm or a root; a symbolic eps is positive
        values[name] = value.requires_grad_(name in d.wrt)
    namespace: dict = {"__name__": "symgrad_generated_network"}
    exec(compile(module, "<generated network>", "exec"), namespace)
    loss, ours = namespace["forward_backward"](**values)
    loss.backward()
    errors = {}
    for name in d.wrt:
        theirs = values[name].grad
        if theirs is None:  # an input the loss does not read has no autograd gradient: it is zero
            theirs = torch.zeros_like(values[name])
        mine = ours[name].detach()  # a gradient of the wrong shape is wrong, whatever broadcasting makes of it
        errors[name] = float("inf") if mine.shape != theirs.shape else float((mine - theirs).abs().max())
    return Validation(f"PyTorch {torch.__version__} autograd", errors, NETWORK_TOLERANCE)
