"""Out-of-combat play: joining, looking, moving through the dungeon, searching, checks, rests."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import classfeatures, content, dice, encumbrance, levels, multiclass, resolver
from rules import events as ev
from rules import intents as it
from rules.combat import combat_move
from rules.creature import Entity, from_monster
from rules.dungeon import BRIGHT
from rules.errors import RulesError
from rules.names import check_name
from rules.turns import in_turn, require, start_combat

if TYPE_CHECKING:
    from rules.game import Game


# -- joining, looking, moving -------------------------------------------------------
def join(game: Game, _a: Entity | None, i: it.Join, rng: random.Random) -> list[Any]:
    from rules import pregen

    name = check_name(i.name)
    _free_name(game, name)
    draft = _draft(game, name)
    if draft is not None and draft.cls == pregen.class_key(i.cls):
        from rules import creation

        pc = creation.build(draft, i.level, eid=game.next_eid)
        game.state["drafts"] = [d for d in game.state["drafts"] if d["name"] != draft.name]
    else:
        pc = pregen.character(name, i.cls, i.level, eid=game.next_eid)
    return enter(game, pc)


def _free_name(game: Game, name: str) -> None:
    if any(e.name.lower() == name.lower() for e in game.entities.values() if not e.dead):
        raise RulesError(f"{name} is already here")


def enter(game: Game, pc: Entity) -> list[Any]:
    """A character (new, or imported from another game) enters at the party's room."""
    _free_name(game, pc.name)
    pc.eid = game.next_eid
    pc.room = game.room
    game.next_eid += 1
    game.entities[pc.eid] = pc
    encumbrance.update(game, pc)  # armour too heavy for it, a load under the variant rule
    out: list[Any] = [ev.Joined(pc.eid, pc.name, pc.cls, pc.level)]
    if game.combat:
        game.combat["order"].append(pc.eid)
    return out


def _draft(game: Game, name: str) -> Any:
    from rules.creation import Draft

    d = next((d for d in game.state.get("drafts", ()) if d["name"].lower() == name.lower()),
             None)
    return None if d is None else Draft.from_dict(d)


MAX_DRAFTS = 16  # a full table of drafts drops the oldest


def make(game: Game, _a: Entity | None, i: it.Make, rng: random.Random) -> list[Any]:
    """A character-creation step; the draft lives in the game until `join NAME CLASS`."""
    from rules import creation

    name = check_name(i.name)
    words = i.value.split()
    if i.step.lower() == "class":
        d = creation.start(name, i.value)
        text = creation.prompt(d)
    else:
        d = _draft(game, name)
        if d is None:
            raise RulesError(f"start with: make {name} class <class>")
        text = creation.step(d, i.step, words, rng,
                             rolled=bool(game.house.get("rolled_stats", False)))
    drafts = [x for x in game.state.get("drafts", ()) if x["name"].lower() != name.lower()]
    game.state["drafts"] = (drafts + [d.to_dict()])[-MAX_DRAFTS:]
    return [ev.Info(0, text)]


def look(game: Game, a: Entity, _i: it.Look, _r: random.Random) -> list[Any]:
    return [ev.RoomView(a.room, a.eid)]


def say(game: Game, a: Entity, i: it.Say, _r: random.Random) -> list[Any]:
    text = " ".join(i.text.split())[:120]
    if not text:
        raise RulesError("say what?")
    return [ev.Said(a.eid, text)]


def query(game: Game, a: Entity, i: it.Query, _r: random.Random) -> list[Any]:
    if i.what.split()[:1] not in (["help"], ["hp"], ["sheet"], ["inv"], ["status"], ["shop"]):
        raise RulesError("ask for hp, sheet, inv, status, shop or help")
    return []


def move(game: Game, a: Entity, i: it.Move, rng: random.Random) -> list[Any]:
    word = i.exit.strip().lower()
    if game.combat is not None:
        return combat_move(game, a, word, rng)
    if a.side != "party":
        raise RulesError("monsters move only in combat")
    x = game.dungeon.find_exit(game.room, word)
    key = f"{game.room}:{x.to}"
    rkey = f"{x.to}:{game.room}"
    opened = key in game.state["unlocked"] or rkey in game.state["unlocked"]
    party = [e for e in game.party() if not e.dead and e.room == game.room]
    if x.dm_only and key not in game.state["unsealed"] and rkey not in game.state["unsealed"]:
        raise RulesError("that way is sealed; only the DM can open it")
    if x.min_level and max((e.level for e in party), default=0) < x.min_level:
        raise RulesError(f"that way needs a level {x.min_level} character")
    out: list[Any] = []
    if x.locked and not opened:
        if x.key and any(x.key in e.inventory for e in party) or x.key in game.loot:
            out.append(ev.Info(a.eid, f"unlocked with the {x.key}"))
        elif x.dc:
            tools = "thieves' tools" in a.inventory
            ability = "dex" if tools else "str"
            skill = "sleight-of-hand" if tools else "athletics"
            nat, _ = dice.d20(rng, 0)
            total = nat + a.skill_mod(skill, ability) + (a.prof if tools else 0)
            ok = total >= x.dc
            out.append(ev.Rolled(a.eid, "pick lock" if tools else "force door", nat, total,
                                 x.dc, ok))
            if not ok:
                out.append(ev.Info(a.eid, "the door holds"))
                return out
        else:
            raise RulesError(f"locked; it needs the {x.key or 'right key'}")
        game.state["unlocked"].append(key)
    return out + arrive(game, party, x.to, rng)


def arrive(game: Game, party: list[Entity], dest: int, rng: random.Random) -> list[Any]:
    """The party steps into room `dest`: traps, encounters and fights there happen now."""
    game.room = dest
    for e in party:
        resolver.stir(e)
        e.room = dest
        e.band = "near"
        e.engaged.clear()
    return [ev.Entered(dest, tuple(e.eid for e in party)), *enter_room(game, party, rng)]


def enter_room(game: Game, party: list[Entity], rng: random.Random) -> list[Any]:
    room = game.dungeon.room(game.room)
    out: list[Any] = []
    if room.trap and room.id not in game.state["traps"]:
        game.state["traps"].append(room.id)
        best = max(party, key=lambda e: e.passive())
        if best.passive() - (5 if room.light not in BRIGHT and not best.darkvision else 0) \
                >= room.trap.detect_dc:
            out.append(ev.Info(best.eid, "spotted a trap and steered clear"))
        else:
            t = room.trap
            for e in party:
                ok = resolver.saving_throw(game, e, t.save, t.dc, rng, out, f"trap {t.save} save")
                amount = dice.total(t.damage, rng)
                amount = amount // 2 if ok and t.half else (0 if ok else amount)
                if amount and t.fall:
                    amount = resolver.slow_fall(e, amount, out)
                if amount:
                    resolver.deal(game, e, amount, t.dtype, out, rng=rng)
    live = [m for m in game.here() if m.side == "monsters" and m.in_fight]
    if room.encounter and room.id not in game.state["cleared"] and not live:
        for name, count in room.encounter.monsters:
            out += spawn(game, name, count, room.encounter.band)
        live = [m for m in game.here() if m.side == "monsters" and m.in_fight]
    if live:
        out += start_combat(game, rng)
    return out


def spawn(game: Game, name: str, count: int = 1, band: str = "near",
          side: str = "monsters") -> list[Any]:
    from rules import tactics
    from rules.effects import engine

    table = content.monsters()  # shared read-only records: skip the copying lookup
    m = table[name] if name in table else content.resolve_monster(name, game.bestiary).record
    out = []
    same = sum(1 for e in game.entities.values() if e.monster == m["index"])
    short = m["name"].split()[-1][:8]
    for k in range(count):
        label = f"{short}{same + k + 1}" if count > 1 or same else m["name"]
        e = from_monster(game.next_eid, label, m, tactics.profile_for(m))
        e.room = game.room
        e.band = band
        e.side = side
        game.entities[e.eid] = e
        game.next_eid += 1
        # Traits become effects on the creature; putting them on rolls no dice, so a fixed
        # RNG keeps spawning free of the command's dice (replays stay exact).
        engine.traits(game, e, random.Random(0), [])
        out.append(ev.Spawned(e.eid, m["index"], e.name))
    return out



def search(game: Game, a: Entity, _i: it.Search, rng: random.Random) -> list[Any]:
    if game.combat is not None:
        in_turn(game, a)
        require(a, "action", "search")
        a.turn["action"] -= 1
    room = game.dungeon.room(a.room)
    nat = resolver.skill_d20(a, "perception", rng)
    total = nat + a.skill_mod("perception", "wis")
    dc = room.search_dc or 10
    ok = total >= dc
    out: list[Any] = [ev.Rolled(a.eid, "perception", nat, total, dc, ok)]
    if ok and room.hidden_loot and room.id not in game.state["found"]:
        game.state["found"].append(room.id)
        a.inventory += list(room.hidden_loot)  # the finder carries it
        encumbrance.update(game, a)
        out.append(ev.Info(a.eid, "found: " + ", ".join(room.hidden_loot)))
    elif ok and room.trap and room.id not in game.state["traps"]:
        game.state["traps"].append(room.id)
        out.append(ev.Info(a.eid, "found and disarmed a trap"))
    return out



# -- checks and rests ---------------------------------------------------------------
def roll(game: Game, a: Entity, i: it.Roll, rng: random.Random) -> list[Any]:
    what = " ".join(i.what.lower().split())
    skills = content.skills()
    words = what.replace("saving throw", "save").split()
    abil = {"strength": "str", "dexterity": "dex", "constitution": "con",
            "intelligence": "int", "wisdom": "wis", "charisma": "cha"}
    if words and words[-1] == "save" and len(words) == 2:
        ab = abil.get(words[0], words[0][:3])
        if ab not in abil.values():
            raise RulesError(f"no save called {what!r}")
        nat, _ = dice.d20(rng, resolver.check_adv(a, ab, save=True))
        return [ev.Rolled(a.eid, f"{ab} save", nat, nat + a.save_mod(ab))]
    key = what.replace(" ", "-")
    if key in skills:
        ab = skills[key]
        nat = resolver.skill_d20(a, key, rng, resolver.check_adv(a, ab, save=False, skill=key))
        return [ev.Rolled(a.eid, key, nat, resolver.str_floor(
            a, ab, nat + a.skill_mod(key, ab) + resolver.check_bonus(a, rng)))]
    if what in abil or what in abil.values():
        ab = abil.get(what, what)
        nat, _ = dice.d20(rng, resolver.check_adv(a, ab, save=False))
        return [ev.Rolled(a.eid, ab, nat, resolver.str_floor(
            a, ab, nat + a.mod(ab) + resolver.check_bonus(a, rng)))]
    if what == "death save":
        if not a.dying:
            raise RulesError("only the dying roll death saves")
        out: list[Any] = []
        resolver.death_save(game, a, rng, out)
        return out
    r = dice.roll(what, rng)
    return [ev.Rolled(a.eid, what[:24], 0, r.total)]


def rest(game: Game, a: Entity, i: it.Rest, rng: random.Random) -> list[Any]:
    if i.kind not in ("short", "long"):
        raise RulesError("rest short or long")
    if game.combat is not None:
        raise RulesError("you cannot rest in combat")
    live = [m for m in game.here(a.room) if m.side == "monsters" and m.in_fight]
    if live:
        raise RulesError("not with enemies about")
    party = [e for e in game.party() if not e.dead and e.room == a.room]
    out: list[Any] = []
    song = levels.song_of_rest_die(party)
    for e in party:
        if i.kind == "short":
            # Spend hit dice one at a time while the average roll would not be wasted.
            spent = e.hit_dice
            while e.hit_dice > 0 and e.max_hp - e.hp >= (
                    die := multiclass.next_hit_die(e)) // 2 + 1 and e.hp > 0:
                e.hit_dice -= 1
                resolver.heal(game, e, max(1, dice.total(f"1d{die}", rng) + e.mod("con")), out)
            if spent > e.hit_dice and song:
                resolver.heal(game, e, dice.total(song, rng), out)
            levels.regain_on_short_rest(e)
            for k in levels.short_rest_resources_of(e):
                if k in e.res_max:
                    e.res[k] = e.res_max[k]
            multiclass.short_rest_slots(e)
        else:
            if e.hp <= 0:
                e.hp = 0
            # what lasts until a long rest ends first (a drained maximum, aid), so the
            # rest heals to the maximum the creature has after it
            e.effects[:] = [x for x in e.effects if x.has("attuned") or x.has("permanent")]
            resolver.heal(game, e, e.max_hp - e.hp, out)
            e.hit_dice = min(e.level, e.hit_dice + max(1, e.level // 2))
            # a use that recharges after days (Divine Intervention's 7) counts long rests
            waits = {k: v - 1 for k, v in e.res.items() if k.endswith(levels.WAIT) and v > 1}
            e.res = dict(e.res_max)
            for k, v in waits.items():
                e.res[k] = v
                e.res[k.removesuffix(levels.WAIT)] = 0
            e.slots = list(e.max_slots)
            e.exhaustion = max(0, e.exhaustion - 1)
            e.death_s = e.death_f = 0
            e.stable = False
            e.conc = ""
            classfeatures.after_long_rest(e)
    if i.kind == "long":  # a day passes for the dungeon too
        from rules.effects import rejuvenation

        rejuvenation.pass_day(game, rng, out)
    return out + [ev.Rested(i.kind, tuple(e.eid for e in party))]
