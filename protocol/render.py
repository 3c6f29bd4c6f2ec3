"""Events -> as few <= 200-byte text lines as fit, for the stock Meshtastic app.

Each event becomes a short sentence that ends in a full stop (or ! ? …), so sentences
packed into one line never run together; an attack and the damage it dealt share one.
If everything does not fit one line in full words, the compact style is tried before
spilling onto a second line, because every extra packet costs a second of airtime.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from rules import events as ev

ELLIPSIS = "…"
STOPS = (".", "!", "?", ELLIPSIS)


class View(Protocol):
    """The part of rules.view.GameView the renderer reads."""

    def name_of(self, eid: int) -> str: ...
    def describe_room(self, room: int, viewer: int) -> str: ...


def fit(text: str, limit: int = 200) -> str:
    """text cut to at most `limit` UTF-8 bytes on a character boundary, with an ellipsis."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    if room <= 0:
        return raw[:limit].decode("utf-8", "ignore")
    return raw[:room].decode("utf-8", "ignore").rstrip() + ELLIPSIS


def sentence(text: str) -> str:
    """text ending in a full stop unless it already ends a sentence; "" stays ""."""
    text = text.strip()
    return text if not text or text.endswith(STOPS) else text + "."


SHORT_DAMAGE = {
    "slashing": "slash", "piercing": "pierce", "bludgeoning": "bludg", "fire": "fire",
    "cold": "cold", "lightning": "shock", "thunder": "thund", "acid": "acid",
    "poison": "poison", "necrotic": "necro", "radiant": "rad", "force": "force",
    "psychic": "psy",
}
TINY_DAMAGE = {
    "slashing": "sl", "piercing": "pi", "bludgeoning": "bl", "fire": "fi", "cold": "co",
    "lightning": "li", "thunder": "th", "acid": "ac", "poison": "po", "necrotic": "ne",
    "radiant": "ra", "force": "fo", "psychic": "ps",
}


class _Names:
    """Name lookups that never fail: an unknown id renders as #id."""

    def __init__(self, view: View, short: bool) -> None:
        self.view = view
        self.short = short
        self._cache: dict[int, str] = {}

    def __call__(self, eid: int) -> str:
        if eid not in self._cache:
            try:
                name = self.view.name_of(eid)
            except Exception:  # a renderer must not fail on a stale id
                name = f"#{eid}"
            self._cache[eid] = name[:10] if self.short else name
        return self._cache[eid]


def _dmg(dtype: str, short: bool) -> str:
    return (TINY_DAMAGE if short else SHORT_DAMAGE).get(dtype, dtype)


def _sentences(events: Sequence[Any], view: View, short: bool) -> list[str]:
    name = _Names(view, short)
    out: list[str] = []
    fight = any(isinstance(e, ev.CombatStarted) for e in events)
    # A room description already names whoever is there, spawned monsters included.
    described = False
    initiative = {e.eid: e.total for e in events
                  if fight and isinstance(e, ev.Rolled) and e.what == "initiative"}
    i = 0
    while i < len(events):
        e = events[i]
        nxt = events[i + 1] if i + 1 < len(events) else None
        if isinstance(e, ev.Attacked) and isinstance(nxt, ev.Damaged) and nxt.target == e.target:
            out.append(_attack(e, name, short) + " " + _damage_tail(nxt, short))
            i += 2
            continue
        if isinstance(e, ev.SpellCast) and isinstance(nxt, ev.Affected) and \
                nxt.spell == e.spell:  # "casts Bless L1 on Ana, Cle."
            out.append(_r_spell(e, name, short, view)[:-1] + " on " + _who(nxt, name) + ".")
            i += 2
            continue
        if isinstance(e, ev.ActionTaken | ev.SpellCast) and isinstance(nxt, ev.Info) and \
                nxt.eid == e.eid and nxt.text == ev.NEXT_HIT:
            # "Pal: Divine Smite, on the next hit." in one sentence, not two
            out.append(_RENDERERS[type(e)](e, name, short, view)[:-1] + f", {ev.NEXT_HIT}.")
            i += 2
            continue
        if isinstance(e, ev.Moved) and e.band == "engaged" and _attacks_next(events, i, e):
            i += 1  # closing in to hit: "hits Gob1" says it, and each byte is airtime
            continue
        if isinstance(e, ev.ActionTaken) and _attacks_next(events, i, e):
            i += 1  # "uses scimitar" then the attack itself: the attack line says it all
            continue
        if isinstance(e, ev.ConditionChanged) and e.condition == "unconscious" and i and \
                isinstance(events[i - 1], ev.Downed if e.on else ev.Healed) and \
                events[i - 1].target == e.target:
            i += 1  # "is down" says it, and so does "heals 8 (hp 8)" for waking up
            continue
        if isinstance(e, ev.Rolled) and e.eid in initiative and e.what == "initiative":
            i += 1  # folded into the initiative order
            continue
        if isinstance(e, ev.CombatStarted):
            order = ", ".join(f"{name(x)} {initiative[x]}" if x in initiative else name(x)
                              for x in e.order)
            out.append(("Fight! " if short else "Fight! Initiative: ") + order + ".")
            i += 1
            continue
        if isinstance(e, ev.Spawned):
            j = i
            while j < len(events) and isinstance(events[j], ev.Spawned):
                j += 1
            names = [x.name for x in events[i:j]]
            if not described:
                out.append(f"{', '.join(names)} appear{'s' if len(names) == 1 else ''}.")
            i = j
            continue
        described = described or isinstance(e, ev.Entered | ev.RoomView)
        fn = _RENDERERS.get(type(e))
        text = sentence(fn(e, name, short, view) if fn else _generic(e, short))
        if text:
            out.append(text)
        i += 1
    return out


def _attacks_next(events: Sequence[Any], i: int, first: ev.Moved | ev.ActionTaken) -> bool:
    """True if the actor's next event attacks (whom it closed on, for a move), past its
    "uses scimitar" and past a spell the target casts in reaction (Shield)."""
    for e in events[i + 1:]:
        if isinstance(e, ev.ActionTaken) and e.eid == first.eid:
            continue
        if isinstance(e, ev.SpellCast) and first.target and e.eid == first.target:
            continue
        return isinstance(e, ev.Attacked) and e.eid == first.eid and (
            isinstance(first, ev.ActionTaken) or e.target == first.target)
    return False


def _attack(e: ev.Attacked, name: _Names, short: bool) -> str:
    verb = "crits" if e.crit else "hits" if e.hit else "misses"
    if short:
        mark = "!" if e.crit else ">" if e.hit else "x"
        return f"{name(e.eid)}{mark}{name(e.target)} {e.total}v{e.ac}"
    return f"{name(e.eid)} {verb} {name(e.target)} ({e.total} vs AC{e.ac})"


def _damage_tail(d: ev.Damaged, short: bool) -> str:
    return f"{d.amount}{_dmg(d.dtype, True)}." if short else f"{d.amount} {_dmg(d.dtype, False)}."


def _r_attacked(e: ev.Attacked, name: _Names, short: bool, view: View) -> str:
    return _attack(e, name, short) + "."


def _r_damaged(e: ev.Damaged, name: _Names, short: bool, view: View) -> str:
    if short:
        return f"{name(e.target)} -{e.amount}{_dmg(e.dtype, True)} hp{e.hp}."
    return f"{name(e.target)} takes {e.amount} {_dmg(e.dtype, False)} (hp {e.hp})."


def _r_healed(e: ev.Healed, name: _Names, short: bool, view: View) -> str:
    return f"{name(e.target)} +{e.amount} hp{e.hp}." if short else (
        f"{name(e.target)} heals {e.amount} (hp {e.hp}).")


def _r_condition(e: ev.ConditionChanged, name: _Names, short: bool, view: View) -> str:
    if short:
        return f"{name(e.target)} {'+' if e.on else '-'}{e.condition}."
    return f"{name(e.target)} {'is' if e.on else 'no longer'} {e.condition}."


def _r_rolled(e: ev.Rolled, name: _Names, short: bool, view: View) -> str:
    dc = f" vs DC{e.dc}" if e.dc else ""
    if short:
        ok = "" if e.ok is None else (" ok" if e.ok else " fail")
        return f"{name(e.eid)} {e.what} {e.total}{dc}{ok}."
    nat = f" (d20 {e.nat})" if e.nat else ""
    ok = "" if e.ok is None else (", success" if e.ok else ", failure")
    return f"{name(e.eid)} rolls {e.what}: {e.total}{nat}{dc}{ok}."


def pretty(index: str) -> str:
    """A content index as players read it: a spell's SRD name ("hunters-mark" -> "Hunter's
    Mark", "wall-of-fire" -> "Wall of Fire"), else title case ("second-wind" -> "Second
    Wind"); names pass through."""
    if not index.islower():
        return index
    from rules import content

    spell = content.spells().get(index)
    return str(spell["name"]) if spell else index.replace("-", " ").title()


def _r_info(e: ev.Info, name: _Names) -> str:
    """"Mira: the door is locked"; a text that names its creature first stands alone
    ("Dru becomes a wolf", not "Dru: Dru becomes a wolf")."""
    who = name(e.eid) if e.eid else ""
    if not who or e.text.startswith(who):
        return e.text[:1].upper() + e.text[1:]
    return f"{who}: {e.text}"


def _who(e: ev.Affected, name: _Names) -> str:
    return ", ".join(name(x) for x in e.targets)


def _r_spell(e: ev.SpellCast, name: _Names, short: bool, view: View) -> str:
    lvl = f" L{e.level}" if e.level else ""
    return f"{name(e.eid)} casts {pretty(e.spell)}{lvl}."


def _r_action(e: ev.ActionTaken, name: _Names, short: bool, view: View) -> str:
    tgt = f" {name(e.target)}" if e.target else ""
    verb = e.action + ("es" if e.action.endswith(("sh", "ch", "s", "x")) else "s")
    return f"{name(e.eid)} {verb}{tgt}." if e.action in _VERBISH else (
        f"{name(e.eid)}: {pretty(e.action)}{tgt}.")


_VERBISH = {"dodge", "dash", "hide", "search", "help", "grapple", "shove", "disengage",
            "flee"}


def _r_moved(e: ev.Moved, name: _Names, short: bool, view: View) -> str:
    if e.target and e.band == "engaged":
        return f"{name(e.eid)} engages {name(e.target)}."
    if e.target:
        return f"{name(e.eid)} moves {e.band} {name(e.target)}."
    if e.band == "engaged":
        return f"{name(e.eid)} closes in."
    return f"{name(e.eid)} moves to {e.band} range."


def _r_turn(e: ev.TurnStarted, name: _Names, short: bool, view: View) -> str:
    return f"Next: {name(e.eid)}."


def announced(part: str) -> list[str]:
    """Whose turns a rendered part announces, in order ("Next: Ilse Next: Thorin" -> both).

    Only sentences that open with "Next:" count, so a player's chat cannot announce a turn
    mid-sentence; a skipped turn's announcement runs straight into the next one's.
    """
    names: list[str] = []
    for sentence in part.split(". "):
        words = sentence.split(" ")
        if words[0] != "Next:":
            continue
        # "Next: X" ends its sentence or runs into the next "Next:"; "Next: X hits Y" is
        # a turn already played (fold_announcements), not one to take.
        names += [words[i + 1].rstrip(".") for i in range(len(words) - 1)
                  if words[i] == "Next:" and (i + 2 == len(words) or words[i + 2] == "Next:")]
    return names


def fold_announcements(parts: list[str], monsters: Collection[str],
                       limit: int = 200) -> list[str]:
    """Parts going out together, with each "Next: X." that ends a part merged into the
    next part when X is a monster and that part opens with X: "Next: Gob4. | Gob4 hits
    Ilse ..." becomes "Next: Gob4 hits Ilse ...", 11 bytes less airtime. Such a merged
    line announces nobody (announced() reads only a name that ends its sentence), so a
    player's own turn prompt is never folded: "Next: Ilse. | Ilse heals 8" stays apart."""
    out: list[str] = []
    k = 0
    while k < len(parts):
        part = parts[k]
        after = parts[k + 1] if k + 1 < len(parts) else ""
        names = announced(part)
        tail = f"Next: {names[-1]}." if names else ""
        if tail and names[-1] in monsters and part.endswith(tail) and \
                after.startswith(names[-1] + " "):
            merged = f"{part[: -len(tail)]}Next: {after}"
            if len(merged.encode("utf-8")) <= limit:
                out.append(merged)
                k += 2
                continue
        out.append(part)
        k += 1
    return out


COMBAT_OUTCOMES = {
    "won": "Victory! The party wins",
    "fell": "Defeat: the party has fallen",
    "fled": "The party got away; the fight is over",
    "ended": "The fight is over",
}


def _r_combat_end(e: ev.CombatEnded, name: _Names, short: bool, view: View) -> str:
    head = COMBAT_OUTCOMES.get(e.outcome, COMBAT_OUTCOMES["ended"])
    xp = f", {e.xp} XP" if e.xp else ""
    loot = f" Loot: {', '.join(e.loot)}." if e.loot else ""
    return f"{head}{xp}.{loot}"


def _r_entered(e: ev.Entered, name: _Names, short: bool, view: View) -> str:
    viewer = e.eids[0] if e.eids else 0
    try:
        return view.describe_room(e.room, viewer)
    except Exception:
        return f"Room {e.room}."


def _r_room(e: ev.RoomView, name: _Names, short: bool, view: View) -> str:
    try:
        return view.describe_room(e.room, e.eid)
    except Exception:
        return f"Room {e.room}."


def _r_death_save(e: ev.DeathSave, name: _Names, short: bool, view: View) -> str:
    if short:
        return f"{name(e.target)} death save {e.nat}: {e.successes}ok {e.failures}fail."
    # nat 0: a hit while dying counts as a failed save without a roll
    roll = f"rolls a death save: {e.nat}" if e.nat else "fails a death save"
    return f"{name(e.target)} {roll} ({e.successes} saved, {e.failures} failed)."


def _simple(fmt: str) -> Callable[..., str]:
    def render(e: Any, name: _Names, short: bool, view: View) -> str:
        return fmt.format(t=name(e.target))

    return render


_RENDERERS: dict[type, Callable[..., str]] = {
    ev.Attacked: _r_attacked,
    ev.Damaged: _r_damaged,
    ev.Healed: _r_healed,
    ev.ConditionChanged: _r_condition,
    ev.Downed: _simple("{t} is down."),
    ev.Died: _simple("{t} dies."),
    ev.Stabilised: _simple("{t} is stable."),
    ev.DeathSave: _r_death_save,
    ev.Rolled: _r_rolled,
    ev.SpellCast: _r_spell,
    ev.Affected: lambda e, n, s, v: f"{pretty(e.spell)} on {_who(e, n)}.",
    ev.ActionTaken: _r_action,
    ev.Moved: _r_moved,
    ev.TurnStarted: _r_turn,
    ev.CombatEnded: _r_combat_end,
    ev.Entered: _r_entered,
    ev.RoomView: _r_room,
    ev.Joined: lambda e, n, s, v: f"{e.name} joins as a level {e.level} {e.cls}.",
    ev.Said: lambda e, n, s, v: f"{n(e.eid)}: {e.text}",
    ev.Narrated: lambda e, n, s, v: e.text,
    ev.Info: lambda e, n, s, v: _r_info(e, n),
    ev.Rested: lambda e, n, s, v: f"{', '.join(n(x) for x in e.eids)} "
                                  f"{'takes' if len(e.eids) == 1 else 'take'} a {e.kind} rest.",
    ev.LevelledUp: lambda e, n, s, v: f"{n(e.eid)} reaches level {e.level}!",
    ev.Digest: lambda e, n, s, v: "",  # for binary clients only
}


def _generic(e: Any, short: bool) -> str:
    """Events added later still show up, if plainly."""
    import dataclasses

    fields = " ".join(str(getattr(e, f.name)) for f in dataclasses.fields(e))
    return f"{type(e).__name__} {fields}."


def _pack(sentences: list[str], limit: int) -> list[str]:
    lines: list[str] = []
    cur = ""
    for s in sentences:
        s = fit(s, limit)
        cand = f"{cur} {s}" if cur else s
        if len(cand.encode("utf-8")) <= limit:
            cur = cand
        else:
            lines.append(cur)
            cur = s
    if cur:
        lines.append(cur)
    return lines


def render(events: Sequence[Any], view: View, *, limit: int = 200) -> list[str]:
    """As few lines as fit, each at most `limit` UTF-8 bytes; [] when nothing to say."""
    if limit < 8:
        raise ValueError("limit too small to say anything")
    full = _pack(_sentences(events, view, short=False), limit)
    if len(full) <= 1:
        return full
    compact = _pack(_sentences(events, view, short=True), limit)
    return compact if len(compact) < len(full) else full
