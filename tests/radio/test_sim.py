"""`dungeon sim`: the real node, the simulated mesh and bots, in virtual time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from node.sim.simulation import SimConfig, run

KEYS = {
    "text_drops", "duty_cycle_refusals", "actions_sent", "actions_applied", "actions_lost",
    "latency_p50_s", "latency_p95_s", "converged", "airtime_per_round_s", "channel_util_max",
    "channel_util_mean", "node_airtime_s", "airtime_per_radio_s",
}


@pytest.fixture(scope="module")
def text_report(tmp_path_factory):
    cfg = SimConfig(players=2, mode="text", hops=1, loss=0.0, minutes=6, seed=3,
                    data_dir=tmp_path_factory.mktemp("sim"))
    return run(cfg)


def test_text_run_plays_and_reports_every_key(text_report):
    r = text_report
    assert r.keys() >= KEYS
    assert r["actions_applied"] > 0
    assert r["text_drops"] == 0 and r["duty_cycle_refusals"] == 0
    assert r["encounters"] >= 1 and r["events_seq"] > 4
    assert 0 < r["latency_p50_s"] <= r["latency_p95_s"]
    # the radio sends all the outbox hands it, and its own acks and retransmissions on top;
    # the last packet may still wait in the radio's queue when the run stops (< 2 s of air)
    assert r["node_airtime_s"] + 2.0 >= r["node_outbox_airtime_s"] > 0
    assert set(r["airtime_per_radio_s"]) >= {"node", "player1", "player2"}
    assert r["views_matching"] == 2  # each bot's last HP answer matches the node's state


def test_the_same_seed_replays_the_same_run(text_report, tmp_path):
    again = run(SimConfig(players=2, mode="text", hops=1, loss=0.0, minutes=6, seed=3,
                          data_dir=tmp_path))
    assert again == text_report


def test_binary_run_converges_on_the_node_digest(tmp_path):
    r = run(SimConfig(players=2, mode="binary", hops=1, loss=0.0, minutes=6, seed=4,
                      data_dir=tmp_path))
    assert r["actions_applied"] > 0
    assert r["binary"]["intents"] == r["actions_applied"] + r["binary"]["rejected"]
    assert r["views_matching"] == 2
    assert r["converged"] is (r["actions_lost"] == 0)


def test_a_lossy_binary_run_applies_nothing_twice(tmp_path):
    r = run(SimConfig(players=2, mode="binary", hops=2, loss=0.3, minutes=5, seed=8,
                      data_dir=tmp_path))
    b = r["binary"]
    # every retry of an applied intent was refused by the sequence window, not applied
    assert b["intents"] <= r["actions_sent"]
    assert r["actions_applied"] + r["actions_answered_privately"] + r["actions_lost"] \
        == r["actions_sent"]


def test_the_cli_prints_one_json_document():
    out = subprocess.run(
        [sys.executable, "-m", "node.cli", "sim", "--players", "2", "--minutes", "2",
         "--hops", "1", "--seed", "5", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    report = json.loads(out.stdout)
    assert report.keys() >= KEYS and report["players"] == 2 and report["wall_s"] > 0


def test_the_table_is_set_up_as_firmware_notes_advise_unless_told():
    assert SimConfig().repeaters() == 1
    assert SimConfig(mode="mixed").repeaters() == 0  # both forms of every result: mute all
    assert SimConfig(mode="mixed", table_repeaters=2).repeaters() == 2


@pytest.mark.parametrize("args", [
    ["--relays", "4"], ["--hops", "0"], ["--players", "0"], ["--minutes", "-1"],
    ["--loss", "2"], ["--hop-limit", "9"], ["--preset", "FOO"], ["--monsters", "dragonx"],
    ["--monsters", "goblin:0"], ["--table-repeaters", "-1"], ["--table-repeaters", "5"],
])
def test_the_cli_refuses_a_run_it_cannot_mean_in_one_line(args):
    out = subprocess.run([sys.executable, "-m", "node.cli", "sim", "--minutes", "1", *args],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.startswith("dungeon sim: ") and len(out.stderr.strip().splitlines()) == 1


def test_the_cli_says_how_to_write_monsters():
    out = subprocess.run([sys.executable, "-m", "node.cli", "sim", "--monsters", "goblin:x"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "NAME:COUNT" in out.stderr.splitlines()[-1]
