"""`dungeon tui --embedded`: a node in this process (simulated radio by default) with the console on it."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


class EmbeddedError(Exception):
    """The in-process node cannot start; one line for the DM."""


async def _node_answers(sock: Path) -> bool:
    import asyncio

    if not sock.exists():
        return False
    try:
        _, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(sock)), 1.0)
    except (OSError, TimeoutError):
        return False  # a stale socket from a node that died
    writer.close()
    return True


async def run_embedded(data_dir: Path, *, radio: str = "sim", dungeon: str | None = None) -> int:
    """Start a node (node.wiring.build_node), run the console against its socket, stop the node when the console quits."""
    from node.config import load_config
    from node.radio.factory import make_transport
    from node.wiring import build_node
    from tui.app import DungeonConsole

    cfg = load_config(data_dir=data_dir, radio=radio, dungeon=dungeon)
    if await _node_answers(cfg.control_path):
        raise EmbeddedError(f"a node is already running in {cfg.data_dir}; "
                            f"attach with: dungeon tui --data-dir {cfg.data_dir}")
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    log_to_file(cfg.data_dir / "node.log")  # the node's log lines would paint over the console
    node = build_node(cfg, make_transport(cfg.radio))
    await node.start()
    try:
        await DungeonConsole(cfg.control_path).run_async()
    finally:
        await node.stop()
    return 0


def log_to_file(path: Path) -> None:
    """Send all logging to `path`: log lines on stderr would paint over a running console."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
