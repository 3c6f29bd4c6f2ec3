"""The control API's argument schema: every op has one, bad arguments are refused in one line
over the real socket, and nothing refused reaches the event log."""

from __future__ import annotations

import pytest

from node.channels.control_schema import OPS, check_args
from node.control_client import ControlClient, ControlError
from node.replay import verify


def test_every_served_op_has_a_schema(app):
    served = set(app.control.ops) | {"subscribe"}
    assert served == set(OPS)


REFUSED = [
    ("session.start", {"seed": "abc"}, "seed must be a whole number"),
    ("session.start", {"seed": 1.5}, "seed must be a whole number"),
    ("session.start", {"seed": True}, "seed must be a whole number"),
    ("session.start", {"seed": -1}, "seed must be a whole number"),
    ("session.start", {"seed": 2**64}, "seed must be a whole number"),
    ("session.start", {"dungeon": "../../etc/passwd"}, "dungeon must be a dungeon name"),
    ("session.start", {"dungeon": "rel/path.toml"}, "dungeon must be a dungeon name"),
    ("session.start", {"house_rules": {"flanking": "yes"}}, "house_rules must be an object"),
    ("session.start", {"sede": 5}, "unknown argument 'sede'"),
    ("join.approve", {}, "missing argument 'id'"),
    ("join.approve", {"id": "1"}, "id must be a whole number"),
    ("sheet.edit", {"eid": 1, "field": "AC; drop", "value": 3}, "field must be 1-32 of"),
    ("sheet.edit", {"eid": 1, "field": "ac", "value": 10**9}, "value must be a whole number"),
    ("narrate", {"text": "x" * 501}, "text must be text of 1..500"),
    ("narrate", {"text": ""}, "text must be text of 1..500"),
    ("house_rule", {"name": "flanking", "on": 1}, "on must be true or false"),
    ("log", {"limit": 10_000}, "limit must be a whole number in 1..500"),
    ("srd.search", {"kind": "item"}, "kind must be one of monster, spell"),
    ("command", {"intent": "Look"}, "intent must be an object"),
    ("command", {"intent": {"type": "Dm", "op": "damage", "target": 2, "value": 10**100}},
     "outside"),
    ("command", {"intent": {"type": "Say", "text": "x" * 5000}}, "text over 500"),
    ("command", {"intent": {"type": "Dm", "op": "damage", "target": 2, "value": 2.5}},
     "fraction"),
    ("command", {"intent": {"type": "Look"}, "actor": "me"}, "actor must be a whole number"),
    ("hello", {"x": 1}, "unknown argument 'x'"),
    ("state", [1], "args must be an object"),
]


@pytest.mark.parametrize("op,args,why", REFUSED, ids=[f"{o}-{i}" for i, (o, _, _) in enumerate(REFUSED)])
def test_bad_arguments_are_refused_with_one_line(op, args, why):
    with pytest.raises(ControlError) as info:
        check_args(op, args)
    msg = str(info.value)
    assert why in msg and "\n" not in msg and len(msg) <= 200


def test_good_arguments_pass_unchanged():
    assert check_args("session.start", {"dungeon": "crypt", "seed": 2**63 - 1,
                                        "house_rules": {"flanking": True}})["seed"] == 2**63 - 1
    assert check_args("command", {"intent": {"type": "Look"}, "actor": None, "key": None}) == \
        {"intent": {"type": "Look"}}
    assert check_args("sheet.edit", {"eid": 1, "field": "name", "value": "Mira"})
    assert check_args("hello", None) == {}
    assert check_args("session.start", {"dungeon": "/srv/dungeons/keep.toml"})


async def test_refusals_over_the_socket_store_nothing_and_the_game_replays(app):
    before = app.store.max_seq()
    async with ControlClient(app.config.control_path) as c:
        for op, args, why in REFUSED:
            if not isinstance(args, dict):
                continue
            with pytest.raises(ControlError, match=why.split(" must")[0]):
                await c.request(op, **args)
        assert (await c.request("hello"))["seq"] == before
        assert isinstance(await c.request("audit", limit=None), list)  # null: the default
        res = await c.request("session.start", seed=12345)  # a good one still works
    assert app.pipeline.session.seed == 12345 and res["seq"] == before + 1
    assert verify(app.config.db_path).ok
