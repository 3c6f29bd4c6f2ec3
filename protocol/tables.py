"""String code tables: content names interned as small integers for the binary codec.

Each table is a sorted tuple, so its codes follow from the content alone and node and
client agree whenever they ship the same content. SRD vocabularies that never change
(abilities, damage types, conditions, skills, classes) are fixed here, so their codes
never depend on content; spells, monsters and weapons come from rules.content.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from functools import cache

log = logging.getLogger(__name__)

ABILITIES = ("str", "dex", "con", "int", "wis", "cha")
DAMAGE_TYPES = (
    "acid", "bludgeoning", "cold", "fire", "force", "lightning", "necrotic", "piercing",
    "poison", "psychic", "radiant", "slashing", "thunder",
)
CONDITIONS = (
    "blinded", "charmed", "deafened", "exhaustion", "frightened", "grappled", "incapacitated",
    "invisible", "paralyzed", "petrified", "poisoned", "prone", "restrained", "stunned",
    "unconscious",
)
SKILLS = (
    "acrobatics", "animal-handling", "arcana", "athletics", "deception", "history", "insight",
    "intimidation", "investigation", "medicine", "nature", "perception", "performance",
    "persuasion", "religion", "sleight-of-hand", "stealth", "survival",
)
ACTIONS = (
    "dash", "disengage", "dodge", "help", "hide", "search", "grapple", "shove", "use",
    "second wind", "rage", "action surge", "bardic inspiration", "channel divinity",
    "cunning action", "lay on hands", "sneak attack", "wild shape", "ki", "flee", "approach",
    "end", "escape", "ready", "opportunity attack", "legendary action", "recharge",
)
BANDS = ("engaged", "near", "far")
QUERIES = ("help", "hp", "sheet", "inv", "status", "spells")
RESTS = ("short", "long")
DM_OPS = (
    "start_combat", "end_combat", "next_turn", "prev_turn", "damage", "heal", "condition",
    "spawn", "narrate", "set_roll", "edit_sheet", "revert_sheet", "house_rule", "level_up",
    "force_action",
)
CLASSES = (
    "barbarian", "bard", "cleric", "druid", "fighter", "monk", "paladin", "ranger", "rogue",
    "sorcerer", "warlock", "wizard",
)
DIRECTIONS = ("n", "s", "e", "w", "u", "d", "north", "south", "east", "west", "up", "down")


def _both_cases(words: Iterable[str]) -> set[str]:
    """Names appear as indexes ("fire-bolt"), display names ("Fire Bolt") and lowercase text."""
    out: set[str] = set()
    for w in words:
        out.update((w, w.lower()))
    return out


def _content(kind: str) -> list[str]:
    """Index and display name of every item of one content kind; empty if not available."""
    try:
        import rules.content as content  # a sibling pure package; imported lazily

        items = getattr(content, kind)()
    except Exception as err:  # content missing or broken: the codec still works, less compactly
        log.debug("content %s unavailable: %s", kind, err)
        return []
    names: list[str] = []
    if isinstance(items, dict):
        for key, item in items.items():
            names.append(str(key))
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
    else:
        names.extend(str(x) for x in items)
    return names


def _table(*parts: Iterable[str]) -> tuple[str, ...]:
    merged: set[str] = set()
    for p in parts:
        merged |= _both_cases(p)
    return tuple(sorted(merged))


@cache
def tables() -> dict[str, tuple[str, ...]]:
    """Every code table by name, built once."""
    spells = _content("spells")
    monsters = _content("monsters")
    weapons = _content("weapons")
    skills = _table(SKILLS, [f"{a} save" for a in ABILITIES],
                    [f"{a} check" for a in ABILITIES], ABILITIES, ["initiative", "death save"])
    return {
        # closed SRD vocabularies: fixed here, so their codes never move with content
        "damage": _table(DAMAGE_TYPES),
        "condition": _table(CONDITIONS),
        "skill": skills,
        "ability": _table(ABILITIES),
        "spell": _table(spells),
        "monster": _table(monsters),
        "weapon": _table(weapons),
        # what an attack was made "using": a weapon, a monster action or a spell
        "using": _table(weapons, spells, _monster_actions()),
        # ActionTaken names standard actions, features, weapons and monster actions
        "action": _table(ACTIONS, weapons, _monster_actions()),
        "band": tuple(BANDS),
        "query": tuple(QUERIES),
        "rest": tuple(RESTS),
        "dm_op": tuple(DM_OPS),
        "class": _table(CLASSES),
        "exit": _table(DIRECTIONS),
        "item": _table(weapons, ACTIONS, _content("armor")),
        "text": (),  # free text (say, narration) is always literal
    }


def _monster_actions() -> list[str]:
    try:
        import rules.content as content

        mons = content.monsters()
    except Exception:
        return []
    names: set[str] = set()
    for m in mons.values():
        for a in m.get("actions", []) + m.get("legendary_actions", []):
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                names.add(a["name"])
    return sorted(names)


@cache
def index() -> dict[str, dict[str, int]]:
    """Reverse maps: table name -> string -> code (codes start at 1; 0 means literal)."""
    return {name: {s: i + 1 for i, s in enumerate(t)} for name, t in tables().items()}


@cache
def digest() -> bytes:
    """4 bytes identifying the tables, exchanged in hello/welcome so mismatches show early."""
    h = hashlib.sha256()
    for name, t in sorted(tables().items()):
        h.update(name.encode())
        h.update(b"\x00".join(s.encode() for s in t))
        h.update(b"\x01")
    return h.digest()[:4]
