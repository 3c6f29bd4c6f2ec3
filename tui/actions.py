"""The DM's actions in one table: the key bindings, the footer, the help screen and the palette all read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DmAction:
    key: str
    action: str  # the console's action_<name>
    label: str  # short, for the footer and the palette
    help: str  # one line, for the help screen and the palette
    footer: bool = False  # shown in the footer (the 80-column footer holds about nine)
    group: str = "table"


ACTIONS: tuple[DmAction, ...] = (
    DmAction("j", "joins", "Joins", "approve or deny radio players' join requests", True, "players"),
    DmAction("c", "start_combat", "Fight", "start combat with the foes in the party's room", True, "turns"),
    DmAction("C", "end_combat", "End fight", "end combat", False, "turns"),
    DmAction("n", "next_turn", "Next", "next turn", True, "turns"),
    DmAction("p", "prev_turn", "Prev", "previous turn", False, "turns"),
    DmAction("d", "damage", "Damage", "damage the selected creature (amount and type)", True, "creatures"),
    DmAction("h", "heal", "Heal", "heal the selected creature", True, "creatures"),
    DmAction("o", "condition", "Condition", "add or remove a condition on the selected creature",
             False, "creatures"),
    DmAction("r", "override_roll", "Roll", "override a roll: the next d20 comes up as you say",
             False, "creatures"),
    DmAction("a", "toggle_ai", "AI", "pause or resume the monster AI", False, "monsters"),
    DmAction("f", "force_action", "Force", "make the monster whose turn it is take an action",
             False, "monsters"),
    DmAction("s", "spawn", "Spawn", "search the SRD and spawn monsters here", True, "monsters"),
    DmAction("e", "encounter", "Encounter", "encounter builder: difficulty and simulated win rate",
             False, "monsters"),
    DmAction("g", "move_party", "Move party", "move the party through an exit or to a room number",
             False, "table"),
    DmAction("k", "open_door", "Open door", "open or unlock a door (or a DM-only way) in the room",
             False, "table"),
    DmAction("x", "give_xp", "Give XP", "give XP to the selected character, or share it (all N)",
             False, "players"),
    DmAction("i", "give_item", "Give item", "give the selected character an item or coins",
             False, "players"),
    DmAction("b", "shop", "Shop", "open a shop (SRD prices; empty for the basic stock) or close it",
             False, "players"),
    DmAction("t", "narrate", "Narrate", "broadcast narration (200-byte counter)", True, "table"),
    DmAction("m", "create_character", "Create PC", "make a character: NAME CLASS [LEVEL] race=.. "
             "stats=.. skills=.. bg=.. kit=.. asi=..", False, "players"),
    DmAction("v", "sheet", "Sheet", "view and edit the selected character's sheet, history, revert",
             False, "players"),
    DmAction("u", "house_rules", "Rules", "toggle house rules", False, "table"),
    DmAction("N", "session_start", "New session", "start a new session", False, "session"),
    DmAction("P", "session_pause", "Pause/resume", "pause or resume the session", False, "session"),
    DmAction("E", "session_end", "End session", "end the session", False, "session"),
    DmAction("l", "log_filter", "Log filter", "cycle the log filter: all, combat, story, party, console",
             False, "table"),
    DmAction("question_mark", "help", "Help", "this help", True, "console"),
)

BY_ACTION: dict[str, DmAction] = {a.action: a for a in ACTIONS}


def key_label(key: str) -> str:
    return {"question_mark": "?"}.get(key, key)
