"""A post's declarations (sizes, indices, tensors, definitions, ...), every key checked before
anything is evaluated, and the defined quantities read from them: each name one meaning, no
definition reaching itself.
"""

from __future__ import annotations

import math
import re
import reprlib
from dataclasses import dataclass, field

from ..core.errors import SymgradError
from .latex import Unsupported, name_of, parse
from .names import (
    _index_letters,
    _is_letter,
    _is_name,
    _key,
    _layered_name,
    _power_name,
    _spellings,
    _tensor_name,
    reading_of,
    resolve,
)
from .outcomes import MAX_ENTRIES
from .trees import _uses, size_constant

# what a scope (some equations of the post) may declare again, for itself
SCOPED = (
    "indices", "tensors", "scalars", "define", "functions", "given", "constraints", "partials", "labels",
    "superscripts", "einstein", "case", "elementwise", "constants", "notation", "condition", "layers",
    "dropped", "examples", "outside", "channels", "samples", "layout",
)  # fmt: skip


KEYS = ("sizes", *SCOPED, "scopes")


# what a declared function symbol may be
KINDS = {
    "sigmoid": "the logistic function 1/(1 + e^{-z})",
    "kronecker": "the Kronecker delta: 1 where its two indices are equal, 0 elsewhere",
    "differential": "the differential: dX, d(AXB), the sum of its derivatives by the varying entries times their dx",
    "rows": "a softmax applied to each row of a matrix",
    "activation": "a function of one number, any (an activation a(z)), with its derivative a'(z)",
}


@dataclass
class Declarations:
    sizes: list  # of {size name: int}
    indices: dict  # index letter -> size name, or [first, last] (expressions in the sizes)
    tensors: dict  # tensor name -> [size names]
    define: dict = field(default_factory=dict)  # LaTeX left side -> LaTeX right side
    scalars: list = field(default_factory=list)  # names of scalar inputs (\gamma, \beta)
    functions: dict = field(default_factory=dict)  # name as the parser spells it -> a kind of KINDS
    given: dict = field(default_factory=dict)  # a function given from outside -> the quantity it reads
    constraints: list = field(default_factory=list)  # LaTeX equations, or {one-hot: tensor}
    local: bool | frozenset = False  # where a partial of an intermediate holds the others fixed (equations)
    labels: frozenset = frozenset()  # superscripts that label (a layer l), not powers
    superscripts: bool = False  # indices written above (Q^{ia} is the entry q_{ia}); x^2 stays a power
    einstein: bool = False  # an index repeated in a product, and free in no equation's left side, is summed
    cases: tuple = ()  # the case the equations are stated for, said in words in the prose ("off the diagonal")
    elementwise: bool = False  # exp, log, a power of a matrix act entry by entry (not the matrix exponential)
    constants: frozenset = frozenset()  # inputs that do not vary (dA = 0 for a constant A)
    notation: dict = field(default_factory=dict)  # a loose spelling -> what it stands for: x_{k} -> x_{c,k}
    condition: bool = False  # the equations impose a condition (the normal equations), they claim no identity
    layers: tuple = ()  # (a superscript as written, the layer it names): x^{(l+1)} is the quantity x^{l+1}
    scopes: dict = field(default_factory=dict)  # equation label -> the declarations it reads instead
    # a quantity differentiated without its index -> (that index, summed): x̂ for x̂_i, or Σ_i over each term
    dropped: dict = field(default_factory=dict)
    # training examples written with their index above: x -> X makes x^{(i)} the row i of X (a vector), and
    # y -> \vec{y} makes y^{(i)} the entry i of the vector \vec{y}
    examples: dict = field(default_factory=dict)
    # an index declared over a half-open range, "[0, f^{(l)})" -> its open end f^{(l)}: a sum
    # written with that end alone above it (\sum^{f^l}_a) runs over the range
    ends: dict = field(default_factory=dict)
    # an entry whose index falls outside its tensor (a convolution's bounds check) is absent: 0
    outside: bool = False
    # the layout of a Jacobian ∂z/∂x of two vectors: "numerator" (rows z_k), "denominator" (rows x_i)
    layout: str = ""
    # a letter written with a parenthesis that names a channel: w(f)_{m,n,d} is the entry W_{f,m,n,d}
    channels: dict = field(default_factory=dict)
    # an index letter that names the sample in the first place of some tensors' subscripts, whatever
    # sum over that letter stands around it (the sample n of x_{n, i+m-1, j+n-1, d} under a sum over n)
    samples: dict = field(default_factory=dict)

    @classmethod
    def read(cls, data) -> Declarations:
        """The declarations, every key checked for its type before anything is evaluated: a
        wrong type is one SymgradError saying what to write, never a crash further on."""
        if not isinstance(data, dict):
            raise SymgradError(f"the symgrad declarations must be a mapping ({', '.join(KEYS)})")
        unknown = [key for key in data if key not in KEYS]
        if unknown:
            raise SymgradError(f"unknown declaration {_brief(unknown[0])}: use {', '.join(KEYS)}")
        layers = _mapping(data.get("layers"), "layers", '{"(l)": l, "(l+1)": l+1}')
        if not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in layers.items()):
            raise SymgradError(
                f'layers maps a superscript as written to its layer, as {{"(l)": l}}; got {_brief(layers)}'
            )
        layers = {re.sub(r"\s+", "", k): re.sub(r"\s+", "", str(v)) for k, v in layers.items()}
        sizes = _sizes(data.get("sizes"), tuple(layers.items()))
        names = set(sizes[0])
        indices = dict(_mapping(data.get("indices"), "indices", "{i: m, j: n}"))
        ends: dict = {}  # an index declared over a half-open range [0, f): its open end f
        for letter, size in list(indices.items()):
            if not (_is_letter(letter) or letter == "\\ell" or re.fullmatch(r"[A-Za-z]'+", str(letter))):
                raise SymgradError(f"an index is one letter, as in indices: {{i: m}}; got {_brief(letter)}")
            interval = _interval(size)
            if interval is not None:
                size, end = interval
                indices[letter] = size
                if end is not None:
                    ends[letter] = end
            if isinstance(size, list):
                _index_range(letter, size, sizes, tuple(layers.items()))
            elif isinstance(size, str) and _size_name(size, layers) in names:
                indices[letter] = _size_name(size, layers)
            else:
                raise SymgradError(
                    f"the index {letter} ranges over {_brief(size)}, which no declared size names "
                    f"(or write its first and last value, as {letter}: [0, N-1])"
                )
        tensors = dict(_mapping(data.get("tensors"), "tensors", "{A: [m, k]}"))
        letters: dict = {}
        for name, dims in tensors.items():
            if not (_is_letter(name) or _is_name(name) or (layers and _layered_name(name, layers))):
                raise SymgradError(
                    f"a tensor is named by one letter or a Greek letter, as in tensors: {{A: [m, k], \\beta: [m]}}; "
                    f"got {_brief(name)}"
                )
            if _key(name) in letters:
                entries = f"{_key(name)}_{{…}}"
                raise SymgradError(f"the tensors {letters[_key(name)]} and {name} share the entries {entries}")
            letters[_key(name)] = name
            if isinstance(dims, list):  # [0, w) among the dimensions: its first and last index
                dims = [(_interval(d) or (d, None))[0] for d in dims]
                dims = [_size_name(d, layers) or d if isinstance(d, str) else d for d in dims]
                tensors[name] = dims
            if (
                not isinstance(dims, list)
                or not dims
                or not all((isinstance(d, str) and d in names) or isinstance(d, list) for d in dims)
            ):
                raise SymgradError(
                    f"the tensor {name} must list declared sizes, as in [m, k], or an index's first and last "
                    f"value, as in [[0, n]]; got {_brief(dims)}"
                )
            for d in dims:
                if isinstance(d, list) and (len(d) != 2 or not all(isinstance(b, (int, str)) for b in d)):
                    raise SymgradError(
                        f"the tensor {name} must list declared sizes, as in [m, k], or an index's first and last "
                        f"value, as in [[0, n]]; got {_brief(dims)}"
                    )
                if isinstance(d, list):
                    _index_range(name, d, sizes, tuple(layers.items()))
        define = _mapping(data.get("define"), "define", '{"c_{ij}": "a_{ij} + b_{ij}"}')
        scalars = data.get("scalars") or []
        if not isinstance(scalars, list) or not all(_is_name(n) or _is_letter(n) for n in scalars):
            raise SymgradError(f"scalars lists names, as in scalars: [\\gamma, \\beta, a]; got {_brief(scalars)}")
        functions = {}
        for name, kind in _mapping(data.get("functions"), "functions", "{\\sigma: sigmoid}").items():
            if not isinstance(name, str) or kind not in KINDS:
                kinds = "; ".join(f"{k}: {v}" for k, v in KINDS.items())
                raise SymgradError(f"a declared function is one of {kinds}; got {_brief(name)}: {_brief(kind)}")
            functions[name_of(name)] = kind
        constraints = data.get("constraints") or []
        if not isinstance(constraints, list):
            raise SymgradError(f"constraints is a list, as in constraints: [{{one-hot: T}}]; got {_brief(constraints)}")
        partials = data.get("partials", "total")
        if partials in ("local", "total"):
            local: bool | frozenset = partials == "local"
        elif isinstance(partials, dict) and set(partials) == {"local"} and isinstance(partials["local"], list):
            local = frozenset(str(n) for n in partials["local"])
        else:
            raise SymgradError(
                "partials is total (every derivative through every path, the default), local (a derivative of an "
                "intermediate quantity holds the other quantities its definition names fixed), or local in some "
                f"equations, as partials: {{local: [23, 24]}}; got {_brief(partials)}"
            )
        labels = data.get("labels") or []
        if not isinstance(labels, list) or not all(_is_letter(label) for label in labels):
            raise SymgradError(f"labels lists letters, as labels: [l] (x^l is x of the layer l); got {_brief(labels)}")
        superscripts = data.get("superscripts", "powers")
        if superscripts not in ("indices", "powers"):
            raise SymgradError(
                f"superscripts is indices (Q^{{ia}} is an entry) or powers (the default); got {_brief(superscripts)}"
            )
        einstein = data.get("einstein", False)
        if not isinstance(einstein, bool):
            raise SymgradError(f"einstein is true or false (the summation convention); got {_brief(einstein)}")
        case = data.get("case")
        if case is not None and (
            not isinstance(case, str) or not re.fullmatch(r"\s*[A-Za-z](\s*(=|\\neq?|≠)\s*[A-Za-z])+\s*", case)
        ):
            raise SymgradError(f'a case relates index letters, as case: "i \\ne j"; got {_brief(case)}')
        elementwise = data.get("elementwise", False)
        if not isinstance(elementwise, bool):
            raise SymgradError(f"elementwise is true or false; got {_brief(elementwise)}")
        constants = data.get("constants") or []
        if not isinstance(constants, list) or not all(isinstance(c, str) and c in tensors for c in constants):
            raise SymgradError(f"constants lists declared tensors, as constants: [A, B]; got {_brief(constants)}")
        notation = {}
        for loose, meant in _mapping(data.get("notation"), "notation", '{"x_{k}": "x_{c,k}"}').items():
            try:
                layered: tuple = (frozenset(), frozenset(), frozenset(), tuple(layers.items()))  # b_{n} for b^{(l)}_{n}
                pattern, template = parse(str(loose), *layered), parse(str(meant), *layered)
            except Unsupported as exc:
                raise SymgradError(f"the notation {loose}: {meant} is not read: {exc}") from None
            if pattern[0] != "sym" or not pattern[2] or not all(p.isalpha() for p in pattern[2]):
                raise SymgradError(f"a notation names a letter with index letters, as x_{{k}}; got {_brief(loose)}")
            notation[(pattern[1], len(pattern[2]))] = (pattern[2], template)
        dropped = {}
        for name, index in _mapping(data.get("dropped"), "dropped", '{"\\hat{x}": i}').items():
            try:
                written = parse(str(name))
            except Unsupported as exc:
                raise SymgradError(f"the dropped index of {name} is not read: {exc}") from None
            # i: the entry x̂_i; \sum_i: each term summed over i (a sum over the batch)
            spelled = re.fullmatch(r"\s*(\\sum_\s*)?\{?\s*([A-Za-z])\s*\}?\s*", str(index))
            if written[0] != "sym" or written[2] is not None or not spelled or spelled.group(2) not in indices:
                raise SymgradError(
                    f"dropped maps a quantity written without its index to the index it means, a declared letter "
                    f'(dropped: {{"\\hat{{x}}": i}}, the entry) or a sum over it (dropped: {{"\\hat{{x}}": '
                    f'"\\sum_i"}}); got {_brief(name)}: {_brief(index)}'
                )
            dropped[written[1]] = (spelled.group(2), bool(spelled.group(1)))
        examples = {}
        for name, tensor in _mapping(data.get("examples"), "examples", '{x: X, y: "\\vec{y}"}').items():
            of = _tensor_name(tensor, layers) if isinstance(tensor, str) else None
            dims = {_tensor_name(k, layers): v for k, v in tensors.items()}.get(of or "")
            if not (_is_letter(name) or _is_name(name)) or dims is None or len(dims) not in (1, 2):
                raise SymgradError(
                    "examples maps a letter to the declared matrix whose rows are the training examples (x^{(i)} "
                    "the row i of X) or the vector whose entries they are (y^{(i)} the entry i of \\vec{y}), as "
                    f'examples: {{x: X, y: "\\vec{{y}}"}}; got {_brief(name)}: {_brief(tensor)}'
                )
            examples[name_of(name)] = _key(str(of))
        channels = {}
        for name, tensor in _mapping(data.get("channels"), "channels", "{w: W, b: c}").items():
            of = _tensor_name(tensor, layers) if isinstance(tensor, str) else ""
            if not _is_letter(name) or not _is_letter(of):
                raise SymgradError(
                    "channels maps a letter written with its channel in parentheses to the declared tensor it "
                    f"names (w(f)_{{m,n,d}} the entry W_{{f,m,n,d}}), as channels: {{w: W}}; got {_brief(name)}: "
                    f"{_brief(tensor)}"
                )
            channels[name] = of
        samples = {}
        for letter, names in _mapping(data.get("samples"), "samples", "{n: [x, z]}").items():
            if not _is_letter(letter) or not isinstance(names, list) or not all(_is_letter(n) for n in names):
                raise SymgradError(
                    "samples maps the sample's index letter to the letters whose first index it is, whatever sum "
                    f"over that letter stands around them, as samples: {{n: [x, z]}}; got {_brief(letter)}: "
                    f"{_brief(names)}"
                )
            if not isinstance(indices.get(letter), str):
                # a sum over the samples is told apart by its upper bound, the samples' size: a
                # range has no such name, and every sum would capture the sample instead
                raise SymgradError(
                    f"the samples' index {letter} ranges over a declared size, as indices: {{{letter}: N}} (a sum "
                    f"up to N is the sum over the samples); got {_brief((data.get('indices') or {}).get(letter))}"
                )
            samples[letter] = frozenset(names)
        layout = data.get("layout", "")
        if layout not in ("", "numerator", "denominator"):
            raise SymgradError(
                f"layout is numerator (a Jacobian ∂z/∂x with rows z_k) or denominator (rows x_i); got {_brief(layout)}"
            )
        outside = data.get("outside", "refused")
        if outside not in ("zero", "refused"):
            raise SymgradError(
                "outside is zero (an entry whose index falls outside its tensor is absent, as a convolution's "
                f"bounds check reads it) or refused (the default: such a line is not checked); got {_brief(outside)}"
            )
        condition = data.get("condition", False)
        if not isinstance(condition, bool):
            raise SymgradError(f"condition is true or false (the equations are conditions); got {_brief(condition)}")
        given = {}
        for name, of in _mapping(data.get("given"), "given", "{f: y}").items():
            reads = of if isinstance(of, list) else [of]
            if not isinstance(name, str) or not reads or not all(isinstance(r, str) for r in reads):
                raise SymgradError(
                    f"given maps a function to the quantities it reads, as given: {{f: y}} or {{C: [y, z]}}; "
                    f"got {_brief(name)}: {_brief(of)}"
                )
            given[name_of(name)] = tuple(_tensor_name(r, layers) for r in reads)
        scopes = {}
        for where, overrides in _mapping(data.get("scopes"), "scopes", '{"11": {define: {...}}}').items():
            if not isinstance(overrides, dict) or not set(overrides) <= set(SCOPED):
                raise SymgradError(f"a scope declares some of {', '.join(SCOPED)} again; got {_brief(overrides)}")
            # the post's definitions and tensors go on, the scope's added or replacing them by name;
            # any other key the scope declares replaces the post's
            merged = {k: v for k, v in data.items() if k != "scopes"}
            merged.update({k: v for k, v in overrides.items() if k not in ("define", "tensors")})
            merged["tensors"] = {
                **_mapping(data.get("tensors"), "tensors", ""),
                **_mapping(overrides.get("tensors"), "", ""),
            }
            again = {_defined_name(k) for k in _mapping(overrides.get("define"), "define", "")}
            merged["define"] = {
                **{
                    k: v for k, v in _mapping(data.get("define"), "define", "").items() if _defined_name(k) not in again
                },
                **_mapping(overrides.get("define"), "define", ""),
            }
            scoped = cls.read(merged)
            for label in str(where).split(","):
                scopes[label.strip()] = scoped
        decl = cls(
            sizes,
            dict(indices),
            {_tensor_name(k, layers): v for k, v in tensors.items()},
            dict(define),
            [name_of(n) for n in scalars],
            functions,
            given,
            list(constraints),
            local,
            frozenset(labels),
            superscripts == "indices",
            einstein,
            (case,) if case else (),
            elementwise,
            frozenset(_key(c) for c in constants),
            notation,
            condition,
            tuple(layers.items()),
            scopes,
            dropped,
            examples,
            ends=ends,
            outside=outside == "zero",
            channels=channels,
            samples=samples,
            layout=layout,
        )
        defined = definitions(decl)  # every definition read once
        _refuse_clashes(decl, defined)
        _refuse_undeclared_channels(decl, defined)
        heads = [indices for indices, _ in defined.values()]
        for size in sizes:
            count = sum(math.prod(_dimension(d, size, decl.layers) for d in dims) for dims in tensors.values())
            count += sum(math.prod(_length_of(decl, c, size) for c in head) for head in heads)
            if count > MAX_ENTRIES:
                shown = ", ".join(f"{k} = {v}" for k, v in size.items())
                raise SymgradError(
                    f"at {shown} the tensors and defined quantities have {count:,} entries, over check-doc's "
                    f"limit of {MAX_ENTRIES:,}: declare smaller sizes (a derivation is checked at the sizes declared)"
                )
        return decl


_REPR = reprlib.Repr()


_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 40, 40, 4, 4


def _brief(value) -> str:
    """A value as written, shortened however large or deep (YAML aliases can nest without end)."""
    return _REPR.repr(value)


def _mapping(value, key: str, example: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SymgradError(
            f"{key} must be a mapping, as in {key}: {example}; got {type(value).__name__} {_brief(value)}"
        )
    return value


def _defined_name(lhs) -> str:
    """The name a definition's left side defines, its indices left out (y for y_{c,i} and y_{s,c,k}),
    so that a scope's definition replaces the post's of the same name."""
    text = str(lhs).strip()
    m = re.fullmatch(r"(.*?)\s*_\s*(\{[^{}]*\}|\S)", text)
    if m and not re.fullmatch(r"\{?\s*[0-9]+\s*\}?", m.group(2)):
        text = m.group(1)
    return re.sub(r"\s+", "", text.split("(")[0])


def _interval(written) -> tuple | None:
    """An index range written as the post writes it, "[0, f^{(l)})" or "[1, N]": its first and last
    value, and for a half-open range its open end (a sum written up to it runs over the range);
    None for anything else."""
    m = re.fullmatch(r"\s*\[(.+),(.+)([\])])\s*", written) if isinstance(written, str) else None
    if m is None:
        return None
    first, end = m.group(1).strip(), m.group(2).strip()
    if m.group(3) == "]":
        return [first, end], None
    return [first, f"{end} - 1"], end


def _index_range(letter: str, bounds, sizes: list, layers: tuple = ()) -> None:
    """[first, last]: each an integer or an expression in the sizes (0, N-1), first <= last + 1."""
    if len(bounds) != 2:
        raise SymgradError(
            f"the index {letter} ranges over {_brief(bounds)}: write its first and last value, as {letter}: [0, N-1]"
        )
    for size in sizes:
        first, last = (_bound(letter, b, size, layers) for b in bounds)
        if last < first - 1:
            raise SymgradError(f"the index {letter} runs from {first} to {last} at {size}: an empty range")


def _dimension(d, size: dict, layers: tuple = ()) -> int:
    """How many entries a tensor's dimension has: a size, or [first, last]."""
    return (
        max(0, _bound("", d[1], size, layers) - _bound("", d[0], size, layers) + 1) if isinstance(d, list) else size[d]
    )


def _length_of(decl: Declarations, letter: str, size: dict) -> int:
    """How many values the index takes at this size."""
    bounds = decl.indices[letter]
    if isinstance(bounds, list):
        return max(0, _bound(letter, bounds[1], size, decl.layers) - _bound(letter, bounds[0], size, decl.layers) + 1)
    return size[bounds]


def _bound(letter: str, bound, size: dict, layers: tuple = ()) -> int:
    """A bound of an index range, an integer or an expression in the declared sizes (named with
    the declared layers: w^{(l)}_{img} - 1)."""
    if isinstance(bound, int) and not isinstance(bound, bool):
        return bound
    if not isinstance(bound, str):
        raise SymgradError(
            f"a bound of the index {letter} is an integer or an expression in the sizes, got {_brief(bound)}"
        )
    try:
        value = size_constant(parse(bound, frozenset(), frozenset(size), frozenset(), layers), size)
    except Unsupported as exc:
        raise SymgradError(f"the bound {bound} of the index {letter} is not read: {exc}") from None
    if value is None:
        raise SymgradError(f"the bound {bound} of the index {letter} is not an integer at {size}")
    return value


# a size named by a letter with a layer's superscript, and perhaps a word below: f^{(l)}, w^{(l+1)}_{img}
_LAYERED_SIZE = re.compile(r"([A-Za-z])\^(\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9])(?:_(\{[A-Za-z0-9+-]+\}|[A-Za-z0-9]))?")


_BELOW_FIRST = re.compile(r"([A-Za-z])_(\{[A-Za-z0-9+-]+\}|[A-Za-z0-9])\^(\{(?:[^{}]|\{[^{}]*\})*\}|[A-Za-z0-9])")


def _size_name(name: str, layers: dict) -> str | None:
    """A size's name as the reader spells it: N, N_i, s_{l+1}, and with a declared layer's
    superscript, f^{(l)} as f^{l} and w^{(l+1)}_{img} as w^{l+1}_{img}; None when it is none."""
    if name.isidentifier() or re.fullmatch(r"[A-Za-z]+_\{[^{}]+\}", name):
        return name
    spelled = re.sub(r"\s+", "", name)
    m = _LAYERED_SIZE.fullmatch(spelled)
    first = _BELOW_FIRST.fullmatch(spelled)
    if first is not None:  # D_o^{(l+1)}, as D^{(l+1)}_o prints
        m = _LAYERED_SIZE.fullmatch(f"{first.group(1)}^{first.group(3)}_{first.group(2)}")
    if m is None:
        return None
    above = m.group(2)[1:-1] if m.group(2).startswith("{") else m.group(2)
    if above not in layers:
        return None
    below = m.group(3) or ""
    below = "_{" + below.strip("{}") + "}" if below else ""
    return f"{m.group(1)}^{{{layers[above]}}}{below}"


def _positive(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymgradError(f"a declared size must map names to positive integers, got {name}: {_brief(value)}")
    return value


def _sizes(sizes, layers: tuple = ()) -> list:
    """The declared sizes: a list of mappings from size names to positive integers, every one
    naming the same sizes. A size may be written as an expression in the sizes before it (a
    relation the post states between layers: w^{(l+1)}_{img}: "w^{(l)}_{img} - f^{(l)} + 1")."""
    if isinstance(sizes, dict):
        sizes = [sizes]
    if not sizes or not isinstance(sizes, list):
        raise SymgradError("the declarations need sizes: a list such as [{m: 2, k: 4, n: 3}]")
    out: list = []
    for size in sizes:
        if not isinstance(size, dict) or not size:
            raise SymgradError(f"a declared size maps size names to positive integers, as {{m: 2}}; got {_brief(size)}")
        read: dict = {}
        relations: dict = {}  # a size written as an expression in the others, read once they are
        for name, value in size.items():
            spelled = _size_name(name, dict(layers)) if isinstance(name, str) else None
            if spelled is None:
                raise SymgradError(
                    f"a size is named by a word such as m or N (or s_{{l+1}}, or w^{{(l)}}_{{img}} with a declared "
                    f"layer), got {_brief(name)}"
                )
            # a string that is a number as YAML 1.1 writes one (010, 0x3, 1:30) is refused below,
            # never read as a relation: the author may mean 10 or something else
            if isinstance(value, str) and not re.fullmatch(r"\s*[-+]?[0-9][0-9A-Za-z_:.]*\s*", value):
                relations[spelled] = (name, value)
                continue
            read[spelled] = _positive(name, value)
        while relations:  # each relation once the sizes it names are read (YAML may sort the keys)
            ready = {}
            for spelled, (name, value) in relations.items():
                try:
                    ready[spelled] = _positive(name, _bound(spelled, value, read, layers))
                except SymgradError:
                    continue
            if not ready:  # none can be read: the first one's own error says why
                spelled, (name, value) = next(iter(relations.items()))
                _positive(name, _bound(spelled, value, read, layers))
            read.update(ready)
            relations = {k: v for k, v in relations.items() if k not in ready}
        if out and set(read) != set(out[0]):
            raise SymgradError(f"every declared size must name the same sizes: {sorted(out[0])} and {sorted(read)}")
        out.append(read)
    return out


def definitions(decl: Declarations) -> dict:
    """letter -> (index letters, value tree) for every defined quantity, each a letter that is
    neither an input nor defined twice, and none defined in terms of itself. A name may be a
    Greek or decorated letter (\\mu, \\hat{x}_{i}) or a letter with a power (\\sigma^{2}_{c}, a
    variance named by its square): written so, σ² is that name and not σ squared."""
    defined: dict = {}
    heads = []
    channels = tuple(decl.channels.items())
    for lhs, rhs in decl.define.items():
        if isinstance(lhs, str) and _CALLED.fullmatch(lhs):
            continue  # a function with its parameters: ``functions_defined``
        if not isinstance(lhs, str) or not isinstance(rhs, str):
            raise SymgradError(
                f"define maps a LaTeX left side to a LaTeX right side, both strings; got {_brief(lhs)}: {_brief(rhs)}"
            )
        try:
            vocabulary: tuple = (frozenset(decl.functions), frozenset(), frozenset(), decl.layers, channels)
            heads.append((lhs, _compound(_head(parse(lhs, *vocabulary), decl))))
        except Unsupported as exc:
            raise SymgradError(f"the definition of {lhs} does not parse: {exc}") from None
        except RecursionError:
            raise SymgradError(f"the definition of {lhs[:40]} is nested too deeply to read") from None
    names = _names(decl, {head[1] for _, head in heads if head[0] == "sym"})
    values = frozenset(decl.scalars) | frozenset(decl.sizes[0]) | {h[1] for _, h in heads if h[0] == "sym"}
    values |= frozenset(_spellings(*decl.tensors))
    for (lhs, head), rhs in zip(heads, [rhs for lhs, rhs in decl.define.items() if not _CALLED.fullmatch(str(lhs))]):
        try:
            heads_named = frozenset(h[1] for _, h in heads if h[0] == "sym")
            operators = frozenset(n for n, kind in decl.functions.items() if kind == "differential")
            vocabulary = (
                frozenset(decl.functions) - operators | _function_names(decl),
                values,
                operators,
                decl.layers,
                channels,
            )
            body = resolve(parse(rhs, *vocabulary), reading_of(decl, names, heads_named))
        except Unsupported as exc:
            raise SymgradError(f"the definition of {lhs} does not parse: {exc}") from None
        except RecursionError:
            raise SymgradError(f"the definition of {lhs[:40]} is nested too deeply to read") from None
        spelled = (lambda name: {name, name.lower()}) if decl.superscripts else _spellings
        tensor = [name for name in decl.tensors if head[0] in ("sym", "bold") and head[1] in spelled(name)]
        if tensor:  # X, x_{i}, \boldsymbol{X}: every spelling of a declared tensor already means its entries
            raise SymgradError(
                f"{head[1]} is both a declared tensor and defined by {lhs} (the tensor {tensor[0]}): keep one"
            )
        if head[0] != "sym" or any(not (_is_letter(c) or c == "\\ell") for c in head[2] or ()):
            raise SymgradError(f"a defined quantity is a letter with index letters, got {_brief(lhs)}")
        letter, indices = head[1], tuple(head[2] or ())
        if letter in defined:
            raise SymgradError(f"{letter} is defined twice")
        if letter in decl.sizes[0] or letter in decl.indices:  # a size or an index would win, unseen
            raise SymgradError(
                f"{letter} is both a declared {'size' if letter in decl.sizes[0] else 'index'} and defined"
            )
        for c in indices:
            if c not in decl.indices:
                raise SymgradError(f"the index {c} of {lhs} is not declared in indices")
        if len(set(indices)) != len(indices):
            raise SymgradError(f"the indices of {lhs} must be distinct letters")
        defined[letter] = (indices, body)
    _refuse_cycles(defined)
    for name, reads in decl.given.items():
        for of in reads:
            if of not in defined and _key(of) not in {_key(t) for t in decl.tensors}:
                raise SymgradError(
                    f"the function {name} is given as a function of {of}, which is neither defined nor a tensor"
                )
    return defined


# a function defined with its parameters: "J(\\theta)", "h_\\theta(x)", "Attention(K, Q, V)"
_CALLED = re.compile(r"\s*([^()]+?)\s*\((.*)\)\s*", re.DOTALL)


def _function_names(decl) -> frozenset:
    return frozenset(name_of(m.group(1)) for lhs in decl.define if (m := _CALLED.fullmatch(str(lhs))))


def functions_defined(decl, reading) -> dict:
    """name -> (its parameters as written, its body) for each function the declarations define
    with parameters; a call is read where its arguments are written as the parameters are."""
    out = {}
    names = _function_names(decl)
    operators = frozenset(n for n, kind in decl.functions.items() if kind == "differential")
    values = frozenset(decl.scalars) | frozenset(decl.sizes[0]) | frozenset(_spellings(*decl.tensors))
    vocabulary = (
        frozenset(decl.functions) - operators | names,
        values,
        operators,
        decl.layers,
        tuple(decl.channels.items()),
    )
    for lhs, rhs in decl.define.items():
        m = _CALLED.fullmatch(str(lhs))
        if m is None:
            continue
        try:
            head = resolve(parse(str(lhs), *vocabulary), reading)
            body = resolve(parse(str(rhs), *vocabulary), reading)
        except Unsupported as exc:
            raise SymgradError(f"the definition of {lhs} does not parse: {exc}") from None
        if head[0] != "call":
            raise SymgradError(f"the definition of {lhs} is not a function with its parameters, as J(\\theta)")
        out[head[1]] = (head[2], body)
    return out


def _head(head: tuple, decl) -> tuple:
    """A definition's left side: its labels taken off, and where indices are written above,
    S^{ij} read as S with the indices i, j."""
    head = resolve(head, reading_of(decl))
    if decl.superscripts and head[0] == "pow" and head[1][0] == "sym":
        above = _index_letters(head[2], frozenset(decl.indices))
        if above:
            return ("sym", head[1][1], above + tuple(head[1][2] or ()))
    return head


def _compound(head: tuple) -> tuple:
    """A defined name written with a power, \\sigma^{2}_{c}: the name \\sigma^{2} with its indices;
    a name with a number below it, B_{1}, a name of its own."""
    if head[0] == "pow" and head[1][0] == "sym" and head[2][0] == "num":
        return ("sym", _power_name(head[1][1], head[2][1]), head[1][2])
    if head[0] == "sym" and head[2] is not None and all(p.isdigit() for p in head[2]):
        return ("sym", f"{head[1]}_{{{''.join(head[2])}}}", None)
    return head


def _names(decl: Declarations, defined: set) -> frozenset:
    """Every name the declarations give (tensors, their entries, scalars, defined quantities)."""
    return frozenset(_spellings(*decl.tensors)) | frozenset(decl.scalars) | frozenset(defined)


# letters the reader gives a meaning of its own: e^{x} is Euler's number
RESERVED = {"e": "Euler's number e"}


def _refuse_undeclared_channels(decl: Declarations, defined: dict) -> None:
    """A channel names a declared tensor or defined quantity (K for w(f), or K^{l} in a layer):
    said once here, and not again by every line that writes it."""
    declared = {_key(name.split("^")[0]) for name in [*decl.tensors, *defined]}
    for letter, of in decl.channels.items():
        if _key(of) not in declared:
            raise SymgradError(
                f"channels names {of} for {letter}(f), which is not a declared tensor or defined quantity: "
                f"declare it, as tensors: {{{of}: [n, m]}}"
            )


def _refuse_clashes(decl: Declarations, defined: dict) -> None:
    """Every declared name means one thing: a letter that is a size and an index, an index and a
    tensor's entries, a tensor and a defined quantity, or Euler's e and anything declared, would
    be read one way where its author meant the other, silently."""
    roles: dict = dict(RESERVED)

    def claim(name: str, role: str) -> None:
        if name in roles and roles[name] != role:
            raise SymgradError(f"{name} is both {roles[name]} and {role}: give each a letter of its own")
        roles[name] = role

    for name in decl.sizes[0]:
        claim(name, f"the size {name}")
    for name in decl.tensors:
        for spelling in [name] if decl.superscripts else sorted(_spellings(name)):
            claim(spelling, f"the tensor {name} (entries {_key(name)}_{{…}})")
    for letter in decl.indices:
        claim(letter, f"the index {letter}")
    for name in decl.scalars:
        claim(name, f"the scalar {name}")
    for name, kind in decl.functions.items():
        claim(name, f"the function {name} ({kind})")
    for name in decl.given:
        claim(name, f"the function {name} given from outside")
    for name in decl.labels:
        claim(name, f"the label {name}")
    for letter, (indices, _) in defined.items():
        role = f"the quantity defined as {letter}" + (f"_{{{''.join(indices)}}}" if indices else "")
        # a defined quantity with indices is also written as a bold capital, \boldsymbol{C} for c_{ij}
        upper = indices and _is_letter(letter) and not decl.superscripts
        for spelling in sorted(_spellings(letter)) if upper else [letter]:
            claim(spelling, role)


def _refuse_cycles(defined: dict) -> None:
    """A definition that reaches itself (y = y_1 + 1, or y = w + 1 with w = y) has no value."""
    uses = {letter: _uses(body) & set(defined) for letter, (_, body) in defined.items()}
    state: dict = {}  # letter -> "open" while its uses are followed, "done" after

    def visit(letter: str, path: list) -> None:
        if state.get(letter) == "done":
            return
        if state.get(letter) == "open":
            cycle = path[path.index(letter) :] + [letter]
            raise SymgradError(f"a definition refers to itself: {' → '.join(cycle)}")
        state[letter] = "open"
        for other in sorted(uses[letter]):
            visit(other, path + [letter])
        state[letter] = "done"

    for letter in sorted(defined):
        visit(letter, [])
