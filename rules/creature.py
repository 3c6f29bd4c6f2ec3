"""Creatures: one mutable Entity record for characters and monsters, plus their derived numbers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from rules.effects.records import DEFERS_DEATH, Cond, Effect

ABILITIES = ("str", "dex", "con", "int", "wis", "cha")
CONDITIONS = (
    "blinded", "charmed", "deafened", "exhaustion", "frightened", "grappled", "incapacitated",
    "invisible", "paralyzed", "petrified", "poisoned", "prone", "restrained", "stunned",
    "unconscious",
)
# Conditions that stop a creature acting at all (SRD: they include incapacitated).
INCAPACITATING = frozenset({"incapacitated", "paralyzed", "petrified", "stunned", "unconscious"})
# Attacks against these from within 5 ft are critical hits when they hit.
AUTO_CRIT_CLOSE = frozenset({"paralyzed", "unconscious"})
AUTO_FAIL_STR_DEX = frozenset({"paralyzed", "petrified", "stunned", "unconscious"})
PHYSICAL = ("bludgeoning", "piercing", "slashing")


def mod(score: int) -> int:
    return (score - 10) // 2


def prof_for_level(level: int) -> int:
    return 2 + (max(level, 1) - 1) // 4


def new_turn() -> dict[str, Any]:
    return {"action": 1, "bonus": 1, "move": 0, "attacks": 0, "disengaged": False,
            "dashed": False, "sneak": False, "attacked": False}


@dataclass(slots=True)
class Entity:
    """Everything about one creature the rules need; JSON-safe so to_dict is asdict."""

    eid: int
    name: str
    side: str  # "party" | "monsters"
    kind: str  # "pc" | "monster"
    abilities: dict[str, int]
    ac: int
    hp: int
    max_hp: int
    cls: str = ""  # a character's first class (its primary)
    level: int = 0  # a character's total level, over all its classes
    monster: str = ""
    prof: int = 2
    temp_hp: int = 0
    speed: int = 30
    darkvision: int = 0
    blindsight: int = 0  # feet within which it perceives without sight (rules/senses.py)
    save_prof: list[str] = field(default_factory=list)
    save_bonus: dict[str, int] = field(default_factory=dict)  # monster stat-block saves
    skills: dict[str, int] = field(default_factory=dict)  # skill -> total bonus
    resist: list[str] = field(default_factory=list)
    immune: list[str] = field(default_factory=list)
    vuln: list[str] = field(default_factory=list)
    cond_immune: list[str] = field(default_factory=list)
    ctype: str = "humanoid"
    conditions: dict[str, Cond] = field(default_factory=dict)
    exhaustion: int = 0
    death_s: int = 0
    death_f: int = 0
    stable: bool = False
    dead: bool = False
    fled: bool = False
    weapons: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    spells: list[str] = field(default_factory=list)
    spell_ability: str = ""
    spell_save_dc: int = 0  # a stat block's own DC and attack bonus (0: from the ability)
    spell_attack_bonus: int = 0
    innate: dict[str, int] = field(default_factory=dict)  # spell -> uses left today, -1 at will
    parry: int = 0  # Parry: AC added against one melee attack that would hit (a reaction)
    slots: list[int] = field(default_factory=lambda: [0] * 9)
    max_slots: list[int] = field(default_factory=lambda: [0] * 9)
    pact: bool = False
    res: dict[str, int] = field(default_factory=dict)  # current uses: ki, rage, second_wind...
    res_max: dict[str, int] = field(default_factory=dict)
    hit_dice: int = 0
    hd_size: int = 8
    inventory: list[str] = field(default_factory=list)
    armor: str = ""  # the armour index worn ("": none); its AC is in `ac`
    shield: bool = False
    origin: dict[str, Any] = field(default_factory=dict)  # creation choices (rules/creation)
    # class -> levels for a multiclass character (rules/multiclass); empty: all in `cls`
    levels: dict[str, int] = field(default_factory=dict)
    xp: int = 0
    cr: float = 0.0
    room: int = 0
    band: str = "near"  # "near" | "far"; engaged is the non-empty `engaged` list
    engaged: list[int] = field(default_factory=list)
    conc: str = ""
    effects: list[Effect] = field(default_factory=list)
    turn: dict[str, Any] = field(default_factory=new_turn)
    reaction: bool = True
    recharge: dict[str, bool] = field(default_factory=dict)
    per_day: dict[str, int] = field(default_factory=dict)
    profile: str = "brute"
    legendary: int = 0
    legendary_actions: list[dict[str, Any]] = field(default_factory=list)

    # -- derived numbers -------------------------------------------------------------
    def mod(self, ability: str) -> int:
        return mod(self.abilities.get(ability, 10))

    def save_mod(self, ability: str) -> int:
        if ability in self.save_bonus:
            return self.save_bonus[ability]
        return self.mod(ability) + (self.prof if ability in self.save_prof else 0)

    def skill_mod(self, skill: str, skill_ability: str) -> int:
        if skill in self.skills:
            return self.skills[skill]
        return self.mod(skill_ability)

    def passive(self, skill: str = "perception") -> int:
        keen = skill == "perception" and any(e.has("keen") for e in self.effects)
        return 10 + self.skill_mod(skill, "wis") + (5 if keen else 0)

    def current_ac(self) -> int:
        if not self.effects:
            return self.ac
        base = max([self.ac] + [e.ac_base + self.mod("dex") for e in self.effects if e.ac_base])
        return base + sum(e.ac for e in self.effects)

    @property
    def unhurt(self) -> bool:
        """At its hit point maximum now: healing would do nothing."""
        return self.hp >= self.hp_cap()

    def hp_cap(self) -> int:
        """The hit point maximum now: raised by aid, cut by a life drain, halved by
        exhaustion 4."""
        cap = self.max_hp + sum(e.max_hp for e in self.effects)
        return cap // 2 if self.exhaustion >= 4 else cap

    def sees_in_dark(self) -> bool:
        return bool(self.darkvision) or any(e.darkvision for e in self.effects)

    def has(self, cond: str) -> bool:
        return cond in self.conditions

    @property
    def incapacitated(self) -> bool:
        return self.dead or self.fled or any(c in INCAPACITATING for c in self.conditions)

    @property
    def down(self) -> bool:
        """Out of the fight: dead, fled, or dying/stable at 0 HP."""
        return self.dead or self.fled or self.hp <= 0

    @property
    def rising(self) -> bool:
        """Down at 0 HP, yet its death waits for its turn's start, and nothing has yet
        stopped the trait that would raise it then (a troll that took no fire since)."""
        return self.hp <= 0 and not self.dead and not self.fled and any(
            x.has(DEFERS_DEATH) and not x.stopped for x in self.effects)

    @property
    def in_fight(self) -> bool:
        """Still to be beaten: up, or down but rising at its next turn."""
        return not self.down or self.rising

    @property
    def dying(self) -> bool:
        return self.kind == "pc" and self.hp <= 0 and not self.dead and not self.stable

    def effective_speed(self) -> int:
        if self.has("grappled") or self.has("restrained") or self.exhaustion >= 5:
            return 0
        s = self.speed + sum(e.speed for e in self.effects)
        return max(0, s // 2 if self.exhaustion >= 2 else s)

    # `ability`: the one a spell is cast with when it is not the sheet's own (a multiclass
    # caster's other class: rules.multiclass.spell_ability).
    def spell_mod(self, ability: str = "") -> int:
        ability = ability or self.spell_ability
        return self.mod(ability) if ability else 0

    def spell_dc(self, ability: str = "") -> int:
        return self.spell_save_dc or 8 + self.prof + self.spell_mod(ability)

    def spell_attack(self, ability: str = "") -> int:
        return self.spell_attack_bonus or self.prof + self.spell_mod(ability)

    def to_dict(self) -> dict[str, Any]:
        effects, conds = self.effects, self.conditions
        self.effects, self.conditions = [], {}
        try:
            d = dataclasses.asdict(self)
        finally:
            self.effects, self.conditions = effects, conds
        d["effects"] = [e.to_dict() for e in effects]
        d["conditions"] = {k: c.to_dict() for k, c in conds.items()}
        return _lean(d)

    def fields(self) -> dict[str, Any]:
        """The fields by name, sharing the live values: for serialising, never for editing."""
        d = {name: getattr(self, name) for name in _FIELD_NAMES}
        d["effects"] = [e.to_dict() for e in self.effects]
        d["conditions"] = {k: c.to_dict() for k, c in self.conditions.items()}
        return _lean(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entity:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["effects"] = [e if isinstance(e, Effect) else Effect.from_dict(e)
                         for e in kw.get("effects", [])]
        kw["conditions"] = {k: c if isinstance(c, Cond) else Cond.from_dict(c)
                            for k, c in kw.get("conditions", {}).items()}
        return cls(**kw)


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Entity))


def _lean(d: dict[str, Any]) -> dict[str, Any]:
    """Leave out a single-class character's empty `levels`, so games saved before
    multiclassing replay to the same digests."""
    if not d.get("levels"):
        d.pop("levels", None)
    return d


def best_speed(speeds: dict[str, Any]) -> int:
    """Range bands do not tell ground from air or water: a creature moves at its best speed
    (the ghost flies 40 though it walks 0). `hover` is a flag, not a speed."""
    feet = [v for k, v in speeds.items() if type(v) is int and k != "hover"]
    return max(feet, default=30)


def from_monster(eid: int, name: str, m: dict[str, Any], profile: str) -> Entity:
    """An Entity for a monster stat block in the content schema."""
    ab = {k: int(v) for k, v in m["abilities"].items()}
    actions = [dict(a) for a in m.get("actions", [])]
    senses = m.get("senses", {}) or {}
    sc = m.get("spellcasting") or {}
    slots = [int(x) for x in sc.get("slots", [0] * 9)]
    return Entity(
        eid=eid, name=name, side="monsters", kind="monster", abilities=ab,
        ac=int(m["armor_class"]), hp=int(m["hit_points"]), max_hp=int(m["hit_points"]),
        monster=m["index"], prof=int(m.get("proficiency_bonus", 2)),
        speed=best_speed(m.get("speed") or {}),
        darkvision=int(senses.get("darkvision", 0) or 0),
        blindsight=int(senses.get("blindsight", 0) or 0),
        save_bonus={k: int(v) for k, v in (m.get("saves") or {}).items()},
        skills={k: int(v) for k, v in (m.get("skills") or {}).items()},
        resist=list(m.get("damage_resistances", [])), immune=list(m.get("damage_immunities", [])),
        vuln=list(m.get("damage_vulnerabilities", [])),
        cond_immune=list(m.get("condition_immunities", [])), ctype=str(m.get("type", "")),
        actions=actions,
        recharge={a["name"]: True for a in actions if a.get("recharge")},
        per_day={a["name"]: int(a["per_day"]) for a in actions if a.get("per_day")},
        xp=int(m.get("xp", 0)), cr=float(m.get("challenge_rating", 0)), profile=profile,
        legendary=int(m.get("legendary_per_round", 0) or 0),
        legendary_actions=[dict(a) for a in m.get("legendary_actions", [])],
        res={"legendary": int(m.get("legendary_per_round", 0) or 0)},
        spells=[x["index"] for x in sc.get("spells", [])], spell_ability=sc.get("ability") or "",
        spell_save_dc=int(sc.get("dc") or 0), spell_attack_bonus=int(sc.get("attack") or 0),
        slots=list(slots), max_slots=list(slots),
        innate={x["index"]: int(x["per_day"]) for x in sc.get("spells", [])
                if x.get("per_day") is not None},
        parry=int(m.get("parry") or 0),
    )
