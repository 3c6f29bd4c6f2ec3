"""The dungeon command dispatches and teaches through --help."""

import json
import subprocess
import sys

import pytest

from node.cli import COMMANDS, main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "dungeon" in out


def test_unknown_command_is_a_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "node.cli", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def test_every_built_subcommand_has_help():
    import importlib.util

    built = [n for n, mod in COMMANDS.items() if importlib.util.find_spec(mod) is not None]
    assert built, "no subcommands built"
    for name in built:
        proc = subprocess.run(
            [sys.executable, "-m", "node.cli", name, "--help"], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        assert "usage: dungeon " + name in proc.stdout


def test_bad_input_the_core_rejects_is_one_line_not_a_traceback(capsys):
    assert main(["bench", "protocol", "--preset", "NOT_A_PRESET"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dungeon bench: unknown modem preset 'NOT_A_PRESET'")
    assert len(err.strip().splitlines()) == 1


def test_a_party_level_that_is_not_a_number_is_explained(capsys):
    assert main(["encounter", "simulate", "--party", "wizard:x", "--monsters", "goblin"]) != 0
    assert "wizard:x" in capsys.readouterr().err


def test_status_of_a_data_dir_no_node_has_used_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "node.cli", "status", "--data-dir", str(tmp_path / "typo")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "(none yet)" in proc.stdout
    assert proc.stderr.startswith("dungeon status: no node has run with data in")


def test_words_after_an_option_still_name_the_thing(capsys):
    # argparse alone refuses `srd spell --json fire bolt`: the name list was already closed.
    assert main(["srd", "spell", "--json", "fire", "bolt"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "Fire Bolt"
    with pytest.raises(SystemExit) as exc:
        main(["srd", "spell", "--json", "fire", "--bogus"])
    assert exc.value.code == 2


def test_a_reader_that_leaves_early_gets_no_traceback():
    # `dungeon srd monsters --json | head -c 10`: the listing is far bigger than a pipe's
    # buffer, so the write fails once the reader has gone.
    p = subprocess.Popen([sys.executable, "-m", "node.cli", "srd", "monsters", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stdout.read(10) == b'{"adjudica'
    p.stdout.close()
    err = p.stderr.read().decode() if p.stderr else ""
    assert p.wait(timeout=60) == 141
    assert "Traceback" not in err and err == ""
