"""Typed protocol errors whose message fits one line."""


class ProtocolError(Exception):
    """Bytes or text that do not form a valid message; str(err) says why in one line."""
