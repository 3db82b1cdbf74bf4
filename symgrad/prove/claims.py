"""Users' claims about a gradient: read in the one claim language, proven or refuted.

An op preset (matmul, conv2d, conv_transpose2d) is a one-layer network closed by a generic upstream
input G = dL/dY (L = Σ G∘Y), so a claim about it is read and decided by the network's claim
machinery (``claim``): the names are the op's inputs, its output, G, and d<name> for
dL/d(name); ``*`` is element-wise and ``@`` the matrix product, as in PyTorch ("G @ B.T").

A backward formula is a statement for every upstream gradient. A claim that names G (or a
gradient d<name>, which is made of G), or whose value depends on G, is therefore proven with G's
entries free, and, under a mean or sum loss, again with the loss's values put in for G. A claim
that holds only for the loss's particular G is refuted, with the element where it fails for a
general G, and the counterexample says that it holds for the loss's G. A claim without G (an
explicit matrix, say) is a statement about the gradient's value under the derivation's loss, and
is compared with that.

A claim about every size (``matmul("m", "k", "n")``) is read by a small reader of the same syntax
that builds SymPy matrix expressions of symbolic shape: names, ``@``, ``.T``, ``+``, ``-`` and
multiples by exact numbers. It is proven in index notation, or refuted at the first concrete size
where the same text, read by the one claim language, differs from the chain rule.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any, cast

import sympy
from sympy.matrices.expressions import MatAdd, MatMul, Transpose

from ..chain.derivation import Counterexample, Derivation, GeneralDerivation, Proof
from ..core import poly
from ..core.errors import SymgradError
from ..core.numbers import exact
from ..core.tensor import from_sympy, to_sympy
from ..network.derivation import NetworkDerivation
from ..network.values import atom_at
from . import network
from .claim.decision import differing, first_of
from .claim.reader import MAX_LENGTH, ClaimNames, check_depth, claim_value
from .claim.tensor import ClaimTensor, apply
from .general import concrete
from .index import Entry, canon
from .points import agreement, shared

EVERY_UPSTREAM = "every upstream gradient G"


def check(d: Any, wrt: str, claim: Any) -> Proof:
    """Prove or refute ``dL/d<wrt> = claim`` at every element.

    ``claim`` is a string or a function of a dict of the derivation's tensors (each by its name,
    dL/d(name) as d<name>; for an op also G = dL/dY), in ``symgrad.functional``'s vocabulary with
    PyTorch's operators: ``symgrad.check(symgrad.matmul(2, 4, 3), "A", "G @ B.T")``. About an op
    it may also be a SymPy matrix or array of its input's shape (or a nested list of exact numbers
    and the derivation's symbols), a statement about the gradient's value.
    """
    if isinstance(d, NetworkDerivation):
        return network.check(d, wrt, claim)
    if isinstance(d, GeneralDerivation):
        return check_general(d, wrt, claim)
    if isinstance(d, Derivation):
        return check_op(d, wrt, claim)
    raise SymgradError(f"check needs a derivation, got {type(d).__name__}")


def equivalent(d: Any, name: str, form_a: Any, form_b: Any) -> Proof:
    """Prove that two claimed forms of dL/d(name) are equal, or refute it at a point; each form is
    a string or a function, as for ``check``, and about an op both hold for every upstream
    gradient G. Nothing is said about whether either is dL/d(name)."""
    if isinstance(d, NetworkDerivation):
        return network.equivalent(d, name, form_a, form_b)
    if isinstance(d, GeneralDerivation):
        raise SymgradError("equivalent needs a derivation at concrete sizes, such as symgrad.matmul(2, 4, 3)")
    if not isinstance(d, Derivation):
        raise SymgradError(f"equivalent needs a derivation, got {type(d).__name__}")
    _known(d, name)
    a, text_a, _ = _claimed(d, form_a, name)
    b, text_b, _ = _claimed(d, form_b, name)
    n = len(a)
    found = difference(d, name, a, b, f"the two forms of dL/d{name}", ("the first form", "the second"))
    if found is None:
        return Proof("proven", n, n, claims=((name, f"{text_a} == {text_b}"),), scope=EVERY_UPSTREAM)
    return _verdict(found, n)


# --- claims about an op at concrete sizes ----------------------------------------------------------


def op_names(d: Derivation, values: bool = False) -> ClaimNames:
    """What a claim about an op may name: its inputs, its output, G = dL/dY, and d<name> for the
    gradient of each (dL/d<output> is G). With ``values`` G is the loss's dL/dY, and the inputs'
    gradients are those under the loss."""
    graph = d.graph
    names = ClaimNames(graph)
    upstream = d.upstream_values.entries if values else [poly.var(g) for g in d.upstream_symbols.ids]
    for name, t in d.input_tensors.items():
        names[name] = ClaimTensor(graph, t.shape, [poly.var(v) for v in t.ids])
        grads = d.grads_values[name] if values else d.grads_upstream[name]
        names[f"d{name}"] = ClaimTensor(graph, t.shape, list(grads.entries))
    out = d.output
    names[out.name] = ClaimTensor(graph, out.shape, [poly.var(v) for v in out.ids])
    names["G"] = names[f"d{out.name}"] = ClaimTensor(graph, out.shape, list(upstream))
    return names


def check_op(d: Derivation, wrt: str, claim: Any) -> Proof:
    if wrt not in d.input_tensors:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(d.input_tensors)}")
    claimed, text, used = _claimed(d, claim, wrt)
    n = len(claimed)
    what = f"the claim for dL/d{wrt}"
    valued = d.loss.has_value
    # a claim that names G (or a gradient, which is made of G) is a backward formula even when its
    # value does not depend on G (0 * G @ B.T); one whose value does is one however it got G
    upstream = {"G", f"d{d.output.name}", *(f"d{name}" for name in d.input_tensors)}
    if valued and not used & upstream and not _reads(d, claimed, set(d.upstream_symbols.ids)):
        # a statement about the value of the gradient under this loss
        found = difference(d, wrt, d.grads_values[wrt].entries, claimed, what)
        if found is None:
            return Proof("proven", n, n, claims=((wrt, text),), scope=f"the {d.loss} loss")
        return _verdict(found, n)
    found = difference(d, wrt, d.grads_upstream[wrt].entries, claimed, what)
    if found is not None:
        if valued and isinstance(found, Counterexample):
            at_loss = _claimed(d, claim, wrt, values=True)[0]
            if difference(d, wrt, d.grads_values[wrt].entries, at_loss, what) is None:
                found = _noted(found, f"it holds for the {d.loss} loss's G but not for {EVERY_UPSTREAM}")
        return _verdict(found, n)
    if not valued:
        return Proof("proven", n, n, claims=((wrt, text),), scope=EVERY_UPSTREAM)
    at_loss = _claimed(d, claim, wrt, values=True)[0]
    found = difference(d, wrt, d.grads_values[wrt].entries, at_loss, what)
    if found is not None:  # cannot happen when the pass for every G holds; kept as a check that could fail
        return _verdict(
            _noted(found, f"with the {d.loss} loss's G") if isinstance(found, Counterexample) else found, 2 * n
        )
    return Proof("proven", 2 * n, 2 * n, claims=((wrt, text),), scope=EVERY_UPSTREAM)


def _known(d: Derivation, name: str) -> None:
    if name not in d.input_tensors and name != d.output.name:
        raise SymgradError(f"unknown tensor {name!r}: the tensors are {', '.join([*d.input_tensors, d.output.name])}")


def _claimed(d: Derivation, claim: Any, wrt: str, values: bool = False) -> tuple[list, str, set]:
    """The claim's entries, polynomials in the op's variables (with G's values put in when
    ``values``), its text, and the names it looked up."""
    shape = d.graph.tensors[wrt].shape
    if isinstance(claim, (sympy.MatrixBase, sympy.NDimArray, list)):
        entries, got = _explicit(d, claim)
        if tuple(got) != tuple(shape):
            raise SymgradError(f"the claim for d{wrt} is {_dims(got)}, but {wrt} is {_dims(shape)}")
        if values and d.loss.has_value:
            put = dict(zip(d.upstream_symbols.ids, d.upstream_values.entries))
            entries = [poly.substitute(p, put) for p in entries]
        return entries, str(claim), set()
    names = op_names(d, values)
    got, text = claim_value(d, claim, names, wrt, shape)
    return got.entries, text, names.used


def _explicit(d: Derivation, claim: Any) -> tuple[list, tuple]:
    """An explicit tensor (a SymPy matrix or array, or nested lists) of exact numbers and the
    derivation's own symbols, entry by entry as polynomials; its shape."""
    if isinstance(claim, list):
        _check_leaves(claim)
        try:
            claim = sympy.Array(claim)
        except (ValueError, TypeError, IndexError):
            raise SymgradError("an explicit claim must be a rectangular nested list of numbers and symbols") from None
    shape = tuple(claim.shape)
    flat = list(claim) if isinstance(claim, sympy.MatrixBase) else list(sympy.flatten(claim.tolist()))
    if not shape or 0 in shape:
        raise SymgradError("an explicit claim must be a non-empty matrix or array")
    return [from_sympy(v, d.registry) for v in flat], shape


def _check_leaves(values: list) -> None:
    """Every entry of a nested list is an exact number or a SymPy expression: text is never
    handed to SymPy, which would evaluate it."""
    stack = list(values)
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, bool) or not isinstance(v, (int, Fraction, sympy.Expr)):
            raise SymgradError(
                f"an explicit claim holds exact numbers and the derivation's symbols, got {type(v).__name__} {v!r:.40}"
            )


def _reads(d: Derivation, entries: list, targets: set) -> bool:
    """Whether the entries depend on any of the variables ``targets``, through definitions and
    the arguments of atoms (a claim's exp(G) depends on G)."""
    graph = d.graph
    seen: set = set()
    stack = [v for p in entries for v in poly.variables(p)]
    while stack:
        v = stack.pop()
        if v in targets:
            return True
        if v in seen:
            continue
        seen.add(v)
        if v in graph.defs:
            stack.extend(poly.variables(graph.defs[v]))
        atom = atom_at(graph, v)
        if atom is not None:
            stack.append(atom.argument)
    return False


def difference(
    d: Derivation, wrt: str, derived: Sequence, claimed: list, what: str, sides: tuple = ("the chain rule", "the claim")
) -> Counterexample | str | None:
    """None when the two sides are equal at every element; else the first element where they
    certainly differ, as a Counterexample, or the reason it is undecided (a str).

    A difference that is a non-zero polynomial in independent variables (the inputs and G) is a
    refutation as it stands; one through atoms (a claim's exp) is confirmed at a point first."""
    graph = d.graph
    pairs = list(zip(derived, claimed))
    first, pending = first_of(differing(graph, pairs, f"comparing {what}"))
    if first is None:
        return None
    tensor = graph.tensors[wrt]
    comparer = shared(graph)
    for i in pending:
        a, b = pairs[i]
        written = graph.expand(b)
        gap = poly.add(graph.expand(a), poly.scale(written, -1))
        if not any(atom_at(graph, v) is not None for v in poly.variables(gap)):
            index = tuple(k + 1 for k in tensor.index(i))
            element = graph.registry.symbol(tensor.ids[i])
            return Counterexample(wrt, index, element, to_sympy(a, graph.registry), to_sympy(written, graph.registry))
        found = comparer.differ_at(a, b)
        if found is not None:
            return network.counterexample_at(d, tensor, i, a, b, found, what, sides)
    where = ",".join(str(k + 1) for k in tensor.index(first))
    a, b = pairs[first]
    return f"{what}: element {where} differs in canonical form but {agreement(comparer, a, b)}"


def _verdict(found: Counterexample | str, n: int) -> Proof:
    if isinstance(found, Counterexample):
        return Proof("refuted", n, n, counterexample=found)
    return Proof("undecided", n, n, failed_step=found)


def _noted(ce: Counterexample, note: str) -> Counterexample:
    return replace(ce, note=f"{note}; {ce.note}" if ce.note else note)


def _dims(shape: tuple) -> str:
    return "×".join(map(str, shape))


# --- claims about every size ---------------------------------------------------------------------


def check_general(gd: GeneralDerivation, wrt: str, claim: Any) -> Proof:
    """A general claim: proven when its entry matches the derived one symbolically, refuted with
    the first concrete size where it fails (with G free: a backward formula holds for every
    upstream gradient)."""
    if not isinstance(claim, str):
        raise SymgradError("a claim about a derivation for every size is a string such as 'G @ B.T'")
    if wrt not in gd.input_names:
        raise SymgradError(f"unknown input {wrt!r}: the inputs are {', '.join(gd.input_names)}")
    expr = read_general(gd, claim)
    target = gd.matrices[wrt]
    if expr.shape != target.shape:
        raise SymgradError(
            f"the index structure cannot match: the claim is {_dims(expr.shape)}, but d{wrt} is {_dims(target.shape)}"
        )
    p, q = sympy.symbols("p q", integer=True)
    if canon(Entry(expr, p, q), gd.bases) == canon(Entry(gd.closed_forms[wrt], p, q), gd.bases):
        return Proof("proven", 1, 1, claims=((wrt, claim),), scope="every size and every upstream gradient G")
    checked = 0
    what = f"the claim for dL/d{wrt}"
    for d in concrete(gd):
        claimed = _claimed(d, claim, wrt)[0]  # the same text, in the one claim language at these sizes
        checked += len(claimed)
        found = difference(d, wrt, d.grads_upstream[wrt].entries, claimed, what)
        if isinstance(found, Counterexample):
            if d.loss.has_value:
                at_loss = _claimed(d, claim, wrt, values=True)[0]
                if difference(d, wrt, d.grads_values[wrt].entries, at_loss, what) is None:
                    found = _noted(found, f"it holds for the {d.loss} loss's G but not for {EVERY_UPSTREAM}")
            sizes = {str(gd.sizes[r]): v for r, v in d.sizes.items()}
            return Proof("refuted", checked, checked, counterexample=replace(found, sizes=sizes))
        if found is not None:
            return Proof("undecided", checked, checked, failed_step=found)
    return Proof(
        "undecided",
        checked,
        checked,
        failed_step=(
            f"not proven: the claim's entry differs in form from the derived one, and no counterexample "
            f"was found up to size {gd.instantiate_up_to}"
        ),
    )


GENERAL_SYNTAX = "the names {names}, exact numbers, @ for the matrix product, .T, + and -, and * or / by a number"


def read_general(gd: GeneralDerivation, claim: str) -> Any:
    """A claim about every size as a SymPy matrix expression of symbolic shape, read from Python's
    syntax tree node by node (never evaluated): only what the index-notation prover decides."""
    if not claim.strip():
        raise SymgradError("a claim must be a non-empty expression such as 'G @ B.T'")
    if len(claim) > MAX_LENGTH:
        raise SymgradError(f"claim: at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(claim.strip(), mode="eval")
    except SyntaxError as exc:
        raise SymgradError(f"claim: not an expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise SymgradError("claim: not an expression Python can read (nested too deeply?)") from None
    check_depth(tree)
    names = {n: gd.matrices[n] for n in (*gd.input_names, "G")}
    value = _General(names, claim).read(tree.body)
    if isinstance(value, Fraction):
        raise SymgradError(f"claim {claim!r} is a number, not a matrix expression")
    return value


class _General:
    """Reads one general claim: each node a matrix expression or an exact number (a Fraction)."""

    def __init__(self, names: dict, claim: str) -> None:
        self.names, self.claim = names, claim

    def refuse(self, why: str) -> SymgradError:
        return SymgradError(f"claim {self.claim!r}: {why}; a claim about every size may use " + self.syntax())

    def syntax(self) -> str:
        return GENERAL_SYNTAX.format(names=", ".join(self.names))

    def misfit(self, why: str) -> SymgradError:
        shapes = ", ".join(f"{n} is {_dims(m.shape)}" for n, m in self.names.items())
        return SymgradError(f"the shapes in claim {self.claim!r} do not fit ({shapes}): {why}")

    def read(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            if type(node.value) is not int:
                whole = "only whole numbers may be written (5/2 for two and a half, not 2.5)"
                raise SymgradError(f"claim: {whole}, got {node.value!r:.40}")
            return exact(node.value, "a number in a claim")
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise self.refuse(f"unknown name {node.id!r}")
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.read(node.operand)
            return value if isinstance(node.op, ast.UAdd) else self.scale(value, Fraction(-1))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            value = self.read(node.value)
            if isinstance(value, Fraction):
                raise SymgradError("claim: a number has no transpose")
            return Transpose(value)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        raise self.refuse(f"{ast.unparse(node)[:60]!r} is not allowed")

    def binary(self, node: ast.BinOp) -> Any:
        x, y = self.read(node.left), self.read(node.right)
        both_numbers = isinstance(x, Fraction) and isinstance(y, Fraction)
        op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}.get(
            type(node.op)
        )
        if both_numbers and op is not None:
            return apply(op, x, y)  # exact, bounded, as in every claim
        if op in ("+", "-"):
            if isinstance(x, Fraction) or isinstance(y, Fraction):
                raise SymgradError("claim: a number cannot be added to a matrix")
            if x.shape != y.shape:
                raise self.misfit(f"cannot add a {_dims(x.shape)} and a {_dims(y.shape)} matrix")
            return MatAdd(x, y if op == "+" else self.scale(y, Fraction(-1)))
        if op == "*":
            if isinstance(x, Fraction) or isinstance(y, Fraction):
                return self.scale(y, x) if isinstance(x, Fraction) else self.scale(x, y)
            raise SymgradError(
                f"claim {self.claim!r}: * between two matrices multiplies element by element, which the proof "
                "for every size does not decide; use @ for the matrix product"
            )
        if op == "/":
            if not isinstance(y, Fraction):
                raise self.refuse("division by a matrix (an inverse) is not supported")
            return self.scale(x, cast(Fraction, apply("/", Fraction(1), y)))  # 1/y of two numbers is one
        if op == "@":
            if isinstance(x, Fraction) or isinstance(y, Fraction):
                raise SymgradError("claim: @ multiplies two matrices; use * for a number")
            if x.shape[1] != y.shape[0]:
                raise self.misfit(f"a {_dims(x.shape)} matrix @ a {_dims(y.shape)} matrix")
            return MatMul(x, y)
        if op == "**":
            raise self.refuse(
                "powers and inverses of matrices are not supported (a power of numbers, such as 2**3, is)"
            )
        raise self.refuse(f"the operator in {ast.unparse(node)[:60]!r} is not allowed")

    def scale(self, value: Any, factor: Fraction) -> Any:
        if isinstance(value, Fraction):
            return apply("*", value, factor)
        return MatMul(sympy.Rational(factor.numerator, factor.denominator), value)
