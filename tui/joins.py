"""Pending join requests from radios: approve (a) or deny (x), refreshed live from the node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

if TYPE_CHECKING:
    from tui.app import DungeonConsole


class JoinsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("a", "decide(True)", "Approve"),
                Binding("x", "decide(False)", "Deny")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Join requests", classes="dialog-title")
            yield DataTable(id="joins", cursor_type="row")
            yield Static("a approves · x denies · Esc closes", classes="hint")
            yield Static("", id="error", classes="error")

    @property
    def console(self) -> DungeonConsole:
        return cast("DungeonConsole", self.app)

    def on_mount(self) -> None:
        # "key": the radio key's fingerprint, for the player to read out from their app
        self.query_one("#joins", DataTable).add_columns("#", "name", "class", "radio", "key")
        self.on_node_state(self.console.state)

    def on_node_state(self, state: dict[str, Any] | None) -> None:
        table = self.query_one("#joins", DataTable)
        row = table.cursor_row
        table.clear()
        for j in (state or {}).get("joins") or []:
            table.add_row(str(j["id"]), j.get("name"), j.get("cls"), j.get("sender"),
                          j.get("key") or "none", key=str(j["id"]))
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)
        else:
            self.query_one("#error", Static).update("no pending join requests")

    async def action_decide(self, approve: bool) -> None:
        table = self.query_one("#joins", DataTable)
        if not table.row_count:
            return
        jid = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or 0)
        name = table.get_row_at(table.cursor_row)[1]
        res = await self.console.act(f"{'approve' if approve else 'deny'} {name}",
                                     "join.approve" if approve else "join.deny", id=jid)
        if not res.ok:
            self.query_one("#error", Static).update(res.error)

    def action_close(self) -> None:
        self.dismiss(None)
