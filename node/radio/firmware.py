"""Meshtastic firmware 2.x timing and limits the simulator imitates (contention windows, retries)."""

from __future__ import annotations

import random

from protocol.airtime import PRESETS

ROUTING_PORT = 5  # ROUTING_APP: acks and naks
CW_MIN, CW_MAX = 3, 8
SNR_MIN_DB, SNR_MAX_DB = -20.0, 10.0
# NextHopRouter's retry budgets count the first send too (PendingPacket subtracts one):
# an originator's want_ack packet gets two retransmissions, a next-hop relay one, and the
# last retransmission of a DM always falls back to flooding.
NUM_RELIABLE_RETX = 3
NUM_INTERMEDIATE_RETX = 2
NUM_RETRANSMISSIONS = NUM_RELIABLE_RETX - 1
NO_NEXT_HOP = 0  # next_hop byte meaning "no preference": every rebroadcaster may relay
PROCESSING_TIME_S = 4.5  # allowance the firmware adds to the retransmission timeout
TEXT_APP_GAP_S = 2.0  # a second text from the app link inside this gap is dropped
DEFAULT_HOP_LIMIT = 3
DUTY_WINDOW_S = 3600.0
UTIL_WINDOW_S = 60.0
# Fraction of each rolling hour one radio may transmit (RegionInfo duty cycle).
DUTY_LIMITS: dict[str, float] = {"EU_868": 0.10, "EU_433": 0.10, "UA_433": 0.10, "UA_868": 0.01}
ROUTING_ACK_BYTES = 2  # a Routing message with error_reason NONE


def slot_time_s(preset: str) -> float:
    """One contention-window slot: a CAD of 2.5 symbols plus propagation, turnaround, MAC."""
    p = PRESETS.get(preset.upper())
    if p is None:
        raise ValueError(f"unknown modem preset {preset!r}")
    return 2.5 * p.symbol_s + (0.2 + 0.4 + 7.0) / 1000.0


def _map(x: float, in_lo: float, in_hi: float, out_lo: int, out_hi: int) -> int:
    x = max(in_lo, min(in_hi, x))
    return int(out_lo + (x - in_lo) * (out_hi - out_lo) / (in_hi - in_lo))


def cw_size_for_util(channel_util: float) -> int:
    """Contention window exponent grows with how busy the channel is (0..1)."""
    return _map(channel_util * 100.0, 0.0, 100.0, CW_MIN, CW_MAX)


def tx_delay_s(rng: random.Random, preset: str, channel_util: float) -> float:
    """Delay before sending our own packet, or backing off after a busy CAD."""
    cw = cw_size_for_util(channel_util)
    return rng.randrange(0, 2**cw) * slot_time_s(preset)


def rebroadcast_delay_s(rng: random.Random, preset: str, snr: float, router: bool) -> float:
    """SNR-weighted delay before relaying: the weakest listener (farthest away) goes first.

    Routers pick from a short window starting at zero; clients wait out the routers'
    whole window first, so infrastructure nodes win the race to relay.
    """
    cw = _map(snr, SNR_MIN_DB, SNR_MAX_DB, CW_MIN, CW_MAX)
    slot = slot_time_s(preset)
    if router:
        return rng.randrange(0, 2 * cw) * slot
    return (2 * CW_MAX) * slot + rng.randrange(0, 2**cw) * slot


def retransmission_timeout_s(airtime: float, preset: str, channel_util: float) -> float:
    """How long a want_ack sender waits for its ack before trying again."""
    cw = cw_size_for_util(channel_util)
    slots = 2**cw + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)
    return 2 * airtime + slots * slot_time_s(preset) + PROCESSING_TIME_S


def relay_byte(num: int) -> int:
    """The one byte of a node number that next_hop and relay_node carry on the air."""
    return num & 0xFF
