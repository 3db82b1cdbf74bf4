"""The im2col view of a convolution, as TensorOps proven against the element-wise engine: each
sample's input unfolded into a matrix of kernel-sized patches, so that the forward pass and both
gradients are matrix products, group by group.
"""

from __future__ import annotations

import functools
import itertools

from ..core import packedpoly, poly
from ..core.tensor import PolyTensor, matmul, single_variables, transpose
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


# --- the same operations on tensors of symbols, packed (``core.packedpoly``), for large layers ----


def _symbols(*tensors) -> list | None:
    """Each tensor's variables, when every one is a tensor of symbols; else None."""
    found = [single_variables(t) for t in tensors]
    return None if any(v is None for v in found) else found


def _unfolded(xs, n: int, group: int, geo):
    """unfold(X) of sample n, one group, as an array of variable ids, -1 in the padding."""
    np = packedpoly.np
    reads = np.array([_reads(geo)[tap] for tap in itertools.product(range(geo.kH), range(geo.kW))], dtype=object)
    reads = np.where(reads == None, -1, reads).astype(np.int64)  # noqa: E711 - an object array's padding
    channel = (n * geo.C + group * geo.Cg + np.arange(geo.Cg)) * (geo.H * geo.W)
    spots = reads[None] + channel[:, None, None]  # (c, tap, column)
    return np.where(reads[None] >= 0, xs[spots], -1).reshape(geo.Cg * geo.kH * geo.kW, -1)


def _row_terms(left_row, right):
    """The terms of one row of a product left · right of variable ids (-1 a zero entry): for each
    column, left[t]·right[t, column] over every t where both are variables."""
    np = packedpoly.np
    # column by column, each column's terms in the order of t: for unfolded inputs that is the
    # order of their keys, so the sort that follows finds them in order
    column, t = np.nonzero(((left_row[:, None] >= 0) & (right >= 0)).T)
    return column, left_row[t], right[t, column]


def _packed_forward(geo, xi, wi, bi):
    np = packedpoly.np
    Ho, Wo = geo.out
    xs, ws = np.asarray(xi, np.int64), np.asarray(wi, np.int64).reshape(geo.O, -1)

    def parts():
        for n, group in itertools.product(range(geo.N), range(geo.groups)):
            unfolded = _unfolded(xs, n, group, geo)
            for r in range(geo.Og):  # W_mat · unfold(X), row by row: output channel o's entries
                o = group * geo.Og + r
                base = (n * geo.O + o) * Ho * Wo
                column, a, b = _row_terms(ws[o], unfolded)
                if bi is not None:
                    column = np.concatenate((column, np.arange(Ho * Wo)))
                    a = np.concatenate((a, np.full(Ho * Wo, bi[o], np.int64)))
                    b = np.concatenate((b, np.full(Ho * Wo, -1, np.int64)))
                yield column + base, a, b

    largest = max(max(xi), max(wi), *(bi or ()))
    size = geo.N * geo.O * Ho * Wo
    return packedpoly.build((geo.N, geo.O, Ho, Wo), parts(), packedpoly.top_for(largest, size))


def _packed_weight(geo, xi, gi):
    np = packedpoly.np
    Ho, Wo = geo.out
    per = geo.Cg * geo.kH * geo.kW
    xs, gs = np.asarray(xi, np.int64), np.asarray(gi, np.int64).reshape(geo.N, geo.O, Ho * Wo)

    def parts():
        for group in range(geo.groups):
            unfolded = [_unfolded(xs, n, group, geo).T for n in range(geo.N)]
            for o in range(group * geo.Og, (group + 1) * geo.Og):  # Σ_n G_mat[n] · unfold(X[n])ᵀ, row by row
                found = [_row_terms(gs[n, o], unfolded[n]) for n in range(geo.N)]
                yield tuple(np.concatenate(v) for v in zip(*found))  # row o: its entries o·per + column

    largest = max(max(xi), max(gi))
    return packedpoly.build(
        (geo.O, geo.Cg, geo.kH, geo.kW), _shifted(parts(), per), packedpoly.top_for(largest, geo.O * per)
    )


def _shifted(parts, per: int):
    """Row k's columns as the entries k·per + column."""
    for k, (column, a, b) in enumerate(parts):
        yield column + k * per, a, b


def _packed_input(geo, gi, wi):
    np = packedpoly.np
    Ho, Wo = geo.out
    plane = geo.H * geo.W
    gs, ws = np.asarray(gi, np.int64).reshape(geo.N, geo.O, Ho * Wo), np.asarray(wi, np.int64).reshape(geo.O, -1)
    reads = np.array([_reads(geo)[tap] for tap in itertools.product(range(geo.kH), range(geo.kW))], dtype=object)
    reads = np.where(reads == None, -1, reads).astype(np.int64)  # noqa: E711 - an object array's padding

    def parts():
        yield None  # fold adds columns into overlapping entries: sorted together
        for n, group in itertools.product(range(geo.N), range(geo.groups)):
            w_t = ws[group * geo.Og : (group + 1) * geo.Og].T  # W_matᵀ: rows (c, u, v)
            g_mat = gs[n, group * geo.Og : (group + 1) * geo.Og]
            for r in range(w_t.shape[0]):  # W_matᵀ · G_mat, row by row, folded back onto X
                c, tap = divmod(r, geo.kH * geo.kW)
                column, a, b = _row_terms(w_t[r], g_mat)
                spot = reads[tap][column]
                kept = spot >= 0
                channel = n * geo.C + group * geo.Cg + c
                yield channel * plane + spot[kept], a[kept], b[kept]

    largest = max(max(gi), max(wi))
    size = geo.N * geo.C * plane
    return packedpoly.build((geo.N, geo.C, geo.H, geo.W), parts(), packedpoly.top_for(largest, size))


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
        found = _symbols(X, W, *(() if b is None else (b,)))
        if found is not None and packedpoly.wanted(N * geo.O * Ho * Wo * geo.Cg * kH * kW):
            packed = _packed_forward(geo, found[0], found[1], found[2] if b is not None else None)
            if packed is not None:  # else too many variables to pack: the dicts
                return packed
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
        found = _symbols(X, G)
        if found is not None and packedpoly.wanted(N * geo.O * G.shape[2] * G.shape[3] * geo.Cg * kH * kW):
            packed = _packed_weight(geo, *found)
            if packed is not None:  # else too many variables to pack: the dicts
                return packed
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
        found = _symbols(G, W)
        if found is not None and packedpoly.wanted(N * O * Ho * Wo * Cg * kH * kW):
            packed = _packed_input(geo, *found)
            if packed is not None:  # else too many variables to pack: the dicts
                return packed
        out: dict = {}
        for n, group in itertools.product(range(N), range(geo.groups)):
            columns = matmul(transpose(weight_matrix(W, group, geo)), output_matrix(G, n, group, geo))
            for r, (c, u, v) in enumerate(itertools.product(range(Cg), range(kH), range(kW))):
                for i, j in itertools.product(range(Ho), range(Wo)):
                    spot = geo.at(i, j, u, v)
                    if spot:
                        poly.add_into(out.setdefault((n, group * Cg + c) + spot, {}), columns[(r, i * Wo + j)])
        return PolyTensor.build((N, geo.C, H, Wd), lambda ix: out.get(ix, {}))
