"""The scrolling game log with filters; keeps recent entries so a filter change redraws from memory."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widgets import RichLog

from tui import view

KEEP = 500


@dataclass(frozen=True)
class Entry:
    seq: int | None
    source: str  # the command's source ("dm", "text", "ai", ...) or "console" for the DM's own notes
    lines: tuple[str, ...]
    kinds: frozenset[str]
    error: bool = False


class CombatLog(RichLog):
    """Shows entries that match the current filter (all, combat, story, party, console)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=KEEP, min_width=20,
                         **kwargs)  # type: ignore[arg-type]
        self.entries: deque[Entry] = deque(maxlen=KEEP)
        self.filter = "all"
        self._title()

    def add_events(self, msg: dict) -> None:
        types = [e.get("type", "") for e in msg.get("events") or []]
        source = str(msg.get("source") or "node")
        entry = Entry(msg.get("seq"), source, tuple(msg.get("lines") or []),
                      frozenset(view.categories(types, source)))
        if entry.lines:
            self._add(entry)

    def note(self, text: str, *, error: bool = False) -> None:
        """A console line: the result or the refusal of the DM's own action."""
        self._add(Entry(None, "console", (text,), frozenset({"console"}), error))

    def cycle_filter(self) -> str:
        i = view.LOG_FILTERS.index(self.filter)
        self.set_filter(view.LOG_FILTERS[(i + 1) % len(view.LOG_FILTERS)])
        return self.filter

    def set_filter(self, name: str) -> None:
        self.filter = name
        self.clear()
        for e in self.entries:
            if self._wanted(e):
                self._write(e)
        self._title()

    def visible_text(self) -> list[str]:
        return [line for e in self.entries if self._wanted(e) for line in e.lines]

    def _add(self, entry: Entry) -> None:
        self.entries.append(entry)
        if self._wanted(entry):
            self._write(entry)

    def _wanted(self, e: Entry) -> bool:
        return self.filter == "all" or self.filter in e.kinds

    def _write(self, e: Entry) -> None:
        for line in e.lines:
            # a two-column grid gives wrapped lines a hanging indent under the text, not the seq
            row = Table.grid(padding=(0, 1))
            row.add_column(width=4, justify="right", no_wrap=True)
            row.add_column(ratio=1)
            if e.source == "console":
                row.add_row(Text("»", style="bold red" if e.error else "bold cyan"),
                            Text(line, style="red" if e.error else "cyan"))
            else:
                story = "story" in e.kinds and e.source == "dm"
                row.add_row(Text(str(e.seq) if e.seq is not None else "", style="grey50"),
                            Text(line, style="yellow" if story else ""))
            self.write(row, expand=True)

    def _title(self) -> None:
        self.border_title = f"Log [{self.filter}]"
