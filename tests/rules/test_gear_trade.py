"""Shops, coins, carried weight and loot that goes to characters (rules/shop, encumbrance)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import encumbrance, equipment, shop
from rules import intents as it
from rules.errors import RulesError
from rules.game import Game, apply


def test_change_is_made_and_the_purse_keeps_its_value(game: Game) -> None:
    thorin = next(e for e in game.party() if e.name == "Thorin")
    thorin.inventory += ["3 pp", "1 ep", "7 cp"]
    assert shop.purse(thorin) == 3057
    shop.set_purse(thorin, shop.purse(thorin) - 1)
    assert [x for x in thorin.inventory if encumbrance.COIN.match(x)] == ["30 gp", "5 sp",
                                                                           "6 cp"]


@given(st.integers(0, 10**6))
def test_price_text_reads_back_to_the_same_copper(cp: int) -> None:
    units = {"gp": 100, "sp": 10, "cp": 1}
    words = shop.price_text(cp).split()
    assert sum(int(w[:-2]) * units[w[-2:]] for w in words) == cp


def test_every_listing_page_fits_a_packet(game: Game, rng: random.Random) -> None:
    from rules import content

    apply(game, None, it.Dm("shop.open", text=", ".join(list(content.gear())[:120])), rng)
    mira = next(e for e in game.party() if e.name == "Mira")
    page, seen = 1, []
    while True:
        text = game.describe(mira.eid, f"shop {page}")
        assert len(text.encode()) <= 200
        seen.append(text)
        if "for more" not in text:
            break
        page += 1
    assert len(seen) > 5
    with pytest.raises(RulesError, match="pages 1 to"):
        game.describe(mira.eid, f"shop {page + 1}")


def test_loot_nobody_can_lift_stays_on_the_floor_and_is_not_carried(game: Game) -> None:
    for e in game.party():
        e.abilities["str"] = 3  # 45 lb at most
    out = equipment.share_loot(game, ["plate armor", "torch"])
    assert game.loot == ["plate armor"]
    assert any("stays on the floor" in e.text for e in out)
    holder = next(e for e in game.party() if "torch" in e.inventory)
    assert "plate armor" not in holder.inventory
    inv = game.describe(holder.eid, "inv")
    assert "on the floor: plate armor" in inv


def test_ammunition_is_sold_by_the_bundle(game: Game, rng: random.Random) -> None:
    apply(game, None, it.Dm("shop.open", text="arrow"), rng)
    mira = next(e for e in game.party() if e.name == "Mira")
    shop.set_purse(mira, 100)
    before = encumbrance.carried(mira)
    apply(game, mira.eid, it.Trade("buy", "arrows"), rng)
    assert "arrows (20)" in mira.inventory and shop.purse(mira) == 0
    assert encumbrance.carried(mira) == pytest.approx(before + 1 - 1 / 50)  # the gold paid


def test_the_unconscious_do_not_trade(game: Game, rng: random.Random) -> None:
    apply(game, None, it.Dm("shop.open", text="torch"), rng)
    thorin = next(e for e in game.party() if e.name == "Thorin")
    shop.set_purse(thorin, 10)
    thorin.hp = 0
    with pytest.raises(RulesError, match="cannot trade now"):
        apply(game, thorin.eid, it.Trade("buy", "torch"), rng)
    assert "torch" not in thorin.inventory
