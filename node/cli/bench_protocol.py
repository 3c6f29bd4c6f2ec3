"""`dungeon bench protocol`: bytes and airtime per message, binary vs JSON/msgpack/CBOR/text.

The corpus is real: the rules engine plays scripted encounters (rules.game.apply with
rules.tactics choosing for both sides), and every intent sent and every batch of result
events is measured in each encoding.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.cli import argtypes

HELP = "measure the binary codec against JSON, msgpack, CBOR and text on real game traffic"

PARTY = (("Thorin", "fighter", 3), ("Mira", "cleric", 3), ("Zed", "wizard", 3),
         ("Ash", "rogue", 3))
ENCOUNTERS = (
    (("goblin", 4),),
    (("orc", 2), ("wolf", 2)),
    (("skeleton", 3), ("zombie", 1)),
    (("kobold", 3), ("giant rat", 1)),
    (("bandit", 2), ("bandit captain", 1), ("mastiff", 1)),
)
MAX_ROUNDS = 25
FRAME_BUDGET = 200


@dataclass
class Corpus:
    intents: list[Any] = field(default_factory=list)
    batches: list[list[Any]] = field(default_factory=list)  # results of one command each
    views: list[Any] = field(default_factory=list)  # the game each batch came from, for names
    rounds: list[list[Any]] = field(default_factory=list)  # every event of one combat round


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seeds", type=argtypes.count, default=10, help="runs of each scripted encounter")
    parser.add_argument("--preset", default="LONG_FAST", help="modem preset for airtime")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _play(seed: int, monsters: tuple[tuple[str, int], ...], corpus: Corpus) -> None:
    """One scripted fight: the party joins, the DM spawns monsters, tactics fight it out."""
    import random

    from rules import dungeon, game, tactics
    from rules import events as ev
    from rules import intents as it
    from rules.errors import RulesError

    rng = random.Random(seed)
    g = game.Game.new(dungeon.load_bundled("crypt"))

    def act(actor: int | None, intent: Any) -> list[Any]:
        corpus.intents.append(intent)
        out = game.apply(g, actor, intent, rng)
        if out:
            corpus.batches.append(out)
            corpus.views.append(g)
        return out

    party = []
    for name, cls, level in PARTY:
        for e in act(None, it.Join(name, cls, level)):
            if isinstance(e, ev.Joined):
                party.append(e.eid)
    for eid in party[:1]:
        act(eid, it.Look())
        act(eid, it.Roll("perception"))
    round_events: list[Any] = []
    current_round = 0
    for name, count in monsters:
        act(None, it.Dm("spawn", text=name, value=count))
    for e in act(None, it.Dm("start_combat")):
        round_events.append(e)
    for _ in range(MAX_ROUNDS * 10):
        eid = g.current_turn()
        if eid is None:
            break
        try:
            option = tactics.choose(g, eid, rng)
            evs = act(eid, option.intent)
        except RulesError:
            evs = []
        if g.current_turn() == eid:
            try:
                evs = evs + act(eid, it.EndTurn())
            except RulesError:
                break
        for e in evs:
            if isinstance(e, ev.TurnStarted) and e.round != current_round:
                if round_events and current_round:
                    corpus.rounds.append(round_events)
                round_events, current_round = [], e.round
            round_events.append(e)
        if any(isinstance(e, ev.CombatEnded) for e in evs) or current_round > MAX_ROUNDS:
            break
    if round_events:
        corpus.rounds.append(round_events)


def build_corpus(seeds: int) -> Corpus:
    corpus = Corpus()
    for seed in range(seeds):
        for i, monsters in enumerate(ENCOUNTERS):
            _play(seed * 100 + i, monsters, corpus)
    return corpus


def frames_needed(events: list[Any]) -> tuple[int, int]:
    """(frames, largest frame) to broadcast these events as signed EVENTS frames."""
    from protocol import codec, frames

    key = frames.client_key(b"bench", 0, bytes(4))
    header = len(frames.encode_frame(frames.Frame(kind=frames.Kind.EVENTS, sender_seq=70000,
                                                  ack=70000), key))
    sizes = [
        len(frames.encode_frame(frames.Frame(kind=frames.Kind.EVENTS, sender_seq=70000,
                                             ack=70000, payload=p), key))
        for p in codec.pack_events(events, FRAME_BUDGET - header)
    ]
    return len(sizes), max(sizes, default=0)


def optional_encoders() -> dict[str, Callable[[Any], bytes]]:
    """msgpack and CBOR when installed (the dev extra has them); their columns go otherwise."""
    out: dict[str, Callable[[Any], bytes]] = {}
    try:
        import msgpack

        out["msgpack"] = msgpack.packb
    except ModuleNotFoundError:
        pass
    try:
        import cbor2

        out["cbor"] = cbor2.dumps
    except ModuleNotFoundError:
        pass
    return out


def _sizes(msgs: list[Any], kind: str, view: Any,
           extra: dict[str, Callable[[Any], bytes]]) -> dict[str, int | None]:
    from protocol import codec, jsonform, render

    if kind == "intent":
        (m,) = msgs
        dumped: Any = jsonform.dump(m)
        binary = len(codec.encode_intent(m))
        text = None
    else:
        dumped = [jsonform.dump(e) for e in msgs]
        binary = len(codec.encode_events(msgs))
        lines = render.render(msgs, view)
        text = sum(len(line.encode()) for line in lines) if lines else None
    return {
        "binary": binary,
        "json": len(json.dumps(dumped, separators=(",", ":"), ensure_ascii=False).encode()),
        **{name: len(encode(dumped)) for name, encode in extra.items()},
        "text": text,
    }


def _median(xs: list[int | None]) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def run(args: argparse.Namespace) -> int:
    import sys

    from protocol.airtime import airtime_s

    try:
        corpus = build_corpus(args.seeds)
    except ImportError as err:
        print(f"bench protocol needs the rules engine (rules.game, rules.tactics): {err}",
              file=sys.stderr)
        return 2
    extra = optional_encoders()
    per_type: dict[str, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    overall: dict[str, list[int | None]] = defaultdict(list)
    for intent in corpus.intents:
        for enc, n in _sizes([intent], "intent", None, extra).items():
            per_type[f"intent:{type(intent).__name__}"][enc].append(n)
    for batch, view in zip(corpus.batches, corpus.views, strict=True):
        for e in batch:
            for enc, n in _sizes([e], "event", view, extra).items():
                per_type[f"event:{type(e).__name__}"][enc].append(n)
        for enc, n in _sizes(batch, "event", view, extra).items():
            overall[enc].append(n)
    round_frames = [frames_needed(r) for r in corpus.rounds]
    single_max = max((frames_needed(b)[1] for b in corpus.batches), default=0)
    types_out = {}
    for name, encs in sorted(per_type.items()):
        row: dict[str, Any] = {"count": len(encs["binary"])}
        for enc, xs in encs.items():
            med = _median(xs)
            row[f"{enc}_median_bytes"] = med
            row[f"{enc}_airtime_s"] = (round(airtime_s(int(med), args.preset), 3)
                                       if med is not None else None)
        types_out[name] = row
    summary = {f"{enc}_median_bytes": _median(xs) for enc, xs in overall.items()}
    summary.update({
        "max_frame_bytes": max([single_max] + [r[1] for r in round_frames]),
        "round_frames": max((r[0] for r in round_frames), default=0),
        "rounds": len(corpus.rounds),
        "max_round_events": max((len(r) for r in corpus.rounds), default=0),
        "messages": len(corpus.batches),
        "intents": len(corpus.intents),
        "preset": args.preset,
    })
    b, j, m = summary["binary_median_bytes"], summary["json_median_bytes"], summary.get(
        "msgpack_median_bytes")
    summary["binary_vs_json"] = round(b / j, 3) if b and j else None
    if "msgpack" in extra:
        summary["binary_vs_msgpack"] = round(b / m, 3) if b and m else None
    if len(extra) < 2:
        print("bench protocol: without msgpack or cbor2 installed, their columns are left out "
              "(pip install 'distributed-dungeon[dev]' to compare)", file=sys.stderr)
    for enc in ("binary", "json", *extra, "text"):
        med = summary.get(f"{enc}_median_bytes")
        summary[f"{enc}_median_airtime_s"] = (round(airtime_s(int(med), args.preset), 3)
                                              if med is not None else None)
    result = {"summary": summary, **summary, "per_type": types_out}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in summary.items():
            print(f"{k}: {v}")
    return 0
