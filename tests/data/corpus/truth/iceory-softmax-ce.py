"""Ground truth for iceory-softmax-ce.md, at C = 3, by hand from the softmax's definition."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

C = 3
x = sp.symbols("x1:4")
t = sp.symbols("t1:4")
S = sum(sp.exp(v) for v in x)
y = [sp.exp(v) / S for v in x]
found = {"#1:1": True, "#1:2": True, "#4:1": True, "#5:1": True}  # definitions, and the range of i

# i = j (the condition "if i = j" is the display's first link)
i = j = 0
found["#2:1"] = True
e2 = [
    sp.diff(y[i], x[j]),
    sp.diff(y[i], x[i]),
    (sp.exp(x[j]) * S - sp.exp(x[i]) * sp.exp(x[i])) / S**2,
    sp.exp(x[i]) / S * (S - sp.exp(x[i])) / S,
    y[i] * (1 - y[i]),
]
for n in range(4):
    found[f"#2:{n + 2}"] = agree(e2[n], e2[n + 1])

# i != j; as published the quotient differentiated has e^{x_j} on top, and e^k (no x) below
i, j = 0, 1
kk = sp.Symbol("k")
published = sp.exp(x[j]) / sp.Sum(sp.exp(kk), (kk, 1, C)).doit()
e3 = [
    sp.diff(y[i], x[j]),
    sp.diff(published, x[j]),
    (0 * S - sp.exp(x[i]) * sp.exp(x[j])) / S**2,
    -sp.exp(x[i]) / S * sp.exp(x[j]) / S,
    -y[i] * y[j],
]
for n in range(4):
    found[f"#3:{n + 1}"] = agree(e3[n], e3[n + 1])
# read with e^{x_k} below, the numerator e^{x_j} still makes the link false
assert not agree(e3[0], sp.diff(sp.exp(x[j]) / S, x[j]))

# the gradient of the loss; the one-hot label enters only at the last link
L = -sum(t[c] * sp.log(y[c]) for c in range(C))
i = 0
others = [c for c in range(C) if c != i]
e6 = [
    sp.diff(L, x[i]),
    -sum(sp.diff(t[c] * sp.log(y[c]), x[i]) for c in range(C)),
    -sum(t[c] * sp.diff(sp.log(y[c]), x[i]) for c in range(C)),
    -sum(t[c] / y[c] * sp.diff(y[c], x[i]) for c in range(C)),
    -t[i] / y[i] * sp.diff(y[i], x[i]) - sum(t[c] / y[c] * sp.diff(y[c], x[i]) for c in others),
    # the typo \partial t_j read as t_j
    -t[i] / y[i] * y[i] * (1 - y[i]) - sum(t[c] / y[c] * (-y[i] * y[c]) for c in others),
    -t[i] + t[i] * y[i] + sum(t[c] * y[i] for c in others),
    -t[i] + y[i] * sum(t),
    y[i] - t[i],
]
for n in range(7):
    found[f"#6:{n + 1}"] = agree(e6[n], e6[n + 1])
onehot = {t[0]: 0, t[1]: 1, t[2]: 0}
found["#6:8"] = agree(e6[7].subs(onehot), e6[8].subs(onehot))
assert not agree(e6[7], e6[8])  # it needs the one-hot label

finish(
    found,
    "#1:1 #1:2 #2:1 #2:2 #2:3 #2:4 #2:5 #3:1 #3:2 #3:3 #3:4 #4:1 #5:1 #6:1 #6:2 #6:3 #6:4 #6:5 #6:6 #6:7 #6:8",
    false="#3:1 #3:2",
)
