"""Pure D&D 5e (SRD 5.1) rules engine: no I/O, no wall clock, no global random."""

# The rules a game's log was recorded under. A log replays to its recorded digests only
# under the same version: 1 was the resolver before the effect engine, 2 the engine.
RULES_VERSION = 2
