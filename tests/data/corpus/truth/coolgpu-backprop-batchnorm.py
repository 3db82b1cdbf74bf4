"""Ground truth for coolgpu-backprop-batchnorm.md (BatchNorm -> Sigmoid -> MSE), by hand, checked
at N_c = 2 channels of N_i = 3 elements (so N = N_c N_i = 6 differs from N_i).

dL/dy_{c,k} is kept as a free symbol g_k wherever the post keeps it unexpanded: every gradient
identity of Eqs. 16-29 is then checked for any upstream gradient. In Solution 2 (Eqs. 23-29) the
partials are the post's: y as a function of x, mu and the variance; the variance as a function of
x and mu; each "held fixed" in a partial and then given its value.
"""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

NC, NI = 2, 3
N = NC * NI
x = [list(sp.symbols(f"x{c}_1:{NI + 1}")) for c in range(NC)]
t = [list(sp.symbols(f"t{c}_1:{NI + 1}")) for c in range(NC)]
w = list(sp.symbols(f"w1:{NC + 1}"))
beta = list(sp.symbols(f"beta1:{NC + 1}"))
g = list(sp.symbols(f"g1:{NI + 1}"))  # dL/dy_{c,k} for the channel c = 1 checked below
MU, V = sp.symbols("MU V", positive=True)  # the mean and the variance as free variables (Solution 2)

c, i, k = 0, 0, 1  # channel, the element i, another element k != i
X = x[c]
mu = sum(X) / NI
var = sum((xj - mu) ** 2 for xj in X) / NI
s = sp.sqrt(var)
y = [w[c] * (xj - mu) / s + beta[c] for xj in X]
found = {}

# Eqs. 1-10: the definitions (1-9) and the general statement of the chain rule (10)
for eq in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
    found[f"{eq}:1"] = True
# Eq. 11: the chain rule through M functions, at M = 2 (f1 = a b, f2 = a + b of x1, x2)
a, b = sp.symbols("a b")
f1, f2 = a * b, a + b
u1, u2 = sp.symbols("u1 u2")
Lexpr = u1**2 * u2 + sp.sin(u2)
total = sp.diff(Lexpr.subs({u1: f1, u2: f2}), a)
paths = (sp.diff(Lexpr, u1) * sp.diff(f1, a) + sp.diff(Lexpr, u2) * sp.diff(f2, a)).subs({u1: f1, u2: f2})
found["11:1"] = agree(total, paths)
found["11:2"] = True  # the same sum written with the summation sign

# Eq. 12: the loss over all channels
zs = [[sp.Symbol(f"z{cc}_{j}") for j in range(NI)] for cc in range(NC)]
Lz = sum((zs[cc][j] - t[cc][j]) ** 2 for cc in range(NC) for j in range(NI)) / N
found["12:1"] = agree(sp.diff(Lz, zs[c][i]), sp.Rational(2, N) * (zs[c][i] - t[c][i]))
# Eq. 13: the sigmoid
Y = sp.Symbol("Y")
zY = 1 / (1 + sp.exp(-Y))
e13 = [
    sp.diff(zY, Y),
    sp.exp(-Y) / (1 + sp.exp(-Y)) ** 2,
    1 / (1 + sp.exp(-Y)) * (1 - (1 - sp.exp(-Y))) / (1 + sp.exp(-Y)),
    zY * (1 - zY),
]
for n in range(3):
    found[f"13:{n + 1}"] = agree(e13[n], e13[n + 1])
# Eq. 14: one path from y to L (dL/dz kept as a symbol)
dLdz = sp.Symbol("dLdz")
found["14:1"] = agree(dLdz * sp.diff(zY, Y), dLdz * sp.diff(zY, Y))
found["14:2"] = agree(dLdz * sp.diff(zY, Y), dLdz * zY * (1 - zY))
# Eqs. 15-18: scale and shift
found["15:1"] = agree(sp.diff(y[i], w[c]), (X[i] - mu) / s)
found["15:2"] = agree((X[i] - mu) / s, (y[i] - beta[c]) / w[c])
dLdw = sum(g[j] * sp.diff(y[j], w[c]) for j in range(NI))
found["16:1"] = agree(dLdw, sum(g[j] * sp.diff(y[j], w[c]) for j in range(NI)))
found["16:2"] = agree(dLdw, sum(g[j] * (y[j] - beta[c]) / w[c] for j in range(NI)))
found["17:1"] = agree(sp.diff(y[i], beta[c]), 1)
dLdb = sum(g[j] * sp.diff(y[j], beta[c]) for j in range(NI))
for n in range(3):
    found[f"18:{n + 1}"] = agree(dLdb, sum(g))


# Solution 1, Eqs. 19-22: total derivatives of y with respect to x
def dy(kk, ii):
    return sp.diff(y[kk], X[ii])


dLdx = sum(g[j] * dy(j, i) for j in range(NI))
found["19:1"] = True  # the chain rule over the channel's y, as written
found["19:2"] = agree(dLdx, g[i] * dy(i, i) + sum(g[j] * dy(j, i) for j in range(NI) if j != i))
ds = sp.diff(s, X[i])
e20 = [
    dy(i, i),
    w[c] * (s * sp.diff(X[i] - mu, X[i]) - (X[i] - mu) * ds) / var,
    w[c] * (sp.Rational(NI - 1, NI) * s - (X[i] - mu) * sp.Rational(1, 2) / s * 2 * (X[i] - mu) / NI) / var,
    w[c] * ((NI - 1) * var - (X[i] - mu) ** 2) / (NI * s**3),
]
for n in range(3):
    found[f"20:{n + 1}"] = agree(e20[n], e20[n + 1])
e21 = [
    dy(k, i),
    w[c] * (s * sp.diff(X[k] - mu, X[i]) - (X[k] - mu) * ds) / var,
    # as published: (x_{c,i} - mu_c) where the quotient rule has (x_{c,k} - mu_c)
    w[c] * (s * (-sp.Rational(1, NI)) - (X[i] - mu) * sp.Rational(1, 2) / s * 2 * (X[i] - mu) / NI) / var,
    -w[c] * (var + (X[i] - mu) * (X[k] - mu)) / (NI * s**3),
]
for n in range(3):
    found[f"21:{n + 1}"] = agree(e21[n], e21[n + 1])
assert agree(e21[0], e21[3])  # the first and last lines are right
others = [j for j in range(NI) if j != i]
e22 = [
    dLdx,
    g[i] * w[c] * ((NI - 1) * var - (X[i] - mu) ** 2) / (NI * s**3)
    - sum(g[j] * w[c] * (var + (X[i] - mu) * (X[j] - mu)) / (NI * s**3) for j in others),
    # as published: the second term has no w_c
    (1 - sp.Rational(1, NI)) * w[c] / s * g[i]
    - (X[i] - mu) ** 2 / (NI * s**3) * g[i]
    - w[c] / (NI * s) * sum(g[j] for j in others)
    - w[c] * (X[i] - mu) / (NI * s**3) * sum((X[j] - mu) * g[j] for j in others),
    w[c] / s * g[i]
    - w[c] / (NI * s) * g[i]
    - w[c] * (X[i] - mu) ** 2 / (NI * s**3) * g[i]
    - w[c] / (NI * s) * sum(g[j] for j in others)
    - w[c] * (X[i] - mu) / (NI * s**3) * sum((X[j] - mu) * g[j] for j in others),
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - w[c] * (X[i] - mu) / (NI * s**3 * w[c]) * sum(w[c] * (X[j] - mu) * g[j] for j in range(NI)),
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - (y[i] - beta[c]) / (NI * s * w[c]) * sum((y[j] - beta[c]) * g[j] for j in range(NI)),
]
assert agree(e22[1], e22[3])  # the lines around the second agree
for n in range(5):
    found[f"22:{n + 1}"] = agree(e22[n], e22[n + 1])

# Solution 2, Eqs. 23-29: y(x, MU, V), V(x, MU), each partial then evaluated at the true values
at = {MU: mu, V: var}
Y2 = [w[c] * (xj - MU) / sp.sqrt(V) + beta[c] for xj in X]
V2 = sum((xj - MU) ** 2 for xj in X) / NI
dLdV = sum(g[j] * sp.diff(Y2[j], V) for j in range(NI))
dLdMU = sum(g[j] * sp.diff(Y2[j], MU) for j in range(NI)) + dLdV * sp.diff(V2, MU)
sol2 = g[i] * sp.diff(Y2[i], X[i]) + dLdMU * sp.Rational(1, NI) + dLdV * sp.diff(V2, X[i])
found["23:1"] = agree(sol2.subs(at), dLdx)
found["24:1"] = agree(sp.diff(Y2[i], X[i]).subs(at), w[c] / s)
e25 = [
    dLdMU,
    dLdMU,
    sum(g[j] * sp.diff(Y2[j], MU) for j in range(NI)) + dLdV * sp.diff(sum((xj - MU) ** 2 for xj in X) / N, MU),
    -sum(g[j] * w[c] / sp.sqrt(V) for j in range(NI))
    + dLdV * sp.Rational(1, NI) * sum(sp.diff((xj - MU) ** 2, MU) for xj in X),
    -w[c] / sp.sqrt(V) * sum(g) + dLdV * sp.Rational(1, NI) * sum(2 * (MU - xj) for xj in X),
    -w[c] / sp.sqrt(V) * sum(g) + dLdV * 2 * (sum(MU for _ in X) / NI - sum(X) / NI),
    -w[c] / sp.sqrt(V) * sum(g) + dLdV * 2 * (mu - mu),
    -w[c] / sp.sqrt(V) * sum(g) + 0,
]
for n in range(7):
    found[f"25:{n + 1}"] = agree(e25[n].subs(at), e25[n + 1].subs(at))
found["26:1"] = agree(sp.diff(mu, X[i]), sp.Rational(1, NI))
e27 = [
    dLdV,
    sum(g[j] * sp.diff(Y2[j], V) for j in range(NI)),
    sum(g[j] * sp.diff(w[c] * (X[j] - MU) / sp.sqrt(V) + beta[c], V) for j in range(NI)),
    sum(g[j] * w[c] * (X[j] - MU) * sp.diff(1 / sp.sqrt(V), V) for j in range(NI)),
    sum(g[j] * w[c] * (X[j] - MU) * (-sp.Rational(1, 2) / sp.sqrt(V) ** 3) for j in range(NI)),
    -sp.Rational(1, 2) * sum(g[j] * w[c] * (X[j] - MU) / sp.sqrt(V) ** 3 for j in range(NI)),
]
for n in range(5):
    found[f"27:{n + 1}"] = agree(e27[n].subs(at), e27[n + 1].subs(at))
# Eq. 28 as published writes 1/N (N = N_c N_i, Eq. 9) inside the derivative, for 1/N_i
e28 = [sp.diff(V2, X[i]), sp.diff(sum((xj - MU) ** 2 for xj in X) / N, X[i]), 2 * (X[i] - MU) / NI]
found["28:1"] = agree(e28[0].subs(at), e28[1].subs(at))
found["28:2"] = agree(e28[1].subs(at), e28[2].subs(at))
assert agree(e28[0].subs(at), e28[2].subs(at))
dLdMUv = -w[c] / s * sum(g)
dLdVv = -sp.Rational(1, 2) * sum(g[j] * w[c] * (X[j] - mu) / s**3 for j in range(NI))
e29 = [
    dLdx,
    sol2.subs(at),
    g[i] * w[c] / s + dLdMUv / NI + dLdVv * 2 * (X[i] - mu) / NI,
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - (1 / (NI * s) * (X[i] - mu) / s * sum(g[j] * w[c] * (X[j] - mu) / s for j in range(NI))),
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - (1 / (NI * s) * w[c] / w[c] * (X[i] - mu) / s * sum(g[j] * w[c] * (X[j] - mu) / s for j in range(NI))),
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - ((y[i] - beta[c]) / (NI * w[c] * s) * sum(g[j] * (y[j] - beta[c]) for j in range(NI))),
    w[c] / s * g[i]
    - w[c] / (NI * s) * sum(g)
    - (y[i] - beta[c]) / (NI * w[c] * s) * sum((y[j] - beta[c]) * g[j] for j in range(NI)),
]
for n in range(6):
    found[f"29:{n + 1}"] = agree(e29[n], e29[n + 1])

finish(
    found,
    " ".join(
        f"{eq}:{n}"
        for eq, count in [
            (1, 1),
            (2, 1),
            (3, 1),
            (4, 1),
            (5, 1),
            (6, 1),
            (7, 1),
            (8, 1),
            (9, 1),
            (10, 1),
            (11, 2),
            (12, 1),
            (13, 3),
            (14, 2),
            (15, 2),
            (16, 2),
            (17, 1),
            (18, 3),
            (19, 2),
            (20, 3),
            (21, 3),
            (22, 5),
            (23, 1),
            (24, 1),
            (25, 7),
            (26, 1),
            (27, 5),
            (28, 2),
            (29, 6),
        ]
        for n in range(1, count + 1)
    ),
    false="21:2 21:3 22:2 22:3 28:1 28:2",
)
