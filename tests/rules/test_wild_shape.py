"""Wild Shape: the druid attacks with the beast's own attacks and numbers while shaped."""

from __future__ import annotations

import random

from rules_helpers import fight, party, turn_of

from rules import events as ev
from rules import intents as it
from rules.game import Game, apply


def _shaped() -> tuple[Game, int, int]:
    g = party(("Dru", "druid", 6))
    (orc,) = fight(g, "orc")
    dru = g.find("Dru").eid
    turn_of(g, dru)
    apply(g, dru, it.Use("wild shape"), random.Random(1))
    turn_of(g, dru)
    return g, dru, orc


def _rolls(g: Game, *values: int) -> None:
    apply(g, None, it.Dm("set_roll", value=values[0], text=" ".join(map(str, values))),
          random.Random(1))


def test_a_shaped_druid_makes_the_beasts_multiattack_with_its_numbers() -> None:
    g, dru, orc = _shaped()
    assert [x.form for x in g.entities[dru].effects if x.form] == ["black-bear"]
    _rolls(g, 10, 10)
    out = apply(g, dru, it.Attack(orc), random.Random(1))
    swings = [x for x in out if isinstance(x, ev.Attacked)]
    assert [x.using for x in swings] == ["Bite", "Claws"]
    # the black bear's +3 to hit (SRD), not the druid's scimitar
    assert all(x.total == 13 for x in swings)
    assert g.entities[dru].actions == [] and g.entities[dru].monster == ""  # nothing kept


def test_a_shaped_druid_may_name_one_of_the_beasts_attacks_but_not_its_own_weapon() -> None:
    g, dru, orc = _shaped()
    out = apply(g, dru, it.Attack(orc, "claws"), random.Random(1))
    assert [x.using for x in out if isinstance(x, ev.Attacked)] == ["Claws"]
    g, dru, orc = _shaped()
    out = apply(g, dru, it.Attack(orc, "scimitar"), random.Random(1))
    assert [x.using for x in out if isinstance(x, ev.Attacked)] == ["Bite", "Claws"]


def test_back_in_its_own_shape_the_druid_uses_its_scimitar_and_the_form_survives_a_save() -> None:
    g, dru, orc = _shaped()
    g2 = Game.from_dict(g.to_dict())
    assert [x.form for x in g2.entities[dru].effects if x.form] == ["black-bear"]
    apply(g, dru, it.Use("revert"), random.Random(1))
    turn_of(g, dru)
    out = apply(g, dru, it.Attack(orc), random.Random(1))
    assert [x.using for x in out if isinstance(x, ev.Attacked)] == ["scimitar"]
