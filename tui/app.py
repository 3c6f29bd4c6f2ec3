"""DungeonConsole: the DM's Textual console, attached to a node's control socket."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer

from tui.actions import ACTIONS, BY_ACTION, key_label
from tui.combatlog import CombatLog
from tui.creatures import CreatureTable
from tui.dmactions import DmActions, Done, dm
from tui.link import BACKOFF_S, HEARTBEAT_S, HEARTBEAT_TIMEOUT_S, LinkStatus, NodeLink
from tui.panels import InitiativePanel, RadioPanel, RoomPanel, StatusBar

NARROW_W, SHORT_H = 110, 32


class DungeonConsole(DmActions, App[None]):
    """Panels for the table's truth, keys for the DM's actions; each action is one control request."""

    CSS_PATH = "console.tcss"
    TITLE = "Distributed Dungeon — DM console"
    BINDINGS = [
        *(Binding(a.key, a.action, a.label, show=a.footer) for a in ACTIONS),
        Binding("q", "quit", "Quit", show=True),
        # README and help say Ctrl-C stops the console (Textual's own ctrl+c only hints at ctrl+q)
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
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
        intro: Sequence[str] = (),
        quit_help: str = "quit the console (the node keeps running)",
    ) -> None:
        """`frozen=(state, event pushes)` shows a fixed state with no node: for snapshot tests.
        `intro`: lines that open the log and replace the join hint (the demo says who is who);
        `quit_help`: what q does, for the help screen."""
        super().__init__()
        self.intro = tuple(intro)
        self._introduced = False
        self.quit_help = quit_help
        self.control_path = Path(control_path) if control_path else None
        self.frozen = frozen
        self.tick = tick
        self.state: dict[str, Any] | None = None
        self.link_status: LinkStatus | None = None
        self.fresh = False  # a state has arrived since the link last came up
        self._hinted = False  # the empty-party hint is in the log
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """DM keys act on the main screen only: a 'd' typed in a dialog's table is not a hit."""
        if action in BY_ACTION and self.screen is not self.screen_stack[0]:
            from textual.command import CommandPalette

            return isinstance(self.screen, CommandPalette)
        return True

    # -- what the node tells us -----------------------------------------------------------
    def _drawn(self) -> bool:
        """False while the main screen has no widgets: the link worker outlives them at exit."""
        try:
            self.query_one(StatusBar)
        except NoMatches:
            return False
        return True

    def on_node_state(self, state: dict[str, Any]) -> None:
        self.state = state
        self.fresh = True
        if not self._drawn():
            return
        if self.intro and not self._introduced:
            # with the first state, which comes after the log's history: the last thing read
            self._introduced = True
            for line in self.intro:
                self.note(line)
        if not state.get("party") and not self._hinted and not self.intro:
            self._hinted = True
            self.note("no characters yet: radio players send 'join NAME CLASS', and j approves")
        self._redraw()
        for screen in self.screen_stack:
            hook = getattr(screen, "on_node_state", None)
            if callable(hook) and screen is not self.screen_stack[0]:
                hook(state)

    def on_node_events(self, msg: dict[str, Any]) -> None:
        if not self._drawn():
            return
        self.query_one(CombatLog).add_events(msg)
        self.query_one(InitiativePanel).note_events(msg.get("events") or [])

    def on_link_status(self, status: LinkStatus) -> None:
        was_live = self.live
        self.link_status = status
        if not status.live:
            self.fresh = False
        if not self._drawn():
            return
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
        if not self._drawn():
            return
        live = self.live
        body = self.query_one("#body")
        body.set_class(not live, "-offline")
        narrow = self.has_class("-narrow")
        self.query_one(StatusBar).show(self.state, self.link_status if live or not
                                       (self.link_status and self.link_status.live) else
                                       LinkStatus(False, error="connected; waiting for state"),
                                       narrow=narrow)
        self.query_one(CreatureTable).show(self.state, compact=narrow)
        self.query_one(InitiativePanel).show(self.state)
        self.query_one(RoomPanel).show(self.state, compact=self.has_class("-short"))
        self.query_one(RadioPanel).show(self.state, packets=1 if self.has_class("-short") else 3)
        panel = self.query_one("#creatures")
        panel.border_subtitle = "" if live else "NOT LIVE"

    def _tick(self) -> None:
        if self.live:
            self.query_one(InitiativePanel).redraw()

    async def run_action_named(self, name: str) -> None:
        await self.run_action(name)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for a in ACTIONS:
            yield SystemCommand(a.help[:1].upper() + a.help[1:], f"key: {key_label(a.key)}",
                                lambda name=a.action: self.run_action_named(name))


__all__ = ["Done", "DungeonConsole", "dm"]
