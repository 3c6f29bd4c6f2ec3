"""`dungeon bench mesh`: issue 18's calibration scenario, as a real process and in-process."""

from __future__ import annotations

import json
import subprocess
import sys

from node.sim.calibration import DIRECTIONS, KEYS, Scenario, run


def test_bench_mesh_prints_every_figure_for_both_directions() -> None:
    out = subprocess.run([sys.executable, "-m", "node.cli", "bench", "mesh", "--seeds", "1-2",
                          "--minutes", "4", "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert 0 <= report["collisions_per_tx"] < 1
    for key in KEYS[1:]:
        assert set(report[key]) == set(DIRECTIONS)
    assert [r["seed"] for r in report["runs"]] == [1, 2]
    assert set(report["versus_meshtasticator"]) == set(KEYS)
    # 4 minutes: the node's 120 B every 15 s, each of 4 players' 20 B every 60 s.
    assert report["messages"] == {"node_to_players": 16.0, "players_to_node": 16.0}


def test_without_loss_every_message_arrives_and_retries_are_rare() -> None:
    clean = run(Scenario(seed=3, minutes=5, loss=0.0))
    lossy = run(Scenario(seed=3, minutes=5, loss=0.3))
    assert clean["delivery_ratio"]["node_to_players"] > lossy["delivery_ratio"]["node_to_players"]
    assert clean["sender_retries_per_msg"]["node_to_players"] < \
        lossy["sender_retries_per_msg"]["node_to_players"]
    # The ROUTER relays every message it hears once, at least.
    assert clean["rebroadcasts_per_msg"]["players_to_node"] >= 1.0


def test_bench_mesh_refuses_bad_seeds_with_exit_2() -> None:
    out = subprocess.run([sys.executable, "-m", "node.cli", "bench", "mesh", "--seeds", "5-1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "seeds as 1-12" in out.stderr.splitlines()[-1]


def test_the_routers_share_of_the_rebroadcasts_is_reported_apart() -> None:
    r = run(Scenario(seed=3, minutes=5, loss=0.0))
    for d in DIRECTIONS:
        router, every = r["router_rebroadcasts_per_msg"][d], r["rebroadcasts_per_msg"][d]
        # A lossless ROUTER relays each message once; the table's radios add their copies.
        assert 0.9 <= router <= 1.1 and every > router
