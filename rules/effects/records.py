"""Typed effect records: what affects a creature, from whom, for how long, under whose concentration."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rules.errors import RulesError

# The switches an effect can throw; code reads them by name, so a typo is an error at load.
TAGS = frozenset({
    "adv_against",  # attacks against the bearer have advantage
    "next_adv",  # the next attack against the bearer has advantage, then it ends
    "help",  # the next attack by someone other than src has advantage
    "dodge",  # attacks against the bearer have disadvantage; DEX saves with advantage
    "reckless",  # the bearer's melee attacks have advantage, and attacks against it too
    "rage",  # STR checks/saves with advantage; rage damage on STR melee weapon hits
    "hidden",  # the bearer's next attack has advantage, then it ends
    "dis_next",  # the bearer's next attack has disadvantage, then it ends
    "lose_turn",  # the bearer skips its next turn
    "wake_on_damage",  # damage ends the bearer's unconsciousness (sleep)
    "no_fear",  # the bearer cannot be frightened
    "no_reactions",  # the bearer cannot take reactions
    "aura",  # the tick runs on hostile creatures engaged with the bearer, not the bearer
    "summoned",  # the bearer was summoned by src's spell and vanishes when it ends
    "summon",  # a summoned attacker the bearer directs (spiritual weapon)
    "silenced",  # in magical silence: no spells with a verbal component
    "see_invisible",  # invisibility gives the bearer's foes no edge against it
    "invisible",  # attacks by the bearer have advantage, against it disadvantage
    "adv_attacks",  # the bearer's attacks have advantage
    "dis_attacks",  # the bearer's attacks have disadvantage
    "adv_saves",  # the bearer's saving throws have advantage
    "dis_against",  # attacks against the bearer have disadvantage
    "crit_immune",  # critical hits against the bearer are normal hits
    "magic_weapon",  # the bearer's weapon attacks count as magical
    "no_heal",  # the bearer cannot regain hit points (chill touch)
    "one_hit",  # the on_hit rider is spent by the first hit that uses it
    "light",  # the bearer sheds light: a dark room counts as dim where it stands
    "adv_next",  # the bearer's next attack has advantage, then it ends
    "hasted",  # one extra action at the start of each of the bearer's turns
    "death_ward",  # the first time the bearer would drop to 0 HP it drops to 1 instead
    "pack_tactics",  # attacks with advantage when an ally of the bearer is engaged with the target
    "magic_resistance",  # saving throws against spells with advantage
    "undead_fortitude",  # dropped to 0 HP by non-radiant, non-critical damage: a Con save
    "nimble_escape",  # disengage or hide as a bonus action
    "keen",  # keen senses: advantage on Perception, +5 to passive Perception
    "blood_frenzy",  # melee attacks with advantage against a creature below its HP maximum
    "legendary_resistance",  # a failed save can succeed instead, while uses are left
    "devils_sight",  # magical darkness (the darkness spell) does not hinder the bearer
    "swarm",  # a swarm: no hit points regained and no temporary hit points
    "retaliate",  # a melee hit on the bearer from within 5 ft burns the attacker: die, dtype
    "evasion",  # a Dex save for half damage: none on a success, half on a failure
    "gnome_cunning",  # advantage on Int, Wis and Cha saves against spells
    "limited_magic_immunity",  # spells of 6th level or lower do not affect the bearer
    "antimagic_susceptible",  # dispel magic: a Con save or unconscious for a minute
    "misty_escape",  # dropped to 0 HP (not by radiant damage) it escapes as mist instead
    "light_sensitive",  # the bearer's attacks have disadvantage in a bright room
    "sunlight_sensitive",  # the bearer's attacks have disadvantage in a sunlit room
    "swallowed",  # inside src (Swallow, Engulf): freed with src's conditions when src falls
    "grappler",  # the bearer's attacks have advantage against a creature it grapples
    "ambusher",  # in the first round, attacks with advantage on foes yet to take a turn
    "shadow_stealth",  # hides as a bonus action out of bright light
    "aggressive",  # not engaged at its turn's start: a bonus action doubles its move
    "reactive",  # its reaction comes back at the start of every creature's turn
    "splits",  # lightning or slashing damage splits it in two (res "splits" uses left)
    "sun_only",  # the effect's start-of-turn tree runs only while the bearer is in sunlight
    "steadfast",  # not frightened while an ally of the bearer is in the room
    "free_moving",  # magic cannot restrain the bearer (freedom of movement)
    "fire_averse",  # fire damage: disadvantage on its attacks until its next turn ends
    "freezes",  # cold damage: its speed drops by 20 ft until its next turn ends
    "web_walker",  # webs (the web spell, a spider's Web) do not restrain the bearer
    "immutable",  # spells that would alter its form (polymorph) fail on the bearer
    "flyby",  # leaving an enemy's reach provokes no opportunity attacks
    "mark",  # src's weapon hits on the bearer add `die` of the weapon's type (hunter's mark)
    "attuned",  # a magic item the bearer is attuned to: kept across rests
    "permanent",  # a class feature's standing effect: kept across rests and level-ups
    "uncanny_dodge",  # the bearer's reaction halves the damage of an attack that hits it
    "danger_sense",  # DEX saves with advantage
    # -- beasts2: shapes, grips and monster reactions
    "shaped",  # in a shape that shares its statistics (rules/effects/shapes.py)
    "adhesive",  # whatever the bearer hits, or hits it in melee, is stuck: grappled by it
    "berserk",  # the bearer attacks the nearest creature, friend or foe
    "risen",  # a corpse whose spirit already rose (Create Specter)
    "enlarged",  # Large: STR saves with advantage, doubled weapon dice (beast_specials)
    "bonus_strike",  # one of the bearer's melee attacks (not Multiattack) as a bonus action
    "damage_transfer",  # half the damage to the bearer goes to the creature it grapples
    "rock_catching",  # a reaction and a DC 10 Dex save catch a hurled rock: no damage
    "interpose",  # a reaction: +2 AC to its master within 5 ft when an attack would hit
    "bound_guard",  # half the damage its master takes goes to the bearer (guardian.py)
    "reflective",  # magic missile, line spells and ranged spell attacks miss it (carapace.py)
    "sword_aloft",  # its weapon flies: it strikes as a bonus action (monsters.aloft)
    "heads",  # a hydra: res "heads" bite, die to heavy blows and regrow (heads.py)
    "rusts_metal",  # a nonmagical metal weapon that hits the bearer corrodes (corrosion.py)
    # -- bard, druid, monk, rogue, sorcerer, warlock and wizard features (engineer feats2)
    "elusive",  # no attack roll against the bearer has advantage while it can act
    "blindsense",  # hiding gains a creature within 10 ft nothing against the bearer
    "natures_sanctuary",  # a beast or plant attacking the bearer saves (WIS) or loses the attack
    "deflect_missiles",  # the bearer's reaction cuts a ranged weapon hit by 1d10 + DEX + level
    "cutting_words",  # the bearer's reaction spends an inspiration die against a foe's hit
    "potent_cantrip",  # a foe passing the bearer's cantrip save still takes half damage
    "elemental_affinity",  # + CHA to one damage roll of the bearer's spells of `dtype`
    "empowered_evocation",  # + INT to one damage roll of the bearer's evocation spells
    "agonizing_blast",  # + CHA to each eldritch blast beam's damage
    "dark_ones_blessing",  # dropping a foe to 0 HP gives CHA + level temporary hit points
    "sure_hit",  # the bearer's next miss is a hit instead, then it ends (Stroke of Luck)
    "fast_hands",  # using an item in combat is a bonus action (Cunning Action)
    "reliable_talent",  # a proficient skill check's d20 below 10 counts as 10
    "supreme_sneak",  # Stealth checks with advantage
    "open_hand",  # flurry of blows hits: a DEX save or prone
    "thiefs_reflexes",  # a second turn in the first round, at initiative - 10
    "dis_next_save",  # the bearer's next saving throw has disadvantage, then it ends
    "sculpt_spells",  # the bearer's evocations spare its allies in their area
    "one_check",  # the effect's check dice are spent by the bearer's next ability check
    "sanctuary",  # an attacker must pass a WIS save against the bearer's DC or lose the attack
    "ends_on_attack",  # ends when the bearer attacks or casts a spell at a foe (sanctuary)
    "wild_shape",  # in a beast's shape: no spells; ends when the beast's hit points run out
    "beast_spells",  # the bearer casts spells in a beast's shape (Beast Spells)
    "slow_fall",  # the bearer's reaction takes 5 x its level off falling damage
    "repelling_blast",  # an eldritch blast beam that hits pushes the target out of melee
    "echolocation",  # its blindsight is lost while it is deafened (rules/senses.py)
    "web_sense",  # in a webbed room it knows where everyone in the room is
    "iron_scent",  # it knows where a foe carrying iron within 30 ft is
    "treasure_sense",  # it knows where a foe carrying coins or gems within 60 ft is
    "ice_walk",  # snow and ice are no difficult terrain for it
    "run_up",  # its `leap` needs a 10 ft run-up first (Running Leap)
    "tree_stride",  # among trees, leaving melee provokes no opportunity attacks
    "water_susceptible",  # 1 cold damage per 5 ft it moves in a water room
    "stone_camouflage",  # advantage on Stealth to hide in a rocky room
    "water_camouflage",  # advantage on Stealth to hide in a room under water
    "snow_camouflage",  # advantage on Stealth to hide in a snowy room
    # -- class features (engineer feats1) --
    "rider",  # the bearer's weapon hits deal `die` more, of `dtype` (or the weapon's type)
    "once_turn",  # a rider that adds its dice once a turn
    "melee_only",  # a rider on melee weapon hits only
    "vs_wounded",  # a rider against a target already below its hit point maximum
    "vs_favored",  # a rider only against the bearer's favored enemy types (a ranger's)
    "survivor",  # at the start of its turn at or under half HP (not 0): 5 + CON HP back
    "relentless",  # dropped to 0 HP (not killed): a CON save, DC 10 +5 a use, for 1 HP
    "persistent_rage",  # the bearer's rage does not lapse for want of attacks or wounds
    "retaliation",  # damaged by a creature within 5 ft: a reaction melee weapon attack
    "str_floor",  # a STR check's total below the STR score uses the score instead
    "heal_bonus",  # the bearer's healing spells of 1st level+ heal 2 + the spell's level more
    "heal_self",  # healing another with such a spell heals the bearer 2 + the spell's level
    "heal_max",  # the dice of the bearer's healing spells count as their maximum
    "feral_senses",  # no disadvantage attacking an unseen creature within 30 ft
    "quick_hide",  # hides as a bonus action
    "camouflage",  # +10 to Stealth while the bearer stays put; moving ends it
    # gear (rules/encumbrance.py)
    "heavy_load",  # heavily encumbered: STR/DEX/CON checks and saves, weapon attacks at disadvantage
    # -- regen: a troll's Regeneration
    "dies_only_at_turn_start",  # at 0 HP it is down, not dead: it dies at its turn's start
    #                             only if its tick (stopped by `stop_by` damage) does not
    #                             raise it
})


@dataclass(slots=True)
class Effect:
    """One ongoing effect on a creature. Numbers are read live where the rules apply them."""

    name: str
    src: int = 0  # who caused it (0: the DM or the world)
    rounds: int = 0  # the bearer's turn-ends left; 0: until something removes it
    conc: bool = False  # ends when src's concentration ends
    until_turn: int = 0  # ends when this creature's turn starts
    ac: int = 0
    ac_base: int = 0  # an armour formula: AC becomes at least ac_base + DEX modifier
    atk: str = ""  # dice added to attack rolls ("1d4", "-1d4")
    save: str = ""  # dice added to saving throws
    check: str = ""  # dice added to ability checks
    speed: int = 0
    max_hp: int = 0
    dmg_bonus: int = 0  # added to the bearer's STR melee weapon damage (rage)
    darkvision: int = 0
    resist: tuple[str, ...] = ()
    immune: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    die: str = ""  # inspiration die, mark dice, or a summon's damage dice
    dtype: str = ""  # the damage type of `die` when it deals damage
    on_hit: str = ""  # a tree key run when the bearer hits with a weapon (smite)
    tick: str = ""  # a tree key run at the start of the bearer's turn (moonbeam)
    level: int = 0  # the slot level trees of this effect run at
    dc: int = 0
    stop_by: tuple[str, ...] = ()  # damage of these types suppresses the next tick
    stopped: bool = False  # such damage was taken since the last tick
    ward_max: int = 0  # death_ward holds only against this much damage or less (Relentless)
    absorb: tuple[str, ...] = ()  # damage of these types heals the bearer instead
    adv_vs: tuple[str, ...] = ()  # saves against these conditions, or these spells, have advantage
    cond_immune: tuple[str, ...] = ()  # the bearer cannot gain these conditions
    radius: int = 0  # an aura: `save` and `cond_immune` also cover allies within this many ft
    dis_from: tuple[str, ...] = ()  # these types attack the bearer at disadvantage and cannot
    #                                 charm or frighten it (protection from evil and good)
    vs_types: tuple[str, ...] = ()  # a rider only against creatures of these types
    leap: int = 0  # feet of a long jump that clears difficult ground (Standing Leap)
    form: str = ""  # the beast whose shape the bearer has taken (Wild Shape): its attacks

    def __post_init__(self) -> None:
        bad = [t for t in self.tags if t not in TAGS]
        if bad:
            raise RulesError(f"effect {self.name}: unknown tag {bad[0]!r}")

    def has(self, tag: str) -> bool:
        return tag in self.tags

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that differ from the defaults: small snapshots, stable digests."""
        out: dict[str, Any] = {"name": self.name}
        for f in fields(self)[1:]:
            v = getattr(self, f.name)
            if v != f.default:
                out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Effect:
        names = {f.name for f in fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in names}
        # a state saved by rules version 1 kept its switches as booleans and its dice
        # under other names; map them so an old snapshot still loads and plays
        old = tuple(k for k, v in d.items() if k in TAGS and v is True)
        if d.get("mark"):
            old += ("mark",)
            kw["die"] = str(d["mark"])
        if d.get("inspired"):
            kw["die"] = str(d["inspired"])
        if old:
            kw["tags"] = tuple(kw.get("tags", ())) + old
        return cls(**kw)


# The tag of a trait that keeps a creature down, not dead, at 0 HP until its turn starts.
DEFERS_DEATH = "dies_only_at_turn_start"


def level_step(steps: dict[str, Any], level: int) -> Any:
    """The value of the highest step a level has reached ({"1": "1d6", "5": "1d8"})."""
    return steps[str(max((int(x) for x in steps if int(x) <= max(1, level)),
                         default=min(int(x) for x in steps)))]


@dataclass(slots=True)
class Cond:
    """One condition on a creature: how long it lasts, how it ends, who imposed it."""

    rounds: int = -1  # the bearer's turn-ends left; -1: until something removes it
    save: str = ""  # an ability: a save at the end of each of the bearer's turns ends it
    dc: int = 0
    src: int = 0  # who imposed it (0: the DM or the world)
    conc: bool = False  # ends when src's concentration ends
    harm: bool = False  # the save repeats when src or its allies harm the bearer, not each turn

    def to_dict(self) -> dict[str, Any]:
        d = {"rounds": self.rounds, "save": self.save, "dc": self.dc, "src": self.src,
             "conc": int(self.conc)}
        if self.harm:  # only when set: a game without it keeps its digests
            d["harm"] = 1
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cond:
        return cls(int(d.get("rounds", -1)), str(d.get("save", "")), int(d.get("dc", 0)),
                   int(d.get("src", 0)), bool(d.get("conc", 0)), bool(d.get("harm", 0)))
