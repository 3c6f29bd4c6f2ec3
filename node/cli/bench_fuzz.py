"""`dungeon bench fuzz`: random and mutated frames through every decoder; crashes must be 0."""

from __future__ import annotations

import argparse
import json
import sys
import time

from node.cli import argtypes

HELP = "fuzz the frame and message decoders with random and mutated bytes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frames", type=argtypes.count, default=1_000_000, help="frames to try")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _random_value(rng, hint):  # noqa: ANN001 - typing hints are runtime objects here
    import types
    import typing

    from protocol import tables

    if hint is int:
        return rng.choice((rng.randint(-5, 300), rng.randint(-(2**40), 2**40)))
    if hint is bool:
        return rng.random() < 0.5
    if hint is str:
        words = tables.tables()["using"] or ("x",)
        return rng.choice(words) if rng.random() < 0.6 else "".join(
            chr(rng.randint(32, 0x2FF)) for _ in range(rng.randint(0, 12)))
    if hint is type(None):
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return _random_value(rng, rng.choice(typing.get_args(hint)))
    if typing.get_origin(hint) is tuple:
        arm = typing.get_args(hint)[0]
        return tuple(_random_value(rng, arm) for _ in range(rng.randint(0, 6)))
    raise TypeError(hint)


def _random_message(rng, classes):  # noqa: ANN001
    import dataclasses
    import typing

    cls = rng.choice(classes)
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _random_value(rng, hints[f.name]) for f in dataclasses.fields(cls)})


def _seed_frames(rng, n: int, key: bytes) -> list[bytes]:  # noqa: ANN001
    """Valid frames of every kind, to mutate."""
    from protocol import codec, frames
    from protocol.errors import ProtocolError
    from rules.events import ALL_EVENTS
    from rules.intents import ALL_INTENTS

    out: list[bytes] = []
    frag = frames.Fragmenter(chunk=150)
    while len(out) < n:
        kind = rng.choice(list(frames.Kind))
        try:
            if kind == frames.Kind.INTENT:
                payload = codec.encode_intent(_random_message(rng, ALL_INTENTS))
            elif kind == frames.Kind.EVENTS:
                payload = codec.encode_events(
                    [_random_message(rng, ALL_EVENTS) for _ in range(rng.randint(1, 6))])
            elif kind == frames.Kind.SNAPSHOT:
                data = rng.randbytes(rng.randint(1, 600))
                payload = frames.encode_fragment(rng.choice(frag.split(rng.randint(0, 999), data)))
            elif kind == frames.Kind.RESYNC:
                payload = frames.encode_rerequest(rng.randint(0, 99), [rng.randint(0, 7)])
            elif kind == frames.Kind.DIGEST:
                payload = frames.digest_payload(rng.getrandbits(32))
            elif kind == frames.Kind.HELLO:
                payload = frames.hello_payload("Mira", rng.randbytes(4))
            elif kind == frames.Kind.WELCOME:
                payload = frames.welcome_payload(frames.Welcome(
                    rng.randbytes(4), rng.randbytes(4), rng.randbytes(16), rng.randbytes(16),
                    rng.randint(0, 50)))
            else:
                payload = b""
            ack = rng.randint(0, 5000) if rng.random() < 0.5 else None
            f = frames.Frame(kind=kind, sender_seq=rng.randint(0, 70000), ack=ack,
                             sack_bitmap=rng.getrandbits(32) if ack is not None else 0,
                             flags=rng.randint(0, 15), payload=payload)
            out.append(frames.encode_frame(f, key if rng.random() < 0.5 else None))
        except ProtocolError:
            continue  # too big for one frame: skip, as a sender would split it
    return out


def _decode_all(data: bytes, key: bytes | None) -> None:
    """Everything a node does with received bytes before the game sees them."""
    from protocol import codec, frames

    f = frames.decode_frame(data, key)
    k = f.kind
    if k == frames.Kind.INTENT:
        codec.decode_intent(f.payload)
    elif k == frames.Kind.EVENTS:
        codec.decode_events(f.payload)
    elif k == frames.Kind.SNAPSHOT:
        frames.decode_fragment(f.payload)
    elif k == frames.Kind.RESYNC:
        frames.decode_rerequest(f.payload)
    elif k == frames.Kind.DIGEST:
        frames.parse_digest_payload(f.payload)
    elif k == frames.Kind.HELLO:
        frames.parse_hello(f.payload)
    elif k == frames.Kind.WELCOME:
        frames.parse_welcome(f.payload)


def _mutate(rng, raw: bytes) -> bytes:  # noqa: ANN001
    b = bytearray(raw)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(5)
        if op == 0 and b:
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:
            del b[rng.randrange(len(b) + 1):]
        elif op == 3:
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
        elif b:
            # keep the header valid more often, so the payload decoders get exercised
            b[0] = 0x10 | rng.randrange(8)
    return bytes(b)


def run(args: argparse.Namespace) -> int:
    import random

    from node.cli.progress import Progress
    from protocol import frames
    from protocol.errors import ProtocolError

    rng = random.Random(args.seed)
    key = frames.client_key(b"fuzz", 1, bytes(4))
    seeds = _seed_frames(rng, 2000, key)
    counts = {"random": 0, "mutated": 0, "valid": 0}
    accepted = rejected = crashes = 0
    examples: list[dict[str, str]] = []
    t0 = time.perf_counter()
    with Progress(args.frames, "fuzzing") as bar:
        for n in range(args.frames):
            r = rng.random()
            if r < 0.3:
                data, src = rng.randbytes(rng.randint(0, 220)), "random"
            elif r < 0.95:
                data, src = _mutate(rng, rng.choice(seeds)), "mutated"
            else:
                data, src = rng.choice(seeds), "valid"
            counts[src] += 1
            try:
                _decode_all(data, key if n & 1 else None)
                accepted += 1
            except ProtocolError:
                rejected += 1
            except Exception as err:  # the point: anything but ProtocolError is a crash
                crashes += 1
                if len(examples) < 5:
                    examples.append({"hex": data.hex(), "error": f"{type(err).__name__}: {err}"})
            if n % 5000 == 0:
                bar.update(n)
        bar.update(args.frames)
    elapsed = time.perf_counter() - t0
    result = {
        "frames": args.frames, "seed": args.seed, **{f"{k}_frames": v for k, v in counts.items()},
        "accepted": accepted, "rejected": rejected, "crashes": crashes,
        "frames_per_s": round(args.frames / elapsed) if elapsed else None,
        "elapsed_s": round(elapsed, 2), "crash_examples": examples,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    if crashes:
        print(f"{crashes} crashes", file=sys.stderr)
    return 1 if crashes else 0
