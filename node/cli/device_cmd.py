"""`dungeon device`: a simulated Meshtastic mesh whose radios speak the TCP stream API on localhost."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys

from node.cli import argtypes

HELP = "run simulated Meshtastic radios on 127.0.0.1 (node on --port-base, players after)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=argtypes.count, default=3,
                        help="radios the game can use: the node plus NODES-1 players (default 3)")
    parser.add_argument("--port-base", type=argtypes.port_or_any, default=4403,
                        help="TCP port of the node's radio; players follow (default 4403; 0: free ports, listed in the --json line)")
    parser.add_argument("--hops", type=argtypes.count, default=1,
                        help="radio hops between node and players; adds relays (default 1)")
    parser.add_argument("--preset", default="LONG_FAST", help="modem preset (default LONG_FAST)")
    parser.add_argument("--region", default="EU_868", help="LoRa region (default EU_868)")
    parser.add_argument("--loss", type=argtypes.probability, default=0.0,
                        help="extra random loss per reception, 0..1 (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--firmware", choices=("2.7", "2.8"), default="2.7",
                        help="firmware the radios run; 2.8 numbers each radio by the crc32 "
                             "of its public key, as a first 2.8 boot does (default 2.7)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--duration", type=argtypes.float_range(0.0), default=0.0,
                        help="stop after this many seconds and print mesh statistics (0: run until Ctrl-C)")
    parser.add_argument("--json", action="store_true",
                        help="print the radio list (and final statistics) as one JSON document")


async def _serve(args: argparse.Namespace) -> dict[str, object]:
    from node.cli.signals import until_stopped
    from node.radio.firmware import effective_preset
    from node.sim.device import serve_mesh
    from node.sim.mesh import Mesh

    # Like a real radio (RadioInterface.cpp:801-826), a preset wider than the region's band
    # quietly becomes LONG_FAST: EU_868 refuses the 500 kHz Turbo presets.
    preset = effective_preset(args.region, args.preset)
    if preset != args.preset.upper():
        print(f"dungeon device: {args.region} is too narrow for {args.preset.upper()}; "
              "the radios run LONG_FAST", file=sys.stderr)
    mesh = Mesh.build(players=args.nodes - 1, hops=args.hops, preset=preset,
                      loss=args.loss, seed=args.seed, region=args.region,
                      firmware=args.firmware)
    devices = await serve_mesh(mesh, port_base=args.port_base, host=args.host)
    radios = [{"num": d.num, "id": f"!{d.num:08x}", "name": mesh.radios[d.num].name,
               "host": args.host, "port": d.port,
               "public_key": mesh.radios[d.num].public_key.hex()} for d in devices]
    if args.json and args.duration <= 0:
        print(json.dumps({"radios": radios}), flush=True)  # the one document; runs until Ctrl-C
    elif not args.json:
        for r in radios:
            print(f"{r['name']:>8} {r['id']}  tcp:{r['host']}:{r['port']}", flush=True)
        print(f"simulated mesh up ({mesh.preset}, {mesh.region}); Ctrl-C to stop", flush=True)
    try:
        await until_stopped(args.duration if args.duration > 0 else None)
    finally:
        # all at once: Ctrl-C should not wait for each radio's clients in turn
        await asyncio.gather(*(d.stop() for d in devices), return_exceptions=True)
    stats = mesh.stats()
    stats.pop("radios", None)
    return {"radios": radios, "stats": stats}


def run(args: argparse.Namespace) -> int:
    from node.cli import UsageError

    last = args.port_base + args.nodes - 1
    if last > argtypes.MAX_PORT:
        raise UsageError(f"--port-base {args.port_base} with {args.nodes} radios needs ports up "
                         f"to {last}; the highest is {argtypes.MAX_PORT}")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    try:
        result = asyncio.run(_serve(args))
    except OSError as err:
        print(f"dungeon device: cannot listen: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"dungeon device: {err}", file=sys.stderr)
        return 2
    if args.json:
        if args.duration > 0:
            print(json.dumps(result, indent=2))
    else:
        print(json.dumps(result["stats"]), flush=True)
    return 0
