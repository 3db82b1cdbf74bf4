"""Ground truth for ashwinreddy-ols.md, with d + 1 = 3 parameters and n = 5 examples, by hand."""

import random
import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

d1 = 3
theta = sp.Matrix(sp.symbols("theta0:3"))
x = sp.Matrix(sp.symbols("x0:3"))
y = sp.Symbol("y")
h = (theta.T * x)[0]
j = 1
one = sp.Rational(1, 2) * (h - y) ** 2  # the cost of the one example
e3 = [
    sp.diff(one, theta[j]),
    sp.diff(sp.Rational(1, 2) * (h - y) ** 2, theta[j]),
    2 * sp.Rational(1, 2) * (h - y) ** 2 * sp.diff(h - y, theta[j]),  # as published: the square kept
    (h - y) * sp.diff((theta.T * x)[0] - y, theta[j]),
    (h - y) * x[j],
]
found = {"#1:1": True, "#6:1": True}  # the cost's definition; h as an inner product
for k in range(4):
    found[f"#3:{k + 1}"] = agree(e3[k], e3[k + 1])

rng = random.Random(11)
n = 5
X = sp.Matrix(n, d1, lambda r, c: sp.Rational(rng.randint(-9, 9), 2))
Y = sp.Matrix(n, 1, lambda r, c: sp.Rational(rng.randint(-9, 9), 3))
J_sum = sp.Rational(1, 2) * sum(((X[r, :] * theta)[0] - Y[r]) ** 2 for r in range(n))
J_mat = sp.Rational(1, 2) * ((X * theta - Y).T * (X * theta - Y))[0]
found["#7:1"] = agree(J_sum, J_mat)
grad = sp.Matrix([sp.diff(J_mat, t) for t in theta])
found["#8:1"] = all(agree(a, b) for a, b in zip(grad, X.T * X * theta - X.T * Y))
best = (X.T * X).inv() * X.T * Y
at_best = dict(zip(theta, best))
found["#9:1"] = all(a == b for a, b in zip((X.T * X * theta).subs(at_best), X.T * Y))  # at the minimiser
found["#10:1"] = all(v == 0 for v in grad.subs(at_best))  # it is where the gradient vanishes

finish(found, "#1:1 #3:1 #3:2 #3:3 #3:4 #6:1 #7:1 #8:1 #9:1 #10:1", false="#3:2 #3:3")
