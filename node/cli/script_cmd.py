"""`dungeon script FILE|-`: run a game from a file through the radio's pipeline, print results.

Line forms (README, "Scripting a game"):
  join NAME CLASS [LEVEL]      a player character, approved
  make NAME STEP CHOICE        a character-creation step, as the radio grammar reads it
  NAME: COMMAND                act for any creature by name, in the text grammar
  ! NAME: COMMAND              the same, expected to be refused
  dm: OP ...                   a DM operation (spawn, start, end, next, turn, roll, damage,
                               heal, condition, narrate, house, levelup, cover, unlock, give,
                               xp, take, shop, ai)
  expect ...                   pin the state down (hp, has, not, conc, effect, stat, sheet,
                               last, count)
  # comment
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HELP = "run game commands from a file through the node pipeline (for DMs and tests)"
MAX_AI_STEPS = 200  # monster turns run per script line at most (a guard, not a rule)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE|-", help="the script, or - for stdin")
    parser.add_argument("--seed", type=int, default=1, help="the game's dice seed (default 1)")
    parser.add_argument("--dungeon", default="crypt", help="a bundled dungeon name or a path")
    parser.add_argument("--monsters", metavar="PATH",
                        help="custom monsters: a .toml/.json stat-block file or a folder of them")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per event, then a line with the digest")


class ScriptError(Exception):
    """A line that cannot run; str(err) is the one-line reason."""


class ExpectFailed(Exception):
    """An `expect` line that does not hold; str(err) says what was found."""


@dataclass
class Runner:
    pipeline: Any
    as_json: bool
    ai: bool = False
    last: list[Any] = field(default_factory=list)

    @property
    def game(self) -> Any:
        return self.pipeline.game

    # -- output -----------------------------------------------------------------------
    def emit(self, outcome: Any) -> None:
        from protocol import jsonform
        from protocol.render import render

        self.last += list(outcome.events)
        if self.as_json:
            for e in outcome.events:
                print(json.dumps(jsonform.dump(e), sort_keys=True))
            return
        lines = render(outcome.events, self.game) if outcome.events else []
        for line in lines + ([outcome.text] if outcome.text else []):
            print(f"  {line}")

    async def submit(self, intent: Any, actor: int | None = None, source: str = "dm") -> Any:
        from node.pipeline import Command

        sender = "ai" if source == "ai" else "dm"
        out = await self.pipeline.submit(Command(source, sender, intent, None, actor))
        if out.ok:
            self.emit(out)
        return out

    # -- lines ------------------------------------------------------------------------
    async def line(self, text: str) -> None:
        refuse = text.startswith("!")
        if refuse:
            text = text[1:].strip()
        if text.startswith("expect "):
            self.expect(text[7:].split())
            return
        self.last = []
        if not self.as_json:
            print(f"> {text}")
        head, sep, rest = text.partition(":")
        words = text.split()
        if words[0].lower() == "join" and not sep:
            err = await self._join(words[1:])
        elif words[0].lower() == "make":
            err = await self._make(text)
        elif sep and head.strip().lower() == "dm":
            err = await self._dm(rest.split())
        elif sep and head.strip():
            err = await self._act(head.strip(), rest.strip())
        else:
            raise ScriptError("expected join, NAME: COMMAND, dm: OP or expect")
        if refuse and err is None:
            raise ScriptError("expected a refusal, but it was allowed")
        if not refuse and err is not None:
            raise ScriptError(err)
        if self.as_json and refuse:
            print(json.dumps({"type": "Refused", "error": err}))
        elif refuse:
            print(f"  refused: {err}")
        await self._monsters()

    async def _join(self, args: list[str]) -> str | None:
        from rules import intents as it

        if len(args) not in (2, 3) or (len(args) == 3 and not args[2].isdigit()):
            raise ScriptError("usage: join NAME CLASS [LEVEL]")
        out = await self.submit(it.Join(args[0], args[1], int(args[2]) if len(args) == 3 else 1))
        return None if out.ok else out.error

    async def _make(self, text: str) -> str | None:
        """A creation step as a player sends it before joining (make NAME STEP CHOICE)."""
        from protocol.errors import ProtocolError
        from protocol.text import parse

        try:
            intent = parse(text)
        except ProtocolError as err:
            raise ScriptError(str(err)) from None
        out = await self.submit(intent)
        return None if out.ok else out.error

    def _eid(self, name: str) -> int:
        from rules.errors import RulesError

        try:
            return self.game.find(name).eid
        except RulesError as err:
            raise ScriptError(str(err)) from None

    async def _act(self, who: str, command: str) -> str | None:
        from protocol.errors import ProtocolError
        from protocol.text import parse_chain

        eid = self._eid(who)
        try:
            intents = parse_chain(command)
        except ProtocolError as err:
            raise ScriptError(str(err)) from None
        for intent in intents:
            out = await self.submit(intent, eid)
            if not out.ok:
                return out.error
        return None

    async def _dm(self, words: list[str]) -> str | None:
        if not words:
            raise ScriptError("dm: which operation?")
        op, args = words[0].lower(), words[1:]
        if op == "ai":
            if args not in (["on"], ["off"]):
                raise ScriptError("usage: dm: ai on|off")
            self.ai = args == ["on"]
            return None
        intent = self._dm_intent(op, args)
        out = await self.submit(intent)
        return None if out.ok else out.error

    def _dm_intent(self, op: str, args: list[str]) -> Any:
        from rules.intents import Dm

        def name_num(usage: str) -> tuple[str, int, list[str]]:
            k = next((j for j, w in enumerate(args) if re.fullmatch(r"\d+", w)), None)
            if k is None or k == 0:
                raise ScriptError(f"usage: dm: {usage}")
            return " ".join(args[:k]), int(args[k]), args[k + 1:]

        if op in ("start", "end") and args[:1] in ([], ["combat"]):
            return Dm(f"{op}_combat")
        if op in ("next", "prev"):
            return Dm(f"{op}_turn")
        if op == "spawn":
            if not args:
                raise ScriptError("usage: dm: spawn MONSTER [COUNT]")
            count = int(args[-1]) if args[-1].isdigit() and len(args) > 1 else 1
            name = " ".join(args[:-1] if count != 1 or args[-1] == "1" else args)
            return Dm("spawn", text=name, value=count)
        if op == "turn":
            return Dm("set_turn", self._eid(" ".join(args)))
        if op == "roll":
            if not args or not all(a.isdigit() for a in args):
                raise ScriptError("usage: dm: roll FACE [FACE...]")
            return Dm("set_roll", value=int(args[0]), text=" ".join(args))
        if op == "damage":
            name, n, rest = name_num("damage NAME AMOUNT [TYPE]")
            return Dm("damage", self._eid(name), n, rest[0] if rest else "force")
        if op == "heal":
            name, n, _ = name_num("heal NAME AMOUNT")
            return Dm("heal", self._eid(name), n)
        if op == "cover":
            name, n, _ = name_num("cover NAME 0|2|5")
            return Dm("cover", self._eid(name), n)
        if op == "condition":
            off = bool(args) and args[-1].lower() == "off"
            body = args[:-1] if off else args
            if len(body) < 2:
                raise ScriptError("usage: dm: condition NAME CONDITION [off]")
            return Dm("condition", self._eid(" ".join(body[:-1])), 0 if off else 1, body[-1])
        if op == "narrate":
            return Dm("narrate", text=" ".join(args))
        if op == "house":
            if len(args) != 2 or args[1] not in ("on", "off"):
                raise ScriptError("usage: dm: house RULE on|off")
            return Dm("house_rule", text=args[0], value=int(args[1] == "on"))
        if op in ("levelup", "level"):
            from rules.pregen import CLASSES

            words = [a for a in args if a != "up"]
            cls = words.pop() if len(words) > 1 and words[-1].lower() in CLASSES else ""
            return Dm("level_up", self._eid(" ".join(words)), text=cls)
        if op == "shop":
            if args[:1] not in (["open"], ["close"]):
                raise ScriptError("usage: dm: shop open [ITEM, ITEM...] | dm: shop close")
            return Dm(f"shop.{args[0]}", text=" ".join(args[1:]))
        if op == "take":
            if len(args) < 2:
                raise ScriptError("usage: dm: take NAME ITEM")
            return Dm("take_item", self._eid(args[0]), 1, " ".join(args[1:]))
        if op == "unlock":
            return Dm("unlock", text=" ".join(args))
        if op == "xp":
            name, n, _ = name_num("xp NAME AMOUNT")
            return Dm("give_xp", self._eid(name), n)
        if op == "give":
            if len(args) < 2:
                raise ScriptError("usage: dm: give NAME ITEM")
            return Dm("give_item", self._eid(args[0]), 1, " ".join(args[1:]))
        if op == "edit":
            if len(args) < 2 or "=" not in args[-1]:
                raise ScriptError("usage: dm: edit NAME FIELD=VALUE")
            return Dm("edit_sheet", self._eid(" ".join(args[:-1])), text=args[-1])
        raise ScriptError(f"unknown DM operation {op!r}")

    async def _monsters(self) -> None:
        """With `dm: ai on`, monsters whose turn it is act as the node's AI would."""
        import random

        from node.tactician import choose_with_fallback
        from rules import intents as it

        steps = 0
        while self.ai and self.game.combat is not None and steps < MAX_AI_STEPS:
            eid = self.game.current_turn()
            if self.game.controller(eid) != "monster":
                return
            steps += 1
            rng = random.Random(f"ai:{self.pipeline.store.max_seq()}:{eid}")
            option, _who = await choose_with_fallback(None, self.game, eid, rng, budget_s=1.0)
            await self.submit(option.intent, eid, "ai")
            if self.game.combat is not None and self.game.current_turn() == eid:
                await self.submit(it.EndTurn(), eid, "ai")

    # -- expectations -----------------------------------------------------------------
    def expect(self, w: list[str]) -> None:
        """expect NAME hp OP N | NAME has|not COND | NAME conc SPELL|none |
        NAME effect|noeffect NAME | NAME slots LEVEL N | NAME res RESOURCE N |
        NAME stat FIELD OP N | NAME sheet WORDS... |
        last TYPE [FIELD=VALUE...] | count TYPE N [FIELD=VALUE...] | nolast TYPE ..."""
        if len(w) >= 2 and w[0] in ("last", "nolast", "count"):
            self._expect_events(w)
            return
        k = next((j for j, x in enumerate(w) if x in ("hp", "has", "not", "conc", "effect",
                                                     "noeffect", "temp", "slots", "res",
                                                     "stat", "sheet")),
                 None)
        if k is None or k == 0 or k + 1 >= len(w):
            raise ScriptError("usage: expect NAME hp|has|not|conc|effect|noeffect ...")
        e = self.game.entities[self._eid(" ".join(w[:k]))]
        what, arg = w[k], w[k + 1:]
        if what in ("hp", "temp"):
            if len(arg) != 2 or arg[0] not in _OPS or not arg[1].lstrip("-").isdigit():
                raise ScriptError("usage: expect NAME hp =|<|>|<=|>= N")
            have = e.hp if what == "hp" else e.temp_hp
            if not _OPS[arg[0]](have, int(arg[1])):
                raise ExpectFailed(f"{e.name} {what} is {have}, not {arg[0]} {arg[1]}")
        elif what in ("has", "not"):
            has = arg[0] in e.conditions or (arg[0] == "dead" and e.dead)
            if has != (what == "has"):
                raise ExpectFailed(f"{e.name} conditions: {sorted(e.conditions) or 'none'}")
        elif what == "conc":
            want = "" if arg[0] == "none" else arg[0]
            if e.conc != want:
                raise ExpectFailed(f"{e.name} concentrates on {e.conc or 'nothing'}")
        elif what in ("effect", "noeffect"):
            has = any(x.name == arg[0] for x in e.effects)
            if has != (what == "effect"):
                raise ExpectFailed(f"{e.name} effects: {[x.name for x in e.effects] or 'none'}")
        elif what == "slots":
            lvl, n = int(arg[0]), int(arg[1])
            if e.slots[lvl - 1] != n:
                raise ExpectFailed(f"{e.name} has {e.slots[lvl - 1]} level {lvl} slots")
        elif what == "sheet":  # the sheet a player reads contains these words
            text = self.game.describe(e.eid, "sheet")
            if " ".join(arg) not in text:
                raise ExpectFailed(f"{e.name}'s sheet reads {text!r}")
        elif what == "stat":
            if len(arg) != 3 or arg[1] not in _OPS or not arg[2].lstrip("-").isdigit():
                raise ScriptError("usage: expect NAME stat FIELD =|<|>|<=|>= N")
            have = _stat(self.game, e, arg[0])
            if not _OPS[arg[1]](have, int(arg[2])):
                raise ExpectFailed(f"{e.name} {arg[0]} is {have}, not {arg[1]} {arg[2]}")
        elif what == "res":
            if len(arg) != 2 or not arg[1].isdigit():
                raise ScriptError("usage: expect NAME res RESOURCE N")
            if e.res.get(arg[0], 0) != int(arg[1]):
                raise ExpectFailed(f"{e.name} has {e.res.get(arg[0], 0)} {arg[0]}")

    def _expect_events(self, w: list[str]) -> None:
        from protocol import jsonform

        kind, typ = w[0], w[1]
        rest = w[2:]
        want_n = None
        if kind == "count":
            if not rest or not rest[0].isdigit():
                raise ScriptError("usage: expect count TYPE N [FIELD=VALUE...]")
            want_n, rest = int(rest[0]), rest[1:]
        conds = {}
        for c in rest:
            m = re.fullmatch(r"(\w+)(>=|<=|=|>|<)(.+)", c)
            if m is None:
                raise ScriptError(f"expected FIELD=VALUE (or >=, <=, >, <), got {c!r}")
            key, op, val = m.groups()
            conds[key] = val if op == "=" else op + val
        found = []
        for e in self.last:
            d = jsonform.dump(e)
            if d["type"] != typ:
                continue
            if all(self._field_ok(key, d.get(key), val) for key, val in conds.items()):
                found.append(d)
        if kind == "last" and not found:
            raise ExpectFailed(f"no {typ} {' '.join(rest)} in the last command's events")
        if kind == "nolast" and found:
            raise ExpectFailed(f"unexpected {json.dumps(found[0])}")
        if want_n is not None and len(found) != want_n:
            raise ExpectFailed(f"{len(found)} {typ} {' '.join(rest)}, not {want_n}")

    def _field_ok(self, key: str, have: Any, want: str) -> bool:
        if isinstance(have, bool):
            return str(have).lower() == want.lower()
        if isinstance(have, int):
            for op in (">=", "<=", ">", "<"):
                if want.startswith(op) and want[len(op):].lstrip("-").isdigit():
                    return _OPS[op](have, int(want[len(op):]))
            if not want.lstrip("-").isdigit():
                return have == self._eid(want)  # an entity field named by creature
        return str(have) == want


_OPS = {"=": lambda a, b: a == b, "==": lambda a, b: a == b, "<": lambda a, b: a < b,
        ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


def _stat(game: Any, e: Any, name: str) -> int:
    """A number on a sheet: an integer field (max_hp, level, prof, hit_dice...), an ability
    (str, dex...), `speed_now` (after effects), `coins_cp`, `carry_lb`, `attacks`, or
    `level.CLASS`."""
    from rules import encumbrance, multiclass, shop

    derived = {"speed_now": e.effective_speed, "coins_cp": lambda: shop.purse(e),
               "carry_lb": lambda: int(encumbrance.carried(e)),
               "attacks": lambda: multiclass.attacks(e)}
    if name in derived:
        return int(derived[name]())
    if name.startswith("level."):
        return multiclass.class_level(e, name[6:])
    if name in e.abilities:
        return int(e.abilities[name])
    have = getattr(e, name, None)
    if not isinstance(have, int) or isinstance(have, bool):
        raise ScriptError(f"no number {name!r} on a sheet")
    return have


def _strip(raw: str) -> str:
    """Drop a comment: a line starting with #, or ' # ' and what follows it."""
    s = raw.strip()
    if s.startswith("#"):
        return ""
    return re.split(r"\s#\s|\s#$", s, maxsplit=1)[0].strip()


async def _run(lines: list[str], args: argparse.Namespace) -> int:
    from node.clock import Clock
    from node.obs.metrics import Metrics
    from node.pipeline import Pipeline
    from node.store import Store
    from rules.errors import RulesError

    with tempfile.TemporaryDirectory(prefix="dungeon-script-") as tmp:
        store = Store(Path(tmp) / "dungeon.db")
        try:
            clock = Clock.for_loop(asyncio.get_running_loop(), 0.0)
            pipeline = Pipeline(store, node_id="script", clock=clock, metrics=Metrics(),
                                auto_approve=True)
            try:
                from node.monster_files import load_monsters

                monsters = load_monsters(Path(args.monsters)) if args.monsters else None
                await pipeline.start_session(args.dungeon, seed=args.seed, monsters=monsters)
            except RulesError as err:
                print(f"dungeon script: {err}", file=sys.stderr)
                return 2
            runner = Runner(pipeline, args.json)
            for no, raw in enumerate(lines, start=1):
                text = _strip(raw)
                if not text:
                    continue
                try:
                    await runner.line(text)
                except ScriptError as err:
                    print(f"dungeon script: line {no}: {err}", file=sys.stderr)
                    return 2
                except ExpectFailed as err:
                    print(f"dungeon script: line {no}: expectation failed: {err}",
                          file=sys.stderr)
                    return 1
            digest = pipeline.game.digest()
            if args.json:
                print(json.dumps({"digest": digest}))
            else:
                print(f"digest {digest:08x}")
            return 0
        finally:
            store.close()


def run(args: argparse.Namespace) -> int:
    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text("utf-8")
        except OSError as err:
            print(f"dungeon script: cannot read {args.file}: {err.strerror}", file=sys.stderr)
            return 2
    return asyncio.run(_run(text.splitlines(), args))
