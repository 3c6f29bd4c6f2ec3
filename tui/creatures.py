"""The party and monster table: HP bars, temp HP, AC, conditions, concentration, slots, death saves."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tui import view


class CreatureTable(DataTable):
    """One row per creature the DM can act on: the party (anyone away from the party's room
    marked @room) and the living foes in the room. The cursor row is the target of damage,
    heal, conditions and sheets."""

    BORDER_TITLE = "Party & foes"

    WIDE = (("", "mark"), ("Name", "name"), ("HP", "hp"), ("AC", "ac"),
            ("Conditions · conc", "cond"), ("Slots", "slots"), ("Death", "death"))
    # at 80 columns conditions, concentration, slots and death saves share one column
    COMPACT = (("", "mark"), ("Name", "name"), ("HP", "hp"), ("AC", "ac"), ("Status", "status"))

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.compact: bool | None = None
        self._columns(False)

    def _columns(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.clear(columns=True)
        for label, key in self.COMPACT if compact else self.WIDE:
            self.add_column(label, key=key)
        self.compact = compact

    @property
    def selected_eid(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return int(key.value) if key.value is not None else None

    def selected_row(self, state: dict[str, Any] | None) -> dict[str, Any] | None:
        eid = self.selected_eid
        for row in _rows(state):
            if row["eid"] == eid:
                return row
        return None

    def show(self, state: dict[str, Any] | None, *, compact: bool = False) -> None:
        """Rebuild from a state view, keeping the cursor on the same creature."""
        keep = self.selected_eid
        room = (state or {}).get("room") or {}
        # who is listed: the party's room names the foes in it
        self.border_title = f"{self.BORDER_TITLE} in {room['name']}" if room.get("name") \
            else self.BORDER_TITLE
        self._columns(compact)
        self.clear()
        bar_width = 4 if compact else 8
        turn = ((state or {}).get("session") or {}).get("turn")
        for row in _rows(state):
            is_pc = row.get("kind") == "pc"
            dead = bool(row.get("dead"))
            name = Text(str(row.get("name")), style="bold" if is_pc else "red")
            if dead:
                name.stylize("strike dim")
            if not row["here"]:  # a party member who is not in the party's room
                name.stylize("dim")
                name.append(f" @{row.get('room')}", style="grey50")
            mark = Text("▶" if row["eid"] == turn else " ", style="bold yellow")
            conds = conditions_text(row.get("conditions") or [])
            conc = Text(f"◉{row['concentration']}" if row.get("concentration") else "", style="cyan")
            slots = view.slots_text(row.get("slots")) if is_pc else Text("")
            death = view.death_saves_text(row.get("death_saves"), row.get("hp")) if is_pc else Text("")
            hp = view.hp_bar(row.get("hp"), row.get("hp_max"), row.get("temp_hp") or 0, bar_width)
            ac = Text(str(row.get("ac", "")), justify="right")
            if compact:
                status = Text(" ").join(t for t in (death, conds, conc, slots) if t.plain)
                self.add_row(mark, name, hp, ac, status, key=str(row["eid"]))
            else:
                both = Text(" ").join(t for t in (conds, conc) if t.plain)
                self.add_row(mark, name, hp, ac, both, slots, death, key=str(row["eid"]))
        if keep is not None:
            try:
                self.move_cursor(row=self.get_row_index(str(keep)), animate=False)
            except Exception:
                pass

    def select_eid(self, eid: int) -> None:
        self.move_cursor(row=self.get_row_index(str(eid)), animate=False)


SHORT_CONDITION = {
    "unconscious": "uncon", "incapacitated": "incap", "restrained": "restr",
    "frightened": "fright", "paralyzed": "para", "petrified": "petri", "exhaustion": "exh",
    "invisible": "invis", "grappled": "grapl", "poisoned": "pois", "blinded": "blind",
    "deafened": "deaf", "charmed": "charm", "stunned": "stun",
}


def conditions_text(conditions: list[str]) -> Text:
    """One condition in full; several shortened so the row keeps its width."""
    names = conditions if len(conditions) < 2 else [SHORT_CONDITION.get(c, c) for c in conditions]
    return Text(",".join(names), style="magenta")


def _rows(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The party, then the living foes in the party's room: the dead and the foes left
    behind in other rooms are no one the DM acts on."""
    if not state:
        return []
    here = (state.get("room") or {}).get("id")
    party = [dict(r, kind="pc", here=here is None or r.get("room") == here)
             for r in state.get("party") or []]
    foes = [dict(r, kind="monster", here=True) for r in state.get("monsters") or []
            if not r.get("dead") and (here is None or r.get("room") == here)]
    return party + foes
