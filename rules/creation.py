"""Character creation from SRD choices: race, scores, skills, background and kit, one step each."""

from __future__ import annotations

import random
import tomllib
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from rules import content, fuzzy
from rules.creature import ABILITIES, Entity
from rules.errors import RulesError
from rules.pregen import BUILDS, STANDARD, Build, Race, character, class_key

POINT_BUY = {8: 0, 9: 1, 10: 2, 11: 3, 12: 4, 13: 5, 14: 7, 15: 9}  # SRD point costs
POINT_BUDGET = 27
STEPS = ("race", "stats", "skills", "bg", "kit", "asi", "favored", "pick")


@dataclass(slots=True)
class Draft:
    """A character being made: the choices so far (JSON-safe, kept in the game state)."""

    name: str
    cls: str
    race: str = ""
    scores: dict[str, int] = field(default_factory=dict)
    skills: list[str] = field(default_factory=list)
    bg: str = "acolyte"
    kit: str = "a"
    asi: list[str] = field(default_factory=list)  # abilities (one point each) or feats
    favored: list[str] = field(default_factory=list)  # a ranger's favored enemy types
    picks: list[str] = field(default_factory=list)  # class feature choices (metamagic...)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Draft:
        return cls(**{k: d[k] for k in ("name", "cls", "race", "scores", "skills", "bg", "kit",
                                        "asi", "favored", "picks") if k in d})


@cache
def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("rules.content").joinpath(name).read_text("utf-8"))


def start(name: str, cls: str) -> Draft:
    return Draft(name, class_key(cls))


def race_choices() -> list[str]:
    """Race and subrace indexes a player may pick (a race with subraces needs one)."""
    out = []
    for r in content.races().values():
        out += list(r["subraces"]) or [r["index"]]
    return sorted(out)


def race(index: str) -> Race:
    """The sheet changes of a race or subrace index; RulesError with the choices if unknown."""
    pick = fuzzy.best_match(index.strip().lower().replace(" ", "-"), race_choices())
    if pick is None:
        raise RulesError(f"no race like {index[:20]!r}; try {', '.join(race_choices())}")
    parent = next(r for r in content.races().values()
                  if pick == r["index"] or pick in r["subraces"])
    sub = parent["subraces"].get(pick, {})
    bonuses = dict(parent["ability_bonuses"])
    for a, n in sub.get("ability_bonuses", {}).items():
        bonuses[a] = bonuses.get(a, 0) + n
    traits = _toml("race_traits.toml")
    got: dict[str, Any] = {"darkvision": 0, "resist": [], "hp_per_level": 0, "skills": []}
    for t in parent["traits"] + sub.get("traits", []):
        for k, v in traits.get(t, {}).items():
            got[k] = got[k] + v if isinstance(v, list) else max(got[k], v)
    return Race(pick, tuple(sorted(bonuses.items())), int(parent["speed"]), got["darkvision"],
                tuple(got["resist"]), got["hp_per_level"], tuple(got["skills"]))


def scores(words: list[str], rng: random.Random | None = None,
           rolled: bool = False) -> dict[str, int]:
    """Six scores in STR DEX CON INT WIS CHA order: the standard array in any order, or a
    point buy (8-15, 27 points); `roll` rolls 4d6 drop the lowest when the table allows."""
    if words == ["roll"]:
        if not rolled or rng is None:
            raise RulesError("rolled scores are a house rule the DM has not turned on")
        return {a: sum(sorted(rng.randint(1, 6) for _ in range(4))[1:]) for a in ABILITIES}
    try:
        vals = [int(w) for w in words]
    except ValueError:
        raise RulesError("scores are six numbers: STR DEX CON INT WIS CHA") from None
    if len(vals) != 6:
        raise RulesError("scores are six numbers: STR DEX CON INT WIS CHA")
    if sorted(vals) != sorted(STANDARD):
        bad = [v for v in vals if v not in POINT_BUY]
        if bad:
            raise RulesError(f"point buy scores are 8-15 (got {bad[0]}); or use 15 14 13 12 10 8")
        spent = sum(POINT_BUY[v] for v in vals)
        if spent > POINT_BUDGET:
            raise RulesError(f"point buy costs {spent} of {POINT_BUDGET} points")
    return dict(zip(ABILITIES, vals, strict=True))


def skills(cls: str, words: list[str], bg: str) -> list[str]:
    """The class's skill picks, checked against its list and count (background ones apart)."""
    choice = content.classes()[cls]["skill_choices"]
    pool = [s for s in choice["from"] if s not in background(bg)["skills"]]
    picks = []
    for w in words:
        hit = fuzzy.best_match(w.lower(), pool)
        if hit is None:
            raise RulesError(f"{cls} skills: {', '.join(s[:5] for s in pool)}")
        if hit not in picks:
            picks.append(hit)
    if len(picks) != int(choice["choose"]):
        raise RulesError(f"pick {choice['choose']} {cls} skills")
    return picks


def improvements(words: list[str], base: dict[str, int]) -> list[str]:
    """Ability score improvement picks, in level order: an ability takes one point
    ("str str" is +2 STR), a feat a whole improvement (the SRD's one feat: grappler,
    which needs STR 13)."""
    feats = content.feats()
    out = []
    for w in words:
        w = w.lower()
        if w in ABILITIES:
            out.append(w)
        elif w in feats:
            need = feats[w]["prerequisites"]
            low = [a for a, n in need.items() if base and base.get(a, 0) < n]
            if low:
                raise RulesError(f"{w} needs {low[0].upper()} {need[low[0]]}")
            out.append(w)
        else:
            raise RulesError(f"improve str dex con int wis cha, or take {', '.join(feats)}")
    return out


def favored_types(cls: str, words: list[str]) -> list[str]:
    """A ranger's favored enemies: up to three SRD creature types, in the order gained
    (1st, 6th and 14th level)."""
    from rules.classfeatures import FAVORED_TYPES

    if cls != "ranger":
        raise RulesError("only a ranger has favored enemies")
    picks = []
    for w in words:
        hit = fuzzy.best_match(w.lower().rstrip("s"), list(FAVORED_TYPES))
        if hit is None:
            raise RulesError(f"favored: {', '.join(FAVORED_TYPES)}")
        if hit not in picks:
            picks.append(hit)
    if not 1 <= len(picks) <= 3:
        raise RulesError("pick 1 to 3 favored enemy types")
    return picks


def background(index: str) -> dict[str, Any]:
    bgs = content.backgrounds()
    pick = fuzzy.best_match(index.strip().lower(), list(bgs))
    if pick is None:
        raise RulesError(f"backgrounds: {', '.join(bgs)}")
    return bgs[pick]


def kit(cls: str, letter: str) -> Build:
    letter = letter.strip().lower()
    if letter == "a":
        return BUILDS[cls]
    opt = _toml("starting_kits.toml").get(cls, {}).get(letter)
    if opt is None:
        raise RulesError("kit a or b")
    return replace(BUILDS[cls], weapons=tuple(opt["weapons"]), armor=opt["armor"] or None,
                   shield=bool(opt["shield"]))


def step(d: Draft, what: str, words: list[str], rng: random.Random | None = None,
         rolled: bool = False) -> str:
    """Apply one creation step to the draft; returns the next prompt (one radio packet)."""
    what = what.lower()
    if what == "race":
        d.race = race(" ".join(words)).index
    elif what == "stats":
        d.scores = scores(words, rng, rolled)
    elif what == "skills":
        d.skills = skills(d.cls, words, d.bg)
    elif what == "bg":
        d.bg = background(" ".join(words))["index"]
    elif what == "asi":
        d.asi = improvements(words, d.scores)
    elif what == "favored":
        d.favored = favored_types(d.cls, words)
    elif what == "kit":
        kit(d.cls, " ".join(words))
        d.kit = " ".join(words).strip().lower()
    elif what == "pick":
        from rules import classfeatures

        d.picks = classfeatures.check_picks(d.cls, words)
    else:
        raise RulesError(f"make NAME {'|'.join(STEPS)} ...")
    return prompt(d)


def prompt(d: Draft) -> str:
    """What to send next, short enough for one packet."""
    n = d.name
    if not d.race:
        return f"{n}: make {n} race " + "|".join(race_choices())
    if not d.scores:
        return f"{n}: scores STR DEX CON INT WIS CHA, 15 14 13 12 10 8 any order or " \
               f"point buy 27: make {n} stats 15 13 14 8 12 10"
    if not d.skills:
        c = content.classes()[d.cls]["skill_choices"]
        pool = [s[:5] for s in c["from"] if s not in background(d.bg)["skills"]]
        return f"{n}: pick {c['choose']}: {','.join(pool)}; make {n} skills ..."[:190]
    return f"{n}: ready ({d.race} {d.cls}, kit {d.kit}). send: join {n} {d.cls}"


def build(d: Draft, level: int = 1, eid: int = 0, extra_asi: int = 0) -> Entity:
    """The character a finished draft makes; RulesError naming the first missing step.
    `extra_asi`: improvements from a multiclass character's other classes."""
    missing = [s for s, ok in (("race", d.race), ("stats", d.scores), ("skills", d.skills))
               if not ok]
    if missing:
        raise RulesError(f"{d.name} still needs {missing[0]}: {prompt(d)}"[:190])
    bg = background(d.bg)
    picks = tuple(d.skills) + tuple(s for s in bg["skills"] if s not in d.skills)
    pc = character(d.name, d.cls, level, eid, scores=d.scores, race=race(d.race),
                   skills=picks, kit=kit(d.cls, d.kit), asi=tuple(d.asi), extra_asi=extra_asi)
    pc.inventory += [e for e in bg["equipment"] if e not in pc.inventory]
    pc.origin = d.to_dict()
    if d.picks:
        from rules import classfeatures

        classfeatures.standing_effects(pc, rebuild=True)  # picked invocations
    return pc


def rolled_max_hp(e: Entity, fresh: Entity, rng: random.Random, hd: int) -> int:
    """HP after a level-up with the hit die (`hd` sides: the class levelled) rolled (house
    rule rolled_hp): the old maximum, plus what the sheet's other changes add, plus a roll
    + CON (at least 1) a new level."""
    fixed_old = levelled(e, e.level).max_hp
    avg = hd // 2 + 1
    gained = sum(max(1, rng.randint(1, hd) + fresh.mod("con")) - (avg + fresh.mod("con"))
                 for _ in range(fresh.level - e.level))
    return max(e.max_hp + fresh.level - e.level, e.max_hp + fresh.max_hp - fixed_old + gained)


def levelled(e: Entity, level: int, cls: str = "",
             origin: dict[str, Any] | None = None) -> Entity:
    """The sheet at a new total level, the levels gained going to `cls` (default: the
    primary class): the same creation choices (or `origin`, the updated ones; or the
    pregenerated build), and the gear the character now carries and wears."""
    from rules import classfeatures, multiclass
    from rules.pregen import armor_class

    by_class = multiclass.class_levels(e)
    gained = level - sum(by_class.values())
    if gained > 0:
        take = cls or e.cls
        by_class[take] = by_class.get(take, 0) + gained
    origin = dict(e.origin if origin is None else origin)
    fresh = _sheet(e, by_class, origin)
    fresh.name, fresh.inventory, fresh.origin = e.name, e.inventory, origin
    own = {w["name"]: w for w in fresh.weapons}
    fresh.weapons = [w for w in fresh.weapons if w.get("monk")] + [
        own.get(w["name"], w) for w in e.weapons if not w.get("monk")]
    for c, n in by_class.items():
        classfeatures.weapon_passives(fresh, c, n)
    if (fresh.armor, fresh.shield) != (e.armor, e.shield):
        fresh.armor, fresh.shield = e.armor, e.shield
        fresh.ac = armor_class(fresh.cls, by_class[fresh.cls], fresh.abilities,
                               e.armor or None, e.shield)
    return fresh


def _sheet(e: Entity, by_class: dict[str, int], origin: dict[str, Any]) -> Entity:
    """A fresh sheet for these class levels: the primary class built at its own level
    (its scores taking every class's improvements), the others added (rules/multiclass)."""
    from rules import levels, multiclass
    from rules.pregen import BUILDS

    primary = e.cls
    extra = sum(levels.asi_count(c, n) for c, n in by_class.items() if c != primary)
    if origin.get("scores"):
        d = Draft.from_dict(origin)
        fresh = build(d, by_class[primary], e.eid, extra)
        race_hp, order = race(d.race).hp_per_level, tuple(d.skills)
    else:
        fresh = character(e.name, primary, by_class[primary], eid=e.eid, extra_asi=extra,
                          asi=tuple(origin.get("asi", ())))
        race_hp, order = 0, BUILDS[primary].skills
    if len(by_class) > 1:
        multiclass.combine(fresh, by_class, order, race_hp)
    return fresh
