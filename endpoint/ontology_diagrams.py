"""The SVG diagrams of the ontology documentation, drawn as data.

The documentation pages (:mod:`.ontology_docs`) show two kinds of picture: one per class,
of the properties that come into it and go out of it, and one overview of the main classes
and the links between them. This module draws both. It lays them out and returns a
:class:`Diagram` (boxes, lines and texts with their coordinates), which the ``diagram``
macro of ``templates/ontology_macros.html`` writes out as inline SVG with presentation
attributes, escaping every text: no script, no inline style, so the site's
Content-Security-Policy holds.

* :func:`star_diagram` a class in the middle, the domains of the properties whose range it
  is in a column on the left, the ranges of its own properties in a column on the right.
  Every arrow is horizontal and has a row of its own, so nothing crosses.
* :func:`overview_diagram` a radial tree: the class with most links in the centre, the
  classes one link further away on ellipses around it, each in its parent's slice. Lines are
  straight where they can be and otherwise curves bent around the boxes; a label slides
  along its line until it is clear of the boxes and the other labels.

Text widths are estimates from the number of characters (there are no font metrics on the
server), and nothing depends on chance: the same input always gives the same picture.

The diagrams take plain data (names, IRIs and :class:`Row` records) rather than the
documentation's records, so this module knows nothing of RDF or of the pages, and the
imports run one way: :mod:`.ontology_docs` imports this module, never the reverse.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# -- What the diagrams are made of -------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str
    rx: float = 0
    dash: str = ""


@dataclass(frozen=True)
class Line:
    d: str
    stroke: str = "#333333"
    dash: str = ""
    marker: str = "arrow"  # "arrow" (property), "sub" (subclass)
    both: bool = False  # an arrowhead at the start as well


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    size: int = 12
    bold: bool = False
    halo: bool = False


@dataclass
class Diagram:
    """An SVG drawing as data: the template writes it out, escaping every text."""

    id: str
    width: float
    height: float
    title: str
    desc: str
    caption: str
    boxes: list[Box] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One property in a class's diagram, as a row: the property and the class at its other
    end (a domain for a property coming in, a range for one going out)."""

    prop: str  # the property's name
    end: str | None  # the other end's name; None when no domain or range is stated
    ours: bool = False  # the other end is a term of the ontology (else another vocabulary's)
    literal: bool = False  # a datatype property: the other end is a literal value
    deprecated: bool = False


# -- Drawing -------------------------------------------------------------------------------------

#: Colours with at least 4.5:1 contrast for their text (#1b1b1b on every fill).
FOCUS = ("#dbe7f7", "#0b4f9c")
CLASS = ("#f3f7fc", "#0b4f9c")
EXTERNAL = ("#f4f4f4", "#555555")
LITERAL = ("#fdf3e1", "#7a4f00")
ROW = 28
FONT = 12


def _fit(text: str, width: float, size: int = FONT) -> str:
    """``text`` cut to what fits in ``width`` pixels (an estimate: no font metrics here)."""
    most = max(int(width / (size * 0.62)), 4)
    return text if len(text) <= most else text[:most - 1] + "…"


def _box_style(row: Row) -> tuple[str, str]:
    if row.literal:
        return LITERAL
    return CLASS if row.ours else EXTERNAL


def star_diagram(name: str, anchor: str, incoming: Sequence[Row], outgoing: Sequence[Row]
                 ) -> Diagram:
    """One class in the middle, tall enough for every row: properties whose range it is come
    in from their domains on the left, properties whose domain it is go out to their ranges
    on the right. Every arrow is horizontal, so nothing crosses and each label has its own
    row. ``name`` is the class's name in the picture, ``anchor`` its id on the page."""
    left, right = list(incoming), list(outgoing)
    rows = max(len(left), len(right), 1)
    pad, box_w, mid_x, mid_w, right_x = 12, 190, 400, 190, 790
    width, height = 1000, rows * ROW + 2 * pad
    diagram = Diagram(
        id=f"diagram-{anchor}", width=width, height=height,
        title=f"Diagram of {name} and its properties",
        desc=_star_desc(name, left, right),
        caption=f"{name}: properties with {name} as their range on the left (from their "
                f"domains), with {name} as their domain on the right (to their ranges). "
                "Dashed arrows are deprecated properties; rounded boxes are literal values; "
                "grey boxes are classes of other vocabularies; a dashed box means that no "
                "domain or range is stated.")
    diagram.boxes.append(Box(mid_x, pad + 2, mid_w, rows * ROW - 4, *FOCUS, rx=4))
    diagram.texts.append(Text(mid_x + mid_w / 2, pad + rows * ROW / 2 + 4,
                              _fit(name, mid_w - 10, 13), size=13, bold=True))
    for side, items in (("left", left), ("right", right)):
        first = (rows - len(items)) / 2  # the shorter side is centred
        for i, row in enumerate(items):
            y = pad + (first + i) * ROW + ROW / 2
            fill, stroke = _box_style(row)
            box_x = 10 if side == "left" else right_x
            diagram.boxes.append(Box(box_x, y - 11, box_w, 22, fill, stroke,
                                     rx=9 if row.literal else 0,
                                     dash="" if row.end is not None else "4 3"))
            text = row.end if row.end is not None else ("literal" if row.literal else "any")
            diagram.texts.append(Text(box_x + box_w / 2, y + 4, _fit(text, box_w - 10)))
            x1, x2 = (box_x + box_w, mid_x) if side == "left" else (mid_x + mid_w, right_x)
            diagram.lines.append(Line(f"M{x1},{y} H{x2 - 1}",
                                      dash="5 4" if row.deprecated else ""))
            diagram.texts.append(Text((x1 + x2) / 2, y - 4, _fit(row.prop, x2 - x1 - 12),
                                      halo=True))
    return diagram


def _star_desc(name: str, left: list[Row], right: list[Row]) -> str:
    def end(row: Row) -> str:
        return row.end if row.end is not None else "anything"

    parts = [f"{r.prop} from {end(r)}" for r in left]
    outs = [f"{r.prop} to {end(r)}" for r in right]
    text = f"{name}."
    if parts:
        text += " Coming in: " + "; ".join(parts) + "."
    if outs:
        text += " Going out: " + "; ".join(outs) + "."
    return text


def overview_diagram(classes: Mapping[str, str], links: Iterable[tuple[str, str, str]],
                     subclass_links: Iterable[tuple[str, str]]) -> Diagram | None:
    """The ``classes`` (IRI -> name), the properties between them (``links``, as (domain
    IRI, property name, range IRI)) and their subclass links (as (subclass IRI, superclass
    IRI)); links with an end that is not among ``classes`` are left out. None when no link
    is left.

    A radial tree, not a force layout (which tangled the busy middle): the class with most
    links in the centre, the classes one link away on an ellipse around it, and so on
    outwards, each in the slice of its parent; a property and its inverse share one line,
    labelled on either side. Deterministic: the same ontology always gives the same picture.
    """
    pairs: dict[tuple[str, str], list[str]] = {}
    loops: dict[str, list[str]] = {}
    for d, prop, r in links:
        if d not in classes or r not in classes:
            continue
        if d == r:
            loops.setdefault(d, []).append(prop)
        else:
            pairs.setdefault((d, r), []).append(prop)
    subclass = sorted((a, b) for a, b in subclass_links if a in classes and b in classes)
    names = sorted({i for pair in [*pairs, *subclass] for i in pair} | set(loops),
                   key=lambda i: classes[i].casefold())
    if not names:
        return None
    sizes, inside = {}, {}  # a class's properties to itself are listed in its box
    for iri in names:
        inside[iri] = _wrap(sorted(loops.get(iri, []), key=str.casefold), 28)
        if inside[iri]:
            inside[iri][0] = "↻ " + inside[iri][0]
        sizes[iri] = (max(len(classes[iri]) * 13 * 0.62 + 20,
                          max((len(line) * 11 * 0.6 + 16 for line in inside[iri]), default=0),
                          90),
                      26.0 + 14 * len(inside[iri]), 0)
    weight = {iri: len(loops.get(iri, [])) for iri in names}
    for (a, b), props in [*pairs.items(), *((pair, [""]) for pair in subclass)]:
        weight[a] += len(props)
        weight[b] += len(props)
    centres = _radial_layout(names, [*pairs, *subclass], sizes, weight)

    margin = 24
    left = min(x - sizes[i][0] / 2 for i, (x, y) in centres.items()) - margin - 90
    top = min(y - sizes[i][1] / 2 - sizes[i][2] for i, (x, y) in centres.items()) - margin
    right = max(x + sizes[i][0] / 2 for i, (x, y) in centres.items()) + margin + 90
    bottom = max(y + sizes[i][1] / 2 for i, (x, y) in centres.items()) + margin + 20
    geometry = {i: (x - left, y - top, *sizes[i][:2]) for i, (x, y) in centres.items()}
    diagram = Diagram(
        id="diagram-overview", width=round(right - left), height=round(bottom - top),
        title="Overview of the main classes and the object properties between them",
        desc=_overview_desc(classes, pairs, loops, subclass),
        caption="The classes other than concept classes, with the object properties between "
                "them (arrows from domain to range; a property and its inverse share a line; "
                "↻ lists a class's properties to itself) and their subclass links (dashed, "
                "with a hollow head towards the superclass). "
                "Properties whose values are concepts are in each class's own diagram.")
    obstacles = {iri: _rect(geometry[iri]) for iri in names}
    taken = list(obstacles.values())  # where labels may not go
    for a, b in subclass:
        start, control, end = _route(geometry[a], geometry[b], obstacles, a, b)
        diagram.lines.append(Line(_curve(start, control, end), dash="6 4", marker="sub"))
    for (a, b), props in sorted(pairs.items()):
        if (b, a) in pairs and (b, a) < (a, b):
            continue  # drawn with its inverse
        _edge(diagram, _route(geometry[a], geometry[b], obstacles, a, b),
              sorted(props, key=str.casefold), sorted(pairs.get((b, a), []), key=str.casefold),
              taken)
    for iri in names:
        x, y, w, h = geometry[iri]
        diagram.boxes.append(Box(x - w / 2, y - h / 2, w, h, *CLASS, rx=3))
        diagram.texts.append(Text(x, y - h / 2 + 17.5, classes[iri], size=13, bold=True))
        for n, line in enumerate(inside[iri]):
            diagram.texts.append(Text(x, y - h / 2 + 33 + 14 * n, line, size=11))
    return diagram


def _overview_desc(short: Mapping[str, str], pairs: dict, loops: dict, subclass: list) -> str:
    facts = [f"{short[a]} {', '.join(sorted(p))} {short[b]}"
             for (a, b), p in sorted(pairs.items())]
    facts += [f"{short[a]} {', '.join(sorted(p))} {short[a]}"
              for a, p in sorted(loops.items())]
    facts += [f"{short[a]} is a subclass of {short[b]}" for a, b in sorted(subclass)]
    return "; ".join(facts) + "."


def _wrap(words: list[str], width: int) -> list[str]:
    """``words`` joined with commas into lines of about ``width`` characters."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) + 2 <= width:
            lines[-1] += ", " + word
        else:
            if lines:
                lines[-1] += ","
            lines.append(word)
    return lines


def _radial_layout(names: list[str], links: list[tuple[str, str]],
                   sizes: dict[str, tuple[float, float, float]], weight: dict[str, int]
                   ) -> dict[str, tuple[float, float]]:
    """Box centres: each connected group of classes as a radial tree around its class with
    the most properties, groups stacked top to bottom. A breadth-first tree gives each class
    a parent; the first ring shares the circle evenly (room for the busiest labels), and
    further out a class gets a slice of its parent's angle in proportion to the leaves below
    it. The rings are ellipses (wider than tall, like the boxes), each further out by a bit
    less than the first, so the outer branches do not stretch the picture. The first ring
    is ordered so that linked classes sit side by side, and turned so that its widest gap is
    at the top."""
    near: dict[str, set[str]] = {n: set() for n in names}
    for a, b in links:
        near[a].add(b)
        near[b].add(a)
    order = {n: i for i, n in enumerate(names)}
    placed: dict[str, tuple[float, float]] = {}
    y_offset = 0.0
    for group in _components(names, near):
        depth, angle = _tree_angles(group, near, order, weight)
        rx, ry = 300.0, 175.0
        for _ in range(40):
            reach = {n: 0.4 + 0.6 * depth[n] if depth[n] else 0 for n in group}
            spots = {n: (reach[n] * rx * math.cos(angle[n]), reach[n] * ry * math.sin(angle[n]))
                     for n in group}
            if not _overlapping(spots, sizes):
                break
            rx, ry = rx * 1.1, ry * 1.1
        top = min(y - sizes[n][1] / 2 - sizes[n][2] for n, (x, y) in spots.items())
        bottom = max(y + sizes[n][1] / 2 for n, (x, y) in spots.items())
        placed.update({n: (x, y - top + y_offset) for n, (x, y) in spots.items()})
        y_offset += bottom - top + 60
    return placed


def _tree_angles(group: list[str], near: dict[str, set[str]], order: dict[str, int],
                 weight: dict[str, int]) -> tuple[dict[str, int], dict[str, float]]:
    """Each class's depth in the breadth-first tree from the group's class with the most
    properties, and its angle around it."""
    hub = min(group, key=lambda n: (-weight[n], -len(near[n]), order[n]))
    children: dict[str, list[str]] = {n: [] for n in group}
    depth, queue = {hub: 0}, [hub]
    while queue:
        node = queue.pop(0)
        for other in sorted(near[node], key=order.get):
            if other not in depth:
                depth[other] = depth[node] + 1
                children[node].append(other)
                queue.append(other)
    children[hub] = _ring_order(children[hub], children, near)
    leaves: dict[str, int] = {}

    def count(node: str) -> int:
        leaves[node] = max(1, sum(count(c) for c in children[node]))
        return leaves[node]

    count(hub)
    angle: dict[str, float] = {hub: 0.0}

    def share(node: str, start: float, span: float) -> None:
        for child in children[node]:
            part = span / len(children[node]) if node == hub else \
                span * leaves[child] / leaves[node]
            angle[child] = start + part / 2
            share(child, start, part)
            start += part

    share(hub, 0.0, 2 * math.pi)
    firsts = sorted(angle[c] for c in children[hub])
    if firsts:
        gaps = [((firsts[(i + 1) % len(firsts)] - a) % (2 * math.pi) or 2 * math.pi, a)
                for i, a in enumerate(firsts)]
        gap, after = max(gaps)
        turn = -math.pi / 2 - (after + gap / 2)
        angle = {n: a + turn for n, a in angle.items()}
    return depth, angle


def _components(names: list[str], near: dict[str, set[str]]) -> list[list[str]]:
    """Groups of linked classes, the biggest first."""
    seen: set[str] = set()
    groups = []
    for name in names:
        if name in seen:
            continue
        group, stack = [], [name]
        seen.add(name)
        while stack:
            node = stack.pop()
            group.append(node)
            for other in near[node] - seen:
                seen.add(other)
                stack.append(other)
        groups.append(group)
    return sorted(groups, key=lambda g: (-len(g), min(names.index(n) for n in g)))


def _ring_order(ring: list[str], children: dict[str, list[str]],
                near: dict[str, set[str]]) -> list[str]:
    """The first ring in the order that puts linked subtrees nearest each other (every order
    tried while there are few; beyond that, as they come)."""
    if len(ring) < 3 or len(ring) > 7:
        return ring
    home: dict[str, str] = {}
    for first in ring:
        stack = [first]
        while stack:
            node = stack.pop()
            home[node] = first
            stack.extend(children[node])
    cross = [(home[a], home[b]) for a in home for b in near[a]
             if b in home and home[a] != home[b] and a < b]

    def cost(candidate: tuple[str, ...]) -> int:
        where = {n: i for i, n in enumerate(candidate)}
        n = len(candidate)
        return sum(min(abs(where[a] - where[b]), n - abs(where[a] - where[b])) for a, b in cross)

    return list(min(itertools.permutations(ring), key=cost))


def _overlapping(spots: dict[str, tuple[float, float]],
                 sizes: dict[str, tuple[float, float, float]]) -> bool:
    """Whether two boxes (with the room above them that ``sizes`` asks for) come too close."""
    items = list(spots.items())
    for i, (a, (xa, ya)) in enumerate(items):
        for b, (xb, yb) in items[i + 1:]:
            wa, ha, ea = sizes[a]
            wb, hb, eb = sizes[b]
            if abs(xa - xb) < (wa + wb) / 2 + 40 and \
                    ya - ha / 2 - ea - 24 < yb + hb / 2 and yb - hb / 2 - eb - 24 < ya + ha / 2:
                return True
    return False


def _clip(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float]:
    """Where the line from box ``a``'s centre towards box ``b``'s leaves box ``a``."""
    (ax, ay, aw, ah), (bx, by) = a[:4], b[:2]
    dx, dy = bx - ax, by - ay
    t = min((aw / 2 + 2) / abs(dx) if dx else math.inf, (ah / 2 + 2) / abs(dy) if dy else math.inf)
    return ax + dx * t, ay + dy * t


def _rect(box: tuple[float, ...]) -> tuple[float, float, float, float]:
    x, y, w, h = box[:4]
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


Point = tuple[float, float]


def _route(a: tuple[float, ...], b: tuple[float, ...],
           obstacles: dict[str, tuple[float, float, float, float]], *ends: str
           ) -> tuple[Point, Point, Point]:
    """A line from box ``a`` to box ``b`` that misses every other box and loop label: straight
    when it can be, else a curve bent to one side, then the other, a little more each time.
    Returns (start, control point, end) of a quadratic curve through the bent midpoint."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = max(math.hypot(dx, dy), 1.0)
    nx, ny = dy / length, -dx / length
    others = [r for name, r in obstacles.items() if name not in ends]
    best = None
    for bend in (0, 50, -50, 100, -100, 150, -150, 200, -200):
        mid = ((a[0] + b[0]) / 2 + nx * bend, (a[1] + b[1]) / 2 + ny * bend)
        start, end = _clip(a, mid), _clip(b, mid)
        control = (2 * mid[0] - (start[0] + end[0]) / 2, 2 * mid[1] - (start[1] + end[1]) / 2)
        best = best or (start, control, end)
        if not any(_hits(r, start, control, end) for r in others):
            return start, control, end
    return best


def _hits(rect: tuple[float, float, float, float], p0: Point, c: Point, p2: Point) -> bool:
    """Whether the quadratic curve comes within a few pixels of ``rect``."""
    x0, y0, x1, y1 = rect
    for step in range(1, 24):
        t = step / 24
        x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t * t * p2[0]
        y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t * t * p2[1]
        if x0 - 6 < x < x1 + 6 and y0 - 6 < y < y1 + 6:
            return True
    return False


def _curve(start: Point, control: Point, end: Point) -> str:
    return (f"M{start[0]:.1f},{start[1]:.1f} "
            f"Q{control[0]:.1f},{control[1]:.1f} {end[0]:.1f},{end[1]:.1f}")


#: Arrows by screen direction, an eighth of a turn apart clockwise from "east" (y grows down).
ARROWS = "→↘↓↙←↖↑↗"


def _edge(diagram: Diagram, route: tuple[Point, Point, Point], forward: list[str],
          backward: list[str], taken: list[tuple[float, float, float, float]]) -> None:
    """One line along ``route``: the properties from its start to its end labelled on one
    side, their inverses on the other, each with an arrow that points the way it goes on
    the screen. A label goes at the middle of the line, or slides along it until it is clear
    of the boxes and labels already in ``taken`` (to which it is added)."""
    p0, c, p2 = route
    diagram.lines.append(Line(_curve(*route), both=bool(backward)))
    for props, side in ((forward, 1), (backward, -1)):
        if not props:
            continue
        lines = _wrap(props, 26)
        first_try = None
        for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8):
            texts, rect = _label(p0, c, p2, t, side, lines)
            first_try = first_try or texts
            if not any(_overlap(rect, other) for other in taken):
                break
        else:
            texts, rect = first_try, None
        if rect:
            taken.append(rect)
        diagram.texts.extend(texts)


def _label(p0: Point, c: Point, p2: Point, t: float, side: int, lines: list[str]
           ) -> tuple[list[Text], tuple[float, float, float, float]]:
    """The label's lines beside the curve at ``t`` (on the left of its direction for side 1,
    the right for -1), with an arrow the way the property goes, and the box they fill."""
    x = (1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t * t * p2[0]
    y = (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t * t * p2[1]
    dx = 2 * (1 - t) * (c[0] - p0[0]) + 2 * t * (p2[0] - c[0])
    dy = 2 * (1 - t) * (c[1] - p0[1]) + 2 * t * (p2[1] - c[1])
    length = max(math.hypot(dx, dy), 1.0)
    octant = round(math.atan2(dy, dx) / (math.pi / 4)) % 8
    lines = [*lines[:-1], f"{lines[-1]} {ARROWS[octant if side == 1 else (octant + 4) % 8]}"]
    nx, ny = side * dy / length, -side * dx / length
    mx, my = x + nx * 8, y + ny * 8
    anchor = "middle" if abs(nx) < 0.5 else ("start" if nx > 0 else "end")
    if ny < -0.5:  # above the line: the last line sits on it
        first = my - 2 - 15 * (len(lines) - 1)
    elif ny > 0.5:  # below it
        first = my + 10
    else:  # beside it, centred
        first = my + 4 - 7.5 * (len(lines) - 1)
    width = max(len(line) for line in lines) * FONT * 0.6
    left = {"start": mx, "middle": mx - width / 2, "end": mx - width}[anchor]
    rect = (left, first - 11, left + width, first + 15 * (len(lines) - 1) + 4)
    return [Text(mx, first + n * 15, line, anchor=anchor, halo=True)
            for n, line in enumerate(lines)], rect


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
