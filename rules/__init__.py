"""Pure D&D 5e (SRD 5.1) rules engine: no I/O, no wall clock, no global random."""

# The rules a game's log was recorded under. A log replays to its recorded digests only
# under the same version: 1 was the resolver before the effect engine, 2 the engine,
# 3 characters to level 20 (class resources, subclass features, worn armour on the sheet),
# 4 every class feature played, multiclassing, metamagic, monster senses and terrain, the
# monsters' triggered traits, encumbrance and shops, 5 a troll at 0 HP is down until its
# turn's start (Regeneration), the party AI burns it, and armour and weapon proficiencies
# play, 6 a multiclass caster casts each class's spells with that class's ability, a Use
# names what the character carries first, and a use that only heals needs someone hurt,
# 7 a vampire's unarmed strike (its spawn's claws) grapples a foe it may not yet bite
# instead of dealing damage, a spell of range Self no longer names its caster again,
# `atk giant spider` attacks the giant spider instead of asking for a weapon "spider", a
# spell that only heals, like such a use, needs someone hurt, a rogue's hide, dash or
# disengage takes the bonus action first, a succubus kisses only whom it has charmed, and
# a vampire's or succubus's charm is saved against again when they harm its bearer, and
# an undead destroyed by Turn Undead dies outright, and a druid in a beast's shape attacks
# with the beast's attacks.
RULES_VERSION = 7
