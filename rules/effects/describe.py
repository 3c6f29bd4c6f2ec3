"""What an effect tree does in play, in short lines a DM reads instead of the book."""

from __future__ import annotations

from typing import Any

from rules.effects import nodes as n
from rules.effects.area import targets_in_area


def _dice(part: n.Part, spell: dict[str, Any] | None, what: str = "damage") -> str:
    if part.dice != "spell":
        d = part.dice
    else:
        rec = (spell or {}).get(what) or {}
        table = rec.get("slots") or rec.get("character_levels") or {}
        d = table[min(table, key=int)] if table else "?"
        if rec.get("character_levels"):
            d += " (grows with level)"
    if part.per_level:
        d += f" +{part.per_level}/slot above"
    if part.max_dice:
        d += f" (max {part.max_dice} dice)"
    if part.bonus_vs:
        d += f" +{part.bonus_dice} vs {'/'.join(part.bonus_vs)}"
    return d


def lines(tree: n.Tree, spell: dict[str, Any] | None = None) -> list[str]:
    out: list[str] = []
    for node in n.walk(tree):
        if isinstance(node, n.Area):
            out.append(f"area: {node.size} ft {node.shape}, "
                       f"{targets_in_area(node.shape, node.size)} creatures")
        elif isinstance(node, n.Target) and node.who != "enemy":
            out.append(f"targets: {node.who}" + (f" (up to {node.max})" if node.max > 1 else ""))
        elif isinstance(node, n.Attack):
            bonus = "spell attack" if node.bonus is None else f"{node.bonus:+d} to hit"
            rays = f", {node.rays} attacks" if node.rays > 1 else ""
            out.append(f"attack: {node.kind} {bonus}{rays}")
        elif isinstance(node, n.Save):
            dc = f"DC {node.dc} " if node.dc else ""
            out.append(f"save: {dc}{node.ability.upper()}"
                       + (", half damage on a success" if node.half else ""))
        elif isinstance(node, n.Damage):
            times = f"{node.times}x " if node.times > 1 else ""
            dtype = ((spell or {}).get("damage") or {}).get("type") or "force"
            out.append("damage: " + times + " + ".join(
                f"{_dice(p, spell)} {dtype if p.type == 'spell' else p.type}"
                for p in node.parts))
        elif isinstance(node, n.Heal):
            out.append(f"heal: {_dice(node.part, spell, 'heal')}")
        elif isinstance(node, n.TempHP):
            out.append(f"temp HP: {_dice(node.part, spell, 'heal')}")
        elif isinstance(node, n.Condition):
            out.append(("ends: " if node.remove else "condition: ") + node.name
                       + (" (save at end of each turn)" if node.end_save else "")
                       + (" (save again when harmed)" if node.harm_save else ""))
        elif isinstance(node, n.Text):
            out.append(f"tells the table: {node.text}")
        elif isinstance(node, n.Ongoing):
            vals = ", ".join(f"{k} {'/'.join(map(str, v)) if isinstance(v, tuple) else v}"
                             for k, v in node.values)
            who = "caster" if node.self else "target"
            out.append(f"effect on {who}: {vals or node.name or 'ongoing'}"
                       + (", repeats each turn" if node.tick else "")
                       + (", on the next weapon hit" if node.on_hit else ""))
        elif isinstance(node, n.Move):
            out.append(f"movement: {node.how}")
        elif isinstance(node, n.Summon):
            out.append(f"summon: {node.name} ({node.dice} {node.dtype}), "
                       f"bonus action `use {node.name}`")
        elif isinstance(node, n.Special):
            from rules.effects.specials import SPECIALS

            doc = " ".join((SPECIALS[node.name].__doc__ or "").split()).rstrip(".")
            out.append(f"rule: {node.name}" + (f" ({doc})" if doc else ""))
        elif isinstance(node, n.Ref):
            name = node.key.rsplit(":", 1)[-1]
            out.append(f"plus its {name.removesuffix('@ride')} trait" if name.endswith("@ride")
                       else f"uses: {name}")
        elif isinstance(node, n.Counter):
            out.append(f"spends: {node.resource}")
    return list(dict.fromkeys(out))
