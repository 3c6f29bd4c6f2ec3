"""What happened: the result events that renderers turn into text, binary frames or embeds.

Events name entities by id and content by name; renderers look names up in the game
state, and the binary codec maps names to small integers from the content tables.
Fields hold only int, str, bool, None or tuples of int/str so every codec can carry them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Joined:
    eid: int
    name: str
    cls: str
    level: int


@dataclass(frozen=True, slots=True)
class Entered:
    room: int
    eids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RoomView:
    """A look: the renderer describes the room from the game state."""

    room: int
    eid: int  # who looked


@dataclass(frozen=True, slots=True)
class Rolled:
    eid: int
    what: str  # "stealth", "dex save", "initiative", "2d6", "perception"...
    nat: int  # the kept d20 (0 for plain dice)
    total: int
    dc: int = 0  # 0: no DC
    ok: bool | None = None


@dataclass(frozen=True, slots=True)
class Attacked:
    eid: int
    target: int
    nat: int
    total: int
    ac: int
    hit: bool
    crit: bool
    using: str  # weapon, monster action or spell name


@dataclass(frozen=True, slots=True)
class Damaged:
    target: int
    amount: int
    dtype: str
    hp: int  # HP after


@dataclass(frozen=True, slots=True)
class Healed:
    target: int
    amount: int
    hp: int


@dataclass(frozen=True, slots=True)
class ConditionChanged:
    target: int
    condition: str
    on: bool


@dataclass(frozen=True, slots=True)
class Downed:
    target: int


@dataclass(frozen=True, slots=True)
class Died:
    target: int


@dataclass(frozen=True, slots=True)
class Stabilised:
    target: int


@dataclass(frozen=True, slots=True)
class DeathSave:
    target: int
    nat: int
    successes: int
    failures: int


@dataclass(frozen=True, slots=True)
class SpellCast:
    eid: int
    spell: str
    level: int


@dataclass(frozen=True, slots=True)
class ActionTaken:
    eid: int
    action: str  # "dodge", "dash", "disengage", "hide", "help", "second wind", "rage"...
    target: int = 0  # 0: none


@dataclass(frozen=True, slots=True)
class Moved:
    eid: int
    band: str  # "engaged" | "near" | "far"
    target: int = 0


@dataclass(frozen=True, slots=True)
class TurnStarted:
    round: int
    eid: int


@dataclass(frozen=True, slots=True)
class CombatStarted:
    order: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CombatEnded:
    xp: int
    loot: tuple[str, ...]
    # "won": the party beat its foes; "fell": every hero is dead or stable at 0 HP;
    # "fled": the party got away; "ended": the DM stopped it, or no party was in it
    outcome: str = "won"


@dataclass(frozen=True, slots=True)
class Said:
    eid: int
    text: str


@dataclass(frozen=True, slots=True)
class Narrated:
    text: str


@dataclass(frozen=True, slots=True)
class Rested:
    kind: str
    eids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LevelledUp:
    eid: int
    level: int


@dataclass(frozen=True, slots=True)
class Spawned:
    eid: int
    monster: str
    name: str


@dataclass(frozen=True, slots=True)
class Affected:
    """Who a spell's lasting effect landed on (bless, shield of faith), when nothing else in
    its result names them."""

    spell: str
    targets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Info:
    """An outcome with no structured form (a locked door, a found key); kept short."""

    eid: int
    text: str


# The Info a smite (or any rider spent by one hit) adds to its use: nothing lands until
# the next weapon hit, and "Pal: Divine Smite." alone reads as if it did nothing.
NEXT_HIT = "on the next hit"


@dataclass(frozen=True, slots=True)
class Digest:
    value: int  # 32-bit digest of the game state after the events


Event = (
    Joined | Entered | RoomView | Rolled | Attacked | Damaged | Healed | ConditionChanged
    | Downed | Died | Stabilised | DeathSave | SpellCast | ActionTaken | Moved | TurnStarted
    | CombatStarted | CombatEnded | Said | Narrated | Rested | LevelledUp | Spawned | Info | Digest
    | Affected
)

ALL_EVENTS: tuple[type, ...] = (
    Joined, Entered, RoomView, Rolled, Attacked, Damaged, Healed, ConditionChanged, Downed,
    Died, Stabilised, DeathSave, SpellCast, ActionTaken, Moved, TurnStarted, CombatStarted,
    CombatEnded, Said, Narrated, Rested, LevelledUp, Spawned, Info, Digest, Affected,
)
