"""Shared helpers: real-tool availability, and the oracle values written out by hand."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI") == "true"

# Each test worker has a core of its own: PyTorch's thread pool (and the processes the tests start,
# which inherit this) would otherwise put two threads on it, spinning while they wait, and the
# other worker's tests would wait on them. Set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def require(what: str, available: bool, how: str) -> None:
    """Skip with a visible reason when a checker is missing; in CI a missing checker fails."""
    if available:
        return
    message = f"{what} is not installed ({how})"
    if IN_CI:
        pytest.fail(message + "; CI must install it")
    pytest.skip(message)


def require_program(name: str, how: str) -> str:
    path = shutil.which(name)
    require(name, path is not None, how)
    return path


def require_torch():
    try:
        import torch
    except ImportError:
        torch = None
    require("torch", torch is not None, "pip install torch==2.13.0")
    return torch
