"""What a newcomer types: bad input reads as one line with exit 2 everywhere; conventions hold."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from node import VERSION


def dungeon(*argv: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", *argv], capture_output=True,
                          text=True, timeout=timeout, **kw)


@pytest.mark.parametrize("argv, says", [
    (["device", "--port-base", "99999"], "--port-base: 99999 is not in 0..65535"),
    (["device", "--nodes", "3", "--port-base", "65534"], "needs ports up to 65536"),
    (["device", "--loss", "2"], "--loss: 2 is not in 0..1"),
    (["device", "--loss", "nan"], "'nan' is not a number"),
    (["demo", "--speed", "-5"], "--speed: -5 must be more than 0"),
    (["encounter", "simulate", "--party", "wizard:x", "--monsters", "goblin"], "wizard:x"),
    (["encounter", "simulate", "--party", "wizard:3", "--monsters", "nothing"], "nothing"),
    (["encounter", "simulate", "--party", "wizard:3", "--monsters", "goblin", "--trials", "0"],
     "--trials: 0 must be at least 1"),
    (["node", "--dungeon", "nowhere"], "no dungeon 'nowhere'; the dungeons are crypt"),
    (["node", "--radio", "serial:/dev/nonexistent"],
     "no serial device /dev/nonexistent; USB radios found: "),
    (["bench", "protocol", "--preset", "NOT_A_PRESET"], "unknown modem preset"),
    (["no-such-command"], "invalid choice"),
    (["relay", "--port", "99999"], "--port: 99999 is not in 0..65535"),
    (["bench", "protocol", "--seeds", "0"], "--seeds: 0 must be at least 1"),
    (["bench", "sync", "--events", "-5"], "--events: -5 must be at least 1"),
    (["backup", "snapshot", "--db", "x.db", "--dir", "snaps", "--keep", "0"],
     "--keep: 0 must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, argv, says):
    proc = dungeon(*argv, "--data-dir", str(tmp_path)) if argv[0] == "node" else dungeon(*argv)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("dungeon") and says in lines[0]
    assert "Traceback" not in proc.stderr


def test_replay_of_a_file_that_is_not_a_database(tmp_path):
    bogus = tmp_path / "notadb.db"
    bogus.write_text("hello\n")
    proc = dungeon("replay", str(bogus))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"dungeon replay: {bogus} is not a SQLite database " \
                                  "(give the node's dungeon.db)"
    missing = dungeon("replay", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no database at" in missing.stderr
    assert bogus.read_text() == "hello\n"  # nothing was written into it


def test_unknown_config_key_suggests_the_real_one(tmp_path):
    cfg = tmp_path / "node.toml"
    cfg.write_text("[node]\nturn_timeout = 30\n")
    proc = dungeon("node", "--config", str(cfg), "--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("dungeon node: unknown option 'turn_timeout'; "
                                   "did you mean 'turn_timeout_s'?")


def test_version():
    proc = dungeon("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"dungeon {VERSION}"


def test_bash_completion_names_every_command():
    from node.cli import COMMANDS

    proc = dungeon("completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = proc.stdout
    assert "complete" in script and "_shtab_dungeon" in script
    for name in COMMANDS:
        assert name in script
    assert "--port-base" in script  # options of subcommands too
    # and bash accepts it
    check = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def dungeon_without(missing: list[str], *argv: str) -> subprocess.CompletedProcess:
    """`dungeon ARGV` in a Python where the `missing` packages cannot be imported."""
    code = (f"import sys; sys.modules.update(dict.fromkeys({missing!r})); "
            f"from node.cli import main; sys.exit(main({list(argv)!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)


def test_bench_protocol_without_msgpack_and_cbor2():
    proc = dungeon_without(["msgpack", "cbor2"], "bench", "protocol", "--seeds", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["binary_median_bytes"] and out["json_median_bytes"]
    assert not any("msgpack" in k or "cbor" in k for k in out)
    assert "their columns are left out" in proc.stderr


def test_encounter_plot_draws_a_win_rate_curve():
    pytest.importorskip("plotext")
    proc = dungeon("encounter", "simulate", "--party", "fighter:3,cleric:3", "--monsters",
                   "goblin:2", "--trials", "20", "--plot", "--plot-max", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    curve = json.loads(proc.stdout)["curve"]
    assert [p["count"] for p in curve] == [1, 2, 3, 4, 5]
    rates = [p["party_win_rate"] for p in curve]
    assert rates[0] >= rates[-1]  # more goblins never make the fight easier here
    text = dungeon("encounter", "simulate", "--party", "fighter:3,cleric:3", "--monsters",
                   "goblin:2", "--trials", "20", "--plot", "--plot-max", "5")
    assert text.returncode == 0
    assert "party win rate (%) against the number of goblins" in text.stdout
    assert "goblin count" in text.stdout


def test_encounter_plot_without_plotext_prints_the_curve_and_a_hint():
    proc = dungeon_without(["plotext"], "encounter", "simulate", "--party", "fighter:3",
                           "--monsters", "goblin:1", "--trials", "10", "--plot", "--plot-max", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ("dungeon encounter: --plot draws with plotext: "
                                   "pip install 'distributed-dungeon[plot]'")
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert [r[:2] for r in rows] == [["1", "goblin"], ["2", "goblin"], ["3", "goblin"]]


def test_bench_replay_measures_a_log_the_pipeline_wrote():
    proc = dungeon("bench", "replay", "--events", "300", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["events"] >= 300 and out["commands"] == out["events"] - 1  # one session row
    # the quick pass computes few digests, the full pass one per command (plus snapshots)
    assert 1 <= out["digests_checked"] < out["every_digest_checked"]
    assert out["every_digest_checked"] >= out["commands"]
    assert out["runs"] == 5 and out["events_per_s"] > 0
