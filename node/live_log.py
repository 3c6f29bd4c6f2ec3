"""Human-readable live log of the game: one line per accepted command, for demos and terminals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from node.pipeline import Command, Outcome, Pipeline


def format_line(seq: int, cmd: Command, out: Outcome, game: Any) -> str:
    who = cmd.sender
    if out.actor is not None and game is not None:
        try:
            who = game.name_of(out.actor)
        except Exception:
            pass
    what = type(cmd.intent).__name__.lower()
    from protocol import render

    try:
        lines = render.render(out.events, game, limit=10_000) if game is not None else []
    except Exception:  # the live log must never stop the game
        lines = []
    text = " | ".join(lines) if lines else ", ".join(type(e).__name__ for e in out.events)
    return f"#{seq:<5} {cmd.source:<6} {who:<12} {what:<9} {text}"


class LiveLog:
    """Writes each accepted command to `stream` (or hands it to `sink`)."""

    def __init__(self, pipeline: Pipeline, stream: TextIO | None = None,
                 sink: Callable[[str], None] | None = None) -> None:
        self.pipeline = pipeline
        self.stream = stream
        self.sink = sink
        self._unsub = pipeline.subscribe(self._on_outcome)

    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        line = format_line(seq, cmd, out, self.pipeline.game)
        if self.sink is not None:
            self.sink(line)
        if self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._unsub()
