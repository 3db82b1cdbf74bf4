"""Ground truth for goubasarian-attention.md, at n = h = 2 (d_k = h), by hand, each gradient checked
against SymPy's derivative of the composed forward pass. dL/dC is a free matrix G (L = sum G * C),
so every gradient is checked for any upstream gradient. zeta_k names the gradient of its line."""

import sys
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import agree, finish

n, h = 2, 2
Q = sp.Matrix(n, h, sp.symbols("q1:5"))
K = sp.Matrix(n, h, sp.symbols("k1:5"))
V = sp.Matrix(n, h, sp.symbols("v1:5"))
G = sp.Matrix(n, h, sp.symbols("g1:5"))
ones = sp.ones(n, 1)
had = sp.Matrix.multiply_elementwise


def same(A, B):
    return A.shape == B.shape and all(agree(a, b, trials=2) for a, b in zip(A, B))


def grad(L, M):
    return M.applyfunc(lambda e: sp.diff(L, e))


W = Q * K.T / sp.sqrt(h)
B1 = W.applyfunc(sp.exp)
B2 = B1 * ones
B3 = B2.applyfunc(lambda e: 1 / e)
B4 = B3 * ones.T
B = had(B1, B4)
C = B * V
softmax = sp.Matrix(n, n, lambda i, j: sp.exp(W[i, j]) / sum(sp.exp(W[i, k]) for k in range(n)))

found = {"#1:1": True, "#2:1": True, "#2:2": True, "#2:3": True, "#3:1": True}  # definitions; #3 has no '='
found["#4:1"] = True  # B = softmax(W), the definition
found["#4:2"] = same(softmax, had(B1, (B1 * ones).applyfunc(lambda e: 1 / e) * ones.T))
found["#4:3"] = True  # the names B_1, B_2 substituted
found["#4:4"] = True  # B_3 = B_2^{-1}
found["#4:5"] = same(had(B1, B3 * ones.T), had(B1, B4))

# the true gradients, by the chain rule through named free matrices
Bs = sp.Matrix(n, n, sp.symbols("B1:5"))
dB = grad(sum(had(G, Bs * V)), Bs)  # dL/dB = G V^T
B1s = sp.Matrix(n, n, sp.symbols("E1:5"))
B4s = sp.Matrix(n, n, sp.symbols("F1:5"))
B3s = sp.Matrix(n, 1, sp.symbols("H1:3"))
B2s = sp.Matrix(n, 1, sp.symbols("J1:3"))
LB4 = sum(had(G, had(B1s, B4s) * V))
dB4 = grad(LB4, B4s).subs(dict(zip(B1s, B1)))
dB3 = grad(sum(had(G, had(B1s, B3s * ones.T) * V)), B3s).subs(dict(zip(B1s, B1)))
dB2 = grad(sum(had(G, had(B1s, B2s.applyfunc(lambda e: 1 / e) * ones.T) * V)), B2s).subs(
    {**dict(zip(B1s, B1)), **dict(zip(B2s, B2))}
)
LB1 = sum(had(G, had(B1s, (B1s * ones).applyfunc(lambda e: 1 / e) * ones.T) * V))
dB1 = grad(LB1, B1s).subs(dict(zip(B1s, B1)))
Ws = sp.Matrix(n, n, sp.symbols("U1:5"))
LW = sum(had(G, had(Ws.applyfunc(sp.exp), (Ws.applyfunc(sp.exp) * ones).applyfunc(lambda e: 1 / e) * ones.T) * V))
dW = grad(LW, Ws).subs(dict(zip(Ws, W)))
L = sum(had(G, C))
dV, dQ, dK = grad(L, V), grad(L, Q), grad(L, K)

z1 = B.T * G
assert same(dV, z1)
z2 = z1 * V.T  # as published: zeta_1 V^T
assert same(dB, G * V.T)
z3 = had(B1, dB)
z4 = z3 * ones
z5 = had(-had(B2, B2).applyfunc(lambda e: 1 / e), z4)
z6 = z5 * ones.T + had(z3, B4)  # as published: zeta_3 (not dL/dB) times B_4
assert same(dB1, z5 * ones.T + had(dB, B4))
z7 = had(B1, dB1)
found["inline:1:1"] = same(dV, B.T * G)
found["inline:1:2"] = True  # zeta_1 names it
found["inline:2:1"] = same(dB, z2)
found["inline:2:2"] = same(z2, dB)  # zeta_2 names dL/dB
found["inline:3:1"] = same(dB4, had(B1, dB))
found["inline:3:2"] = True
found["inline:4:1"] = same(dB3, z3 * ones)
found["inline:4:2"] = True
found["inline:5:1"] = same(dB2, z5)
found["inline:5:2"] = True
found["inline:6:1"] = same(dB1, z6)
found["inline:6:2"] = same(z6, dB1)  # zeta_6 names dL/dB_1
found["inline:7:1"] = same(dW, had(B1, dB1))
found["inline:7:2"] = True
found["inline:8:1"] = same(dQ, z7 * K / sp.sqrt(h))
found["inline:9:1"] = same(dK, z7.T * Q / sp.sqrt(h))

finish(
    found,
    "#1:1 #2:1 #2:2 #2:3 #3:1 #4:1 #4:2 #4:3 #4:4 #4:5 inline:1:1 inline:1:2 inline:2:1 inline:2:2 inline:3:1 "
    "inline:3:2 inline:4:1 inline:4:2 inline:5:1 inline:5:2 inline:6:1 inline:6:2 inline:7:1 inline:7:2 "
    "inline:8:1 inline:9:1",
    false="inline:2:1 inline:2:2 inline:6:1 inline:6:2",
)
