"""Ground truth for liorsinai-layernorm.md, at n = 3, by hand from the definitions (epsilon > 0)."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

n = 3
x = sp.symbols("x1:4")
eps = sp.Rational(1, 10)
a, b = sp.symbols("a b")
mu = sum(x) / n
sigma = sp.sqrt(sum((xr - mu) ** 2 for xr in x) / n)
z = [(xk - mu) / (sigma + eps) for xk in x]  # no trainable parameters (a = 1, b = 0)
za = [a * (xk - mu) / (sigma + eps) + b for xk in x]
found = {"#1:1": True, "#2:1": True, "#2:2": True, "#5:1": True, "#7:1": True}  # definitions


def delta(i, k):
    return 1 if i == k else 0


# the chain rule as a Jacobian (rows: x_i, columns: z_k) times dL/dz, for a loss L(z)
zs = sp.symbols("z1:4")
Lz = zs[0] ** 2 * zs[1] + sp.sin(zs[2])
J = sp.Matrix(n, n, lambda i, k: sp.diff(z[k], x[i]))
dLdz = sp.Matrix([sp.diff(Lz, v) for v in zs]).subs(dict(zip(zs, z)))
dLdx = sp.Matrix([sp.diff(Lz.subs(dict(zip(zs, z))), v) for v in x])
found["#3:1"] = all(agree(u, v) for u, v in zip(dLdx, J * dLdz))
found["#4:1"] = True  # the Jacobian written out with dots

for i, k in [(0, 0), (0, 1)]:
    dmu, dsig = sp.diff(mu, x[i]), sp.diff(sigma, x[i])
    e6 = [
        sp.diff(z[k], x[i]),
        sp.diff((x[k] - mu) * (sigma + eps) ** -1, x[i]),
        (sigma + eps) ** -1 * sp.diff(x[k] - mu, x[i]) + (x[k] - mu) * sp.diff((sigma + eps) ** -1, x[i]),
        1 / (sigma + eps) * (delta(i, k) - dmu) - (x[k] - mu) * (sigma + eps) ** -2 * (dsig + 0),
        1 / (sigma + eps) * (delta(i, k) - dmu) - (x[k] - mu) / (sigma + eps) ** 2 * dsig,
    ]
    for m in range(4):
        found[f"#6:{m + 1}"] = found.get(f"#6:{m + 1}", True) and agree(e6[m], e6[m + 1])

i = 1
e8 = [sp.diff(mu, x[i]), sp.diff(sum(x) / n, x[i]), sp.Rational(1, n) * (0 + 1 + 0), sp.Rational(1, n)]
for m in range(3):
    found[f"#8:{m + 1}"] = agree(e8[m], e8[m + 1])
var = sum((xr - mu) ** 2 for xr in x) / n
dmu = sp.diff(mu, x[i])
e9 = [
    sp.diff(sigma, x[i]),
    sp.diff(var ** sp.Rational(1, 2), x[i]),
    sp.Rational(1, 2) * var ** sp.Rational(-1, 2) * sp.diff(var, x[i]),
    1 / (2 * sigma) * (sum(2 * (x[r] - mu) * (delta(i, r) - dmu) for r in range(n)) / n),
    1 / (n * sigma) * ((x[i] - mu) - sum((x[r] - mu) * dmu for r in range(n))),
    (x[i] - mu) / (n * sigma),
]
for m in range(5):
    found[f"#9:{m + 1}"] = agree(e9[m], e9[m + 1])
e10 = [sum(xr - mu for xr in x), sum(x) - mu * n, n * mu - mu * n, 0]
for m in range(3):
    found[f"#10:{m + 1}"] = agree(e10[m], e10[m + 1])
# the summary, with the trainable parameters
i, k = 0, 2
found["#11:1"] = agree(
    sp.diff(za[k], x[i]),
    a
    * (1 / (sigma + eps) * (delta(i, k) - sp.diff(mu, x[i])) - (x[k] - mu) / (sigma + eps) ** 2 * sp.diff(sigma, x[i])),
)
found["#11:2"] = agree(sp.diff(mu, x[i]), sp.Rational(1, n))
found["#11:3"] = agree(sp.diff(sigma, x[i]), (x[i] - mu) / (n * sigma))
found["#11:4"] = agree(sp.diff(za[k], a), (x[k] - mu) / (sigma + eps))
found["#11:5"] = agree(sp.diff(za[k], b), 1)

finish(
    found,
    "#1:1 #2:1 #2:2 #3:1 #4:1 #5:1 #6:1 #6:2 #6:3 #6:4 #7:1 #8:1 #8:2 #8:3 "
    "#9:1 #9:2 #9:3 #9:4 #9:5 #10:1 #10:2 #10:3 #11:1 #11:2 #11:3 #11:4 #11:5",
)
