"""DungeonConsole: the DM's Textual console, attached to a node's control socket."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from node.control import ControlError
from protocol import jsonform
from protocol.errors import ProtocolError
from tui import view
from tui.actions import ACTIONS, BY_ACTION, key_label
from tui.combatlog import CombatLog
from tui.creatures import CreatureTable
from tui.dialogs import ConfirmScreen, NarrateScreen, PromptScreen
from tui.link import BACKOFF_S, HEARTBEAT_S, HEARTBEAT_TIMEOUT_S, LinkStatus, NodeLink
from tui.panels import InitiativePanel, RadioPanel, RoomPanel, StatusBar

log = logging.getLogger(__name__)

NARROW_W, SHORT_H = 110, 32


@dataclass(frozen=True)
class Done:
    """What an action came to: the node's result, or its one-line refusal."""

    ok: bool
    result: Any = None
    error: str = ""


def dm(op: str, target: int | None = None, value: int = 0, text: str = "") -> dict[str, Any]:
    """A Dm intent in its JSON form (rules/intents.py)."""
    return {"type": "Dm", "op": op, "target": target, "value": value, "text": text}


class DungeonConsole(App[None]):
    """Panels for the table's truth, keys for the DM's actions; each action is one control request."""

    CSS_PATH = "console.tcss"
    TITLE = "Distributed Dungeon — DM console"
    BINDINGS = [
        *(Binding(a.key, a.action, a.label, show=a.footer) for a in ACTIONS),
        Binding("q", "quit", "Quit", show=True),
    ]

    def __init__(
        self,
        control_path: str | Path | None,
        *,
        frozen: tuple[dict[str, Any], Sequence[dict[str, Any]]] | None = None,
        tick: bool = True,
        backoff: Sequence[float] = BACKOFF_S,
        heartbeat_s: float = HEARTBEAT_S,
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
    ) -> None:
        """`frozen=(state, event pushes)` shows a fixed state with no node: for snapshot tests."""
        super().__init__()
        self.control_path = Path(control_path) if control_path else None
        self.frozen = frozen
        self.tick = tick
        self.state: dict[str, Any] | None = None
        self.link_status: LinkStatus | None = None
        self.fresh = False  # a state has arrived since the link last came up
        self.link: NodeLink | None = None
        if control_path is not None:
            self.link = NodeLink(control_path, on_state=self.on_node_state,
                                 on_events=self.on_node_events, on_status=self.on_link_status,
                                 backoff=backoff, heartbeat_s=heartbeat_s,
                                 heartbeat_timeout_s=heartbeat_timeout_s)

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield CreatureTable(id="creatures")
                yield CombatLog(id="log")
            with Vertical(id="right"):
                yield InitiativePanel(id="initiative")
                yield RoomPanel(id="room")
                yield RadioPanel(id="radio")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(InitiativePanel).ticking = self.tick
        self._fit(self.size.width, self.size.height)
        if self.frozen is not None:
            state, pushes = self.frozen
            self.link_status = LinkStatus(True, hello={"node_id": state.get("node_id")})
            self.fresh = True
            for msg in pushes:
                self.on_node_events(msg)
            self.on_node_state(state)
        else:
            self._redraw()
        if self.link is not None:
            self.run_worker(self.link.run(), name="node-link", exclusive=True, group="link")
        if self.tick:
            self.set_interval(1.0, self._tick)

    def on_resize(self, event: Any) -> None:
        self._fit(event.size.width, event.size.height)
        self._redraw()

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_W, "-narrow")
        self.set_class(height < SHORT_H, "-short")

    async def on_unmount(self) -> None:
        if self.link is not None:
            await self.link.close()

    # -- what the node tells us -----------------------------------------------------------
    def on_node_state(self, state: dict[str, Any]) -> None:
        self.state = state
        self.fresh = True
        if not state.get("party") and not getattr(self, "_hinted", False):
            self._hinted = True
            self.note("no characters yet: radio players send 'join NAME CLASS', and j approves")
        self._redraw()
        for screen in self.screen_stack:
            hook = getattr(screen, "on_node_state", None)
            if callable(hook) and screen is not self.screen_stack[0]:
                hook(state)

    def on_node_events(self, msg: dict[str, Any]) -> None:
        self.query_one(CombatLog).add_events(msg)
        self.query_one(InitiativePanel).note_events(msg.get("events") or [])

    def on_link_status(self, status: LinkStatus) -> None:
        was_live = self.live
        self.link_status = status
        if not status.live:
            self.fresh = False
        if was_live and not status.live:
            self.query_one(CombatLog).note(f"node lost: {status.error}", error=True)
        if status.live:
            h = status.hello
            self.query_one(CombatLog).note(
                f"attached to {h.get('node_id')} v{h.get('version')}: session "
                f"{h.get('session') or 'none'}, event log at seq {h.get('seq', '?')}. ? for help")
            self._hinted = False
        self._redraw()

    @property
    def live(self) -> bool:
        """True only while the link is up and a state has arrived over it."""
        return bool(self.link_status and self.link_status.live and self.fresh)

    def _redraw(self) -> None:
        live = self.live
        body = self.query_one("#body")
        body.set_class(not live, "-offline")
        self.query_one(StatusBar).show(self.state, self.link_status if live or not
                                       (self.link_status and self.link_status.live) else
                                       LinkStatus(False, error="connected; waiting for state"))
        narrow = self.has_class("-narrow")
        self.query_one(CreatureTable).show(self.state, compact=narrow)
        self.query_one(InitiativePanel).show(self.state)
        self.query_one(RoomPanel).show(self.state, compact=self.has_class("-short"))
        self.query_one(RadioPanel).show(self.state, packets=1 if self.has_class("-short") else 3)
        panel = self.query_one("#creatures")
        panel.border_subtitle = "" if live else "NOT LIVE"

    def _tick(self) -> None:
        if self.live:
            self.query_one(InitiativePanel).redraw()

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
            if not text.strip().isdigit() or not 1 <= int(text) <= 30:
                return "a roll is a number from 1 to 30"
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

    async def run_action_named(self, name: str) -> None:
        await self.run_action(name)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for a in ACTIONS:
            yield SystemCommand(a.help[:1].upper() + a.help[1:], f"key: {key_label(a.key)}",
                                lambda name=a.action: self.run_action_named(name))


def _damage_types() -> list[str]:
    from rules import content

    return sorted(content.damage_types())


def _conditions() -> list[str]:
    from rules import content

    return sorted(content.conditions())


__all__ = ["BY_ACTION", "Done", "DungeonConsole", "dm"]
