"""What both sides of the binary session hand their driver: packets to send, and how urgent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

BROADCAST = 0xFFFFFFFF  # Meshtastic's broadcast address


class Urgency(IntEnum):
    """How the outbox should rank a packet (the driver maps it onto its own priorities)."""

    REPLY = 0  # an answer one client waits on, or a resend the game waits on
    RESULT = 1  # a new broadcast of results
    CHATTER = 2  # bulk: snapshot fragments


@dataclass(frozen=True, slots=True)
class Send:
    """One packet for the radio: to a node number (or BROADCAST), on the game port."""

    to: int
    data: bytes
    urgency: Urgency = Urgency.REPLY
    # A DM the driver charges to its recipient's airtime budget; False for one the session
    # already limits itself (a WELCOME: one per gap, strangers from a shared budget).
    charged: bool = True
