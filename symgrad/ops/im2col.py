"""The im2col view of a convolution, as TensorOps proven against the element-wise engine: each
sample's input unfolded into a matrix of kernel-sized patches, so that the forward pass and both
gradients are matrix products, group by group.
"""

from __future__ import annotations

import functools
import itertools

from ..core import poly
from ..core.tensor import PolyTensor, matmul, transpose
from ..core.tensorop import TensorOpBase
from ..network.units.conv2d import _geo


def unfold(X, n, group, geo) -> PolyTensor:
    """im2col of sample n, one group: rows (c, u, v), columns the output positions (i, j)."""
    Ho, Wo = geo.out
    rows: list = []
    plane, entries = geo.H * geo.W, X.entries
    for c, (u, v) in itertools.product(range(geo.Cg), itertools.product(range(geo.kH), range(geo.kW))):
        base = (n * geo.C + group * geo.Cg + c) * plane  # X[n, c', h, w] in the row-major entries
        rows.extend(entries[base + at] if at is not None else {} for at in _reads(geo)[(u, v)])
    return PolyTensor((geo.Cg * geo.kH * geo.kW, Ho * Wo), tuple(rows))


@functools.lru_cache(maxsize=8)
def _reads(geo) -> dict:
    """For each kernel tap, where in an input plane each output position (i, j) reads (h·W + w),
    None in the padding: the same for every sample and channel, so computed once."""
    Ho, Wo = geo.out
    out = {}
    for u, v in itertools.product(range(geo.kH), range(geo.kW)):
        spots = (geo.at(i, j, u, v) for i, j in itertools.product(range(Ho), range(Wo)))
        out[(u, v)] = [None if s is None else s[0] * geo.W + s[1] for s in spots]
    return out


def weight_matrix(W, group, geo) -> PolyTensor:
    """W_mat of one group: rows the group's output channels, columns (c, u, v)."""
    per = geo.Cg * geo.kH * geo.kW  # W is row-major, so output channel o is one run of entries
    return PolyTensor((geo.Og, per), W.entries[group * geo.Og * per : (group + 1) * geo.Og * per])


def output_matrix(G, n, group, geo) -> PolyTensor:
    """G_mat of sample n, one group: rows output channels, columns positions (i, j)."""
    Ho, Wo = geo.out
    return PolyTensor(
        (geo.Og, Ho * Wo),
        tuple(
            G[(n, o, i, j)] for o in range(group * geo.Og, (group + 1) * geo.Og) for i in range(Ho) for j in range(Wo)
        ),
    )


class Im2colForward(TensorOpBase):
    """Y = W_mat · unfold(X) + b, sample by sample and group by group."""

    tensors = 3
    label = "im2col"
    view_name = "im2col"

    def compute(self, X, W, b=None):
        *params, kH, kW = self.params
        N, C, H, Wd = X.shape
        geo = _geo(params, N, C, H, Wd, W.shape[0], kH, kW)
        Ho, Wo = geo.out
        out = {}
        for n, group in itertools.product(range(N), range(geo.groups)):
            product = matmul(weight_matrix(W, group, geo), unfold(X, n, group, geo))
            for r, (i, j) in itertools.product(range(geo.Og), itertools.product(range(Ho), range(Wo))):
                o = group * geo.Og + r
                out[(n, o, i, j)] = poly.add(product[(r, i * Wo + j)], b[(o,)]) if b else product[(r, i * Wo + j)]
        return PolyTensor.build((N, geo.O, Ho, Wo), lambda ix: out[ix])


class Im2colForwardNoBias(Im2colForward):
    """Y = W_mat · unfold(X), for a convolution without bias."""

    tensors = 2


class Im2colWeightGrad(TensorOpBase):
    """dW_mat = Σ_n G_mat[n] · unfold(X[n])ᵀ, reshaped to W's shape."""

    tensors = 2
    label = "im2col_weight"
    view_name = "im2col"

    def compute(self, X, G):
        *params, kH, kW = self.params
        N, C, H, Wd = X.shape
        geo = _geo(params, N, C, H, Wd, G.shape[1], kH, kW, G)
        blocks: list = []
        for group in range(geo.groups):
            parts = [matmul(output_matrix(G, n, group, geo), transpose(unfold(X, n, group, geo))) for n in range(N)]
            blocks.extend(poly.add(*column) for column in zip(*(p.entries for p in parts)))
        return PolyTensor((geo.O, geo.Cg, kH, kW), tuple(blocks))


class Im2colInputGrad(TensorOpBase):
    """dX = fold(W_matᵀ · G_mat): each column of the product is added back where it was unfolded from."""

    tensors = 2
    label = "im2col_input"
    view_name = "im2col"

    def compute(self, G, W):
        *params, H, Wd = self.params
        N, O, Ho, Wo = G.shape
        _, Cg, kH, kW = W.shape
        groups = params[6]
        geo = _geo(params, N, Cg * groups, H, Wd, O, kH, kW, G)
        out: dict = {}
        for n, group in itertools.product(range(N), range(geo.groups)):
            columns = matmul(transpose(weight_matrix(W, group, geo)), output_matrix(G, n, group, geo))
            for r, (c, u, v) in enumerate(itertools.product(range(Cg), range(kH), range(kW))):
                for i, j in itertools.product(range(Ho), range(Wo)):
                    spot = geo.at(i, j, u, v)
                    if spot:
                        poly.add_into(out.setdefault((n, group * Cg + c) + spot, {}), columns[(r, i * Wo + j)])
        return PolyTensor.build((N, geo.C, H, Wd), lambda ix: out.get(ix, {}))
