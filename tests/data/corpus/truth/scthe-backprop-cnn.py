"""Ground truth for scthe-backprop-cnn.md, by hand from the post's forward equations, with
f_a = tanh: a fully connected layer of 2 -> 3 nodes under a loss of its outputs, and a
convolutional layer (one input and one output feature map, a 2 x 2 kernel on a 3 x 3 input)."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

fa = sp.tanh


def dfa(v):
    return 1 - sp.tanh(v) ** 2


found = {}
# #1 the chain rule, for z = sin(y), y = x^3
X0 = sp.Symbol("X0")
found["#1:1"] = agree(sp.diff(sp.sin(X0**3), X0), sp.cos(X0**3) * 3 * X0**2)
for eq in ("#2:1", "#3:1", "#19:1", "#20:1"):
    found[eq] = True  # the forward definitions

# #4 the last layer: one output node, J = 1/2 (Y - h)^2, h = f_a(x)
xL, Yv = sp.symbols("xL Y")
h = fa(xL)
J = sp.Rational(1, 2) * (Yv - h) ** 2
found["#4:1"] = True  # delta is defined as dJ/dx
found["#4:2"] = agree(sp.diff(J, xL), sp.diff(sp.Rational(1, 2) * (Yv - h) ** 2, xL))
found["#4:4"] = agree(sp.diff(sp.Rational(1, 2) * (Yv - h) ** 2, xL), (h - Yv) * dfa(xL))

# a fully connected layer: y (2 nodes) -> x' = W y + b (3 nodes) -> y' = f_a(x') -> J
y = sp.symbols("y1:3")
W = sp.Matrix(3, 2, sp.symbols("W1:7"))
b = sp.symbols("b1:4")
xn = [sum(W[j, i] * y[i] for i in range(2)) + b[j] for j in range(3)]
Jfc = sum((j + 1) * fa(v) ** 2 for j, v in enumerate(xn)) + fa(xn[0]) * fa(xn[2])
xs = sp.symbols("xs1:4")  # x' as free variables, for delta = dJ/dx'
Jx = sum((j + 1) * fa(v) ** 2 for j, v in enumerate(xs)) + fa(xs[0]) * fa(xs[2])
at = dict(zip(xs, xn))
delta = [sp.diff(Jx, v).subs(at) for v in xs]
i, j = 0, 1
# #5: one node j of the next layer only
found["#5:1"] = agree(sp.diff(Jfc, y[i]), sp.diff(xn[j], y[i]) * delta[j])
found["#5:3"] = agree(sp.diff(xn[j], y[i]) * delta[j], W[j, i] * delta[j])
found["#6:1"] = agree(sp.diff(Jfc, y[i]), sum(W[jj, i] * delta[jj] for jj in range(3)))
# #7: the inner node's error term, y_i = f_a(x_i)
xi = sp.symbols("xi1:3")
Jin = Jfc.subs({y[0]: fa(xi[0]), y[1]: fa(xi[1])})
delta_in = [d.subs({y[0]: fa(xi[0]), y[1]: fa(xi[1])}) for d in delta]
found["#7:1"] = True  # definition
found["#7:2"] = agree(sp.diff(Jin, xi[i]), dfa(xi[i]) * sp.diff(Jfc, y[i]).subs({y[0]: fa(xi[0]), y[1]: fa(xi[1])}))
found["#7:4"] = agree(dfa(xi[i]) * sum(W[jj, i] * delta_in[jj] for jj in range(3)), sp.diff(Jin, xi[i]))
found["#8:1"] = agree(sp.diff(Jfc, W[j, i]), sp.diff(xn[j], W[j, i]) * delta[j])
found["#8:3"] = agree(sp.diff(xn[j], W[j, i]) * delta[j], y[i] * delta[j])
# #9: the bias of node j, with b_i (i != j) in the local derivative, as published
i9, j9 = 0, 1
found["#9:1"] = agree(sp.diff(Jfc, b[j9]), sp.diff(xn[j9], b[i9]) * delta[j9])
found["#9:3"] = agree(sp.diff(xn[j9], b[i9]) * delta[j9], delta[j9])
assert agree(sp.diff(Jfc, b[j9]), sp.diff(xn[j9], b[j9]) * delta[j9])  # with b_j it holds
# #10, #11: the batch cost is the mean of the samples' costs (two samples)
y2 = sp.symbols("z1:3")
Jfc2 = Jfc.subs(dict(zip(y, y2)))
Jb = (Jfc + Jfc2) / 2
found["#10:1"] = agree(sp.diff(Jb, W[j, i]), (sp.diff(Jfc, W[j, i]) + sp.diff(Jfc2, W[j, i])) / 2)
found["#11:1"] = agree(sp.diff(Jb, b[j]), (sp.diff(Jfc, b[j]) + sp.diff(Jfc2, b[j])) / 2)
# #12-#15 repeat #4, #7, #8 and #9 (with b_j)
found["#12:1"] = found["#4:4"]
found["#13:1"] = found["#7:4"]
found["#14:1"] = agree(sp.diff(Jfc, W[j, i]), y[i] * delta[j])
found["#15:1"] = agree(sp.diff(Jfc, b[j]), delta[j])


# #17, #18: a kernel of size f fits w - f + 1 times in a row of width w
def fits(w, f):
    return sum(1 for start in range(w) if start + f <= w)


found["#17:1"] = all(fits(w, f) == w - f + 1 for w in range(1, 9) for f in range(1, w + 1))
found["#17:2"] = found["#17:1"]
found["#18:1"] = all(
    fits(fits(fits(w, f1), f2), f3) == w - f1 - f2 - f3 + 3
    for w in range(3, 10)
    for f1 in range(1, 3)
    for f2 in range(1, 3)
    for f3 in range(1, 3)
)
found["#18:2"] = found["#18:1"]

# the convolutional layer: x'_{i,j} = sum_{a,b} W_{ab} y_{i+a, j+b} + c, y = f_a(x), from 0
H, F = 3, 2
O = H - F + 1
xin = sp.Matrix(H, H, lambda r, s: sp.Symbol(f"u{r}{s}"))
yin = xin.applyfunc(fa)
K = sp.Matrix(F, F, lambda r, s: sp.Symbol(f"k{r}{s}"))
c0 = sp.Symbol("c0")
xout = sp.Matrix(O, O, lambda r, s: sum(K[a, bb] * yin[r + a, s + bb] for a in range(F) for bb in range(F)) + c0)
Jc = sum((r + 2 * s + 1) * fa(xout[r, s]) ** 2 for r in range(O) for s in range(O))
xo = sp.Matrix(O, O, lambda r, s: sp.Symbol(f"o{r}{s}"))
Jo = sum((r + 2 * s + 1) * fa(xo[r, s]) ** 2 for r in range(O) for s in range(O))
dnext = sp.Matrix(O, O, lambda r, s: sp.diff(Jo, xo[r, s]).subs(dict(zip(xo, xout))))


def dn(r, s):
    return dnext[r, s] if 0 <= r < O and 0 <= s < O else 0  # the bounds check of the post


def published(r, s):
    return dfa(xin[r, s]) * sum(K[a, bb] * dn(r + a, s + bb) for a in range(F) for bb in range(F))


def correct(r, s):
    return dfa(xin[r, s]) * sum(K[a, bb] * dn(r - a, s - bb) for a in range(F) for bb in range(F))


cells = [(0, 0), (1, 2), (2, 1)]
assert all(agree(sp.diff(Jc, xin[r, s]), correct(r, s), trials=2) for r, s in cells)
found["#22:1"] = all(agree(sp.diff(Jc, xin[r, s]), published(r, s), trials=2) for r, s in cells)
found["#24:1"] = all(
    agree(sp.diff(Jc, K[a, bb]), sum(yin[r + a, s + bb] * dnext[r, s] for r in range(O) for s in range(O)), trials=2)
    for a, bb in [(0, 1), (1, 1)]
)
found["#25:1"] = agree(sp.diff(Jc, c0), sum(dnext), trials=2)

# links check-doc forms with an empty side: continuations of a chain onto the next row, and
# rows without any '=' (index ranges); nothing is claimed by them
empty = (
    "#4:3 #4:5 #5:2 #5:4 #6:2 #7:3 #7:5 #8:2 #8:4 #9:2 #10:2 #11:2 "
    "#16:1 #16:2 #16:3 #16:4 #21:1 #21:2 #21:3 #23:1 #23:2 #23:3"
)
found.update(dict.fromkeys(empty.split(), True))
finish(
    found,
    "#1:1 #2:1 #3:1 #4:1 #4:2 #4:4 #5:1 #5:3 #6:1 #7:1 #7:2 #7:4 #8:1 #8:3 #9:1 #9:3 #10:1 #11:1 #12:1 #13:1 "
    "#14:1 #15:1 #17:1 #17:2 #18:1 #18:2 #19:1 #20:1 #22:1 #24:1 #25:1 " + empty,
    false="#5:1 #9:1 #9:3 #22:1",
)
