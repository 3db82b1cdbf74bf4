"""Ground truth for yuqiiwang-matrix-derivative.md: every chain of traces checked with random
rational matrices (the identities are linear in dX, so they hold for all dX when they hold at
random ones), by hand from the definitions; the exponential example in floating point."""

import random
import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

rng = random.Random(3)


def rand(r, c):
    return sp.Matrix(r, c, lambda i, j: sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)))


found = {}
# #1, #2: df as a sum of partials, and as an inner product / trace (f a polynomial in x, X)
x = sp.symbols("x1:4")
dx = sp.symbols("dx1:4")
f = x[0] ** 2 * x[1] + x[2] ** 3
df = sum(sp.diff(f, v) * d for v, d in zip(x, dx))
grad = sp.Matrix([sp.diff(f, v) for v in x])
found["#1:1"] = True  # the definition of the differential
found["#1:2"] = agree(df, (grad.T * sp.Matrix(dx))[0])
Xs = sp.Matrix(2, 3, sp.symbols("X1:7"))
dXs = sp.Matrix(2, 3, sp.symbols("dX1:7"))
F = Xs[0, 0] * Xs[1, 2] ** 2 + Xs[0, 1] * Xs[1, 1]
dF = sum(sp.diff(F, Xs[i, j]) * dXs[i, j] for i in range(2) for j in range(3))
G = Xs.applyfunc(lambda e: sp.diff(F, e))
found["#2:1"] = True
found["#2:2"] = agree(dF, (G.T * dXs).trace())

# #3: Y = A X B, G = df/dY any matrix; A: p x m, X: m x n, B: n x q with p = n (so that the
# published A^T G^T B has a shape at all)
p, m, n, q = 2, 3, 2, 2
A, B, X, Gy, dX = rand(p, m), rand(n, q), rand(m, n), rand(p, q), rand(m, n)
dA, dB = sp.zeros(p, m), sp.zeros(n, q)
true_grad = A.T * Gy * B.T
e3 = [
    (Gy.T * (A * dX * B)).trace(),  # df, to first order: dY = A dX B
    (Gy.T * (A * dX * B)).trace(),
    (Gy.T * (A * dX * B)).trace(),  # d(AXB) with dA = dB = 0
    (Gy.T * (dA * X * B + A * dX * B + A * X * dB)).trace(),
    (Gy.T * A * dX * B).trace(),
    (B * Gy.T * A * dX).trace(),
    ((A.T * Gy.T * B).T * dX).trace(),  # as published
    (true_grad.T * dX).trace(),
]
for k in range(7):
    found[f"#3:{k + 1}"] = e3[k] == e3[k + 1]
assert true_grad != A.T * Gy.T * B  # the published gradient is not A^T G B^T

# #4: d sin(X) element by element
xs = sp.symbols("x11 x12 x21 x22")
dxs = sp.symbols("dx11 dx12 dx21 dx22")
found["#4:1"] = True  # X named by its entries
found["#4:2"] = all(
    agree(sum(sp.diff(sp.sin(v), w) * d for w, d in zip(xs, dxs)), sp.cos(v) * dv) for v, dv in zip(xs, dxs)
)
found["#4:3"] = True  # the matrix of cos(x_ij) dx_ij is cos(X) (element-wise) times dX

# #5: f = a^T exp(X b), a: 3 x 1, X: 3 x 2, b: 2 x 1
a, b = rand(3, 1) / 5, rand(2, 1) / 5
Xv = rand(3, 2) / 5
dXv = rand(3, 2)
t = sp.Symbol("t")
E = (Xv * b).applyfunc(sp.exp)
exact = sp.diff((a.T * ((Xv + t * dXv) * b).applyfunc(sp.exp))[0], t).subs(t, 0)
had = lambda u, v: u.multiply_elementwise(v)  # noqa: E731
e5 = [
    exact,
    (a.T * had(E, dXv * b))[0],
    (a.T * had(E, dXv * b)).trace(),
    (had(a, E).T * dXv * b).trace(),
    (b * had(a, E).T * dXv).trace(),
    ((had(a, E) * b.T).T * dXv).trace(),
]
for k in range(5):
    found[f"#5:{k + 1}"] = agree(e5[k], e5[k + 1])

# #6, #7: tr(AB) by rows, and its gradient (A: n x m, B: k x n with k = m)
nn, mm = 3, 2
As = sp.Matrix(nn, mm, sp.symbols("a1:7"))
Bs = sp.Matrix(mm, nn, sp.symbols("b1:7"))
rowsA = [As[i, :] for i in range(nn)]
rowsB = [Bs[:, i].T for i in range(nn)]  # B = [b_1; ...; b_n]^T: b_i is the i-th column of B, as a row
stack = sp.Matrix.vstack(*rowsA) * sp.Matrix.vstack(*rowsB).T
blocks = sp.Matrix(nn, nn, lambda i, j: (rowsA[i] * rowsB[j].T)[0])
found["#6:1"] = agree((As * Bs).trace(), stack.trace())
found["#6:2"] = agree(stack.trace(), blocks.trace())
found["#6:3"] = agree(blocks.trace(), sum((rowsA[i] * rowsB[i].T)[0] for i in range(nn)))
found["#7:1"] = all(agree(sp.diff((As * Bs).trace(), As[i, j]), Bs[j, i]) for i in range(nn) for j in range(mm))

finish(
    found,
    "#1:1 #1:2 #2:1 #2:2 #3:1 #3:2 #3:3 #3:4 #3:5 #3:6 #3:7 #4:1 #4:2 #4:3 #5:1 #5:2 #5:3 #5:4 #5:5 "
    "#6:1 #6:2 #6:3 #7:1",
    false="#3:6 #3:7",
)
