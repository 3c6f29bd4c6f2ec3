"""Small modal dialogs: a one-line prompt that submits to the node, a yes/no confirm, and narration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from protocol.render import fit, sentence
from rules.dm import NARRATE_MAX_B
from tui import view

Submit = Callable[[str], Awaitable[str | None]]  # returns a one-line error, or None when done

NARRATE_LIMIT = NARRATE_MAX_B


class PromptScreen(ModalScreen[bool]):
    """Ask for one line; `submit` validates and sends it. An error keeps the dialog open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, hint: str, submit: Submit, *, value: str = "",
                 placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.hint, self.submit = title, hint, submit
        self.value, self.placeholder = value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.hint, classes="hint")
            yield Input(self.value, placeholder=self.placeholder, id="prompt")
            yield Static("", id="extra")
            yield Static("", id="error", classes="error")

    @on(Input.Submitted, "#prompt")
    async def _submitted(self, event: Input.Submitted) -> None:
        error = await self.submit(event.value)
        if error:
            self.query_one("#error", Static).update(Text(error.splitlines()[0], style="bold red"))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class ConfirmScreen(ModalScreen[bool]):
    """y or n."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            yield Static("y: yes   n / Esc: no", classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def outgoing(text: str) -> str:
    """Narration exactly as Enter sends it and the players read it: a sentence, in one packet."""
    return fit(sentence(text), NARRATE_LIMIT)


class NarrateScreen(PromptScreen):
    """Narration with a live UTF-8 byte counter and a preview of exactly what Enter sends."""

    def __init__(self, submit: Submit) -> None:
        super().__init__("Narrate to the table", "Broadcast to every player; one packet holds "
                         f"{NARRATE_LIMIT} bytes of UTF-8.", self._check_then(submit),
                         placeholder="The torches gutter…")

    def on_mount(self) -> None:
        self._count("")

    def _check_then(self, submit: Submit) -> Submit:
        async def go(text: str) -> str | None:
            if not text.strip():
                return "narrate what? the line is empty"
            return await submit(outgoing(text))

        return go

    @on(Input.Changed, "#prompt")
    def _changed(self, event: Input.Changed) -> None:
        self._count(event.value)

    def _count(self, text: str) -> None:
        n = view.byte_count(text)
        over = n > NARRATE_LIMIT
        t = Text(f"{n}/{NARRATE_LIMIT} B", style="bold red" if over else "bold green")
        sent = outgoing(text)
        if over:
            t.append(f"  over by {n - NARRATE_LIMIT} B; Enter sends it cut, ending: ",
                     style="red")
            t.append(sent[-60:], style="grey62")
        elif text.strip() and sent != text.strip():
            t.append("  Enter sends: ", style="grey50")
            t.append(sent[-60:], style="grey62")
        self.query_one("#extra", Static).update(t)
