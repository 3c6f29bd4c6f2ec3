"""The relay's read model of each game, folded from synced events, for Discord to show."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class GameMirror:
    """What Discord may see of one node's game: names, hit points, round, recent lines."""

    node_id: str
    last_seq: int = 0
    round: int = 0
    turn_eid: int = 0
    names: dict[int, str] = field(default_factory=dict)
    hp: dict[int, int] = field(default_factory=dict)
    monsters: set[int] = field(default_factory=set)
    dead: set[int] = field(default_factory=set)
    down: set[int] = field(default_factory=set)  # at 0 HP, not yet dead or stable
    classes: dict[int, tuple[str, int]] = field(default_factory=dict)  # eid -> (class, level)
    conditions: dict[int, set[str]] = field(default_factory=dict)
    actors: dict[str, int] = field(default_factory=dict)  # sender -> eid last acted for
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=50))

    def name(self, eid: int) -> str:
        return self.names.get(eid, f"#{eid}")

    def apply(self, seq: int, payload: dict[str, Any]) -> list[str]:
        """Fold one logged command's events; return its summary lines. Old seqs are ignored."""
        if seq <= self.last_seq:
            return []
        self.last_seq = seq
        sender = payload.get("sender")
        actor = payload.get("actor", payload.get("eid"))  # command rows name an actor; bind rows an eid
        if isinstance(sender, str) and isinstance(actor, int):
            self.actors[sender] = actor
        lines = []
        for ev in payload.get("events") or []:
            if isinstance(ev, dict):
                line = self._fold(ev)
                if line:
                    lines.append(line)
        self.recent.extend(lines)
        return lines

    def _fold(self, ev: dict[str, Any]) -> str | None:
        t = ev.get("type")
        n = self.name
        if t == "Joined":
            self.names[ev["eid"]] = ev["name"]
            self.classes[ev["eid"]] = (str(ev["cls"]), int(ev.get("level") or 1))
            return f"{ev['name']} the {ev['cls']} joins."
        if t == "Spawned":
            self.names[ev["eid"]] = ev["name"]
            self.monsters.add(ev["eid"])
            return f"A {ev['monster']} appears: {ev['name']}."
        if t == "Attacked":
            verdict = "crits" if ev.get("crit") else "hits" if ev.get("hit") else "misses"
            return f"{n(ev['eid'])} {verdict} {n(ev['target'])} ({ev['total']} vs AC {ev['ac']}, {ev['using']})."
        if t == "Damaged":
            self.hp[ev["target"]] = ev["hp"]
            return f"{n(ev['target'])} takes {ev['amount']} {ev['dtype']} ({ev['hp']} HP)."
        if t == "Healed":
            self.hp[ev["target"]] = ev["hp"]
            self.down.discard(ev["target"])
            return f"{n(ev['target'])} heals {ev['amount']} ({ev['hp']} HP)."
        if t == "Rolled":
            return f"{n(ev['eid'])} rolls {ev['what']}: {ev['total']}."
        if t == "Downed":
            self.down.add(ev["target"])
            return f"{n(ev['target'])} is down!"
        if t == "Stabilised":
            self.down.discard(ev["target"])
            return f"{n(ev['target'])} is stable."
        if t == "Died":
            self.dead.add(ev["target"])
            self.down.discard(ev["target"])
            return f"{n(ev['target'])} dies."
        if t == "ConditionChanged":
            held = self.conditions.setdefault(ev["target"], set())
            (held.add if ev["on"] else held.discard)(str(ev["condition"]))
            return None
        if t == "TurnStarted":
            self.round, self.turn_eid = ev["round"], ev["eid"]
            return f"Round {ev['round']}: {n(ev['eid'])}'s turn."
        if t == "CombatStarted":
            return "Combat! Order: " + ", ".join(n(e) for e in ev["order"])
        if t == "CombatEnded":
            return f"Combat over ({ev['xp']} XP)."
        if t == "SpellCast":
            return f"{n(ev['eid'])} casts {ev['spell']}."
        if t == "Affected":
            return f"{ev['spell']} on {', '.join(n(e) for e in ev['targets'])}."
        if t == "ActionTaken":
            return f"{n(ev['eid'])} uses {ev['action']}."
        if t == "Said":
            return f"{n(ev['eid'])}: {ev['text']}"
        if t in ("Narrated", "Info"):
            return str(ev.get("text", ""))[:200] or None
        return None

    def sheet(self, eid: int) -> str:
        """One character as the relay last saw it: class and level, HP, state, conditions."""
        cls, level = self.classes.get(eid, ("", 0))
        who = f"{self.name(eid)}, {cls} {level}" if cls else self.name(eid)
        hp = self.hp.get(eid)
        state = "dead" if eid in self.dead else "down" if eid in self.down else None
        parts = [f"HP {hp if hp is not None else '?'}"] + ([state] if state else [])
        held = sorted(self.conditions.get(eid, ()))
        if held:
            parts.append(", ".join(held))
        return f"{who}: " + "; ".join(parts)

    def status(self) -> dict[str, Any]:
        alive = [e for e in self.names if e not in self.dead]
        return {
            "node_id": self.node_id,
            "seq": self.last_seq,
            "round": self.round,
            "turn": self.name(self.turn_eid) if self.turn_eid else None,
            "party": [{"eid": e, "name": self.names[e], "hp": self.hp.get(e)} for e in alive
                      if e not in self.monsters],
            "monsters": [{"eid": e, "name": self.names[e], "hp": self.hp.get(e)} for e in alive
                         if e in self.monsters],
        }


class Mirror:
    """All games the relay knows, keyed by node id."""

    def __init__(self) -> None:
        self.games: dict[str, GameMirror] = {}

    def game(self, node_id: str) -> GameMirror:
        if node_id not in self.games:
            self.games[node_id] = GameMirror(node_id)
        return self.games[node_id]
