"""Every DM action, driven by keys in the console; each asserts the change in the node's state view."""

from __future__ import annotations

import asyncio
import io

import pytest
from textual.widgets import Input, OptionList, Static
from textual.widgets.data_table import RowDoesNotExist
from tuihelpers import console, eid_of, node_until, row_of, type_text, until

from node.control_client import ControlError
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from tui.combatlog import CombatLog
from tui.creatures import CreatureTable
from tui.encounter import EncounterScreen
from tui.help import HelpScreen
from tui.joins import JoinsScreen
from tui.sheet import SheetScreen, change_text
from tui.spawner import SpawnerScreen


async def _fight(dm, *, monster: str = "goblin", n: int = 1) -> dict:
    """Foes in the room, the AI paused (so turns stay where the test puts them), combat on."""
    await dm.request("ai.pause")
    await dm.request("command", intent={"type": "Dm", "op": "spawn", "text": monster, "value": n})
    await dm.request("command", intent={"type": "Dm", "op": "start_combat"})
    return await dm.request("state")


async def _select(app, pilot, name: str) -> None:
    table = app.query_one(CreatureTable)
    await until(pilot, lambda: any(r.get("name") == name for r in
                                   (app.state or {}).get("party", []) + (app.state or {}).get("monsters", [])),
                what=f"{name} in the console")
    table.select_eid(eid_of(app.state, name))
    table.focus()
    await pilot.pause()


async def _prompt(app, pilot, key: str, text: str, *, selector: str = "#prompt") -> None:
    await pilot.press(key)
    await until(pilot, lambda: bool(app.screen.query(selector)), what=f"the dialog for {key}")
    app.screen.query_one(selector, Input).focus()
    await type_text(pilot, text)
    await pilot.press("enter")


async def test_approve_and_deny_joins(node, dm):
    async with console(node) as (app, pilot):
        node.transport.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Vex wizard", id=1))
        await until(pilot, lambda: len((app.state or {}).get("joins", [])) == 1, what="the join")
        await pilot.press("j")
        await until(pilot, lambda: isinstance(app.screen, JoinsScreen))
        await pilot.press("a")
        state = await node_until(dm, lambda s: not s["joins"])
        assert "Vex" in [p["name"] for p in state["party"]]
        node.transport.inject(Packet(0xB2, BROADCAST, TEXT_PORT, b"join Grub barbarian", id=2))
        await until(pilot, lambda: app.screen.query_one("#joins").row_count == 1, what="row")
        await pilot.press("x")
        state = await node_until(dm, lambda s: not s["joins"])
        assert "Grub" not in [p["name"] for p in state["party"]]


async def test_start_and_end_combat_next_and_previous_turn(node, dm):
    await dm.request("ai.pause")
    await dm.request("command", intent={"type": "Dm", "op": "spawn", "text": "goblin", "value": 2})
    async with console(node) as (app, pilot):
        await pilot.press("c")
        state = await node_until(dm, lambda s: s["initiative"])
        order = [r["eid"] for r in state["initiative"]]
        assert state["session"]["turn"] == order[0]
        await pilot.press("n")
        state = await node_until(dm, lambda s: s["session"]["turn"] == order[1])
        await pilot.press("p")
        state = await node_until(dm, lambda s: s["session"]["turn"] == order[0])
        await until(pilot, lambda: app.state["session"]["turn"] == order[0], what="console turn")
        await pilot.press("C")
        await node_until(dm, lambda s: not s["initiative"])


async def test_damage_and_heal_the_selected_creature(node, dm):
    await dm.request("command", intent={"type": "Dm", "op": "spawn", "text": "ogre", "value": 1})
    async with console(node) as (app, pilot):
        await _select(app, pilot, "Ogre")
        before = row_of(await dm.request("state"), "Ogre")["hp"]
        await _prompt(app, pilot, "d", "9 fire")
        await node_until(dm, lambda s: row_of(s, "Ogre")["hp"] == before - 9)
        await _prompt(app, pilot, "h", "4")
        await node_until(dm, lambda s: row_of(s, "Ogre")["hp"] == before - 5)
        # a bad amount is refused in the dialog, in one line, and nothing reaches the node
        await _prompt(app, pilot, "d", "lots")
        error = app.screen.query_one("#error", Static)
        assert "amount" in str(error.render())
        assert row_of(await dm.request("state"), "Ogre")["hp"] == before - 5


async def test_add_and_remove_a_condition(node, dm):
    async with console(node) as (app, pilot):
        await _select(app, pilot, "Mira")
        await _prompt(app, pilot, "o", "+prone")
        await node_until(dm, lambda s: "prone" in row_of(s, "Mira")["conditions"])
        await until(pilot, lambda: "prone" in row_of(app.state, "Mira")["conditions"])
        await _prompt(app, pilot, "o", "prone")  # a bare name toggles it off again
        await node_until(dm, lambda s: "prone" not in row_of(s, "Mira")["conditions"])


async def test_override_a_roll(node, dm):
    await _fight(dm)
    async with console(node) as (app, pilot):
        await _prompt(app, pilot, "r", "20")
        await pilot.pause(0.1)
        if app.screen.query("#error"):
            refused = str(app.screen.query_one("#error", Static).render())
            if refused:
                pytest.fail(f"the node refused the override: {refused}")
        state = await dm.request("state")
        actor = state["session"]["turn"]
        target = next(r["eid"] for r in state["party"] + state["monsters"] if r["eid"] != actor)
        res = await dm.request("command", intent={"type": "Attack", "target": target}, actor=actor)
        attacks = [e for e in res["events"] if e["type"] == "Attacked"]
        assert attacks and attacks[0]["nat"] == 20


async def test_pause_and_resume_the_monster_ai(node, dm):
    async with console(node) as (app, pilot):
        await pilot.press("a")
        await node_until(dm, lambda s: s["ai_paused"] is True)
        await until(pilot, lambda: app.state["ai_paused"] is True)
        await pilot.press("a")
        await node_until(dm, lambda s: s["ai_paused"] is False)


async def test_force_a_monsters_action(node, dm):
    state = await _fight(dm)
    gob = eid_of(state, "Goblin")
    for _ in range(len(state["initiative"])):
        if state["session"]["turn"] == gob:
            break
        await dm.request("command", intent={"type": "Dm", "op": "next_turn"})
        state = await dm.request("state")
    assert state["session"]["turn"] == gob
    watcher = dm.subscribe()
    assert (await anext(watcher))["push"] == "state"
    async with console(node) as (app, pilot):
        await _select(app, pilot, "Goblin")
        await _prompt(app, pilot, "f", "attack thorin")
        for _ in range(20):
            msg = await asyncio.wait_for(anext(watcher), 5)
            attacks = [e for e in msg.get("events", []) if e["type"] == "Attacked"]
            if attacks:
                break
        assert attacks[0]["eid"] == gob and attacks[0]["target"] == eid_of(state, "Thorin")
        # an action the grammar does not know is refused in the dialog before any request
        await _prompt(app, pilot, "f", "xyzzy")
        assert str(app.screen.query_one("#error", Static).render())


async def test_spawner_searches_the_srd_and_spawns(node, dm):
    async with console(node) as (app, pilot):
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SpawnerScreen))
        await type_text(pilot, "skeleton")
        await until(pilot, lambda: "Skeleton" in [str(o.id) for o in
                                                  app.screen.query_one("#hits", OptionList).options],
                    what="SRD hits")
        app.screen.query_one("#count", Input).value = "2"
        app.screen.query_one("#query", Input).focus()
        await pilot.press("enter")
        state = await node_until(dm, lambda s: len([m for m in s["monsters"]
                                                    if m["name"].startswith("Skeleton")]) == 2)
        assert all(m["room"] == state["room"]["id"] for m in state["monsters"])


async def test_encounter_builder_shows_the_nodes_estimate(node, dm):
    expected = await dm.request("encounter.estimate", monsters="goblin:4")
    async with console(node) as (app, pilot):
        await _prompt(app, pilot, "e", "goblin:4", selector="#roster")
        screen = app.screen
        assert isinstance(screen, EncounterScreen)
        await until(pilot, lambda: screen.last is not None, what="the estimate")
        shown = str(screen.query_one("#result", Static).render())
        assert expected["difficulty"].upper() in shown
        assert f"{expected['xp']} XP" in shown
        assert f"{expected['party_win_rate'] * 100:.0f}%" in shown
        assert "deadly 200" in shown  # two level-1 characters: 2 x 100 XP
        screen.query_one("#roster", Input).value = "goblin:2, skeleton"
        await pilot.press("ctrl+s")
        state = await node_until(dm, lambda s: len(s["monsters"]) == 3)
        assert sorted(m["name"][:4] for m in state["monsters"]) == ["Gobl", "Gobl", "Skel"]


async def test_narration_counts_bytes_and_broadcasts(node, dm):
    watcher = dm.subscribe()
    assert (await anext(watcher))["push"] == "state"
    async with console(node) as (app, pilot):
        await pilot.press("t")
        await until(pilot, lambda: bool(app.screen.query("#prompt")))
        await type_text(pilot, "Wind howls é")
        counter = str(app.screen.query_one("#extra", Static).render())
        assert "13/200 B" in counter  # é is two bytes of UTF-8
        await pilot.press("enter")
        for _ in range(20):
            msg = await asyncio.wait_for(anext(watcher), 5)
            said = [e for e in msg.get("events", []) if e["type"] == "Narrated"]
            if said:
                break
        assert said[0]["text"] == "Wind howls é."  # sent as the sentence players read
        # over the packet: the preview shows the cut text, and Enter sends exactly that
        await pilot.press("t")
        await until(pilot, lambda: bool(app.screen.query("#prompt")))
        app.screen.query_one("#prompt", Input).value = "ö" * 100 + " the end"
        await pilot.pause()
        preview = str(app.screen.query_one("#extra", Static).render())
        assert "208/200 B" in preview and "over by 8 B; Enter sends it cut" in preview
        await pilot.press("enter")
        for _ in range(20):
            msg = await asyncio.wait_for(anext(watcher), 5)
            said = [e for e in msg.get("events", []) if e["type"] == "Narrated"]
            if said:
                break
        sent = said[0]["text"]
        assert len(sent.encode()) <= 200 and sent.endswith("…") and preview.endswith(sent[-60:])
        assert msg["lines"] == [sent]  # what the players read is what the preview showed
    # the node refuses what would not fit, rather than cutting it silently
    with pytest.raises(ControlError, match="202 B is over"):
        await dm.request("narrate", text="ö" * 101)


async def test_sheet_edit_validation_history_and_revert(node, dm):
    thorin = eid_of(await dm.request("state"), "Thorin")
    async with console(node) as (app, pilot):
        await _select(app, pilot, "Thorin")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, SheetScreen))
        sheet = app.screen
        await until(pilot, lambda: sheet.version == 1, what="sheet v1")
        sheet.query_one("#edit", Input).focus()
        await type_text(pilot, "ac=x")
        await pilot.press("enter")
        assert "ac must be a whole number" in str(sheet.query_one("#error", Static).render())
        assert (await dm.request("sheet.get", eid=thorin))["sheet"]["ac"] == 19  # chain mail, shield, Defense
        sheet.query_one("#edit", Input).value = "ac=16"
        await pilot.press("enter")
        await until(pilot, lambda: sheet.version == 2, what="sheet v2")
        got = await dm.request("sheet.get", eid=thorin)
        assert got["sheet"]["ac"] == 16 and got["version"] == 2
        history = sheet.query_one("#history")
        assert history.row_count == 2
        history.focus()
        await pilot.press("down")  # newest first: the second row is version 1
        await pilot.press("ctrl+r")
        await until(pilot, lambda: sheet.version == 3, what="the revert")
        assert (await dm.request("sheet.get", eid=thorin))["sheet"]["ac"] == 19
        # a value out of bounds is refused by the dialog and by the node alike
        sheet.query_one("#edit", Input).focus()
        sheet.query_one("#edit", Input).value = "max_hp=100000"
        await pilot.press("enter")
        assert "max_hp must be 1 to 999" in str(sheet.query_one("#error", Static).render())
        with pytest.raises(ControlError, match="1 to 999"):
            await dm.request("sheet.edit", eid=thorin, field="max_hp", value=100000)
        # an edit of play state (hp is not a sheet field) is still in the history
        sheet.query_one("#edit", Input).value = "hp=5"
        await pilot.press("enter")
        await until(pilot, lambda: sheet.version == 4, what="the hp edit's version")
        assert row_of(await dm.request("state"), "Thorin")["hp"] == 5
        assert "edit_sheet hp=5" in [change_text(r["change"])
                                     for r in await dm.request("sheet.history", eid=thorin)]


async def test_house_rules_list_every_known_rule_and_toggle(node, dm):
    from rules.house import HOUSE_RULES

    rules = (await dm.request("state"))["house_rules"]
    assert set(rules) == set(HOUSE_RULES)  # every rule, also those off by default
    first = next(iter(HOUSE_RULES))
    async with console(node) as (app, pilot):
        await pilot.press("u")
        await until(pilot, lambda: bool(app.screen.query("#rules")))
        table = app.screen.query_one("#rules")
        assert table.row_count == len(HOUSE_RULES)
        described = {str(table.get_row(name)[0]): str(table.get_row(name)[2])
                     for name in HOUSE_RULES}
        assert described["friendly_fire"] == HOUSE_RULES["friendly_fire"].description
        table.focus()
        await pilot.press("space")
        await node_until(dm, lambda s: s["house_rules"][first] is (not rules[first]))
    # a name the engine does not know is refused, not shown as ON doing nothing
    with pytest.raises(ControlError, match="no house rule 'flanking'"):
        await dm.request("house_rule", name="flanking", on=True)
    assert "flanking" not in (await dm.request("state"))["house_rules"]


async def test_session_pause_resume_end_and_start(node, dm):
    old = (await dm.request("state"))["session"]["id"]
    async with console(node) as (app, pilot):
        await pilot.press("P")
        await node_until(dm, lambda s: s["session"]["status"] == "paused")
        await until(pilot, lambda: app.state["session"]["status"] == "paused")
        await pilot.press("P")
        await node_until(dm, lambda s: s["session"]["status"] == "running")
        await until(pilot, lambda: app.state["session"]["status"] == "running")
        await pilot.press("E")
        await pilot.press("y")
        await node_until(dm, lambda s: s["session"]["status"] == "ended")
        await _prompt(app, pilot, "N", "")
        state = await node_until(dm, lambda s: s["session"]["id"] != old)
        assert state["session"]["status"] == "running" and state["party"] == []


async def test_command_palette_runs_dm_actions(node, dm):
    async with console(node) as (app, pilot):
        await pilot.press("ctrl+p")
        await type_text(pilot, "pause or resume the monster")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await node_until(dm, lambda s: s["ai_paused"] is True)


async def test_log_filters_and_help(node, dm):
    async with console(node) as (app, pilot):
        await dm.request("narrate", text="A bell tolls.")
        log = app.query_one(CombatLog)
        await until(pilot, lambda: "A bell tolls." in log.visible_text(), what="the log line")
        while log.filter != "combat":
            await pilot.press("l")
        assert "A bell tolls." not in log.visible_text()
        await pilot.press("l")
        assert log.filter == "story" and "A bell tolls." in log.visible_text()
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_sheet_shows_a_discord_link_code(node, dm):
    async with console(node) as (app, pilot):
        await _select(app, pilot, "Mira")
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, SheetScreen))
        await until(pilot, lambda: app.screen.version >= 1, what="the sheet")
        await pilot.press("ctrl+l")
        shown = app.screen.query_one("#error", Static)
        await until(pilot, lambda: "link code" in str(shown.render()), what="the code")
        code = str(shown.render()).split()[2]
    # the code the console showed really binds a Discord user to Mira on the node
    out = await node.pipeline.link("discord:7", code)
    assert out.ok and node.pipeline.eids_of("discord:7") == [eid_of(await dm.request("state"), "Mira")]


async def test_dm_keys_do_nothing_behind_a_dialog(node, dm):
    async with console(node) as (app, pilot):
        await pilot.press("u")
        await until(pilot, lambda: bool(app.screen.query("#rules")))
        app.screen.query_one("#rules").focus()
        await pilot.press("a", "c")  # pause-AI and start-combat keys, typed inside the dialog
        await pilot.pause(0.1)
        state = await dm.request("state")
        assert state["ai_paused"] is False and not state["initiative"]
        await pilot.press("escape")
        await pilot.press("a")  # back on the main screen the key works
        await node_until(dm, lambda s: s["ai_paused"] is True)


async def test_the_log_shows_what_happened_before_the_console_attached(node, dm):
    await dm.request("narrate", text="The crypt door grinds shut.")
    async with console(node) as (app, pilot):
        log = app.query_one(CombatLog)
        await until(pilot, lambda: "The crypt door grinds shut." in log.visible_text(),
                    what="history fetched on attach")
        await dm.request("narrate", text="Dust falls.")
        await until(pilot, lambda: "Dust falls." in log.visible_text(), what="the live line")
        assert log.visible_text().count("The crypt door grinds shut.") == 1


async def test_party_and_foes_drop_the_dead_and_a_late_foe_has_initiative(node, dm):
    state = await _fight(dm, n=2)
    goblins = [m["eid"] for m in state["monsters"]]
    async with console(node) as (app, pilot):
        table = app.query_one(CreatureTable)
        await until(pilot, lambda: table.row_count == 4, what="party and two goblins")
        await dm.request("command", intent={"type": "Dm", "op": "damage", "target": goblins[0],
                                             "value": 100, "text": "force"})
        await until(pilot, lambda: table.row_count == 3, what="the dead goblin gone")
        with pytest.raises(RowDoesNotExist):
            table.get_row_index(str(goblins[0]))
        # a foe spawned mid-fight rolls initiative: the panel shows its number
        await dm.request("command", intent={"type": "Dm", "op": "spawn", "text": "orc"})
        state = await node_until(dm, lambda s: len(s["initiative"]) == 5)
        orc = next(r for r in state["initiative"] if r["name"].startswith("Orc"))
        assert isinstance(orc["init"], int)
        await until(pilot, lambda: table.row_count == 4, what="the orc in the table")


async def test_dm_moves_the_party_opens_a_door_gives_xp_and_items(node, dm):
    state = await dm.request("state")
    start = state["room"]["id"]
    way = state["room"]["exits"][0]
    thorin = eid_of(state, "Thorin")
    async with console(node) as (app, pilot):
        await _prompt(app, pilot, "g", way["dir"])
        state = await node_until(dm, lambda s: s["room"]["id"] == way["to"])
        assert all(p["room"] == way["to"] for p in state["party"])
        assert state["initiative"]  # the new room's foes: a fight, and the DM ends it to move on
        await pilot.press("C")
        await node_until(dm, lambda s: not s["initiative"])
        locked = next(x for x in state["room"]["exits"] if x.get("door") == "locked")
        await _prompt(app, pilot, "k", locked["dir"])
        await node_until(dm, lambda s: next(x for x in s["room"]["exits"]
                                            if x["dir"] == locked["dir"]).get("door") != "locked")
        await _prompt(app, pilot, "g", str(start))
        state = await node_until(dm, lambda s: s["room"]["id"] == start)
        # the foes left behind in the other room are not in Party & foes, which names the room
        table = app.query_one(CreatureTable)
        await until(pilot, lambda: table.row_count == len(state["party"]), what="party only")
        assert table.border_title == f"Party & foes in {state['room']['name']}"
        xp = (await dm.request("sheet.get", eid=thorin))["sheet"]["xp"]
        await _select(app, pilot, "Thorin")
        await _prompt(app, pilot, "x", "40")
        await until(pilot, lambda: not app.screen.query("#prompt"), what="the XP dialog to close")
        assert (await dm.request("sheet.get", eid=thorin))["sheet"]["xp"] == xp + 40
        await _select(app, pilot, "Thorin")
        await _prompt(app, pilot, "i", "15 gp")
        await until(pilot, lambda: not app.screen.query("#prompt"), what="the item dialog")
        assert "15 gp" in (await dm.request("sheet.get", eid=thorin))["sheet"]["inventory"]


async def test_radio_panel_draws_the_hours_airtime_as_a_sparkline(node, dm):
    from textual.widgets import Sparkline

    now = node.clock.monotonic()
    # what the outbox logged: 1.5 s just now, 0.5 s half an hour ago
    node.outbox._history.extend([(now - 1800.0, 0.5), (now - 5.0, 1.5)])
    async with console(node) as (app, pilot):
        await dm.request("narrate", text="The wind turns.")  # a push brings the new figures
        spark = app.query_one("#airtime", Sparkline)
        await until(pilot, lambda: len(spark.data or []) == 30 and spark.data[-1] >= 1.5,
                    what="the sparkline")
        assert spark.data[14] == 0.5 and sum(1 for x in spark.data if x) in (2, 3)


async def test_the_demo_intro_opens_the_log_and_ctrl_c_quits(node, dm):
    from tui.app import DungeonConsole

    intro = ("This is the demo. You are the DM, watching three bot players.",)
    await dm.request("narrate", text="A bell tolls.")  # history the console shows on attach
    app = DungeonConsole(node.config.control_path, tick=False, backoff=(0.05,), intro=intro,
                         quit_help="stop the demo (the game is saved)")
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one(CombatLog)
        await until(pilot, lambda: intro[0] in log.visible_text(), what="the intro")
        text = log.visible_text()
        assert text.index(intro[0]) > text.index("A bell tolls.")  # last, where the eye is
        assert "j approves" not in log.visible_text()  # bots join by themselves
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        from rich.console import Console

        text = Console(width=200, record=True, file=io.StringIO())
        text.print(app.screen.table)
        assert "stop the demo (the game is saved)" in text.export_text()
        await pilot.press("escape")
        await pilot.press("ctrl+c")  # what README and help say stops it
        await pilot.pause()
        assert app.return_code == 0  # quit, not the "press ctrl+q" hint


async def test_dm_opens_a_shop_a_player_buys_and_the_dm_closes_it(node, dm):
    state = await dm.request("state")
    thorin = eid_of(state, "Thorin")
    await dm.request("command", intent={"type": "Dm", "op": "give_item", "target": thorin,
                                        "value": 1, "text": "2 gp"})
    buy = {"type": "Trade", "op": "buy", "item": "torch"}
    async with console(node) as (app, pilot):
        await _prompt(app, pilot, "b", "torch, rope")
        await until(pilot, lambda: not app.screen.query("#prompt"), what="the shop dialog")
        await dm.request("command", intent=buy, actor=thorin)
        inv = (await dm.request("sheet.get", eid=thorin))["sheet"]["inventory"]
        assert "torch" in inv and "1 gp" in inv and "9 sp" in inv and "9 cp" in inv
        await _prompt(app, pilot, "b", "close")
        await until(pilot, lambda: not app.screen.query("#prompt"), what="the close dialog")
        with pytest.raises(ControlError, match="no shop is open"):
            await dm.request("command", intent=buy, actor=thorin)


async def test_dm_creates_a_character_in_the_console_and_a_bad_step_is_one_line(node, dm):
    async with console(node) as (app, pilot):
        await _prompt(app, pilot, "m", "Quill wizard 3 race=high elf stats=8 14 13 15 12 10 "
                                       "skills=arcana history")
        await until(pilot, lambda: not app.screen.query("#prompt"), what="the create dialog")
        state = await dm.request("state")
        mira = (await dm.request("sheet.get", eid=eid_of(state, "Quill")))["sheet"]
        assert (mira["cls"], mira["level"], mira["abilities"]["int"]) == ("wizard", 3, 16)
        await _prompt(app, pilot, "m", "Bo wizard race=high elf stats=18 18 18 18 18 18")
        await until(pilot, lambda: str(app.screen.query_one("#error", Static).render()),
                    what="the refusal")
        err = str(app.screen.query_one("#error", Static).render())
        assert "\n" not in err and app.screen.query("#prompt")  # the dialog stays open
        with pytest.raises(KeyError):
            eid_of(await dm.request("state"), "Bo")
