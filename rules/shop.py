"""Shops, opened by the DM or a dungeon room's own: SRD gear at SRD prices, for coins."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, encumbrance, fuzzy, proficiency
from rules import events as ev
from rules import intents as it
from rules.creature import Entity
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game

STATE_KEY = "shop"  # game.state["shop"]: [[gear index, price in cp], ...] while one is open
# A page's wares; with "shop 12/40: " before and " (shop 13 for more)" after, one packet.
WARES_B = 165
COIN_CP = {"pp": 1000, "gp": 100, "ep": 50, "sp": 10, "cp": 1}
MAX_STOCK = 250
# What a shop sells when the DM names no stock: arms, armour and the adventurer's basics.
BASIC_STOCK = ("dagger", "handaxe", "javelin", "mace", "quarterstaff", "spear", "shortbow",
               "crossbow-light", "battleaxe", "longsword", "rapier", "shortsword", "greataxe",
               "longbow", "leather-armor", "studded-leather-armor", "scale-mail",
               "chain-mail", "shield", "potion-of-healing", "torch", "rope-hempen-50-feet",
               "rations-1-day", "healers-kit", "backpack", "bedroll", "tinderbox",
               "waterskin", "holy-water-flask", "antitoxin-vial", "arrow", "crossbow-bolt")


def price_text(cp: int) -> str:
    """150 -> "1gp 5sp"; 0 -> "0gp"."""
    gp, rest = divmod(cp, 100)
    sp, c = divmod(rest, 10)
    return " ".join(f"{n}{u}" for n, u in ((gp, "gp"), (sp, "sp"), (c, "cp")) if n) or "0gp"


def find_gear(word: str, pool: list[str]) -> str:
    """The gear index `word` names among `pool`; RulesError "did you mean" if none."""
    names = {encumbrance.item_name(k): k for k in pool} | {k.replace("-", " "): k for k in pool}
    hit = fuzzy.best_match(word.strip().lower(), list(names))
    if hit is None:
        near = fuzzy.suggest(word.strip().lower(), [encumbrance.item_name(k) for k in pool], 3)
        raise RulesError(f"no {word.strip()[:24]!r} here" + (
            f"; did you mean {', '.join(near)}?" if near else "; send shop for the list"))
    return names[hit]


def open_shop(game: Game, text: str) -> list[Any]:
    """DM op shop.open: text lists the stock ("longsword, torch=2cp, potion of healing"),
    or nothing for the basic stock; prices are the SRD's unless one is given."""
    gear = content.gear()
    stock: dict[str, int] = {}
    for word in [w.strip() for w in text.split(",") if w.strip()] or list(BASIC_STOCK):
        name, _, price = word.partition("=")
        k = find_gear(name, list(gear))
        stock[k] = _price(price) if price.strip() else int(gear[k]["cost_cp"])
    if len(stock) > MAX_STOCK:
        raise RulesError(f"a shop holds at most {MAX_STOCK} wares")
    game.state[STATE_KEY] = [[k, cp] for k, cp in stock.items()]
    return [ev.Info(0, f"a shop opens: {len(stock)} wares; send shop to see them, "
                       "buy ITEM, sell ITEM")]


def _price(text: str) -> int:
    """ "12gp", "5 sp" -> copper pieces; RulesError otherwise."""
    m = encumbrance.COIN.match(text.strip().lower())
    if m is None:
        raise RulesError(f"a price is coins, e.g. 12gp, not {text.strip()[:12]!r}")
    return int(m.group(1)) * COIN_CP[m.group(2)]


def close_shop(game: Game) -> list[Any]:
    if STATE_KEY not in game.state:
        raise RulesError("no shop is open")
    del game.state[STATE_KEY]
    return [ev.Info(0, "the shop closes")]


def stock_here(game: Game, room: int) -> dict[str, int]:
    """Wares and prices (cp) where a character stands: the shop the DM opened, else the
    room's own (a dungeon's `shop` list)."""
    opened = {k: cp for k, cp in game.state.get(STATE_KEY, [])}
    if opened or room not in game.dungeon.rooms:
        return opened
    gear = content.gear()
    return {k: int(gear[k]["cost_cp"]) for k in game.dungeon.rooms[room].shop}


def trade(game: Game, a: Entity, i: it.Trade, _rng: random.Random) -> list[Any]:
    stock = stock_here(game, a.room)
    if not stock:
        raise RulesError("no shop is open here; the DM opens one")
    if game.combat is not None:
        raise RulesError("no trading in a fight")
    if a.kind != "pc":
        raise RulesError(f"{a.name} does not trade")
    if a.incapacitated or a.hp <= 0:
        raise RulesError(f"{a.name} cannot trade now")
    if i.op == "buy":
        return _buy(game, a, find_gear(i.item, list(stock)), stock)
    if i.op == "sell":
        return _sell(game, a, i.item)
    raise RulesError("buy ITEM or sell ITEM")


def listing(game: Game, room: int, what: str) -> str:
    """The Query "shop [page]": one page of the wares here with prices, fitting one packet
    ("shop 1/3: dagger 2gp, ..."); RulesError when no shop is open here."""
    stock = stock_here(game, room)
    if not stock:
        raise RulesError("no shop is open here; the DM opens one")
    word = what.split()[1] if len(what.split()) == 2 else "1"
    page = int(word) if word.isdigit() else 0
    pages: list[list[str]] = [[]]
    for k, cp in stock.items():
        entry = f"{encumbrance.item_name(k)} {price_text(cp)}"
        if len(", ".join(pages[-1] + [entry]).encode()) > WARES_B:
            pages.append([])
        pages[-1].append(entry)
    if not 1 <= page <= len(pages):
        raise RulesError(f"the list has pages 1 to {len(pages)}")
    more = f" (shop {page + 1} for more)" if page < len(pages) else ""
    return f"shop {page}/{len(pages)}: " + ", ".join(pages[page - 1]) + more


def purse(e: Entity) -> int:
    """The character's coins, in copper pieces."""
    total = 0
    for x in e.inventory:
        m = encumbrance.COIN.match(x)
        if m:
            total += int(m.group(1)) * COIN_CP[m.group(2)]
    return total


def set_purse(e: Entity, cp: int) -> None:
    """Hold `cp` as gold, silver and copper (change is made the way a shopkeeper would)."""
    e.inventory[:] = [x for x in e.inventory if not encumbrance.COIN.match(x)]
    for unit in ("gp", "sp", "cp"):
        n, cp = divmod(cp, COIN_CP[unit])
        if n:
            e.inventory.append(f"{n} {unit}")


def _buy(game: Game, a: Entity, index: str, stock: dict[str, int]) -> list[Any]:
    from rules.dm import MAX_ITEMS

    cost, have = stock[index], purse(a)
    name = encumbrance.item_name(index)
    if cost > have:
        raise RulesError(f"the {name} costs {price_text(cost)}; {a.name} has "
                         f"{price_text(have) if have else 'no coins'}")
    if len(a.inventory) >= MAX_ITEMS:
        raise RulesError(f"{a.name} cannot carry more things")
    encumbrance.check_pickup(game, a, float(content.gear()[index]["weight"]))
    set_purse(a, have - cost)
    a.inventory.append(name)
    encumbrance.update(game, a)
    unskilled = "" if proficiency.item_ok(a, index) else f" ({proficiency.NOT_PROFICIENT})"
    return [ev.Info(a.eid, f"buys the {name}{unskilled} for {price_text(cost)}; "
                           f"{price_text(purse(a))} left")]


def _sell(game: Game, a: Entity, word: str) -> list[Any]:
    """Sell a carried item, or a weapon in hand, for half its SRD price (SRD "Selling
    Treasure"); the pack's copy goes before the one in hand."""
    gear = content.gear()
    by_name = {encumbrance.item_name(k): k for k in gear}
    carried = [x for x in a.inventory if x in by_name]
    wielded = [w["name"] for w in a.weapons if not w.get("monk") and w["name"] in by_name]
    hit = fuzzy.best_match(word.strip().lower(), carried + wielded)
    if hit is None:
        near = fuzzy.suggest(word.strip().lower(), carried + wielded, 3)
        raise RulesError(f"{a.name} carries no {word.strip()[:24]!r} to sell" + (
            f"; did you mean {', '.join(near)}?" if near else ""))
    value = int(gear[by_name[hit]]["cost_cp"]) // 2
    if hit in carried:
        a.inventory.remove(hit)
    else:
        a.weapons.remove(next(w for w in a.weapons if w["name"] == hit))
    set_purse(a, purse(a) + value)
    encumbrance.update(game, a)
    return [ev.Info(a.eid, f"sells the {hit} for {price_text(value)}; "
                           f"{price_text(purse(a))} now")]


def take(game: Game, e: Entity, text: str) -> list[Any]:
    """DM op take_item: coins ("5 gp", made change for) or a carried item leave the pack."""
    word = " ".join(text.split()).lower()
    coins = encumbrance.COIN.match(word)
    if coins:
        amount, have = int(coins.group(1)) * COIN_CP[coins.group(2)], purse(e)
        if amount > have:
            raise RulesError(f"{e.name} has only {price_text(have)}")
        set_purse(e, have - amount)
        encumbrance.update(game, e)
        return [ev.Info(e.eid, f"gives up {word}; {price_text(purse(e))} left")]
    hit = fuzzy.best_match(word, e.inventory)
    if hit is None:
        raise RulesError(f"{e.name} carries no {word[:24]!r}")
    e.inventory.remove(hit)
    encumbrance.update(game, e)
    return [ev.Info(e.eid, f"gives up the {hit}")]
