"""The compact closed forms of the compound layers, as implementations write them.

A compound layer (BatchNorm, LayerNorm, softmax, log-softmax, cross-entropy, attention) is built
from the exact layers, so its backward pass is already derived and proven layer by layer. What
people implement is shorter: one formula for the whole layer, such as BatchNorm's
(w/σ)(dy − mean(dy) − x̂·mean(dy·x̂)). Each form here is stated twice, in LaTeX for the document and
as a claim over the network's tensors (``symgrad.check``'s language), and the document's line is
checked by proving that claim at every element.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .graph import Block, Graph
from .units.base import grad_of, tex, transposed

# Compact forms are shown for compound layers up to this many input entries: checking one
# expands the whole layer into the inputs and the atoms, which grows fast with the layer's size.
# A 4×2×4 BatchNorm's check fits the default term budget; at 4×2×8 it is refused by the budget
# (about 19 million term products), so a document of that size could not be proven as a whole.
SHOWN_UP_TO = 32


@dataclass(frozen=True)
class Form:
    """dL/d(target) = the compact form, or, for an identity, left = right."""

    target: str  # the tensor whose gradient the form gives (or whose shape an identity has)
    lhs: str  # LaTeX
    rhs: str  # LaTeX
    claim: str  # the form over the network's tensors, as symgrad.check reads it
    other: str | None = None  # for an identity: the right side, as a claim


def _b(graph: Graph, name: str) -> str:
    return tex(graph, name)


def _dims_text(dims: tuple) -> str:
    return ",".join(str(d + 1) for d in dims)


def _num(q) -> str:
    q = Fraction(q)
    return str(q.numerator) if q.denominator == 1 else f"({q.numerator} / {q.denominator})"


def forms(graph: Graph, block: Block) -> list[Form]:
    r, b = block.roles, (lambda n: _b(graph, n))

    def _g(name: str) -> str:
        return grad_of(name, graph)

    kind = block.kind

    def of_input(rhs: str, claim: str) -> Form:  # dL/d(the layer's input)
        return Form(r["input"], _g(r["input"]), rhs, claim)

    if kind in ("batch_norm", "layer_norm"):
        dims, out, std, xhat = block.params["dims"], r["output"], r["std"], r["xhat"]
        D, mean = _dims_text(dims), f"mean({dims}, keepdim=True)"
        w = r.get("weight")
        if kind == "batch_norm" or w is None:  # a channel's weight is constant over the means: it factors out
            G, g = _g(out), f"d{out}"
            scale, shown = (f"{w} * ", rf"\frac{{{b(w)}}}{{{b(std)}}}") if w else ("", rf"\frac{{1}}{{{b(std)}}}")
        else:  # LayerNorm's weight varies along the normalized dims: dL/dx̂ = w ⊙ dL/dy enters the means
            G, g = rf"({b(w)} \odot {_g(out)})", f"({w} * d{out})"
            scale, shown = "", rf"\frac{{1}}{{{b(std)}}}"
        summed, S = block.params["summed"], _dims_text(block.params["summed"])
        affine = []  # dL/dw = Σ dL/dy ⊙ x̂ and dL/dβ = Σ dL/dy, over the dims the weight is shared across
        if "weight input" in r:
            w_in = r["weight input"]
            affine.append(
                Form(
                    w_in,
                    _g(w_in),
                    rf"\textstyle\sum_{{{S}}} {_g(out)} \odot {b(xhat)}",
                    f"(d{out} * {xhat}).sum({summed})",
                )
            )
        if "bias input" in r:
            b_in = r["bias input"]
            affine.append(Form(b_in, _g(b_in), rf"\textstyle\sum_{{{S}}} {_g(out)}", f"d{out}.sum({summed})"))
        return [
            of_input(
                rf"{shown} \odot \Bigl({G} - \operatorname{{mean}}_{{{D}}} {G} - {b(xhat)} \odot "
                rf"\operatorname{{mean}}_{{{D}}} \bigl({G} \odot {b(xhat)}\bigr)\Bigr)",
                f"{scale}({g} - {g}.{mean} - {xhat} * ({g} * {xhat}).{mean}) / {std}",
            ),
            *affine,
        ]
    if kind == "softmax":
        p, dim = r["output"], block.params["dim"]
        G = _g(p)
        return [
            of_input(
                rf"{b(p)} \odot \Bigl({G} - \textstyle\sum_{{{dim + 1}}} \bigl({G} \odot {b(p)}\bigr)\Bigr)",
                f"{p} * (d{p} - (d{p} * {p}).sum({dim}, keepdim=True))",
            )
        ]
    if kind == "log_softmax":
        out, dim, e, s = r["output"], block.params["dim"], r["exp"], r["sum"]
        G = _g(out)
        return [
            of_input(
                rf"{G} - \operatorname{{softmax}}({b(r['input'])}) \odot \textstyle\sum_{{{dim + 1}}} {G}",
                f"d{out} - {e} / {s} * d{out}.sum({dim}, keepdim=True)",
            )
        ]
    if kind == "cross_entropy":
        out, e, s, n = r["output"], r["exp"], r["sum"], block.params["count"]
        p = rf"\operatorname{{softmax}}({b(r['input'])})"
        per = rf"\tfrac{{1}}{{{n}}}\, " if n != 1 else ""
        if "onehot" in r:
            shown = rf"{_g(out)}\, {per}\bigl({p} - \operatorname{{onehot}}(t)\bigr)"
            claim = f"d{out} * ({e} / {s} - {r['onehot']}) / {n}"
        else:  # probability targets need not sum to 1: each row's softmax is weighted by its sum
            t = b(r["target"])
            shown = rf"{_g(out)}\, {per}\bigl({p} \odot \textstyle\sum_{{2}} {t} - {t}\bigr)"
            claim = f"d{out} * ({e} / {s} * {r['target']}.sum(1, keepdim=True) - {r['target']}) / {n}"
        return [of_input(shown, claim)]
    if kind == "attention":
        q, k, v, s, p, o = (r[x] for x in ("q", "k", "v", "scores", "p", "output"))
        root = block.params["root"]
        root_claim = root if isinstance(root, str) else _num(root)
        root_tex = b(root) if isinstance(root, str) else _num(root)  # √d, or its value: √4 is 2
        rows = r"\operatorname{rowsum}"
        return [
            Form(v, _g(v), rf"{transposed(b(p))} {_g(o)}", f"{p}.T @ d{o}"),
            Form(p, _g(p), rf"{_g(o)} {transposed(b(v))}", f"d{o} @ {v}.T"),
            Form(
                s,
                _g(s),
                rf"{b(p)} \odot \bigl({_g(p)} - {rows}({_g(p)} \odot {b(p)})\bigr)",
                f"{p} * (d{p} - (d{p} * {p}).sum(1, keepdim=True))",
            ),
            Form(q, _g(q), rf"{_g(s)} {b(k)} / {root_tex}", f"d{s} @ {k} / {root_claim}"),
            Form(k, _g(k), rf"{transposed(_g(s))} {b(q)} / {root_tex}", f"d{s}.T @ {q} / {root_claim}"),
            # the identity fast attention kernels use to skip forming dP ⊙ P; 0·P broadcasts a
            # row sum to P's shape, so that the two sides compare entry by entry
            Form(
                p,
                rf"{rows}({_g(p)} \odot {b(p)})",
                rf"{rows}({_g(o)} \odot {b(o)})",
                f"(d{p} * {p}).sum(1, keepdim=True) + 0 * {p}",
                other=f"(d{o} * {o}).sum(1, keepdim=True) + 0 * {p}",
            ),
        ]
    raise KeyError(kind)


def shown(graph: Graph, block: Block) -> list[Form]:
    """The forms the document shows: those of a small enough layer, for tensors read by nothing
    outside it (their whole gradient is then the layer's)."""
    first = graph.tensors[block.roles.get("input") or block.roles["q"]]
    if first.numel > SHOWN_UP_TO:
        return []
    return [form for form in forms(graph, block) if read_only_inside(graph, block, form.target)]


def read_only_inside(graph: Graph, block: Block, name: str) -> bool:
    """Whether only the layer's own nodes read the tensor: its whole gradient is then the layer's."""
    readers = {k for k, node in enumerate(graph.nodes) if name in node.inputs}
    return readers <= set(range(block.first, block.end))
