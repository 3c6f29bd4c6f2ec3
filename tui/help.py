"""The help screen: every DM action and its key, grouped, from the one action table."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.actions import ACTIONS, key_label


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 1))
        table.add_column(style="bold yellow", no_wrap=True)
        table.add_column(style="grey62", no_wrap=True)
        table.add_column()
        for a in ACTIONS:
            table.add_row(key_label(a.key), a.group, a.help)
        table.add_row("↑↓", "table", "select a creature (the target of d, h, o, v, f)")
        table.add_row("ctrl+l", "players", "in a sheet: a one-time Discord link code for it")
        table.add_row("ctrl+p", "console", "command palette: every action by name")
        table.add_row("q ctrl+c", "console", getattr(self.app, "quit_help", "quit the console"))
        self.table = table  # what the screen lists, for a reader other than the eye
        with VerticalScroll(classes="dialog help"):
            yield Label("DM console keys", classes="dialog-title")
            yield Static(table)
            yield Static("Every action is one request to the node's control socket, through the "
                         "same command path as the radio. Esc closes.", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
