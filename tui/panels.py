"""The read-only panels: status line, initiative, room and map, radio and uplink."""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from tui import roommap, view
from tui.link import LinkStatus


class StatusBar(Static):
    """One line that says first whether what is on screen is live."""

    def show(self, state: dict[str, Any] | None, link: LinkStatus | None, *,
             narrow: bool = False) -> None:
        t = Text()
        if link is None or not link.live:
            t.append(" NOT LIVE ", style="bold white on red")
            if link is None:
                t.append(" connecting to the node…", style="bold red")
            else:
                t.append(f" {link.error or 'node unreachable'}; retry in {link.retry_in_s:g} s "
                         f"(attempt {link.attempt})", style="bold red")
            if state:
                t.append(" · last known state, dimmed", style="red")
            self.update(t)
            return
        t.append(" LIVE ", style="bold black on green")
        s = (state or {}).get("session") or {}
        if not narrow:
            t.append(f" {(state or {}).get('node_id', link.hello.get('node_id', '?'))} ·",
                     style="bold")
        if s:
            status = s.get("status", "?")
            colour = {"running": "green", "paused": "yellow", "ended": "red"}.get(status, "")
            t.append(f" {s.get('id')} ")
            t.append(status, style=f"bold {colour}")
            t.append(f" · {s.get('dungeon')}")
            if s.get("turn") is not None:
                t.append(f" · round {s.get('round')} · {view.name_of(state, s.get('turn'))}'s turn")
        else:
            t.append(" no session", style="yellow")
        if (state or {}).get("ai_paused"):
            t.append(" · AI PAUSED", style="bold yellow")
        joins = len((state or {}).get("joins") or [])
        if joins:
            t.append(f" · {joins} join{'s' * (joins > 1)} (j)", style="bold magenta")
        self.update(t)


class InitiativePanel(Static):
    """Initiative order with the current turn marked and the turn timer counting down."""

    BORDER_TITLE = "Initiative"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state: dict[str, Any] | None = None
        self.received_at = 0.0
        self.ticking = True
        self.rolls: dict[int, int] = {}  # eid -> initiative total, from the log's Rolled events

    def note_events(self, events: list[dict[str, Any]]) -> None:
        """The state view carries no initiative totals; the CombatStarted push's rolls do."""
        if any(e.get("type") == "CombatStarted" for e in events):
            self.rolls = {}
        for e in events:
            if e.get("type") == "Rolled" and e.get("what") == "initiative":
                self.rolls[int(e["eid"])] = int(e["total"])

    def show(self, state: dict[str, Any] | None) -> None:
        self.state = state
        self.received_at = time.monotonic()
        self.redraw()

    def remaining_s(self) -> float | None:
        s = (self.state or {}).get("session") or {}
        deadline = s.get("turn_deadline_s")
        if deadline is None:
            return None
        elapsed = time.monotonic() - self.received_at if self.ticking else 0.0
        return max(0.0, float(deadline) - elapsed)

    def redraw(self) -> None:
        state = self.state or {}
        order = state.get("initiative") or []
        s = state.get("session") or {}
        if not order:
            self.update(Text("out of combat  (c: start)", style="dim"))
            return
        pcs = {p["eid"] for p in state.get("party") or []}
        dead = {m["eid"] for m in state.get("monsters") or [] if m.get("dead")}
        head = Text(f"Round {s.get('round', 0)}", style="bold")
        left = self.remaining_s()
        if left is not None:
            head.append(f"  ⏱ {math.ceil(left)}s", style="bold red" if left < 10 else "bold")
        lines = [head]
        for row in order:
            mine = row["eid"] == s.get("turn")
            t = Text("▶ " if mine else "  ", style="bold yellow")
            style = "bold" if row["eid"] in pcs else "red"
            if row["eid"] in dead:
                style += " strike dim"
            t.append(str(row.get("name")), style=style + (" reverse" if mine else ""))
            init = row.get("init") if row.get("init") is not None else self.rolls.get(row["eid"])
            if init is not None:
                t.append(f" {init}", style="grey50")
            lines.append(t)
        self.update(Group(*lines))


class RoomPanel(Static):
    """The current room (light, exits, doors) above the dungeon's room graph."""

    BORDER_TITLE = "Room & map"

    def show(self, state: dict[str, Any] | None, *, compact: bool = False) -> None:
        state = state or {}
        room = state.get("room")
        if not room:
            self.update(Text("no room yet", style="dim"))
            return
        light = room.get("light", "?")
        head = Text(f"{room.get('id')} {room.get('name')}", style="bold")
        head.append(f"  {light}", style={"bright": "yellow", "dim": "grey62",
                                         "dark": "blue"}.get(light, ""))
        exits = Text("exits: ")
        for i, x in enumerate(room.get("exits") or []):
            if i:
                exits.append(", ")
            exits.append(f"{x.get('dir')}", style="bold")
            exits.append(f"→{x.get('to')}")
            if x.get("name"):
                exits.append(f" {x['name']}", style="grey62")
            door = x.get("door")
            if door:
                exits.append(f" [{door}]", style="red" if door == "locked" else "green")
        rooms = state.get("rooms") or []
        party_rooms = {p.get("room") for p in state.get("party") or []}
        foe_rooms = {m.get("room") for m in state.get("monsters") or [] if not m.get("dead")}
        parts: list[Any] = [head, exits]
        if not compact:
            parts.append(roommap.draw(rooms, room.get("id"), party_rooms, foe_rooms))
            notes = roommap.unlinked(rooms)
            if notes:
                parts.append(Text("also linked: " + " ".join(notes), style="grey50"))
        self.update(Group(*parts))


class RadioPanel(Vertical):
    """Link, channel use, airtime over the rolling hour (a sparkline against the duty budget),
    the outbox queue, the last packets; uplink."""

    BORDER_TITLE = "Radio"

    def compose(self) -> ComposeResult:
        yield Static(id="radio-head")
        yield Sparkline([], id="airtime", summary_function=max)
        yield Static(id="radio-tail")

    def show(self, state: dict[str, Any] | None, *, packets: int = 3) -> None:
        state = state or {}
        r = view.radio_figures(state.get("radio"))
        head = Text("link ")
        head.append(r["link"], style="bold green" if r["link"] == "up" else "bold red")
        if r["spec"]:
            head.append(f" ({r['spec']})", style="grey50")
        head.append(f"  queue {r['queue']}")
        util = Text("chan ")
        util.append_text(view.meter(r["channel_util"] / 0.25, 10))  # the firmware holds back at 25%
        util.append(f" {r['channel_util'] * 100:4.1f}%")
        air = Text("air last hour ")
        budget = r["duty_budget_s"]
        used = r["airtime_used_s"]
        share = used / budget if budget else 0.0
        air.append(f"{used:.1f}/{budget:.0f} s", style="green" if share < 0.5 else
                   "yellow" if share < 0.8 else "bold red")
        self.query_one("#radio-head", Static).update(Group(head, util, air))
        spark = self.query_one("#airtime", Sparkline)
        # the shape of the hour, oldest slice first; the line above gives the level
        spark.data = r["airtime_buckets_s"]
        parts: list[Any] = []
        for p in r["last_packets"][-packets:][::-1]:
            parts.append(Text(f" → {view.packet_to(p.get('to')):<9} port {p.get('port')} "
                              f"{p.get('bytes')} B", style="grey62"))
        uplink = state.get("uplink")
        if uplink is not None:
            t = Text("uplink ")
            online = bool(uplink.get("online"))
            t.append("online" if online else "offline", style="bold green" if online else "bold red")
            t.append(f"  backlog {uplink.get('backlog', 0)}")
            parts.append(t)
        self.query_one("#radio-tail", Static).update(Group(*parts))
