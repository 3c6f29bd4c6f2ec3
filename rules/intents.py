"""What an actor asks the game to do: the shared vocabulary of every input channel.

Text commands, binary frames, Discord messages and DM console actions all become
one of these. A `Ref` is either an entity id (int, as the binary client sends) or a
name to match forgivingly (str, as typed text sends: "gob1", "goblin 1").
"""

from __future__ import annotations

from dataclasses import dataclass

Ref = int | str


@dataclass(frozen=True, slots=True)
class Join:
    name: str
    cls: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Look:
    pass


@dataclass(frozen=True, slots=True)
class Move:
    exit: str  # a direction letter (n s e w u d) or an exit's name


@dataclass(frozen=True, slots=True)
class Attack:
    target: Ref
    weapon: Ref | None = None


@dataclass(frozen=True, slots=True)
class Cast:
    spell: Ref
    target: Ref | None = None
    level: int | None = None  # None: the spell's own level (no upcast)
    meta: tuple[str, ...] = ()  # metamagic options and Overchannel ("quickened", ...)
    twin: Ref | None = None  # Twinned Spell's second target


@dataclass(frozen=True, slots=True)
class Use:
    item: Ref  # an inventory item or a class feature ("second wind", "rage")
    target: Ref | None = None


@dataclass(frozen=True, slots=True)
class Roll:
    what: str  # a skill ("stealth"), a save ("dex save"), or dice ("2d6+1")


@dataclass(frozen=True, slots=True)
class Dodge:
    pass


@dataclass(frozen=True, slots=True)
class Dash:
    pass


@dataclass(frozen=True, slots=True)
class Disengage:
    pass


@dataclass(frozen=True, slots=True)
class Hide:
    pass


@dataclass(frozen=True, slots=True)
class Search:
    pass


@dataclass(frozen=True, slots=True)
class HelpAlly:
    ally: Ref


@dataclass(frozen=True, slots=True)
class Grapple:
    target: Ref


@dataclass(frozen=True, slots=True)
class Shove:
    target: Ref


@dataclass(frozen=True, slots=True)
class Approach:
    target: Ref  # move to engaged range with a creature


@dataclass(frozen=True, slots=True)
class EndTurn:
    pass


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Query:
    what: str  # "help" | "hp" | "sheet" | "inv" | "status" | "shop [page]"; answered privately


@dataclass(frozen=True, slots=True)
class Rest:
    kind: str  # "short" | "long"


@dataclass(frozen=True, slots=True)
class Dm:
    """A DM command. `op` names it; the other fields carry its arguments.

    ops: start_combat, end_combat, next_turn, prev_turn, damage(target, value, text=dtype),
    heal(target, value), condition(target, text=name, value=1 add / 0 remove),
    spawn(text=monster, value=count), narrate(text), set_roll(value),
    edit_sheet(target, text="field=value"), revert_sheet(target, value=version),
    add_character(text=JSON of rules/character_io.py): an exported character joins,
    house_rule(text=name, value=1/0), level_up(target, text=class or ""), force_action(target, text=action id),
    set_turn(target): make it that creature's turn; set_roll(text="20 1"): several faces,
    cover(target, value=0/2/5), unlock(text=exit: opens a locked or DM-only way),
    shop.open(text="item, item=12gp" or "" for the basic stock), shop.close,
    take_item(target, text="5 gp" or an item): the DM takes coins or an item back.
    force_action applies one of rules.tactics.legal_actions(target) by its Option.id;
    set_roll(value=1..20) makes the next d20 any creature rolls show that face.
    """

    op: str
    target: Ref | None = None
    value: int = 0
    text: str = ""


Intent = (
    Join | Look | Move | Attack | Cast | Use | Roll | Dodge | Dash | Disengage | Hide | Search
    | HelpAlly | Grapple | Shove | Approach | EndTurn | Say | Query | Rest | Dm
)

@dataclass(frozen=True, slots=True)
class Make:
    """One character-creation step for the draft `name` (rules/creation.py): `step` is
    class, race, stats, skills, bg or kit; `value` the choice as typed."""

    name: str
    step: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class Advance:
    """Take a level in `cls` (rules/multiclass.py): now when one is due, else the next one.
    Or, with `improve` ("str dex", "con con", "grappler"), choose the next Ability Score
    Improvement (two points, or the SRD's feat)."""

    cls: str = ""
    improve: str = ""


@dataclass(frozen=True, slots=True)
class Trade:
    """At a shop (rules/shop.py): `op` is buy or sell, `item` as typed. The wares are a
    Query ("shop", "shop 2"), answered privately."""

    op: str
    item: str


ALL_INTENTS: tuple[type, ...] = (
    Join, Look, Move, Attack, Cast, Use, Roll, Dodge, Dash, Disengage, Hide, Search,
    HelpAlly, Grapple, Shove, Approach, EndTurn, Say, Query, Rest, Dm, Make, Advance, Trade,
)
