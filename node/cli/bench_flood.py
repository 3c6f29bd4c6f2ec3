"""`dungeon bench flood`: one radio floods `dungeon node` with garbage; what does it cost the table?

Everything is real but the air: `dungeon node` runs as its own process on a simulated
Meshtastic device (`dungeon device`'s), reached over the TCP stream API by the real
`meshtastic` library, and so are the players and the flooding radio. The players time a
`look` each in turn, first on a quiet channel and then while the flooder sends its garbage
texts at a stock radio's pace. The figures: the airtime the node spent on the flooder (its
outbox's DM tally, read over the control socket, else what the flooder heard) and the
players' answer times, both ways.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from typing import Any

HELP = "flood dungeon node from one radio over the TCP API; airtime spent and answer times"

LOOK_TIMEOUT_S = 90.0
RETYPE_S = 30.0  # a player who hears nothing types the command again, as the bots do
TARGET_AIRTIME_S = 5.0  # issue 13: 100 garbage texts may cost the node this much at most
STOCK_GAP_S = 2.1  # a stock radio sends one text per 2 s from its app link, at most


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--texts", type=int, default=100, help="garbage texts the flooder sends")
    parser.add_argument("--gap", type=float, default=STOCK_GAP_S,
                        help=f"seconds between them (default {STOCK_GAP_S}: a stock radio's "
                             "limit; faster ones its firmware drops)")
    parser.add_argument("--players", type=int, default=2, help="real players timing answers")
    parser.add_argument("--baseline", type=float, default=45.0,
                        help="seconds the players play before the flood (default 45)")
    parser.add_argument("--preset", default="LONG_FAST", help="modem preset (default LONG_FAST)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--node-python", metavar="PATH", default=sys.executable,
                        help="the Python that runs `dungeon node` (default: this one; "
                             "another checkout's venv measures that code)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


class _Radio:
    """A handheld on the simulated mesh, driven through the real meshtastic library."""

    def __init__(self, port: int, node_num: int) -> None:
        from meshtastic.tcp_interface import TCPInterface
        from pubsub import pub

        self.iface = TCPInterface("127.0.0.1", portNumber=port, timeout=15)
        self.num = int(self.iface.myInfo.my_node_num)
        self.node_num = node_num
        self.heard: list[tuple[float, str]] = []
        self.dms: list[str] = []  # texts addressed to this radio alone
        self.changed = threading.Condition()
        self._last_send = 0.0
        pub.subscribe(self._on_text, "meshtastic.receive.text")

    def _on_text(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is self.iface:
            text = str(packet["decoded"].get("text", ""))
            with self.changed:
                self.heard.append((time.monotonic(), text))
                if packet.get("to") == self.num:
                    self.dms.append(text)
                self.changed.notify_all()

    def send(self, text: str, *, direct: bool = False) -> float:
        """Send one text as the app would (never faster than the radio passes on); when."""
        wait = self._last_send + STOCK_GAP_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_send = time.monotonic()
        self.iface.sendText(text, destinationId=self.node_num if direct else "^all")
        return self._last_send

    def wait_for(self, needle: str, since: float, timeout: float) -> float | None:
        """When a text containing `needle` arrived after `since`, or None at the timeout."""
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                for at, text in self.heard:
                    if at >= since and needle in text:
                        return at
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def close(self) -> None:
        from pubsub import pub

        pub.unsubscribe(self._on_text, "meshtastic.receive.text")
        self.iface.close()


def _play(players: list[_Radio], until: float, times: list[float | None]) -> None:
    """The players look in turn until `until`, each answer's time (None: never) in `times`,
    counted from the first time they typed it (a broadcast lost on the air is typed again)."""
    turn = 0
    while time.monotonic() < until:
        p = players[turn % len(players)]
        first = p.send("look")
        got = p.wait_for(" exits ", first, RETYPE_S)
        while got is None and time.monotonic() - first < LOOK_TIMEOUT_S:
            p.send("look")  # the same command again: the node answers it, never applies it twice
            got = p.wait_for(" exits ", first, RETYPE_S)
        times.append(None if got is None else round(got - first, 2))
        turn += 1


def _summary(times: list[float | None]) -> dict[str, Any]:
    ok = sorted(t for t in times if t is not None)
    if not ok:
        return {"looks": len(times), "answered": 0}
    p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))]
    return {"looks": len(times), "answered": len(ok), "p50_s": round(statistics.median(ok), 2),
            "p95_s": p95, "max_s": ok[-1]}


def _mean_wait(start: dict[str, Any], end: dict[str, Any]) -> float | None:
    """Mean seconds a table broadcast waited in the node's outbox between two status reads
    (None: a node that does not count them)."""
    if "table_sent" not in end:
        return None
    sent = end["table_sent"] - start.get("table_sent", 0)
    waited = end["table_wait_s"] - start.get("table_wait_s", 0.0)
    return round(waited / sent, 2) if sent else 0.0


def _flood(radio: _Radio, texts: int, gap: float, sent: list[int]) -> None:
    for n in range(texts):
        started = time.monotonic()
        # half on the channel, half as DMs: the node answers both by DM
        radio.iface.sendText(f"xyzzy{n} plugh {n * 7919 % 1000}", destinationId=(
            radio.node_num if n % 2 else "^all"))
        sent[0] += 1
        time.sleep(max(0.0, gap - (time.monotonic() - started)))


def _control_status(sock: Any) -> dict[str, Any]:
    import asyncio

    from node.control_client import ControlClient

    async def ask() -> dict[str, Any]:
        async with ControlClient(sock) as c:
            return dict(await c.request("status"))

    return asyncio.run(ask())


def _measure(args: argparse.Namespace, data_dir: Any) -> dict[str, Any]:
    import os
    import subprocess

    from node.sim.device_thread import start_device_mesh, stop_device_mesh
    from node.sim.mesh import NODE_NUM, Mesh

    # One hop, every radio CLIENT_MUTE, as firmware-notes advise for a table in earshot of
    # the node: nobody repeats the flood, so what it costs the air is its own airtime.
    dm = start_device_mesh(lambda: Mesh.build(
        players=args.players + 1, hops=1, preset=args.preset, seed=args.seed,
        node_role="client_mute", player_role="client_mute"))
    node = subprocess.Popen(
        [args.node_python, "-m", "node.cli", "node", "--radio",
         f"tcp:127.0.0.1:{dm.port(NODE_NUM)}", "--data-dir", str(data_dir), "--auto-approve",
         "--turn-timeout", "60", "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=data_dir.parent)  # not this checkout: --node-python runs its own install's code
    radios: list[_Radio] = []
    try:
        deadline = time.monotonic() + 60
        while dm.call(dm.devices[NODE_NUM].stats)["clients"] < 1 or \
                not (data_dir / "control.sock").exists():
            if node.poll() is not None:
                raise RuntimeError(f"the node exited: {(node.stderr.read() or '')[-300:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the node never connected to its radio")
            time.sleep(0.1)
        radios = [_Radio(dm.port(num), NODE_NUM) for num in dm.mesh.players]
        players, flooder = radios[:-1], radios[-1]
        for n, p in enumerate(players):
            sent = p.send(f"join P{n + 1} fighter")
            if p.wait_for("joins", sent, LOOK_TIMEOUT_S) is None:
                raise RuntimeError(f"player {n + 1} never heard their join")
        quiet: list[float | None] = []
        _play(players, time.monotonic() + args.baseline, quiet)
        before = _control_status(data_dir / "control.sock").get("outbox") or {}
        flood_sent = [0]
        flood = threading.Thread(target=_flood, args=(flooder, args.texts, args.gap, flood_sent),
                                 daemon=True)
        started = time.monotonic()
        flood.start()
        loud: list[float | None] = []
        _play(players, started + args.texts * args.gap, loud)
        flood.join()
        time.sleep(15)  # the node's last answers drain
        status = _control_status(data_dir / "control.sock")
        radio_stats = dm.call(lambda: dm.mesh.radio_stats(flooder.num))
        answers = list(flooder.dms)
    finally:
        for r in radios:
            r.close()
        node.terminate()
        try:
            node.wait(15)
        except subprocess.TimeoutExpired:
            node.kill()
        stop_device_mesh(dm)
    from protocol.airtime import airtime_s

    outbox = status.get("outbox") or {}
    tally = (outbox.get("dm_airtime_s") or {}).get(f"!{flooder.num:08x}")
    # What the flooder heard, at the node's configured LONG_FAST: an older node keeps no tally
    heard_s = sum(airtime_s(len(t.encode()), "LONG_FAST") for t in answers)
    spent = float(tally) if tally is not None else heard_s
    q, f = _summary(quiet), _summary(loud)
    q["node_queue_wait_s"] = _mean_wait({}, before)
    f["node_queue_wait_s"] = _mean_wait(before, outbox)
    return {
        "preset": args.preset, "players": args.players, "flooder": f"!{flooder.num:08x}",
        "texts_sent": flood_sent[0], "gap_s": args.gap,
        "texts_dropped_by_its_radio": int(radio_stats.get("text_drops", 0)),
        "flooder_airtime_s": round(spent, 3), "target_airtime_s": TARGET_AIRTIME_S,
        "answers_heard_by_flooder": len(answers), "their_airtime_at_long_fast_s": round(heard_s, 3),
        "within_target": spent <= TARGET_AIRTIME_S,
        "dm_dropped_for_budget": outbox.get("dropped_for_budget"),
        "node_airtime_s": outbox.get("airtime_used_s"),
        "quiet": q, "flood": f,
        # "their usual time": every look answered, and the table's results wait no longer
        # in the node to go out than on a quiet channel (the air itself is the flooder's
        # to share: its own transmissions slow everyone, whatever the node does)
        # (null: a node that does not count its queue waits; compare the answer times)
        "results_within_usual": None if f["node_queue_wait_s"] is None
        or q["node_queue_wait_s"] is None else f.get("answered") == f.get("looks")
        and f["node_queue_wait_s"] <= q["node_queue_wait_s"] + 1.0,
    }


def run(args: argparse.Namespace) -> int:
    import logging
    import tempfile
    from pathlib import Path

    if args.texts < 1 or args.players < 1 or args.gap <= 0 or args.baseline < 0:
        print("dungeon bench flood: --texts and --players at least 1, --gap above 0, "
              "--baseline 0 or more", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            report = _measure(args, Path(tmp) / "node")
        except (RuntimeError, OSError) as err:
            print(f"dungeon bench flood: {str(err).splitlines()[0][:200]}", file=sys.stderr)
            return 1
    from node.cli import print_report

    print_report(report, args.json)
    return 0
