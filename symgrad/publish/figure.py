"""The computation graph of a network, drawn as hand-written posts draw it: a box per tensor, an
arrow from each tensor a layer reads to the tensor it makes, columns by depth from the inputs.
The tensors on the picked element's way to the loss are drawn in red.

The same layout is written as inline SVG (HTML formats and Markdown) and as TikZ (TeX).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

BOX_W, BOX_H, COL, ROW, PAD = 128, 40, 176, 62, 16
MAX_COLUMNS = 4  # deeper graphs are drawn top to bottom
DOWN = 86  # the step between levels when they are rows: room for a box and its arrow
RED, GREY = "#c62828", "#555555"


@dataclass(frozen=True)
class Box:
    name: str
    label: str  # the op that made it, or "input"
    shape: tuple
    x: int
    y: int
    hot: bool


def layout(d) -> tuple[list[Box], list[tuple[str, str]], int, int]:
    """Boxes and arrows, and the drawing's width and height in px."""
    graph = d.graph
    depth = dict.fromkeys([*graph.inputs, *graph.constants], 0)
    made_by = {}
    arrows = []
    for node in graph.nodes:
        depth[node.output] = 1 + max((depth[i] for i in node.inputs), default=0)
        made_by[node.output] = node.op
        arrows += [(i, node.output) for i in dict.fromkeys(node.inputs)]
    hot = {d.wrt[0]} if d.wrt else set()
    for node in graph.nodes:  # the way from the first input to differentiate, to the loss
        if hot & set(node.inputs):
            hot.add(node.output)
    columns: dict = {}
    for name in depth:
        columns.setdefault(depth[name], []).append(name)
    tallest = max(len(c) for c in columns.values())
    # a deep network reads top to bottom (each level a row), so that it fits a page's width
    across = len(columns) <= MAX_COLUMNS
    boxes = []
    for col, names in sorted(columns.items()):
        offset = (tallest - len(names)) * (ROW if across else COL) // 2
        for row, name in enumerate(names):
            along, side = col * COL, offset + row * ROW
            if not across:
                along, side = col * DOWN, offset + row * COL
            boxes.append(
                Box(
                    name,
                    made_by.get(name, "constant" if name in graph.constants else "input"),
                    graph.tensors[name].shape,
                    PAD + (along if across else side),
                    PAD + (side if across else along),
                    name in hot,
                )
            )
    width = max(b.x for b in boxes) + BOX_W + PAD
    height = max(b.y for b in boxes) + BOX_H + PAD
    return (
        boxes,
        [(a, b) for a, b in arrows if a in hot and b in hot]
        + [(a, b) for a, b in arrows if not (a in hot and b in hot)],
        width,
        height,
    )


def _shape(shape: tuple) -> str:
    return "×".join(map(str, shape)) if shape else "scalar"


def svg(d) -> str:
    boxes, arrows, width, height = layout(d)
    at = {b.name: b for b in boxes}
    hot = {b.name for b in boxes if b.hot}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="symgrad-graph" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="computation graph">',
        "<defs>"
        + "".join(
            f'<marker id="arrow-{n}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
            for n, c in (("hot", RED), ("cold", GREY))
        )
        + "</defs>",
    ]
    for a, b in arrows:
        s, t = at[a], at[b]
        colour, kind = (RED, "hot") if a in hot and b in hot else (GREY, "cold")
        if t.x > s.x + BOX_W:  # left to right
            x1, y1, x2, y2 = s.x + BOX_W, s.y + BOX_H // 2, t.x - 2, t.y + BOX_H // 2
        else:  # top to bottom
            x1, y1, x2, y2 = s.x + BOX_W // 2, s.y + BOX_H, t.x + BOX_W // 2, t.y - 2
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
            f'stroke="{colour}" stroke-width="{2 if kind == "hot" else 1.2}" marker-end="url(#arrow-{kind})"/>'
        )
    for box in boxes:
        colour = RED if box.hot else GREY
        parts.append(
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="#ffffff" '
            f'stroke="{colour}" stroke-width="{2 if box.hot else 1.2}"/>'
        )
        parts.append(
            f'<text x="{box.x + BOX_W // 2}" y="{box.y + 17}" text-anchor="middle" font-family="serif" '
            f'font-size="14" fill="{colour}">{html.escape(box.name)} ({html.escape(_shape(box.shape))})</text>'
        )
        parts.append(
            f'<text x="{box.x + BOX_W // 2}" y="{box.y + 33}" text-anchor="middle" font-family="sans-serif" '
            f'font-size="11" fill="{GREY}">{html.escape(box.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _tex(text: str) -> str:
    return text.replace("_", r"\_")


def tikz(d) -> str:
    boxes, arrows, _width, _height = layout(d)
    scale = 0.018  # cm per px: the widest graphs stay inside the text block
    hot = {b.name for b in boxes if b.hot}
    lines = [rf"\begin{{tikzpicture}}[x={scale:.3f}cm, y=-{scale:.3f}cm]"]
    for box in boxes:
        style = "draw=red!75!black, very thick" if box.hot else "draw=black!60"
        shape = _shape(box.shape).replace("×", r"$\times$")
        lines.append(
            rf"\node[{style}, rounded corners, minimum width={BOX_W * scale:.2f}cm, "
            rf"minimum height={BOX_H * scale:.2f}cm, "
            rf"align=center, font=\small] ({box.name}) at ({box.x + BOX_W / 2:.0f}, {box.y + BOX_H / 2:.0f}) "
            rf"{{{_tex(box.name)} ({shape})\\ \scriptsize\textsf{{{_tex(box.label)}}}}};"
        )
    for a, b in arrows:
        style = "red!75!black, very thick" if a in hot and b in hot else "black!60"
        lines.append(rf"\draw[->, {style}] ({a}) -- ({b});")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
