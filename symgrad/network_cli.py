"""The command line's network path: load a forward function from a file, read shapes and picks,
derive."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from .core.errors import SymgradError


def load_function(target: str):
    """path/to/model.py:function, imported as a module of its own."""
    path, _, name = target.rpartition(":")
    if not path or not name.isidentifier():
        raise SymgradError(f"the forward function is given as path/to/model.py:function, got {target!r}")
    file = Path(path)
    if not file.is_file() or file.suffix != ".py":
        raise SymgradError(f"no Python file at {path}")
    spec = importlib.util.spec_from_file_location(f"symgrad_model_{file.stem}", file)
    if spec is None or spec.loader is None:
        raise SymgradError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except SymgradError:
        raise
    except Exception as exc:  # the user's file: any failure becomes one line
        raise SymgradError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise SymgradError(f"{path} has no function {name!r}")
    return fn


def _pairs(items: list, what: str, pattern: str, split: str) -> dict:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.isidentifier() or not re.fullmatch(pattern, value):
            raise SymgradError(f"--{what} takes NAME={'AxBx...' if split == 'x' else 'I,J,...'}, got {item!r}")
        if name in out:
            raise SymgradError(f"--{what} gives {name} twice")
        out[name] = tuple(int(v) for v in value.split(split))
    return out


def derive_network(args):
    from .network.derivation import derive_network as derive

    fn = load_function(args.target)
    shapes = _pairs(args.shape, "shape", r"[0-9]{1,6}(x[0-9]{1,6})*", "x")
    picks = _pairs(args.pick, "pick", r"[0-9]{1,6}(,[0-9]{1,6})*", ",")
    wrt = None if args.wrt is None else tuple(w.strip() for w in args.wrt.split(",") if w.strip())
    return derive(fn, wrt=wrt, loss=args.loss, max_terms=args.max_terms, picks=picks, **shapes)


def equivalent_forms(d, name: str, form_a: str, form_b: str) -> int:
    """Print whether two forms of dL/d(name) are equal; exit status 0 when proven, 1 otherwise."""
    from .prove.network import equivalent

    proof = equivalent(d, name, form_a, form_b)
    if proof.ok:
        print(f"proven: the two forms of dL/d{name} are equal at every element ({proof.elements})")
    else:
        print(proof)
    return 0 if proof.ok else 1
