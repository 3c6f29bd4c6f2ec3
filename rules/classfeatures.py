"""Every SRD class and subclass feature: how it plays (class_features.toml), and its passives."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from rules import content, levels
from rules.creature import ABILITIES, Entity
from rules.effects.records import Effect, level_step
from rules.errors import RulesError

TABLE_RULES = frozenset({"asi", "extra_attack", "spellcasting", "subclass", "unarmored_defense",
                         "unarmored_movement", "fast_movement", "martial_arts", "sneak_attack",
                         "cunning_action", "song_of_rest"})
PASSIVE_KEYS = frozenset({"save_prof", "resist", "immune", "cond_immune", "expertise",
                          "half_prof", "extra_skills", "ability_bonus", "ability_max",
                          "hp_per_level", "unarmored_ac", "ac_armored", "crit", "magic_unarmed",
                          "spells", "round_up", "ranged_atk", "initiative_adv", "tags",
                          "crit_dice", "effect", "aura_radius", "ancestry", "ancestries",
                          "metamagic", "rest_effect", "invocations", "proficiencies"})
# A ranger's favored enemies when creation named none: one type at 1st level, two at 6th,
# three at 14th (the SRD's counts), types the SRD dungeons field often.
DEFAULT_FAVORED = ((1, "undead"), (6, "fiend"), (14, "monstrosity"))


@cache
def table() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("class_features.toml").read_text("utf-8")
    return tomllib.loads(text)


def how(index: str) -> tuple[str, Any]:
    """(kind, detail) for a feature index: use/table/passive/adjudicate; RulesError if unlisted."""
    for kind in ("use", "table", "passive", "adjudicate"):
        if index in table()[kind]:
            return kind, table()[kind][index]
    raise RulesError(f"feature {index!r} is not in class_features.toml")


def rows(cls: str) -> list[dict[str, Any]]:
    """The class's features by level, each with `mechanised` and how it plays."""
    from rules.effects import featurebook

    by_key = {f.key: f for f in featurebook.book().values()}
    out = []
    for f in content.classes()[cls]["features"]:
        kind, detail = how(f["index"])
        row: dict[str, Any] = {"level": f["level"], "name": f["name"], "index": f["index"],
                               "subclass": f["subclass"], "mechanised": kind != "adjudicate",
                               "how": kind}
        if kind == "use":
            row["use"] = by_key[detail].name
        elif kind == "table":
            row["table"] = detail
        elif kind == "passive":
            row["passive"] = sorted(detail)
        else:
            row["prompt"] = detail
        out.append(row)
    return out


def passives(cls: str, level: int) -> list[dict[str, Any]]:
    """The passive sheet changes a class has up to this level, in level order."""
    return [p for _index, p in named_passives(cls, level)]


def named_passives(cls: str, level: int) -> list[tuple[str, dict[str, Any]]]:
    """(feature index, sheet changes) for the passives up to this level, in level order."""
    return [(f["index"], table()["passive"][f["index"]]) for f in content.classes()[cls]["features"]
            if f["level"] <= level and f["index"] in table()["passive"]]


FAVORED_TYPES = ("aberration", "beast", "celestial", "construct", "dragon", "elemental", "fey",
                 "fiend", "giant", "humanoid", "monstrosity", "ooze", "plant", "undead")


def favored(e: Entity) -> tuple[str, ...]:
    """The creature types a ranger chose as favored enemies (creation's `favored` step), as
    many as its level allows, or the defaults for its level."""
    count = sum(1 for lvl, _t in DEFAULT_FAVORED if lvl <= e.level)
    chosen = e.origin.get("favored") if e.origin else None
    return tuple(chosen[:count]) if chosen else tuple(t for _l, t in DEFAULT_FAVORED[:count])


def standing_effect(e: Entity, name: str, spec: dict[str, Any], level: int) -> Effect:
    """A passive's standing effect (an aura, a damage rider), its numbers fixed from the
    sheet: `X_by_level` steps, `save_mod`/`die_mod` (an ability's modifier, at least 1),
    and tags (`vs_favored`: only against the ranger's favored enemies, read at each hit)."""
    vals = dict(spec)
    for k in [k for k in vals if k.endswith("_by_level")]:
        vals[k.removesuffix("_by_level")] = level_step(vals.pop(k), level)
    if "save_mod" in vals:
        vals["save"] = str(max(1, e.mod(vals.pop("save_mod"))))
    if "die_mod" in vals:
        vals["die"] = str(max(1, e.mod(vals.pop("die_mod"))))
    vals["tags"] = tuple(vals.get("tags", ())) + ("permanent",)
    return Effect(name, e.eid, **{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in vals.items()})


def improve_abilities(ab: dict[str, int], cls: str, level: int) -> dict[str, int]:
    """Ability scores after passive bonuses (Primal Champion: +4 STR and CON, up to 24)."""
    out = dict(ab)
    for p in passives(cls, level):
        for a, n in p.get("ability_bonus", {}).items():
            out[a] = min(int(p.get("ability_max", 20)), out[a] + int(n))
    return out


def apply_passives(e: Entity, cls: str, level: int, skill_order: tuple[str, ...]) -> None:
    """Apply the passive features to a freshly built sheet (abilities already final)."""
    skill_ab = content.skills()
    _standing(e, cls, level)
    for p in passives(cls, level):
        for k in ("save_prof", "resist", "immune", "cond_immune"):
            lst = getattr(e, k)
            lst += [x for x in p.get(k, ()) if x not in lst]
        if p.get("hp_per_level"):
            e.max_hp += int(p["hp_per_level"]) * level
            e.hp = e.max_hp
        top = max((k + 1 for k, n in enumerate(e.max_slots) if n), default=0)
        for lvl, s in p.get("spells", ()):
            sp = content.spells().get(s)
            if lvl <= level and s not in e.spells and sp and sp["level"] <= top:
                e.spells.append(s)
        for s in [x for x in skill_ab if x not in e.skills][:int(p.get("extra_skills", 0))]:
            e.skills[s] = 0  # proficient; the bonus is set below with the others
    for name, d in levels.resource_table().get(cls, {}).items():
        if d.get("spell") and name in e.res_max and d["spell"] not in e.spells:
            e.spells.append(d["spell"])  # cast with the resource, above the slots it has
    weapon_passives(e, cls, level)
    _skill_bonuses(e, cls, level, skill_order)


def after_long_rest(e: Entity) -> None:
    """Effects a feature gives at the end of each long rest (Tranquility: sanctuary)."""
    if e.kind != "pc" or not e.cls:
        return
    for p in held_passives(e):
        if "rest_effect" in p:
            fx = p["rest_effect"]
            e.effects[:] = [x for x in e.effects if x.name != fx["name"]]
            e.effects.append(Effect(str(fx["name"]), e.eid, tags=tuple(fx.get("tags", ()))))


def class_levels(e: Entity) -> dict[str, int]:
    """Class -> levels held; a single-class character is all in `cls`."""
    if e.levels:
        return dict(e.levels)
    return {e.cls: e.level} if e.cls and e.level else {}


def held_passives(e: Entity) -> list[dict[str, Any]]:
    """The passives of every class the character holds, each at that class's own level."""
    return [p for cls, n in class_levels(e).items() for p in passives(cls, n)]


def standing_effects(e: Entity, *, rebuild: bool = False) -> None:
    """The switches passive features throw (evasion, cutting words...) as standing effects,
    kept by rests; run again on a sheet that travelled without its effects (an import), or
    with `rebuild` once creation choices (picked invocations) are on the sheet."""
    if not e.cls:
        return
    if rebuild:
        e.effects[:] = [x for x in e.effects if not x.has("permanent")]
    for cls, level in class_levels(e).items():
        _standing(e, cls, level)


def _standing(e: Entity, cls: str, level: int) -> None:
    """One class's standing effects at its own level (a multiclass sheet has several)."""
    for index, p in named_passives(cls, level):
        if "effect" in p:
            fx = standing_effect(e, index, p["effect"], level)
            e.effects[:] = [x for x in e.effects if x.name != index] + [fx]
        for x in e.effects if p.get("aura_radius") else ():
            x.radius = max(x.radius, int(p["aura_radius"])) if x.radius else 0
        for tag in (_invoked(e, p, cls, level) if "invocations" in p else p.get("tags", ())):
            if not any(x.has(tag) for x in e.effects):
                e.effects.append(Effect(tag.replace("_", " "), e.eid, tags=(tag, "permanent")))


def _invoked(e: Entity, p: dict[str, Any], cls: str, level: int) -> list[str]:
    """Eldritch Invocations: the switches of those picked at creation, as many as the
    warlock knows (class table invocations_known at the class's own level), the rest
    filled from the defaults."""
    known = int(levels.row(cls, level)["class_specific"].get("invocations_known", 0))
    by_name = p["invocations"]
    got = [by_name[w] for w in e.origin.get("picks", ()) if w in by_name][:known]
    got += [t for t in p.get("tags", ()) if t not in got][:max(0, known - len(got))]
    return got


def ancestry(e: Entity) -> str:
    """The damage type of the character's Dragon Ancestor: the colour picked at creation
    (`make NAME pick blue`), else the default in class_features.toml; '' without one."""
    table = next((p for p in held_passives(e) if "ancestries" in p), None)
    if table is None:
        return ""
    colours = table["ancestries"]
    colour = next((w for w in e.origin.get("picks", ()) if w in colours), table["ancestry"])
    return str(colours[colour])


def check_picks(cls: str, words: list[str]) -> list[str]:
    """A creation step's class feature choices: metamagic options (the first ones known
    first) and a Dragon Ancestor colour; RulesError (one line) naming the choices."""
    from rules.metamagic import COSTS

    ps = passives(cls, 20)
    colours = next((p["ancestries"] for p in ps if "ancestries" in p), {})
    options = tuple(COSTS) if any("metamagic" in p for p in ps) else ()
    options += tuple(w for p in ps for w in p.get("invocations", ()))
    if not colours and not options:
        raise RulesError(f"a {cls} has no feature choices to pick")
    out: list[str] = []
    for w in (x.lower() for x in words):
        if w not in colours and w not in options:
            raise RulesError(f"{cls} picks: {' '.join([*options, *colours])}"[:190])
        if w not in out:
            out.append(w)
    if sum(w in colours for w in out) > 1:
        raise RulesError("one dragon ancestor")
    return out


def weapon_passives(e: Entity, cls: str, level: int) -> None:
    """Weapon numbers from features (crit range, magic unarmed strikes, Archery); setting,
    not adding, so it can run again on a levelled sheet."""
    for p in passives(cls, level):
        for w in e.weapons:
            if p.get("crit"):
                w["crit"] = int(p["crit"])
            if p.get("magic_unarmed") and w.get("monk"):
                w["magical"] = True
            if p.get("ranged_atk") and w["kind"] == "ranged":
                w["atk"] = int(p["ranged_atk"])
            if p.get("crit_dice") and w["kind"] == "melee":
                w["crit_dice"] = int(p["crit_dice"])


def _skill_bonuses(e: Entity, cls: str, level: int, order: tuple[str, ...]) -> None:
    skill_bonuses(e, passives(cls, level), order)


def skill_bonuses(e: Entity, ps: list[dict[str, Any]], order: tuple[str, ...]) -> None:
    """Skill totals: proficient skills add the bonus, expertise doubles it for the first
    skills in the build's order, half proficiency fills the unskilled ones. `ps`: the
    passives of every class the character has levels in."""
    expert = sum(int(p.get("expertise", 0)) for p in ps)
    half: set[str] = set()
    up = False
    for p in ps:
        hp = p.get("half_prof", ())
        half |= set(ABILITIES) if hp == "all" else set(hp)
        up = up or bool(p.get("round_up"))
    skill_ab = content.skills()
    ranked = [s for s in order if s in e.skills] + [s for s in e.skills if s not in order]
    for i, s in enumerate(ranked):
        e.skills[s] = e.mod(skill_ab.get(s, "wis")) + e.prof * (2 if i < expert else 1)
    if half:
        bump = (e.prof + 1) // 2 if up else e.prof // 2
        for s, ab in skill_ab.items():
            if s not in e.skills and ab in half:
                e.skills[s] = e.mod(ab) + bump
