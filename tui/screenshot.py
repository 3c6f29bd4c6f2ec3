"""Export the console as an SVG (Textual's save_screenshot) from a scripted game: `python -m tui.screenshot OUT.svg`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
from pathlib import Path

SCRIPT: list[dict] = [
    {"type": "Join", "name": "Thorin", "cls": "fighter"},
    {"type": "Join", "name": "Mira", "cls": "cleric"},
    {"type": "Join", "name": "Vex", "cls": "wizard"},
    {"type": "Dm", "op": "narrate", "text": "Cold air rises from the stair; something skitters below."},
    {"type": "Dm", "op": "spawn", "text": "goblin", "value": 3},
    {"type": "Dm", "op": "start_combat"},
    {"type": "Dm", "op": "damage", "target": "Goblin1", "value": 4, "text": "slashing"},
    {"type": "Dm", "op": "damage", "target": "Vex", "value": 5, "text": "piercing"},
    {"type": "Dm", "op": "condition", "target": "Vex", "value": 1, "text": "poisoned"},
    {"type": "Dm", "op": "condition", "target": "Goblin2", "value": 1, "text": "prone"},
]


async def export(out: Path, size: tuple[int, int] = (120, 40), seed: int = 7) -> Path:
    """Run a node (simulated mesh) and the console on it, play SCRIPT, save the screen to `out`."""
    from node.config import load_config
    from node.control_client import ControlClient
    from node.radio.factory import make_transport
    from node.wiring import build_node
    from tui.app import DungeonConsole

    logging.disable(logging.CRITICAL)
    d = Path(tempfile.mkdtemp(prefix="dd-shot-"))
    cfg = load_config(env={}, data_dir=d, radio="sim", game_seed=seed, coalesce_s=0.2,
                      turn_timeout_s=90.0)
    node = build_node(cfg, make_transport(cfg.radio))
    await node.start()
    try:
        app = DungeonConsole(cfg.control_path, tick=False)
        async with app.run_test(size=size) as pilot:
            async with ControlClient(cfg.control_path) as c:
                await c.request("ai.pause")
                for intent in SCRIPT:
                    await c.request("command", intent=intent)
                await c.request("house_rule", name="friendly_fire", on=True)
            for _ in range(300):
                if app.live and (app.state or {}).get("initiative"):
                    break
                await pilot.pause(0.02)
            await asyncio.sleep(1.5)  # let the outbox put a few packets on the air
            await pilot.pause(0.2)
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=out.name, path=str(out.parent))
    finally:
        await node.stop()
        shutil.rmtree(d, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out", nargs="?", default="docs/screenshot.svg")
    p.add_argument("--size", default="120x40", help="WIDTHxHEIGHT")
    args = p.parse_args(argv)
    w, _, h = args.size.partition("x")
    path = asyncio.run(export(Path(args.out), (int(w), int(h))))
    print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
