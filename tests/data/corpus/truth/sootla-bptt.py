"""Ground truth for sootla-bptt.md, by hand: a layer l of 2 units at timestep t feeds 2 units of
layer l+1 at t and 2 units of layer l at t+1; a = tanh; a cost C of those four units."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

S = 2
a = sp.tanh


def da(v):
    return 1 - sp.tanh(v) ** 2


z = sp.symbols("z1:3")  # z^{l(t)}
w_up = sp.Matrix(S, S, sp.symbols("u1:5"))  # w^{l+1(t)}_{mj}: unit m of layer l to unit j of layer l+1
w_next = sp.Matrix(S, S, sp.symbols("v1:5"))  # w^{l(t+1)}_{nk}: unit n at t to unit k at t+1
b_up, b_next = sp.symbols("b1:3"), sp.symbols("c1:3")
ext = sp.symbols("e1:3")  # what the units at t+1 also receive from below
z_up = [sum(w_up[m, j] * a(z[m]) for m in range(S)) + b_up[j] for j in range(S)]
z_next = [sum(w_next[n, k] * a(z[n]) for n in range(S)) + ext[k] + b_next[k] for k in range(S)]
Zu, Zn = sp.symbols("Zu1:3"), sp.symbols("Zn1:3")
C_of = a(Zu[0]) ** 2 + 2 * a(Zu[1]) * a(Zn[0]) + 3 * a(Zn[1]) ** 2
at = {**dict(zip(Zu, z_up)), **dict(zip(Zn, z_next))}
C = C_of.subs(at)
d_up = [sp.diff(C_of, v).subs(at) for v in Zu]
d_next = [sp.diff(C_of, v).subs(at) for v in Zn]
i, j = 0, 1
delta_i = sp.diff(C, z[i])
claim = da(z[i]) * (sum(w_up[i, jj] * d_up[jj] for jj in range(S)) + sum(w_next[i, k] * d_next[k] for k in range(S)))

found = {"#1:1": True}  # the recurrence, a definition
found["#2:1"] = agree(delta_i, claim)
found["#3:1"] = all(
    agree(
        sp.diff(C, z[ii]),
        da(z[ii]) * ((w_up * sp.Matrix(d_up))[ii] + (w_next * sp.Matrix(d_next))[ii]),
    )
    for ii in range(S)
)
chain = sum(d_up[jj] * sp.diff(z_up[jj], z[i]) for jj in range(S)) + sum(
    d_next[k] * sp.diff(z_next[k], z[i]) for k in range(S)
)
found["#4:1"] = True  # delta is defined as dC/dz
found["#4:2"] = agree(delta_i, chain)  # the denominator z_i^{l(t)} lacks its \partial (a typo)
found["#5:1"] = agree(delta_i, chain)
# as published, the second numerator is sum_n w_{nk} a(z_k) + b_k: z_k where z_n belongs
published = sum(d_up[jj] * sp.diff(z_up[jj], z[i]) for jj in range(S)) + sum(
    d_next[k] * sp.diff(sum(w_next[n, k] * a(z[k]) for n in range(S)) + b_next[k], z[i]) for k in range(S)
)
found["#5:2"] = agree(chain, published)
line = d_up[j] * w_up[i, j] * da(z[i]) + sum(d_next[k] * w_next[i, k] * da(z[i]) for k in range(S))
found["#6:1"] = agree(delta_i, line)
found["#6:2"] = agree(line, claim)

finish(found, "#1:1 #2:1 #3:1 #4:1 #4:2 #5:1 #5:2 #6:1 #6:2", false="#5:2 #6:1 #6:2")
