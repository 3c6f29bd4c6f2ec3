"""The node's local HTTP endpoint: GET /healthz (JSON) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from node.obs.metrics import Metrics

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8192  # request line plus headers; nothing we serve needs more
READ_TIMEOUT_S = 5.0
PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def health_body(status: Callable[[], dict]) -> tuple[int, dict[str, Any]]:
    """The /healthz answer: 200 with the status summary, 503 when it says unhealthy.

    A status dict marks the node unhealthy with "ok": False, "healthy": False or
    "running": False (NodeApp.status() reports running); a status callback that
    raises is reported as unhealthy too.
    """
    try:
        summary = dict(status())
    except Exception as err:  # the endpoint must answer even when the node is sick
        log.exception("status callback failed")
        return 503, {"ok": False, "error": str(err)[:200]}
    ok = bool(summary.pop("ok", True)) and bool(summary.pop("healthy", True))
    ok = ok and summary.get("running", True) is not False
    return (200 if ok else 503), {"ok": ok, **summary}


# Gauges derived from NodeApp.status() at scrape time, so the state that is already
# known (players, session, backlog, airtime) needs no second bookkeeping path.
STATUS_GAUGES: dict[str, str] = {
    "dungeon_up": "1 while the node process runs and is started",
    "dungeon_players": "characters in the party",
    "dungeon_joins_pending": "join requests waiting for the DM",
    "dungeon_session_running": "1 while a session is running (not paused or ended)",
    "dungeon_db_bytes": "size of the node database on disk",
    "dungeon_radio_up": "1 while the radio link is up",
    "dungeon_airtime_used_seconds": "time on air in the rolling hour",
    "dungeon_airtime_budget_seconds": "duty-cycle budget for the rolling hour",
    "dungeon_channel_utilization_ratio": "channel busy ratio heard by the radio",
    "dungeon_outbox_queue": "messages waiting in the outbox",
    "dungeon_uplink_online": "1 while the relay uplink is connected",
    "dungeon_sync_lag_events": "events logged but not yet acknowledged by the relay",
}


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def refresh_status_gauges(metrics: Metrics, summary: dict[str, Any]) -> None:
    """Set the STATUS_GAUGES that the status summary has values for; absent ones are skipped."""
    for name, text in STATUS_GAUGES.items():
        metrics.describe(name, text)
    values: dict[str, float | None] = {
        "dungeon_up": 1.0 if summary.get("running", True) is not False else 0.0,
        "dungeon_players": float(len(summary["players"]))
        if isinstance(summary.get("players"), list) else None,
        "dungeon_joins_pending": _num(summary.get("joins_pending")),
    }
    session = summary.get("session")
    if isinstance(session, dict) or "session" in summary:
        running = isinstance(session, dict) and session.get("status") == "running"
        values["dungeon_session_running"] = 1.0 if running else 0.0
    db = summary.get("database")
    if isinstance(db, dict):
        values["dungeon_db_bytes"] = _num(db.get("size_bytes"))
    radio = summary.get("radio")
    if isinstance(radio, dict):
        values["dungeon_radio_up"] = 1.0 if radio.get("link") == "up" else 0.0
    outbox = summary.get("outbox")
    if isinstance(outbox, dict):
        values["dungeon_airtime_used_seconds"] = _num(outbox.get("airtime_used_s"))
        values["dungeon_airtime_budget_seconds"] = _num(outbox.get("duty_budget_s"))
        values["dungeon_channel_utilization_ratio"] = _num(outbox.get("channel_util"))
        values["dungeon_outbox_queue"] = _num(outbox.get("queue"))
    uplink = summary.get("uplink")
    if isinstance(uplink, dict):
        values["dungeon_uplink_online"] = 1.0 if uplink.get("online") else 0.0
        values["dungeon_sync_lag_events"] = _num(uplink.get("backlog"))
    for name, value in values.items():
        if value is not None:
            metrics.set(name, value)


async def start_health_server(
    metrics: Metrics,
    status: Callable[[], dict],
    host: str = "127.0.0.1",
    port: int = 9464,
) -> asyncio.Server:
    """Start serving; the caller owns the returned server (close() + wait_closed())."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            code, ctype, body, head_only = await _respond(reader, metrics, status)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        head = (
            f"HTTP/1.1 {code} {_REASONS.get(code, 'Unknown')}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            writer.write(head if head_only else head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    # limit bounds readuntil(): an over-long head fails fast instead of growing a buffer.
    return await asyncio.start_server(handle, host, port, limit=MAX_HEAD_BYTES)


async def _respond(
    reader: asyncio.StreamReader, metrics: Metrics, status: Callable[[], dict]
) -> tuple[int, str, bytes, bool]:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
    except TimeoutError:
        return _text(408, "timeout\n")
    except asyncio.LimitOverrunError:
        return _text(431, "request head too large\n")
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return _text(400, "bad request\n")
    method, target = parts[0], parts[1]
    path = target.split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return _text(405, "only GET\n")
    head_only = method == "HEAD"
    if path == "/healthz":
        code, doc = health_body(status)
        body = (json.dumps(doc, default=str, sort_keys=True) + "\n").encode()
        return code, "application/json", body, head_only
    if path == "/metrics":
        try:
            refresh_status_gauges(metrics, dict(status()))
        except Exception:  # a sick status still leaves the counters worth scraping
            log.exception("status gauges not refreshed")
            metrics.set("dungeon_up", 0.0)
        try:
            text = metrics.render_prometheus()
        except Exception:
            log.exception("metrics rendering failed")
            return _text(500, "metrics unavailable\n")
        return 200, PROM_CONTENT_TYPE, text.encode(), head_only
    return _text(404, "not found\n")


def _text(code: int, text: str) -> tuple[int, str, bytes, bool]:
    return code, "text/plain; charset=utf-8", text.encode(), False
