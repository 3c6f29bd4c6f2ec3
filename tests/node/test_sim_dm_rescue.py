"""The simulator's DM: a party with nobody standing is brought back up during the fight."""

from __future__ import annotations

from node.pipeline import Command
from node.sim.simulation import direct, rescue
from rules import intents as it


async def test_a_party_with_nobody_standing_is_healed_in_the_fight_and_fights_on(app):
    app.pipeline.auto_approve = True
    await app.pipeline.submit(Command("text", "!000000a1", it.Join("Thorin", "fighter")))
    await app.pipeline.submit(Command("dm", "dm", it.Dm("spawn", text="ogre", value=1)))
    await app.pipeline.submit(Command("dm", "dm", it.Dm("start_combat")))
    thorin = app.game.party()[0]
    await app.pipeline.submit(Command("dm", "dm", it.Dm("damage", thorin.eid, thorin.hp)))
    assert thorin.hp == 0 and not thorin.dead and app.game.current_turn() is not None
    await rescue(app)
    assert app.game.party()[0].hp == app.game.party()[0].max_hp
    # a fight that ended with its ogre still in the room starts again, not a new encounter
    await app.pipeline.submit(Command("dm", "dm", it.Dm("end_combat")))
    assert app.game.current_turn() is None
    assert await direct(app, ("goblin", 2), joined=True) is False
    assert app.game.current_turn() is not None
    assert not any(e.monster == "goblin" for e in app.game.entities.values())
