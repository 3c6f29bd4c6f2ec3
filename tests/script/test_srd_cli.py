"""`dungeon srd spell NAME` says what a spell does in play; `srd spells --json` counts them."""

from __future__ import annotations

import json
import subprocess
import sys


def _srd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", "srd", *args], capture_output=True,
                          text=True, timeout=60)


def test_spells_json_lists_every_spell_with_its_state() -> None:
    run = _srd("spells", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["total"] == len(doc["spells"]) == 319
    assert doc["mechanised"] >= 290 and doc["mechanised"] + doc["adjudicated"] == 319
    states = {r["index"]: r for r in doc["spells"]}
    assert states["fireball"]["state"] == "mechanised" and states["fireball"]["effect"] == "rules"
    assert states["wish"]["state"] == "adjudicated" and states["wish"]["reason"]


def test_spell_shows_what_it_does_in_play() -> None:
    moon = _srd("spell", "moonbeam").stdout
    assert "In play: mechanised" in moon and "save: CON" in moon
    assert "repeats each turn" in moon and "concentration" in moon
    hands = _srd("spell", "burning", "hands").stdout
    assert "area: 15 ft cone, 2 creatures" in hands and "half damage" in hands
    wish = _srd("spell", "wish").stdout
    assert "adjudicated by the DM" in wish


def test_monster_shows_riders_and_traits_in_play() -> None:
    ghoul = _srd("monster", "ghoul").stdout
    assert "in play: condition: paralyzed (save at end of each turn)" in ghoul
    troll = _srd("monster", "troll").stdout
    assert "Regeneration (in play)" in troll and "heal: 10" in troll


def test_monsters_json_counts_every_action_trait_and_reaction() -> None:
    run = _srd("monsters", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["mechanised"] + doc["adjudicated"] == doc["total"] > 1000
    byname = {m["index"]: {(a["kind"], a["name"]): a for a in m["abilities"]}
              for m in doc["monsters"]}
    for m in doc["monsters"]:
        for a in m["abilities"]:
            assert set(a) == {"name", "kind", "state", "does"} and a["does"], a
            assert a["state"] in ("mechanised", "adjudicated")
    ghoul = byname["ghoul"]
    assert {k: a["state"] for k, a in ghoul.items()} == {("action", "Bite"): "mechanised",
                                                          ("action", "Claws"): "mechanised"}
    assert "paralyzed" in ghoul[("action", "Claws")]["does"]
    assert byname["troll"][("trait", "Regeneration")]["state"] == "mechanised"
    assert byname["lich"][("trait", "Spellcasting")]["state"] == "mechanised"
    assert byname["lich"][("legendary", "Disrupt Life")]["state"] == "mechanised"
    mind = byname["aboleth"][("trait", "Probing Telepathy")]  # telepathy is the DM's
    assert mind["state"] == "adjudicated" and mind["does"].startswith("DM rules: ")
    rejuv = byname["lich"][("trait", "Rejuvenation")]
    assert rejuv["state"] == "mechanised" and "re-forms" in rejuv["does"]
    assert byname["knight"][("reaction", "Parry")]["state"] == "mechanised"
    states = [a["state"] for m in doc["monsters"] for a in m["abilities"]]
    assert states.count("mechanised") == doc["mechanised"] and len(states) == doc["total"]
