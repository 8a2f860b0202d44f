"""Ring math on flat coordinate arrays (``array('d')``, ``dim`` ordinates a vertex): signed
area, point in ring, and grouping rings into polygons by containment. Pure Python: no QGIS.
"""

from __future__ import annotations

from array import array
from operator import mul

__all__ = ["organize_rings", "signed_area"]


def signed_area(flat: array, dim: int) -> float:
    """Return twice the signed area of a closed ring (positive: counter-clockwise)."""
    xs = flat[0::dim]
    ys = flat[1::dim]
    return sum(map(mul, xs[:-1], ys[1:])) - sum(map(mul, xs[1:], ys[:-1]))


def _point_in_ring(px: float, py: float, xs: array, ys: array) -> int:
    """Return 1 inside, 0 outside, -1 on the boundary (even-odd rule)."""
    inside = False
    x1, y1 = xs[0], ys[0]
    for x2, y2 in zip(xs[1:], ys[1:]):
        if (y1 > py) != (y2 > py):
            xint = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            if xint == px:
                return -1
            if px < xint:
                inside = not inside
        elif y1 == py == y2 and min(x1, x2) <= px <= max(x1, x2):
            return -1
        x1, y1 = x2, y2
    return 1 if inside else 0


def organize_rings(flats: list[array], dim: int) -> list[list[int]]:
    """Group rings into polygons by containment, whatever their order or orientation.

    Returns lists of ring indices, each an exterior followed by its holes: a ring inside an
    odd number of rings is a hole of the smallest ring holding it; the others are exteriors
    (islands in holes included). Polygons come in the order of their exterior ring.
    """
    n = len(flats)
    xs = [f[0::dim] for f in flats]
    ys = [f[1::dim] for f in flats]
    areas = [abs(signed_area(f, dim)) for f in flats]
    boxes = [(min(x), min(y), max(x), max(y)) for x, y in zip(xs, ys)]
    order = sorted(range(n), key=lambda i: -areas[i])
    depth = [0] * n
    parent: list[int | None] = [None] * n
    for rank, i in enumerate(order):
        bx0, by0, bx1, by1 = boxes[i]
        for j in reversed(order[:rank]):
            cx0, cy0, cx1, cy1 = boxes[j]
            if bx0 < cx0 or by0 < cy0 or bx1 > cx1 or by1 > cy1:
                continue
            if _ring_inside(xs[i], ys[i], xs[j], ys[j]):
                parent[i] = j
                depth[i] = depth[j] + 1
                break
    polygons: dict[int, list[int]] = {}
    for i in range(n):
        if depth[i] % 2 == 0:
            polygons.setdefault(i, [i])
    for i in range(n):
        if depth[i] % 2 == 1:
            polygons[parent[i]].append(i)  # type: ignore[index]
    return [polygons[i] for i in sorted(polygons)]


def _ring_inside(ixs: array, iys: array, oxs: array, oys: array) -> bool:
    """True when ring i lies inside ring o (rings do not cross; they may touch)."""
    for px, py in zip(ixs, iys):
        where = _point_in_ring(px, py, oxs, oys)
        if where >= 0:
            return where == 1
    # every vertex on the other ring's boundary: inside when a mid-edge point is
    for k in range(len(ixs) - 1):
        where = _point_in_ring((ixs[k] + ixs[k + 1]) / 2, (iys[k] + iys[k + 1]) / 2, oxs, oys)
        if where >= 0:
            return where == 1
    return True

