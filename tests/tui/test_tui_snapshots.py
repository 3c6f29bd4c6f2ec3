"""Snapshots of the console at 80x24 and 120x40 from a fixed-seed game (pytest-textual-snapshot)."""

from __future__ import annotations

import pytest
from tuifrozen import frozen_state

from tui.app import DungeonConsole


@pytest.fixture(scope="module")
def frozen():
    return frozen_state()


def _app(frozen) -> DungeonConsole:
    return DungeonConsole(None, frozen=frozen, tick=False)


def test_console_120x40(snap_compare, frozen):
    assert snap_compare(_app(frozen), terminal_size=(120, 40))


def test_console_80x24(snap_compare, frozen):
    assert snap_compare(_app(frozen), terminal_size=(80, 24))


def test_narrate_dialog_80x24(snap_compare, frozen):
    assert snap_compare(_app(frozen), terminal_size=(80, 24),
                        press=["t", *"The door groans."])


def test_help_120x40(snap_compare, frozen):
    assert snap_compare(_app(frozen), terminal_size=(120, 40), press=["question_mark"])
