"""The binary session without I/O, in the style of h11: bytes and time in, frames out.

`NodeSession` is the node's side (every client's window, keys, slot and in-order queue,
the batched broadcasts, resends, resync and nudges); `ClientSession` is a player's side
(its key, sequence numbers, acks, resends and the broadcasts it missed). Neither reads a
clock, touches a radio or draws global randomness: callers pass `now`, hand the returned
`Send`s to their radio, and call `tick(now)` again at `next_deadline()`.
"""

from protocol.session.client import ClientSession
from protocol.session.common import Send, Urgency
from protocol.session.node import Apply, NodeSession, Result, Table

__all__ = ["Apply", "ClientSession", "NodeSession", "Result", "Send", "Table", "Urgency"]
