"""`dungeon sim`: the real node, the simulated mesh and bots, in virtual time."""

from __future__ import annotations

import asyncio
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
    ["--relay-rate-limit", "0"], ["--mode", "binary", "--perfect-reminders"],
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


def test_a_seed_sweep_prints_means_and_every_run():
    out = subprocess.run(
        [sys.executable, "-m", "node.cli", "sim", "--players", "2", "--minutes", "2",
         "--hops", "1", "--seeds", "1-2", "--json"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(out.stdout)
    runs = report["runs"]
    assert [r["seed"] for r in runs] == [1, 2] and report["seeds"] == [1, 2]
    assert report.keys() >= KEYS
    assert report["actions_sent"] == pytest.approx(
        (runs[0]["actions_sent"] + runs[1]["actions_sent"]) / 2)
    assert 0.0 <= report["converged"] <= 1.0  # the fraction of runs that converged


def test_every_radio_reports_its_share_of_the_legal_budget(text_report):
    share = text_report["budget_share_by_radio"]
    assert set(share) == set(text_report["airtime_per_radio_s"])
    assert text_report["budget_share_max"] == max(share.values())
    # A 6-minute run: its busiest hour holds everything each radio sent (EU_868: 360 s).
    for name, air in text_report["airtime_per_radio_s"].items():
        assert share[name] == pytest.approx(air / 360.0, abs=0.01)
    assert set(text_report["duty_refusals_by_radio"]) == set(share)


def test_firmware_2_8_signs_broadcasts_and_renumbers_radios(tmp_path):
    from node.radio import firmware as fw
    from node.sim.mesh import NODE_NUM, Mesh

    mesh = Mesh.build(players=2, hops=2, firmware="2.8", seed=1)
    assert mesh.node_num != NODE_NUM
    for num, radio in mesh.radios.items():
        assert num == fw.node_num_for_key(radio.public_key)
    r27 = run(SimConfig(players=2, hops=1, loss=0.0, minutes=4, seed=3, data_dir=tmp_path / "a"))
    r28 = run(SimConfig(players=2, hops=1, loss=0.0, minutes=4, seed=3, firmware="2.8",
                        data_dir=tmp_path / "b"))
    assert r28["firmware"] == "2.8" and r28["actions_applied"] > 0
    # Every text result is a broadcast of 166 B or less: signed, 66 B more on the air. Per
    # transmission (a firmware retry is the same packet again), so a run's retries and its
    # unsigned DMs cannot hide it.
    per_tx = {r["firmware"]: r["node_airtime_s"] / r["radio_counters"]["node"]["transmissions"]
              for r in (r27, r28)}
    assert per_tx["2.8"] > per_tx["2.7"] * 1.15


def test_human_pace_plays_slower_and_explores_between_fights(tmp_path):
    from node.sim.pace import PACES

    human = PACES["human"]
    assert human.think == (15.0, 90.0) and human.between_fights[0] >= 180
    bot = run(SimConfig(players=2, hops=1, loss=0.0, minutes=12, seed=3, data_dir=tmp_path / "a"))
    slow = run(SimConfig(players=2, hops=1, loss=0.0, minutes=12, seed=3, pace="human",
                         data_dir=tmp_path / "b"))
    assert slow["pace"] == "human" and slow["actions_applied"] > 0
    assert slow["actions_sent"] < bot["actions_sent"] / 2
    assert slow["node_airtime_s"] < bot["node_airtime_s"]


def test_a_relay_with_a_traffic_limit_drops_a_chatty_sender(tmp_path):
    r = run(SimConfig(players=2, hops=2, loss=0.0, minutes=6, seed=3, firmware="2.8",
                      relay_rate_limit=2, data_dir=tmp_path))
    assert r["relay_rate_limit"] == 2 and r["traffic_drops"] > 0


def test_the_text_tail_is_taken_apart_into_lost_commands_and_lost_answers(text_report, tmp_path):
    quiet = text_report["text_tail"]
    assert quiet["first_try_p50_s"] is not None
    assert 0 <= quiet["first_try_p50_s"] <= quiet["first_try_p95_s"]
    r = run(SimConfig(players=2, mode="text", hops=2, loss=0.3, minutes=6, seed=5,
                      data_dir=tmp_path))
    tail = r["text_tail"]
    assert r["retries"] > 0 and tail["resent_share"] > quiet["resent_share"]
    assert tail["resent_command_lost_share"] > 0  # the relay-to-node hop drops some commands
    assert abs(tail["resent_command_lost_share"] + tail["resent_answer_lost_share"]
               - tail["resent_share"]) < 1e-3
    assert tail["resend_wait_p50_s"] >= 14.0  # the bots re-send after 18 s, jittered 0.8-1.3


def test_perfect_reminders_resend_a_lost_command_at_once_and_only_then(tmp_path):
    cfg = SimConfig(players=2, mode="text", hops=2, loss=0.2, minutes=6, seed=5,
                    perfect_reminders=True, data_dir=tmp_path)
    tail = run(cfg)["text_tail"]
    assert tail["resent_command_lost_share"] > 0.1
    # Re-sent on the simulator's word 1 s after the node's radio missed it, not after a
    # person's 14-23 s: the median wait between first try and re-send falls to seconds.
    assert tail["resend_wait_p50_s"] < 8.0


def test_the_mesh_reports_each_copy_a_radio_sensed_and_lost():
    from node.radio.base import BROADCAST, GAME_PORT
    from node.sim.mesh import Mesh
    from node.sim.virtual_loop import run_virtual

    async def scenario() -> tuple[list, list]:
        mesh = Mesh("LONG_FAST", seed=1, loss=0.5)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 500.0)
        got: list = []
        lost: list = []
        mesh.attach(2, lambda p: got.append(p.id))
        mesh.watch_losses(lambda num, f: lost.append((num, f.id)))
        ids = [mesh.send(1, BROADCAST, GAME_PORT, b"x") for _ in range(20)]
        await asyncio.sleep(300)
        return ids, got, {pid for num, pid in lost if num == 2}

    ids, got, lost = run_virtual(scenario())
    assert lost and got  # at 50% loss, some of each
    # Radio 1 sends each packet once, unacked: radio 2 lost exactly what it never got.
    assert lost == set(ids) - set(got)
