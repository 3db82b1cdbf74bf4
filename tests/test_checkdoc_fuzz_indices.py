"""check-doc's convolution reading against lines whose truth is known by construction.

A 1-D or 2-D correlation or convolution is built at random small sizes and kernel widths, indices
from 0 over half-open ranges; its gradient lines are written the ways posts write them (index
arithmetic in the subscripts, a sum up to a range's open end alone, `outside: zero`), and perturbed
(an offset off by one, a kernel index turned the wrong way, a range bound moved, `outside`
missing). The test works out what each line means itself, in plain Python: every side is a
polynomial in entries the test names, a dict from monomials to integers, and an entry outside its
tensor is absent (with `outside: zero`) or makes the binding inapplicable (without it). So are
sizes related between layers, kernels named by their channel with a sample index shadowed by a
sum, a Jacobian in its declared layout, a number added entry by entry, and sizes written with YAML
merge keys. A true line must be proven, a false one refuted, and a false line is never proven;
without `outside: zero`, a line is judged at the index values where every entry it names exists,
and the reader must say so.

The second half undoes the new reading rules one at a time (index arithmetic, half-open ranges,
`outside`, the layout, the samples, the channels, `elementwise`) and requires the verdicts of the
generated true lines to change.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import itertools
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.checkdoc import check_document
from symgrad.checkdoc import declarations as declarations_module
from symgrad.core.errors import SymgradError

# the module, not the function check() that symgrad.checkdoc exports under the same name
check_module = importlib.import_module("symgrad.checkdoc.check")
FUZZ = settings(max_examples=12, derandomize=True, deadline=None, database=None)

# what the reader says of a line it proves only at the index values where its entries exist
RESTRICTED = ("where every entry it names exists", "the sizes that have the entries it names")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-indices")


def outcomes(folder, front: str, body: str) -> list:
    """Each link's verdict, "proven*" where it is proven only where its entries exist."""
    path = folder / "post.md"
    path.write_text(f"---\nsymgrad:\n{front}---\n\n{body}", encoding="utf-8")
    found = []
    for link in check_document(path).links:
        restricted = link.verdict == "proven" and any(r in link.reason for r in RESTRICTED)
        found.append(("proven*" if restricted else link.verdict, link.reason))
    return found


def display(formula: str) -> str:
    return f"$$ {formula} $$\n"


def poly(*terms) -> Counter:
    """A polynomial: each term a tuple of entry names (a monomial) with coefficient 1."""
    return Counter(tuple(sorted(t)) for t in terms)


def same(a: Counter, b: Counter) -> bool:
    return +a == +b and -a == -b  # zero coefficients dropped


DELTA = "\\\\frac{{\\\\partial J}}{{\\\\partial x_{}}}"  # δ_u = ∂J/∂x_u, as YAML's double quotes write it


class Absent(Exception):
    """An entry outside its tensor, where the declarations do not say it is absent."""


def expected(bindings: list) -> str:
    """The verdict the construction implies: `bindings` holds, for each value of the line's free
    indices, whether its sides are equal there, or None where it names an entry outside its tensor
    (and outside: zero is not declared)."""
    kept = [b for b in bindings if b is not None]
    if not kept:
        return "unchecked"
    if not all(kept):
        return "refuted"
    return "proven" if len(kept) == len(bindings) else "proven*"


def check(found: list, truth: str) -> None:
    """The verdict the construction implies: a false line is never proven, and a true line is
    proven (none is left undecided)."""
    ((verdict, reason),) = found
    assert verdict == truth, (verdict, reason, truth)


# --- a correlation or convolution, 1-D or 2-D, from 0 over half-open ranges -----------------------

INPUT, KERNEL, OUTPUT = ("M", "N"), ("F", "G"), ("O", "P")  # size names per axis
KIDX, OIDX, IIDX, DIDX = ("a", "b"), ("i", "j"), ("r", "s"), ("u", "v")  # index letters per axis


def spelled(letter: str, terms: list, constant: int) -> str:
    """An index as a post writes it: i+a-1, r-a, a letter and integers."""
    text = letter
    for sign, term in terms:
        text += ("+" if sign > 0 else "-") + term
    if constant:
        text += f"{constant:+d}"
    return text


def subscript(parts: list, grouped: bool) -> str:
    return ",".join(f"({p})" if grouped and not p.isalpha() else p for p in parts)


@st.composite
def convolutions(draw, perturbations=("none", "none", "offset", "flip", "bound", "outside", "delta")):
    dims = draw(st.sampled_from([1, 1, 2]))
    inputs = [draw(st.integers(2, 5 if dims == 1 else 3)) for _ in range(dims)]
    perturbation = draw(st.sampled_from(perturbations))
    # without outside, a kernel at most half the input leaves some index values whose entries all exist
    narrow = perturbation == "outside" and draw(st.booleans())
    kernels = [draw(st.integers(1, (m + 1) // 2 if narrow else m)) for m in inputs]
    turned = [draw(st.booleans()) for _ in range(dims)]  # a convolution's kernel runs the other way
    # the input index of output u and kernel offset a: u + a, or u - a + f - 1 turned
    shift = [f - 1 if t else 0 for f, t in zip(kernels, turned)]
    sign = [-1 if t else 1 for t in turned]
    kind = draw(st.sampled_from(["dw", "dy"]))
    axis = draw(st.integers(0, dims - 1))
    outside = perturbation != "outside"
    merged = draw(st.booleans())  # a second size written with a YAML merge key
    grouped = draw(st.booleans())  # y_{(i+a)} or y_{i+a}
    open_end = draw(st.booleans())  # \sum^{O}_i or \sum_{i=0}^{O-1}

    # the front matter, the sizes perhaps written twice with a merge key
    first = ", ".join(f"{INPUT[d]}: {inputs[d]}, {KERNEL[d]}: {kernels[d]}" for d in range(dims))
    relations = ", ".join(f'{OUTPUT[d]}: "{INPUT[d]} - {KERNEL[d]} + 1"' for d in range(dims))
    sizes = [dict(zip(INPUT, inputs)) | dict(zip(KERNEL, kernels))]
    if merged:
        grown = draw(st.integers(0, dims - 1))
        second = dict(sizes[0])
        second[INPUT[grown]] += 1
        size_text = (
            f"  sizes:\n  - &one {{{first}, {relations}}}\n  - {{<<: *one, {INPUT[grown]}: {second[INPUT[grown]]}}}\n"
        )
        sizes.append(second)
    else:
        size_text = f"  sizes: [{{{first}, {relations}}}]\n"
    for size in sizes:
        for d in range(dims):
            size[OUTPUT[d]] = size[INPUT[d]] - size[KERNEL[d]] + 1
    half = {}
    for d in range(dims):
        half |= {KIDX[d]: KERNEL[d], OIDX[d]: OUTPUT[d], DIDX[d]: OUTPUT[d], IIDX[d]: INPUT[d]}
    indices = ", ".join(f'{k}: "[0, {v})"' for k, v in half.items())
    forward = "y_{" + ",".join(spelled(DIDX[d], [(sign[d], KIDX[d])], shift[d]) for d in range(dims)) + "}"
    forward = (
        "".join(f"\\\\sum_{{{KIDX[d]}=0}}^{{{KERNEL[d]}-1}} " for d in range(dims))
        + "w_{"
        + ",".join(KIDX[:dims])
        + "} "
        + forward
    )
    x_at = "{" + ",".join(DIDX[:dims]) + "}"
    front = (
        size_text
        + f"  indices: {{{indices}}}\n"
        + "  tensors: {Y: ["
        + ", ".join(f'"[0, {INPUT[d]})"' for d in range(dims))
        + "], W: ["
        + ", ".join(f'"[0, {KERNEL[d]})"' for d in range(dims))
        + "]}\n"
        + f'  define: {{"x_{x_at}": "{forward}", "\\\\delta_{x_at}": "{DELTA.format(x_at)}"}}\n'
        + "  given: {J: x}\n"
        + ("  outside: zero\n" if outside else "")
    )

    # the line: ∂J/∂w_a = Σ_i y_{i+a} δ_i, or ∂J/∂y_r = Σ_a w_a δ_{r-a} (a convolution's signs turned)
    offsets = list(shift)
    signs = list(sign)
    delta_shift = [0] * dims
    if perturbation == "offset":
        offsets[axis] += draw(st.sampled_from([-1, 1]))
    elif perturbation == "flip":
        signs[axis] = -signs[axis]
    elif perturbation == "delta":
        delta_shift[axis] = draw(st.sampled_from([-1, 1]))
    summed = OIDX if kind == "dw" else KIDX
    ends = OUTPUT if kind == "dw" else KERNEL
    # each sum's range, as the test works it out at a size: first and last value
    moved = draw(st.sampled_from([(1, 0), (0, -1), (0, 1)])) if perturbation == "bound" else (0, 0)
    sums = []
    for d in range(dims):
        low, high = moved if d == axis else (0, 0)
        if (low, high) == (0, 0) and open_end:
            sums.append((f"\\sum^{{{ends[d]}}}_{summed[d]} ", (0, 0)))
        else:
            top = f"{ends[d]}{high - 1:+d}" if high != 1 else ends[d]
            sums.append((f"\\sum_{{{summed[d]}={low}}}^{{{top}}} ", (low, high)))
    if kind == "dw":
        y_parts = [spelled(OIDX[d], [(signs[d], KIDX[d])], offsets[d]) for d in range(dims)]
        d_parts = [spelled(OIDX[d], [], delta_shift[d]) for d in range(dims)]
        left = f"\\frac{{\\partial J}}{{\\partial w_{{{','.join(KIDX[:dims])}}}}}"
        right = f"y_{{{subscript(y_parts, grouped)}}} \\delta_{{{subscript(d_parts, grouped)}}}"
    else:
        # y_r is read by output u at offset a where r = u + σa + c, so u = r - σa - c
        d_parts = [spelled(IIDX[d], [(-signs[d], KIDX[d])], delta_shift[d] - offsets[d]) for d in range(dims)]
        left = f"\\frac{{\\partial J}}{{\\partial y_{{{','.join(IIDX[:dims])}}}}}"
        right = f"w_{{{','.join(KIDX[:dims])}}} \\delta_{{{subscript(d_parts, grouped)}}}"
    line = left + " = " + "".join(text for text, _ in sums) + right

    def binding_truth(size, free):
        """Whether the line holds at these values of its free indices (None: not applicable)."""
        ins = [size[INPUT[d]] for d in range(dims)]
        ks = [size[KERNEL[d]] for d in range(dims)]
        os_ = [size[OUTPUT[d]] for d in range(dims)]

        def entry(name, at, bounds):
            if all(0 <= v < n for v, n in zip(at, bounds)):
                return f"{name}{tuple(at)}"
            if outside:
                return None  # absent: its term is 0
            raise Absent

        # the left side, the chain rule through every x_u: Σ_u δ_u ∂x_u/∂(the entry)
        truth_left = Counter()
        for u in itertools.product(*(range(n) for n in os_)):
            for a in itertools.product(*(range(k) for k in ks)):
                at = [u[d] + sign[d] * a[d] + shift[d] for d in range(dims)]
                if kind == "dw" and list(a) == free:
                    truth_left[tuple(sorted((f"y{tuple(at)}", f"d{tuple(u)}")))] += 1
                if kind == "dy" and at == free:
                    truth_left[tuple(sorted((f"w{tuple(a)}", f"d{tuple(u)}")))] += 1
        # the right side as written, each sum over its written range
        ranges = []
        for d in range(dims):
            low, high = sums[d][1]
            end = os_[d] if kind == "dw" else ks[d]
            ranges.append(range(low, end + high))
        truth_right = Counter()
        try:
            for t in itertools.product(*ranges):
                if kind == "dw":
                    y = entry("y", [t[d] + signs[d] * free[d] + offsets[d] for d in range(dims)], ins)
                    dl = entry("d", [t[d] + delta_shift[d] for d in range(dims)], os_)
                    factors = (y, dl)
                else:
                    w = entry("w", list(t), ks)
                    dl = entry("d", [free[d] - signs[d] * t[d] - offsets[d] + delta_shift[d] for d in range(dims)], os_)
                    factors = (w, dl)
                if None not in factors:
                    truth_right[tuple(sorted(factors))] += 1
        except Absent:
            return None
        return same(truth_left, truth_right)

    bindings = []
    for size in sizes:
        free_bounds = KERNEL if kind == "dw" else INPUT
        for free in itertools.product(*(range(size[free_bounds[d]]) for d in range(dims))):
            bindings.append(binding_truth(size, list(free)))
    return front, display(line), expected(bindings), perturbation


@FUZZ
@given(convolutions())
def test_a_convolution_line_gets_the_verdict_its_construction_implies(folder, case):
    front, body, truth, _ = case
    check(outcomes(folder, front, body), truth)


# --- sizes named per layer and related between layers --------------------------------------------


@st.composite
def layered_sizes(draw, perturbations=("none", "none", "constant", "dropped", "relation")):
    # w^{(k+1)} = w^{(k)} - f^{(k)} + c_k for k = 1..K, so w^{(K+1)} = w^{(1)} - Σ f^{(k)} + Σ c_k
    layers = draw(st.integers(1, 3))
    kernels = [draw(st.integers(1, 3)) for _ in range(layers)]
    steps = [draw(st.integers(0, 2)) for _ in range(layers)]
    perturbation = draw(st.sampled_from(perturbations))
    below_first = draw(st.booleans())  # w_{img}^{(k)}, as w^{(k)}_{img} prints

    def w(k):
        return f"w_{{img}}^{{({k})}}" if below_first else f"w^{{({k})}}_{{img}}"

    declared = list(steps)
    if perturbation == "relation":  # the sizes declared with one step other than the line assumes
        declared[draw(st.integers(0, layers - 1))] += draw(st.sampled_from([-1, 1]))
    widths = [sum(kernels) + 2 + draw(st.integers(0, 2)) for _ in range(2)]
    sizes = []
    for width in widths:
        size = {"w1": width}
        for k in range(layers):
            size[f"w{k + 2}"] = size[f"w{k + 1}"] - kernels[k] + declared[k]
        sizes.append(size)
    relations = ", ".join(
        f'"w^{{({k + 2})}}_{{img}}": "w^{{({k + 1})}}_{{img}} - f^{{({k + 1})}} {declared[k]:+d}"'
        for k in range(layers)
    )
    kernel_sizes = ", ".join(f'"f^{{({k + 1})}}": {kernels[k]}' for k in range(layers))
    names = ", ".join(f'"({k})": {k}' for k in range(1, layers + 2))
    front = (
        f"  layers: {{{names}}}\n"
        f'  sizes:\n  - &first {{"w^{{(1)}}_{{img}}": {widths[0]}, {kernel_sizes}, {relations}}}\n'
        f'  - {{<<: *first, "w^{{(1)}}_{{img}}": {widths[1]}}}\n'
        "  indices: {}\n  tensors: {}\n"
    )
    written = list(range(layers))
    constant = sum(steps)
    if perturbation == "constant":
        constant += draw(st.sampled_from([-1, 1]))
    elif perturbation == "dropped":
        written.pop(draw(st.integers(0, layers - 1)))
    line = f"{w(layers + 1)} = {w(1)} " + " ".join(f"- f^{{({k + 1})}}" for k in written) + f" {constant:+d}"
    holds = [size[f"w{layers + 1}"] == size["w1"] - sum(kernels[k] for k in written) + constant for size in sizes]
    return front, display(line), "proven" if all(holds) else "refuted", perturbation


# --- a kernel named by its channel, the sample index shadowed by the width's sum -------------------


@st.composite
def channel_lines(draw, perturbations=("none", "none", "channel", "sample", "samples only z", "offset", "bias")):
    # z_{s,u,g} = Σ_{t=1}^{h} x_{s,u+t-1} k_{g,t} + c_g, written z_{n,i,f} = Σ_{n=1}^{h} x_{n,i+n-1} w(f)_n + b(f)
    samples, width, kernels = draw(st.integers(1, 2)), draw(st.integers(2, 4)), draw(st.integers(1, 2))
    taps = draw(st.integers(1, width))
    outs = width - taps + 1
    perturbation = draw(st.sampled_from(perturbations))
    sampled = {"sample": "{s: [x, z]}", "samples only z": "{n: [z]}"}.get(perturbation, "{n: [x, z]}")
    front = (
        f'  sizes: [{{N: {samples}, m: {width}, h: {taps}, F: {kernels}, o: "m - h + 1"}}]\n'
        "  indices: {n: N, s: N, u: o, g: F, i: o, f: F, j: h}\n"
        "  tensors: {X: [N, m], K: [F, h], C: [F]}\n"
        '  define: {"z_{s,u,g}": "\\\\sum_{t=1}^{h} x_{s,u+t-1} k_{g,t} + c_{g}"}\n'
        f"  channels: {{w: K, b: C}}\n  samples: {sampled}\n"
    )
    channel = "i" if perturbation == "channel" else "f"  # the kernel of the output's position
    bias = "i" if perturbation == "bias" else "f"
    shift = 0 if perturbation == "offset" else -1
    line = f"z_{{n,i,f}} = \\sum_{{n=1}}^{{h}} x_{{n, i+n{shift:+d}}} w({channel})_{{n}} + b({bias})"
    # with the samples declared on x, the first n of x stays the sample; else the sum binds it
    keeps_sample = perturbation not in ("sample", "samples only z")
    shapes = {"x": (samples, width), "k": (kernels, taps), "c": (kernels,)}

    def entry(name, *at):
        if not all(1 <= v <= n for v, n in zip(at, shapes[name])):
            raise Absent
        return f"{name}{at}"

    bindings = []
    for n, i, f in itertools.product(range(1, samples + 1), range(1, outs + 1), range(1, kernels + 1)):
        left = poly(*((entry("x", n, i + t - 1), entry("k", f, t)) for t in range(1, taps + 1)), (entry("c", f),))
        letters = {"i": i, "f": f}
        try:
            right = poly(
                *(
                    (entry("x", n if keeps_sample else t, i + t + shift), entry("k", letters[channel], t))
                    for t in range(1, taps + 1)
                ),
                (entry("c", letters[bias]),),
            )
        except Absent:
            bindings.append(None)
            continue
        bindings.append(same(left, right))
    return front, display(line), expected(bindings), perturbation


# --- a Jacobian in its declared layout, and a number added entry by entry --------------------------


def _times(a: Counter, b: Counter) -> Counter:
    out: Counter = Counter()
    for ma, ca in a.items():
        for mb, cb in b.items():
            out[tuple(sorted(ma + mb))] += ca * cb
    return out


def _derivative(p: Counter, name: str) -> Counter:
    out: Counter = Counter()
    for monomial, c in p.items():
        power = monomial.count(name)
        if power:
            rest = list(monomial)
            rest.remove(name)
            out[tuple(rest)] += c * power
    return out


@st.composite
def jacobian_lines(draw, perturbations=("none", "none", "layout", "transposed", "coefficient")):
    # z_k = α x_k x_t + β x_k^e + γ x_t, t fixed; ∂L/∂x = ∂z/∂x ∂L/∂z is the chain rule in the
    # denominator layout, and in the numerator layout with the Jacobian transposed
    n, t = draw(st.integers(2, 3)), draw(st.integers(1, 2))
    alpha, beta, gamma = (draw(st.integers(-2, 3)) for _ in range(3))
    e = draw(st.integers(1, 3))
    layout = draw(st.sampled_from(["numerator", "denominator"]))
    perturbation = draw(st.sampled_from(perturbations))
    transposed = layout == "numerator"
    if perturbation == "layout":
        layout = "denominator" if layout == "numerator" else "numerator"
    elif perturbation == "transposed":
        transposed = not transposed
    scale = 2 if perturbation == "coefficient" else 1
    front = (
        f"  sizes: [{{n: {n}}}]\n  indices: {{i: n, k: n}}\n  tensors: {{X: [n]}}\n"
        f'  define: {{"z_{{k}}": "{alpha} x_{{k}} x_{{{t}}} {beta:+d} x_{{k}}^{{{e}}} {gamma:+d} x_{{{t}}}"}}\n'
        f"  given: {{L: z}}\n  layout: {layout}\n"
    )
    jac = "(\\frac{\\partial z}{\\partial x})^T" if transposed else "\\frac{\\partial z}{\\partial x}"
    line = (
        f"\\frac{{\\partial L}}{{\\partial x}} = {'2 ' if scale == 2 else ''}{jac} \\frac{{\\partial L}}{{\\partial z}}"
    )

    def z(k):
        x = [Counter({(f"x{j}",): 1}) for j in range(n + 1)]
        out = Counter({m: alpha * c for m, c in _times(x[k], x[t]).items()})
        out.update({(f"x{k}",) * e: beta})  # update, not +: a Counter's + drops negative coefficients
        out.update({(f"x{t}",): gamma})
        return out

    def entry(row, column):  # the Jacobian's entry as the declared layout reads it
        of, by = (column, row) if layout == "denominator" else (row, column)
        return _derivative(z(of), f"x{by}")

    rows = []
    for i in range(1, n + 1):
        chain = Counter()  # Σ_k ∂z_k/∂x_i g_k
        written = Counter()
        for k in range(1, n + 1):
            chain.update(_times(_derivative(z(k), f"x{i}"), Counter({(f"g{k}",): 1})))
            factor = entry(k, i) if transposed else entry(i, k)
            written.update(_times(Counter({m: scale * c for m, c in factor.items()}), Counter({(f"g{k}",): 1})))
        rows.append(same(chain, written))
    return front, display(line), "proven" if all(rows) else "refuted", perturbation


@st.composite
def elementwise_lines(draw, perturbations=("none", "none", "coefficient", "dropped", "undeclared")):
    # z_k = p x_k + q a, a a number: Z = p X + q a adds q a to every entry where elementwise: true
    n, p, q = draw(st.integers(2, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    perturbation = draw(st.sampled_from(perturbations))
    front = (
        f"  sizes: [{{n: {n}}}]\n  indices: {{k: n}}\n  tensors: {{X: [n]}}\n  scalars: [a]\n"
        f'  define: {{"z_{{k}}": "{p} x_{{k}} + {q} a"}}\n'
        + ("" if perturbation == "undeclared" else "  elementwise: true\n")
    )
    written_p = p + 1 if perturbation == "coefficient" else p
    line = f"Z = {written_p} X" + ("" if perturbation == "dropped" else f" + {q} a")
    if perturbation == "undeclared":  # a number added to a vector, its meaning not declared: not read
        return front, display(line), "unchecked", perturbation
    return front, display(line), "proven" if perturbation == "none" else "refuted", perturbation


FAMILIES = {
    "convolutions": convolutions,
    "sizes related between layers": layered_sizes,
    "channels and samples": channel_lines,
    "a Jacobian's layout": jacobian_lines,
    "a number added entry by entry": elementwise_lines,
}


ALL = {"proven", "refuted", "proven*", "unchecked"}
REACHES = {  # the verdicts each family's constructions imply
    "convolutions": ALL,
    "sizes related between layers": {"proven", "refuted"},
    "channels and samples": ALL,
    "a Jacobian's layout": {"proven", "refuted"},
    "a number added entry by entry": {"proven", "refuted", "unchecked"},
}


@pytest.mark.parametrize("family", FAMILIES, ids=list(FAMILIES))
def test_a_line_gets_the_verdict_its_construction_implies(folder, family):
    seen: set = set()
    generate = FAMILIES[family]
    perturbations = inspect.signature(generate).parameters["perturbations"].default
    for perturbation in dict.fromkeys(perturbations):  # each one drawn as often as the others

        @settings(FUZZ, max_examples=16 if family == "convolutions" else 8)
        @given(generate(perturbations=(perturbation,)))
        def run(case):
            front, body, truth, _ = case
            check(outcomes(folder, front, body), truth)
            seen.add(truth)

        run()
    # the examples reach every verdict the family can imply
    assert seen >= REACHES[family], seen


def test_a_size_declared_twice_is_one_size(folder):
    # found by the layered sizes above: two declared sizes that a merge key makes equal were taken
    # for two sizes, one without the entries, and a line proven at both said "at w = 3, the sizes
    # that have the entries it names"; the other reason stays where a size lacks them (x_{3} at m = 2)
    front = "  sizes:\n  - &one {m: 3}\n  - {<<: *one}\n  indices: {i: m}\n  tensors: {X: [m]}\n"
    assert outcomes(folder, front, display("x_{i} + x_{i} = 2 x_{i}")) == [("proven", "")]
    front = "  sizes:\n  - &one {m: 3}\n  - {<<: *one, m: 2}\n  indices: {i: m}\n  tensors: {X: [m]}\n"
    ((verdict, reason),) = outcomes(folder, front, display("x_{3} + x_{3} = 2 x_{3}"))
    assert verdict == "proven*" and "at m = 3, the sizes that have the entries it names" in reason


# --- the reader changed on purpose: the generated true lines must notice ---------------------------


def _declared_otherwise(monkeypatch, **change):
    """The declarations read, then changed as a reader without the rule would have them."""
    read = declarations_module.Declarations.read.__func__

    def mutant(cls, data):
        decl = read(cls, data)
        return dataclasses.replace(decl, **{key: value(decl) for key, value in change.items()})

    monkeypatch.setattr(declarations_module.Declarations, "read", classmethod(mutant))


def _first_letters(node):
    if isinstance(node, tuple) and node[:1] == ("sym",) and node[2] is not None:
        return ("sym", node[1], tuple(re.match(r"[A-Za-z]'*|[0-9]+", part).group() for part in node[2]))
    if isinstance(node, (list, tuple)):
        out = [_first_letters(c) if isinstance(c, (list, tuple)) else c for c in node]
        return out if isinstance(node, list) else tuple(out)
    return node


def _undo(monkeypatch, rule: str) -> None:
    if rule == "index arithmetic undone":
        # the lines' subscripts read as their first letter alone (i+a-1 as i); the definitions keep
        # theirs, which the same change would turn as the lines and leave every line as true
        parse_chain = check_module.parse_chain
        monkeypatch.setattr(check_module, "parse_chain", lambda text, *rest: _first_letters(parse_chain(text, *rest)))
    elif rule == "a half-open range read as closed":
        interval = declarations_module._interval

        def closed(written):
            if isinstance(written, str) and written.strip().endswith(")"):
                written = written.strip()[:-1] + "]"
            return interval(written)

        monkeypatch.setattr(declarations_module, "_interval", closed)
    elif rule == "outside ignored":
        _declared_otherwise(monkeypatch, outside=lambda decl: False)
    elif rule == "the layout swapped":
        swapped = {"numerator": "denominator", "denominator": "numerator", "": ""}
        _declared_otherwise(monkeypatch, layout=lambda decl: swapped[decl.layout])
    elif rule == "samples ignored":
        _declared_otherwise(monkeypatch, samples=lambda decl: {})
    elif rule == "channels ignored":
        _declared_otherwise(monkeypatch, channels=lambda decl: {})
    elif rule == "elementwise ignored":
        _declared_otherwise(monkeypatch, elementwise=lambda decl: False)


@pytest.mark.parametrize(
    "rule, family",
    [
        ("index arithmetic undone", convolutions),
        ("a half-open range read as closed", convolutions),
        ("outside ignored", convolutions),
        ("the layout swapped", jacobian_lines),
        ("samples ignored", channel_lines),
        ("channels ignored", channel_lines),
        ("elementwise ignored", elementwise_lines),
    ],
)
def test_a_reading_rule_undone_is_caught_by_the_generated_true_lines(folder, monkeypatch, rule, family):
    _undo(monkeypatch, rule)
    changed = []

    @FUZZ
    @given(family(perturbations=("none",)))
    def run(case):
        front, body, truth, _ = case
        assert truth == "proven"
        try:
            found = outcomes(folder, front, body)
        except SymgradError:  # the declarations refused under the mutant: a change all the same
            found = [("error", "")]
        changed.append([verdict for verdict, _ in found] != [truth])

    run()
    assert any(changed), rule
