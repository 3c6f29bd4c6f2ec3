"""The local control API server (node/CONTROL.md): a 0600 unix socket speaking JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from node import table_settings
from node.channels import lines_of
from node.channels.control_schema import check_args
from node.control_client import MAX_LINE, ControlError, dumps
from node.pipeline import Command, Outcome, Rejected

log = logging.getLogger(__name__)



class _Conn:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscribed = False
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1000)

    def push(self, obj: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(dumps(obj))
        except asyncio.QueueFull:  # a stuck console must not grow the node's memory
            log.warning("control subscriber too slow; dropping a push")


class ControlServer:
    def __init__(self, app: Any, path: str | Path) -> None:
        self.app = app
        self.path = Path(path)
        self.server: asyncio.AbstractServer | None = None
        self.conns: set[_Conn] = set()
        self._unsub: Callable[[], None] | None = None
        self._state_pending = False
        self.ops: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "hello": self._hello, "state": self._state, "status": self._status,
            "command": self._command, "join.approve": self._join_approve,
            "join.deny": self._join_deny, "ai.pause": self._ai_pause, "ai.resume": self._ai_resume,
            "sheet.get": self._sheet_get, "sheet.history": self._sheet_history,
            "sheet.edit": self._sheet_edit, "sheet.revert": self._sheet_revert,
            "character.import": self._character_import,
            "character.create": self._character_create,
            "session.start": self._session_start, "session.pause": self._status_op("paused"),
            "session.resume": self._status_op("running"), "session.end": self._status_op("ended"),
            "srd.search": self._srd_search, "encounter.estimate": self._encounter,
            "link.code": self._link_code, "narrate": self._narrate, "house_rule": self._house_rule,
            "audit": self._audit, "log": self._log, "settings": self._settings,
        }

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket from a killed node
        old = os.umask(0o177)  # the socket is born 0600: no window where others can connect
        try:
            self.server = await asyncio.start_unix_server(self._serve, path=str(self.path),
                                                          limit=MAX_LINE + 1)
        finally:
            os.umask(old)
        mode, gid = self.app.config.control_access()
        if gid >= 0:  # the DM's login shares the group (control_group): 0660
            os.chown(self.path, -1, gid)
        os.chmod(self.path, mode)
        self._unsub = self.app.pipeline.subscribe(self._on_outcome)
        self.app.pipeline.on_join_request(lambda req: self._push_state())

    async def stop(self) -> None:
        if self._unsub:
            self._unsub()
        if self.server is not None:
            self.server.close()
            for c in list(self.conns):
                c.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1.0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # -- pushes ---------------------------------------------------------------------------
    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        if not any(c.subscribed for c in self.conns):
            return
        from protocol import jsonform

        msg = {"push": "events", "seq": seq, "source": cmd.source,
               "lines": lines_of(out, self.app.game), "events": [jsonform.dump(e) for e in events]}
        for c in self.conns:
            if c.subscribed:
                c.push(msg)
        self._push_state()

    def _push_state(self) -> None:
        # several commands in one loop turn (a monster turn) cost one state build
        if self._state_pending or not any(c.subscribed for c in self.conns):
            return
        self._state_pending = True
        asyncio.get_running_loop().call_soon(self._send_state)

    def _send_state(self) -> None:
        self._state_pending = False
        from node import state_view

        try:
            msg = {"push": "state", "state": state_view.build(self.app)}
        except Exception:
            log.exception("state view failed")
            return
        for c in self.conns:
            if c.subscribed:
                c.push(msg)

    # -- connections ----------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self.conns.add(conn)
        sender = asyncio.get_running_loop().create_task(self._drain(conn))
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    conn.push({"id": None, "ok": False, "error": f"line over {MAX_LINE} bytes"})
                    break
                if not line:
                    break
                if not line.strip():
                    continue
                await self._handle_line(conn, line)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.conns.discard(conn)
            await asyncio.sleep(0)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.queue.join(), 0.5)
            sender.cancel()
            writer.close()

    async def _drain(self, conn: _Conn) -> None:
        while True:
            data = await conn.queue.get()
            try:
                conn.writer.write(data)
                await conn.writer.drain()
            except (ConnectionError, RuntimeError):
                return
            finally:
                conn.queue.task_done()

    async def _handle_line(self, conn: _Conn, line: bytes) -> None:
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not isinstance(req.get("op"), str):
                raise ValueError("expected {\"id\", \"op\", \"args\"}")
        except (ValueError, UnicodeDecodeError) as err:
            conn.push({"id": None, "ok": False, "error": f"malformed request: {str(err)[:80]}"})
            return
        rid = req.get("id")
        if not (rid is None or isinstance(rid, int | str)) or isinstance(rid, bool):
            rid = None  # the id is echoed back: keep it a plain scalar
        fn = self.ops.get(req["op"])
        if fn is None and req["op"] != "subscribe":
            conn.push({"id": rid, "ok": False, "error": f"unknown op {req['op'][:40]!r}"})
            return
        try:
            args = check_args(req["op"], req.get("args"))
        except ControlError as err:
            conn.push({"id": rid, "ok": False, "error": str(err)[:200]})
            return
        if fn is None:  # subscribe
            conn.subscribed = True
            conn.push({"id": rid, "ok": True, "result": {"subscribed": True}})
            self._push_state()
            return
        try:
            result = await fn(args)
        except (Rejected, ControlError, KeyError, TypeError, ValueError) as err:
            msg = str(err) if not isinstance(err, KeyError) else f"missing argument {err}"
            conn.push({"id": rid, "ok": False, "error": msg.splitlines()[0][:200] if msg else "bad request"})
            return
        except Exception as err:
            from protocol.errors import ProtocolError
            from rules.errors import RulesError

            if isinstance(err, ProtocolError | RulesError):
                conn.push({"id": rid, "ok": False, "error": str(err)[:200]})
                return
            log.exception("control op %s failed", req["op"])
            conn.push({"id": rid, "ok": False, "error": f"internal error in {req['op']}"})
            return
        conn.push({"id": rid, "ok": True, "result": result})

    # -- ops ------------------------------------------------------------------------------
    async def _hello(self, args: dict[str, Any]) -> Any:
        from node import VERSION

        s = self.app.pipeline.session
        return {"node_id": self.app.config.node_id, "version": VERSION,
                "session": s.id if s else None, "seq": self.app.store.max_seq()}

    async def _state(self, args: dict[str, Any]) -> Any:
        from node import state_view

        return state_view.build(self.app)

    async def _status(self, args: dict[str, Any]) -> Any:
        return self.app.status()

    async def _submit(self, intent: Any, actor: int | None = None, key: str | None = None) -> Any:
        from protocol import jsonform

        out = await self.app.pipeline.submit(Command("dm", "dm", intent, key, actor))
        if not out.ok:
            raise ControlError(out.error or "refused")
        return {"seq": out.seq, "lines": lines_of(out, self.app.game),
                "events": [jsonform.dump(e) for e in out.events], "duplicate": out.duplicate}

    async def _command(self, args: dict[str, Any]) -> Any:
        from protocol import jsonform

        intent = jsonform.load(args["intent"])
        actor = args.get("actor")
        if actor is not None and not isinstance(actor, int):
            raise ControlError("actor must be an entity id")
        key = args.get("key")
        return await self._submit(intent, actor, key if isinstance(key, str) else None)

    async def _join_approve(self, args: dict[str, Any]) -> Any:
        out = await self.app.pipeline.approve_join(int(args["id"]))
        if not out.ok:
            raise ControlError(out.error or "refused")
        return {"eid": out.events[0].eid if out.events and hasattr(out.events[0], "eid") else None,
                "seq": out.seq, "lines": lines_of(out, self.app.game)}

    async def _join_deny(self, args: dict[str, Any]) -> Any:
        req = self.app.pipeline.deny_join(int(args["id"]))
        if self.app.text is not None:
            from node.channels.text import node_num

            num = node_num(req.sender)
            if num is not None:
                from node.radio.outbox import Priority

                self.app.outbox.submit_text(num, "the DM declined your join", priority=Priority.REPLY)
        self._push_state()
        return {}

    async def _ai_pause(self, args: dict[str, Any]) -> Any:
        self._push_state()
        return {"ai_paused": self.app.loop.pause_ai(True)}

    async def _ai_resume(self, args: dict[str, Any]) -> Any:
        self._push_state()
        return {"ai_paused": self.app.loop.pause_ai(False)}

    def _eid(self, args: dict[str, Any]) -> int:
        eid = args["eid"]
        game = self.app.game
        if not isinstance(eid, int) or game is None or eid not in list(game.party_eids()):
            raise ControlError(f"no character {eid!r}")
        return eid

    async def _sheet_get(self, args: dict[str, Any]) -> Any:
        from node.state_view import entity_dict, gear

        eid = self._eid(args)
        last = self.app.store.sheet_version(eid)
        return {"eid": eid, "version": last[0] if last else 0,
                "sheet": entity_dict(self.app.game, eid), "gear": gear(self.app.game, eid)}

    async def _sheet_history(self, args: dict[str, Any]) -> Any:
        return self.app.store.sheet_history(self._eid(args))

    async def _character_import(self, args: dict[str, Any]) -> Any:
        """An exported character (rules/character_io.py JSON) joins the running game."""
        from rules.intents import Dm

        return await self._submit(Dm("add_character", text=str(args["character"])))

    async def _character_create(self, args: dict[str, Any]) -> Any:
        """The DM makes a character from creation choices; the first bad one is refused in
        one line (the same steps a player sends with `make`)."""
        from rules.intents import Join, Make

        name = str(args["name"])
        await self._submit(Make(name, "class", str(args["cls"])))
        for step in ("bg", "race", "stats", "skills", "kit", "asi"):
            if args.get(step):
                await self._submit(Make(name, step, str(args[step])))
        return await self._submit(Join(name, str(args["cls"]), int(args.get("level") or 1)))

    async def _sheet_edit(self, args: dict[str, Any]) -> Any:
        from rules.intents import Dm

        eid = self._eid(args)
        field, value = str(args["field"]), args["value"]
        await self._submit(Dm("edit_sheet", eid, 0, f"{field}={value}"))
        last = self.app.store.sheet_version(eid)
        return {"version": last[0] if last else 0}

    async def _sheet_revert(self, args: dict[str, Any]) -> Any:
        """Re-apply an old version's differing fields as DM edits, so the log stays the truth."""
        from node.state_view import entity_dict
        from rules.intents import Dm

        eid = self._eid(args)
        old = self.app.store.sheet_at(eid, int(args["version"]))
        if old is None:
            raise ControlError(f"no version {args['version']} of that sheet")
        now = entity_dict(self.app.game, eid)
        edits = []
        for k, v in old.items():
            if now.get(k) == v:
                continue
            if isinstance(v, dict):
                edits += [f"{sk}={sv}" for sk, sv in v.items() if now.get(k, {}).get(sk) != sv]
            elif isinstance(v, int | str) and not isinstance(v, bool):
                edits.append(f"{k}={v}")
        if not edits:
            raise ControlError("the sheet already matches that version")
        for e in edits:
            await self._submit(Dm("edit_sheet", eid, 0, e))
        last = self.app.store.sheet_version(eid)
        return {"version": last[0] if last else 0, "edits": edits}

    async def _session_start(self, args: dict[str, Any]) -> Any:
        dungeon = args.get("dungeon") or self.app.config.dungeon
        s = await self.app.pipeline.start_session(str(dungeon), args.get("house_rules"),
                                                  seed=args.get("seed"),
                                                  monsters=self.app.config.monsters())
        self.app.loop.reset()
        self._push_state()
        return {"session": s.id, "seq": s.started_seq}

    def _status_op(self, status: str) -> Callable[[dict[str, Any]], Awaitable[Any]]:
        async def op(args: dict[str, Any]) -> Any:
            result = {"status": await self.app.pipeline.set_status(status)}
            if status == "running":
                self.app.loop.kick()
            self._push_state()
            return result

        return op

    async def _srd_search(self, args: dict[str, Any]) -> Any:
        from rules import content, fuzzy

        kind, query = args.get("kind", "monster"), str(args.get("query", ""))
        table = content.monsters() if kind == "monster" else content.spells()
        names = {v["name"]: v for v in table.values()}
        if kind == "monster" and self.app.game is not None:
            names.update({v["name"]: v for v in self.app.game.bestiary.values()})  # custom
        hits = fuzzy.suggest(query, list(names), n=10) if query else sorted(names)[:10]
        key = "challenge_rating" if kind == "monster" else "level"
        out_key = "cr" if kind == "monster" else "level"
        return [{"name": n, out_key: names[n].get(key)} for n in hits]

    async def _encounter(self, args: dict[str, Any]) -> Any:
        from rules import encounter

        game = self.app.game
        monsters = []
        for part in str(args["monsters"]).split(","):
            name, _, count = part.strip().partition(":")
            monsters.append((name.strip(), int(count or 1)))
        party = [(game.entity(e).cls, game.entity(e).level) for e in game.party_eids()]
        if not party:
            raise ControlError("no party yet")
        names = [n for n, c in monsters for _ in range(c)]
        # the game's custom monsters too (the node's monsters_path)
        diff = encounter.difficulty([lv for _, lv in party], names, game.bestiary)
        # a simulation takes a moment: off the event loop, so radio traffic keeps flowing
        sim = await asyncio.to_thread(encounter.simulate, party, monsters, 100, 1,
                                      bestiary=dict(game.bestiary))
        return {"difficulty": diff["difficulty"], "xp": diff["xp"],
                "party_win_rate": sim["party_win_rate"]}

    async def _link_code(self, args: dict[str, Any]) -> Any:
        lc = self.app.pipeline.link_codes.issue(self._eid(args))
        return {"code": lc.code, "expires_s": self.app.pipeline.link_codes.ttl_s}

    async def _narrate(self, args: dict[str, Any]) -> Any:
        from rules.intents import Dm

        text = str(args["text"])
        await self._submit(Dm("narrate", None, 0, text))
        return {"bytes": len(text.encode())}

    async def _house_rule(self, args: dict[str, Any]) -> Any:
        from node.state_view import build
        from rules.intents import Dm

        await self._submit(Dm("house_rule", None, 1 if args.get("on") else 0, str(args["name"])))
        return {"house_rules": build(self.app)["house_rules"]}

    async def _log(self, args: dict[str, Any]) -> Any:
        """Recent results, shaped like "events" pushes, so a console that attaches (or comes
        back after an outage) shows what happened meanwhile."""
        from protocol import jsonform

        limit = max(1, min(int(args.get("limit", 100)), 500))
        store, game = self.app.store, self.app.game
        after = max(int(args.get("after", 0)), store.max_seq() - 4 * limit)
        out: list[dict[str, Any]] = []
        for row in store.events_after(after, 4 * limit):
            if row.type != "command" or not row.payload.get("events"):
                continue
            dumped = row.payload["events"]
            lines = lines_of(Outcome(True, row.seq, [jsonform.load(e) for e in dumped]), game)
            out.append({"seq": row.seq, "source": row.payload.get("source"),
                        "lines": lines, "events": dumped})
        return out[-limit:]

    async def _settings(self, args: dict[str, Any]) -> Any:
        """The table's settings; any given are changed first. text_auth is game state (a
        logged house rule, so replay sees it change); party_max and auto_approve are the
        node's, kept across a restart (node.table_settings)."""
        from node.identity import TEXT_AUTH_MODES, TEXT_AUTH_RULE, text_auth
        from rules.intents import Dm

        p = self.app.pipeline
        mode = args.get("text_auth")
        if mode is not None and mode not in TEXT_AUTH_MODES:
            raise ControlError("text_auth is channel or dm")
        party_max = args.get("party_max")
        if party_max is not None and (not isinstance(party_max, int)
                                      or isinstance(party_max, bool) or not 1 <= party_max <= 64):
            raise ControlError("party_max is a whole number from 1 to 64")
        auto = args.get("auto_approve")
        if auto is not None and not isinstance(auto, bool):
            raise ControlError("auto_approve is true or false")
        if mode is not None and mode != text_auth(self.app.game):
            await self._submit(Dm("house_rule", None, 1 if mode == "dm" else 0, TEXT_AUTH_RULE))
        if party_max is not None:
            p.party_max = party_max
        if auto is not None:
            p.auto_approve = auto
        table_settings.remember(self.app.store, self.app.config, party_max=party_max,
                                auto_approve=auto)
        self._push_state()
        return {"text_auth": text_auth(self.app.game), "party_max": p.party_max,
                "auto_approve": p.auto_approve}

    async def _audit(self, args: dict[str, Any]) -> Any:
        return self.app.store.audit_rows(int(args.get("limit", 50)))
