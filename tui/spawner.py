"""The monster spawner: search the SRD as you type, pick one, spawn N in the party's room."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from node.control_client import ControlError

if TYPE_CHECKING:
    from tui.app import DungeonConsole


def cr_text(cr: Any) -> str:
    fractions = {0.125: "1/8", 0.25: "1/4", 0.5: "1/2"}
    if cr is None:
        return "?"
    return fractions.get(float(cr), f"{float(cr):g}")


class SpawnerScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Spawn monsters (SRD)", classes="dialog-title")
            with Horizontal(classes="row"):
                yield Input(placeholder="search: goblin, skeleton…", id="query")
                yield Input("1", id="count", type="integer", max_length=2)
            yield OptionList(id="hits")
            yield Static("Type to search · ↓ to the list · Enter spawns · Esc closes",
                         classes="hint")
            yield Static("", id="error", classes="error")

    @property
    def console(self) -> DungeonConsole:
        return cast("DungeonConsole", self.app)

    def on_mount(self) -> None:
        self.search("")

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(exclusive=True, group="srd")
    async def search(self, query: str) -> None:
        try:
            hits = await self.console.request("srd.search", kind="monster", query=query)
        except ControlError as err:
            self._error(str(err))
            return
        box = self.query_one("#hits", OptionList)
        box.clear_options()
        box.add_options([Option(Text.assemble((h["name"], "bold"), f"  CR {cr_text(h.get('cr'))}"),
                                id=h["name"]) for h in hits])
        if hits:
            box.highlighted = 0

    @on(Input.Submitted)
    async def _enter(self, event: Input.Submitted) -> None:
        box = self.query_one("#hits", OptionList)
        if box.highlighted is None:
            self._error("no monster matches; try another search")
            return
        await self.spawn(box.get_option_at_index(box.highlighted).id or "")

    @on(OptionList.OptionSelected, "#hits")
    async def _picked(self, event: OptionList.OptionSelected) -> None:
        await self.spawn(event.option.id or "")

    async def spawn(self, name: str) -> None:
        raw = self.query_one("#count", Input).value.strip() or "1"
        if not raw.isdigit() or not 1 <= int(raw) <= 20:
            self._error("count must be 1 to 20")
            return
        res = await self.console.act(f"spawn {raw} {name}", "command",
                                     intent={"type": "Dm", "op": "spawn", "text": name,
                                             "value": int(raw)}, quiet=True)
        if not res.ok:
            self._error(res.error)
            return
        self.dismiss(True)

    def _error(self, msg: str) -> None:
        self.query_one("#error", Static).update(Text(msg.splitlines()[0], style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(False)
