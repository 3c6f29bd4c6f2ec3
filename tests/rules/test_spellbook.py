"""Every SRD spell through the engine: each mechanised one casts in a real fight, each
adjudicated one spends its slot and asks the DM, and the data says which is which."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, turn_of

from rules import content
from rules import events as ev
from rules import intents as it
from rules.dungeon import Dungeon
from rules.effects import spellbook
from rules.game import Game, apply, spawn, start_combat

BOOK = spellbook.book()
MECHANISED = sorted(k for k, d in BOOK.items() if not d.adjudicated)
ADJUDICATED = sorted(k for k, d in BOOK.items() if d.adjudicated)


def test_every_srd_spell_has_a_state_and_290_are_mechanised() -> None:
    assert set(BOOK) == set(content.spells())
    assert len(MECHANISED) >= 290
    for k in ADJUDICATED:
        assert BOOK[k].adjudicated and "\n" not in BOOK[k].adjudicated


def _fight(index: str) -> tuple[Game, int, int]:
    g = Game.new(Dungeon.from_dict(ARENA))
    rng = random.Random(0)
    apply(g, None, it.Join("Caster", "wizard", 5), rng)
    apply(g, None, it.Join("Friend", "fighter", 5), rng)
    sd = BOOK[index]
    foe = "wolf" if "beast" in sd.only_types else "goblin"
    spawn(g, foe, 3)
    for eid in (1, 2):
        g.entities[eid].hp -= 3  # a spell that only heals needs a wound to cast
    c = g.entities[1]
    c.spells = [index]
    c.slots = [4] * 9
    c.max_slots = [4] * 9
    ctime = content.spells()[index]["casting_time"]
    if "action" in ctime or "reaction" in ctime:  # longer casts happen outside combat
        start_combat(g, rng)
        turn_of(g, 1)
    target = 2 if sd.targets in ("ally", "allies", "any", "dead_ally") else 3
    c.engaged, g.entities[3].engaged = [3], [1]  # touch and self-range spells can reach
    if sd.targets == "dead_ally":
        g.entities[2].dead, g.entities[2].hp = True, 0
    return g, 1, target


@pytest.mark.parametrize("index", MECHANISED)
def test_mechanised_spell_casts_in_a_fight(index: str) -> None:
    g, caster, target = _fight(index)
    sp = content.spells()[index]
    level = max(1, int(sp["level"])) if sp["level"] else None
    before = list(g.entities[caster].slots)
    ref = None if BOOK[index].targets == "self" else target
    out = apply(g, caster, it.Cast(index, ref, level), random.Random(5))
    assert any(isinstance(e, ev.SpellCast) and e.spell == index for e in out)
    if sp["level"] and not sp.get("ritual"):
        assert g.entities[caster].slots[level - 1] == before[level - 1] - 1
    assert not any(isinstance(e, ev.Info) and "DM rules" in e.text for e in out)
    g.from_dict(g.to_dict())  # the state stays serialisable


@pytest.mark.parametrize("index", ADJUDICATED[:5])
def test_adjudicated_spell_spends_the_slot_and_asks_the_dm(index: str) -> None:
    g, caster, target = _fight(index)
    sp = content.spells()[index]
    level = max(1, int(sp["level"]))
    out = apply(g, caster, it.Cast(index, None, level), random.Random(5))
    assert g.entities[caster].slots[level - 1] == 3
    prompt = [e for e in out if isinstance(e, ev.Info) and "DM rules" in e.text]
    assert len(prompt) == 1 and BOOK[index].adjudicated in prompt[0].text
