"""The room graph drawn as text: rooms placed on a grid by their exits' directions, the party's room marked."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text

_STEP: dict[str, tuple[int, int]] = {
    "n": (0, -1), "s": (0, 1), "e": (1, 0), "w": (-1, 0), "u": (1, -1), "d": (1, 1),
}
_RING = [(dx, dy) for r in range(1, 6) for dx in range(-r, r + 1) for dy in range(-r, r + 1)
         if max(abs(dx), abs(dy)) == r]
CELL = 4  # "[12]"
GAP = 2  # "──"


def layout(rooms: list[dict[str, Any]]) -> dict[int, tuple[int, int]]:
    """Grid positions by breadth-first walk; a clash (stairs folding back) takes the nearest free cell."""
    if not rooms:
        return {}
    by_id = {r["id"]: r for r in rooms}
    start = min(by_id)
    pos: dict[int, tuple[int, int]] = {start: (0, 0)}
    taken = {(0, 0)}
    todo = deque([start])
    while todo:
        rid = todo.popleft()
        x, y = pos[rid]
        for ex in by_id[rid].get("exits", []):
            to = ex.get("to")
            if to in pos or to not in by_id:
                continue
            dx, dy = _STEP.get(str(ex.get("dir", "")).lower()[:1], (1, 0))
            want = (x + dx, y + dy)
            if want in taken:
                want = next((x + dx + ox, y + dy + oy) for ox, oy in _RING
                            if (x + dx + ox, y + dy + oy) not in taken)
            pos[to] = want
            taken.add(want)
            todo.append(to)
    for rid in by_id:  # rooms no exit reaches still get a place
        if rid not in pos:
            spot = max(taken, key=lambda p: (p[1], p[0]))
            pos[rid] = (spot[0] + 1, spot[1])
            taken.add(pos[rid])
    minx = min(p[0] for p in pos.values())
    miny = min(p[1] for p in pos.values())
    return {rid: (x - minx, y - miny) for rid, (x, y) in pos.items()}


def draw(rooms: list[dict[str, Any]], here: int | None, party_rooms: set[int],
         foe_rooms: set[int]) -> Text:
    """Rooms as [id] cells joined by ── and │ where the exits run between neighbouring cells."""
    pos = layout(rooms)
    if not pos:
        return Text("no map", style="dim")
    w = max(x for x, _ in pos.values()) + 1
    h = max(y for _, y in pos.values()) + 1
    cols, rows = w * (CELL + GAP), h * 2 - 1
    grid: list[list[tuple[str, str]]] = [[(" ", "")] * cols for _ in range(rows)]
    at = {p: rid for rid, p in pos.items()}
    for r in rooms:
        x, y = pos[r["id"]]
        for ex in r.get("exits", []):
            to = ex.get("to")
            if to not in pos:
                continue
            tx, ty = pos[to]
            if ty == y and tx == x + 1:
                for i in range(GAP):
                    grid[y * 2][x * (CELL + GAP) + CELL + i] = ("─", "grey50")
            elif tx == x and ty == y + 1:
                grid[y * 2 + 1][x * (CELL + GAP) + 1] = ("│", "grey50")
    for (x, y), rid in at.items():
        label = f"{rid:>2}"
        style = ("bold reverse yellow" if rid == here else "bold red" if rid in foe_rooms
                 else "bold cyan" if rid in party_rooms else "")
        cells = ["[", label[0], label[1], "]"]
        for i, ch in enumerate(cells):
            grid[y * 2][x * (CELL + GAP) + i] = (ch, style)
    out = Text()
    for n, row in enumerate(grid):
        if n:
            out.append("\n")
        for ch, style in row:
            out.append(ch, style=style)
    out.rstrip()
    return out


def unlinked(rooms: list[dict[str, Any]]) -> list[str]:
    """Exits the grid cannot draw as a straight neighbour link, as "6d7" notes under the map."""
    pos = layout(rooms)
    notes = []
    for r in rooms:
        x, y = pos.get(r["id"], (0, 0))
        for ex in r.get("exits", []):
            to = ex.get("to")
            if to not in pos or to < r["id"]:
                continue
            tx, ty = pos[to]
            if not ((ty == y and abs(tx - x) == 1) or (tx == x and abs(ty - y) == 1)):
                notes.append(f"{r['id']}{ex.get('dir', '')}{to}")
    return notes
