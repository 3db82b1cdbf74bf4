"""Ground truth for sonfl-linear-regression.md, with n + 1 = 3 parameters and m = 5 examples."""

import random
import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

n = 2
theta = sp.symbols(f"theta0:{n + 1}")
x = sp.symbols(f"x0:{n + 1}")
y = sp.Symbol("y")
h = sum(t * v for t, v in zip(theta, x))
found = {"#1:1": True, "#3:1": True, "#5:1": True, "#6:1": True}  # definition, assignment, continuations
found["#1:2"] = agree(sum(t * v for t, v in zip(theta, x)), (sp.Matrix(theta).T * sp.Matrix(x))[0])

# J(theta) = min over theta of the cost: the minimum does not depend on theta, the cost does
rng = random.Random(5)
m = 5
X = sp.Matrix(m, n + 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 3))
Y = sp.Matrix(m, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 2))
th = sp.Matrix(n + 1, 1, lambda i, j: sp.Rational(rng.randint(-9, 9), 4))
cost = lambda t: ((X * t - Y).T * (X * t - Y))[0] / 2  # noqa: E731
best = (X.T * X).inv() * X.T * Y
found["#2:1"] = cost(th) == cost(best)

i = 1
J1 = sp.Rational(1, 2) * (h - y) ** 2  # the cost of one training example
chain = [
    sp.diff(J1, theta[i]),
    sp.diff(sp.Rational(1, 2) * (h - y) ** 2, theta[i]),
    2 * sp.Rational(1, 2) * (h - y) * sp.diff(h - y, theta[i]),
    (h - y) * sp.diff(sum(t * v for t, v in zip(theta, x)) - y, theta[i]),
    (h - y) * x[i],
]
found["#4:1"] = agree(chain[0], chain[1])
found["#4:2"] = agree(chain[1], chain[2])  # the display ends with '=', continued by the next
found["#5:2"] = agree(chain[2], chain[3])
found["#6:2"] = agree(chain[3], chain[4])

finish(found, "#1:1 #1:2 #2:1 #3:1 #4:1 #4:2 #5:1 #5:2 #6:1 #6:2", false="#2:1")
