"""A network's forward and backward passes as PyTorch code, written from the layers' closed forms,
and their validation against autograd.

The backward lines are the proven closed forms in PyTorch's notation, from the loss back: each
layer adds its share to the gradient of every tensor it reads (``sum_to_size`` undoes
broadcasting), so the lines read like a hand-written backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..core.errors import SymgradError


def _num(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"({q.numerator} / {q.denominator})"


def _operand(node, role: str, names: list) -> str:
    return _num(node.params[role]) if role in node.params else names.pop(0)


def forward_lines(d) -> list[str]:
    lines = [
        f"{name} = torch.tensor({list(values)}, dtype=torch.float64).reshape({d.graph.tensors[name].shape})"
        for name, values in d.graph.constants.items()
    ]
    for node in d.graph.nodes:
        i, o, p = list(node.inputs), node.output, node.params
        if node.op in ("add", "sub", "mul", "div"):
            left, right = _operand(node, "left", i), _operand(node, "right", i)
            sign = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[node.op]
            expr = f"{left} {sign} {right}"
        elif node.op in ("sigmoid", "tanh", "exp", "log", "sqrt", "relu"):
            expr = f"torch.{node.op}({i[0]})"
        elif node.op == "leaky_relu":
            expr = f"torch.nn.functional.leaky_relu({i[0]}, {_num(p['negative_slope'])})"
        elif node.op == "pow":
            expr = f"{i[0]} ** {_num(p['exponent'])}"
        elif node.op in ("sum", "mean"):
            expr = f"{i[0]}.{node.op}(dim={p['dims']}, keepdim={p['keepdim']})" if p["dims"] else f"{i[0]}.{node.op}()"
        elif node.op == "transpose":
            expr = f"{i[0]}.T"
        elif node.op == "reshape":
            expr = f"{i[0]}.reshape({d.graph.tensors[o].shape})"
        elif node.op == "matmul":
            expr = f"{i[0]} @ {i[1]}"
        elif node.op == "linear":
            expr = f"torch.nn.functional.linear({', '.join(i)})"
        elif node.op in ("conv2d", "conv_transpose2d"):
            args = ", ".join(i) + ("" if len(i) == 3 else ", None")
            keys = (
                ("stride", "padding", "dilation", "groups")
                if node.op == "conv2d"
                else (
                    "stride",
                    "padding",
                    "output_padding",
                    "groups",
                    "dilation",
                )
            )
            expr = f"torch.nn.functional.{node.op}({args}, " + ", ".join(f"{k}={p[k]}" for k in keys) + ")"
        elif node.op == "mse_loss":
            expr = f"torch.nn.functional.mse_loss({i[0]}, {i[1]}, reduction={p['reduction']!r})"
        elif node.op == "upstream":
            expr = f"({i[1]} * {i[0]}).sum()"
        else:
            raise SymgradError(f"no PyTorch code for the layer {node.op!r}")
        lines.append(f"{o} = {expr}")
    return lines


def backward_lines(d) -> list[str]:
    graph = d.graph
    needed = set(d.wrt)
    for node in graph.nodes:
        if needed & set(node.inputs):
            needed.add(node.output)
    lines = [f"g_{name} = torch.zeros_like({name})" for name in graph.tensors if name in needed and name != d.loss_name]
    last = d.loss_name
    lines.append(f"g_{last} = torch.ones_like({last})")
    for node in reversed(graph.nodes):
        for name, expr in _shares(node):
            if name in needed:
                lines.append(f"g_{name} = g_{name} + ({expr}).sum_to_size({name}.shape)")
    return lines


def _shares(node) -> list[tuple[str, str]]:  # (tensor read, its share)
    i: list[str] = list(node.inputs)
    o, p, op = node.output, node.params, node.op
    g = f"g_{o}"
    if op in ("add", "sub", "mul", "div"):
        a = i.pop(0) if "left" not in p else None
        b = i.pop(0) if "right" not in p else None
        av = a or _num(p["left"])
        bv = b or _num(p["right"])
        rules = {
            "add": (g, g),
            "sub": (g, f"-{g}"),
            "mul": (f"{g} * {bv}", f"{g} * {av}"),
            "div": (f"{g} / {bv}", f"-{g} * {av} / {bv} ** 2"),
        }[op]
        return [(n, e) for n, e in zip((a, b), rules) if n is not None]
    x = i[0] if i else ""
    if op == "sigmoid":
        return [(x, f"{g} * {o} * (1 - {o})")]
    if op == "tanh":
        return [(x, f"{g} * (1 - {o} ** 2)")]
    if op == "exp":
        return [(x, f"{g} * {o}")]
    if op == "log":
        return [(x, f"{g} / {x}")]
    if op == "sqrt":
        return [(x, f"{g} / (2 * {o})")]
    if op == "pow":
        q = p["exponent"]
        return [(x, f"{g} * {_num(q)} * {x} ** {_num(q - 1)}")]
    if op == "relu":
        return [(x, f"{g} * ({x} > 0)")]
    if op == "leaky_relu":
        a = _num(p["negative_slope"])
        return [(x, f"{g} * (({x} > 0).to({x}.dtype) + {a} * ({x} <= 0).to({x}.dtype))")]
    if op in ("sum", "mean"):
        scale = "" if op == "sum" else f" / ({_count(node, p)})"
        grow = g if p["keepdim"] or not p["dims"] else g + "".join(f".unsqueeze({dd})" for dd in p["dims"])
        return [(x, f"{grow}.expand_as({x}){scale}")]
    if op == "transpose":
        return [(x, f"{g}.T")]
    if op == "reshape":
        return [(x, f"{g}.reshape({x}.shape)")]
    if op == "matmul":
        return [(i[0], f"{g} @ {i[1]}.T"), (i[1], f"{i[0]}.T @ {g}")]
    if op == "linear" and p.get("vector"):  # a vector input: the weight's gradient is an outer product
        out = [(i[0], f"{g} @ {i[1]}"), (i[1], f"torch.outer({g}, {i[0]})")]
        return out + ([(i[2], g)] if len(i) == 3 else [])
    if op == "linear":
        out = [(i[0], f"{g} @ {i[1]}"), (i[1], f"{g}.T @ {i[0]}")]
        return out + ([(i[2], f"{g}.sum(0)")] if len(i) == 3 else [])
    if op in ("conv2d", "conv_transpose2d"):
        # the two are each other's transposes: what one does forward, the other does to the gradient
        args = f"stride={p['stride']}, padding={p['padding']}, dilation={p['dilation']}, groups={p['groups']}"
        x, w = i[0], i[1]
        if op == "conv2d":
            gx, gw = f"torch.nn.grad.conv2d_input({x}.shape, {w}, {g}, {args})", f"{x}, {w}.shape, {g}"
        else:
            gx, gw = f"torch.nn.functional.conv2d({g}, {w}, None, {args})", f"{g}, {w}.shape, {x}"
        out = [(x, gx), (w, f"torch.nn.grad.conv2d_weight({gw}, {args})")]
        if len(i) == 3:
            out.append((i[2], f"{g}.sum((0, 2, 3))"))
        return out
    if op == "mse_loss":
        n = "" if p["reduction"] == "sum" else f" / {i[0]}.numel()"
        return [(i[0], f"2 * ({i[0]} - {i[1]}){n} * {g}"), (i[1], f"-2 * ({i[0]} - {i[1]}){n} * {g}")]
    if op == "upstream":
        return [(i[0], f"{i[1]} * {g}"), (i[1], f"{i[0]} * {g}")]
    raise SymgradError(f"no PyTorch code for the layer {op!r}")


def _count(node, p) -> str:
    return " * ".join(f"{node.inputs[0]}.shape[{dd}]" for dd in p["dims"]) or "1"


@dataclass(frozen=True)
class NetworkValidation:
    library: str
    reference: str
    figures: str
    tolerance: float
    errors: dict
    ok: bool

    def __str__(self) -> str:
        verdict = "agree" if self.ok else "DISAGREE"
        return (
            f"validation: the generated backward pass and {self.reference} {verdict} in float64 on seeded random "
            f"inputs; largest difference {self.figures} (tolerance {self.tolerance:.0e})"
        )


def _grad_or_zero(torch, tensor):
    return torch.zeros_like(tensor) if tensor.grad is None else tensor.grad


def validate(d, seed: int = 0, tolerance: float = 1e-9) -> NetworkValidation:
    """Run the forward and backward lines in float64 on seeded random inputs and compare every
    gradient with torch.autograd's. Conv layers' transposes are validated through autograd too."""
    try:
        import torch
    except ImportError:
        raise SymgradError("validating a network's code needs PyTorch: pip install torch") from None
    gen = torch.Generator().manual_seed(seed)
    env: dict = {"torch": torch}
    for name in d.graph.inputs:
        shape = d.graph.tensors[name].shape
        value = torch.randn(tuple(shape), generator=gen, dtype=torch.float64)
        if any(
            a.argument in d.graph.tensors[name].ids
            for a in d.graph.atoms.values()
            if a.lemma in ("log", "sqrt", "power")
        ):
            value = value.abs() + 0.5  # the domain of a logarithm or a root
        if name in d.graph.scalars:
            value = value.abs() + 0.5  # a symbolic eps stands for a positive number
        env[name] = value.requires_grad_(name in d.wrt)
    exec("\n".join(forward_lines(d)), env)  # our own generated lines
    loss = env[d.loss_name]
    loss.backward()
    with torch.no_grad():
        exec("\n".join(backward_lines(d)), env)
    # an input the loss does not read has no autograd gradient: it is zero
    errors = {name: float((env[f"g_{name}"] - _grad_or_zero(torch, env[name])).abs().max()) for name in d.wrt}
    figure = max(errors.values()) if errors else 0.0
    return NetworkValidation(
        "torch", "torch.autograd", f"{figure:.1e}", tolerance, errors, all(e <= tolerance for e in errors.values())
    )
