"""`dungeon character export NAME` / `import FILE`: move a character between games and nodes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HELP = "export a character as JSON, or import one into the running game"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("export", "import"))
    parser.add_argument("what", help="export: the character's name; import: a JSON file or -")
    parser.add_argument("--data-dir", metavar="DIR", help="the node's data directory")
    parser.add_argument("--config", metavar="FILE", help="TOML config file")
    parser.add_argument("--check", action="store_true",
                        help="import: validate the file only, change nothing")


def _fail(msg: str, code: int = 2) -> int:
    print(f"dungeon character: {msg}", file=sys.stderr)
    return code


def _export(cfg: Any, name: str) -> int:
    from node.session import resume
    from node.store import Store
    from rules import character_io
    from rules.errors import RulesError

    if not cfg.db_path.exists():
        return _fail(f"no game in {cfg.data_dir}", 1)
    store = Store(cfg.db_path)
    try:
        s = resume(store)
    finally:
        store.close()
    if s is None:
        return _fail("no game to export from", 1)
    pcs = [e for e in s.game.entities.values() if e.kind == "pc"]
    hit = next((e for e in pcs if e.name.lower() == name.lower()), None)
    if hit is None:
        return _fail(f"no character {name[:20]!r}; the party: "
                     + (", ".join(e.name for e in pcs) or "none"), 1)
    try:
        print(json.dumps(character_io.export(hit), sort_keys=True, indent=1))
    except RulesError as err:
        return _fail(str(err), 1)
    return 0


def _read(what: str) -> Any:
    text = sys.stdin.read() if what == "-" else Path(what).read_text(encoding="utf-8")
    return json.loads(text)


def _import(cfg: Any, what: str, check: bool) -> int:
    import asyncio

    from node.control_client import ControlClient
    from rules import character_io
    from rules.errors import RulesError

    try:
        doc = _read(what)
        pc = character_io.load(doc)
    except OSError as err:
        return _fail(f"cannot read {what}: {err.strerror or err}")
    except ValueError as err:
        return _fail(f"{what} is not JSON: {str(err)[:80]}")
    except RulesError as err:
        return _fail(f"{what}: {err}")
    if check:
        print(f"{pc.name}: a valid level {pc.level} {pc.cls}")
        return 0
    if not cfg.control_path.exists():
        return _fail("no node running here; start `dungeon node` first", 1)

    async def send() -> Any:
        async with ControlClient(cfg.control_path) as c:
            return await asyncio.wait_for(
                c.request("character.import", character=json.dumps(doc)), 10.0)

    try:
        res = asyncio.run(send())
    except (OSError, TimeoutError, ConnectionError) as err:
        return _fail(f"node not reachable: {err}", 1)
    except Exception as err:  # the node's one-line refusal
        return _fail(str(err)[:160], 1)
    print(" ".join((res or {}).get("lines", [])) or f"{pc.name} joins the game")
    return 0


def run(args: argparse.Namespace) -> int:
    from node.config import ConfigError, load_config

    try:
        cfg = load_config(args.config, data_dir=args.data_dir)
    except ConfigError as err:
        return _fail(str(err))
    if args.action == "export":
        return _export(cfg, args.what)
    return _import(cfg, args.what, args.check)
