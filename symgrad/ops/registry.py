"""The op registry. Every op module ends with an ``OpSpec``; this module lists them, and the command
line, the gallery and ``symgrad.testing`` iterate it instead of naming ops."""

from __future__ import annotations

from . import conv2d, conv_transpose2d, matmul
from .spec import OpSpec

REGISTRY: dict[str, OpSpec] = {spec.name: spec for spec in (matmul.SPEC, conv2d.SPEC, conv_transpose2d.SPEC)}
