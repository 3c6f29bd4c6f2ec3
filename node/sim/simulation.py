"""`dungeon sim`: the shipped node, a simulated mesh and bot players, run in virtual time.

The node here is built by node.wiring.build_node like `dungeon node`'s (same pipeline,
outbox, text and binary channels); only the radio and the clock are simulated. The runner also plays the DM: whenever the
party stands idle it spawns an encounter, so bots spend the run fighting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.radio.base import TEXT_PORT
from node.sim.pace import PACES

log = logging.getLogger(__name__)

ROSTER: tuple[tuple[str, str], ...] = (
    ("Mira", "cleric"), ("Thorin", "fighter"), ("Vex", "rogue"), ("Ilse", "wizard"),
    ("Bram", "fighter"), ("Sorrel", "cleric"), ("Kael", "ranger"), ("Nyx", "rogue"),
)
EPOCH = 1_700_000_000.0  # simulated wall clock start; keeps the event log timestamps sane
WIND_DOWN_S = 120.0  # after the run: no new actions, let answers in flight arrive


@dataclass
class SimConfig:
    players: int = 4
    mode: str = "text"  # text | binary | mixed
    preset: str = "LONG_FAST"
    hops: int = 2
    loss: float = 0.1
    minutes: float = 30.0
    seed: int = 7
    monsters: tuple[str, int] = ("goblin", 4)
    hop_limit: int = 3  # the firmware default, which firmware-notes says to keep
    # Roles as firmware-notes sets a table up: the node repeats nobody's packets (its duty
    # budget is the game's), the relay on the hill is a ROUTER, and of the players sitting
    # together one radio stays CLIENT to repeat for the others while the rest are muted
    # (None: that one, except at a mixed table, where firmware-notes mute every player:
    # each result goes out in both forms, and a repeater's copies take the relay past its
    # duty limit).
    node_role: str = "client_mute"
    player_role: str = "client_mute"
    table_repeaters: int | None = None
    relays: int = 1  # relays side by side on each hop (firmware-notes: a second hill)
    repeater_role: str = "client"  # the table repeaters' role (client_base: never cancels)
    # Text bots send commands as DMs to the node (answered by DM) instead of on the channel.
    # Off by default: measured on 2 hops it costs the relay ~3x the packets (routing acks,
    # and the relay's flooded retry of every ack it forwards) and lost more than it gained.
    text_dm: bool = False
    data_dir: Path | None = None
    firmware: str = "2.7"  # "2.8": signed broadcasts, no relay retries of DMs, crc32 numbers
    pace: str = "bot"  # "human": see node.sim.pace
    relay_rate_limit: int | None = None  # 2.8 traffic management on relays: per sender/5 min
    # The ceiling of any node-side reminder, not a tactic a real node can use: the moment
    # the node's radio misses a text command, its player is told, at no airtime, and sends
    # it again (firmware-notes section 10, "the ceiling").
    perfect_reminders: bool = False

    def check(self) -> None:
        """Raise ValueError, in one line, for a run that could not mean anything."""
        from rules import content
        from rules.errors import RulesError

        if self.mode not in ("text", "binary", "mixed"):
            raise ValueError(f"unknown mode {self.mode!r}; use text, binary or mixed")
        if not 1 <= self.players <= 32:
            raise ValueError("players must be 1 to 32")
        if not self.minutes > 0:
            raise ValueError("minutes must be more than 0")
        if not 0.0 <= self.loss < 1.0:
            raise ValueError("loss is a probability per reception: 0 to just under 1")
        if not 0 <= self.hop_limit <= 7:
            raise ValueError("the firmware's hop limit is 0 to 7")
        if not 0 <= self.repeaters() <= self.players:
            raise ValueError(f"table repeaters must be 0 to the {self.players} players")
        if self.firmware not in ("2.7", "2.8"):
            raise ValueError(f"firmware {self.firmware!r}: use 2.7 or 2.8")
        if self.pace not in PACES:
            raise ValueError(f"pace {self.pace!r}: use {' or '.join(PACES)}")
        if self.perfect_reminders and self.mode == "binary":
            raise ValueError("perfect reminders are for text players: use --mode text or mixed")
        if self.relay_rate_limit is not None and self.relay_rate_limit < 1:
            raise ValueError("the relay's rate limit is at least 1 packet per 5 minutes")
        name, count = self.monsters
        if count < 1:
            raise ValueError("spawn at least one monster per encounter")
        try:
            content.monster(name)
        except RulesError as err:
            raise ValueError(str(err)) from None

    def repeaters(self) -> int:
        """Players whose radio repeats for the table (see table_repeaters)."""
        if self.table_repeaters is not None:
            return self.table_repeaters
        return 0 if self.mode == "mixed" else 1


@dataclass
class _Tracker:
    """Samples the game once a simulated second: rounds and the node's airtime in combat."""

    rounds: int = 0
    combat_airtime_s: float = 0.0
    peak_hour_s: dict[int, float] = field(default_factory=dict)  # radio -> busiest hour
    encounters: int = 0
    _last_round: tuple[int, int] | None = None
    _last_air: float = 0.0
    util: list[float] = field(default_factory=list)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return round(ordered[k], 2)


async def simulate(cfg: SimConfig, progress: Callable[[float], None] | None = None) -> dict:
    """Run one simulation on the current (virtual-time) loop; the report as a dict."""
    from node.clock import Clock
    from node.config import NodeConfig
    from node.obs.metrics import Metrics
    from node.sim.bots import TextBot
    from node.sim.mesh import Mesh
    from node.sim.transport import SimTransport
    from node.wiring import build_node

    cfg.check()
    loop = asyncio.get_running_loop()
    with contextlib.ExitStack() as stack:
        data_dir = cfg.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        mesh = Mesh.build(players=cfg.players, hops=cfg.hops, preset=cfg.preset, loss=cfg.loss,
                          seed=cfg.seed, hop_limit=cfg.hop_limit,
                          node_role=cfg.node_role, player_role=cfg.player_role,
                          repeaters=cfg.repeaters(), relays_per_hop=cfg.relays,
                          firmware=cfg.firmware, repeater_role=cfg.repeater_role)
        for num in mesh.relays:
            mesh.radios[num].traffic_limit = cfg.relay_rate_limit
        pace = PACES[cfg.pace]
        timeout = {} if pace.turn_timeout_s is None else {"turn_timeout_s": pace.turn_timeout_s}
        node_num = mesh.node_num
        assert node_num is not None
        # Bots that DM the node play a "dm" table: only their PKI DMs act (node/identity.py).
        config = NodeConfig(data_dir=data_dir, radio="sim", auto_approve=True,
                            game_seed=cfg.seed, region=mesh.region, preset=mesh.preset,
                            text_auth="dm" if cfg.text_dm else "channel", **timeout)
        metrics = Metrics()
        # The shipped node; only the radio and the clock are simulated. With only binary
        # clients at the table, text results and prompts would be airtime for nobody.
        app = build_node(config, SimTransport(mesh, node_num), clock=Clock.for_loop(loop, EPOCH),
                         metrics=metrics, control=False, backups=False,
                         mute_text=cfg.mode == "binary")
        await app.start()
        # What the node's radio heard from each player, to tell a lost command from a lost
        # answer when the text tail is taken apart (_text_tail).
        heard: dict[tuple[int, str], list[float]] = {}
        mesh.attach(node_num, lambda p: heard.setdefault(
            (p.sender, p.payload.decode("utf-8", "replace")), []).append(loop.time())
            if p.port == TEXT_PORT else None)
        channel = app.binary if cfg.mode != "text" else None
        bots: list[Any] = []
        for i, num in enumerate(mesh.players):
            name, cls = ROSTER[i % len(ROSTER)]
            if i >= len(ROSTER):
                name = f"{name}{i // len(ROSTER) + 1}"
            binary = cfg.mode == "binary" or (cfg.mode == "mixed" and i % 2 == 1)
            kind: Any = TextBot
            if binary:
                from node.sim.binary_bot import BinaryBot

                kind = BinaryBot
            # A DM to the node gets firmware 2.7's per-hop repair (NextHopRouter), which a
            # channel broadcast never gets, at the price of routing acks (see text_dm).
            extra: dict[str, Any] = {} if binary else {"on_channel": not cfg.text_dm}
            bot = kind(SimTransport(mesh, num), node_num, name=name, cls=cls,
                       rng=random.Random(f"bot:{cfg.seed}:{i}"), eyes=lambda: app.game,
                       think=pace.think, explore=pace.explore, **extra)
            await bot.start()
            bots.append(bot)
        if cfg.perfect_reminders:
            _remind_perfectly(mesh, node_num, bots)
        tasks = [loop.create_task(b.run()) for b in bots]
        tracker = _Tracker()
        duration = cfg.minutes * 60.0
        t0 = loop.time()
        dm_rng = random.Random(f"dm:{cfg.seed}")
        next_fight = t0
        next_hour_sample = t0 + 60.0
        try:
            while (elapsed := loop.time() - t0) < duration:
                await asyncio.sleep(1.0)
                joined = len(app.game.party_eids()) >= len(bots)
                in_fight = app.game.current_turn() is not None
                if in_fight:  # the party explores a while before the DM starts the next fight
                    await rescue(app)
                    next_fight = loop.time() + dm_rng.uniform(*pace.between_fights)
                elif loop.time() >= next_fight and await direct(app, cfg.monsters,
                                                                joined=joined):
                    tracker.encounters += 1
                _sample(app, tracker)
                if loop.time() >= next_hour_sample:  # the rolling hour, once a minute
                    _sample_hour(mesh, tracker)
                    next_hour_sample += 60.0
                if progress is not None:
                    progress(elapsed / duration)
            for bot in bots:
                bot.active = False
            waited = 0.0
            while any(b.busy for b in bots) and waited < WIND_DOWN_S * 3:
                await asyncio.sleep(5.0)  # let actions in flight finish (or give up)
                waited += 5.0
            # The DM halts the table (no more turns, no timeouts) so the final state stands
            # still while every client's view is compared with it.
            for task in tasks:  # no bot starts anything more; views are asked below
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await app.loop.stop()
            await app.pipeline.set_status("paused")
            await asyncio.sleep(WIND_DOWN_S / 4)
            views = await asyncio.gather(*(b.final_view() for b in bots))
            truths = [b.expected_view(app.game) for b in bots]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            report = _report(cfg, app, mesh, bots, tracker, channel)
            report["text_tail"] = _text_tail(bots, heard)
            await app.stop()
    matching = sum(v == t for v, t in zip(views, truths, strict=True))
    report["views_matching"] = matching
    report["converged"] = report["actions_lost"] == 0 and matching == len(bots)
    return report


PERFECT_REMINDER_S = 1.0  # the node's radio might still hear a later copy meanwhile


def _remind_perfectly(mesh: Any, node_num: int, bots: list[Any]) -> None:
    """SimConfig.perfect_reminders: a text bot re-sends the moment the node missed it."""
    by_radio = {b.transport.node_num: b for b in bots if hasattr(b, "send_again")}
    node = mesh.radios[node_num]
    loop = asyncio.get_running_loop()

    def on_loss(num: int, frame: Any) -> None:
        bot = by_radio.get(frame.sender)
        if num != node_num or frame.port != TEXT_PORT or bot is None or frame.key in node.seen:
            return

        def check() -> None:
            if frame.key not in node.seen:
                bot.send_again()

        loop.call_later(PERFECT_REMINDER_S, check)

    mesh.watch_losses(on_loss)


async def direct(app: Any, monsters: tuple[str, int], *, joined: bool) -> bool:
    """The DM's hand: an idle, fully joined party meets the next encounter; True if spawned."""
    from node.pipeline import Command
    from rules.intents import Dm

    game = app.game
    if game is None or not joined:
        return False
    if app.pipeline.session is None or app.pipeline.session.status != "running":
        return False
    if game.current_turn() is not None:
        return False
    # Between fights the DM patches the party up so a long run stays playable.
    for e in game.party():
        if e.hp < e.max_hp and not e.dead:
            await app.pipeline.submit(Command("dm", "dm", Dm("heal", e.eid, e.max_hp - e.hp)))
    if any(e.side == "monsters" and not (e.dead or e.fled) and e.room == game.room
           for e in game.entities.values()):
        # A fight the party lost ("fell": nobody standing ends it) leaves its monsters in the
        # room; patched up above, the party faces them again, or a long run would stand
        # beside them until its end (seed 5's three hours at human pace did, after 45 min).
        if any(not e.dead and e.room == game.room for e in game.party()):
            await app.pipeline.submit(Command("dm", "dm", Dm("start_combat")))
        return False
    name, count = monsters
    out = await app.pipeline.submit(Command("dm", "dm", Dm("spawn", text=name, value=count)))
    if out.ok:
        await app.pipeline.submit(Command("dm", "dm", Dm("start_combat")))
    return bool(out.ok)


async def rescue(app: Any) -> None:
    """A fight goes on while a downed hero rolls death saves; with nobody left standing the
    DM brings the dying back up, so a long run keeps its players playing (run once a
    simulated second during a fight: before, it ran only between fights, never with anyone
    dying, and seed 5's three hours at human pace lost the whole party after 45 minutes)."""
    from node.pipeline import Command
    from rules.intents import Dm

    game = app.game
    if game is None or app.pipeline.session is None or \
            app.pipeline.session.status != "running":
        return
    party = [e for e in game.party() if not e.dead and e.room == game.room]
    if party and not any(e.hp > 0 for e in party):
        for e in party:
            await app.pipeline.submit(Command("dm", "dm", Dm("heal", e.eid, e.max_hp)))


def _sample(app: Any, tracker: _Tracker) -> None:
    game = app.game
    # What the radio really sent, the firmware's own retransmissions and acks included: the
    # outbox's figure alone would let a change move airtime into the firmware unseen.
    air = app.transport.stats()["airtime_s"]
    if game.combat:
        tracker.combat_airtime_s += air - tracker._last_air
        key = (tracker.encounters, int(game.combat.get("round", 0)))
        if tracker._last_round is not None and key != tracker._last_round:
            tracker.rounds += 1
        tracker._last_round = key
    tracker._last_air = air
    util = app.transport.stats().get("channel_util", 0.0)
    tracker.util.append(float(util))


def _sample_hour(mesh: Any, tracker: _Tracker) -> None:
    """Each radio's airtime over the hour just past: the peak is its share of the law."""
    for num in mesh.radios:
        used = mesh.air_util_tx(num) * 3600.0
        tracker.peak_hour_s[num] = max(tracker.peak_hour_s.get(num, 0.0), used)


def _budget(mesh: Any, tracker: _Tracker) -> dict[str, Any]:
    """Each radio's busiest rolling hour against its legal duty cycle (EU_868: 360 s)."""
    from node.radio.firmware import DUTY_LIMITS, DUTY_WINDOW_S

    _sample_hour(mesh, tracker)
    limit = DUTY_LIMITS.get(mesh.region)
    peak = {mesh.radios[n].name: round(s, 2) for n, s in tracker.peak_hour_s.items()}
    if limit is None:
        return {"peak_hour_airtime_s": peak, "budget_share_by_radio": None,
                "budget_share_max": None}
    share = {name: round(s / (limit * DUTY_WINDOW_S), 4) for name, s in peak.items()}
    return {"peak_hour_airtime_s": peak, "budget_share_by_radio": share,
            "budget_share_max": max(share.values(), default=0.0)}


def _traffic_peaks(mesh: Any) -> dict[str, int]:
    peaks: dict[str, int] = {}
    for num in mesh.relays:
        for (sender, _bucket), n in mesh.radios[num].traffic.items():
            name = mesh.radios[sender].name
            peaks[name] = max(peaks.get(name, 0), n)
    return peaks


_RADIO_COUNTERS = ("packets_sent", "transmissions", "rebroadcasts", "retransmissions",
                   "hop_retransmissions", "route_fallbacks", "ack_failures")


def _text_tail(bots: list[Any], heard: dict[tuple[int, str], list[float]]) -> dict[str, Any]:
    """Where the latency tail comes from: the share of actions that needed a re-send, and of
    those whether the node's radio had heard the first try (the answer was lost on its way
    back) or not (the command was lost on its way in); the latency of first-try answers."""
    resent = [(b.transport.node_num, r) for b in bots for r in getattr(b.stats, "resent", [])]
    done = sum(b.stats.applied + b.stats.answered + b.stats.lost for b in bots)
    reached = sum(any(first <= t < again for t in heard.get((num, text), []))
                  for num, (text, first, again) in resent)
    first = [x for b in bots for x in getattr(b.stats, "first_try_latencies", [])]
    return {
        "resent_share": round(len(resent) / done, 4) if done else None,
        "resent_command_lost_share": round((len(resent) - reached) / done, 4) if done else None,
        "resent_answer_lost_share": round(reached / done, 4) if done else None,
        "first_try_p50_s": _percentile(first, 0.5),
        "first_try_p95_s": _percentile(first, 0.95),
        "resend_wait_p50_s": _percentile([again - first for _, (_, first, again) in resent], 0.5),
    }


def _report(cfg: SimConfig, app: Any, mesh: Any, bots: list[Any], tracker: _Tracker,
            channel: Any) -> dict[str, Any]:
    stats = mesh.stats()
    lat = [x for b in bots for x in b.stats.latencies]
    radios = stats["radios"]
    node = radios[f"!{mesh.node_num:08x}"]
    out: dict[str, Any] = {
        "mode": cfg.mode, "players": cfg.players, "preset": cfg.preset, "hops": cfg.hops,
        "relays": cfg.relays, "table_repeaters": cfg.repeaters(), "loss": cfg.loss,
        "minutes": cfg.minutes, "seed": cfg.seed,
        "text_drops": int(stats["text_drops"]),
        "duty_cycle_refusals": int(stats["duty_refusals"]),
        "actions_sent": sum(b.stats.sent for b in bots),
        "actions_applied": sum(b.stats.applied for b in bots),
        "actions_answered_privately": sum(b.stats.answered for b in bots),
        "actions_lost": sum(b.stats.lost for b in bots),
        "retries": sum(b.stats.retries for b in bots),
        "latency_p50_s": _percentile(lat, 0.5),
        "latency_p95_s": _percentile(lat, 0.95),
        "converged": False,
        "encounters": tracker.encounters,
        "combat_rounds": tracker.rounds,
        "airtime_per_round_s": round(tracker.combat_airtime_s / tracker.rounds, 3)
        if tracker.rounds else None,
        "channel_util_max": round(float(stats["channel_util_max"]), 4),
        "channel_util_mean": round(float(stats["channel_util_mean"]), 4),
        "node_channel_util_max": round(max(tracker.util, default=0.0), 4),
        "node_airtime_s": round(float(node["airtime_s"]), 2),
        "node_outbox_airtime_s": round(app.outbox.airtime_total_s, 2),
        "airtime_per_radio_s": {mesh.radios[int(k[1:], 16)].name: round(float(v["airtime_s"]), 2)
                                for k, v in radios.items()},
        "collisions": int(stats["collisions"]),
        "retransmissions": int(stats["retransmissions"]),
        "hop_retransmissions": int(stats["hop_retransmissions"]),
        "route_fallbacks": int(stats["route_fallbacks"]),
        "radio_counters": {
            mesh.radios[int(k[1:], 16)].name: {c: int(v[c]) for c in _RADIO_COUNTERS}
            for k, v in radios.items()},
        "outbox": {k: v for k, v in app.outbox.stats().items() if k != "last_packets"},
        "events_seq": app.store.max_seq(),
        "firmware": cfg.firmware, "pace": cfg.pace, "relay_rate_limit": cfg.relay_rate_limit,
        "perfect_reminders": cfg.perfect_reminders,
        "traffic_drops": int(stats["traffic_drops"]),
        # With a relay limit set: each sender's busiest 5-minute bucket at the relays, which
        # a relay's limit must stay above for that sender (firmware-notes, firmware 2.8).
        "traffic_peak_5min_by_sender": _traffic_peaks(mesh),
        "duty_refusals_by_radio": {mesh.radios[int(k[1:], 16)].name: int(v["duty_refusals"])
                                   for k, v in radios.items()},
        **_budget(mesh, tracker),
    }
    if channel is not None:
        out["binary"] = channel.stats()
        out["duplicates_applied"] = out["binary"]["duplicates_applied"]
    return out


def run(cfg: SimConfig, progress: Callable[[float], None] | None = None) -> dict:
    """Run a simulation on a fresh virtual-time loop."""
    from node.sim.virtual_loop import run_virtual

    return run_virtual(simulate(cfg, progress))


def sweep(cfg: SimConfig, seeds: list[int],
          progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """The same run over several seeds: means at the top level under the single run's keys
    (a True/False key becomes the fraction of runs where it held), each run under `runs`."""
    from dataclasses import replace

    from node.sim.report import mean_of

    runs = []
    for i, seed in enumerate(seeds):
        def step(f: float, i: int = i) -> None:
            if progress is not None:
                progress((i + f) / len(seeds))

        runs.append(run(replace(cfg, seed=seed), step))
    out = mean_of(runs)
    out["seeds"] = list(seeds)
    out["runs"] = runs
    return out
