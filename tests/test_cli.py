"""The dungeon command dispatches and teaches through --help."""

import subprocess
import sys

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
