"""The packed (NumPy) path of the element-wise engine and of the proof's product comparisons.

Large layers take it by default; here a fixture forces it on small ones, so that every result can
be compared with the pure-Python loop it replaces, and the mutation tests run through it too."""

from __future__ import annotations

import gc
import random

import pytest

import symgrad
from symgrad.chain import engine
from symgrad.core import packed
from symgrad.core.tensor import PolyTensor, ProductTensor, matmul

from .conftest import require_torch
from .test_mutations import CONV, MATMUL

pytestmark = pytest.mark.skipif(not packed.available(), reason="NumPy is not installed")


@pytest.fixture
def forced(monkeypatch):
    """Every layer and every product through the packed path, however small."""
    monkeypatch.setattr(packed, "MIN_TERMS", 0)


def random_layer(rng: random.Random, distinct_upstreams: bool):
    """Definitions of degree 0–2 with integer coefficients (repeats and cancellations among them),
    and single-variable upstream entries, shared between outputs unless ``distinct_upstreams``."""
    n_in = rng.randint(2, 10)
    wrt = list(range(n_in))
    definitions, upstreams = [], []
    n_out = rng.randint(1, 25)
    for o in range(n_out):
        entry: dict = {}
        for _ in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.1:
                mono: tuple = (rng.randrange(n_in),)
            elif roll < 0.13:
                mono = ()
            else:
                a, b = rng.sample(wrt, 2)
                mono = (min(a, b), max(a, b))
            entry[mono] = entry.get(mono, 0) + rng.choice([1, 1, 2, -1, -3])
        definitions.append({m: c for m, c in entry.items() if c})
        g = n_in + 3 + (o if distinct_upstreams else rng.randrange(2))
        upstreams.append({} if rng.random() < 0.1 else {(g,): rng.choice([1, 2, -1])})
    return definitions, upstreams, wrt


@pytest.mark.parametrize("distinct", [True, False])
def test_the_packed_share_is_the_loop_share_insertion_order_included(forced, distinct):
    rng = random.Random(f"share-{distinct}")
    compared = 0
    for _ in range(300):
        definitions, upstreams, wrt = random_layer(rng, distinct)
        fast = packed.layer_share(definitions, upstreams, wrt)
        slow = engine.loop_share(definitions, upstreams, wrt)
        if fast is None:
            continue
        compared += 1
        assert fast == slow
        assert list(fast) == list(slow)  # the variables in the loop's order
        assert [list(p) for p in fast.values()] == [list(p) for p in slow.values()]  # and each one's terms
    assert compared > 250


def test_the_packed_share_declines_what_it_cannot_hold(forced):
    square = [{(0, 0): 1, (0, 1): 1}]
    cube = [{(0, 1, 2): 1}]
    fraction = [{(0, 1): packed_fraction()}]
    two_terms = [{(0, 1): 1}]
    up = [{(9,): 1}]
    assert packed.layer_share(square, up, [0, 1]) is None
    assert packed.layer_share(cube, up, [0, 1, 2]) is None
    assert packed.layer_share(fraction, up, [0, 1]) is None
    assert packed.layer_share(two_terms, [{(9,): 1, (8,): 1}], [0, 1]) is None  # an upstream of two terms
    assert packed.layer_share(two_terms, [{(9,): 2**70}], [0, 1]) is None  # too large for 64 bits
    assert packed.layer_share(two_terms, up, [0]) is None  # 1 is made inside the layer
    # the loop gives the right answer for each of them
    assert engine.layer_share(square, up, [0, 1]) == {0: {(0, 9): 2, (1, 9): 1}, 1: {(0, 9): 1}}


def packed_fraction():
    from fractions import Fraction

    return Fraction(1, 2)


def test_a_share_whose_sums_cancel_keeps_the_variable_with_no_terms(forced):
    definitions = [{(0, 1): 1}, {(0, 1): -1}]
    upstreams = [{(5,): 1}, {(5,): 1}]  # one upstream variable for both: the two terms meet and cancel
    assert packed.layer_share(definitions, upstreams, [0, 1]) == engine.loop_share(definitions, upstreams, [0, 1])
    assert packed.layer_share(definitions, upstreams, [0, 1]) == {0: {}, 1: {}}


@pytest.mark.parametrize("loss", ["generic", "mean", "sum"])
def test_a_matmul_derived_on_the_packed_path_is_the_one_derived_by_the_loop(monkeypatch, loss):
    monkeypatch.setattr(packed, "MIN_TERMS", 10**9)
    slow = symgrad.matmul(5, 6, 4, loss)
    monkeypatch.setattr(packed, "MIN_TERMS", 0)
    fast = symgrad.matmul(5, 6, 4, loss)
    for name in ("A", "B"):
        assert fast.grads_upstream[name].entries == slow.grads_upstream[name].entries
        assert [list(p) for p in fast.grads_upstream[name].entries] == [
            list(p) for p in slow.grads_upstream[name].entries
        ]
    assert fast.prove().ok and slow.prove().ok
    assert str(fast.prove()) == str(slow.prove())


def test_a_conv2d_derived_on_the_packed_path_is_the_one_derived_by_the_loop(monkeypatch):
    shape = dict(input_shape=(2, 2, 5, 4), weight_shape=(3, 2, 2, 3), stride=(2, 1), padding=1)
    monkeypatch.setattr(packed, "MIN_TERMS", 10**9)
    slow = symgrad.conv2d(**shape, loss="generic")
    monkeypatch.setattr(packed, "MIN_TERMS", 0)
    fast = symgrad.conv2d(**shape, loss="generic")
    for name in ("X", "W", "b"):
        assert [list(p.items()) for p in fast.grads_upstream[name].entries] == [
            list(p.items()) for p in slow.grads_upstream[name].entries
        ]
    assert fast.prove().ok


@pytest.mark.tools
def test_packed_gradients_match_autograd(forced):
    torch = require_torch()
    d = symgrad.matmul(4, 5, 3, "generic")
    rng = random.Random(11)
    A = torch.tensor([[rng.uniform(-2, 2) for _ in range(5)] for _ in range(4)], dtype=torch.float64)
    B = torch.tensor([[rng.uniform(-2, 2) for _ in range(3)] for _ in range(5)], dtype=torch.float64)
    G = torch.tensor([[rng.uniform(-1, 1) for _ in range(3)] for _ in range(4)], dtype=torch.float64)
    A.requires_grad_(True)
    B.requires_grad_(True)
    A.mm(B).backward(G)
    values = {d.inputs["A"][i, j]: A[i, j].item() for i in range(4) for j in range(5)}
    values |= {d.inputs["B"][i, j]: B[i, j].item() for i in range(5) for j in range(3)}
    values |= {d.upstream[i, j]: G[i, j].item() for i in range(4) for j in range(3)}
    for name, tensor in (("A", A), ("B", B)):
        ours = d.grad[name].xreplace(values)
        for i in range(ours.rows):
            for j in range(ours.cols):
                assert float(ours[i, j]) == pytest.approx(tensor.grad[i, j].item(), abs=1e-12, rel=0)


@pytest.fixture
def mm_packed(forced):
    d = symgrad.matmul(3, 4, 2, "mean")
    assert d.prove().ok
    return d


@pytest.fixture
def cv_packed(forced):
    d = symgrad.conv2d((2, 2, 4, 5), (2, 1, 2, 3), stride=(2, 1), padding=1, groups=2, loss="sum")
    assert d.prove().ok
    return d


@pytest.mark.parametrize("name", list(MATMUL))
def test_matmul_mutations_are_caught_on_the_packed_path(mm_packed, name):
    proof = MATMUL[name](mm_packed).prove()
    assert proof.status == "refuted" and not proof.ok, name


@pytest.mark.parametrize("name", list(CONV))
def test_conv2d_mutations_are_caught_on_the_packed_path(cv_packed, name):
    proof = CONV[name](cv_packed).prove()
    assert proof.status == "refuted" and not proof.ok, name


def test_a_packed_engine_that_drops_a_term_is_caught(forced, monkeypatch):
    right = packed.layer_share

    def dropping(definitions, upstreams, wrt):
        grads = right(definitions, upstreams, wrt)
        if grads is not None and len(grads) > 1:
            x = sorted(grads)[len(grads) // 2]
            grads[x] = dict(list(grads[x].items())[1:])
        return grads

    monkeypatch.setattr(packed, "layer_share", dropping)
    d = symgrad.matmul(3, 3, 2, "generic")
    assert d.prove().status == "refuted"


# --- the product tensor's comparison ----------------------------------------------------------------


def symbols(shape, start):
    ids = tuple(range(start, start + shape[0] * shape[1]))
    return PolyTensor(shape, tuple({(v,): 1} for v in ids), ids)


def product_pair():
    x, y = symbols((3, 4), 0), symbols((4, 2), 100)
    product = matmul(x, y)
    plain = PolyTensor((3, 2), tuple(dict(p) for p in product.entries))
    return product, plain


def test_a_product_is_packed_and_equals_its_entries(forced):
    product, plain = product_pair()
    assert isinstance(product, ProductTensor)
    assert product == plain and plain == product
    reordered = PolyTensor(plain.shape, tuple(dict(reversed(list(p.items()))) for p in plain.entries))
    assert product == reordered  # another order of terms is the same polynomial: the entries decide


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda p: {**p, next(iter(p)): 2},  # a coefficient
        lambda p: dict(list(p.items())[1:]),  # a term dropped
        lambda p: {**p, (0, 1): 1},  # a term added
        lambda p: {(0, 100, 1): 1, (102,): 1, **dict(list(p.items())[2:])},  # the same ints, other monomials
    ],
)
def test_a_product_is_not_equal_to_a_corrupted_tensor(forced, corrupt):
    product, plain = product_pair()
    entries = list(plain.entries)
    entries[0] = corrupt(entries[0])
    wrong = PolyTensor(plain.shape, tuple(entries))
    assert product != wrong and wrong != product


def test_a_product_keeps_its_factors_when_the_lists_it_was_given_change():
    # the 2×2 product of x = [[0, 1], [2, 3]] and y = [[100, 101], [102, 103]]; the caller then swaps
    # x's first row in its own list. The product is still x·y, and not equal to the product with
    # the row swapped (entry (0, 0) is x_1 y_100 + x_0 y_102 there, x_0 y_100 + x_1 y_102 here)
    xi, yi = [0, 1, 2, 3], [100, 101, 102, 103]

    def product_of(xs):
        return tuple({(xs[2 * i], yi[j]): 1, (xs[2 * i + 1], yi[2 + j]): 1} for i in range(2) for j in range(2))

    right, swapped = product_of([0, 1, 2, 3]), product_of([1, 0, 2, 3])
    product = ProductTensor((2, 2), lambda: right, (xi, yi, (2, 2, 2), False))
    xi[0], xi[1] = xi[1], xi[0]
    assert product != PolyTensor((2, 2), swapped)
    assert product == PolyTensor((2, 2), right)


def test_the_collector_still_collects_what_a_paused_build_made():
    import weakref

    class Node:
        pass

    with engine.gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
        watch = weakref.ref(a)
    assert gc.isenabled()
    del a, b
    gc.collect()
    assert watch() is None


def test_without_numpy_every_path_is_the_pure_python_one(monkeypatch):
    monkeypatch.setattr(packed, "MIN_TERMS", 0)
    with_numpy = symgrad.matmul(4, 3, 5, "generic")
    monkeypatch.setattr(packed, "np", None)
    assert not packed.available()
    d = symgrad.matmul(4, 3, 5, "generic")
    assert not isinstance(matmul(symbols((3, 4), 0), symbols((4, 2), 100)), ProductTensor)
    assert [list(p.items()) for p in d.grads_upstream["A"].entries] == [
        list(p.items()) for p in with_numpy.grads_upstream["A"].entries
    ]
    assert d.prove().ok


def test_objects_the_program_froze_stay_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with engine.gc_paused():
            pass
        # a thaw would leave none frozen; a few frozen objects may be freed meanwhile (their last
        # reference dropped by another thread or a finaliser), so the count is not exact
        assert gc.get_freeze_count() > frozen - 1000 and gc.isenabled()
    finally:
        gc.unfreeze()
