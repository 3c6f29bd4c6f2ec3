"""The DM's actions as console methods: each validates its input, then makes one control request."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from node.control_client import ControlError
from protocol import jsonform
from protocol.errors import ProtocolError
from tui import view
from tui.combatlog import CombatLog
from tui.creatures import CreatureTable
from tui.dialogs import ConfirmScreen, NarrateScreen, PromptScreen

if TYPE_CHECKING:
    from tui.link import NodeLink


@dataclass(frozen=True)
class Done:
    """What an action came to: the node's result, or its one-line refusal."""

    ok: bool
    result: Any = None
    error: str = ""


def dm(op: str, target: int | None = None, value: int = 0, text: str = "") -> dict[str, Any]:
    """A Dm intent in its JSON form (rules/intents.py)."""
    return {"type": "Dm", "op": op, "target": target, "value": value, "text": text}


CREATE_STEPS = ("race", "stats", "skills", "bg", "kit", "asi")
_STEP = re.compile(r"\s(?=(?:" + "|".join(CREATE_STEPS) + r")=)")


def create_args(text: str) -> dict[str, Any] | str:
    """`NAME CLASS [LEVEL] race=hill dwarf stats=15,14,13,12,10,8 ...` as the arguments of
    the node's `character.create`, or what is wrong in one line. A step's value runs to the
    next `word=`, so it may hold spaces (`race=hill dwarf`)."""
    head, *steps = _STEP.split(" " + text.strip())
    words = head.split()
    if len(words) not in (2, 3) or (len(words) == 3 and not words[2].isdigit()):
        return "write NAME CLASS [LEVEL], then any of " + ", ".join(f"{s}=.." for s in CREATE_STEPS)
    args: dict[str, Any] = {"name": words[0], "cls": words[1].lower()}
    if len(words) == 3:
        args["level"] = int(words[2])
    for step in steps:
        key, _, value = step.strip().partition("=")
        if not value.strip():
            return f"{key}= needs a value"
        args[key] = value.strip()
    return args


class DmActions:
    """Mixed into DungeonConsole (a Textual App): `action_<name>` methods the key bindings call."""

    state: dict[str, Any] | None
    link: NodeLink | None

    if TYPE_CHECKING:  # provided by textual.app.App
        query_one: Any
        notify: Any
        push_screen: Any

    # -- talking to the node ----------------------------------------------------------------
    async def request(self, op: str, **args: Any) -> Any:
        if self.link is None:
            raise ControlError("not attached to a node")
        return await self.link.request(op, **args)

    async def act(self, what: str, op: str, *, quiet: bool = False, **args: Any) -> Done:
        """One request; the outcome goes in the log as a console line, a refusal also as a toast."""
        try:
            res = await self.request(op, **args)
        except ControlError as err:
            msg = str(err).splitlines()[0] if str(err) else "refused"
            self.query_one(CombatLog).note(f"{what}: {msg}", error=True)
            if not quiet:
                self.notify(msg, title=what, severity="error", timeout=4)
            return Done(False, error=msg)
        self.query_one(CombatLog).note(what)
        return Done(True, res)

    def note(self, text: str, *, error: bool = False) -> None:
        self.query_one(CombatLog).note(text, error=error)

    # -- helpers for the actions ---------------------------------------------------------
    def selected(self) -> dict[str, Any] | None:
        row = self.query_one(CreatureTable).selected_row(self.state)
        if row is None:
            self.notify("select a creature first (↑/↓)", severity="warning", timeout=3)
        return row

    def _session(self) -> dict[str, Any]:
        return (self.state or {}).get("session") or {}

    async def _command(self, what: str, intent: dict[str, Any], **extra: Any) -> Done:
        return await self.act(what, "command", intent=intent, **extra)

    async def _prompted(self, what: str, intent: dict[str, Any], **extra: Any) -> str | None:
        res = await self.act(what, "command", intent=intent, quiet=True, **extra)
        return None if res.ok else res.error

    # -- the DM's actions (each is one round trip) -----------------------------------------
    async def action_start_combat(self) -> None:
        await self._command("start combat", dm("start_combat"))

    async def action_end_combat(self) -> None:
        await self._command("end combat", dm("end_combat"))

    async def action_next_turn(self) -> None:
        await self._command("next turn", dm("next_turn"))

    async def action_prev_turn(self) -> None:
        await self._command("previous turn", dm("prev_turn"))

    def action_damage(self) -> None:
        row = self.selected()
        if row is None:
            return

        async def submit(text: str) -> str | None:
            amount, _, dtype = text.strip().partition(" ")
            if not amount.isdigit() or int(amount) <= 0:
                return "write an amount above 0, then an optional type: 7 fire"
            dtype = dtype.strip().lower() or "force"
            if dtype not in _damage_types():
                return f"no damage type {dtype!r}; e.g. {', '.join(_damage_types()[:5])}"
            return await self._prompted(f"damage {row['name']} {amount} {dtype}",
                                        dm("damage", row["eid"], int(amount), dtype))

        self.push_screen(PromptScreen(f"Damage {row['name']}", "amount and optional type, "
                                      "e.g. 7 fire (default force)", submit, placeholder="7 fire"))

    def action_heal(self) -> None:
        row = self.selected()
        if row is None:
            return

        async def submit(text: str) -> str | None:
            if not text.strip().isdigit() or int(text) <= 0:
                return "write an amount above 0"
            return await self._prompted(f"heal {row['name']} {text.strip()}",
                                        dm("heal", row["eid"], int(text)))

        self.push_screen(PromptScreen(f"Heal {row['name']}", "hit points to restore", submit,
                                      placeholder="5"))

    def action_condition(self) -> None:
        row = self.selected()
        if row is None:
            return
        has = set(row.get("conditions") or [])

        async def submit(text: str) -> str | None:
            text = text.strip().lower()
            sign = text[:1] if text[:1] in "+-" else ""
            name = text.lstrip("+-").strip()
            if name not in _conditions():
                return f"no condition {name!r}: {', '.join(_conditions()[:6])}…"
            on_ = sign == "+" or (not sign and name not in has)
            verb = "add" if on_ else "remove"
            return await self._prompted(f"{verb} {name} on {row['name']}",
                                        dm("condition", row["eid"], int(on_), name))

        now = ", ".join(sorted(has)) or "none"
        self.push_screen(PromptScreen(f"Condition on {row['name']} (now: {now})",
                                      "+name adds, -name removes, a bare name toggles", submit,
                                      placeholder="+prone"))

    def action_override_roll(self) -> None:
        async def submit(text: str) -> str | None:
            if not text.strip().isdigit() or not 1 <= int(text) <= 20:
                return "a d20 shows 1 to 20"
            return await self._prompted(f"override the next roll: {text.strip()}",
                                        dm("set_roll", None, int(text)))

        self.push_screen(PromptScreen("Override a roll", "the next d20 rolled comes up as this",
                                      submit, placeholder="20"))

    async def action_toggle_ai(self) -> None:
        paused = bool((self.state or {}).get("ai_paused"))
        res = await self.act("resume monster AI" if paused else "pause monster AI",
                             "ai.resume" if paused else "ai.pause")
        if res.ok and self.state is not None:
            self.state["ai_paused"] = bool(res.result.get("ai_paused"))
            self._redraw()

    def action_force_action(self) -> None:
        row = self.query_one(CreatureTable).selected_row(self.state)
        turn = self._session().get("turn")
        if row is None or row.get("kind") != "monster":
            monsters = {m["eid"]: m for m in (self.state or {}).get("monsters") or []}
            row = monsters.get(turn)
        if row is None:
            self.notify("select a monster (or force on a monster's turn)", severity="warning")
            return
        target = row

        async def submit(text: str) -> str | None:
            from protocol import text as grammar

            try:
                intent = grammar.parse(text)
            except ProtocolError as err:
                return str(err)
            return await self._prompted(f"{target['name']}: {text.strip()}",
                                        jsonform.dump(intent), actor=target["eid"])

        hint = "a command as a player would type it: attack thorin, dodge, dash"
        if not (self.state or {}).get("ai_paused"):
            hint += " (the AI is running: a to pause it first)"
        self.push_screen(PromptScreen(f"Force {target['name']}'s action", hint, submit,
                                      placeholder="attack thorin"))

    def action_move_party(self) -> None:
        async def submit(text: str) -> str | None:
            where = text.strip().lower()
            if not where:
                return "an exit (n, s, stairs…) or a room number"
            room = int(where) if where.isdigit() else 0
            return await self._prompted(f"move the party {where}",
                                        dm("move_party", None, room, "" if room else where))

        self.push_screen(PromptScreen("Move the party", f"exits here: {self._exits() or 'none'}; "
                                      "or a room number. Locks do not stop the DM.", submit,
                                      placeholder="n"))

    def action_open_door(self) -> None:
        async def submit(text: str) -> str | None:
            if not text.strip():
                return "which way? an exit of this room"
            return await self._prompted(f"open the way {text.strip()}",
                                        dm("unlock", None, 0, text.strip().lower()))

        self.push_screen(PromptScreen("Open or unlock a door", f"exits here: "
                                      f"{self._exits() or 'none'}", submit, placeholder="n"))

    def _exits(self) -> str:
        room = (self.state or {}).get("room") or {}
        return ", ".join(f"{x.get('dir')}" + (f" [{x['door']}]" if x.get("door") else "")
                         for x in room.get("exits") or [])

    def action_give_xp(self) -> None:
        row = self.query_one(CreatureTable).selected_row(self.state)
        who = row if row is not None and row.get("kind") == "pc" else None

        async def submit(text: str) -> str | None:
            words = text.strip().lower().split()
            share = bool(words) and words[0] == "all"
            amount = words[-1] if words else ""
            if not amount.isdigit() or int(amount) <= 0:
                return "write an amount above 0 (or all N to share it)"
            if not share and who is None:
                return "select a character first, or write all N to share it"
            target = None if share else who["eid"]  # type: ignore[index]
            name = "the party" if share else who["name"]  # type: ignore[index]
            return await self._prompted(f"give {name} {amount} XP",
                                        dm("give_xp", target, int(amount)))

        to = who["name"] if who else "the party (select a character to give to one)"
        self.push_screen(PromptScreen(f"Give XP to {to}", "an amount; all N shares N among the "
                                      "party in the room", submit, placeholder="50"))

    def action_give_item(self) -> None:
        row = self.selected()
        if row is None:
            return
        if row.get("kind") != "pc":
            self.notify("items are for characters; select a party member", severity="warning")
            return

        async def submit(text: str) -> str | None:
            if not text.strip():
                return "name an item, or coins: 15 gp"
            return await self._prompted(f"give {row['name']} {text.strip()}",
                                        dm("give_item", row["eid"], 1, text.strip()))

        self.push_screen(PromptScreen(f"Give {row['name']} an item or coins", "an item (2 torch "
                                      "gives two) or coins: 15 gp", submit,
                                      placeholder="potion of healing"))

    def action_shop(self) -> None:
        async def submit(text: str) -> str | None:
            stock = text.strip()
            if stock.lower() == "close":
                return await self._prompted("close the shop", dm("shop.close"))
            return await self._prompted("open a shop", dm("shop.open", text=stock))

        self.push_screen(PromptScreen("Open a shop", "wares by name, comma-separated, name=12gp "
                                      "for a price (empty: the basic stock), or close", submit,
                                      placeholder="longsword, torch, potion of healing"))

    def action_create_character(self) -> None:
        async def submit(text: str) -> str | None:
            args = create_args(text)
            if isinstance(args, str):
                return args
            res = await self.act(f"create {args['name']}", "character.create", quiet=True,
                                 **args)
            return None if res.ok else res.error

        self.push_screen(PromptScreen(
            "Create a character", "NAME CLASS [LEVEL], then race=, stats=, skills=, bg=, "
            "kit=, asi= as a player's `make` takes them", submit,
            placeholder="Mira wizard 3 race=high elf stats=8,14,13,15,12,10 bg=sage"))

    def action_spawn(self) -> None:
        from tui.spawner import SpawnerScreen

        self.push_screen(SpawnerScreen())

    def action_encounter(self) -> None:
        from tui.encounter import EncounterScreen

        self.push_screen(EncounterScreen())

    def action_narrate(self) -> None:
        async def submit(text: str) -> str | None:
            res = await self.act(f"narrate ({view.byte_count(text)} B)", "narrate", text=text,
                                 quiet=True)
            return None if res.ok else res.error

        self.push_screen(NarrateScreen(submit))

    def action_sheet(self) -> None:
        from tui.sheet import SheetScreen

        row = self.selected()
        if row is None:
            return
        if row.get("kind") != "pc":
            self.notify("sheets are for characters; select a party member", severity="warning")
            return
        self.push_screen(SheetScreen(row["eid"]))

    def action_house_rules(self) -> None:
        from tui.houserules import HouseRulesScreen

        self.push_screen(HouseRulesScreen())

    def action_joins(self) -> None:
        from tui.joins import JoinsScreen

        self.push_screen(JoinsScreen())

    def action_session_start(self) -> None:
        async def submit(text: str) -> str | None:
            args = {"dungeon": text.strip()} if text.strip() else {}
            res = await self.act(f"new session {text.strip()}".strip(), "session.start",
                                 quiet=True, **args)
            return None if res.ok else res.error

        self.push_screen(PromptScreen("Start a new session", "dungeon name (blank: the node's "
                                      "default); the party starts afresh", submit,
                                      placeholder="crypt"))

    async def action_session_pause(self) -> None:
        paused = self._session().get("status") == "paused"
        await self.act("resume session" if paused else "pause session",
                       "session.resume" if paused else "session.pause")

    def action_session_end(self) -> None:
        async def answer(yes: bool | None) -> None:
            if yes:
                await self.act("end session", "session.end")

        self.push_screen(ConfirmScreen("End the session for everyone?"), answer)

    def action_log_filter(self) -> None:
        name = self.query_one(CombatLog).cycle_filter()
        self.notify(f"log: {name}", timeout=1.5)

    def action_help(self) -> None:
        from tui.help import HelpScreen

        self.push_screen(HelpScreen())


def _damage_types() -> list[str]:
    from rules import content

    return sorted(content.damage_types())


def _conditions() -> list[str]:
    from rules import content

    return sorted(content.conditions())
