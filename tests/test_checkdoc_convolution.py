"""check-doc reads a convolution's derivation as published: sizes named per layer and related
between layers, index arithmetic in subscripts, indices from 0 over half-open ranges, and entries
outside a map taken as absent where the post says so. Each construct is taken from a post of the
corpus (tests/data/corpus, cited in each test), reduced to a few lines, with a correct line proven
and a slipped one refuted. Each expected verdict is worked out by hand in its comment."""

from __future__ import annotations

import re

import pytest

from symgrad.checkdoc import check_document
from symgrad.core.errors import SymgradError

from .test_checkdoc_published import display, links, post, verdicts

# --- sizes named per layer, and related between layers -------------------------------------------

# scthe-backprop-cnn.md #17 and #18: a kernel of width f^{(l)} fits w^{(l)} - f^{(l)} + 1 times in a
# row of width w^{(l)}, so three layers take f^{(1)} + f^{(2)} + f^{(3)} - 3 off the width
LAYERED = {
    "layers": {"(l)": "l", "(l+1)": "l+1", "(1)": 1, "(2)": 2, "(3)": 3, "(L)": "L"},
    "sizes": [
        {
            "w^{(l)}_{img}": width,
            "f^{(l)}": 2,
            "w^{(l+1)}_{img}": "w^{(l)}_{img} - f^{(l)} + 1",
            "w^{(1)}_{img}": width + 4,
            "f^{(1)}": 2,
            "f^{(2)}": 3,
            "f^{(3)}": 2,
            "w^{(2)}_{img}": "w^{(1)}_{img} - f^{(1)} + 1",
            "w^{(3)}_{img}": "w^{(2)}_{img} - f^{(2)} + 1",
            "w^{(L)}_{img}": "w^{(3)}_{img} - f^{(3)} + 1",
        }
        for width in (3, 5)
    ],
    "indices": {},
    "tensors": {},
}


def test_a_size_related_between_layers_is_read_as_declared(tmp_path):
    # #17 restates the declared relation: proven. #18 follows from it three times: w^{(L)} =
    # ((w - 2 + 1) - 3 + 1) - 2 + 1 = w - 4 = w - 2 - 3 - 2 + 3: proven; "+ 2" instead of "+ 3"
    # is one less: refuted at the first size (w^{(1)} = 7: 3 and 2)
    body = (
        display("w^{(l+1)}_{img} = w^{(l)}_{img} - f^{(l)} + 1")
        + display("w^{(L)}_{img} = w^{(1)}_{img} - f^{(1)} - f^{(2)} - f^{(3)} + 3")
        + display("w^{(L)}_{img} = w^{(1)}_{img} - f^{(1)} - f^{(2)} - f^{(3)} + 2")
    )
    found = links(tmp_path, body, LAYERED)
    assert [verdict for verdict, _ in found] == ["proven", "proven", "refuted"]
    assert "the sides are 3 and 2" in found[2][1]


def test_a_size_of_a_layer_not_declared_is_named(tmp_path):
    # w^{(2)}_{img} written where only w^{(l)} and w^{(l+1)} are declared: "(2)" names no layer
    decl = {**LAYERED, "layers": {"(l)": "l", "(l+1)": "l+1"}}
    decl["sizes"] = [{k: v for k, v in s.items() if "(l" in k} for s in LAYERED["sizes"]]
    ((verdict, reason),) = links(tmp_path, display("w^{(2)}_{img} = w^{(l)}_{img} - 1"), decl)
    assert verdict == "unchecked" and "not read" in reason


@pytest.mark.parametrize(
    "sizes, message",
    [
        ({"w^{(k)}_{img}": 3}, "a size is named by a word"),  # (k) is no declared layer
        ({"f^{(l)}": 2, "w^{(l)}_{img}": "f^{(l)} - 2"}, "positive integers"),  # a relation giving 0
        ({"w^{(l)}_{img}": "v + 1"}, "is not read|not a declared size"),  # v is no size
    ],
)
def test_sizes_related_wrongly_are_one_error(tmp_path, sizes, message):
    decl = {"layers": {"(l)": "l"}, "sizes": [sizes], "indices": {}, "tensors": {}}
    with pytest.raises(SymgradError, match=message):
        check_document(post(tmp_path, display("1 = 1"), decl))


def test_a_relation_evaluated_wrongly_is_caught(tmp_path, monkeypatch):
    # mutation: a size written as a relation taken one more than it says; #17 is then refuted
    import symgrad.checkdoc.declarations as declarations

    original = declarations.size_constant
    monkeypatch.setattr(declarations, "size_constant", lambda node, size: original(node, size) + 1)
    assert verdicts(tmp_path, display("w^{(l+1)}_{img} = w^{(l)}_{img} - f^{(l)} + 1"), LAYERED) == ["refuted"]


# --- a convolution from 0: index arithmetic, half-open ranges, entries outside the map ----------

# scthe-backprop-cnn.md #19-#25 in one dimension: x_p = Σ_a w_a y_{p+a} over a row of m = 3 inputs,
# a kernel of f = 2 and o = m - f + 1 = 2 outputs, every index from 0 over the half-open ranges the
# post writes (a ∈ [0, f^{(l)}), #16), J given through x, and an entry outside the row absent
CONV = {
    "sizes": [{"m": 3, "f": 2, "o": "m - f + 1"}],
    "indices": {"a": "[0, f)", "i": "[0, o)", "p": "[0, o)", "r": "[0, m)"},
    "tensors": {"Y": ["[0, m)"], "W": ["[0, f)"]},
    "define": {"x_{p}": "\\sum_{a=0}^{f-1} w_{a} y_{p+a}", "\\delta_{p}": "\\frac{\\partial J}{\\partial x_{p}}"},
    "given": {"J": "x"},
    "outside": "zero",
}


def test_index_arithmetic_in_a_subscript_is_read(tmp_path):
    # #24: ∂J/∂w_a = Σ_i y_{(i+a)} δ_i, the sum written up to the open end o of i's range: x_i
    # reads w_a through y_{i+a}, so the chain rule gives exactly that: proven. With y_{(i-a)} the
    # terms move: at a = 1, Σ_i y_{i-1} δ_i = y_0 δ_1 (y_{-1} absent), not y_1 δ_0 + y_2 δ_1: refuted
    body = display("\\frac{\\partial J}{\\partial w_{a}} = \\sum^{o}_i y_{(i+a)} \\delta_{i}") + display(
        "\\frac{\\partial J}{\\partial w_{a}} = \\sum^{o}_i y_{(i-a)} \\delta_{i}"
    )
    assert verdicts(tmp_path, body, CONV) == ["proven", "refuted"]


def test_the_error_terms_with_the_kernel_turned_the_wrong_way_are_refuted(tmp_path):
    # #22: y_r reaches x_p where p = r - a, so ∂J/∂y_r = Σ_a w_a δ_{r-a}, δ outside 0..o-1 absent:
    # proven. The post's δ_{(r+a)} is refuted: at r = 0 it gives w_0 δ_0 + w_1 δ_1, not w_0 δ_0
    body = display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{r-a}") + display(
        "\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{(r+a)}"
    )
    found = links(tmp_path, body, CONV)
    assert [verdict for verdict, _ in found] == ["proven", "refuted"]
    assert "r = 0" in found[1][1]


def test_an_upper_bound_alone_is_the_open_end_only_of_a_half_open_range(tmp_path):
    # i declared [0, o-1] (closed): \sum^{o}_i would run one past its last value; not read
    decl = {**CONV, "indices": {**CONV["indices"], "i": "[0, o-1]"}}
    ((verdict, reason),) = links(
        tmp_path, display("\\frac{\\partial J}{\\partial w_{a}} = \\sum^{o}_i y_{(i+a)} \\delta_{i}"), decl
    )
    assert verdict == "unchecked" and "write the lower bound" in reason


def test_without_outside_declared_an_entry_outside_the_map_is_not_taken_as_zero(tmp_path):
    # the correct #22 line names δ_{-1} at r = 0: without outside: zero that binding is not
    # checked, and the line is proven only where every entry exists (r = 1, 2: w_0 δ_1 + w_1 δ_0 and
    # w_1 δ_1 for r = 2, δ_2 not existing there either, so r = 1 alone)
    decl = {k: v for k, v in CONV.items() if k != "outside"}
    ((verdict, reason),) = links(
        tmp_path, display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{r-a}"), decl
    )
    assert verdict == "proven" and reason.endswith("where every entry it names exists (not at r = 0; r = 2)")
    # the slip stays refuted at r = 0, where all its entries exist
    ((verdict, _),) = links(
        tmp_path, display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{(r+a)}"), decl
    )
    assert verdict == "refuted"


def test_the_index_values_a_line_skips_are_named_in_full(tmp_path):
    # x_i x_{j+1} = x_{j+1} x_i over i, j in 1..3: x_4 does not exist, so the line is proven where
    # j = 1, 2 and not at j = 3, whatever i is (i is left out of the points named). With x_{i-1}
    # as well, the skipped points are i = 1 (any j) or j = 3: five of them, no letter left out,
    # the first four named in binding order
    decl = {"sizes": [{"n": 3}], "indices": {"i": "n", "j": "n"}, "tensors": {"X": ["n"]}}
    ((verdict, reason),) = links(tmp_path, display("x_{i} x_{j+1} = x_{j+1} x_{i}"), decl)
    assert verdict == "proven" and reason.endswith("(not at j = 3)")
    ((verdict, reason),) = links(tmp_path, display("x_{i-1} x_{j+1} = x_{j+1} x_{i-1}"), decl)
    assert verdict == "proven" and reason.endswith(
        "(not at i = 1, j = 1; i = 1, j = 2; i = 1, j = 3; i = 2, j = 3 and 1 other)"
    )


def test_the_index_values_a_line_skips_are_named_with_their_size_when_sizes_differ(tmp_path):
    # the correct #22 line without outside: zero, at m = 3 and m = 4: δ_{-1} at r = 0 for both,
    # δ_{o} at r = 2 for m = 3 and at r = 3 for m = 4; f, the same at both, is not named
    decl = {k: v for k, v in CONV.items() if k != "outside"}
    decl["sizes"] = [{"m": 3, "f": 2, "o": "m - f + 1"}, {"m": 4, "f": 2, "o": "m - f + 1"}]
    ((verdict, reason),) = links(
        tmp_path, display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{r-a}"), decl
    )
    assert verdict == "proven" and reason.endswith(
        "(not at m = 3, o = 2, r = 0; m = 3, o = 2, r = 2; m = 4, o = 3, r = 0; m = 4, o = 3, r = 3)"
    )


@pytest.mark.parametrize(
    "subscript, message",
    [
        ("y_{2i+1}", "not a sum of indices and integers"),
        ("y_{i,-(a+1)}", "a group after a minus sign"),
        ("y_{i+}", "not a sum of indices and integers"),
    ],
)
def test_a_subscript_that_is_not_a_sum_of_indices_is_named(tmp_path, subscript, message):
    ((verdict, reason),) = links(tmp_path, display(f"{subscript} = y_{{1}}"), CONV)
    assert verdict == "unchecked" and message in reason


def test_outside_declared_wrongly_is_one_error(tmp_path):
    with pytest.raises(SymgradError, match="outside is zero"):
        check_document(post(tmp_path, display("y_{1} = y_{1}"), {**CONV, "outside": "yes"}))


def test_index_arithmetic_with_its_minus_read_as_a_plus_is_caught(tmp_path, monkeypatch):
    # mutation: r-a evaluated as r+a; #22's correct line is then the post's slip, refuted at r = 0
    import symgrad.checkdoc.values as values

    original = values.index_value
    monkeypatch.setattr(values, "index_value", lambda part, value_of: original(part.replace("-", "+"), value_of))
    body = display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{r-a}")
    assert verdicts(tmp_path, body, CONV) == ["refuted"]


def test_an_entry_outside_taken_as_its_neighbour_is_caught(tmp_path, monkeypatch):
    # mutation: an index outside the map clamped to its edge instead of absent; the correct #22
    # line is refuted at r = 0 (δ_{-1} read as δ_0)
    import symgrad.checkdoc.values as values

    original = values.index_value
    monkeypatch.setattr(values, "index_value", lambda part, value_of: max(0, original(part, value_of)))
    body = display("\\frac{\\partial J}{\\partial y_{r}} = \\sum^{f}_a w_{a} \\delta_{r-a}")
    assert verdicts(tmp_path, body, CONV) == ["refuted"]


@pytest.mark.parametrize(
    "written, parts",
    [
        # sootla-conv-backprop.md #1 and #4: the kernel's offsets, and the offsets substituted
        ("x_{n, i+m-1, j+n-1, d}", ("n", "i+m-1", "j+n-1", "d")),
        ("x_{n, (i-m+1)+a-1, (j-n+1)+b-1, c}", ("n", "i-m+a", "j-n+b", "c")),
        # scthe-backprop-cnn.md #19
        ("y_{(i+a),(j+b),k}", ("i+a", "j+b", "k")),
        ("x_{i+1}", ("i+1",)),
    ],
)
def test_index_arithmetic_is_spelled_plainly(written, parts):
    from symgrad.checkdoc.latex import parse

    assert parse(written) == ("sym", "x" if written[0] == "x" else "y", parts)


# --- a kernel named by its channel, and a sample index shadowed by a sum --------------------------

# sootla-conv-backprop.md #1, #6 and #7 in one dimension: two samples (n) of a row of m = 3 inputs,
# F = 2 kernels w(f) of h = 2 taps and biases b(f), o = 2 outputs, indices from 1; the width's
# summation index n shadows the sample n, which stays the first index of x and z (samples)
SAMPLED = {
    "sizes": [{"N": 2, "m": 3, "h": 2, "F": 2, "o": "m - h + 1"}],
    "indices": {"n": "N", "s": "N", "u": "o", "g": "F", "i": "o", "f": "F", "a": "o", "j": "h"},
    "tensors": {"X": ["N", "m"], "K": ["F", "h"], "C": ["F"]},
    "define": {"z_{s,u,g}": "\\sum_{t=1}^{h} x_{s,u+t-1} k_{g,t} + c_{g}"},
    "given": {"L": "z"},
    "channels": {"w": "K", "b": "C"},
    "samples": {"n": ["x", "z"]},
}


def test_a_kernel_named_by_its_channel_is_its_entry(tmp_path):
    # #1: z_{n,i,f} = Σ_{n=1}^{h} x_{n, i+n-1} w(f)_{n} + b(f), w(f)_{n} the entry K_{f,n}: the
    # declared z, proven. With b(f) left out, the sides differ by c_f: refuted
    line = "z_{n,i,f} = \\sum_{n=1}^{h} x_{n, i+n-1} w(f)_{n} {}"
    body = display(line.replace("{}", "+ b(f)")) + display(line.replace("{}", ""))
    assert verdicts(tmp_path, body, SAMPLED) == ["proven", "refuted"]


def test_a_sample_index_under_a_sum_over_its_letter_stays_the_sample(tmp_path):
    # #7: ∂L/∂w(f)_{j} = Σ_{n=1}^{N} Σ_{a=1}^{o} ∂L/∂z_{n,a,f} x_{n,a+j-1}: proven; with
    # x_{n,a+j} instead, each term moves one input along (x_{n,3} at a = 2, j = 1 is not x_{n,2}):
    # refuted
    line = (
        "\\frac{\\partial L}{\\partial w(f)_{j}} = "
        "\\sum_{n=1}^{N} \\sum_{a=1}^{o} \\frac{\\partial L}{\\partial z_{n,a,f}} x_{n,a+j{}}"
    )
    body = display(line.replace("{}", "-1")) + display(line.replace("{}", ""))
    assert verdicts(tmp_path, body, SAMPLED) == ["proven", "refuted"]


def test_without_samples_a_sum_binds_its_letter_everywhere(tmp_path):
    # the same #1 read as written, with no samples declared: the sum over n binds the first n of x
    # too, so the right side mixes the samples (x_{1,i} K_{f,1} + x_{2,i+1} K_{f,2}): at n = 1 it is
    # not z_{1,i,f}, refuted. The declaration is what makes the post's line mean what it says
    decl = {k: v for k, v in SAMPLED.items() if k != "samples"}
    assert verdicts(tmp_path, display("z_{n,i,f} = \\sum_{n=1}^{h} x_{n, i+n-1} w(f)_{n} + b(f)"), decl) == ["refuted"]


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("channels", {"\\omega": "K"}, "channels maps a letter"),  # a channel is written with a plain letter
        ("channels", {"w": ["K"]}, "channels maps a letter"),
        ("samples", {"n": "x"}, "samples maps the sample's index letter"),
    ],
)
def test_channels_and_samples_declared_wrongly_are_one_error(tmp_path, key, value, message):
    with pytest.raises(SymgradError, match=message):
        check_document(post(tmp_path, display("x_{1,1} = x_{1,1}"), {**SAMPLED, key: value}))


@pytest.mark.parametrize(
    "change, message",
    [
        # w(f) naming a tensor that is not declared: said once, before any line is read
        ({"channels": {"w": "Q", "b": "C"}}, "channels names Q for w(f), which is not a declared tensor"),
        # the channels' size F not declared: the index f over it is one error too
        ({"sizes": [{"N": 2, "m": 3, "h": 2, "o": "m - h + 1"}]}, "the index f ranges over 'F', which no declared"),
    ],
)
def test_channels_without_their_tensor_or_size_are_one_error(tmp_path, change, message):
    line = "z_{n,i,f} = \\sum_{n=1}^{h} x_{n, i+n-1} w(f)_{n} + b(f)"
    with pytest.raises(SymgradError, match=re.escape(message)):
        check_document(post(tmp_path, display(line) + display(line), {**SAMPLED, **change}))


def test_a_sum_capturing_the_sample_is_caught(tmp_path, monkeypatch):
    # mutation: the sample's place renamed with the rest (samples ignored): #1 is refuted
    import symgrad.checkdoc.summation as summation

    monkeypatch.setattr(summation, "_renamed_but_samples", lambda node, var, fresh, sampled: _rename(node, var, fresh))
    assert verdicts(tmp_path, display("z_{n,i,f} = \\sum_{n=1}^{h} x_{n, i+n-1} w(f)_{n} + b(f)"), SAMPLED) == [
        "refuted"
    ]


def _rename(node, var, fresh):
    import re

    if isinstance(node, tuple) and node[:1] == ("sym",):
        if node[2] is None:
            return ("sym", fresh, None) if node[1] == var else node
        return ("sym", node[1], tuple(re.sub(rf"(?<![A-Za-z']){var}(?!')", fresh, p) for p in node[2]))
    if isinstance(node, (list, tuple)):
        out = [_rename(c, var, fresh) if isinstance(c, (list, tuple)) else c for c in node]
        return out if isinstance(node, list) else tuple(out)
    return node


def test_a_sum_over_the_samples_letter_without_its_bound_is_not_read(tmp_path):
    # Σ_n with nothing above: over the samples (binding x's first n) or over another range
    ((verdict, reason),) = links(tmp_path, display("z_{n,i,f} = \\sum_{n} x_{n, i+n-1} w(f)_{n} + b(f)"), SAMPLED)
    assert verdict == "unchecked" and "without its upper bound" in reason


# --- the chain rule of one variable, in Leibniz's notation ---------------------------------------


def test_the_chain_rule_written_with_d_over_d_is_a_ratio_of_differentials(tmp_path):
    # scthe-backprop-cnn.md #1: {dz \over dx} = {dz \over dy} \cdot {dy \over dx}, with y = g(x) and
    # z = h(y) for any functions g, h: dz = h'(g(x)) g'(x) dx and dy = g'(x) dx, so both sides are
    # h'(g(x)) g'(x): proven. A sum instead of the product, or dz/dy alone, is refuted
    decl = {
        "sizes": [{"n": 1}],
        "indices": {},
        "tensors": {},
        "scalars": ["x"],
        "functions": {"d": "differential", "g": "activation", "h": "activation"},
        "define": {"y": "g(x)", "z": "h(y)"},
    }
    body = (
        display("{dz \\over dx} = {dz \\over dy} \\cdot {dy \\over dx}")
        + display("{dz \\over dx} = {dz \\over dy} + {dy \\over dx}")
        + display("{dz \\over dx} = {dz \\over dy}")
    )
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted", "refuted"]


# --- a vector identity with numbers broadcast, and a Jacobian's layout ----------------------------

# liorsinai-layernorm.md #1 and #3 with a map whose Jacobian is not symmetric: z_k = x_k x_1 + x_k²
JACOBIAN = {
    "sizes": [{"n": 2}],
    "indices": {"i": "n", "k": "n"},
    "tensors": {"X": ["n"]},
    "scalars": ["a", "b"],
    "define": {"z_{k}": "x_{k} x_{1} + x_{k}^{2}"},
    "given": {"L": "z"},
}
CHAIN = "\\frac{\\partial L}{\\partial x} = \\frac{\\partial z}{\\partial x} \\frac{\\partial L}{\\partial z}"


def test_a_jacobian_is_read_in_its_declared_layout(tmp_path):
    # rows x_i (denominator): (∂z/∂x)_{ik} = ∂z_k/∂x_i, and Σ_k ∂z_k/∂x_i ∂L/∂z_k is the chain rule:
    # proven. Rows z_k (numerator): the product takes Σ_k ∂z_i/∂x_k ∂L/∂z_k, which differs (∂z_1/∂x_2
    # = 0 but ∂z_2/∂x_1 = x_2): refuted; with the Jacobian transposed it is proven again
    transposed = CHAIN.replace("\\frac{\\partial z}{\\partial x}", "(\\frac{\\partial z}{\\partial x})^T")
    assert verdicts(tmp_path, display(CHAIN), {**JACOBIAN, "layout": "denominator"}) == ["proven"]
    body = display(CHAIN) + display(transposed)
    assert verdicts(tmp_path, body, {**JACOBIAN, "layout": "numerator"}) == ["refuted", "proven"]


def test_without_a_layout_a_jacobian_is_not_read(tmp_path):
    # z alone is then no vector (z_k is its entries), and ∂z_k/∂x as a column would be a guess
    ((verdict, reason),) = links(tmp_path, display(CHAIN), JACOBIAN)
    assert verdict == "unchecked" and "the symbol z is not declared" in reason
    # a declared vector Y = z's values differentiated by x: the Jacobian again, its layout asked for
    decl = {**JACOBIAN, "tensors": {"X": ["n"], "Y": ["n"]}, "define": {}, "given": {}}
    ((verdict, reason),) = links(tmp_path, display("\\frac{\\partial y}{\\partial x} = 0"), decl)
    assert verdict == "unchecked" and "declare its layout" in reason
    with pytest.raises(SymgradError, match="layout is numerator"):
        check_document(post(tmp_path, display(CHAIN), {**JACOBIAN, "layout": "rows"}))


def test_a_jacobian_laid_out_the_other_way_is_caught(tmp_path, monkeypatch):
    # mutation: the denominator layout built with the numerator's orientation; #3 is refuted
    import sympy

    monkeypatch.setattr(sympy.Matrix, "vstack", staticmethod(lambda *rows: sympy.Matrix.hstack(*(r.T for r in rows))))
    assert verdicts(tmp_path, display(CHAIN), {**JACOBIAN, "layout": "denominator"}) == ["refuted"]


def test_a_number_added_to_a_vector_is_read_entry_by_entry_where_declared(tmp_path):
    # #1: Z = a (X - μ)/σ + b, a, b, μ, σ numbers, where z_k = a (x_k - μ)/σ + b: proven with
    # elementwise declared; b left out, refuted; without the declaration, not read
    decl = {
        **JACOBIAN,
        "define": {
            "\\mu": "\\frac{1}{n}\\sum_{i=1}^{n} x_{i}",
            "\\sigma": "x_{1} x_{1} + 1",
            "z_{k}": "a \\frac{x_{k} - \\mu}{\\sigma} + b",
        },
        "elementwise": True,
    }
    body = display("Z = a\\frac{X-\\mu}{\\sigma} + b") + display("Z = a\\frac{X-\\mu}{\\sigma}")
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]
    ((verdict, reason), _) = links(tmp_path, body, {k: v for k, v in decl.items() if k != "elementwise"})
    assert verdict == "unchecked" and "declare elementwise: true" in reason


def test_a_cost_defined_with_its_parameters_and_a_semicolon_is_its_body(tmp_path):
    # scthe-backprop-cnn.md #4 and #12 with one output unit: J(W,b;Y,X) = 1/2 (Y - h_{W,b}(X))², h
    # the output f_a(x_1): ∂J/∂x_1 = (h - Y) f_a'(x_1), proven; (Y - h) f_a'(x_1) has the sign turned,
    # refuted wherever h ≠ Y and f_a' ≠ 0
    decl = {
        "sizes": [{"n": 1}],
        "indices": {"j": "n"},
        "tensors": {"X": ["n"]},
        "scalars": ["Y"],
        "functions": {"f_a": "activation"},
        "define": {"h_{W,b}(X)": "f_a(x_{1})", "J(W,b;Y,X)": "\\frac{1}{2} (Y - f_a(x_{1}))^{2}"},
    }
    line = "\\frac{\\partial}{\\partial x_j} J(W,b;Y,X) = ({}) \\cdot {f_a}'(x_j)"
    body = display(line.replace("{}", "h_{W,b}(X) - Y", 1)) + display(line.replace("{}", "Y - h_{W,b}(X)", 1))
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]


def test_a_sum_up_to_the_open_end_of_an_empty_range_is_read(tmp_path):
    # an index over [0, 0) takes no value: \sum^{0}_q y_q is the empty sum, 0 (proven), never 1
    # (refuted at the only size, the sides 0 and 1); the range's end is read from its bounds, so
    # an empty range is no crash
    decl = {**CONV, "indices": {**CONV["indices"], "q": "[0, 0)"}}
    found = links(tmp_path, display("\\sum^{0}_q y_{q} = 0") + display("\\sum^{0}_q y_{q} = 1"), decl)
    assert [verdict for verdict, _ in found] == ["proven", "refuted"]
    assert "the sides are 0 and 1" in found[1][1]


@pytest.mark.parametrize("subscript", ["-+a+p", "+-a+p", "--a+p"])
def test_two_signs_in_a_row_in_a_subscript_are_not_read(tmp_path, subscript):
    # y_{-+a+p} is y_{p-a}, which x_p does not read: it was taken as y_{a+p} (the first sign
    # dropped) and proven; y_{--a+p} is y_{p+a} and was refuted. Two signs in a row are not read,
    # as i-+a never was: unchecked, never a verdict on another formula
    ((verdict, reason),) = links(tmp_path, display(f"x_{{p}} = \\sum^{{f}}_a w_{{a}} y_{{{subscript}}}"), CONV)
    assert verdict == "unchecked" and "two signs in a row" in reason


def test_a_sign_inside_a_group_is_still_read(tmp_path):
    # y_{(-a)+p} is y_{p-a}: at p = 0 it reads y_0 and y_{-1} (absent), not y_0 and y_1: refuted
    body = display("x_{p} = \\sum^{f}_a w_{a} y_{(-a)+p}") + display("x_{p} = \\sum^{f}_a w_{a} y_{(+a)+p}")
    assert verdicts(tmp_path, body, CONV) == ["refuted", "proven"]


@pytest.mark.parametrize("written", ["[1, N]", "[0, N)"])
def test_the_samples_letter_over_a_range_is_one_error(tmp_path, written):
    # a sum over the samples is told apart by its bound, the samples' size N. Declared over a
    # range, n had no size to match, so Σ_{n=1}^{N} x_n was renamed and read as N·x_n: the false
    # Σ_{n=1}^{N} x_n = 2 x_n (N = 2) was proven and the true x_1 + x_2 refuted. Now refused
    decl = {
        "sizes": [{"N": 2}],
        "indices": {"n": written},
        "tensors": {"X": [written]},
        "samples": {"n": ["x"]},
    }
    with pytest.raises(SymgradError, match=r"the samples' index n ranges over a declared size.*got '\[[01], N[\])]'"):
        check_document(post(tmp_path, display("\\sum_{n=1}^{N} x_{n} = 2 x_{n}"), decl))


def test_a_sum_up_to_the_samples_size_binds_the_sample(tmp_path):
    # with n: N declared, Σ_{n=1}^{N} is the sum over the samples: x_1 + x_2 (proven), not 2 x_n
    # (refuted at n = 1: x_1 + x_2 and 2 x_1)
    decl = {"sizes": [{"N": 2}], "indices": {"n": "N"}, "tensors": {"X": ["N"]}, "samples": {"n": ["x"]}}
    body = display("\\sum_{n=1}^{N} x_{n} = x_{1} + x_{2}") + display("\\sum_{n=1}^{N} x_{n} = 2 x_{n}")
    assert verdicts(tmp_path, body, decl) == ["proven", "refuted"]


def test_every_short_subscript_is_read_as_python_reads_it_or_not_at_all():
    # every index of up to five tokens of i, a, 1, +, -, (, ): read, it has the value Python's own
    # arithmetic gives the same text at two points, or it is refused; never another value
    import itertools

    from symgrad.checkdoc.latex import Unsupported, _linear

    read = 0
    for n in range(1, 6):
        for tokens in itertools.product(["i", "a", "1", "+", "-", "(", ")"], repeat=n):
            text = "".join(tokens)
            try:
                spelled = _linear(list(tokens), text)
            except Unsupported:
                continue
            read += 1
            for i, a in ((3, 7), (11, -5)):
                at = {"i": f"({i})", "a": f"({a})"}
                value = "".join(at.get(t, t) for t in text)
                assert eval(_spelled(spelled, at)) == eval(value), (text, spelled)
    assert read > 200  # sums, groups and signs were really read


def _spelled(spelled: str, at: dict) -> str:
    return "".join(at.get(t, t) for t in spelled)
