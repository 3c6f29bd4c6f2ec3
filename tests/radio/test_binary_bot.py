"""The binary client (the player's own, and the simulator's bot on it): bundles, acks, resends."""

from __future__ import annotations

import asyncio
import random

from node.client.player import PlayerClient
from node.radio.base import BROADCAST, GAME_PORT, LoopbackTransport, Packet, RadioInfo
from node.sim.binary_bot import BinaryBot
from node.sim.virtual_loop import run_virtual
from protocol import codec, frames
from protocol.session import NodeSession
from rules import intents as it
from rules.events import Digest, Joined, TurnStarted

NODE, ME = 0x11, 0x22


class Member:
    """A Table where our radio has joined as character 5."""

    def eid_of(self, client):
        return 5 if client == ME else None

    def owner(self, eid):
        return ME if eid == 5 else None

    def digest(self):
        return None

    def current_turn(self):
        return None

    def canonical(self):
        return None


def welcomed(client: PlayerClient) -> NodeSession:
    """Say HELLO to a node session and hand the client its WELCOME: it now holds its keys."""
    node = NodeSession(b"secret")
    (welcome,) = node.receive(ME, client.session.hello().data, 0.0, Member())
    client.transport.inject(Packet(NODE, ME, GAME_PORT, welcome.data))
    assert client.session.welcomed
    return node


def events_frame(node, seq, *events, flags=0, ack=None):
    return frames.encode_frame(frames.Frame(
        kind=frames.Kind.EVENTS, sender_seq=seq, flags=flags, ack=ack,
        payload=codec.encode_events([*events, Digest(seq)])), node.table_key)


def bundle(*parts):
    ((data, _),) = frames.pack(list(parts), max(frames.decode_frame(p).sender_seq for p in parts))
    return data


def test_the_player_client_reads_a_missed_frame_that_rides_with_the_next():
    async def main():
        lines: list[str] = []
        client = PlayerClient(LoopbackTransport(info=RadioInfo(node_num=ME)), name="Mira",
                              cls="cleric", out=lines.append, node_num=NODE)
        await client.start()
        node = welcomed(client)
        radio = client.transport
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT,
                            events_frame(node, 2, Joined(8, "Bo", "rogue", 1))))
        assert client.gaps.missing() == [1]
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, bundle(
            events_frame(node, 1, Joined(7, "Eve", "rogue", 1)), events_frame(node, 3))))
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
        node = welcomed(bot)
        bot.eid, bot.session.slot = 5, 2
        radio = bot.transport
        start = events_frame(node, 1, TurnStarted(1, 5))
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, start))
        assert bot.my_turn.is_set()
        bot.my_turn.clear()
        acting = asyncio.ensure_future(bot.act(it.Look()))
        await asyncio.sleep(1)
        (seq,) = bot.session.pending()
        # someone else asked for frame 1 again: it comes back with frame 2, which acks us
        radio.inject(Packet(NODE, BROADCAST, GAME_PORT, bundle(
            start, events_frame(node, 2, flags=2, ack=seq))))
        done = await acting
        await bot.close()
        return bot, done

    bot, done = run_virtual(main())
    assert not bot.my_turn.is_set()  # the stale TurnStarted does not start a second turn
    assert done and bot.stats.applied == 1 and bot.duplicates == 1 and bot.gaps.latest == 2


def test_a_client_whose_tries_run_out_says_hello_before_its_next_decision():
    async def main():
        client = PlayerClient(LoopbackTransport(info=RadioInfo(node_num=ME)), name="Mira",
                              cls="cleric", out=lambda line: None, node_num=NODE, retry_s=5.0,
                              max_tries=2)
        await client.start()
        welcomed(client)
        acks = await client.deliver([it.Look()])  # nobody answers
        sent = len(client.transport.sent)
        again = asyncio.ensure_future(client.deliver([it.Look()]))
        await asyncio.sleep(1)
        again.cancel()
        await client.close()
        return acks, client.transport.sent[sent:]

    acks, after = run_virtual(main())
    assert [a.gave_up for a in acks] == [True]
    assert frames.decode_frame(after[0].payload).kind == frames.Kind.HELLO


def test_a_scripts_lines_share_a_packet_and_the_snapshot_waits_for_their_acks(tmp_path):
    # Over two hops at LONG_FAST each line went in its own packet, and the snapshot's many
    # fragments went out while they were on their way: the relay lost them, for 90 s.
    from node.clock import Clock
    from node.config import NodeConfig
    from node.sim.mesh import Mesh
    from node.sim.transport import SimTransport
    from node.wiring import build_node
    from protocol import text

    async def main():
        loop = asyncio.get_running_loop()
        mesh = Mesh.build(players=1, hops=1, preset="SHORT_TURBO", seed=1)
        app = build_node(NodeConfig(data_dir=tmp_path, auto_approve=True, preset="SHORT_TURBO"),
                         SimTransport(mesh, mesh.node_num), clock=Clock.for_loop(loop, 1.7e9),
                         control=False)
        await app.start()
        radio = SimTransport(mesh, mesh.players[0])
        client = PlayerClient(radio, name="Mira", cls="cleric", out=lambda line: None,
                              rng=random.Random(1))
        sent: list[tuple[float, list[frames.Frame]]] = []
        send = radio.send

        async def recording(to, port, payload, **kw):
            sent.append((loop.time(), frames.received(payload)))
            return await send(to, port, payload, **kw)

        radio.send = recording
        await client.start()
        try:
            assert await client.join()
            sent.clear()
            tasks = []
            for line in ("look", "hp", "say hello table"):  # read one at a time, as from a pipe
                tasks.append(loop.create_task(client.deliver(text.parse_chain(line))))
                await asyncio.sleep(0.01)
            acks = [a for t in await asyncio.gather(*tasks) for a in t]
            acked_at = max(a.at for a in acks)
            await asyncio.sleep(5)
            return sent, acked_at, all(a.done.is_set() for a in acks)
        finally:
            await client.close()
            await app.stop()

    sent, acked_at, all_acked = run_virtual(main())
    assert all_acked
    intents = [(t, fs) for t, fs in sent if any(f.kind == frames.Kind.INTENT for f in fs)]
    assert len(intents[0][1]) == 3  # the three lines in the first packet
    asks = [t for t, fs in sent if any(f.kind == frames.Kind.RESYNC
                                      and frames.decode_rerequest(f.payload)[0] == 0 for f in fs)]
    assert asks and min(asks) >= acked_at  # the snapshot is asked for once they are acked
