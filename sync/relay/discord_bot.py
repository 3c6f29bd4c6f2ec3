"""The discord.py front of the bridge: thin handlers over BridgeService (slash commands and messages).

Every slash command defers at once (Discord wants an answer within 3 s), then does its
work and answers with a follow-up. Plain messages in a game channel use the radio grammar.
Nothing the bot sends may ping anyone: replies echo player text ("unknown command
'@everyone'"), so every send carries allowed_mentions=none, and the client default is
the same in case a send is added without it.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from rules import intents as I
from sync.relay.bridge import BridgeService, Reply, SummaryBatcher

NO_MENTIONS = discord.AllowedMentions.none()


def _ref(text: str) -> int | str:
    return int(text) if text.isdigit() else text


async def _answer(interaction: discord.Interaction, work: Any, *, ephemeral: bool) -> None:
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    reply: Reply = await work
    await interaction.followup.send(reply.text, ephemeral=ephemeral or reply.ephemeral,
                                    allowed_mentions=NO_MENTIONS)


def register_commands(tree: app_commands.CommandTree, bridge: BridgeService) -> None:
    def key(interaction: discord.Interaction) -> str:
        return f"discord-int:{interaction.id}"

    async def intent(interaction: discord.Interaction, it: Any) -> None:
        await _answer(interaction, bridge.submit(interaction.channel_id or 0, interaction.user.id,
                                                 it, key(interaction)), ephemeral=False)

    @tree.command(name="link", description="Link your Discord account to a character with the DM's code")
    async def link(interaction: discord.Interaction, code: str) -> None:
        await _answer(interaction, bridge.link(interaction.channel_id or 0, interaction.user.id,
                                               code, key(interaction)), ephemeral=True)

    @tree.command(name="look", description="Look around the room")
    async def look(interaction: discord.Interaction) -> None:
        await intent(interaction, I.Look())

    @tree.command(name="attack", description="Attack a creature")
    async def attack(interaction: discord.Interaction, target: str, weapon: str | None = None) -> None:
        await intent(interaction, I.Attack(_ref(target), _ref(weapon) if weapon else None))

    @tree.command(name="cast", description="Cast a spell")
    async def cast(interaction: discord.Interaction, spell: str, target: str | None = None) -> None:
        await intent(interaction, I.Cast(_ref(spell), _ref(target) if target else None))

    @tree.command(name="roll", description="Roll a skill, a save or dice (stealth, dex save, 2d6+1)")
    async def roll(interaction: discord.Interaction, what: str) -> None:
        await intent(interaction, I.Roll(what))

    @tree.command(name="sheet", description="Your linked character, as the relay last saw it")
    async def sheet(interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            return bridge.sheet(interaction.channel_id or 0, interaction.user.id)
        await _answer(interaction, work(), ephemeral=True)

    @tree.command(name="status", description="The game's round, party and monsters")
    async def status(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        st = bridge.status(interaction.channel_id or 0)
        if st is None:
            await interaction.followup.send("This channel is not linked to a game.", ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
            return
        await interaction.followup.send(embed=status_embed(st), allowed_mentions=NO_MENTIONS)


def status_embed(st: dict[str, Any]) -> discord.Embed:
    online = "online" if st["online"] else "offline"
    embed = discord.Embed(title=f"Round {st['round']} - node {online}")
    party = "\n".join(f"{p['name']}: {p['hp'] if p['hp'] is not None else '?'} HP" for p in st["party"])
    foes = "\n".join(f"{m['name']}: {m['hp'] if m['hp'] is not None else '?'} HP" for m in st["monsters"])
    embed.add_field(name="Party", value=party or "-", inline=True)
    embed.add_field(name="Monsters", value=foes or "-", inline=True)
    return embed


class DungeonBot(commands.Bot):
    """The bridge's bot; `bridge.batcher` posts round summaries as embeds through it."""

    def __init__(self, bridge: BridgeService, *, intents: discord.Intents | None = None,
                 interval_s: float = 1.5, sync_commands: bool = False) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         allowed_mentions=NO_MENTIONS)
        self.bridge = bridge
        self.sync_commands = sync_commands
        bridge.batcher = SummaryBatcher(self.post_summary, interval_s=interval_s)
        register_commands(self.tree, bridge)

    async def setup_hook(self) -> None:
        if self.sync_commands:  # publish the slash commands to Discord once logged in
            await self.tree.sync()

    async def post_summary(self, channel_id: int, title: str, lines: list[str]) -> None:
        channel = self.get_channel(channel_id)
        if isinstance(channel, discord.abc.Messageable):
            await channel.send(embed=discord.Embed(title=title, description="\n".join(lines)),
                               allowed_mentions=NO_MENTIONS)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None:
            return
        reply = await self.bridge.text(message.channel.id, message.author.id, message.id,
                                       message.content)
        if reply is not None:
            await message.channel.send(reply.text, allowed_mentions=NO_MENTIONS)
