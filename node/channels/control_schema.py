"""The control API's argument schema: one table of ops -> argument types and ranges, checked first.

Every value an op stores ends up in the event log and is read back on every start, so
nothing reaches an op that a later start could not load: a seed of "abc" or 1.5, a
dungeon name with a path in it, a 10^100 damage. A refusal is one line naming the op
and the argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from node.control_client import ControlError

INT32 = 2**31 - 1
INT63 = 2**63 - 1  # SQLite's INTEGER and a seed that JSON round-trips exactly
MAX_INTENT_TEXT = 500
NAME_RE = re.compile(r"[a-z0-9_-]{1,32}")
DUNGEON_PATH_RE = re.compile(r"/[^\x00-\x1f]{1,250}\.toml")


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument: its kind, whether it must be there, and its range (ints) or length (text).

    kinds: int, text, bool, name (lowercase a-z 0-9 _ -), dungeon (a name, or an absolute
    path to a .toml file), intent (a JSON object naming a type), flags (an object of
    name -> true/false), text_or_int.
    """

    kind: str
    required: bool = False
    lo: int = 0
    hi: int = INT32
    choices: tuple[str, ...] = ()


EID = Arg("int", required=True, lo=0)
NO_ARGS: dict[str, Arg] = {}

OPS: dict[str, dict[str, Arg]] = {
    "hello": NO_ARGS,
    "state": NO_ARGS,
    "status": NO_ARGS,
    "subscribe": NO_ARGS,
    "audit": {"limit": Arg("int", lo=1, hi=500)},
    "log": {"after": Arg("int", lo=0, hi=INT63), "limit": Arg("int", lo=1, hi=500)},
    "command": {"intent": Arg("intent", required=True),
                "actor": Arg("int", lo=0),
                "key": Arg("text", lo=1, hi=128)},
    "join.approve": {"id": Arg("int", required=True, lo=0)},
    "join.deny": {"id": Arg("int", required=True, lo=0)},
    "ai.pause": NO_ARGS,
    "ai.resume": NO_ARGS,
    "sheet.get": {"eid": EID},
    "sheet.history": {"eid": EID},
    "sheet.edit": {"eid": EID, "field": Arg("name", required=True),
                   "value": Arg("text_or_int", required=True, lo=-1_000_000, hi=1_000_000)},
    "sheet.revert": {"eid": EID, "version": Arg("int", required=True, lo=0)},
    "session.start": {"dungeon": Arg("dungeon"),
                      "house_rules": Arg("flags"),
                      "seed": Arg("int", lo=0, hi=INT63)},
    "session.pause": NO_ARGS,
    "session.resume": NO_ARGS,
    "session.end": NO_ARGS,
    "srd.search": {"kind": Arg("text", choices=("monster", "spell")),
                   "query": Arg("text", lo=0, hi=64)},
    "encounter.estimate": {"monsters": Arg("text", required=True, lo=1, hi=200)},
    "link.code": {"eid": EID},
    "narrate": {"text": Arg("text", required=True, lo=1, hi=MAX_INTENT_TEXT)},
    "house_rule": {"name": Arg("name", required=True), "on": Arg("bool", required=True)},
    "settings": {"text_auth": Arg("text", choices=("channel", "dm")),
                 "party_max": Arg("int", lo=1, hi=64),
                 "auto_approve": Arg("bool")},
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_value(op: str, name: str, spec: Arg, v: Any) -> None:
    where = f"{op}: {name}"
    kind = spec.kind
    if kind == "text_or_int":
        kind = "int" if _is_int(v) else "text"
        spec = Arg(kind, lo=spec.lo if kind == "int" else 0,
                   hi=spec.hi if kind == "int" else MAX_INTENT_TEXT)
    if kind == "int":
        if not _is_int(v) or not spec.lo <= v <= spec.hi:
            raise ControlError(f"{where} must be a whole number in {spec.lo}..{spec.hi}")
    elif kind == "bool":
        if not isinstance(v, bool):
            raise ControlError(f"{where} must be true or false")
    elif kind == "text":
        if spec.choices:
            if v not in spec.choices:
                raise ControlError(f"{where} must be one of {', '.join(spec.choices)}")
        elif not isinstance(v, str) or not spec.lo <= len(v) <= spec.hi:
            raise ControlError(f"{where} must be text of {spec.lo}..{spec.hi} characters")
    elif kind == "name":
        if not isinstance(v, str) or not NAME_RE.fullmatch(v):
            raise ControlError(f"{where} must be 1-32 of a-z, 0-9, _ and -")
    elif kind == "dungeon":
        if not isinstance(v, str) or not (NAME_RE.fullmatch(v) or DUNGEON_PATH_RE.fullmatch(v)):
            raise ControlError(f"{where} must be a dungeon name (a-z, 0-9, _ and -) or an "
                               "absolute path to a .toml file")
    elif kind == "flags":
        if not isinstance(v, dict) or len(v) > 16 or not all(
                isinstance(k, str) and NAME_RE.fullmatch(k) and isinstance(x, bool)
                for k, x in v.items()):
            raise ControlError(f"{where} must be an object of up to 16 names -> true/false")
    elif kind == "intent":
        if not isinstance(v, dict) or not isinstance(v.get("type"), str):
            raise ControlError(f"{where} must be an object with a 'type'")
        _check_intent_values(where, v, 0)
    else:  # a table entry with a kind this module does not know is a bug here, not bad input
        raise AssertionError(f"unknown argument kind {kind!r}")


def _check_intent_values(where: str, v: Any, depth: int) -> None:
    """Bound what an intent carries: it is logged and replayed, so no 10^100 or 1 MB text."""
    if depth > 4:
        raise ControlError(f"{where} is nested too deeply")
    if isinstance(v, dict):
        for x in v.values():
            _check_intent_values(where, x, depth + 1)
    elif isinstance(v, list):
        if len(v) > 32:
            raise ControlError(f"{where} has a list over 32 items")
        for x in v:
            _check_intent_values(where, x, depth + 1)
    elif _is_int(v):
        if not -INT32 <= v <= INT32:
            raise ControlError(f"{where} has a number outside ±{INT32}")
    elif isinstance(v, str):
        if len(v) > MAX_INTENT_TEXT:
            raise ControlError(f"{where} has text over {MAX_INTENT_TEXT} characters")
    elif isinstance(v, float):
        raise ControlError(f"{where} has a fraction; use whole numbers")


def check_args(op: str, args: Any) -> dict[str, Any]:
    """The args (nulls dropped) if they fit the op's schema, else ControlError (one line).

    Unknown arguments are refused too: a misspelt `seed` silently ignored would start a
    game the DM did not ask for. A null optional argument counts as absent.
    """
    schema = OPS.get(op)
    if schema is None:
        raise ControlError(f"{op[:40]!r} has no argument schema")
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ControlError("args must be an object")
    for name in args:
        if name not in schema:
            raise ControlError(f"{op}: unknown argument {str(name)[:32]!r}")
    for name, spec in schema.items():
        if name not in args or (args[name] is None and not spec.required):
            if spec.required:
                raise ControlError(f"{op}: missing argument {name!r}")
            continue
        _check_value(op, name, spec, args[name])
    return {k: v for k, v in args.items() if v is not None}  # the ops read absent as default
