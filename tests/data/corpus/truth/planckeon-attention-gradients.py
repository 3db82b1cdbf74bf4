"""Ground truth for planckeon-attention-gradients.md, at n = d = 2, by hand: Einstein sums written
out, Kronecker deltas as 1/0, dL/dO a free matrix G (L = sum G O); each gradient also checked
against SymPy's derivative of the composed forward pass."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

n, d = 2, 2
R = range(n)
Dr = range(d)
Q = sp.Matrix(n, d, sp.symbols("q1:5"))
K = sp.Matrix(n, d, sp.symbols("k1:5"))
V = sp.Matrix(n, d, sp.symbols("v1:5"))
G = sp.Matrix(n, d, sp.symbols("g1:5"))
Ss = sp.Matrix(n, n, sp.symbols("s1:5"))  # scores as free variables
As = sp.Matrix(n, n, sp.symbols("p1:5"))  # weights as free variables
rt = sp.sqrt(d)


def delta(x, y):
    return 1 if x == y else 0


def soft(S):
    return sp.Matrix(n, n, lambda i, j: sp.exp(S[i, j]) / sum(sp.exp(S[i, k]) for k in R))


S = Q * K.T / rt
A = soft(S)
O = A * V
L = sum(G[i, b] * O[i, b] for i in R for b in Dr)
LA = sum(G[i, b] * (As * V)[i, b] for i in R for b in Dr)  # L as a function of the weights
LS = LA.subs(dict(zip(As, soft(Ss))))  # L as a function of the scores
dLdA = sp.Matrix(n, n, lambda i, j: sp.diff(LA, As[i, j]))
dLdS = sp.Matrix(n, n, lambda i, j: sp.diff(LS, Ss[i, j])).subs(dict(zip(Ss, S)))
Asub = dict(zip(As, A))

found = {"#2:1": True, "#3:1": True, "#4:1": True, "#24:1": True}  # definitions
y1, y2, x1, x2 = sp.symbols("y1 y2 x1 x2")
Ly = y1**2 * y2
ys = {y1: x1 * x2, y2: x1 + x2**2}
found["#1:1"] = agree(sp.diff(Ly.subs(ys), x1), sum(sp.diff(Ly, y).subs(ys) * sp.diff(ys[y], x1) for y in ys))
m, nn, i, b = 1, 0, 0, 1
found["#5:1"] = all(
    agree(sp.diff(O[i, b], V[m, nn]), sum(A[i, j] * delta(j, m) * delta(b, nn) for j in R)) for i in R for b in Dr
)
found["#5:2"] = all(
    agree(sum(A[i, j] * delta(j, m) * delta(b, nn) for j in R), A[i, m] * delta(b, nn)) for i in R for b in Dr
)
found["#6:1"] = agree(sp.diff(L, V[m, nn]), sum(G[i, b] * A[i, m] * delta(b, nn) for i in R for b in Dr))
found["#6:2"] = agree(sum(G[i, b] * A[i, m] * delta(b, nn) for i in R for b in Dr), sum(A[i, m] * G[i, nn] for i in R))
Osym = As * V
found["#7:1"] = all(agree(sp.diff(Osym[i, b], As[m, nn]), delta(i, m) * V[nn, b]) for i in R for b in Dr)
found["#8:1"] = agree(dLdA[m, nn], sum(G[m, b] * V[nn, b] for b in Dr))
Asoft = soft(Ss)
found["#9:1"] = all(
    agree(sp.diff(Asoft[i, j], Ss[m, nn]), delta(i, m) * Asoft[i, j] * (delta(j, nn) - Asoft[i, nn]))
    for i in R
    for j in R
)
found["#21:1"] = found["#9:1"]
i, j = 1, 0
rhs10 = (A[i, j] * (dLdA[i, j] - sum(A[i, jp] * dLdA[i, jp] for jp in R))).subs(Asub)
found["#10:1"] = agree(dLdS[i, j], rhs10)
found["#22:1"] = found["#10:1"]  # the same, with \bar{A} for dL/dA
k, l = 1, 1
found["#11:1"] = all(
    agree(sp.diff(S[i, j], Q[k, l]), sum(delta(i, k) * delta(a, l) * K[j, a] for a in Dr) / rt) for i in R for j in R
)
found["#11:2"] = all(
    agree(sum(delta(i, k) * delta(a, l) * K[j, a] for a in Dr) / rt, delta(i, k) * K[j, l] / rt) for i in R for j in R
)
found["#12:1"] = agree(sp.diff(L, Q[k, l]), sum(dLdS[k, j] * K[j, l] for j in R) / rt)
found["#13:1"] = agree(sp.diff(L, K[k, l]), sum(dLdS[i, k] * Q[i, l] for i in R) / rt)
# one row of scores
s = sp.symbols("t1:4")
Z = sum(sp.exp(v) for v in s)
a = [sp.exp(v) / Z for v in s]
i, j = 0, 2
found["#14:1"] = True  # the definition of a_i
found["#14:2"] = True  # Z names the sum
e15 = [
    sp.diff(a[i], s[i]),
    (sp.exp(s[i]) * Z - sp.exp(s[i]) * sp.exp(s[i])) / Z**2,
    sp.exp(s[i]) / Z - sp.exp(2 * s[i]) / Z**2,
]
found["#15:1"] = agree(e15[0], e15[1])
found["#15:2"] = agree(e15[1], e15[2])
found["#16:1"] = agree(e15[2], a[i] - a[i] ** 2)  # the display starts with '=', continuing #15
found["#16:2"] = agree(a[i] - a[i] ** 2, a[i] * (1 - a[i]))
e17 = [sp.diff(a[i], s[j]), (0 * Z - sp.exp(s[i]) * sp.exp(s[j])) / Z**2, -sp.exp(s[i]) * sp.exp(s[j]) / Z**2]
found["#17:1"] = agree(e17[0], e17[1])
found["#17:2"] = agree(e17[1], e17[2])
found["#18:1"] = agree(e17[2], -a[i] * a[j])
found["#19:1"] = all(agree(sp.diff(a[p], s[q]), a[p] * (delta(p, q) - a[q])) for p in range(3) for q in range(3))
av = sp.Matrix(a)
jac = sp.Matrix(3, 3, lambda p, q: sp.diff(a[p], s[q]))
found["#20:1"] = all(agree(x, y) for x, y in zip(jac, sp.diag(*a) - av * av.T))
found["#23:1"] = True  # an approximation (\approx) for peaked weights; 1 (x - x) = 0 holds exactly

finish(
    found,
    "#1:1 #2:1 #3:1 #4:1 #5:1 #5:2 #6:1 #6:2 #7:1 #8:1 #9:1 #10:1 #11:1 #11:2 #12:1 #13:1 #14:1 #14:2 #15:1 "
    "#15:2 #16:1 #16:2 #17:1 #17:2 #18:1 #19:1 #20:1 #21:1 #22:1 #23:1 #24:1",
)
