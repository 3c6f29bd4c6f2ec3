"""Custom monster files for a node or a script: read .toml/.json stat blocks and check each one."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from rules.custom import validate_monster
from rules.errors import RulesError

MAX_FILES = 200
MAX_BYTES = 256 * 1024


def load_monsters(path: Path) -> list[dict[str, Any]]:
    """Every monster in a file, or in the .toml/.json files of a folder (sorted by name).

    A file holds one stat block, or several as `[[monsters]]` (TOML) / a list (JSON).
    RulesError is one line naming the file, the monster and the field.
    """
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".toml", ".json"))[:MAX_FILES]
    elif path.is_file():
        files = [path]
    else:
        raise RulesError(f"{path}: no such file or folder")
    out: list[dict[str, Any]] = []
    for f in files:
        for k, doc in enumerate(_documents(f)):
            try:
                out.append(validate_monster(doc))
            except RulesError as err:
                raise RulesError(f"{f.name} monster {k + 1}: {err}"[:200]) from None
    return out


def _documents(f: Path) -> list[Any]:
    try:
        if f.stat().st_size > MAX_BYTES:
            raise RulesError(f"{f.name}: over {MAX_BYTES // 1024} KiB")
        text = f.read_text("utf-8")
        doc: Any = json.loads(text) if f.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RulesError(f"{f.name}: cannot read: {str(err).splitlines()[0]}"[:200]) from None
    if isinstance(doc, dict) and set(doc) == {"monsters"}:
        doc = doc["monsters"]
    return doc if isinstance(doc, list) else [doc]
