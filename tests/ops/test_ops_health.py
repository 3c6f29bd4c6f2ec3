"""The node's /healthz and /metrics endpoint, over a real loopback socket."""

from __future__ import annotations

import asyncio
import json

import pytest

from node.obs.health import MAX_HEAD_BYTES, start_health_server
from node.obs.metrics import Metrics


async def _request(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    code = int(lines[0].split(" ")[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return code, headers, body


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


@pytest.fixture
async def served():
    metrics = Metrics()
    state = {"ok": True, "session": "running", "players": 3}

    def status() -> dict:
        return dict(state)

    server = await start_health_server(metrics, status, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, metrics, state
    server.close()
    await server.wait_closed()


async def test_healthz_reports_status_summary(served):
    port, _, _ = served
    code, headers, body = await _request(port, _get("/healthz"))
    assert code == 200
    assert headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc == {"ok": True, "session": "running", "players": 3}
    assert int(headers["Content-Length"]) == len(body)


async def test_healthz_is_503_when_status_says_unhealthy(served):
    port, _, state = served
    state["ok"] = False
    code, _, body = await _request(port, _get("/healthz"))
    assert code == 503
    assert json.loads(body)["ok"] is False


async def test_healthz_is_503_when_the_node_is_not_running(served):
    port, _, state = served
    state["running"] = False
    code, _, body = await _request(port, _get("/healthz"))
    assert code == 503
    assert json.loads(body)["running"] is False


async def test_healthz_is_503_when_status_raises():
    def broken() -> dict:
        raise RuntimeError("database is locked")

    server = await start_health_server(Metrics(), broken, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        code, _, body = await _request(port, _get("/healthz"))
    finally:
        server.close()
        await server.wait_closed()
    assert code == 503
    assert "database is locked" in json.loads(body)["error"]


async def test_metrics_in_prometheus_text_format(served):
    port, metrics, _ = served
    metrics.describe("dungeon_packets_total", "Packets by direction")
    metrics.inc("dungeon_packets_total", 5, direction="rx")
    metrics.set("dungeon_players", 4)
    code, headers, body = await _request(port, _get("/metrics?x=1"))
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert "# HELP dungeon_packets_total Packets by direction" in text
    assert "# TYPE dungeon_packets_total counter" in text
    assert 'dungeon_packets_total{direction="rx"} 5' in text
    assert "dungeon_players 4" in text


async def test_head_request_sends_no_body(served):
    port, _, _ = served
    code, headers, body = await _request(port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
    assert code == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_get("/nope"), 404),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        (b"\x00\xff garbage\r\n\r\n", 400),
        (b"GET /healthz\r\n\r\n", 400),
        (b"GET /" + b"a" * (MAX_HEAD_BYTES * 2) + b" HTTP/1.1\r\n\r\n", 431),
    ],
)
async def test_bad_requests_get_clean_errors(served, raw, expected):
    port, _, _ = served
    code, _, _ = await _request(port, raw)
    assert code == expected


async def test_server_survives_abrupt_clients(served):
    port, _, _ = served
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /hea")
        writer.close()
    code, _, _ = await _request(port, _get("/healthz"))
    assert code == 200


async def test_metrics_carry_gauges_derived_from_status():
    metrics = Metrics()
    summary = {
        "running": True, "players": [{"eid": 1}, {"eid": 2}], "joins_pending": 1,
        "session": {"id": "s1", "status": "running"},
        "database": {"size_bytes": 40960},
        "radio": {"link": "up"},
        "outbox": {"airtime_used_s": 33.5, "duty_budget_s": 360.0, "channel_util": 0.12,
                   "queue": 2},
        "uplink": {"online": False, "backlog": 120},
    }
    server = await start_health_server(metrics, lambda: summary, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        _, _, body = await _request(port, _get("/metrics"))
        summary["session"] = None
        summary["uplink"]["backlog"] = 0
        _, _, body2 = await _request(port, _get("/metrics"))
    finally:
        server.close()
        await server.wait_closed()
    lines = set(body.decode().splitlines())
    for expected in ["dungeon_up 1", "dungeon_players 2", "dungeon_joins_pending 1",
                     "dungeon_session_running 1", "dungeon_db_bytes 40960", "dungeon_radio_up 1",
                     "dungeon_airtime_used_seconds 33.5", "dungeon_airtime_budget_seconds 360",
                     "dungeon_channel_utilization_ratio 0.12", "dungeon_outbox_queue 2",
                     "dungeon_uplink_online 0", "dungeon_sync_lag_events 120",
                     "# TYPE dungeon_players gauge"]:
        assert expected in lines, expected
    later = set(body2.decode().splitlines())
    assert "dungeon_session_running 0" in later and "dungeon_sync_lag_events 0" in later


async def test_metrics_survive_a_failing_status():
    metrics = Metrics()
    metrics.inc("dungeon_commands_total", 3)

    def broken() -> dict:
        raise RuntimeError("boom")

    server = await start_health_server(metrics, broken, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        code, _, body = await _request(port, _get("/metrics"))
    finally:
        server.close()
        await server.wait_closed()
    assert code == 200
    text = body.decode()
    assert "dungeon_commands_total 3" in text and "dungeon_up 0" in text


async def test_silent_client_times_out(monkeypatch, served):
    port, _, _ = served
    monkeypatch.setattr("node.obs.health.READ_TIMEOUT_S", 0.1)
    code, _, _ = await _request(port, b"GET /healthz HTTP/1.1\r\n")  # never ends its head
    assert code == 408


@pytest.mark.timeout(60)
async def test_real_node_serves_health_and_metrics(tmp_path):
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    node = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir",
         str(tmp_path), "--health-port", str(port), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            assert node.poll() is None, node.stderr.read().decode()[-500:]
            try:
                code, _, body = await _request(port, _get("/healthz"))
                break
            except OSError:
                await asyncio.sleep(0.02)
        else:
            raise AssertionError("health endpoint never came up")
        assert code == 200
        doc = json.loads(body)
        assert doc["ok"] is True and doc["database"]["path"].endswith("dungeon.db")
        code, _, body = await _request(port, _get("/metrics"))
        assert code == 200
        assert "dungeon_up 1" in body.decode().splitlines()
    finally:
        node.send_signal(signal.SIGTERM)
        assert node.wait(15) == 0
