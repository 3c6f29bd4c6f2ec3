"""`dungeon srd monster|spell|class NAME`, `dungeon srd spells|monsters`: SRD 5.1 lookups."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "look up an SRD monster, spell or class (forgiving names)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=("monster", "spell", "spells", "monsters", "class"),
                        help="what to look up; `spells`/`monsters` list every one's state; "
                             "`class` lists a class's features by level, mechanised or not")
    parser.add_argument("name", nargs="*", help="a name, index or abbreviation")
    parser.add_argument("--json", action="store_true", help="print the record as JSON")


def _mod(score: int) -> str:
    return f"{(score - 10) // 2:+d}"


def monster_text(m: dict[str, Any]) -> str:
    order = ("str", "dex", "con", "int", "wis", "cha")
    ab = "  ".join(f"{k.upper()} {m['abilities'][k]} ({_mod(m['abilities'][k])})"
                   for k in order if k in m["abilities"])
    speed = ", ".join(f"{k} {v} ft" for k, v in (m.get("speed") or {}).items() if v)
    lines = [f"{m['name']} — {m['size']} {m['type']}, {m.get('alignment', '')}",
             f"AC {m['armor_class']}  HP {m['hit_points']} ({m.get('hit_dice', '')})  "
             f"Speed {speed}", ab]
    for label, key in (("Saves", "saves"), ("Skills", "skills")):
        if m.get(key):
            lines.append(f"{label}: " + ", ".join(f"{k} {v:+d}" for k, v in m[key].items()))
    for label, key in (("Resist", "damage_resistances"), ("Immune", "damage_immunities"),
                       ("Vulnerable", "damage_vulnerabilities"),
                       ("Condition immune", "condition_immunities")):
        if m.get(key):
            lines.append(f"{label}: {', '.join(m[key])}")
    senses = ", ".join(f"{k} {v}" for k, v in (m.get("senses") or {}).items())
    lines.append(f"Senses: {senses}")
    lines.append(f"CR {m['challenge_rating']} ({m['xp']} XP)  prof +{m['proficiency_bonus']}")
    from rules.effects import describe, monsters, registry

    if m.get("special_abilities"):
        played = set(monsters.trait_names(m["index"]))
        lines.append("Traits: " + ", ".join(
            t + (" (in play)" if t in played else "") for t in m["special_abilities"]))
        for t in monsters.trait_names(m["index"]):
            for x in describe.lines(registry.tree(monsters.trait_key(m["index"], t))):
                lines.append(f"  {t}: {x}")
    lines.append("Actions:")
    for a in m.get("actions", []) + m.get("legendary_actions", []):
        lines.append("  " + action_text(a))
        if a.get("kind") != "multiattack":
            extra = [x for x in describe.lines(monsters.action_tree(m["index"], a))
                     if x.startswith(("condition", "effect", "movement", "rule", "ends"))]
            if extra:
                lines.append("    in play: " + "; ".join(extra))
    lines.append("What each does in play (DM: adjudicated by the DM):")
    for row in monsters.abilities(m):
        tag = "" if row["state"] == "mechanised" else " (DM)"
        lines.append(f"  {row['kind']} {row['name']}{tag}: {row['does']}")
    return "\n".join(lines)


def action_text(a: dict[str, Any]) -> str:
    parts = [a["name"] + ":"]
    if a.get("multiattack"):
        parts.append(", ".join(f"{p['count']}x {p['action']}" for p in a["multiattack"]))
    if a.get("attack_bonus") is not None:
        where = f"reach {a['reach']} ft" if a.get("reach") else (
            f"range {a['range'][0]}/{a['range'][1]} ft" if a.get("range") else "")
        parts.append(f"{a['kind']} {a['attack_bonus']:+d} to hit {where}".strip())
    if a.get("save"):
        s = a["save"]
        parts.append(f"DC {s['dc']} {s['ability'].upper()} save" + (" (half)" if s.get("half")
                                                                     else ""))
    dmg = " + ".join(f"{d['dice']} {d.get('type') or ''}".strip() for d in a.get("damage", [])
                     if d.get("dice"))
    if dmg:
        parts.append(dmg)
    if a.get("recharge"):
        parts.append(f"(recharge {'-'.join(str(x) for x in a['recharge'])})")
    if a.get("per_day"):
        parts.append(f"({a['per_day']}/day)")
    return " ".join(parts)


def spell_text(s: dict[str, Any]) -> str:
    from rules.effects import describe, spellbook

    sd = spellbook.spell_def(s["index"])
    lvl = "cantrip" if s["level"] == 0 else f"level {s['level']}"
    lines = [f"{s['name']} — {lvl} {s['school']}" + (" (ritual)" if s.get("ritual") else ""),
             f"Cast {s['casting_time']}, range {s['range']}, {s['duration']}"
             + (", concentration" if s.get("concentration") else ""),
             "Classes: " + ", ".join(s.get("classes", [])),
             "Components: " + ", ".join(s.get("components", []))
             + (" (not in magical silence)" if "V" in s.get("components", [])
                else "")]
    if sd.adjudicated:
        lines.append(f"In play: adjudicated by the DM: {sd.adjudicated}")
        return "\n".join(lines)
    lines.append("In play: mechanised" + (
        " (tracked: duration and concentration by the engine, the benefit told to the table)"
        if sd.tracked_only else ""))
    lines += ["  " + x for x in describe.lines(sd.tree, s)]
    if sd.rounds > 0 and not (s["duration"].lower().startswith("instant")):
        lines.append(f"  lasts {sd.rounds} rounds" + (" (concentration)"
                                                       if s.get("concentration") else ""))
    return "\n".join(lines)


def monsters_json() -> dict[str, Any]:
    """Every monster's actions, legendary actions, traits and reactions as objects
    {name, kind, state: mechanised | adjudicated, does}, and the totals."""
    from rules import content
    from rules.effects import monsters

    rows = []
    counts = {"mechanised": 0, "adjudicated": 0}
    for idx, m in sorted(content.monsters().items()):
        abilities = monsters.abilities(m)
        for a in abilities:
            counts[a["state"]] += 1
        rows.append({"index": idx, "name": m["name"], "abilities": abilities})
    return {**counts, "total": sum(counts.values()), "monsters": rows}


def spells_json() -> dict[str, Any]:
    from rules import content
    from rules.effects import spellbook

    book = spellbook.book()
    rows = [{"index": k, "name": d.name, "level": content.spells()[k]["level"],
             "state": "adjudicated" if d.adjudicated else "mechanised",
             **({"reason": d.adjudicated} if d.adjudicated else
                {"effect": "tracked" if d.tracked_only else "rules"})}
            for k, d in sorted(book.items())]
    mech = sum(r["state"] == "mechanised" for r in rows)
    tracked = sum(r.get("effect") == "tracked" for r in rows)
    return {"total": len(rows), "mechanised": mech, "adjudicated": len(rows) - mech,
            "tracked_only": tracked, "spells": rows}


def class_json(index: str) -> dict[str, Any]:
    """A class's features by level (its SRD subclass included), each mechanised or not."""
    from rules import classfeatures, content

    c = content.classes()[index]
    rows = classfeatures.rows(index)
    mech = sum(r["mechanised"] for r in rows)
    return {"class": index, "subclass": (c.get("subclass") or {}).get("index", ""),
            "proficiencies": c["proficiencies"],
            "multiclass_proficiencies": c["multiclass_proficiencies"],
            "features_total": len(rows), "mechanised_count": mech,
            "adjudicated_count": len(rows) - mech, "features": rows}


def class_text(doc: dict[str, Any]) -> str:
    lines = [f"{doc['class']} ({doc['subclass']}): {doc['mechanised_count']} of "
             f"{doc['features_total']} features mechanised",
             "proficient: " + ", ".join(doc["proficiencies"]) + "; as a later class: "
             + (", ".join(doc["multiclass_proficiencies"]) or "none")]
    for r in doc["features"]:
        tag = f"[{r['subclass']}] " if r["subclass"] else ""
        what = (f"use {r['use']}" if "use" in r else r.get("table") or
                ("passive " + ",".join(r["passive"]) if "passive" in r else
                 f"DM: {r.get('prompt', '')}"))
        lines.append(f"{r['level']:>2} {tag}{r['name']}: {what}")
    return "\n".join(lines)


def _class(name: str, as_json: bool) -> int:
    from rules import content
    from rules.errors import RulesError

    try:
        index = content.cls(name)["index"]
    except RulesError as err:
        print(f"dungeon srd: {err}", file=sys.stderr)
        return 1
    doc = class_json(index)
    print(json.dumps(doc, sort_keys=True) if as_json else class_text(doc))
    return 0


def run(args: argparse.Namespace) -> int:
    from rules import content
    from rules.errors import RulesError
    if args.kind == "class":
        if not args.name:
            print("dungeon srd: name a class", file=sys.stderr)
            return 2
        return _class(" ".join(args.name), args.json)
    if args.kind == "monsters":
        doc = monsters_json()
        if args.json:
            print(json.dumps(doc, sort_keys=True))
        else:
            print(f"{doc['mechanised']} of {doc['total']} monster actions, traits and "
                  "reactions mechanised")
        return 0
    if args.kind == "spells":
        doc = spells_json()
        if args.json:
            print(json.dumps(doc, sort_keys=True))
        else:
            for r in doc["spells"]:
                print(f"{r['name']:<32} {r['state']}" + (f": {r['reason']}" if
                                                          r.get("reason") else ""))
            print(f"{doc['mechanised']} of {doc['total']} mechanised")
        return 0
    name = " ".join(args.name)
    if not name:
        print(f"dungeon srd: name a {args.kind}", file=sys.stderr)
        return 2
    try:
        if args.kind == "monster":
            found = content.resolve_monster(name)
            rec = found.record
            if found.why:
                print(f"dungeon srd: {found.note(name)}", file=sys.stderr)
        else:
            rec = content.spell(name)
    except content.AmbiguousName as err:
        print(f"dungeon srd: '{name[:24]}' matches {len(err.candidates)} monsters; name one:",
              file=sys.stderr)
        for cand in err.candidates:
            print(f"  {cand}", file=sys.stderr)
        return 1
    except RulesError as err:
        msg = str(err)
        if "did you mean" not in msg:
            from rules import fuzzy

            table = content.monsters() if args.kind == "monster" else content.spells()
            near = fuzzy.suggest(name, [r["name"] for r in table.values()], 3)
            if near:
                msg += "; did you mean " + ", ".join(near) + "?"
        print(f"dungeon srd: {msg}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(rec, sort_keys=True))
    elif args.kind == "monster":
        print(monster_text(rec))
    else:
        print(spell_text(rec))
    return 0
