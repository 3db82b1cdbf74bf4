"""The collection view of a transposed convolution, as TensorOps proven against the element-wise
engine: the input with zeros inserted and padded, convolved with the flipped kernel; and the bias
broadcast that the duality view adds to conv2d's input gradient.
"""

from __future__ import annotations

import itertools

from ..core import poly
from ..core.tensor import PolyTensor
from ..core.tensorop import TensorOpBase


class Collection(TensorOpBase):
    """The collection view of the forward pass: X with s − 1 zeros between its elements, padded by
    d·(k − 1) − p (and the output padding after), then a stride-1 convolution with the flipped kernel.
    The padded tensor is built explicitly; a negative padding crops."""

    tensors = 3
    label = "collection"
    view_name = "collection"

    def describe(self):
        sH, sW, _pH, _pW, dH, dW, groups, _opH, _opW = self.params
        return [
            ("zeros between", (sH - 1, sW - 1)),
            ("flipped kernel", None),
            ("stride", (1, 1)),
            ("dilation", (dH, dW)),
            ("groups", groups),
        ]

    def compute(self, X, W, b=None):
        sH, sW, pH, pW, dH, dW, groups, opH, opW = self.params
        N, C, H, Wd = X.shape
        _, Og, kH, kW = W.shape
        O, Cg = Og * groups, C // groups
        lead = (dH * (kH - 1) - pH, dW * (kW - 1) - pW)  # zeros before the first element (negative: cropped)
        size = ((H - 1) * sH + 1 + 2 * lead[0] + opH, (Wd - 1) * sW + 1 + 2 * lead[1] + opW)

        def stretched(n, c, a, e):
            """The zero-inserted, padded input at (a, e)."""
            a, e = a - lead[0], e - lead[1]
            if a < 0 or e < 0 or a % sH or e % sW or a // sH >= H or e // sW >= Wd:
                return {}
            return X[(n, c, a // sH, e // sW)]

        Ho, Wo = size[0] - dH * (kH - 1), size[1] - dW * (kW - 1)
        out = []
        for n, o, h, w in itertools.product(range(N), range(O), range(Ho), range(Wo)):
            acc: dict = {}
            group, oo = divmod(o, Og)
            for c in range(group * Cg, (group + 1) * Cg):
                for u, v in itertools.product(range(kH), range(kW)):
                    z = stretched(n, c, h + u * dH, w + v * dW)
                    if z:
                        poly.mul_into(acc, z, W[(c, oo, kH - 1 - u, kW - 1 - v)])  # the flipped kernel
            entry = {m: k for m, k in acc.items() if k}
            out.append(poly.add(entry, b[(o,)]) if b is not None else entry)
        return PolyTensor((N, O, Ho, Wo), tuple(out))


class CollectionNoBias(Collection):
    tensors = 2


class BiasBroadcast(TensorOpBase):
    """The bias b added at every position of an N×O×H×W output."""

    tensors = 1
    label = "broadcast"

    def compute(self, b):
        N, O, H, W = self.params
        return PolyTensor.build((N, O, H, W), lambda ix: b[(ix[1],)])
