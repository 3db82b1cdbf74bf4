"""Ground truth for zakka-batchnorm.md, by hand at m = 3 (epsilon = 1/10), every line read
literally with the usual precedence. df/dy_i is a free symbol g_i (any upstream gradient).
Partials such as dx-hat_i/dx_i hold the mean and variance fixed, as the post's chain rule does."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

m = 3
eps = sp.Rational(1, 10)
x = sp.symbols("x1:4")
g = sp.symbols("g1:4")
gamma, beta = sp.symbols("gamma beta")
MU, VAR = sp.symbols("MU VAR", positive=True)  # the mean and the variance as variables
mu = sum(x) / m
var = sum((v - mu) ** 2 for v in x) / m
at = {MU: mu, VAR: var}
xh = [(v - mu) / sp.sqrt(var + eps) for v in x]
y = [gamma * h + beta for h in xh]
f_total = sum(gi * yi for gi, yi in zip(g, y))  # f linear in y: df/dy_i = g_i
XH = [(v - MU) / sp.sqrt(VAR + eps) for v in x]  # x-hat of free mean and variance
dxh = [gi * gamma for gi in g]  # df/dx-hat_i
dvar = sum(dxh[k] * sp.diff(XH[k], VAR) for k in range(m))  # df/dsigma^2
dmu = sum(dxh[k] * sp.diff(XH[k], MU) for k in range(m)) + dvar * sp.diff(sum((v - MU) ** 2 for v in x) / m, MU)
s = sp.sqrt(VAR + eps)
i = 0

found = {"#6:1": True, "#8:1": True, "#12:1": True}  # definitions; #12 has no '='
u1, u2, r = sp.symbols("u1 u2 r")
U = u1**2 * sp.sin(u2)
xr, yr = r**2, r + r**3
found["#1:1"] = agree(
    sp.diff(U.subs({u1: xr, u2: yr}), r),
    (sp.diff(U, u1) * sp.diff(xr, r) + sp.diff(U, u2) * sp.diff(yr, r)).subs({u1: xr, u2: yr}),
)
dgamma = sp.diff(f_total, gamma)
found["#2:1"] = agree(dgamma, g[i] * xh[i])  # one term for the sum
found["#2:2"] = agree(g[i] * xh[i], sum(gk * hk for gk, hk in zip(g, xh)))
assert agree(dgamma, sum(gk * hk for gk, hk in zip(g, xh)))
dbeta = sp.diff(f_total, beta)
found["#3:1"] = agree(dbeta, g[i] * 1)
found["#3:2"] = agree(g[i], sum(g))
found["#4:1"] = True  # df/dx-hat_i = df/dy_i dy_i/dx-hat_i, y_i depending on x-hat_i alone
found["#4:2"] = agree(g[i] * sp.diff(gamma * sp.Symbol("h") + beta, sp.Symbol("h")), g[i] * gamma)
found["#5:1"] = agree(
    dmu.subs(at), (dxh[i] * sp.diff(XH[i], MU) + dvar * sp.diff(sum((v - MU) ** 2 for v in x) / m, MU)).subs(at)
)
found["#7:1"] = agree(sp.diff(XH[i], MU), 1 / s * (-1))
found["#9:1"] = agree(sp.diff(sum((v - MU) ** 2 for v in x) / m, MU), sum(2 * (v - MU) * (-1) for v in x) / m)
found["#10:1"] = agree(dvar, sum(dxh[k] * sp.diff(XH[k], VAR) for k in range(m)))  # the dot product over the batch
found["#11:1"] = agree(XH[i], (x[i] - MU) * sp.sqrt(VAR + eps) ** sp.Rational(-1, 2))
e13 = [
    sp.diff(XH[i], VAR),
    sum((v - MU) * sp.Rational(-1, 2) * sp.sqrt(VAR + eps) ** (sp.Rational(-1, 2) - 1) for v in x),
    sp.Rational(-1, 2) * sum((v - MU) * sp.sqrt(VAR + eps) ** sp.Rational(-3, 2) for v in x),
]
found["#13:1"] = agree(e13[0].subs(at), e13[1].subs(at))
found["#13:2"] = agree(e13[1], e13[2])
first = sum(dxh[k] * (-1) / s for k in range(m))
e14 = [
    dmu,
    first + dvar * sp.Rational(1, m) * sum(-2 * (v - MU) for v in x),
    first + dvar * (-2) * sp.Rational(1, m) * sum(x) - sp.Rational(1, m) * m * MU,  # as printed: no parentheses
    first + dvar * (-2) * MU - m * MU / m,
    first,
]
for k in range(4):
    found[f"#14:{k + 1}"] = agree(e14[k].subs(at), e14[k + 1].subs(at))
found["#15:1"] = agree(dmu.subs(at), first.subs(at))
dx_total = sp.diff(f_total, x[i])
chain16 = (
    dxh[i] * sp.diff(XH[i], x[i]) + dmu * sp.Rational(1, m) + dvar * sp.diff(sum((v - MU) ** 2 for v in x) / m, x[i])
).subs(at)
found["#16:1"] = agree(dx_total, chain16)
found["#17:1"] = agree(sp.diff(XH[i], x[i]), 1 / s)
found["#18:1"] = agree(sp.diff(mu, x[i]), sp.Rational(1, m))
found["#19:1"] = agree(sp.diff(sum((v - MU) ** 2 for v in x) / m, x[i]).subs(at), (2 * (x[i] - MU) / m).subs(at))
e20 = (dxh[i] / s + dmu / m + dvar * 2 * (x[i] - MU) / m).subs(at)
found["#20:1"] = agree(dx_total, e20)
S = sp.sqrt(var + eps)
e21 = [
    dx_total,
    e20,
    dxh[i] / S
    + sp.Rational(1, m) * sum(dxh[j] * (-1) / S for j in range(m))
    - sp.Rational(1, 2) * sum(dxh[j] * (x[j] - mu) * S ** sp.Rational(-3, 2) for j in range(m)) * 2 * (x[i] - mu) / m,
    dxh[i] * (var + eps) ** sp.Rational(-1, 2)
    - (var + eps) ** sp.Rational(-1, 2) / m * sum(dxh)
    + (var + eps) ** sp.Rational(-1, 2) / m * (x[i] - mu) / S * sum(dxh[j] * (x[j] - mu) / S for j in range(m)),
    dxh[i] * (var + eps) ** sp.Rational(-1, 2)
    - (var + eps) ** sp.Rational(-1, 2) / m * sum(dxh)
    + (var + eps) ** sp.Rational(-1, 2) / m * xh[i] * sum(dxh[j] * xh[j] for j in range(m)),
]
for k in range(4):
    found[f"#21:{k + 1}"] = agree(e21[k], e21[k + 1])
final = (var + eps) ** sp.Rational(-1, 2) / m * (m * dxh[i] - sum(dxh) - xh[i] * sum(dxh[j] * xh[j] for j in range(m)))
found["#22:1"] = agree(dx_total, final)
found["#23:1"] = agree(dbeta, sum(g))
found["#24:1"] = agree(dgamma, sum(gk * hk for gk, hk in zip(g, xh)))
found["#25:1"] = agree(dx_total, (m * dxh[i] - sum(dxh) - xh[i] * sum(dxh[j] * xh[j] for j in range(m))) / (m * S))

finish(
    found,
    "#1:1 #2:1 #2:2 #3:1 #3:2 #4:1 #4:2 #5:1 #6:1 #7:1 #8:1 #9:1 #10:1 #11:1 #12:1 #13:1 #13:2 #14:1 #14:2 "
    "#14:3 #14:4 #15:1 #16:1 #17:1 #18:1 #19:1 #20:1 #21:1 #21:2 #21:3 #21:4 #22:1 #23:1 #24:1 #25:1",
    false="#2:1 #2:2 #3:1 #3:2 #5:1 #11:1 #13:1 #14:2 #14:4 #21:2 #21:3",
)
