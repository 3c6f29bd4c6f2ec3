"""Typed domain errors whose message a player can read in one line."""


class RulesError(Exception):
    """An illegal or malformed game action; str(err) is a one-line reason for the player."""
