"""`dungeon doctor` against `dungeon device`: the simulated radio on the real TCP stream API."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest


@pytest.fixture
def device():
    """`dungeon device` with a node radio and one player, on free ports; yields the node's spec."""
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "device", "--nodes", "2",
                             "--port-base", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        radios = json.loads(proc.stdout.readline())["radios"]
        yield f"tcp:127.0.0.1:{radios[0]['port']}"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def doctor(*argv: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNGEON_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "node.cli", "doctor", *argv],
                          capture_output=True, text=True, timeout=120, env=env)


def test_doctor_reports_one_line_per_finding_and_passes_a_usable_radio(device):
    proc = doctor("--radio", device, "--timeout", "60")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    what = [line.split()[1] for line in lines]
    assert what == ["radio", "region", "preset", "channel", "role", "hop", "firmware", "key",
                    "test"]
    by = {line.split()[1]: line for line in lines}
    assert by["region"].startswith("ok") and "EU_868" in by["region"]
    assert by["preset"].startswith("ok") and "LONG_FAST" in by["preset"]
    assert by["firmware"].startswith("ok") and "2.7." in by["firmware"]
    # what firmware-notes advise against, the simulated radio does: warnings, not failures
    assert by["channel"].startswith("warn") and "public default key" in by["channel"]
    assert by["role"].startswith("warn") and "CLIENT_MUTE" in by["role"]
    assert by["key"].startswith("warn")
    assert by["test"].startswith("ok") and "heard repeated" in by["test"]


def test_doctor_fails_when_the_radio_disagrees_with_the_config(device, tmp_path):
    cfg = tmp_path / "node.toml"
    cfg.write_text('[node]\nregion = "US"\npreset = "MEDIUM_FAST"\n')
    proc = doctor("--radio", device, "--config", str(cfg), "--no-send", "--json")
    assert proc.returncode == 1
    findings = {f["what"]: f for f in json.loads(proc.stdout)}
    assert findings["region"]["level"] == "FAIL"
    assert "region is EU_868 but the config says US" in findings["region"]["detail"]
    assert findings["preset"]["level"] == "FAIL" and "test" not in findings
    assert proc.stderr.strip() == "dungeon doctor: 2 problem(s) to fix before a game", proc.stderr
    # the same through the environment, which every option has
    env = doctor("--radio", device, "--no-send", env_extra={"DUNGEON_PRESET": "SHORT_FAST"})
    assert env.returncode == 1 and "config says SHORT_FAST" in env.stdout


def test_doctor_without_a_radio_says_so_in_one_line():
    proc = doctor("--radio", "loopback")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("dungeon doctor: no radio to check (loopback)")
