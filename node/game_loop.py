"""The turn driver: prompts players, times out absent ones, and plays monster turns via the tactician."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from node.clock import Clock
from node.obs.metrics import Metrics
from node.pipeline import Command, Outcome, Pipeline
from node.tactician import Tactician, choose_with_fallback
from rules import events as ev
from rules import intents as it

log = logging.getLogger(__name__)

# A player hears once that their turn is about to time out: this long before (at most a
# third of the turn, so short test timeouts still warn in the middle).
WARN_BEFORE_S = 20.0


class GameLoop:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        clock: Clock,
        metrics: Metrics,
        tactician: Tactician | None = None,
        turn_timeout_s: float = 90.0,
        ai_budget_s: float = 5.0,
        ai_delay_s: float = 0.5,
        prompt: Callable[[int, str], None] | None = None,
        warn: Callable[[int, str], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self.metrics = metrics
        self.tactician = tactician
        self.turn_timeout_s = turn_timeout_s
        self.ai_budget_s = ai_budget_s
        self.ai_delay_s = ai_delay_s  # a beat between monster turns, so players can read along
        self.prompt = prompt
        self.warn = warn  # the channel decides whether the airtime budget allows it
        self.ai_paused = False
        self._token = 0  # bumps at every TurnStarted: identifies "this" turn
        self._handled = -1
        self._deadline: float | None = None
        self._timer: asyncio.Task[None] | None = None
        self._driver: asyncio.Task[None] | None = None
        self._kicked = False
        self._unsub: Callable[[], None] | None = None
        self.ai_choices: dict[str, int] = {"tactician": 0, "fallback": 0}

    def start(self) -> None:
        self._unsub = self.pipeline.subscribe(self._on_outcome)
        self._token += 1
        self.kick()

    async def stop(self) -> None:
        if self._unsub:
            self._unsub()
        for task in (self._timer, self._driver):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass

    def reset(self) -> None:
        """A new session (or a DM override): look at the current turn afresh."""
        self._token += 1
        self.kick()

    def pause_ai(self, paused: bool) -> bool:
        self.ai_paused = paused
        if not paused:
            self._handled = -1  # look at the current turn again
            self.kick()
        return self.ai_paused

    def deadline_in(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, round(self._deadline - self.clock.monotonic(), 1))

    # -- reacting to the log ----------------------------------------------------------------
    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        if any(isinstance(e, ev.TurnStarted | ev.CombatEnded | ev.CombatStarted) for e in events):
            self._token += 1
            self.kick()

    def kick(self) -> None:
        self._kicked = True
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def _drive(self) -> None:
        while self._kicked:
            self._kicked = False
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("game loop step failed")

    async def _step(self) -> None:
        game = self.pipeline.game
        session = self.pipeline.session
        if game is None or session is None or session.status != "running":
            self._cancel_timer()
            return
        eid = game.current_turn()
        if self._handled == self._token:
            return
        token = self._token
        self._cancel_timer()
        if eid is None:
            self._handled = token
            return
        if game.controller(eid) == "monster":
            if self.ai_paused:
                return  # resume_ai re-kicks; the DM may act for the monster meanwhile
            self._handled = token
            await asyncio.sleep(self.ai_delay_s)
            await self._monster_turn(eid, token)
        else:
            self._handled = token
            if self.prompt is not None:
                try:
                    self.prompt(eid, self._prompt_text(game, eid))
                except Exception:
                    log.exception("prompt failed")
            self._deadline = self.clock.monotonic() + self.turn_timeout_s
            self._timer = asyncio.get_running_loop().create_task(self._timeout(eid, token))

    def _prompt_text(self, game: Any, eid: int) -> str:
        try:
            hp = game.describe(eid, "hp")
        except Exception:
            hp = ""
        # "Thorin: HP 12/12, AC 16." -> "Your turn, Thorin! HP 12/12, AC 16."
        return f"Your turn, {game.name_of(eid)}! {hp.partition(': ')[2]}".strip()

    def _warn_text(self, eid: int, lead: float) -> str:
        name = self.pipeline.game.name_of(eid) if self.pipeline.game is not None else ""
        return f"{name}, {lead:.0f} s left in your turn. Then you dodge and it ends.".lstrip(", ")

    def _still(self, eid: int, token: int) -> bool:
        game = self.pipeline.game
        return token == self._token and game is not None and game.current_turn() == eid

    async def _monster_turn(self, eid: int, token: int) -> None:
        game = self.pipeline.game
        if not self._still(eid, token):
            return
        rng = random.Random(f"ai:{self.pipeline.store.max_seq()}:{eid}")
        try:
            option, who = await choose_with_fallback(
                self.tactician, game, eid, rng, budget_s=self.ai_budget_s)
            self.ai_choices[who] += 1
            self.metrics.inc("dungeon_ai_choices_total", by=who)
        except Exception:
            log.exception("no monster action for %s", eid)
            option = None
        if option is not None and self._still(eid, token) and not self.ai_paused:
            out = await self.pipeline.submit(Command("ai", "ai", option.intent, None, eid))
            if not out.ok:
                log.info("monster %s action refused: %s", eid, out.error)
        if self._still(eid, token) and not self.ai_paused:
            await self.pipeline.submit(Command("ai", "ai", it.EndTurn(), None, eid))

    async def _timeout(self, eid: int, token: int) -> None:
        lead = min(WARN_BEFORE_S, self.turn_timeout_s / 3)
        await asyncio.sleep(self.turn_timeout_s - lead)
        if not self._still(eid, token):
            return
        if self.warn is not None:
            try:
                self.warn(eid, self._warn_text(eid, lead))
            except Exception:
                log.exception("turn warning failed")
        await asyncio.sleep(lead)
        if not self._still(eid, token):
            return
        self._deadline = None
        self.metrics.inc("dungeon_turn_timeouts_total")
        await self.pipeline.submit(Command("system", "system", it.Dodge(), None, eid))
        if self._still(eid, token):
            await self.pipeline.submit(Command("system", "system", it.EndTurn(), None, eid))

    def _cancel_timer(self) -> None:
        self._deadline = None
        if self._timer is not None and not self._timer.done() and \
                self._timer is not asyncio.current_task():
            self._timer.cancel()
        self._timer = None
