"""`dungeon bench rules`: attack resolutions and combat rounds per second, as JSON."""

from __future__ import annotations

import argparse
import json
import time

from node.cli import argtypes

HELP = "benchmark the rules engine (attacks/s, rounds/s, apply/s)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--seconds", type=argtypes.positive, default=1.0, help="time per measurement")


def _rate(fn, seconds: float) -> float:  # type: ignore[no-untyped-def]
    n = 0
    start = time.perf_counter()
    while True:
        n += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def run(args: argparse.Namespace) -> int:
    import random

    from rules import content, resolver
    from rules import intents as it
    from rules.creature import from_monster
    from rules.dungeon import Dungeon
    from rules.encounter import ARENA, fight
    from rules.game import Game, apply, weapon_spec
    from rules.pregen import character

    rng = random.Random(1)
    game = Game.new(Dungeon.from_dict(ARENA))
    fighter = character("Bench", "fighter", 3, eid=1)
    gob = from_monster(2, "Goblin", content.monster("goblin"), "brute")
    game.entities = {1: fighter, 2: gob}
    fighter.engaged, gob.engaged = [2], [1]
    spec = weapon_spec(fighter, fighter.weapons[0])
    from rules.effects import engine, monsters

    gob_key = monsters.key_for("goblin", gob.actions[0]["name"])
    monsters.action_tree("goblin", gob.actions[0])
    out: list = []

    def attacks() -> int:
        # The full attack path both ways: advantage sources, d20, AC, damage dice,
        # resistances, temp HP and HP; the goblin's through the effect engine, as in
        # play. Reset HP so nobody dies mid-benchmark.
        for _ in range(200):
            out.clear()
            fighter.hp, gob.hp, gob.dead, fighter.dead = 28, 7, False, False
            gob.engaged[:] = [1]
            fighter.engaged[:] = [2]
            resolver.attack(game, fighter, gob, spec, rng, out)
            engine.use(game, gob, gob_key, [fighter], rng, out)
        return 400

    party = [("fighter", 3), ("wizard", 3), ("cleric", 3), ("rogue", 3)]
    monsters = [("goblin", 6)]
    rounds = [0]

    def combats() -> int:
        won, r = fight(party, monsters, rng)
        rounds[0] += r
        return 1

    def applies() -> int:
        g = Game.new(Dungeon.from_dict(ARENA))
        n = 0
        for k, cls in enumerate(("fighter", "rogue")):
            apply(g, None, it.Join(f"P{k}", cls, 3), rng)
            n += 1
        from rules.game import spawn, start_combat

        spawn(g, "goblin", 2)
        start_combat(g, rng)
        while g.combat is not None and n < 400:
            eid = g.current_turn()
            e = g.entities[eid]
            foe = next((x for x in g.entities.values() if x.side != e.side and not x.down),
                       None)
            try:
                apply(g, eid, it.Attack(foe.eid) if foe else it.EndTurn(), rng)
            except Exception:
                apply(g, eid, it.EndTurn(), rng)
            n += 1
            if g.combat is not None and g.current_turn() == eid:
                apply(g, eid, it.EndTurn(), rng)
                n += 1
        return n

    attacks_per_s = _rate(attacks, args.seconds)
    start = time.perf_counter()
    fights = 0
    rounds[0] = 0
    while time.perf_counter() - start < args.seconds:
        fights += combats()
    elapsed = time.perf_counter() - start
    applies_per_s = _rate(applies, args.seconds)
    t0 = time.perf_counter()
    digests = 0
    while time.perf_counter() - t0 < min(0.5, args.seconds):
        game.digest()
        digests += 1
    result = {
        "attacks_per_s": round(attacks_per_s),
        "rounds_per_s": round(rounds[0] / elapsed, 1),
        "combats_per_s": round(fights / elapsed, 2),
        "apply_per_s": round(applies_per_s),
        "digests_per_s": round(digests / (time.perf_counter() - t0)),
        "target_attacks_per_s": 20000,
    }
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    return 0
