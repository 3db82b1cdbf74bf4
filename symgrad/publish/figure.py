"""The computation graph of a network: a box per tensor (its name, its shape and the layer that
made it), an arrow from each tensor a layer reads to the tensor it makes. The tensors on the
picked input's way to the loss are drawn in red.

Graphviz's ``dot`` lays the graph out: symgrad writes the DOT source, runs ``dot -Tjson0`` and
reads back each box's centre and each arrow's spline (cubic Bézier control points, which dot
routes around the boxes an arrow does not join) and its arrowhead's tip. From that layout symgrad
writes the inline SVG (HTML formats and Markdown) and the TikZ (TeX) itself, with every number
rounded to a tenth, so the same graph gives the same bytes. Box sizes come from the labels'
lengths, not from fonts dot would measure, so the layout does not depend on the fonts installed.

Without ``dot`` the figure falls back to a plain layout (columns by depth, straight arrows, which
may cross boxes). The figure then says so in a comment and Python warns; the gallery and the
tests use dot.
"""

from __future__ import annotations

import html
import json
import math
import shutil
import subprocess
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..core.errors import SymgradError

DOT = "dot"  # the program, found on PATH
TIMEOUT = 30  # seconds; dot lays out a graph of a few dozen boxes in milliseconds
BOX_H, PAD, ARROW, ARROW_HALF = 40, 16, 10, 4  # px: a box's height, the margin, an arrowhead
MAX_RANKS = 4  # a graph this deep or shallower reads left to right; deeper ones top to bottom
RED, GREY = "#c62828", "#555555"
FALLBACK = (
    "Graphviz's dot was not found (install Graphviz: apt-get install graphviz), so the computation "
    "graph is drawn by the plain fallback layout, whose straight arrows may cross boxes"
)


@dataclass(frozen=True)
class Box:
    name: str
    label: str  # the op that made it, "input" or "constant"
    shape: tuple
    x: float  # the top left corner, in px, y pointing down
    y: float
    w: float
    h: float
    hot: bool


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    hot: bool
    curve: tuple  # the start, then (control, control, end) for each cubic Bézier piece
    tip: tuple  # the arrowhead's point, on the target's border; its base is the curve's end


@dataclass(frozen=True)
class Layout:
    boxes: tuple
    arrows: tuple
    width: float
    height: float
    engine: str  # "dot", or "fallback" when dot is missing


def _shape(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def _box_width(name: str, shape: tuple, label: str) -> int:
    """Wide enough for the name line (14 px serif) and the op line (11 px sans-serif), by a
    per-character width that covers the serif fonts browsers pick and pdflatex's Latin Modern."""
    text = f"{name} ({_shape(shape)})"
    return max(96, math.ceil(max(8.2 * len(text), 7.0 * len(label)) + 20))


def _graph(d) -> tuple[list[Box], list[tuple[str, str, bool]], dict]:
    """The boxes (unplaced), the arrows hot ones first, and each tensor's depth from the inputs."""
    graph = d.graph
    depth = dict.fromkeys([*graph.inputs, *graph.constants], 0)
    made_by: dict[str, str] = {}
    pairs = []
    for node in graph.nodes:
        depth[node.output] = 1 + max((depth[i] for i in node.inputs), default=0)
        made_by[node.output] = node.op
        pairs += [(i, node.output) for i in dict.fromkeys(node.inputs)]
    hot = {d.wrt[0]} if d.wrt else set()
    for node in graph.nodes:  # the way from the first input to differentiate, to the loss
        if hot & set(node.inputs):
            hot.add(node.output)
    boxes = []
    for name in depth:
        label = made_by.get(name, "constant" if name in graph.constants else "input")
        shape = graph.tensors[name].shape
        boxes.append(Box(name, label, shape, 0, 0, _box_width(name, shape, label), BOX_H, name in hot))
    arrows = [(a, b, a in hot and b in hot) for a, b in pairs]
    return boxes, sorted(arrows, key=lambda arrow: not arrow[2]), depth


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_source(d) -> str:
    """The DOT source dot lays out: boxes of fixed sizes (in points, one per px), named n0, n1, ...
    in the graph's order, so that tensor names never need quoting as DOT identifiers."""
    boxes, arrows, depth = _graph(d)
    ids = {b.name: f"n{k}" for k, b in enumerate(boxes)}
    direction = "LR" if max(depth.values()) < MAX_RANKS else "TB"
    lines = [
        "digraph computation {",
        f"  graph [rankdir={direction}, nodesep=0.3, ranksep=0.45];",
        '  node [shape=box, style=rounded, fixedsize=true, fontsize=14, fontname="serif"];',
    ]
    for box in boxes:
        label = _dot_string(f"{box.name} ({_shape(box.shape)})\n{box.label}").replace("\n", "\\n")
        lines.append(f"  {ids[box.name]} [label={label}, width={box.w / 72:.4f}, height={box.h / 72:.4f}];")
    for source, target, hot in arrows:
        # a heavier weight keeps the red way straight and short
        lines.append(f"  {ids[source]} -> {ids[target]}{' [weight=4]' if hot else ''};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_dot(source: str, program: str) -> dict:
    try:
        done = subprocess.run(
            [program, "-Tjson0"], input=source.encode(), capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise SymgradError(f"Graphviz dot took more than {TIMEOUT} s to lay out the computation graph") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
        raise SymgradError(f"Graphviz dot could not lay out the computation graph: {message}")
    return json.loads(done.stdout)


def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in text.split())]


def layout(d) -> Layout:
    """dot's layout of the graph, or the fallback's when dot is not installed."""
    program = shutil.which(DOT)
    if program is None:
        warnings.warn(FALLBACK, stacklevel=2)
        return _fallback(d)
    boxes, arrows, _depth = _graph(d)
    out = _run_dot(dot_source(d), program)
    x0, y0, x1, y1 = (float(v) for v in out["bb"].split(","))
    height = y1 - y0 + 2 * PAD

    def at(x: float, y: float) -> tuple[float, float]:  # dot's points, y up, to px, y down
        return round(x - x0 + PAD, 1), round(height - (y - y0 + PAD), 1)

    names = {f"n{k}": box.name for k, box in enumerate(boxes)}  # as dot_source names them
    centre = {names[obj["name"]]: at(*_points(obj["pos"])[0]) for obj in out["objects"]}
    placed = tuple(
        replace(box, x=round(centre[box.name][0] - box.w / 2, 1), y=round(centre[box.name][1] - box.h / 2, 1))
        for box in boxes
    )
    by_id = {int(obj["_gvid"]): names[obj["name"]] for obj in out["objects"]}
    splines = {}
    for edge in out.get("edges", []):
        head, *spline = edge["pos"].split(" ")  # "e,tip" first, then the spline's control points
        if not head.startswith("e,"):
            raise SymgradError(f"Graphviz dot returned an arrow without a head: {edge['pos']!r}")
        curve = tuple(at(*p) for p in _points(" ".join(spline)))
        splines[by_id[int(edge["tail"])], by_id[int(edge["head"])]] = (curve, at(*_points(head[2:])[0]))
    drawn = tuple(Arrow(source, target, hot, *splines[source, target]) for source, target, hot in arrows)
    return Layout(placed, drawn, round(x1 - x0 + 2 * PAD, 1), round(height, 1), "dot")


def _fallback(d) -> Layout:
    """Columns by depth (rows when the graph is deep), straight arrows from border to border."""
    boxes, arrows, depth = _graph(d)
    columns: dict = {}
    for box in boxes:
        columns.setdefault(depth[box.name], []).append(box)
    tallest = max(len(c) for c in columns.values())
    across = len(columns) <= MAX_RANKS
    step = max(b.w for b in boxes) + 48
    placed = {}
    for level, column in sorted(columns.items()):
        offset = (tallest - len(column)) * ((BOX_H + 22) if across else step) / 2
        for k, box in enumerate(column):
            if across:
                x, y = level * step, offset + k * (BOX_H + 22)
            else:
                x, y = offset + k * step + (step - 48 - box.w) / 2, level * (BOX_H + 46)
            placed[box.name] = replace(box, x=PAD + x, y=PAD + y)
    straight = []
    for source, target, hot in arrows:
        s, t = placed[source], placed[target]
        if across:
            start, tip = (s.x + s.w, s.y + s.h / 2), (t.x, t.y + t.h / 2)
        else:
            start, tip = (s.x + s.w / 2, s.y + s.h), (t.x + t.w / 2, t.y)
        length = math.dist(start, tip)
        end = tuple(p - ARROW * (p - q) / length for p, q in zip(tip, start))
        thirds = [tuple(round(p + k * (q - p) / 3, 1) for p, q in zip(start, end)) for k in range(4)]
        straight.append(Arrow(source, target, hot, tuple(thirds), tuple(round(v, 1) for v in tip)))
    width = max(b.x + b.w for b in placed.values()) + PAD
    height = max(b.y + b.h for b in placed.values()) + PAD
    return Layout(tuple(placed[box.name] for box in boxes), tuple(straight), width, height, "fallback")


def arrowhead(arrow: Arrow) -> tuple:
    """The arrowhead's triangle: the tip, then the two corners of its base at the curve's end."""
    (bx, by), (tx, ty) = arrow.curve[-1], arrow.tip
    length = math.hypot(tx - bx, ty - by) or 1.0
    nx, ny = -(ty - by) / length * ARROW_HALF, (tx - bx) / length * ARROW_HALF
    return arrow.tip, (round(bx + nx, 1), round(by + ny, 1)), (round(bx - nx, 1), round(by - ny, 1))


def _n(value: float) -> str:
    """A coordinate as few characters as it needs: 12, 12.5 (never -0)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _xy(point: tuple) -> str:
    return f"{_n(point[0])},{_n(point[1])}"


def svg(d, drawn: Layout | None = None) -> str:
    drawn = drawn or layout(d)
    w, h = _n(drawn.width), _n(drawn.height)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="symgrad-graph" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="computation graph">'
    ]
    if drawn.engine != "dot":
        parts.append(f"<!-- {FALLBACK}. -->")
    for arrow in drawn.arrows:
        colour, width = (RED, 2) if arrow.hot else (GREY, 1.2)
        start, *rest = arrow.curve
        pieces = " ".join(f"C {_xy(a)} {_xy(b)} {_xy(c)}" for a, b, c in zip(rest[::3], rest[1::3], rest[2::3]))
        parts.append(f'<path d="M {_xy(start)} {pieces}" fill="none" stroke="{colour}" stroke-width="{width}"/>')
        corners = " ".join(_xy(p) for p in arrowhead(arrow))
        parts.append(f'<polygon points="{corners}" fill="{colour}" stroke="{colour}" stroke-width="1"/>')
    for box in drawn.boxes:
        colour = RED if box.hot else GREY
        cx = _n(box.x + box.w / 2)
        parts.append(
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" rx="6" '
            f'fill="#ffffff" stroke="{colour}" stroke-width="{2 if box.hot else 1.2}"/>'
        )
        parts.append(
            f'<text x="{cx}" y="{_n(box.y + 17)}" text-anchor="middle" font-family="serif" '
            f'font-size="14" fill="{colour}">{html.escape(box.name)} ({html.escape(_shape(box.shape))})</text>'
        )
        parts.append(
            f'<text x="{cx}" y="{_n(box.y + 33)}" text-anchor="middle" font-family="sans-serif" '
            f'font-size="11" fill="{GREY}">{html.escape(box.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# Type sizes of the 11pt article (tex.j2), largest first: the name line's, and the op line's under
# it. A drawing made smaller keeps type the class sets, as every other line of the document does.
TEX_SIZES = (
    (10, r"\small", r"\scriptsize"),
    (9, r"\footnotesize", r"\scriptsize"),
    (8, r"\scriptsize", r"\tiny"),
    (0, r"\tiny", r"\tiny"),
)


def tikz(d, escape: Callable[[str], str], drawn: Layout | None = None) -> str:
    """The same drawing in TikZ: one px to 0.75 pt, so that the name line (14 px) is \\small, or
    less when the drawing would be wider or taller than a page's text; the type then steps down
    the class's sizes with it."""
    drawn = drawn or layout(d)
    # pt per px, rounded down as it is printed, so that the drawing stays inside 480 × 600 pt
    unit = math.floor(min(0.75, 480 / drawn.width, 600 / drawn.height) * 10_000) / 10_000
    # the name line is 14 px: 10 pt at 0.75 pt per px, and the largest size that fits below it
    name_size, op_size = next(s[1:] for s in TEX_SIZES if s[0] <= 14 * unit / 1.05 + 1e-9)
    lines = [f"% {FALLBACK}."] if drawn.engine != "dot" else []
    lines.append(rf"\begin{{tikzpicture}}[x={unit:.4f}pt, y=-{unit:.4f}pt]")
    for arrow in drawn.arrows:
        colour, width = ("red!75!black", 2) if arrow.hot else ("black!60", 1.2)
        start, *rest = arrow.curve
        pieces = " ".join(
            f".. controls ({_xy(a)}) and ({_xy(b)}) .. ({_xy(c)})" for a, b, c in zip(rest[::3], rest[1::3], rest[2::3])
        )
        lines.append(rf"\draw[{colour}, line width={width * unit:.2f}pt] ({_xy(start)}) {pieces};")
        lines.append(rf"\fill[{colour}] {' -- '.join(f'({_xy(p)})' for p in arrowhead(arrow))} -- cycle;")
    for box in drawn.boxes:
        colour, width = ("red!75!black", 2) if box.hot else ("black!60", 1.2)
        lines.append(
            rf"\filldraw[draw={colour}, line width={width * unit:.2f}pt, fill=white, rounded corners={6 * unit:.2f}pt] "
            rf"({_xy((box.x, box.y))}) rectangle ({_xy((box.x + box.w, box.y + box.h))});"
        )
        lines.append(
            rf"\node[align=center, text={colour}] at ({_xy((box.x + box.w / 2, box.y + box.h / 2))}) "
            rf"{{{name_size} {escape(box.name)} ({escape(_shape(box.shape))})\\ "
            rf"{op_size}\color{{black!60}}\textsf{{{escape(box.label)}}}}};"
        )
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
