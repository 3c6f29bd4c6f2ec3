"""`dungeon bench node`: commands persisted per second (FULL vs NORMAL sync), start-up time, RSS."""

from __future__ import annotations

import argparse
import json

from node.cli import argtypes

HELP = "measure the node: durable commands per second, start-up time and memory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--commands", type=argtypes.count, default=500, help="commands per durability mode")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


async def _commands_per_s(data_dir, synchronous: str, n: int) -> float:  # type: ignore[no-untyped-def]
    import asyncio
    import time

    from node.clock import Clock
    from node.obs.metrics import Metrics
    from node.pipeline import Command, Pipeline
    from node.store import Store
    from rules import intents as it

    store = Store(data_dir / f"bench-{synchronous.lower()}.db", synchronous=synchronous)
    clock = Clock.for_loop(asyncio.get_running_loop())
    p = Pipeline(store, node_id="bench", clock=clock, metrics=Metrics(), auto_approve=True,
                 rate_per_s=1e9, rate_burst=10**9)
    await p.start_session("crypt", seed=1)
    await p.submit(Command("text", "!00000001", it.Join("Bench", "fighter")))
    t0 = time.perf_counter()
    for i in range(n):
        out = await p.submit(Command("text", "!00000001", it.Say(f"hello {i}"), f"k{i}"))
        if not out.ok:
            raise RuntimeError(out.error)
    dt = time.perf_counter() - t0
    store.close()
    return n / dt


def _startup(data_dir) -> dict[str, float]:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    import time

    d = data_dir / "node"
    sock = d / "control.sock"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                             "--data-dir", str(d)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        ready = None
        while time.perf_counter() - t0 < 20:
            if sock.exists() and _hello(sock):
                ready = time.perf_counter() - t0
                break
            time.sleep(0.01)
        rss_kb = 0
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss_kb = int(line.split()[1])
        return {"startup_s": round(ready, 3) if ready else -1.0, "rss_mb": round(rss_kb / 1024, 1)}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def _hello(sock) -> bool:  # type: ignore[no-untyped-def]
    import socket

    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(1)
            s.connect(str(sock))
            s.sendall(b'{"id":1,"op":"hello"}\n')
            return b'"ok":true' in s.recv(4096)
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    import asyncio
    import tempfile
    from pathlib import Path

    from node.store import SYNCHRONOUS

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        full = asyncio.run(_commands_per_s(d, SYNCHRONOUS, args.commands))
        normal = asyncio.run(_commands_per_s(d, "NORMAL", args.commands))
        start = _startup(d)
    out = {"synchronous": SYNCHRONOUS, "commands_per_s": round(full, 1),
           "commands_per_s_normal": round(normal, 1), **start}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:24} {v}")
    return 0
