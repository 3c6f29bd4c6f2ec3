"""The player's own client for the binary protocol (`dungeon play`)."""
