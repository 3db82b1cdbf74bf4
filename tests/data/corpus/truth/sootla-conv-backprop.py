"""Ground truth for sootla-conv-backprop.md, by hand: one sample, a 3 x 3 input of D = 2 channels,
two 2 x 2 x 2 kernels (stride 1, indices from 1 as in the post), a polynomial loss of the outputs
and a polynomial activation (so every check is exact)."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

H, K, D, F = 3, 2, 2, 2
O = H - K + 1
x = {(i, j, d): sp.Symbol(f"x{i}{j}{d}") for i in range(1, H + 1) for j in range(1, H + 1) for d in range(1, D + 1)}
w = {
    (f, m, n, d): sp.Symbol(f"w{f}{m}{n}{d}")
    for f in range(1, F + 1)
    for m in range(1, K + 1)
    for n in range(1, K + 1)
    for d in range(1, D + 1)
}
bias = {f: sp.Symbol(f"c{f}") for f in range(1, F + 1)}


def z(i, j, f):  # the forward pass (the width index read apart from the sample index)
    return (
        sum(
            x[i + m - 1, j + n - 1, d] * w[f, m, n, d]
            for m in range(1, K + 1)
            for n in range(1, K + 1)
            for d in range(1, D + 1)
        )
        + bias[f]
    )


zs = {(i, j, f): sp.Symbol(f"z{i}{j}{f}") for i in range(1, O + 1) for j in range(1, O + 1) for f in range(1, F + 1)}
Lz = sum((n + 1) * v**2 for n, v in enumerate(zs.values())) + zs[1, 1, 1] * zs[2, 2, 2]
at = {v: z(*key) for key, v in zs.items()}
L = Lz.subs(at)


def dLdz(i, j, f):  # dL/dz^{l+1}, 0 outside the output map
    return sp.diff(Lz, zs[i, j, f]).subs(at) if (i, j, f) in zs else 0


found = {"#1:1": True}
f, i, j, c = 2, 1, 2, 1
found["#2:1"] = agree(
    sp.diff(L, w[f, i, j, c]),
    sum(dLdz(a, b, f) * sp.diff(z(a, b, f), w[f, i, j, c]) for a in range(1, O + 1) for b in range(1, O + 1)),
)
for i, j, f in [(2, 2, 1), (1, 3, 2)]:
    target = sp.diff(L, x[i, j, f])
    terms = [(m, n, d) for m in range(1, K + 1) for n in range(1, K + 1) for d in range(1, F + 1)]
    inside = [(m, n, d) for m, n, d in terms if (i - m + 1, j - n + 1, d) in zs]
    l1 = sum(dLdz(i - m + 1, j - n + 1, d) * sp.diff(z(i - m + 1, j - n + 1, d), x[i, j, f]) for m, n, d in inside)
    l3 = sum(dLdz(i - m + 1, j - n + 1, d) * 1 * w[d, m, n, f] for m, n, d in inside)  # the c = f term
    found["#3:1"] = found.get("#3:1", True) and agree(target, l1)
    found["#4:1"] = found.get("#4:1", True) and agree(target, l1)
    found["#4:2"] = found.get("#4:2", True) and agree(l1, l3)
    found["#4:3"] = found.get("#4:3", True) and agree(l3, l3)
# through an activation x = g(u) = u^3 + u of the layer's pre-activation u
u = sp.Symbol("u")
g = u**3 + u
i, j, f = 2, 2, 1
Lu = L.subs(x[i, j, f], g)
upstream = sp.diff(L, x[i, j, f]).subs(x[i, j, f], g)
found["#5:1"] = agree(sp.diff(Lu, u), upstream * sp.diff(g, u))
found["#5:2"] = agree(upstream * sp.diff(g, u), sp.diff(g, u) * upstream)
a, b, f, i, j, c = 2, 1, 1, 2, 1, 2
e6 = [
    sp.diff(z(a, b, f), w[f, i, j, c]),
    sp.diff(z(a, b, f), w[f, i, j, c]),
    sp.diff(x[a + i - 1, b + j - 1, c] * w[f, i, j, c], w[f, i, j, c]),
    x[a + i - 1, b + j - 1, c],
]
for n in range(3):
    found[f"#6:{n + 1}"] = agree(e6[n], e6[n + 1])
f, i, j, c = 1, 2, 2, 2
found["#7:1"] = agree(
    sp.diff(L, w[f, i, j, c]),
    sum(dLdz(a, b, f) * x[a + i - 1, b + j - 1, c] for a in range(1, O + 1) for b in range(1, O + 1)),
)
finish(found, "#1:1 #2:1 #3:1 #4:1 #4:2 #4:3 #5:1 #5:2 #6:1 #6:2 #6:3 #7:1")
