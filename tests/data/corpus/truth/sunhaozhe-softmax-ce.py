"""Ground truth for sunhaozhe-softmax-ce.md, at C = 3 (every link, from the definitions by hand)."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

C = 3
o = sp.symbols("o1:4")
y = sp.symbols("y1:4")
Z = sum(sp.exp(v) for v in o)
p = [sp.exp(v) / Z for v in o]
L = -sum(y[i] * sp.log(p[i]) for i in range(C))


def dp(i, k):
    return sp.diff(p[i], o[k])


found = {"#1:1": True, "#2:1": True}  # the definitions of L and p
i, k = 0, 1  # a pair i != k; the i = k displays use i = k = 0
quotient = (sp.diff(sp.exp(o[i]), o[k]) * Z - sp.diff(Z, o[k]) * sp.exp(o[i])) / Z**2
found["#3:1"] = agree(dp(i, k), sp.diff(sp.exp(o[i]) / Z, o[k]))
found["#3:2"] = agree(sp.diff(sp.exp(o[i]) / Z, o[k]), quotient)
# i = k
kk = 0
r = [dp(kk, kk), (sp.exp(o[kk]) * Z - sp.exp(o[kk]) ** 2) / Z**2, sp.exp(o[kk]) / Z * (Z - sp.exp(o[kk])) / Z]
r.append(p[kk] * (1 - p[kk]))
for n in range(3):
    found[f"#4:{n + 1}"] = agree(r[n], r[n + 1])
# i != k
r = [dp(i, k), quotient, -sp.exp(o[k]) * sp.exp(o[i]) / (Z * Z), -p[k] * p[i]]
for n in range(3):
    found[f"#5:{n + 1}"] = agree(r[n], r[n + 1])
# both cases: the cases value is the Jacobian entry for every (i, k)
found["#6:1"] = all(agree(dp(a, b), p[b] * (1 - p[b]) if a == b else -p[b] * p[a]) for a in range(C) for b in range(C))
# the loss, for k = 2nd entry; the last link needs y one-hot (sum y = 1), stated after the display
k = 1
lines = [
    sp.diff(L, o[k]),
    -sum(y[a] * sp.diff(sp.log(p[a]), o[k]) for a in range(C)),
    -sum(y[a] * (1 / p[a]) * dp(a, k) for a in range(C)),
    -sum(y[a] / p[a] * dp(a, k) for a in range(C)),
    -y[k] * (1 - p[k]) + sum(y[a] * p[k] for a in range(C) if a != k),
    -y[k] + sum(y[a] * p[k] for a in range(C)),
    p[k] - y[k],
]
for n in range(5):
    found[f"#7:{n + 1}"] = agree(lines[n], lines[n + 1])
onehot = {y[0]: 0, y[1]: 1, y[2]: 0}
found["#7:6"] = agree(lines[5].subs(onehot), lines[6].subs(onehot))
assert not agree(lines[5], lines[6])  # without the one-hot constraint it does not hold

finish(found, "#1:1 #2:1 #3:1 #3:2 #4:1 #4:2 #4:3 #5:1 #5:2 #5:3 #6:1 #7:1 #7:2 #7:3 #7:4 #7:5 #7:6")
