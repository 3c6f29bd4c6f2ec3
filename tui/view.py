"""Pure helpers that turn the node's state view into console text: HP bars, slots, radio figures, log filters."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text

LOG_FILTERS: tuple[str, ...] = ("all", "combat", "story", "party", "console")

_CATEGORY: dict[str, str] = {
    "Attacked": "combat", "Damaged": "combat", "Healed": "combat", "ConditionChanged": "combat",
    "Downed": "combat", "Died": "combat", "Stabilised": "combat", "DeathSave": "combat",
    "SpellCast": "combat", "Affected": "combat", "ActionTaken": "combat", "Moved": "combat", "TurnStarted": "combat",
    "CombatStarted": "combat", "CombatEnded": "combat", "Rolled": "combat",
    "Narrated": "story", "Said": "story", "Entered": "story", "RoomView": "story", "Info": "story",
    "Joined": "party", "Rested": "party", "LevelledUp": "party", "Spawned": "combat",
}


def categories(event_types: list[str], source: str) -> set[str]:
    """The log filters an entry belongs to; console entries are the DM's own notes and errors."""
    if source == "console":
        return {"console"}
    return {_CATEGORY[t] for t in event_types if t in _CATEGORY} or {"story"}


def hp_bar(hp: int | None, hp_max: int | None, temp: int = 0, width: int = 8) -> Text:
    """A bar plus figures: green above half, yellow above a quarter, red below, blue for temp HP."""
    hp, hp_max = int(hp or 0), max(1, int(hp_max or 1))
    # full only at full HP, and never empty while standing: the bar must not round away the truth
    if hp >= hp_max:
        filled = width
    else:
        filled = min(width - 1, max(1, math.floor(width * hp / hp_max))) if hp > 0 else 0
    colour = "green" if hp * 2 > hp_max else "yellow" if hp * 4 > hp_max else "red"
    bar = Text("█" * filled, style=colour)
    bar.append("░" * (width - filled), style="grey35")
    bar.append(f" {hp:>3}/{hp_max:<3}")
    if temp:
        bar.append(f"+{temp}", style="bold cyan")
    return bar


def slots_text(slots: dict[str, list[int]] | None) -> Text:
    """Remaining spell slots per level as pips: ●●○ is 2 of 3 left."""
    out = Text()
    for level in sorted(slots or {}, key=int):
        used, top = (slots or {})[level]
        left = max(0, top - used)
        if out:
            out.append(" ")
        out.append(f"{level}", style="dim")
        out.append("●" * left, style="magenta")
        out.append("○" * (top - left), style="grey35")
    return out


def death_saves_text(saves: list[int] | None, hp: int | None) -> Text:
    """Only meaningful at 0 HP: successes as green ✓, failures as red ✗."""
    s, f = (saves or [0, 0])[:2]
    if (hp or 0) > 0 and not s and not f:
        return Text("")
    t = Text("✓" * s, style="green")
    t.append("✗" * f, style="red")
    t.append("·" * (6 - s - f), style="grey35")
    return t


def radio_figures(radio: dict[str, Any] | None) -> dict[str, Any]:
    """The radio panel's figures, whether the node reports them flat (CONTROL.md) or under "outbox"."""
    radio = radio or {}
    box = radio.get("outbox") if isinstance(radio.get("outbox"), dict) else {}

    def pick(key: str, default: Any) -> Any:
        if key in radio and not isinstance(radio[key], dict):
            return radio[key]
        return box.get(key, default)

    return {
        "link": radio.get("link", "down"),
        "spec": radio.get("spec", ""),
        "channel_util": float(pick("channel_util", 0.0) or 0.0),
        "airtime_used_s": float(pick("airtime_used_s", 0.0) or 0.0),
        "duty_budget_s": float(pick("duty_budget_s", 0.0) or 0.0),
        "queue": int(pick("queue", 0) or 0),
        "last_packets": list(pick("last_packets", []) or []),
        "airtime_buckets_s": [float(x) for x in pick("airtime_buckets_s", []) or []],
        "duty_refusals": int(radio.get("duty_refusals", 0) or 0),
    }


def meter(frac: float, width: int, warn: float = 0.5, bad: float = 0.8) -> Text:
    frac = max(0.0, min(1.0, frac))
    filled = round(frac * width)
    colour = "green" if frac < warn else "yellow" if frac < bad else "red"
    t = Text("▮" * filled, style=colour)
    t.append("▯" * (width - filled), style="grey35")
    return t


def packet_to(to: Any) -> str:
    if to in (0xFFFFFFFF, "^all", None):
        return "all"
    return f"!{to:08x}" if isinstance(to, int) else str(to)


def name_of(state: dict[str, Any] | None, eid: int | None) -> str:
    if not state or eid is None:
        return "-"
    for row in (state.get("party") or []) + (state.get("monsters") or []):
        if row.get("eid") == eid:
            return str(row.get("name"))
    return f"#{eid}"


def byte_count(text: str) -> int:
    return len(text.encode("utf-8"))
