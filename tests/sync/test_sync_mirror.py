"""The relay's read model and the uplink's backlog warning."""

import logging

from synchelpers import SECRET, fill

from sync.backoff import Backoff
from sync.relay.mirror import GameMirror
from sync.uplink import Uplink


def test_mirror_folds_events_and_ignores_replays():
    g = GameMirror("n1")
    join = {"sender": "!a1", "actor": None, "events": [
        {"type": "Joined", "eid": 1, "name": "Thorin", "cls": "fighter", "level": 1}]}
    spawn = {"events": [{"type": "Spawned", "eid": 3, "monster": "goblin", "name": "Gob1"}]}
    bind = {"sender": "discord:7", "eid": 1, "role": "player", "via": "link"}
    hit = {"sender": "discord:7", "actor": 1, "events": [
        {"type": "Attacked", "eid": 1, "target": 3, "nat": 15, "total": 19, "ac": 15, "hit": True,
         "crit": False, "using": "longsword"},
        {"type": "Damaged", "target": 3, "amount": 7, "dtype": "slashing", "hp": 0},
        {"type": "Died", "target": 3}]}
    assert g.apply(1, join) == ["Thorin the fighter joins."]
    g.apply(2, spawn)
    assert g.apply(3, bind) == [] and g.actors["discord:7"] == 1
    lines = g.apply(4, hit)
    assert lines[0] == "Thorin hits Gob1 (19 vs AC 15, longsword)."
    assert lines[1] == "Gob1 takes 7 slashing (0 HP)." and lines[2] == "Gob1 dies."
    assert g.apply(4, hit) == []  # a resent seq changes nothing
    st = g.status()
    assert st["party"] == [{"eid": 1, "name": "Thorin", "hp": None}] and st["monsters"] == []


def test_a_sheet_shows_class_hp_state_and_conditions_as_last_synced():
    g = GameMirror("n1")
    g.apply(1, {"events": [{"type": "Joined", "eid": 1, "name": "Mira", "cls": "cleric",
                            "level": 3}]})
    assert g.sheet(1) == "Mira, cleric 3: HP ?"
    g.apply(2, {"events": [
        {"type": "Damaged", "target": 1, "amount": 9, "dtype": "piercing", "hp": 0},
        {"type": "Downed", "target": 1},
        {"type": "ConditionChanged", "target": 1, "condition": "unconscious", "on": True},
        {"type": "ConditionChanged", "target": 1, "condition": "prone", "on": True}]})
    assert g.sheet(1) == "Mira, cleric 3: HP 0; down; prone, unconscious"
    assert g.apply(3, {"events": [{"type": "Stabilised", "target": 1}]}) == ["Mira is stable."]
    g.apply(4, {"events": [
        {"type": "Healed", "target": 1, "amount": 4, "hp": 4},
        {"type": "ConditionChanged", "target": 1, "condition": "unconscious", "on": False}]})
    assert g.sheet(1) == "Mira, cleric 3: HP 4; prone"
    assert g.sheet(99) == "#99: HP ?"  # someone the relay never heard of


def test_backoff_doubles_its_ceiling_and_resets():
    import random

    b = Backoff(base_s=1, cap_s=8, rng=random.Random(0))
    delays = [b.next_delay() for _ in range(6)]
    assert all(0 <= d <= c for d, c in zip(delays, [1, 2, 4, 8, 8, 8], strict=True))
    b.reset()
    assert b.next_delay() <= 1


async def test_large_backlog_warns_once(store, caplog):
    fill(store, 30)
    up = Uplink("http://127.0.0.1:9", "node-1", SECRET, store, backlog_warn=20)
    up.acked = 0
    with caplog.at_level(logging.WARNING, logger="dungeon.uplink"):
        up._check_backlog()
        up._check_backlog()
    assert [r.message for r in caplog.records].count("sync backlog is large") == 1
    assert up.status()["backlog"] == 30
    await up.client.aclose()


def test_relay_parts_only_with_url_and_secret(tmp_path):
    from node.config import load_config
    from node.tactician import FallbackTactician
    from sync.node_sync import NodeSync, relay_parts
    from sync.tactician import RelayTactician

    alone = load_config(env={}, data_dir=tmp_path)
    assert relay_parts(alone)[0] is None and isinstance(relay_parts(alone)[1], FallbackTactician)
    linked = load_config(env={"DUNGEON_RELAY_URL": "http://127.0.0.1:8787",
                              "DUNGEON_RELAY_SECRET": SECRET}, data_dir=tmp_path)
    sync, tactician = relay_parts(linked)
    assert isinstance(sync, NodeSync) and isinstance(tactician, RelayTactician)
    assert tactician.budget_s == 2.5 and sync.status() is None
