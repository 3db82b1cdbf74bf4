"""What the symbols of a hand-written derivation mean, from its declarations, and their exact
values at one declared size.

    sizes: [{m: 2, k: 4, n: 3}]
    indices: {i: m, j: n, t: k, p: m, q: k}
    tensors: {A: [m, k], B: [k, n]}            # inputs: A is the matrix, a_{it} its entries
    define:
      "c_{ij}": "\\sum_{t=1}^{k} a_{it} b_{tj}"
      "L": "\\frac{1}{m n}\\sum_{i=1}^{m}\\sum_{j=1}^{n} c_{ij}"

∂L/∂a_{23} is the exact derivative of L's definition, written out down to the inputs. A derivative
with respect to a defined quantity (∂L/∂c_{11}) has the meaning a backpropagation derivation gives
it: the derivative of L's own definition, with c as its variables, through the nodes that use c
directly, its value then written out. Sums run over the declared ranges; a bold capital is the
declared tensor (or the defined one whose entries carry its lower-case letter).
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
import reprlib
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy

from ..core.errors import SymgradError
from ..core.numbers import MAX_EXPONENT, check_exponent, power
from . import exact
from .exact import MAX_TERMS, estimate_terms
from .latex import GREEK, Unsupported, literal, name_of, parse


class Illustrative(Exception):
    """A formula written with dots (\\cdots, \\vdots): it shows a pattern and is not checked."""


# what a scope (some equations of the post) may declare again, for itself
SCOPED = (
    "indices", "tensors", "scalars", "define", "functions", "given", "constraints", "partials", "labels",
    "superscripts", "einstein", "case", "elementwise", "constants", "notation", "condition", "layers",
    "dropped",
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

    @classmethod
    def read(cls, data) -> Declarations:
        """The declarations, every key checked for its type before anything is evaluated: a
        wrong type is one SymgradError saying what to write, never a crash further on."""
        if not isinstance(data, dict):
            raise SymgradError(f"the symgrad declarations must be a mapping ({', '.join(KEYS)})")
        unknown = [key for key in data if key not in KEYS]
        if unknown:
            raise SymgradError(f"unknown declaration {_brief(unknown[0])}: use {', '.join(KEYS)}")
        sizes = _sizes(data.get("sizes"))
        names = set(sizes[0])
        indices = _mapping(data.get("indices"), "indices", "{i: m, j: n}")
        for letter, size in indices.items():
            if not (_is_letter(letter) or letter == "\\ell" or re.fullmatch(r"[A-Za-z]'+", str(letter))):
                raise SymgradError(f"an index is one letter, as in indices: {{i: m}}; got {_brief(letter)}")
            if isinstance(size, list):
                _index_range(letter, size, sizes)
            elif not isinstance(size, str) or size not in names:
                raise SymgradError(
                    f"the index {letter} ranges over {_brief(size)}, which no declared size names "
                    f"(or write its first and last value, as {letter}: [0, N-1])"
                )
        layers = _mapping(data.get("layers"), "layers", '{"(l)": l, "(l+1)": l+1}')
        if not all(isinstance(k, str) and isinstance(v, (str, int)) for k, v in layers.items()):
            raise SymgradError(
                f'layers maps a superscript as written to its layer, as {{"(l)": l}}; got {_brief(layers)}'
            )
        layers = {re.sub(r"\s+", "", k): re.sub(r"\s+", "", str(v)) for k, v in layers.items()}
        tensors = _mapping(data.get("tensors"), "tensors", "{A: [m, k]}")
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
                    _index_range(name, d, sizes)
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
                pattern, template = parse(str(loose)), parse(str(meant))
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
        )
        defined = definitions(decl)  # every definition read once
        _refuse_clashes(decl, defined)
        heads = [indices for indices, _ in defined.values()]
        for size in sizes:
            count = sum(math.prod(_dimension(d, size) for d in dims) for dims in tensors.values())
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


def _layered_name(key, layers: dict) -> bool:
    """A name with a declared layer's superscript (W^{(l)})."""
    try:
        return isinstance(key, str) and "^" in key and _tensor_name(key, layers) != name_of(key)
    except (Unsupported, SymgradError):
        return False


def _tensor_name(key: str, layers: dict) -> str:
    """A tensor's name as the parser spells it (X, \\beta, \\vec{y}, W^{l} for W^{(l)})."""
    if _is_letter(key):
        return key
    if layers and "^" in key:
        head = parse(key, frozenset(), frozenset(), frozenset(), tuple(layers.items()))
        if head[0] == "sym" and head[2] is None:
            return head[1]
    return name_of(key)


def _key(name: str) -> str:
    """How a tensor is keyed by its entries' name: a letter in lower case (X -> x), any other
    name as written (\\beta, W^{l})."""
    return name.lower() if _is_letter(name) else name


def _is_letter(value) -> bool:
    return isinstance(value, str) and len(value) == 1 and value.isascii() and value.isalpha()


def _is_name(value) -> bool:
    """A Greek letter, or a letter decorated (\\hat{x}) or calligraphic (\\mathcal{L})."""
    if not isinstance(value, str):
        return False
    try:
        name = name_of(value)
    except (Unsupported, SymgradError):
        return False
    return name[1:] in GREEK or bool(re.fullmatch(r"\\[A-Za-z]+\{([A-Za-z]|\\[A-Za-z]+)\}", name)) or _is_letter(name)


def _index_range(letter: str, bounds, sizes: list) -> None:
    """[first, last]: each an integer or an expression in the sizes (0, N-1), first <= last + 1."""
    if len(bounds) != 2:
        raise SymgradError(
            f"the index {letter} ranges over {_brief(bounds)}: write its first and last value, as {letter}: [0, N-1]"
        )
    for size in sizes:
        first, last = (_bound(letter, b, size) for b in bounds)
        if last < first - 1:
            raise SymgradError(f"the index {letter} runs from {first} to {last} at {size}: an empty range")


def _dimension(d, size: dict) -> int:
    """How many entries a tensor's dimension has: a size, or [first, last]."""
    return max(0, _bound("", d[1], size) - _bound("", d[0], size) + 1) if isinstance(d, list) else size[d]


def _length_of(decl: Declarations, letter: str, size: dict) -> int:
    """How many values the index takes at this size."""
    bounds = decl.indices[letter]
    if isinstance(bounds, list):
        return max(0, _bound(letter, bounds[1], size) - _bound(letter, bounds[0], size) + 1)
    return size[bounds]


def _bound(letter: str, bound, size: dict) -> int:
    """A bound of an index range, an integer or an expression in the declared sizes."""
    if isinstance(bound, int) and not isinstance(bound, bool):
        return bound
    if not isinstance(bound, str):
        raise SymgradError(
            f"a bound of the index {letter} is an integer or an expression in the sizes, got {_brief(bound)}"
        )
    try:
        value = Meaning.constant(parse(bound), size)
    except Unsupported as exc:
        raise SymgradError(f"the bound {bound} of the index {letter} is not read: {exc}") from None
    if value is None:
        raise SymgradError(f"the bound {bound} of the index {letter} is not an integer at {size}")
    return value


def _sizes(sizes) -> list:
    """The declared sizes: a list of mappings from size names to positive integers, every one
    naming the same sizes."""
    if isinstance(sizes, dict):
        sizes = [sizes]
    if not sizes or not isinstance(sizes, list):
        raise SymgradError("the declarations need sizes: a list such as [{m: 2, k: 4, n: 3}]")
    for size in sizes:
        if not isinstance(size, dict) or not size:
            raise SymgradError(f"a declared size maps size names to positive integers, as {{m: 2}}; got {_brief(size)}")
        for name, value in size.items():
            if not isinstance(name, str) or not (name.isidentifier() or re.fullmatch(r"[A-Za-z]+_\{[^{}]+\}", name)):
                raise SymgradError(f"a size is named by a word such as m or N (or s_{{l+1}}), got {_brief(name)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SymgradError(f"a declared size must map names to positive integers, got {name}: {_brief(value)}")
        if set(size) != set(sizes[0]):
            raise SymgradError(f"every declared size must name the same sizes: {sorted(sizes[0])} and {sorted(size)}")
    return sizes


def definitions(decl: Declarations) -> dict:
    """letter -> (index letters, value tree) for every defined quantity, each a letter that is
    neither an input nor defined twice, and none defined in terms of itself. A name may be a
    Greek or decorated letter (\\mu, \\hat{x}_{i}) or a letter with a power (\\sigma^{2}_{c}, a
    variance named by its square): written so, σ² is that name and not σ squared."""
    defined: dict = {}
    heads = []
    for lhs, rhs in decl.define.items():
        if isinstance(lhs, str) and _CALLED.fullmatch(lhs):
            continue  # a function with its parameters: ``functions_defined``
        if not isinstance(lhs, str) or not isinstance(rhs, str):
            raise SymgradError(
                f"define maps a LaTeX left side to a LaTeX right side, both strings; got {_brief(lhs)}: {_brief(rhs)}"
            )
        try:
            vocabulary: tuple = (frozenset(decl.functions), frozenset(), frozenset(), decl.layers)
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
            vocabulary = (frozenset(decl.functions) - operators | _function_names(decl), values, operators, decl.layers)
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
    vocabulary = (frozenset(decl.functions) - operators | names, values, operators, decl.layers)
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


def _spellings(*letters: str) -> set:
    """A tensor's letter in both cases: X is the tensor, \\boldsymbol{X} its bold spelling, x_{i} its
    entries. A Greek or decorated name has one spelling."""
    return {
        spelling
        for letter in letters
        for spelling in ((letter.lower(), letter.upper()) if len(letter) == 1 else (letter,))
    }


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


def _power_name(base: str, exponent) -> str:
    return f"{base}^{{{exponent}}}"


def _names(decl: Declarations, defined: set) -> frozenset:
    """Every name the declarations give (tensors, their entries, scalars, defined quantities)."""
    return frozenset(_spellings(*decl.tensors)) | frozenset(decl.scalars) | frozenset(defined)


@dataclass(frozen=True)
class Reading:
    """What the declarations say about how a formula is written: the names they give, the sizes,
    the labels, and, where indices are written above, each name's entries (Q -> q)."""

    names: frozenset = frozenset()
    sizes: frozenset = frozenset()
    labels: frozenset = frozenset()
    entries: tuple = ()  # (name as written, the letter of its entries) where indices are written above
    indices: frozenset = frozenset()
    matrices: tuple = ()  # (a capital, its entries' letter): X alone is the matrix, X_{ij} its entry
    notation: tuple = ()  # ((letter, how many indices), (its index letters, what it stands for))
    vectors: frozenset = frozenset()  # names that stand alone for a declared vector: x, \\theta


def resolve(node, reading: Reading):
    """The tree with every power of a letter that is a declared name (\\sigma_c^2 where \\sigma^{2}
    is declared, and \\sigma itself is not) read as that name, every size named with a
    subscript (N_i) read as that size, every superscript that is a declared label (x^{l},
    x^{(l)}) taken off, and, where indices are written above, Q^{ia} read as the entry q_{ia}
    (δ^j_m as δ_{jm})."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "pow" and node[2][0] == "sym" and node[2][2] is None and node[2][1] in reading.labels:
        return resolve(node[1], reading)
    if node[0] == "sym" and node[2] and (node[1], len(node[2])) in dict(reading.notation):
        letters, template = dict(reading.notation)[(node[1], len(node[2]))]
        return _renamed(template, dict(zip(letters, node[2])))
    if node[0] == "sym" and node[2] is not None and f"{node[1]}_{''.join(node[2])}" in reading.sizes:
        return ("sym", f"{node[1]}_{''.join(node[2])}", None)
    if node[0] == "pow" and node[1][0] == "sym" and reading.entries:
        entries = dict(reading.entries)
        above = _index_letters(node[2], reading.indices)
        if node[1][1] in entries and above:
            return ("sym", entries[node[1][1]], above + tuple(node[1][2] or ()))
    if node[0] == "sym" and node[2] is not None and all(p.isdigit() for p in node[2]):
        name = f"{node[1]}_{{{''.join(node[2])}}}"  # B_1: a name of its own, where one is declared so
        if name in reading.names:
            return ("sym", name, None)
    if node[0] == "sym" and reading.matrices and node[1] in dict(reading.matrices):
        letter = dict(reading.matrices)[node[1]]
        if node[2] is None:
            return ("bold", node[1])
        return ("sym", letter, node[2]) if letter != node[1] else node
    if node[0] == "sym" and node[2] is None and node[1] in reading.vectors:
        return ("bold", node[1])  # x alone, x a declared vector: the vector
    if node[0] == "pow" and node[1][0] == "sym" and node[2][0] == "num":
        name = _power_name(node[1][1], node[2][1])
        if name in reading.names and node[1][1] not in reading.names:
            return ("sym", name, node[1][2])
    return tuple(_resolved(child, reading) for child in node)


def _renamed(node, names: dict):
    """The tree with its index letters renamed (a notation's x_{c,k} written x_{c,j})."""
    if node[0] == "sym":
        return ("sym", node[1], tuple(names.get(p, p) for p in node[2]) if node[2] else node[2])
    return tuple(_resolved_with(child, lambda c: _renamed(c, names)) for child in node)


def _resolved_with(child, function):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return function(child)
    if isinstance(child, (list, tuple)):
        out = [_resolved_with(c, function) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _index_letters(node, indices: frozenset) -> tuple:
    """The index letters a superscript writes (i, ij, i1), or () when it is anything else."""
    parts = node[1] if node[0] == "mul" else [node]
    out = []
    for part in parts:
        if part[0] == "sym" and part[2] is None and part[1] in indices:
            out.append(part[1])
        else:  # a number above a letter is a power: a_i^2
            return ()
    return tuple(out)


def _resolved(child, reading):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return resolve(child, reading)
    if isinstance(child, (list, tuple)):
        out = [_resolved(c, reading) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def reading_of(decl, names: frozenset = frozenset(), heads: frozenset = frozenset()) -> Reading:
    """How the declarations read a formula; `heads` the defined names (their entries written above
    too, where indices are)."""
    entries: dict = {}
    if decl.superscripts:
        entries = {name: _key(name) for name in decl.tensors}
        entries.update({name: name for name in heads})
        entries.update({name: name for name, kind in decl.functions.items() if kind == "kronecker"})
    sizes, indices = frozenset(decl.sizes[0]), frozenset(decl.indices)
    matrices: dict = {}
    if not decl.superscripts:  # X alone is the tensor X, X_{ij} its entry x_{ij}
        for name in [*decl.tensors, *heads]:
            if _is_letter(name) and name.upper() != name.lower():
                matrices[name.upper()] = name.lower()
    matrices = {k: v for k, v in matrices.items() if k not in names or k.upper() in decl.tensors}
    return Reading(
        names,
        sizes,
        decl.labels,
        tuple(sorted(entries.items())),
        indices,
        tuple(sorted(matrices.items())),
        tuple(decl.notation.items()),
        frozenset(
            name.lower() if _is_letter(name) else name
            for name, dims in decl.tensors.items()
            if len(dims) == 1
            and not decl.superscripts
            and (_is_letter(name) or name[1:] in GREEK or name.startswith("\\"))
        )
        - heads
        - frozenset(decl.scalars),
    )


# letters the reader gives a meaning of its own: e^{x} is Euler's number
RESERVED = {"e": "Euler's number e"}


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


def _uses(node) -> set:
    """The letters a formula names (entries, bold tensors, derivatives' variables)."""
    if node[0] == "sym":
        return {node[1]}
    if node[0] == "bold":
        return {_key(node[1])}
    return set().union(*(_uses(child) for child in _children(node)))


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


class Meaning:
    """The values of a derivation's symbols at one size."""

    def __init__(self, decl: Declarations, size: dict) -> None:
        self.decl, self.size = decl, size
        # each input's dimensions: how many entries, and the first one's index (1, or as declared: θ_0)
        self.first: dict = {}
        self.inputs = {}
        for name, dims in decl.tensors.items():
            bounds = [
                (_bound(name, d[0], size), _bound(name, d[1], size)) if isinstance(d, list) else (1, size[d])
                for d in dims
            ]
            self.inputs[_key(name)] = [last - first + 1 for first, last in bounds]
            self.first[_key(name)] = [first for first, _ in bounds]
        self.inputs.update({name: [] for name in decl.scalars})  # a scalar input: no index
        self.defined = definitions(decl)  # letter -> (index letters, value tree)
        self.names = _names(decl, set(self.defined))
        self.reading = reading_of(decl, self.names, frozenset(n for n, (ix, _) in self.defined.items() if ix))
        self.callables = functions_defined(decl, self.reading)
        self.sizes = frozenset(size)
        self.functions = frozenset(decl.functions) | frozenset(decl.given)
        # letters declared as values (a scalar a, a defined scalar L, a size n): a(x + 1) is a product
        values = set(decl.scalars) | set(size) | set(self.defined) | _spellings(*decl.tensors)
        operators = frozenset(name for name, kind in decl.functions.items() if kind == "differential")
        self.vocabulary = (
            self.functions - operators | _function_names(decl),
            frozenset(values),
            operators,
            decl.layers,
        )
        for name, of in decl.given.items():  # f given from outside: f = Σ (∂f/∂y_e) y_e to first order
            self.defined[name] = ((), self._upstream(name, of))
        self._cases: list | None = None
        self._values: dict = {}  # (letter, index values, opaque) -> (value, the conditions it requires)
        # named: each defined entry stands as a symbol (y_{1}) whose definition is in lets, and a
        # derivative goes through them by the chain rule; else every value is written out
        self._named: frozenset = frozenset()
        # quantities beyond polynomials (roots, quotients, exponentials), named in a pass of their own
        constants = set(self.sizes) | {
            n for n, (ix, body) in self.defined.items() if not ix and _constant(body, self.sizes)
        }
        self.heavy = frozenset(
            name for name, (_, body) in self.defined.items() if _beyond_polynomials(body, frozenset(constants))
        )
        # of those, the ones with an exponential, a logarithm or a function (a root or a quotient
        # written out is still in the exact form's reach)
        self.transcendental = frozenset(name for name, (_, body) in self.defined.items() if _transcendental(body))
        # each reading's lets (symbol -> its definition's value, in inputs and other lets) and the
        # derivatives of its lets ((let, variable) -> d let / d variable): a let means another
        # expression in another reading
        self._readings: dict = {frozenset(): ({}, {})}
        self._let_of: dict = {}  # a let's symbol -> the defined quantity it names
        self._zeros: dict = {}  # denominator -> whether it is identically zero
        self._written: dict = {}  # (reading, kept) -> {let: its value, light lets written out}
        self.display = ""  # the equation being checked, for declarations scoped to some equations
        built = set().union(*(_uses(body) for _, body in self.defined.values())) if self.defined else set()
        self.intermediate = {name for name in self.defined if name in built and name not in decl.given}
        # (kind, expression): where the formulas evaluated since the last reset are defined
        self.conditions: list = []
        self._works: dict = {}  # letter -> the work of evaluating its definition once

    @property
    def named(self) -> frozenset:
        return self._named

    @named.setter
    def named(self, names: frozenset) -> None:
        self._named = names
        self._readings.setdefault(names, ({}, {}))

    @property
    def lets(self) -> dict:
        return self._readings[self._named][0]

    @property
    def _derivatives(self) -> dict:
        return self._readings[self._named][1]

    # --- ranges and symbols ---------------------------------------------------------------------

    def range_of(self, letter: str) -> range:
        size = self.decl.indices.get(letter)
        if size is None:
            raise Unsupported(f"the index {letter} is not declared: declare it, as indices: {{{letter}: n}}")
        if isinstance(size, list):
            first, last = (_bound(letter, b, self.size) for b in size)
            return range(first, last + 1)
        return range(1, self.size[size] + 1)

    @staticmethod
    def constant(node, size: dict) -> int | None:
        """The integer value of an expression in the sizes alone (N-1, d+1), or None."""
        kind = node[0]
        if kind == "num":
            return int(node[1]) if node[1].is_Integer else None
        if kind == "sym":
            name = node[1] if node[2] is None else f"{node[1]}_{''.join(node[2])}"
            if name not in size:
                raise Unsupported(f"{name} is not a declared size")
            return size[name]
        values = [Meaning.constant(c, size) for c in _children(node)]
        parts = [v for v in values if v is not None]
        if len(parts) < len(values):
            return None
        if kind == "neg":
            return -parts[0]
        if kind == "add":
            return sum(parts)
        if kind == "mul":
            return math.prod(parts)
        raise Unsupported("a bound that is not a sum or product of sizes and integers")

    def first_of(self, letter: str) -> list:
        """The index of each dimension's first entry (1 unless declared otherwise)."""
        if letter in self.first:
            return self.first[letter]
        if letter in self.inputs:
            return [1] * len(self.inputs[letter])
        indices, _ = self.defined[letter]
        return [self.range_of(c)[0] for c in indices]

    def shape_of(self, letter: str) -> list:
        if letter in self.inputs:
            return self.inputs[letter]
        indices, _ = self.defined[letter]
        return [len(self.range_of(c)) for c in indices]

    def entry(self, letter: str, values: tuple) -> sympy.Symbol:
        if not values:
            return sympy.Symbol(letter)
        return sympy.Symbol(f"{letter}_{{{','.join(map(str, values))}}}")

    def _upstream(self, name: str, reads: tuple) -> tuple:
        """The given function f of y as a tree Σ_e g_e y_e, each g_e a free symbol standing for
        ∂f/∂y_e (over every quantity it reads): its first derivatives are exact for every
        upstream, and nothing else of it is read (``value`` refuses f itself)."""
        terms = []
        for of in reads:
            letter = _key(of) if _key(of) in self.inputs else of
            starts = self.first_of(letter)
            for values in itertools.product(*(range(a, a + n) for a, n in zip(starts, self.shape_of(letter)))):
                sub = tuple(str(v) for v in values)
                terms.append(("mul", [("upstream", name, of, values), ("sym", letter, sub or None)]))
        return ("add", terms) if len(terms) > 1 else terms[0]

    def _index_values(self, letter: str, sub: tuple, env: dict) -> tuple:
        ndim = len(self.shape_of(letter))
        if ndim == 0:
            raise Unsupported(f"{letter} is a scalar, written with an index {''.join(sub)}")
        if len(sub) != ndim:  # a loose x_k for x_{c,k}: that line is not read, the others are
            raise Unsupported(
                f"{letter}_{{{''.join(sub)}}} has {len(sub)} indices, but {letter} has {ndim} "
                "(write indices of 10 or more with commas, as x_{1,10})"
            )
        values = []
        for part, bound, start in zip(sub, self.shape_of(letter), self.first_of(letter)):
            if part.isdigit():
                value = int(part)
            elif part in env:
                value = env[part]
            elif part in self.size:  # a_{1k}: the last column, k being the size
                value = self.size[part]
            else:
                raise Unsupported(f"the index {part} is not bound")
            if not start <= value < start + bound:
                raise OutOfRange(
                    f"{letter}_{{{','.join(sub)}}} with {part} = {value} is outside {start}..{start + bound - 1}"
                )
            values.append(value)
        return tuple(values)

    # --- values ---------------------------------------------------------------------------------

    def value(self, node, env: dict, opaque: frozenset = frozenset()):
        kind = node[0]
        if kind == "num":
            return node[1]
        if kind == "dots":
            raise Illustrative("dots")
        if kind == "sym":
            return self._symbol(node, env, opaque)
        if kind == "bold":
            return self._tensor(node[1], env, opaque)
        if kind == "neg":
            return -self.value(node[1], env, opaque)
        if kind == "add":
            values = [self.value(t, env, opaque) for t in node[1]]
            if any(not isinstance(v, sympy.MatrixBase) for v in values):  # θ^T x - y: a 1×1 matrix is a number
                values = [_scalar_if_one_by_one(v) for v in values]
            kinds = {isinstance(v, sympy.MatrixBase) for v in values}
            if len(kinds) > 1:
                raise Unsupported("a matrix plus a number, which only a convention of broadcasting gives a meaning")
            shapes = {v.shape for v in values if isinstance(v, sympy.MatrixBase)}
            if len(shapes) > 1:
                raise Mismatch(f"a sum of matrices of shapes {' and '.join(f'{r}×{c}' for r, c in sorted(shapes))}")
            out = values[0]
            for v in values[1:]:
                out = out + v
            return out
        if kind == "mul":
            out = sympy.Integer(1)
            for f in node[1]:
                out = _times(out, self.value(f, env, opaque))
            return out
        if kind == "pow":
            base, exponent = self.value(node[1], env, opaque), self.value(node[2], env, opaque)
            if self.decl.elementwise and (isinstance(base, sympy.MatrixBase) != isinstance(exponent, sympy.MatrixBase)):
                if isinstance(base, sympy.MatrixBase):  # (B_2)^{-1} entry by entry
                    return base.applyfunc(lambda entry: self._power(entry, exponent))
                return exponent.applyfunc(lambda entry: self._power(base, entry))  # e^{Xb} entry by entry
            if isinstance(base, sympy.MatrixBase) or isinstance(exponent, sympy.MatrixBase):
                raise Unsupported("a power of a matrix: declare elementwise: true if it acts entry by entry")
            return self._power(base, exponent)
        if kind == "frac":
            num, den = self.value(node[1], env, opaque), self.value(node[2], env, opaque)
            if isinstance(den, sympy.MatrixBase):
                raise Unsupported("a division by a matrix")
            self._require("nonzero", den, "a denominator")
            return num / den
        if kind == "transpose":
            m = self.value(node[1], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                raise Unsupported("a transpose of a scalar")
            return m.T
        if kind == "hadamard":
            return self._hadamard([self.value(g, env, opaque) for g in node[1]])
        if kind == "trace":
            m = self.value(node[1], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                return m  # a number is its own trace
            if m.shape[0] != m.shape[1]:
                raise Mismatch(f"the trace of a {m.shape[0]}×{m.shape[1]} matrix, which is not square")
            return sympy.Add(*(m[k, k] for k in range(m.shape[0])))
        if kind == "ones":
            if node[1] not in self.size:
                raise Unsupported(f"a column of {node[1]} ones, {node[1]} not a declared size")
            return sympy.ones(self.size[node[1]], 1)
        if kind == "matrix":
            rows = [[self.value(c, env, opaque) for c in row] for row in node[1]]
            if len({len(r) for r in rows}) != 1:
                raise Unsupported("a matrix with rows of different lengths")
            return sympy.Matrix(rows)
        if kind == "sum":
            return self._sum(node, env, opaque)
        if kind == "func":
            arg = self.value(node[2], env, opaque)
            if isinstance(arg, sympy.MatrixBase) and self.decl.elementwise:
                return arg.applyfunc(lambda entry: self._function_of(node[1], entry))
            if isinstance(arg, sympy.MatrixBase):
                raise Unsupported(f"{node[1]} of a matrix: declare elementwise: true if it acts entry by entry")
            return self._function_of(node[1], arg)
            raise AssertionError("unreachable")
        if kind in ("deriv", "dop"):
            f, x = (node[1], node[2]) if kind == "deriv" else (node[2], node[1])
            return self.derivative(f, x, env)
        if kind == "upstream":
            _, name, of, values = node
            where = f"_{{{','.join(map(str, values))}}}" if values else ""
            return sympy.Symbol(f"\\frac{{\\partial {name}}}{{\\partial {of}{where}}}")
        if kind == "call":
            return self._call(node, env, opaque)
        if kind == "cases":
            return self._case(node, env, opaque)
        raise Unsupported(f"the construct {kind}")

    def _call(self, node, env, opaque):
        """A declared function applied to its argument."""
        _, name, args = node
        kind = self.decl.functions.get(name.rstrip("'"))
        if kind == "sigmoid" and len(args) == 1:
            z = self.value(args[0], env, opaque)
            if isinstance(z, sympy.MatrixBase):
                raise Unsupported(f"{name} of a matrix")
            primes = len(name) - len(name.rstrip("'"))
            s = 1 / (1 + sympy.exp(-z))
            if primes == 0:
                return s
            if primes == 1:
                return s * (1 - s)
            raise Unsupported(f"the derivative {name} of order {primes}")
        if name in self.callables:
            params, body = self.callables[name]
            if tuple(args) != tuple(params):
                raise Unsupported(f"{name} applied to other arguments than those of its definition")
            return self.value(body, env, opaque)
        if kind == "activation" and len(args) == 1:
            z = self.value(args[0], env, opaque)
            primes = len(name) - len(name.rstrip("'"))
            if isinstance(z, sympy.MatrixBase):
                return z.applyfunc(lambda entry: activation(name.rstrip("'"), primes)(entry))
            return activation(name.rstrip("'"), primes)(z)
        if kind == "differential" and len(args) == 1:
            return self._differential(args[0], env, opaque)
        if name == "softmax" and len(args) == 1:
            m = self.value(args[0], env, opaque)
            if not isinstance(m, sympy.MatrixBase):
                raise Unsupported("a softmax of a number")
            if m.shape[1] == 1 or m.shape[0] == 1:
                total = sympy.Add(*(sympy.exp(v) for v in m))
                return m.applyfunc(lambda v: sympy.exp(v) / total)
            if self.decl.functions.get("softmax") != "rows":
                raise Unsupported("a softmax of a matrix: declare functions: {softmax: rows} if it acts row by row")
            rows = [
                [sympy.exp(v) / sympy.Add(*(sympy.exp(w) for w in m.row(r))) for v in m.row(r)] for r in range(m.rows)
            ]
            return sympy.Matrix(rows)
        if name.startswith("softmax_") and len(args) == 1:
            axis = name.removeprefix("softmax_")
            if axis not in env:
                raise Unsupported(f"a softmax over {axis}, which is not an index of the line")
            terms = [sympy.exp(self.value(args[0], {**env, axis: t}, opaque)) for t in self.range_of(axis)]
            return sympy.exp(self.value(args[0], env, opaque)) / sympy.Add(*terms)
        if name in self.decl.given:
            raise Unsupported(f"{name} is given only through its derivatives, not as a value")
        raise Unsupported(f"the function {name} applied as {name}(...): declare it under functions")

    def _differential(self, node, env, opaque):
        """d of a formula: the sum, over every entry of the inputs that vary (those not declared
        constants), of its derivative by that entry times the entry's differential dx."""
        if node[0] == "sym" and node[2] is None and node[1] in self.decl.given:
            value = self._function(node, env, opaque)  # f given from outside: its first-order form
        else:
            value = self.value(node, env, opaque)

        def d(entry):
            return sympy.Add(*(self._total(entry, v) * sympy.Symbol(f"d{v.name}") for v in self._variables_of(entry)))

        return value.applyfunc(d) if isinstance(value, sympy.MatrixBase) else d(value)

    def _variables_of(self, expr) -> list:
        """The entries of inputs not declared constant that expr depends on, through its lets."""
        found, todo, seen = set(), list(expr.free_symbols), set()
        while todo:
            symbol = todo.pop()
            if symbol in seen:
                continue
            seen.add(symbol)
            if symbol in self.lets:
                todo += list(self.lets[symbol].free_symbols)
            elif symbol.name.split("_{")[0] in self.inputs and symbol.name.split("_{")[0] not in self.decl.constants:
                found.add(symbol)
        return sorted(found, key=lambda s: s.name)

    def _case(self, node, env, opaque):
        """The value of the case whose condition holds at these index values (the one with no
        condition where none other does)."""
        chosen = [value for value, conditions in node[1] if conditions and all(self._holds(c, env) for c in conditions)]
        if not chosen:
            chosen = [value for value, conditions in node[1] if not conditions]
        if len(chosen) != 1:
            where = ", ".join(f"{k} = {v}" for k, v in env.items())
            raise Unsupported(f"{'no case' if not chosen else 'more than one case'} of the cases holds at {where}")
        return self.value(chosen[0], env, opaque)

    def _holds(self, condition, env) -> bool:
        _, x, op, y = condition
        a, b = (self._index_of(p, env) for p in (x, y))
        return (a == b) == (op == "=")

    def _index_of(self, part: str, env) -> int:
        if part.isdigit():
            return int(part)
        if part in env:
            return env[part]
        raise Unsupported(f"the index {part} of a case is not bound")

    def _function_of(self, name: str, arg):
        if name == "log":
            self._require("positive", arg, "the argument of a logarithm")
        if name == "sqrt":
            self._require("positive", arg, "the argument of a square root")
        return {"exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos}[name](arg)

    def _hadamard(self, values: list):
        """An entrywise product: matrices of one shape (a number scales)."""
        out = values[0]
        for value in values[1:]:
            if isinstance(out, sympy.MatrixBase) and isinstance(value, sympy.MatrixBase):
                if out.shape != value.shape:  # what ⊙ binds is then in doubt: not read
                    raise Unsupported(
                        f"an entrywise product of a {out.shape[0]}×{out.shape[1]} and a "
                        f"{value.shape[0]}×{value.shape[1]} matrix"
                    )
                out = out.multiply_elementwise(value)
            else:
                out = out * value
        return out

    def _require(self, kind: str, expr, what: str) -> None:
        """Where the line is defined: a denominator must not vanish, and the argument of a
        logarithm, a root or a fractional power must be positive. A condition that can never
        hold (a denominator identically zero) leaves the line undefined at once; the others
        are checked at the points where the line is evaluated."""
        if kind == "nonzero" and expr not in self._zeros:
            self._zeros[expr] = _zero(expr)
        if kind == "nonzero" and self._zeros[expr]:
            raise Undefined(f"{what}, {_show(expr)}, is identically zero")
        if not expr.free_symbols and certain(kind, expr) is False:
            raise Undefined(f"{what}, {_show(expr)}, is not {'positive' if kind == 'positive' else 'nonzero'}")
        self.conditions.append((kind, expr))

    def _power(self, base, exponent):
        """base**exponent, its size bounded before SymPy computes it."""
        if exponent.is_Number:
            try:
                check_exponent(Fraction(int(exponent.p), int(exponent.q)))
            except (SymgradError, AttributeError, TypeError):
                raise TooLarge(f"the exponent {_show(exponent)} is over the limit of {MAX_EXPONENT}") from None
        if base == sympy.E:
            return sympy.exp(exponent)
        if not exponent.is_Integer:
            self._require("positive", base, "the base of a fractional or variable power")
        elif exponent < 0:
            self._require("nonzero", base, "a base raised to a negative power")
        if base.is_Rational and exponent.is_Rational:
            try:
                if power(Fraction(int(base.p), int(base.q)), Fraction(int(exponent.p), int(exponent.q))) is None:
                    return base**exponent  # irrational: SymPy keeps the root
            except SymgradError as exc:
                raise TooLarge(str(exc)) from None
        return base**exponent

    def _symbol(self, node, env, opaque):
        _, letter, sub = node
        if letter in self.decl.given and letter not in opaque:
            raise Unsupported(f"{letter} is given only through its derivatives, not as a value")
        if self.decl.functions.get(letter) == "kronecker":
            if sub is None or len(sub) != 2:
                raise Unsupported(f"the Kronecker delta {letter} with {len(sub or ())} indices, not two")
            a, b = (self._index_of(p, env) for p in sub)
            return sympy.Integer(1 if a == b else 0)
        if sub is not None and f"{letter}_{''.join(sub)}" in self.size:  # N_i: a size named with a subscript
            return sympy.Integer(self.size[f"{letter}_{''.join(sub)}"])
        if sub is None and letter in self.inputs and not self.inputs[letter]:
            return self.entry(letter, ())  # a scalar input
        if sub is None:
            if letter in env:
                return sympy.Integer(env[letter])
            if letter in self.size:
                return sympy.Integer(self.size[letter])
            if letter in self.defined and not self.defined[letter][0]:
                return self.entry(letter, ()) if letter in opaque else self._defined_value(letter, (), opaque)
            if letter == "e":  # Euler's number: the declarations cannot name an e (see RESERVED)
                return sympy.E
            raise Unsupported(_undeclared(letter, sub))
        if letter in self.inputs:
            return self.entry(letter, self._index_values(letter, sub, env))
        if letter in self.defined:
            values = self._index_values(letter, sub, env)
            if letter in opaque:
                return self.entry(letter, values)
            return self._defined_value(letter, values, opaque)
        raise Unsupported(_undeclared(letter, sub))

    def _defined_value(self, letter: str, values: tuple, opaque: frozenset):
        """A defined quantity's entry, evaluated once for all its uses (a variance appears many
        times in a line); the conditions its evaluation requires are required again each time."""
        key = (letter, values, opaque, self.display, self.named)
        if key not in self._values:
            start = len(self.conditions)
            indices, body = self.defined[letter]
            named = letter in self.named
            value = self.value(body, dict(zip(indices, values)), frozenset() if named else opaque)
            if named and not isinstance(value, sympy.MatrixBase):  # a matrix is written out
                symbol = self.entry(letter, values)
                self.lets[symbol], value = value, symbol
                self._let_of[symbol] = letter
            self._values[key] = (value, self.conditions[start:])
        value, conditions = self._values[key]
        self.conditions.extend(conditions)
        return value

    def _tensor(self, name: str, env, opaque):
        letter = _key(name)
        if letter not in self.inputs and letter not in self.defined:
            raise Unsupported(f"the tensor {name} is not declared: declare it, as tensors: {{{name}: [n]}}")
        shape = self.shape_of(letter)
        if len(shape) == 1:  # a vector, as a column
            (a,) = self.first_of(letter)
            return sympy.Matrix(shape[0], 1, lambda r, c: self._entry_value(letter, (r + a,), opaque))
        if len(shape) != 2:
            raise Unsupported(f"the tensor {name} has more than two dimensions")
        a, b = self.first_of(letter)
        return sympy.Matrix(shape[0], shape[1], lambda r, c: self._entry_value(letter, (r + a, c + b), opaque))

    def _entry_value(self, letter, values, opaque):
        if letter in self.inputs or letter in opaque:
            return self.entry(letter, values)
        indices, body = self.defined[letter]
        return self.value(body, dict(zip(indices, values)), opaque)

    def _sum(self, node, env, opaque):
        _, var, low, high, exclude, body = node
        if var is None:
            raise Unsupported("a sum whose index the line does not settle: write the index under the sum")
        if low is None and high is not None:  # an upper bound alone: the index's declared range, up to it
            declared, last = self.range_of(var), self.value(high, env)
            if not (last.is_Integer and int(last) == declared[-1]):
                raise Unsupported(
                    f"a sum over {var} up to {_show(last)} with no lower bound, where {var} runs over "
                    f"{declared[0]}..{declared[-1]}: write the lower bound"
                )
            high = None
        if low is not None and high is not None:
            first, last = self.value(low, env), self.value(high, env)
            if not (first.is_Integer and last.is_Integer):
                raise Unsupported("a sum whose bounds are not integers")
            if int(last) - int(first) + 1 > MAX_WORK:
                raise TooLarge(f"a sum of {int(last) - int(first) + 1:,} terms, over the limit of {MAX_WORK:,}")
            values: list = list(range(int(first), int(last) + 1))
        else:
            values = list(self.range_of(var))
        if exclude is not None:
            if exclude not in env:
                raise Unsupported(f"the sum excludes {exclude}, which is not bound")
            values = [v for v in values if v != env[exclude]]
        terms = [self.value(body, {**env, var: v}, opaque) for v in values]
        if any(isinstance(t, sympy.MatrixBase) for t in terms):
            return functools.reduce(operator.add, terms) if terms else sympy.Integer(0)
        return sympy.Add(*terms)  # at once: adding one term at a time is quadratic

    def derivative(self, f, x, env):
        """∂f/∂x: for an input, the derivative of f written out; for a defined quantity, the
        derivative of f's own definition with that quantity as its variables. Where partials are
        declared local, the derivative of an intermediate quantity (one others are built from) is
        the derivative of its own definition, every other quantity it names held fixed."""
        if self._local(f):
            return self._local_partial(f, x, env)
        if x[0] == "bold":
            letter = _key(x[1])
            shape = self.shape_of(letter) if letter in self.inputs or letter in self.defined else None
            if shape is None or len(shape) not in (1, 2):
                raise Unsupported(f"a derivative with respect to {x[1]}")
            starts = self.first_of(letter)
            if len(shape) == 1:
                return sympy.Matrix(shape[0], 1, lambda r, c: self._derivative_entry(f, letter, (r + starts[0],), env))
            return sympy.Matrix(
                shape[0], shape[1], lambda r, c: self._derivative_entry(f, letter, (r + starts[0], c + starts[1]), env)
            )
        if x[0] == "sym" and x[2] is None and x[1] in self.defined and not self.defined[x[1]][0]:
            return self._derivative_entry(f, x[1], (), env)  # a defined scalar, such as a mean μ
        if x[0] == "sym" and x[2] is None and x[1] in self.inputs and not self.inputs[x[1]]:
            return self._derivative_entry(f, x[1], (), env)  # a scalar input, such as γ
        if x[0] != "sym" or x[2] is None:
            raise Unsupported(
                "a derivative with respect to something that is not an entry: write an entry (x_{i}), a declared "
                "tensor (X or \\boldsymbol{X}) or a defined quantity"
            )
        letter = x[1]
        if letter not in self.inputs and letter not in self.defined:
            raise Unsupported(_undeclared(letter, x[2]))
        return self._derivative_entry(f, letter, self._index_values(letter, x[2], env), env)

    def let_symbols(self) -> set:
        """Every symbol that has stood for a defined quantity, in any reading."""
        return set(self._let_of)

    def resolve(self, node):
        return resolve(node, self.reading)

    def written(self, exprs: list, keep: frozenset) -> tuple[list, dict]:
        """The expressions, and the lets kept, with every let of a quantity not in keep written
        out (its definition substituted, to the inputs or to kept lets)."""
        memo = self._written.setdefault((self.named, keep), {})

        def through(expr):
            light = {s: let(s) for s in expr.free_symbols & self.lets.keys() if self._let_of[s] not in keep}
            return expr.xreplace(light) if light else expr

        def let(symbol):  # a light let written out, once
            if symbol not in memo:
                memo[symbol] = through(self.lets[symbol])
            return memo[symbol]

        out = [through(e) for e in exprs]
        lets: dict = {}  # the kept lets the expressions reach, and those their definitions reach
        todo = [s for e in out for s in e.free_symbols if s in self.lets]
        while todo:
            symbol = todo.pop()
            if symbol not in lets:
                lets[symbol] = let(symbol)
                todo += [s for s in lets[symbol].free_symbols if s in self.lets]
        return out, lets

    def heavy_for(self, *nodes) -> frozenset:
        """The quantities to name in the middle reading of a line: those beyond polynomials, the
        defined quantities it differentiates by, and every quantity built on those (so that the
        chain rule through the names misses no path)."""
        named = set(self.heavy) | {x[1] for node in nodes for x in _variables(node) if x[1] in self.defined}
        while True:
            more = {n for n, (_, body) in self.defined.items() if n not in named and _uses(body) & named}
            if not more:
                return frozenset(named)
            named |= more

    def _total(self, expr, variable):
        """d expr / d variable by the chain rule through the lets expr names."""
        out = sympy.diff(expr, variable)
        for s in sorted(expr.free_symbols & set(self.lets), key=lambda s: s.name):
            if s != variable:
                through = self._through(s, variable)
                if through != 0:
                    out += sympy.diff(expr, s) * through
        return out

    def _through(self, let, variable):
        key = (let, variable)
        if key not in self._derivatives:
            self._derivatives[key] = self._total(self.lets[let], variable)
        return self._derivatives[key]

    def _local(self, f) -> bool:
        local = self.decl.local
        scoped = local is True or (isinstance(local, frozenset) and self.display in local)
        return scoped and f[0] == "sym" and f[1] in self.intermediate

    def _local_partial(self, f, x, env):
        """∂u/∂v of an intermediate u: u's own definition at its indices, every defined quantity it
        names an opaque entry, differentiated by v's entry, then written out."""
        _, name, sub = f
        indices, body = self.defined[name]
        if len(sub or ()) != len(indices):
            raise Unsupported(f"a derivative of {name} without its indices (which entry, or a sum over them?)")
        values = self._index_values(name, sub, env) if sub else ()
        if x[0] != "sym" or (x[1] not in self.inputs and x[1] not in self.defined):
            raise Unsupported("a local partial with respect to something that is not an entry")
        letter = x[1]
        at = self._index_values(letter, x[2], env) if x[2] else ()
        if len(at) != len(self.shape_of(letter)):
            raise Unsupported(f"a derivative with respect to {letter} without its indices")
        opaque = frozenset(self.defined) - {name}
        value = self.value(body, dict(zip(indices, values)), opaque)
        if isinstance(value, sympy.MatrixBase):
            raise Unsupported("a derivative of a matrix")
        return self._write_all(sympy.diff(value if self.named else expanded(value), self.entry(letter, at)))

    def _write_all(self, expr):
        """Every opaque entry of a defined quantity replaced by its value (named: by its let)."""
        subs = {}
        for s in expr.free_symbols:
            for letter, (indices, _) in self.defined.items():
                if (s.name == letter and not indices) or (s.name.startswith(f"{letter}_{{") and indices):
                    values = tuple(int(v) for v in s.name[len(letter) + 2 : -1].split(",")) if indices else ()
                    subs[s] = self._defined_value(letter, values, frozenset())
        return expr.xreplace(subs)

    def _function(self, f, env, opaque: frozenset = frozenset()):
        """The value of the function differentiated: a function given from outside is read here,
        and only here, through its first-order form."""
        if f[0] == "sym" and f[2] is None and f[1] in self.decl.given:
            return self.value(self.defined[f[1]][1], env, opaque)
        if f[0] == "call" and f[1] in self.decl.given:  # J(W,b;Y,X): the given J, its arguments named
            return self.value(self.defined[f[1]][1], env, opaque)
        return self.value(f, env, opaque)

    def _derivative_entry(self, f, letter, values, env):
        if self.named:
            if letter not in self.inputs:
                if letter not in self.named:  # the chain rule goes through names only
                    raise Undecided(f"{letter} is written out in this reading")
                self._refuse_unreached(f, letter, values)
                self._defined_value(letter, values, frozenset())  # its let
            value = self._function(f, env)
            if isinstance(value, sympy.MatrixBase):
                raise Unsupported("a derivative of a matrix")
            return self._total(value, self.entry(letter, values))
        if letter in self.inputs:
            value = self._function(f, env)
            if isinstance(value, sympy.MatrixBase):
                raise Unsupported("a derivative of a matrix")
            return sympy.diff(expanded(value), self.entry(letter, values))
        self._refuse_unreached(f, letter, values)
        value = self._function(f, env, opaque=frozenset({letter}))
        if isinstance(value, sympy.MatrixBase):
            raise Unsupported("a derivative of a matrix")
        d = sympy.diff(expanded(value), self.entry(letter, values))
        return self._write_out(d, letter)

    def _refuse_unreached(self, f, letter, values) -> None:
        """∂L/∂y_1 where L's definition does not go through y is 0 as a backpropagation reads it,
        but when y is made of inputs L also reads, its author may mean L rewritten in y, which the
        declarations do not say: neither reading is checked."""
        reached = self._reach(f)
        if letter in reached:
            return
        shared = self._reach(self.defined[letter][1]) & reached & set(self.inputs)
        if shared:
            name = f[1] if f[0] == "sym" and f[1] in self.defined else "the function"
            raise Ambiguous(
                f"{name}'s definition does not go through {self.entry(letter, values)}, yet both read "
                f"{', '.join(sorted(shared))}: define {name} in terms of {letter} to mean the derivative through it"
            )

    def _reach(self, node) -> set:
        """The letters a formula names, and those its defined quantities' definitions name, down to
        the inputs."""
        out: set = set()
        todo = list(_uses(node))
        while todo:
            letter = todo.pop()
            if letter not in out:
                out.add(letter)
                if letter in self.defined:
                    todo.extend(_uses(self.defined[letter][1]))
        return out

    def _write_out(self, expr, letter):
        indices, body = self.defined[letter]
        subs = {}
        for s in expr.free_symbols:
            name = s.name
            if name == letter:  # a defined scalar
                subs[s] = self.value(body, {})
            elif name.startswith(f"{letter}_{{"):
                values = tuple(int(v) for v in name[len(letter) + 2 : -1].split(",") if v)
                subs[s] = self.value(body, dict(zip(indices, values)))
        return expr.xreplace(subs)

    # --- constraints on the inputs ------------------------------------------------------------

    def cases(self) -> list:
        """The substitutions that the declared constraints make, one dict per case: a one-hot
        vector is each of its unit vectors in turn (every case checked), a linear equation
        between entries (\\sum_{i=1}^{C} p_{i} = 1) solved for its last entry. A line holds under
        the constraints when it holds in every case."""
        if self._cases is None:
            cases: list = [{}]
            for constraint in self.decl.constraints:
                cases = [{**case, **more} for case in cases for more in self._constraint(constraint)]
            self._cases = cases
        return self._cases

    def _constraint(self, constraint) -> list:
        if isinstance(constraint, dict) and set(constraint) == {"one-hot"}:
            name = constraint["one-hot"]
            letter = _key(name) if isinstance(name, str) else ""
            if letter not in self.inputs or len(self.inputs[letter]) != 1:
                raise SymgradError(f"one-hot names a declared vector, as {{one-hot: T}}; got {_brief(name)}")
            (n,) = self.inputs[letter]
            entries = [self.entry(letter, (k,)) for k in range(1, n + 1)]
            return [{e: sympy.Integer(int(e == hot)) for e in entries} for hot in entries]
        if not isinstance(constraint, str) or "=" not in constraint:
            raise SymgradError(
                f"a constraint is an equation in LaTeX or {{one-hot: T}}, as constraints: "
                f'["\\sum_{{i=1}}^{{C}} p_{{i}} = 1"]; got {_brief(constraint)}'
            )
        from .latex import parse_chain

        try:
            left, right = (self.resolve(side) for side in parse_chain(constraint, *self.vocabulary))
        except (Unsupported, ValueError) as exc:
            raise SymgradError(f"the constraint {constraint} is not read: {exc}") from None
        solved: dict = {}
        free = self.free(left) | self.free(right)
        for env in self.bindings(free):
            difference = sympy.expand((self.value(left, env) - self.value(right, env)).xreplace(solved))
            entries = sorted(difference.free_symbols, key=lambda s: s.name)
            if not entries or sympy.Poly(difference, *entries).total_degree() != 1:
                raise SymgradError(f"the constraint {constraint} is not a linear equation between entries")
            last = entries[-1]
            coefficient = difference.coeff(last)
            solution = sympy.expand(-(difference - coefficient * last) / coefficient)
            solved = {k: v.xreplace({last: solution}) for k, v in solved.items()}
            solved[last] = solution
        return [solved]

    # --- sums whose index the line settles -----------------------------------------------------

    def settle(self, a, b) -> tuple:
        """Both sides with the index of every sum written without one settled by the line: the
        one index letter of its body that the line uses nowhere else (\\sum e^{x_k} beside x_i sums
        over k), and of \\sum_{i \\ne j} the letter that is not free elsewhere (beside x_i it sums over
        j ≠ i; the first letter when neither is). Anything else stays unsettled (not read)."""
        outside = self.free(_unsettled_out(a)) | self.free(_unsettled_out(b))
        return self._settle(a, outside), self._settle(b, outside)

    def _settle(self, node, outside: set):
        if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
            return node
        if node[0] == "sum" and node[1] is None:
            _, _, low, high, exclude, body = node
            var = None
            if exclude is not None:
                first, second = exclude
                if first not in outside or second not in outside:
                    var, exclude = (first, second) if first not in outside else (second, first)
            else:
                loose = {c for c in self.free(_unsettled_out(body)) if c in self.decl.indices} - outside
                if len(loose) == 1:
                    (var,) = loose
            if var is not None:
                node = ("sum", var, low, high, exclude, body)
        return tuple(_settled(child, self, outside) for child in node)

    # --- free indices ---------------------------------------------------------------------------

    def free(self, node, bound: frozenset = frozenset()) -> set:
        """Index letters a formula uses without binding them (c_{ij} in "c_{ij} = ..." has i, j)."""
        kind = node[0]
        if kind == "sym":
            sub = node[2] or ()
            if node[2] is not None and f"{node[1]}_{''.join(sub)}" in self.size:
                return set()  # N_i: a size
            out = {p for p in sub if (p.isalpha() or p.rstrip("'").isalpha()) and p not in bound}
            if node[2] is None and node[1] in self.decl.indices and node[1] not in bound:
                out.add(node[1])
            return out
        if kind == "sum":
            _, var, low, high, exclude, body = node
            out = self.free(body, bound | {var})
            for part in (low, high):
                if part is not None:
                    out |= self.free(part, bound)
            if isinstance(exclude, str) and exclude not in bound:
                out.add(exclude)
            return out
        if kind == "cond":
            return {p for p in (node[1], node[3]) if p.isalpha() and p not in bound}
        out = set()
        for child in _children(node):
            out |= self.free(child, bound)
        return out

    def work(self, node, letters: frozenset = frozenset()) -> int:
        """An upper estimate of the terms evaluating node creates, from the declared sizes alone,
        so that a line too large is refused before any of it is evaluated."""
        kind = node[0]
        if kind == "sym":
            return self._work_of(node[1]) if node[1] in self.defined and node[1] not in letters else 1
        if kind == "bold":
            letter = _key(node[1])
            entries = math.prod(self.shape_of(letter)) if letter in self.inputs or letter in self.defined else 1
            return entries * (1 if letter in self.inputs else self._work_of(letter))
        if kind == "sum":
            _, var, low, high, _, body = node
            return self._length(var, low, high) * self.work(body, letters)
        children = [self.work(c, letters) for c in _children(node)]
        if kind == "mul":  # a product of matrices: every entry of the result sums a row by a column
            sides = [d for c in node[1] if c[0] == "bold" for d in self._shape_or_one(_key(c[1]))]
            return sum(children) * max(sides, default=1)
        if kind in ("deriv", "dop"):  # the function, and the written-out definition
            return 2 * sum(children)
        return max(1, sum(children))

    def _work_of(self, letter: str) -> int:
        if letter not in self._works:
            self._works[letter] = self.work(self.defined[letter][1])
        return self._works[letter]

    def _shape_or_one(self, letter: str) -> list:
        return self.shape_of(letter) if letter in self.inputs or letter in self.defined else [1]

    def _length(self, var: str, low, high) -> int:
        """The number of terms of a sum: its written bounds when they are numbers, else its
        index's range, else the largest declared size."""
        if low is not None and high is not None:
            try:
                first, last = self.value(low, {}), self.value(high, {})
                if first.is_Integer and last.is_Integer:
                    return max(0, int(last) - int(first) + 1)
            except (Unsupported, OutOfRange, Undefined):
                pass  # bounds that name a free index: the declared range bounds them
        if var in self.decl.indices:
            return len(self.range_of(var))
        return max(self.size.values())

    def bindings(self, letters: set):
        ordered = sorted(letters)
        ranges = [self.range_of(c) for c in ordered]
        for values in itertools.product(*ranges):
            yield dict(zip(ordered, values))


def _unsettled_out(node):
    """The tree with every sum whose index is not written left out (a zero in its place)."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] == "sum" and node[1] is None:
        return ("num", sympy.Integer(0))
    return tuple(_settled(child, None, None) for child in node)


def _settled(child, meaning, outside):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return meaning._settle(child, outside) if meaning is not None else _unsettled_out(child)
    if isinstance(child, (list, tuple)):
        out = [_settled(c, meaning, outside) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _counts(node) -> dict:
    """How many times each index letter is written in a term, as the summation convention counts
    them: a product adds its factors' counts, a sum of terms takes each letter's largest count,
    a sum's own index is bound."""
    kind = node[0]
    if kind == "sym":
        out: dict = {}
        for letter in node[2] or ():
            if not letter.isdigit():
                out[letter] = out.get(letter, 0) + 1
        return out
    if kind == "sum":
        inner = _counts(node[5])
        inner.pop(node[1], None)
        return inner
    parts = [_counts(child) for child in _children(node)]
    out = {}
    for part in parts:
        for letter, n in part.items():
            out[letter] = max(out.get(letter, 0), n) if kind in ("add", "cases") else out.get(letter, 0) + n
    return out


def summed(node, free: frozenset, indices: frozenset):
    """The summation convention: every index repeated in a product and free in no equation's left
    side summed over its range (A^{ij} V^{jb} sums over j)."""
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str) or node[0] in ("sym", "num"):
        return node
    inner = free | {node[1]} if node[0] == "sum" and node[1] else free  # a written sum's index is its own
    node = tuple(_summed_child(child, inner, indices) for child in node)
    if node[0] in ("mul", "frac", "deriv", "dop"):
        dummies = sorted(c for c, n in _counts(node).items() if n >= 2 and c not in free and c in indices)
        for letter in reversed(dummies):
            node = ("sum", letter, None, None, None, node)
    return node


def with_dropped(node, dropped: dict):
    """The side with each quantity differentiated without its index (∂f/∂x̂, x̂ declared dropped
    with the index i) given that index: the entry x̂_i, or where declared summed, each term where
    it then stands summed over i, as the summation convention sums a repeated index (∂f/∂x̂ ·
    ∂x̂/∂σ² is Σ_i ∂f/∂x̂_i ∂x̂_i/∂σ²)."""
    if not dropped or not isinstance(node, tuple):
        return node
    if node[0] in ("add", "neg"):
        parts = [with_dropped(t, dropped) for t in node[1]] if node[0] == "add" else with_dropped(node[1], dropped)
        return (node[0], parts)
    given = _indexed(node, dropped)
    if given == node:
        return node
    summed_over = sorted({i for name, (i, over) in dropped.items() if over and _mentions(node, name)})
    for letter in summed_over:
        if letter in _counts(node):
            raise Unsupported(f"a quantity written without its index {letter} in a term that writes {letter} too")
        given = ("sum", letter, None, None, None, given)
    return given


def _indexed(node, dropped: dict):
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        return node
    if node[0] in ("deriv", "dop"):
        node = (node[0], *(_given_index(c, dropped) for c in node[1:]))
    return tuple(_indexed_child(child, dropped) for child in node)


def _given_index(child, dropped: dict):
    if isinstance(child, tuple) and child[:1] == ("sym",) and child[2] is None and child[1] in dropped:
        return ("sym", child[1], (dropped[child[1]][0],))
    return child


def _indexed_child(child, dropped):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return _indexed(child, dropped)
    if isinstance(child, (list, tuple)):
        out = [_indexed_child(c, dropped) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def _mentions(node, name: str) -> bool:
    """A derivative of, or with respect to, the quantity written without its index."""
    if (
        isinstance(node, tuple)
        and node[:1] in (("deriv",), ("dop",))
        and any(isinstance(c, tuple) and c[:1] == ("sym",) and c[1] == name and c[2] is None for c in node[1:])
    ):
        return True
    if isinstance(node, (list, tuple)):
        return any(_mentions(c, name) for c in node if isinstance(c, (list, tuple)))
    return False


def _summed_child(child, free, indices):
    if isinstance(child, tuple) and child and isinstance(child[0], str):
        return summed(child, free, indices)
    if isinstance(child, (list, tuple)):
        out = [_summed_child(c, free, indices) for c in child]
        return out if isinstance(child, list) else tuple(out)
    return child


def free_by_convention(node) -> frozenset:
    """The free indices of an equation's left side by the summation convention: written once."""
    return frozenset(c for c, n in _counts(node).items() if n == 1)


def _variables(node) -> list:
    """The variables of the derivatives in a formula (∂f/∂x gives x)."""
    if node[0] == "deriv":
        return [node[2], *_variables(node[1])]
    if node[0] == "dop":
        return [node[1], *_variables(node[2])]
    return [x for child in _children(node) for x in _variables(child)]


def _beyond_polynomials(node, constants: frozenset) -> bool:
    """Whether a definition has a root, an exponential, a logarithm, a function or a quotient by
    more than a constant (a number, a size)."""
    kind = node[0]
    exponent = literal(node[2]) if kind == "pow" else None
    if kind in ("func", "call", "cases") or (kind == "pow" and exponent is None):
        return True
    if kind == "pow" and (node[1] == ("sym", "e", None) or (exponent is not None and exponent.denominator != 1)):
        return True
    if kind == "frac" and not _constant(node[2], constants):
        return True
    return any(_beyond_polynomials(child, constants) for child in _children(node))


def _transcendental(node) -> bool:
    kind = node[0]
    if kind == "call" or (kind == "func" and node[1] != "sqrt"):
        return True
    if kind == "pow" and (node[1] == ("sym", "e", None) or literal(node[2]) is None):
        return True
    return any(_transcendental(child) for child in _children(node))


def _constant(node, constants) -> bool:
    """Made of numbers and the given constant names alone."""
    if node[0] == "sym":
        return node[2] is None and node[1] in constants
    if node[0] in ("num", "add", "mul", "neg", "frac", "pow"):
        return all(_constant(child, constants) for child in _children(node))
    return False


def _children(node) -> list:
    """The subtrees of a node, however its children are held (a list of terms, rows of cells)."""
    out: list = []
    stack = list(node[1:])
    while stack:
        child = stack.pop()
        if isinstance(child, tuple) and child and isinstance(child[0], str):
            out.append(child)
        elif isinstance(child, (list, tuple)):
            stack.extend(child)
    return out


def _undeclared(letter: str, sub) -> str:
    """What to declare for a symbol the declarations do not name, as the line to add."""
    if sub:
        written, tensor = f"{letter}_{{{''.join(sub)}}}", letter.upper() if len(letter) == 1 else letter
        return (
            f"the symbol {letter} is not declared: declare it, as tensors: {{{tensor}: "
            f'[n]}} (an input with {len(sub)} ind{"ex" if len(sub) == 1 else "ices"}) or define: {{"{written}": ...}}'
        )
    return (
        f"the symbol {letter} is not declared: declare it, as scalars: [{letter}] (an input), define: "
        f'{{"{letter}": ...}}, or a size'
    )


_ACTIVATIONS: dict = {}


def activation(name: str, primes: int = 0):
    """The function of one number a declared activation stands for, and its derivatives: a SymPy
    function that knows only that its derivative is the next prime (a' of a, a'' of a')."""
    key = (name, primes)
    if key not in _ACTIVATIONS:

        def fdiff(self, argindex=1):
            return activation(name, primes + 1)(self.args[0])

        _ACTIVATIONS[key] = type(name + "'" * primes, (sympy.Function,), {"fdiff": fdiff, "activation": key})
    return _ACTIVATIONS[key]


def _applications(*exprs) -> set:
    """The declared activations applied in the expressions."""
    out: set = set()
    for expr in exprs:
        for e in sympy.sympify(expr).atoms(sympy.Function):
            if hasattr(type(e), "activation"):
                out.add(e)
    return out


class OutOfRange(Exception):
    """An index value outside its tensor (a_{i t} with i past m at this size): the line does not
    apply there."""


def _times(a, b):
    if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase):
        if a.shape[1] != b.shape[0]:
            raise Mismatch(f"a product of a {a.shape[0]}×{a.shape[1]} and a {b.shape[0]}×{b.shape[1]} matrix")
        return a * b
    return a * b


class Mismatch(Exception):
    """Shapes that do not fit (a refutation, when the document claims they are equal)."""


class Undecided(Exception):
    """Two sides that the exact engine cannot show equal and no point tells apart."""


class Undefined(Exception):
    """A formula defined nowhere here: a division by an expression that is identically zero, or
    the logarithm, root or fractional power of a number that is not positive."""


class Ambiguous(Exception):
    """A formula the declarations leave open to two meanings (a derivative with respect to a
    quantity its function's definition does not go through, but could be rewritten in)."""


class TooLarge(Exception):
    """Work over the budget, estimated before it starts."""


MAX_WORK = 1_000_000  # terms created to evaluate one link at one size, estimated before it starts
MAX_ENTRIES = 100_000  # entries of the tensors and defined quantities at one declared size
PRECISIONS = (64, 256, 1024, 4096)  # bits of an interval evaluation, raised until it decides
CONFIRM = PRECISIONS[:2]  # bits of the evaluation that confirms an exact proof at a point
MAX_EXP_ARGUMENT = 10**6  # e^x is evaluated at a point only while |x| is below this


def expanded(expr):
    """sympy.expand, refused when the expansion would have more than MAX_TERMS terms."""
    terms = estimate_terms(expr)
    if terms > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {terms:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    return sympy.expand(expr)


def equal(a, b, conditions=(), lets: dict | None = None, quick: bool = False) -> tuple[bool, str]:
    """Exact equality of two values wherever they are defined, and, when they differ, where.

    `conditions` says where: (kind, expression) pairs, "nonzero" for a denominator and
    "positive" for the argument of a logarithm, root or fractional power. Proven equal by the
    prover's exact engine (``exact``: polynomials over atoms, reciprocals cleared), once a point
    is found where every condition holds (so the line says something); unequal as polynomials in
    the entries, or at such a point, binding every symbol of both sides, where interval
    evaluations of the two sides do not meet; otherwise Undecided.

    `lets` names quantities by their definitions (y_{1} for the expression it stands for): the
    exact engine takes them for free variables, so an identity it finds holds whatever they are
    and so for their values; a difference it finds proves nothing, and only a point (where each
    is its definition's value) refutes. `quick` tries one point at low precision only (a reading
    that another follows when this one leaves the line undecided)."""
    lets = lets or {}
    a, b = _scalar_if_one_by_one(a), _scalar_if_one_by_one(b)  # a^T b is a number
    # each application of a declared activation, a(u), is a value of its own: a variable, the same for
    # the same function at the same argument; a point refutes only where the arguments of one
    # function differ (a function takes one value at one argument)
    applied = _applications(a, b, *(expr for _, expr in conditions), *lets.values())
    arguments: dict = {}
    if applied:
        by_argument: dict = {}
        for app in sorted(applied, key=str):
            key = (type(app).activation, sympy.expand(app.args[0]))
            by_argument.setdefault(key, sympy.Symbol(f"{type(app).__name__}({len(by_argument) + 1})"))
            arguments[by_argument[key]] = (type(app).activation, app.args[0])
        table = {app: by_argument[(type(app).activation, sympy.expand(app.args[0]))] for app in applied}
        a, b = a.xreplace(table), b.xreplace(table)
        conditions = [(kind, expr.xreplace(table)) for kind, expr in conditions]
        lets = {k: v.xreplace(table) for k, v in lets.items()}
        arguments = {symbol: (key, argument.xreplace(table)) for symbol, (key, argument) in arguments.items()}
    if isinstance(a, sympy.MatrixBase) != isinstance(b, sympy.MatrixBase):
        return False, "a matrix on one side and a scalar on the other"
    if isinstance(a, sympy.MatrixBase):
        if a.shape != b.shape:
            return False, f"a {a.shape[0]}×{a.shape[1]} matrix and a {b.shape[0]}×{b.shape[1]} one"
        pairs = [
            (f"entry ({r + 1}, {c + 1}): ", a[r, c], b[r, c]) for r in range(a.shape[0]) for c in range(a.shape[1])
        ]
    else:
        pairs = [("", a, b)]
    conditions = list(dict.fromkeys(conditions))
    symbols: set = set()
    for _, x, y in pairs:
        symbols |= sympy.sympify(x).free_symbols | sympy.sympify(y).free_symbols
    for _, expr in conditions:
        symbols |= expr.free_symbols
    for _, argument in arguments.values():  # a point binds what the functions are applied to
        symbols |= argument.free_symbols
    todo = list(symbols & set(lets))
    while todo:  # the inputs the lets are made of
        for s in lets[todo.pop()].free_symbols:
            if s not in symbols:
                symbols.add(s)
                todo += [s] if s in lets else []
    symbols -= set(lets)
    found = (_Point({**p, **lets}) for p in _points(sorted(symbols, key=lambda s: s.name)))
    if arguments:  # where two arguments of one function may meet, the point says nothing
        found = (p for p in found if _arguments_apart(arguments, p))
    points = list(itertools.islice((p for p in found if _defined(conditions, p)), 1 if quick else None))
    if not points:
        raise Undecided(
            "no point was found where every denominator is nonzero and every logarithm's and root's argument positive"
        )
    for where, x, y in pairs:
        ok, why = _scalar_equal(sympy.sympify(x), sympy.sympify(y), points, bool(lets) or bool(arguments), quick)
        if not ok:
            return False, where + why
    return True, ""


def _arguments_apart(arguments: dict, point: dict) -> bool:
    """Whether the arguments of every function's applications certainly differ at the point."""
    seen: dict = {}
    for key, argument in arguments.values():
        box = _enclose(argument, point, CONFIRM[0])
        if box is None:
            return False
        for other in seen.get(key, []):
            if not (box.b < other.a or other.b < box.a):
                return False
        seen.setdefault(key, []).append(box)
    return True


def _scalar_if_one_by_one(value):
    return value[0, 0] if isinstance(value, sympy.MatrixBase) and value.shape == (1, 1) else value


def _zero(expr) -> bool:
    """Whether expr is zero wherever it is defined, decided by the exact engine as equal() is."""
    if expr.is_Number:
        return expr == 0
    estimate = estimate_terms(expr)
    if estimate > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {estimate:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    try:
        return exact.Line(expr, sympy.Integer(0)).vanishes()
    except exact.ZeroDenominator:
        return True  # itself divided by zero: defined nowhere, as a zero denominator is
    except (exact.Unrepresentable, exact.OverBudget):
        return False  # not known to be zero: the points decide where it is


def _scalar_equal(a, b, points: list, named: bool = False, quick: bool = False) -> tuple[bool, str]:
    """Decided by the prover's engine: both sides as polynomials over one graph (``exact``). A
    nonzero polynomial in the entries alone is unequal as a function; a difference that vanishes
    wherever it is defined is equal, once the first point does not contradict it; otherwise a
    point where the two sides are certainly apart refutes the line; otherwise it is undecided."""
    estimate = estimate_terms(a) + estimate_terms(b)
    if estimate > MAX_TERMS:
        raise TooLarge(f"expanding it gives about {estimate:,} terms, over check-doc's limit of {MAX_TERMS:,}")
    try:
        line = exact.Line(a, b)
    except exact.Unrepresentable:
        line = None  # a construct the polynomial form does not hold: the points alone decide
    except exact.OverBudget as exc:
        raise TooLarge(str(exc)) from None
    except exact.ZeroDenominator:
        raise Undefined("a denominator is zero wherever it is defined") from None
    if line is not None and line.difference and line.polynomial() and not named:
        return False, f"{_text(a)} and {_text(b)}"  # a nonzero polynomial in the entries: unequal as functions
    if line is not None and line.vanishes():
        if not line.has_atoms():
            return True, ""  # polynomials in the entries, equal once expanded
        # a point must not contradict the relations between atoms used; what would is a fault of
        # the engine, far larger than a rounding residue, so two precisions show it
        apart = _apart(a, b, points[0], CONFIRM)
        return (False, apart) if apart else (True, "")
    for point in points:
        apart = _apart(a, b, point, CONFIRM[:1] if quick else PRECISIONS)
        if apart:
            return False, apart
    raise Undecided("the exact form does not show the two sides equal, and no point tells them apart")


def _points(symbols: list):
    """Points binding every symbol: small positive rationals, then larger, negative and smaller
    ones (every input is a real number)."""
    for seed in range(6):
        point = {}
        for k, s in enumerate(symbols):
            v = sympy.Rational(3 + (7 * k + 5 * seed) % 11, 2 + (k + seed) % 5)
            point[s] = {3: v + 10, 4: -v, 5: v / 7}.get(seed, v)
        yield point


class _Point(dict):
    """A point, with the intervals of the subexpressions already evaluated there (per precision)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.memos: dict = {}


def _defined(conditions: list, point: dict) -> bool:
    return all(certain(kind, expr, point) for kind, expr in conditions)


def certain(kind: str, expr, point: dict | None = None) -> bool | None:
    """Whether expr is certainly "positive" (or "nonzero") at the point: True or False when an
    interval evaluation decides, None when none does (or expr has no real value there)."""
    for bits in PRECISIONS:
        box = _enclose(expr, point or {}, bits)
        if box is None:
            return None
        if box.a > 0 or (kind == "nonzero" and box.b < 0):
            return True
        if (kind == "positive" and box.b <= 0) or (box.a == 0 and box.b == 0):
            return False
    return None


def _apart(a, b, point: dict, precisions: tuple = PRECISIONS) -> str:
    """The two sides' values at the point when they certainly differ: interval evaluations that
    do not meet, their precision raised until they part. An interval is as wide as the rounding
    of every term that went into it, so large terms that cancel widen it and cannot fake a
    difference; "" when no precision parts them, or a side has no real value there."""
    for bits in precisions:
        x, y = _enclose(a, point, bits), _enclose(b, point, bits)
        if x is None or y is None:
            return ""
        if x.b < y.a or y.b < x.a:
            used = _inputs(a.free_symbols | b.free_symbols, point)
            at = ", ".join(f"{s} = {v}" for s, v in point.items() if s in used)
            return f"{_numbers(x, y, bits)}" + (f" at {at}" if at else "")
    return ""


def _inputs(symbols: set, point: dict) -> set:
    """The inputs the symbols stand for, through the named quantities' definitions."""
    out, todo = set(), list(symbols)
    while todo:
        s = todo.pop()
        value = point.get(s)
        if value is not None and not value.is_Rational:
            todo += [t for t in value.free_symbols if t not in out]
        else:
            out.add(s)
    return out


def _enclose(expr, point: dict, bits: int):
    """An interval that certainly holds expr's value at the point, at `bits` of precision, or None
    when expr has no real value there (a logarithm or root of a number not known positive, a
    division by an interval holding 0, a symbol the point does not bind)."""
    saved = mpmath.iv.prec
    mpmath.iv.prec = bits
    memo = point.memos.setdefault(bits, {}) if isinstance(point, _Point) else {}
    try:
        return _box(expr, point, memo)
    except _NoValue:
        return None
    finally:
        mpmath.iv.prec = saved


class _NoValue(Exception):
    pass


def _box(expr, point: dict, memo: dict):
    """The interval of expr at the point; memo holds those of the subexpressions already boxed at
    this precision (a written-out variance appears many times in one line)."""
    if expr not in memo:
        memo[expr] = _boxed(expr, point, memo)
    return memo[expr]


def _boxed(expr, point: dict, memo: dict):
    iv = mpmath.iv
    if expr in point:
        expr = point[expr]
    if expr.is_Integer:
        return iv.mpf(int(expr))
    if expr.is_Rational:
        return iv.mpf(int(expr.p)) / iv.mpf(int(expr.q))
    if expr is sympy.E:
        return iv.e
    if expr is sympy.pi:
        return iv.pi
    if expr.is_Add or expr.is_Mul:
        parts = [_box(arg, point, memo) for arg in expr.args]
        out = parts[0]
        for part in parts[1:]:
            out = out + part if expr.is_Add else out * part
        return out
    if isinstance(expr, sympy.exp):
        argument = _box(expr.args[0], point, memo)
        if argument.b > MAX_EXP_ARGUMENT or argument.a < -MAX_EXP_ARGUMENT:
            raise _NoValue  # e^(e^(e^10)) and beyond: too large to evaluate, so nothing is concluded from it
        return iv.exp(argument)
    if isinstance(expr, sympy.log) and len(expr.args) == 1:
        return iv.log(_positive(_box(expr.args[0], point, memo)))
    if isinstance(expr, (sympy.sin, sympy.cos)):
        return (iv.sin if isinstance(expr, sympy.sin) else iv.cos)(_box(expr.args[0], point, memo))
    if expr.is_Pow:
        base = _box(expr.base, point, memo)
        if expr.exp.is_Integer:
            n = int(expr.exp)
            if n < 0 and not (base.a > 0 or base.b < 0):
                raise _NoValue
            return base**n if n >= 0 else 1 / base ** (-n)
        return iv.exp(_box(expr.exp, point, memo) * iv.log(_positive(base)))
    raise _NoValue  # a symbol the point does not bind, I, ∞, or a function not read here


def _positive(box):
    if not box.a > 0:
        raise _NoValue
    return box


def _numbers(x, y, bits: int) -> str:
    """Two values that differ, with digits enough to show where."""
    with mpmath.mp.workprec(bits):
        mx, my = ((mpmath.mpf(box.a) + mpmath.mpf(box.b)) / 2 for box in (x, y))
        for digits in (12, 24, 48, 96, 192, 384):
            shown = mpmath.nstr(mx, digits), mpmath.nstr(my, digits)
            if shown[0] != shown[1]:
                break
    return f"{shown[0]} and {shown[1]}"


def _text(expr) -> str:
    try:
        return str(expr)
    except (OverflowError, ValueError):  # ordering terms evaluates them, and e^(e^(e^10)) overflows
        return sympy.sstr(expr, order="none")


def _show(expr) -> str:
    text = _text(expr)
    return text if len(text) <= 60 else text[:57] + "…"
