"""The JSON state view the control API serves (node/CONTROL.md), built from the game and the node."""

from __future__ import annotations

from typing import Any

from node.identity import fingerprint, text_auth

# Fields of a character that make up its sheet; hp, slots used and the like are play state,
# not sheet edits, so they do not mint a new sheet version on every hit.
SHEET_FIELDS = (
    "name", "cls", "level", "abilities", "ac", "max_hp", "prof", "speed", "darkvision",
    "save_prof", "skills", "resist", "immune", "vuln", "weapons", "spells", "spell_ability",
    "max_slots", "res_max", "hit_dice", "hd_size", "inventory", "xp",
    "levels",  # a multiclass character's levels by class (absent for one class)
)


def _entity(game: Any, eid: int) -> Any:
    return game.entity(eid)


def _as_dict(ent: Any) -> dict[str, Any]:
    if hasattr(ent, "to_dict"):
        return ent.to_dict()
    return dict(ent)


def entity_dict(game: Any, eid: int) -> dict[str, Any]:
    """A character's sheet (the SHEET_FIELDS it has)."""
    d = _as_dict(_entity(game, eid))
    return {k: d[k] for k in SHEET_FIELDS if k in d}


def gear(game: Any, eid: int) -> dict[str, Any]:
    """What a character wears and wields, and which of it they lack the proficiency for
    (rules/proficiency: such armour costs STR and DEX rolls and every spell, such a weapon
    its proficiency bonus); the console's sheet marks those."""
    from rules import proficiency

    e = _entity(game, eid)
    armor = proficiency.armor_name(e.armor) if e.armor else ""
    unskilled = [w["name"] for w in e.weapons if not proficiency.weapon_ok(e, w)]
    worn = proficiency.hampering(e)
    return {"armor": armor, "shield": bool(e.shield),
            "unskilled": ([worn] if worn else []) + unskilled}


def _conditions(d: dict[str, Any]) -> list[str]:
    conds = d.get("conditions") or {}
    return sorted(conds) if isinstance(conds, dict) else list(conds)


def party_row(game: Any, eid: int, senders: list[str],
              key: str | None = None) -> dict[str, Any]:
    d = _as_dict(_entity(game, eid))
    slots = d.get("slots") or []
    max_slots = d.get("max_slots") or []
    return {
        "eid": eid, "name": d.get("name"), "cls": d.get("cls"), "level": d.get("level"),
        "hp": d.get("hp"), "hp_max": d.get("max_hp"), "temp_hp": d.get("temp_hp", 0),
        "ac": d.get("ac"), "conditions": _conditions(d), "concentration": d.get("conc") or None,
        "slots": {str(i + 1): [m - s, m] for i, (s, m) in enumerate(zip(slots, max_slots, strict=False)) if m},
        "death_saves": [d.get("death_s", 0), d.get("death_f", 0)], "room": d.get("room"),
        "sender": senders[0] if senders else None,
        "key": key,  # the pinned radio key's fingerprint, None while unpinned
    }


def monster_row(game: Any, eid: int) -> dict[str, Any]:
    d = _as_dict(_entity(game, eid))
    return {"eid": eid, "name": d.get("name"), "hp": d.get("hp"), "hp_max": d.get("max_hp"),
            "ac": d.get("ac"), "conditions": _conditions(d), "room": d.get("room"),
            "dead": bool(d.get("dead")) or bool(d.get("fled"))}


def build(app: Any) -> dict[str, Any]:
    """The `state` op's result; also pushed after every change."""
    p = app.pipeline
    s = p.session
    game = p.game
    view: dict[str, Any] = {
        "node_id": app.config.node_id, "live": True, "session": None, "party": [],
        "monsters": [], "initiative": [], "room": None, "rooms": [],
        # key: the asking radio's key fingerprint, for the player to read out from their
        # app before the DM approves (None: the radio vouched for no key, e.g. channel text)
        "joins": [{"id": j.id, "name": j.name, "cls": j.cls, "sender": j.sender,
                   "key": j.fingerprint, "source": j.source} for j in p.pending_joins()],
        "settings": {"text_auth": text_auth(game), "party_max": p.party_max,
                     "auto_approve": p.auto_approve},
        "radio": app.radio_status(), "uplink": app.uplink_status(),
        "ai_paused": app.loop.ai_paused if app.loop else False, "house_rules": {},
        "seq": app.store.max_seq(),
    }
    if s is None or game is None:
        return view
    turn = game.current_turn()
    combat = getattr(game, "combat", None) or {}
    view["session"] = {
        "id": s.id, "status": s.status, "dungeon": s.dungeon,
        "round": combat.get("round", 0) if isinstance(combat, dict) else 0, "turn": turn,
        "turn_deadline_s": app.loop.deadline_in() if app.loop else None,
        "digest": game.digest(),
    }
    view["party"] = [party_row(game, e, senders, _key(app, senders))
                     for e in game.party_eids() for senders in [p.senders_of(e)]]
    view["monsters"] = [monster_row(game, e) for e in game.monster_eids()]
    if isinstance(combat, dict):
        order = combat.get("order") or []
        totals = combat.get("init") or {}  # creatures added mid-fight have no roll
        view["initiative"] = [{"eid": e, "name": game.name_of(e), "init": totals.get(str(e))}
                              for e in order]
    from rules.house import effective

    view["house_rules"] = effective(dict(getattr(game, "house", {}) or {}))
    view["room"] = _room(game)
    view["rooms"] = _rooms(game)
    return view


def _key(app: Any, senders: list[str]) -> str | None:
    return fingerprint(app.store.public_key(senders[0])) if senders else None


def _exit_row(game: Any, rid: int, x: Any) -> dict[str, Any]:
    unlocked = set(game.state.get("unlocked", [])) if hasattr(game, "state") else set()
    door = None
    if x.locked:
        door = "open" if {f"{rid}:{x.to}", f"{x.to}:{rid}"} & unlocked else "locked"
    return {"dir": x.dir, "to": x.to, "name": x.name or None, "door": door}


def _room(game: Any) -> dict[str, Any] | None:
    rid = getattr(game, "room", None)
    dungeon = getattr(game, "dungeon", None)
    if rid is None or dungeon is None:
        return None
    r = dungeon.room(rid)
    return {"id": rid, "name": r.name, "light": r.light,
            "exits": [_exit_row(game, rid, x) for x in r.exits]}


def _rooms(game: Any) -> list[dict[str, Any]]:
    dungeon = getattr(game, "dungeon", None)
    if dungeon is None:
        return []
    return [{"id": r.id, "name": r.name, "exits": [{"dir": x.dir, "to": x.to} for x in r.exits]}
            for r in dungeon.rooms.values()]
