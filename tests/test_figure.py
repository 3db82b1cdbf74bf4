"""The computation graph's figure, laid out by Graphviz's dot, checked on what it draws: over every
network of the test grid, no two boxes overlap, every arrow runs from its source's border to its
target's border, and no arrow passes through a box. The checks read the SVG, as a reader's
browser does, and the TikZ is checked to draw the same thing."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

import symgrad
import symgrad.functional as SF
from symgrad.gallery import NETWORKS as GALLERY_NETWORKS
from symgrad.publish import figure
from symgrad.publish.documents import tex_escape

from .conftest import require_program
from .test_hard_layers import CASES
from .test_network import NETWORKS

SVG = "{http://www.w3.org/2000/svg}"
MARGIN = 2  # px: a point this far inside a box's border is inside the box
NEAR = 3  # px: an arrow's end this close to a border touches it


def _grid() -> dict:
    grid = {f"gallery {name}": make for name, make in GALLERY_NETWORKS}
    for name, (build, shapes, loss) in NETWORKS.items():
        kwargs = {"loss": loss} if loss else {}
        grid[f"network {name}"] = lambda b=build, s=shapes, k=kwargs: symgrad.derive(b(SF), **s, **k)
    for name, (build, _torch, shapes) in CASES.items():
        grid[f"layer {name}"] = lambda b=build, s=shapes: symgrad.derive(b(SF), **s)
    return grid


GRID = _grid()


def needs_dot():
    require_program("dot", "apt-get install graphviz")


def expected_arrows(d) -> set:
    """From the graph itself: an arrow from each tensor a layer reads to the tensor it makes."""
    return {(i, node.output) for node in d.graph.nodes for i in node.inputs}


def bezier(p0, p1, p2, p3, steps=40) -> list:
    out = []
    for k in range(steps + 1):
        t = k / steps
        a, b, c, e = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t**3
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]))
    return out


def segment(p, q, steps=40) -> list:
    return [(p[0] + (q[0] - p[0]) * k / steps, p[1] + (q[1] - p[1]) * k / steps) for k in range(steps + 1)]


def path_points(d_attribute: str) -> list:
    """The points of an SVG path of M, C and L commands, flattened."""
    tokens = re.findall(r"[MCL]|-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?", d_attribute)
    points, here, k = [], None, 0
    while k < len(tokens):
        command = tokens[k]
        coords = []
        k += 1
        while k < len(tokens) and tokens[k] not in "MCL":
            coords.append(tuple(map(float, tokens[k].split(","))))
            k += 1
        if command == "M":
            here = coords[0]
            points.append(here)
        for j in range(0, len(coords), 3) if command == "C" else range(len(coords) if command == "L" else 0):
            if command == "C":
                points += bezier(here, *coords[j : j + 3])
                here = coords[j + 2]
            else:
                points += segment(here, coords[j])
                here = coords[j]
    return points


def drawing(svg: str) -> tuple[dict, list]:
    """The boxes {name: (x, y, w, h)} and the arrows [(points along it, colour)] an SVG draws.
    An arrow is a path and the arrowhead after it (its tip first), or a line (older figures)."""
    root = ET.fromstring(svg)
    children = list(root)
    boxes, arrows = {}, []
    for k, el in enumerate(children):
        if el.tag == SVG + "rect":
            name = children[k + 1].text.rsplit(" (", 1)[0]
            boxes[name] = tuple(float(el.get(a)) for a in ("x", "y", "width", "height"))
        elif el.tag == SVG + "path":
            points = path_points(el.get("d"))
            head = children[k + 1]
            assert head.tag == SVG + "polygon", "an arrow without its arrowhead"
            tip = tuple(map(float, head.get("points").split()[0].split(",")))
            arrows.append((points + segment(points[-1], tip), el.get("stroke")))
        elif el.tag == SVG + "line":
            p, q = (float(el.get("x1")), float(el.get("y1"))), (float(el.get("x2")), float(el.get("y2")))
            arrows.append((segment(p, q), el.get("stroke")))
    return boxes, arrows


def inside(point, box, margin=MARGIN) -> bool:
    x, y, w, h = box
    return x + margin < point[0] < x + w - margin and y + margin < point[1] < y + h - margin


def to_border(point, box) -> float:
    """How far a point is from a box's border, from inside or out."""
    x, y, w, h = box
    dx, dy = max(x - point[0], 0, point[0] - x - w), max(y - point[1], 0, point[1] - y - h)
    if dx or dy:
        return math.hypot(dx, dy)
    return min(point[0] - x, x + w - point[0], point[1] - y, y + h - point[1])


def ends(boxes: dict, points: list) -> tuple[str, str]:
    """The boxes an arrow starts and ends at: those whose borders are nearest its two ends."""
    return tuple(min(boxes, key=lambda n: to_border(p, boxes[n])) for p in (points[0], points[-1]))


def problems(svg: str, d) -> list[str]:
    """What a reader would see wrong in the figure of d."""
    boxes, arrows = drawing(svg)
    found = []
    if set(boxes) != set(d.graph.inputs) | set(d.graph.constants) | {n.output for n in d.graph.nodes}:
        found.append(f"boxes {sorted(boxes)} are not the graph's tensors")
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                found.append(f"boxes {a} and {b} overlap")
    drawn = set()
    for points, _colour in arrows:
        source, target = ends(boxes, points)
        if to_border(points[0], boxes[source]) > NEAR or to_border(points[-1], boxes[target]) > NEAR:
            found.append(f"the arrow {source} -> {target} does not run from border to border")
        drawn.add((source, target))
        for name, box in boxes.items():
            if any(inside(p, box) for p in points):
                found.append(f"the arrow {source} -> {target} passes through {name}")
    if drawn != expected_arrows(d):
        found.append(f"arrows drawn {sorted(drawn)}, in the graph {sorted(expected_arrows(d))}")
    return found


@pytest.mark.tools
@pytest.mark.parametrize("name", list(GRID))
def test_boxes_apart_and_every_arrow_from_border_to_border_through_no_box(name):
    needs_dot()
    d = GRID[name]()
    svg = figure.svg(d)
    assert problems(svg, d) == []
    # the way from the first input to the loss, in red, and nothing else
    hot = {d.wrt[0]}
    for node in d.graph.nodes:
        if hot & set(node.inputs):
            hot.add(node.output)
    boxes, arrows = drawing(svg)
    red = {ends(boxes, points) for points, colour in arrows if colour == figure.RED}
    assert red == {(a, b) for a, b in expected_arrows(d) if a in hot and b in hot}
    assert len(red) == sum(colour == figure.RED for _, colour in arrows)


def tikz_numbers(tikz: str, command: str) -> list[float]:
    lines = [line for line in tikz.splitlines() if line.startswith(command)]
    return [float(v) for line in lines for v in re.findall(r"-?\d+(?:\.\d+)?(?=[,)])", line.split("]", 1)[1])]


def svg_numbers(svg: str, tag: str) -> list[float]:
    root = ET.fromstring(svg)
    if tag == "rect":
        values = []
        for el in root.iter(SVG + "rect"):
            x, y, w, h = (float(el.get(a)) for a in ("x", "y", "width", "height"))
            values += [x, y, round(x + w, 1), round(y + h, 1)]
        return values
    attribute = "d" if tag == "path" else "points"
    return [float(v) for el in root.iter(SVG + tag) for v in re.findall(r"-?\d+(?:\.\d+)?", el.get(attribute))]


@pytest.mark.tools
@pytest.mark.parametrize("name", ["gallery attention_head", "gallery batch_norm_sigmoid_mse", "network part2 small"])
def test_the_tikz_draws_what_the_svg_draws(name):
    needs_dot()
    d = GRID[name]()
    drawn = figure.layout(d)
    svg, tikz = figure.svg(d, drawn), figure.tikz(d, tex_escape, drawn)
    assert tikz_numbers(tikz, r"\filldraw") == svg_numbers(svg, "rect")
    assert tikz_numbers(tikz, r"\draw") == svg_numbers(svg, "path")
    assert tikz_numbers(tikz, r"\fill[") == svg_numbers(svg, "polygon")
    unit = float(re.search(r"x=([\d.]+)pt", tikz).group(1))
    assert drawn.width * unit <= 480 and drawn.height * unit <= 600  # inside the text block of the page


@pytest.mark.tools
def test_the_same_graph_gives_the_same_bytes():
    needs_dot()
    first = [figure.svg(GRID["gallery attention_head"]()), figure.tikz(GRID["gallery attention_head"](), tex_escape)]
    second = [figure.svg(GRID["gallery attention_head"]()), figure.tikz(GRID["gallery attention_head"](), tex_escape)]
    assert first == second


@pytest.mark.tools
def test_names_are_escaped_in_the_svg_and_the_tikz():
    needs_dot()

    def net(x, w):
        return SF.tanh(SF.linear(x, w, name="z_α"), name="h_1").sum()

    d = symgrad.derive(net, x=(2, 3), w=(2, 3))
    svg = figure.svg(d)
    assert problems(svg, d) == []
    assert ">z_α (2×2)<" in svg
    tikz = figure.tikz(d, lambda text: tex_escape(text, True))
    assert r"z\_\ensuremath{\alpha} (2×2)" in tikz and r"h\_1 (2×2)" in tikz
    assert "z_α" in figure.dot_source(d)  # a label, quoted; the DOT names are n0, n1, ...


@pytest.mark.tools
def test_the_check_sees_an_arrow_through_a_box_and_one_short_of_its_target():
    needs_dot()
    d = GRID["gallery linear_sigmoid_mse"]()
    svg = figure.svg(d)
    boxes, _ = drawing(svg)
    x, y, _w, h = boxes["z"]
    # an extra arrow from x straight across z to s
    sx, sy, _, sh = boxes["s"]
    through = f'<line x1="{x - 30}" y1="{y + h / 2}" x2="{sx}" y2="{sy + sh / 2}" stroke="#555555"/>'
    assert any("passes through z" in p for p in problems(svg.replace("</svg>", through + "</svg>"), d))
    # every arrow stopped 20 px short of its target
    short = re.sub(r'(<polygon points=")(-?[\d.]+),', lambda m: f"{m.group(1)}{float(m.group(2)) - 20},", svg)
    assert any("border to border" in p for p in problems(short, d))
    # two boxes moved onto each other
    moved = svg.replace(
        f'<rect x="{figure._n(x)}" y="{figure._n(y)}"', f'<rect x="{figure._n(sx)}" y="{figure._n(sy)}"'
    )
    assert any("overlap" in p for p in problems(moved, d))


def test_the_plain_fallback_draws_arrows_through_boxes_that_the_check_sees(monkeypatch):
    """Without dot, the figure falls back to columns and straight arrows, says so, and warns;
    for attention those arrows cross boxes, which is why dot lays out the figures."""
    monkeypatch.setattr(figure, "DOT", "symgrad-no-such-dot")
    d = GRID["gallery attention_head"]()
    with pytest.warns(UserWarning, match=r"apt-get install graphviz"):
        drawn = figure.layout(d)
    assert drawn.engine == "fallback"
    svg = figure.svg(d, drawn)
    assert "<!-- Graphviz's dot was not found" in svg
    assert figure.tikz(d, tex_escape, drawn).startswith("% Graphviz's dot was not found")
    found = problems(svg, d)
    assert any("passes through" in p for p in found), found


def test_a_failing_dot_is_one_clear_error(monkeypatch, tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'Error: <stdin>: syntax error in line 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(figure, "DOT", str(fake))
    with pytest.raises(symgrad.SymgradError, match="Graphviz dot could not lay out the computation graph: Error"):
        figure.layout(GRID["gallery linear_sigmoid_mse"]())
    fake.write_text("#!/bin/sh\nsleep 5\n")
    monkeypatch.setattr(figure, "TIMEOUT", 0.2)
    with pytest.raises(symgrad.SymgradError, match=r"took more than 0\.2 s"):
        figure.layout(GRID["gallery linear_sigmoid_mse"]())
