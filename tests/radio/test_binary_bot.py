"""The binary client (the player's own, and the simulator's bot built on it) reads bundles and resends."""

from __future__ import annotations

import random

from node.client.player import Ack, PlayerClient
from node.radio.base import BROADCAST, GAME_PORT, LoopbackTransport, Packet, RadioInfo
from node.sim.binary_bot import BinaryBot
from node.sim.virtual_loop import run_virtual
from protocol import codec, frames
from rules.events import Digest, Joined, TurnStarted

NODE, ME = 0x11, 0x22


def events_frame(seq, *events, flags=0, ack=None):
    return frames.encode_frame(frames.Frame(
        kind=frames.Kind.EVENTS, sender_seq=seq, flags=flags, ack=ack,
        payload=codec.encode_events([*events, Digest(seq)])))


def bundle(*parts):
    return frames.encode_frame(frames.Frame(kind=frames.Kind.BUNDLE, sender_seq=max(
        frames.decode_frame(p).sender_seq for p in parts), payload=frames.bundle_payload(list(parts))))


def test_the_player_client_reads_a_missed_frame_that_rides_with_the_next():
    async def main():
        lines: list[str] = []
        client = PlayerClient(LoopbackTransport(info=RadioInfo(node_num=ME)), name="Mira",
                              cls="cleric", out=lines.append, node_num=NODE)
        await client.start()
        radio = client.transport
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, events_frame(2, Joined(8, "Bo", "rogue", 1))))
        assert client.gaps.missing() == [1]
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, bundle(
            events_frame(1, Joined(7, "Eve", "rogue", 1)), events_frame(3))))
        await client.close()
        return client, lines

    client, lines = run_virtual(main())
    assert client.gaps.missing() == [] and client.gaps.latest == 3
    assert client.digests == {1: 1, 2: 2, 3: 3}
    assert any("Eve" in line for line in lines) and any("Bo" in line for line in lines)


def test_the_bot_takes_a_resent_turn_start_once_and_its_ack_from_a_bundle():
    async def main():
        bot = BinaryBot(LoopbackTransport(info=RadioInfo(node_num=ME)), NODE, name="Mira",
                        cls="cleric", rng=random.Random(1), eyes=lambda: None)
        await bot.start()
        bot.eid, bot.slot = 5, 2
        radio = bot.transport
        start = events_frame(1, TurnStarted(1, 5))
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, start))
        assert bot.my_turn.is_set()
        bot.my_turn.clear()
        # someone else asked for frame 1 again: it comes back with frame 2, which acks us
        sent = bot._acks[4] = Ack()
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, bundle(
            start, events_frame(2, flags=2, ack=4))))
        return bot, sent.done.is_set() and sent.public

    bot, acked = run_virtual(main())
    assert not bot.my_turn.is_set()  # the stale TurnStarted does not start a second turn
    assert acked and bot.duplicates == 1 and bot.gaps.latest == 2
