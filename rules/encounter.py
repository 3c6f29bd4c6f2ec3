"""Encounter maths: SRD XP-threshold difficulty, and Monte Carlo simulation of whole fights."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

from rules import content
from rules import intents as it
from rules.errors import RulesError

log = logging.getLogger(__name__)

# XP thresholds per character level: easy, medium, hard, deadly (SRD 5.1).
THRESHOLDS: dict[int, tuple[int, int, int, int]] = {
    1: (25, 50, 75, 100), 2: (50, 100, 150, 200), 3: (75, 150, 225, 400),
    4: (125, 250, 375, 500), 5: (250, 500, 750, 1100), 6: (300, 600, 900, 1400),
    7: (350, 750, 1100, 1700), 8: (450, 900, 1400, 2100), 9: (550, 1100, 1600, 2400),
    10: (600, 1200, 1900, 2800), 11: (800, 1600, 2400, 3600), 12: (1000, 2000, 3000, 4500),
    13: (1100, 2200, 3400, 5100), 14: (1250, 2500, 3800, 5700), 15: (1400, 2800, 4300, 6400),
    16: (1600, 3200, 4800, 7200), 17: (2000, 3900, 5900, 8800), 18: (2100, 4200, 6300, 9500),
    19: (2400, 4900, 7300, 10900), 20: (2800, 5700, 8500, 12700),
}
MULTIPLIERS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
LABELS = ("easy", "medium", "hard", "deadly")
MAX_ROUNDS = 60


def _multiplier(n_monsters: int, party_size: int) -> float:
    if n_monsters <= 0:
        return 1.0
    k = 1 if n_monsters == 1 else 2 if n_monsters == 2 else 3 if n_monsters <= 6 else (
        4 if n_monsters <= 10 else 5 if n_monsters <= 14 else 6)
    if party_size < 3:
        k += 1
    elif party_size >= 6:
        k -= 1
    return MULTIPLIERS[k]


def difficulty(party_levels: list[int], monster_names: list[str],
               bestiary: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The SRD encounter difficulty: monster XP times the group multiplier vs party thresholds.
    `bestiary`: a game's custom stat blocks, found by name beside the SRD's."""
    xp = sum(int(content.resolve_monster(n, bestiary).record["xp"]) for n in monster_names)
    adjusted = int(xp * _multiplier(len(monster_names), len(party_levels)))
    sums = [sum(THRESHOLDS[max(1, min(20, lv))][k] for lv in party_levels) for k in range(4)]
    label = "easy"
    for k, need in enumerate(sums):
        if adjusted >= need:
            label = LABELS[k]
    return {"xp": xp, "adjusted_xp": adjusted, "difficulty": label,
            "thresholds": dict(zip(LABELS, sums, strict=True))}


ARENA = {"name": "arena", "start": 1, "rooms": [{"id": 1, "name": "Arena", "light": "bright"}]}


def fight(party: list[tuple[str, int]], monsters: list[tuple[str, int]],
          rng: random.Random, errors: list[int] | None = None,
          bestiary: Mapping[str, dict[str, Any]] | None = None) -> tuple[bool, int]:
    """One full combat, both sides played by rules.tactics: (party won, rounds)."""
    from rules import game as g
    from rules import party_tactics, tactics
    from rules.dungeon import Dungeon

    errors = errors if errors is not None else [0]
    state = g.Game.new(Dungeon.from_dict(ARENA))
    state.add_monsters(list((bestiary or {}).values()))
    for k, (cls, level) in enumerate(party):
        g.apply(state, None, it.Join(f"{cls[:6]}{k + 1}", cls, level), rng)
    for e in state.party():  # the party knows the fight is coming: long buffs first
        for intent in party_tactics.prepare(state, e):
            g.apply(state, e.eid, intent, rng)
    for name, count in monsters:
        g.spawn(state, name, count)
    g.start_combat(state, rng)
    steps = 0
    rounds = 1
    while state.combat is not None and state.combat["round"] <= MAX_ROUNDS and steps < 20000:
        steps += 1
        rounds = state.combat["round"]
        eid = state.current_turn()
        option = tactics.choose(state, eid, rng)
        try:
            g.apply(state, eid, option.intent, rng)
        except RulesError as err:
            # An offered option the rules then refuse is an engine bug: count it, go on.
            log.warning("tactics offered %s but rules refused: %s", option.id, err)
            errors[0] += 1
            g.apply(state, eid, it.EndTurn(), rng)
    won = not any(e.in_fight for e in state.entities.values() if e.side == "monsters") and any(
        not e.down for e in state.party())
    return won, rounds


def simulate(party: list[tuple[str, int]], monsters: list[tuple[str, int]], trials: int,
             seed: int, progress: Callable[[int], None] | None = None,
             bestiary: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run `trials` fights; the same seed gives the same figures. `bestiary`: a game's
    custom stat blocks (rules/custom), which its encounters may use."""
    wins = 0
    rounds_total = 0
    errors = [0]
    for n in range(trials):
        rng = random.Random(seed * 1_000_003 + n)
        won, rounds = fight(party, monsters, rng, errors, bestiary)
        wins += won
        rounds_total += rounds
        if progress:
            progress(n + 1)
    names = [m for m, c in monsters for _ in range(c)]
    d = difficulty([lv for _, lv in party], names, bestiary)
    return {"party_win_rate": round(wins / max(1, trials), 4),
            "mean_rounds": round(rounds_total / max(1, trials), 3), "difficulty": d["difficulty"],
            "xp": d["xp"], "adjusted_xp": d["adjusted_xp"], "thresholds": d["thresholds"],
            "trials": trials, "seed": seed, "refused_options": errors[0]}


# Classic SRD foes from CR 1/4 to 21, one kind an encounter: fitting_foes picks among them.
ROSTER = ("goblin", "orc", "bugbear", "ogre", "owlbear", "troll", "stone-giant",
          "young-green-dragon", "young-red-dragon", "adult-red-dragon", "lich")
# The least party win rate each difficulty should show (deadly: no floor, only lower).
EXPECTED = {"easy": 0.9, "medium": 0.75, "hard": 0.5, "deadly": 0.0}
MAX_COUNT = 8


def fitting_foes(levels: list[int], label: str) -> tuple[str, int]:
    """The roster kind and count whose adjusted XP sits nearest the middle of `label`'s
    band for this party (deadly: a quarter above its threshold), preferring few foes of
    a challenge rating near the party's level, as a DM would build it."""
    best: tuple[float, int, str] | None = None
    top = max(levels)
    for name in ROSTER:
        cr = float(content.monster(name)["challenge_rating"])
        if not top / 4 <= cr <= top + 4 and name != ROSTER[0]:
            continue
        for count in range(1, MAX_COUNT + 1):
            d = difficulty(levels, [name] * count)
            if d["difficulty"] != label:
                continue
            k = LABELS.index(label)
            low = d["thresholds"][label]
            high = d["thresholds"][LABELS[k + 1]] if k + 1 < len(LABELS) else low * 1.5
            miss = abs(d["adjusted_xp"] - (low + high) / 2) / max(1, high - low) + \
                0.1 * (count - 1)
            if best is None or (miss, count) < best[:2]:
                best = (miss, count, name)
    if best is None:
        raise RulesError(f"no {label} encounter in the roster for levels {levels}")
    return best[2], best[1]


def plausibility(classes: list[str], levels: list[int], trials: int, seed: int,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Win rates of a party of `classes` at each level against fitting foes at each SRD
    difficulty; `plausible` says whether a row meets EXPECTED and falls no higher than the
    easier row before it (a little noise allowed)."""
    rows: list[dict[str, Any]] = []
    done = 0
    for level in levels:
        party = [(c, level) for c in classes]
        prev = 1.0
        for label in LABELS:
            name, count = fitting_foes([level] * len(classes), label)
            r = simulate(party, [(name, count)], trials, seed)
            rate = r["party_win_rate"]
            rows.append({"level": level, "difficulty": label, "monsters": f"{name}:{count}",
                         "adjusted_xp": r["adjusted_xp"], "party_win_rate": rate,
                         "mean_rounds": r["mean_rounds"], "expected_at_least": EXPECTED[label],
                         "plausible": rate >= EXPECTED[label] and rate <= prev + 0.05})
            prev = rate
            done += 1
            if progress:
                progress(done)
    return {"party": classes, "levels": levels, "trials": trials, "seed": seed, "rows": rows,
            "plausible": all(r["plausible"] for r in rows)}
