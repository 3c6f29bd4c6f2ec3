"""House-rule toggles: every rule the engine knows, with what it does; Enter or space flips one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from rules.house import HOUSE_RULES

if TYPE_CHECKING:
    from tui.app import DungeonConsole


class HouseRulesScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("space", "toggle", "Toggle")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("House rules", classes="dialog-title")
            yield DataTable(id="rules", cursor_type="row")
            yield Static("Enter / space toggles the highlighted rule · Esc closes", classes="hint")
            yield Static("", id="error", classes="error")

    @property
    def console(self) -> DungeonConsole:
        return cast("DungeonConsole", self.app)

    def on_mount(self) -> None:
        self.query_one("#rules", DataTable).add_columns("rule", "on", "what it does")
        self.on_node_state(self.console.state)

    def on_node_state(self, state: dict[str, Any] | None) -> None:
        table = self.query_one("#rules", DataTable)
        row = table.cursor_row
        table.clear()
        settings = (state or {}).get("house_rules") or {}
        for name, rule in HOUSE_RULES.items():
            on_ = bool(settings.get(name, rule.default))
            table.add_row(name, Text("ON", style="bold green") if on_ else Text("off", style="red"),
                          Text(rule.description, style="grey70"), key=name)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    @on(DataTable.RowSelected, "#rules")
    async def _selected(self, event: DataTable.RowSelected) -> None:
        await self.action_toggle()

    async def action_toggle(self) -> None:
        table = self.query_one("#rules", DataTable)
        if not table.row_count:
            return
        name = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        rule = HOUSE_RULES[name]
        current = bool(((self.console.state or {}).get("house_rules") or {}).get(name, rule.default))
        await self._set(name, not current)

    async def _set(self, name: str, on_: bool) -> None:
        res = await self.console.act(f"house rule {name} {'on' if on_ else 'off'}", "house_rule",
                                     name=name, on=on_, quiet=True)
        if not res.ok:
            self._error(res.error)
            return
        self._error("")
        state = dict(self.console.state or {})
        state["house_rules"] = res.result.get("house_rules", {})
        self.on_node_state(state)

    def _error(self, msg: str) -> None:
        self.query_one("#error", Static).update(Text(msg, style="bold red") if msg else "")

    def action_close(self) -> None:
        self.dismiss(None)
