"""The encounter builder: difficulty by XP thresholds and a simulated party win rate, from the node."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from node.control_client import ControlError

if TYPE_CHECKING:
    from tui.app import DungeonConsole

DIFFICULTY_STYLE = {"trivial": "grey62", "easy": "green", "medium": "yellow", "hard": "orange1",
                    "deadly": "bold red"}


def thresholds(levels: list[int]) -> dict[str, int]:
    """The party's XP thresholds (DMG table in rules.encounter), summed over its members."""
    from rules.encounter import LABELS, THRESHOLDS

    out = dict.fromkeys(LABELS, 0)
    for lv in levels:
        for label, xp in zip(LABELS, THRESHOLDS.get(max(1, min(20, lv)), (0, 0, 0, 0)), strict=True):
            out[label] += xp
    return out if levels else {}


def parse_roster(text: str) -> str:
    """"goblin:4, orc" normalised for the node's `encounter.estimate`; ValueError in one line."""
    parts = []
    for chunk in filter(None, (c.strip() for c in text.split(","))):
        name, _, count = chunk.partition(":")
        if not name.strip():
            raise ValueError(f"{chunk!r}: name the monster, e.g. goblin:4")
        if count and (not count.strip().isdigit() or not 1 <= int(count) <= 40):
            raise ValueError(f"{chunk!r}: the count is 1 to 40")
        parts.append(f"{name.strip()}:{int(count) if count else 1}")
    if not parts:
        raise ValueError("list monsters, e.g. goblin:4, hobgoblin:1")
    return ",".join(parts)


class EncounterScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("ctrl+s", "spawn", "Spawn it")]

    def __init__(self, roster: str = "") -> None:
        super().__init__()
        self.roster = roster
        self.last: dict | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Encounter builder", classes="dialog-title")
            yield Static("Monsters as name:count, comma separated; Enter estimates against the "
                         "current party; ctrl+s spawns it in the party's room.", classes="hint")
            yield Input(self.roster, placeholder="goblin:4, hobgoblin:1", id="roster")
            yield Static("", id="result")
            yield Static("", id="error", classes="error")

    @property
    def console(self) -> DungeonConsole:
        return cast("DungeonConsole", self.app)

    @on(Input.Submitted, "#roster")
    async def _estimate(self, event: Input.Submitted) -> None:
        err = self.query_one("#error", Static)
        try:
            roster = parse_roster(event.value)
            res = await self.console.request("encounter.estimate", monsters=roster)
        except (ValueError, ControlError) as e:
            err.update(Text(str(e).splitlines()[0], style="bold red"))
            return
        err.update("")
        self.last = res
        diff = str(res.get("difficulty"))
        rate = float(res.get("party_win_rate") or 0.0)
        t = Text("difficulty ")
        t.append(diff.upper(), style=DIFFICULTY_STYLE.get(diff, "bold"))
        t.append(f"   {res.get('xp')} XP")
        levels = [int(p.get("level") or 1) for p in (self.console.state or {}).get("party") or []]
        limits = thresholds(levels)
        if limits:
            t.append("\nparty thresholds ", style="grey62")
            t.append("  ".join(f"{k} {v}" for k, v in limits.items()), style="grey62")
        t.append("\nparty wins ")
        colour = "green" if rate >= 0.75 else "yellow" if rate >= 0.4 else "red"
        filled = round(rate * 20)
        t.append("▮" * filled, style=colour)
        t.append("▯" * (20 - filled), style="grey35")
        t.append(f" {rate * 100:.0f}% of simulated fights")
        self.query_one("#result", Static).update(t)

    async def action_spawn(self) -> None:
        """Every group of the roster at once: the requests go out together, one round trip."""
        err = self.query_one("#error", Static)
        try:
            roster = parse_roster(self.query_one("#roster", Input).value)
        except ValueError as e:
            err.update(Text(str(e), style="bold red"))
            return
        groups = [part.partition(":") for part in roster.split(",")]
        results = await asyncio.gather(*(
            self.console.act(f"spawn {count} {name}", "command", quiet=True,
                             intent={"type": "Dm", "op": "spawn", "text": name,
                                     "value": int(count)})
            for name, _, count in groups))
        failed = [r.error for r in results if not r.ok]
        if failed:
            err.update(Text(failed[0], style="bold red"))
            return
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
