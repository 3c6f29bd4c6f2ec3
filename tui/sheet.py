"""The character sheet viewer and editor: validated one-line edits, version history, revert."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from node.control_client import ControlError

if TYPE_CHECKING:
    from tui.app import DungeonConsole

ABILITIES = ("str", "dex", "con", "int", "wis", "cha")


def parse_edit(text: str) -> tuple[str, int | str]:
    """"ac=16" -> ("ac", 16); ValueError with a one-line reason (the rules' own check, so the
    dialog refuses exactly what the node would)."""
    from rules.dm import check_sheet_edit
    from rules.errors import RulesError

    try:
        return check_sheet_edit(text)
    except RulesError as err:
        raise ValueError(str(err)) from None


def change_text(change: Any) -> str:
    """A history row's change in a few words: "edit ac=16", "join", "revert"."""
    if not isinstance(change, dict):
        return str(change)[:40]
    intent = change.get("intent") or {}
    if intent.get("type") == "Dm":
        return f"{intent.get('op', '')} {intent.get('text', '')}".strip()[:40]
    return str(intent.get("type") or change.get("kind") or "?").lower()


def _gear_text(names: list[str], unskilled: set[str]) -> Text:
    """Names joined by commas, each one the character lacks the proficiency for marked."""
    out = Text()
    for i, name in enumerate(names):
        out.append(", " if i else "")
        out.append(name)
        if name.lower() in unskilled:
            out.append(" (unskilled)", style="bold red")
    return out if names else Text("-")


def sheet_table(sheet: dict[str, Any], gear: dict[str, Any] | None = None) -> Table:
    """The sheet's fields two to a row; `gear` (sheet.get's) adds what is worn, marking
    armour and weapons the character is not proficient with."""
    gear = gear or {}
    unskilled = {str(n).lower() for n in gear.get("unskilled") or []}
    worn = [str(gear["armor"])] if gear.get("armor") else []
    worn += ["shield"] if gear.get("shield") else []
    t = Table(box=None, show_header=False, padding=(0, 1))
    t.add_column(style="grey62", no_wrap=True)
    t.add_column()
    t.add_column(style="grey62", no_wrap=True)
    t.add_column()
    ab = sheet.get("abilities") or {}
    pairs: list[tuple[str, str | Text]] = [
        ("name", str(sheet.get("name"))),
        ("class", " / ".join(f"{c} {n}" for c, n in (sheet.get("levels") or {
            sheet.get("cls"): sheet.get("level")}).items())),
        ("ac", str(sheet.get("ac"))), ("max_hp", str(sheet.get("max_hp"))),
        ("speed", str(sheet.get("speed"))), ("xp", str(sheet.get("xp"))),
        ("abilities", " ".join(f"{k} {ab[k]}" for k in ABILITIES if k in ab)),
        ("weapons", _gear_text([w.get("name", "?") for w in sheet.get("weapons") or []],
                               unskilled)),
        ("armour", _gear_text(worn, unskilled)),
        ("spells", ", ".join(sheet.get("spells") or []) or "-"),
        ("items", ", ".join(sheet.get("inventory") or []) or "-"),
    ]
    for i in range(0, len(pairs), 2):
        (a, b), (c, d) = pairs[i], pairs[i + 1] if i + 1 < len(pairs) else ("", "")
        t.add_row(a, b, c, d)
    return t


class SheetScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("ctrl+r", "revert", "Revert"),
                Binding("ctrl+l", "link_code", "Discord link code")]

    def __init__(self, eid: int) -> None:
        super().__init__()
        self.eid = eid
        self.version = 0
        self.sheet: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sheet"):
            yield Label(f"Character sheet #{self.eid}", id="sheet-title", classes="dialog-title")
            yield Static(id="sheet")
            yield Input(placeholder="field=value, e.g. ac=16 or name=Thorin", id="edit")
            yield Static("", id="error", classes="error")
            yield DataTable(id="history", cursor_type="row")
            yield Static("Enter saves an edit · ↓ history · ctrl+r reverts to the highlighted "
                         "version · ctrl+l Discord link code · Esc closes", classes="hint")

    @property
    def console(self) -> DungeonConsole:
        return cast("DungeonConsole", self.app)

    async def on_mount(self) -> None:
        hist = self.query_one("#history", DataTable)
        hist.add_columns("ver", "seq", "change")
        await self.reload()

    async def reload(self) -> None:
        try:  # both in flight at once: one round trip
            got, history = await asyncio.gather(
                self.console.request("sheet.get", eid=self.eid),
                self.console.request("sheet.history", eid=self.eid))
        except ControlError as err:
            self._error(str(err))
            return
        self.version, self.sheet = int(got.get("version") or 0), got.get("sheet") or {}
        self.query_one("#sheet-title", Label).update(
            f"{self.sheet.get('name')} — sheet v{self.version}")
        self.query_one("#sheet", Static).update(sheet_table(self.sheet, got.get("gear")))
        hist = self.query_one("#history", DataTable)
        hist.clear()
        for row in reversed(history):
            mark = "● " if row.get("version") == self.version else "  "
            hist.add_row(f"{mark}{row.get('version')}", str(row.get("seq")),
                         change_text(row.get("change")), key=str(row.get("version")))

    @on(Input.Submitted, "#edit")
    async def _edit(self, event: Input.Submitted) -> None:
        try:
            field, value = parse_edit(event.value)
        except ValueError as err:
            self._error(str(err))
            return
        res = await self.console.act(f"edit {self.sheet.get('name')} {field}={value}",
                                     "sheet.edit", eid=self.eid, field=field, value=value,
                                     quiet=True)
        if not res.ok:
            self._error(res.error)
            return
        event.input.value = ""
        self._error("")
        await self.reload()

    async def action_revert(self) -> None:
        hist = self.query_one("#history", DataTable)
        if not hist.row_count:
            return
        key = hist.coordinate_to_cell_key(hist.cursor_coordinate).row_key.value
        res = await self.console.act(f"revert {self.sheet.get('name')} to v{key}", "sheet.revert",
                                     eid=self.eid, version=int(key or 0), quiet=True)
        if not res.ok:
            self._error(res.error)
            return
        self._error("")
        await self.reload()

    async def action_link_code(self) -> None:
        """A one-time code the player gives the Discord bot to play this character remotely."""
        res = await self.console.act(f"link code for {self.sheet.get('name')}", "link.code",
                                     eid=self.eid, quiet=True)
        if not res.ok:
            self._error(res.error)
            return
        code, ttl = res.result.get("code"), res.result.get("expires_s")
        self.query_one("#error", Static).update(
            Text(f"link code {code} (valid {ttl:g} s): the player sends it to the bot",
                 style="bold green"))

    def _error(self, msg: str) -> None:
        self.query_one("#error", Static).update(
            Text(msg.splitlines()[0], style="bold red") if msg else "")

    def action_close(self) -> None:
        self.dismiss(None)
