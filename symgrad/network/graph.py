"""A network as a graph of scalar variables, and the chain rule over it, element by element.

Every entry of every tensor is a variable. An input's entries are free. Each other variable has a
definition: a polynomial in earlier variables (a matrix product, a sum, a product of entries), or
an atom, a scalar function of one earlier variable (s = σ(z)) whose derivative a lemma gives as a
polynomial (``lemmas.py``). The chain rule walks the layers from the loss back, and for each
output variable adds upstream × local partial to each variable its definition uses: exactly the
sum over paths that a hand derivation writes, one element at a time.

Canonical form: polynomials (``core.poly``) in the inputs and the atoms, with rational
coefficients. Two gradients with equal canonical forms are equal as functions; atoms are treated
as independent, so a relation between them (exp(a + b) = exp(a)·exp(b)) is invisible, and a
difference is only ever reported after it is confirmed numerically (``symgrad.prove.network``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from ..chain import engine
from ..core import packed, packedpoly, poly
from ..core.budget import check_budget, packed_cost
from ..core.errors import SymgradError
from ..core.symbols import Registry, entry_name
from .lemma import INVERSE, STEP, Lemma

# A gradient of an intermediate with more terms than this is kept as a variable of its own,
# dL/dv, defined once by its polynomial. Without it every entry of a BatchNorm input's gradient
# would repeat the whole channel's dL/dσ² and dL/dμ (terms growing with the square of the batch);
# with it the gradient reads as a hand derivation writes it, in named upstream gradients.
NAMED_ABOVE = 100


@dataclass(frozen=True)
class Atom:
    lemma: str  # the lemma's name
    argument: int  # the variable the function is applied to
    helper: int | None = None  # the reciprocal the derivative needs, if any
    parameter: object = None  # the exponent of a power
    rule: Lemma | None = field(default=None, compare=False, repr=False)  # the lemma itself


@dataclass
class Tensor:
    """A symbolic tensor inside a network: a name, a shape and one variable per entry (row-major).

    Tensors support the arithmetic PyTorch tensors do (``+ - * /`` with broadcasting, ``@``,
    ``.T``, ``.sum()``, ``.mean()``), which record layers in the graph."""

    graph: Graph = field(repr=False)
    name: str
    shape: tuple
    ids: tuple

    @property
    def numel(self) -> int:
        return len(self.ids)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def index(self, position: int) -> tuple:
        out = []
        for size in reversed(self.shape):
            out.append(position % size)
            position //= size
        return tuple(reversed(out))

    def __repr__(self) -> str:
        return f"Tensor({self.name!r}, shape={self.shape})"

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise SymgradError(f"the network uses the tensor method .{name}, which symgrad does not support")

    # arithmetic goes through the layers
    def _f(self, name: str, *args, **kwargs):
        # the graph's layer functions (symgrad.network.layers), handed to it by whoever made it
        if self.graph.operations is None:
            raise SymgradError("this graph records no layers: make it with Graph(operations=layers)")
        return getattr(self.graph.operations, name)(*args, **kwargs)

    def __add__(self, other):
        return self._f("add", self, other)

    def __radd__(self, other):
        return self._f("add", other, self)

    def __sub__(self, other):
        return self._f("sub", self, other)

    def __rsub__(self, other):
        return self._f("sub", other, self)

    def __mul__(self, other):
        return self._f("mul", self, other)

    def __rmul__(self, other):
        return self._f("mul", other, self)

    def __truediv__(self, other):
        return self._f("div", self, other)

    def __rtruediv__(self, other):
        return self._f("div", other, self)

    def __neg__(self):
        return self._f("mul", self, -1)

    def __pow__(self, exponent):
        return self._f("pow", self, exponent)

    def __matmul__(self, other):
        return self._f("matmul", self, other)

    @property
    def T(self):
        return self._f("transpose", self)

    def sum(self, dim=None, keepdim=False):
        return self._f("sum", self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return self._f("mean", self, dim, keepdim)


@dataclass(frozen=True)
class Block:
    """A compound layer (BatchNorm, softmax, attention, ...) built from the exact layers: where its
    nodes are, and the tensors its compact closed form is written in."""

    kind: str  # the symgrad.functional name: "batch_norm", "softmax", ...
    first: int  # index of its first node
    end: int  # index past its last node
    roles: dict  # role -> tensor name ("input", "output", "mean", "std", "xhat", ...)
    params: dict = field(default_factory=dict)


@dataclass
class Node:
    """One layer applied: what it is, what it read and what it made, and its parameters."""

    op: str  # the layer's name, as symgrad.functional spells it
    inputs: tuple  # names of the tensors it reads (constants are not tensors)
    output: str
    params: dict = field(default_factory=dict)


class Graph:
    """The variables of one network, their definitions, the tensors and the layers in order."""

    def __init__(self, max_terms: int | None = None, operations=None) -> None:
        self.operations = operations  # what a tensor's + - * / @ .T .sum() record: the layer functions
        self.registry = Registry()
        self.defs = packedpoly.PolyMap()  # polynomial definitions, a large layer's kept packed
        self.atoms: dict[int, Atom] = {}
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.blocks: list[Block] = []
        self.inputs: list[str] = []
        self.constants: dict[str, tuple] = {}
        self.max_terms = max_terms
        self.terms = 0
        self.scalars: dict[str, str] = {}  # a symbolic scalar (BatchNorm's ε) -> its LaTeX
        self.shown: dict[str, str] = {}  # a tensor written as what it is (kᵀ, √d), not by its name
        self.in_tensors: set[int] = set()  # variables that are entries of a tensor (not a layer's own atoms)
        self.adjoints: dict[int, int] = {}  # variable -> the variable that stands for dL/d(it)
        self._explicit: dict[int, poly.Poly] = {}  # a named gradient, written out
        self._helpers: dict[tuple, int] = {}
        self._counts: dict[str, int] = {}
        self._next_check = 0

    # --- tensors and variables ------------------------------------------------------------------

    def fresh_name(self, stem: str) -> str:
        """An unused tensor name: the stem, then stem2, stem3, ..."""
        k = self._counts.get(stem, 0)
        while True:
            k += 1
            name = stem if k == 1 else f"{stem}{k}"
            if name not in self.tensors:
                self._counts[stem] = k
                return name

    def new_tensor(self, name: str, shape: tuple, letter: str | None = None, namer=None) -> Tensor:
        if name in self.tensors:
            raise SymgradError(f"two tensors of the network are named {name!r}: give each its own name=")
        if not name.isidentifier():
            raise SymgradError(f"a tensor's name must be a Python identifier, got {name!r}")
        shape = tuple(shape)
        self.reserve(f"the tensor {name} of shape {shape}", math.prod(shape))  # before any entry is made
        commas = len(shape) > 2 or any(s >= 10 for s in shape)
        if letter is None:
            letter = name if len(name) == 1 else rf"\mathrm{{{name}}}".replace("_", r"\_")
        namer = namer or (lambda entry: entry)
        ids = tuple(
            self.registry.new(namer(entry_name(letter, tuple(i + 1 for i in index), commas) if shape else letter))
            for index in itertools.product(*(range(s) for s in shape))
        )
        tensor = Tensor(self, name, shape, ids)
        self.tensors[name] = tensor
        self.in_tensors.update(ids)
        return tensor

    def input(self, name: str, shape: tuple, letter: str | None = None, namer=None) -> Tensor:
        tensor = self.new_tensor(name, shape, letter, namer)
        self.inputs.append(name)
        return tensor

    def rename_entries(self, tensor: Tensor, letter: str) -> None:
        """Write a layer's output entries with another letter (an op's document calls C's entries
        c_ij): the names change, the variables stay; only before any of them is printed."""
        commas = len(tensor.shape) > 2 or any(s >= 10 for s in tensor.shape)
        indices = itertools.product(*(range(1, s + 1) for s in tensor.shape))
        for index, vid in zip(indices, tensor.ids):
            new = entry_name(letter, index, commas) if tensor.shape else letter
            old = self.registry.names[vid]
            self._rename(vid, new)
            for (_, of), helper in self._helpers.items():  # 1/v and H(v), named after v
                if of == vid:
                    self._rename(helper, self.registry.names[helper].replace(old, new))

    def _rename(self, vid: int, new: str) -> None:
        if new in self.registry.ids:
            raise SymgradError(f"two variables would share the name {new!r}: choose distinct letters")
        del self.registry.ids[self.registry.names[vid]]
        self.registry.ids[new] = vid
        self.registry.names[vid] = new

    def show_as(self, tensor: Tensor, letter: str, whole: str) -> None:
        """Write a tensor as what it is rather than by its name: its entries with ``letter``
        (k^{T}_{32}) and the whole tensor as ``whole`` (\\boldsymbol{k}^{T})."""
        self.rename_entries(tensor, letter)
        self.shown[tensor.name] = whole

    def scalar(self, name: str, letter: str) -> Tensor:
        """A free scalar the network is written in (eps given as a symbol): an input of the graph,
        the same tensor each time it is named, never differentiated, drawn positive in checks."""
        if name in self.scalars:
            return self.tensors[name]
        if name in self.tensors:
            raise SymgradError(f"the symbol {name!r} has the name of a tensor of the network")
        tensor = self.new_tensor(name, (), letter)
        self.inputs.append(name)
        self.scalars[name] = letter
        return tensor

    def constant(self, name: str, shape: tuple, values: list) -> Tensor:
        """A tensor of fixed numbers (a one-hot mask of class indices, say): not an input, never
        differentiated."""
        tensor = self.new_tensor(name, shape)
        for vid, value in zip(tensor.ids, values):
            self.define(vid, poly.const(value))
        self.constants[name] = tuple(values)
        return tensor

    def define(self, vid: int, definition: poly.Poly) -> None:
        self.defs[vid] = definition
        self._count(len(definition))

    def define_packed(self, ids: tuple, definitions: packedpoly.PackedTensor) -> None:
        """The definitions of ``ids``, entry by entry, kept packed until one is read."""
        self.defs.add_packed(ids, definitions)
        self._count(packed_cost(definitions.terms))

    def atom(self, vid: int, lemma: Lemma, argument: int, parameter=None) -> None:
        helper = None
        if lemma.needs == "inverse of argument":
            helper = self.reciprocal(argument)
        elif lemma.needs == "inverse of value":
            helper = self.reciprocal(vid)
        self.atoms[vid] = Atom(lemma.name, argument, helper, parameter, lemma)
        self._count(2)

    def reciprocal(self, vid: int) -> int:
        """The atom 1/v, made once per variable."""
        return self.helper_atom(INVERSE, vid, rf"\frac{{1}}{{{self.registry.names[vid]}}}")

    def step(self, vid: int) -> int:
        """The atom H(v), the step of a relu (1 for v > 0, else 0), made once per variable."""
        return self.helper_atom(STEP, vid, rf"H({self.registry.names[vid]})")

    def helper_atom(self, lemma: Lemma, vid: int, letter: str) -> int:
        """The atom lemma(v) without a tensor of its own, made once per variable: a variable another
        atom's derivative is written in."""
        key = (lemma.name, vid)
        if key not in self._helpers:
            h = self.registry.new(letter)
            self.atoms[h] = Atom(lemma.name, vid, rule=lemma)
            self._helpers[key] = h
        return self._helpers[key]

    def reserve(self, what: str, terms: int) -> None:
        """Refuse, before it is built, a layer or tensor that would take the network over its budget."""
        check_budget(f"{what} in this network", self.terms + terms, len(self.registry.names), self.max_terms)

    def _count(self, terms: int) -> None:
        self.terms += terms
        if self.terms > self._next_check:  # the budget is checked as the network grows, not per entry
            check_budget("this network", self.terms, len(self.registry.names), self.max_terms)
            self._next_check = self.terms + 100_000

    def add_block(self, kind: str, first: int, roles: dict, **params) -> None:
        """Record the nodes from ``first`` on as one compound layer; compound layers it was built
        from (the softmax inside attention) are dropped, the outer one's form covering them."""
        self.blocks = [b for b in self.blocks if b.first < first]
        self.blocks.append(Block(kind, first, len(self.nodes), roles, params))

    def add_node(self, op: str, inputs: tuple, output: Tensor, **params) -> Tensor:
        self.nodes.append(Node(op, tuple(t.name for t in inputs), output.name, params))
        return output

    def keep_reaching(self, loss: str) -> None:
        """Drop the layers whose output the loss does not read (a quantity computed beside the
        loss, or after it): the function's returned tensor is the loss, whatever came last."""
        live = {loss}
        for node in reversed(self.nodes):
            if node.output in live:
                live.update(node.inputs)
        kept = [k for k, node in enumerate(self.nodes) if node.output in live]
        if len(kept) == len(self.nodes):
            return
        new_index = {k: i for i, k in enumerate(kept)}
        self.blocks = [
            Block(b.kind, new_index[b.first], new_index[b.end - 1] + 1, b.roles, b.params)
            for b in self.blocks
            if b.first in new_index and b.end - 1 in new_index
        ]
        for node in self.nodes:
            if node.output not in live:
                del self.tensors[node.output]
        self.nodes = [self.nodes[k] for k in kept]
        for name in [c for c in self.constants if c not in live]:
            del self.constants[name]
            del self.tensors[name]

    # --- the chain rule -------------------------------------------------------------------------

    def local_partials(self, vid: int) -> dict[int, poly.Poly]:
        """d vid / d u for every variable u its definition uses."""
        if vid in self.defs:
            return poly.gradient(self.defs[vid])
        atom = self.atoms.get(vid)
        if atom is None:
            return {}
        if atom.rule is None:
            raise SymgradError(f"the atom {self.registry.names[vid]} was made without its lemma")
        return {atom.argument: atom.rule.local_partial(vid, atom.argument, atom.helper, atom.parameter)}

    def local_partial(self, y: int, x: int) -> poly.Poly:
        """dy/dx, through the layer's internal atoms when y reads x through one."""
        total: dict = {}
        for u, local in self.local_partials(y).items():
            if u == x:
                poly.add_into(total, local)
            elif u in self.atoms and self.atoms[u].argument == x and u not in self.in_tensors:
                poly.add_into(total, poly.mul(local, self.local_partials(u).get(x, {})))
        return total

    def chain_rule(self, loss: int) -> tuple[packedpoly.PolyMap, dict]:
        """dL/dv for every variable, and each layer's share: {node index: {u: its contribution}}.

        Layers are visited from the last back; a layer's output variables have all their upstream
        by then, because every later use of them has been visited."""
        grads = packedpoly.PolyMap()  # a packed share's entries stay packed until read
        grads[loss] = {(): 1}
        shares: dict[int, dict[int, poly.Poly]] = {}
        own: set[int] = set()  # variables whose dL/dv is no longer a share's own dict
        producer = {}
        for k, node in enumerate(self.nodes):
            for vid in self.tensors[node.output].ids:
                producer[vid] = k
        for k in range(len(self.nodes) - 1, -1, -1):
            node = self.nodes[k]
            outputs = self.tensors[node.output].ids
            for vid in outputs:
                # every layer reading this output has been visited, so dL/d(vid) is complete
                if len(grads.get(vid, ())) > NAMED_ABOVE:
                    grads[vid] = self.name_gradient(vid, grads[vid])
            share = self._polynomial_share(node, outputs, grads)
            if share is None:
                share = {}
                for vid in outputs:
                    self._push(vid, grads, share, producer, k)
            shares[k] = share
            if isinstance(share, packedpoly.PolyMap) and not any(u in grads for u in share):
                # a packed share is every variable's first: the gradients keep it packed too
                for ids, tensor in share.blocks:
                    grads.add_packed(ids, tensor)
                self._count(packed_cost(share.packed_terms))
                continue
            for u, contribution in share.items():
                acc = grads.get(u)
                if acc is None:  # the first share of u is the sum so far, held with the share
                    grads[u] = contribution
                    continue
                if u not in own:  # a second share: the sum becomes a dict of its own (shares keep theirs)
                    acc = grads[u] = dict(acc)
                    own.add(u)
                poly.add_into(acc, contribution)
            self._count(sum(len(c) for c in share.values()))
        return grads, shares

    def _polynomial_share(self, node: Node, outputs: tuple, grads: packedpoly.PolyMap) -> dict | None:
        """The share of a layer whose outputs are polynomials in its inputs (a matrix product, a
        convolution, a sum) and whose upstream entries are single terms: one pass over the terms
        (``engine.layer_share``), the speed of a bilinear op alone. None otherwise."""
        if not all(vid in self.defs for vid in outputs):
            return None
        read = [v for name in node.inputs for v in self.tensors[name].ids]
        kept = self.defs.tensor(outputs, self.tensors[node.output].shape)
        if kept is not None:
            found = _packed_share(kept, [grads.get(v, {}) for v in outputs], read)
            if found is not None:
                return found
        return engine.layer_share([self.defs[v] for v in outputs], [grads.get(v, {}) for v in outputs], read)

    def name_gradient(self, vid: int, gradient: poly.Poly) -> poly.Poly:
        """A new variable ∂L/∂v defined as the gradient: the layers below read it, not its terms."""
        a = self.registry.new(rf"\frac{{\partial L}}{{\partial {self.registry.names[vid]}}}")
        self.defs[a] = gradient
        self.adjoints[vid] = a
        self.registry.leading.add(a)
        return poly.var(a)

    def expand(self, p: poly.Poly) -> poly.Poly:
        """Substitute every polynomially defined variable, down to the inputs and the atoms (a loop,
        not a recursion: a network may be thousands of layers deep)."""
        while True:
            defined = [v for v in poly.variables(p) if v in self.defs]
            if not defined:
                return p
            p = poly.substitute(p, {v: self.defs[v] for v in defined})

    def explicit(self, p: poly.Poly) -> poly.Poly:
        """A gradient with every named gradient in it substituted, down to the network's own variables."""
        ids = set(self.adjoints.values())
        named = [v for v in poly.variables(p) if v in ids]
        # each named gradient is written out once, however many entries read it; those it reads
        # first, by an explicit stack rather than a recursion as deep as the network
        stack = [v for v in named if v not in self._explicit]
        while stack:
            v = stack[-1]
            inner = [u for u in poly.variables(self.defs[v]) if u in ids and u not in self._explicit]
            if inner:
                stack.extend(inner)
                continue
            stack.pop()
            if v not in self._explicit:
                used = [u for u in poly.variables(self.defs[v]) if u in ids]
                self._explicit[v] = poly.substitute(self.defs[v], {u: self._explicit[u] for u in used})
        if not named:
            return p
        return poly.substitute(p, {v: self._explicit[v] for v in named})

    def _push(self, vid, grads, share, producer, k) -> None:
        """Upstream × local partial, from vid into what its definition reads."""
        upstream = grads.get(vid)
        if not upstream:
            return
        for u, local in self.local_partials(vid).items():
            if not local:
                continue
            term = poly.mul(upstream, local)
            if u in self.atoms and producer.get(u) is None:
                # an atom made inside this layer (a reciprocal for a division, the step of a relu)
                # has no tensor of its own: its share goes straight on to its argument
                inner: dict = {}
                for w, local2 in self.local_partials(u).items():
                    poly.add_into(inner.setdefault(w, {}), poly.mul(term, local2))
                for w, c in inner.items():
                    poly.add_into(share.setdefault(w, {}), c)
                continue
            poly.add_into(share.setdefault(u, {}), term)


def _packed_share(definitions, upstreams: list, read: list):
    """A packed layer's share, packed (a map over ``read``), when every upstream is one variable
    times an integer; else None."""
    singles = packed.single_variables(upstreams)
    if singles is None:
        return None
    ups, weights = singles
    share = packedpoly.layer_share(definitions, ups, weights, read)
    if share is None:
        return None
    found = packedpoly.PolyMap()
    found.add_packed(tuple(read), share)
    return found
