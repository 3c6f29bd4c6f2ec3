"""Meshtastic firmware 2.7 (and 2.8 develop) timing and limits the simulator imitates.

Line numbers cite github.com/meshtastic/firmware at tag v2.7.26.54e0d8d unless a line
says otherwise.
"""

from __future__ import annotations

import math
import random
import zlib

from node.radio.base import TransportError
from protocol.airtime import PRESETS

ROUTING_PORT = 5  # ROUTING_APP: acks and naks
TEXT_PORT = 1  # TEXT_MESSAGE_APP
CW_MIN, CW_MAX = 3, 8  # RadioInterface.h:102-103
SNR_MIN_DB, SNR_MAX_DB = -20, 10  # RadioInterface.cpp:591-594 (int32 constants)
# NextHopRouter's retry budgets count the first send too (PendingPacket subtracts one):
# an originator's want_ack packet gets two retransmissions, a next-hop relay one, and the
# last retransmission of a DM always falls back to flooding.
NUM_RELIABLE_RETX = 3
NUM_INTERMEDIATE_RETX = 2
NUM_RETRANSMISSIONS = NUM_RELIABLE_RETX - 1
NO_NEXT_HOP = 0  # next_hop byte meaning "no preference": every rebroadcaster may relay
PROCESSING_TIME_S = 4.5  # allowance the firmware adds to the retransmission timeout
TEXT_APP_GAP_S = 2.0  # PhoneAPI.cpp:851-858: a second text within 2 s is refused
DEFAULT_HOP_LIMIT = 3
DUTY_WINDOW_S = 3600.0
DUTY_BUCKET_S = 60.0  # airtime.cpp:44-47: the hour is 60 one-minute buckets
UTIL_WINDOW_S = 60.0
# Fraction of each rolling hour one radio may transmit (RegionInfo duty cycle).
DUTY_LIMITS: dict[str, float] = {"EU_868": 0.10, "EU_433": 0.10, "UA_433": 0.10, "UA_868": 0.01}
ROUTING_ACK_BYTES = 2  # a Routing message with error_reason NONE
REQUEST_ID_BYTES = 5  # Data.request_id is fixed32: tag + 4 bytes on every ack
MESH_HEADER_BYTES = 16  # PacketHeader
MAX_LORA_PAYLOAD = 255  # RadioInterface.h:20
PKC_OVERHEAD_BYTES = 12  # RadioInterface.h:22; added to PKI DMs at Router.cpp:673
XEDDSA_SIGNATURE_BYTES = 66  # 2.8 develop: a signed broadcast carries its signature
SIGNED_BROADCAST_MAX = 166  # 2.8 develop: broadcasts up to this size are signed
TRAFFIC_BUCKET_S = 300.0  # 2.8 develop traffic management counts per sender in 5 minutes

# MeshPacket.Priority (mesh.proto) as MeshPacketQueue.cpp:41-63 assigns it on the air.
PRIORITY_ACK = 120
PRIORITY_HIGH = 100  # text and admin
PRIORITY_RESPONSE = 80
PRIORITY_RELIABLE = 70
PRIORITY_DEFAULT = 64

FIRMWARES = ("2.7", "2.8")


def slot_time_s(preset: str) -> float:
    """One contention-window slot: a CAD of 2.5 symbols plus propagation, turnaround, MAC."""
    p = PRESETS.get(preset.upper())
    if p is None:
        raise ValueError(f"unknown modem preset {preset!r}")
    return 2.5 * p.symbol_s + (0.2 + 0.4 + 7.0) / 1000.0


class RateLimitedError(TransportError):
    """The radio refused a text sent within 2 s of the last: PhoneAPI.cpp:856 answers the
    app with a RATE_LIMIT_EXCEEDED routing error instead of sending it."""

    retry_after_s = TEXT_APP_GAP_S


def arduino_map(x: float, in_lo: int, in_hi: int, out_lo: int, out_hi: int) -> int:
    """Arduino's map(): integer arithmetic on the value truncated to long, and unclamped,
    so an SNR above 10 dB gives a contention window above CW_MAX (RadioInterface.cpp:596)."""
    v = int(x)  # float -> long truncates towards zero
    num = (v - in_lo) * (out_hi - out_lo)
    den = in_hi - in_lo
    q = abs(num) // abs(den)  # C division truncates towards zero
    return (q if (num >= 0) == (den > 0) else -q) + out_lo


def cw_size_for_util(channel_util: float) -> int:
    """Contention window exponent grows with how busy the channel is (0..1); the
    utilisation is a percentage 0..100, so map() never leaves CW_MIN..CW_MAX here."""
    return arduino_map(channel_util * 100.0, 0, 100, CW_MIN, CW_MAX)


def cw_size_for_snr(snr: float) -> int:
    """RadioInterface.cpp:588-597: getCWsize(snr), unclamped; never below 0 slots' worth."""
    return max(0, arduino_map(snr, SNR_MIN_DB, SNR_MAX_DB, CW_MIN, CW_MAX))


def tx_delay_s(rng: random.Random, preset: str, channel_util: float) -> float:
    """Delay before sending our own packet (RadioInterface.cpp:576-585)."""
    cw = cw_size_for_util(channel_util)
    return rng.randrange(0, 2**cw) * slot_time_s(preset)


def rebroadcast_delay_s(rng: random.Random, preset: str, snr: float, router: bool) -> float:
    """SNR-weighted delay before relaying (RadioInterface.cpp:619-637): the weakest listener
    (farthest away) goes first. ROUTERs pick from a short window starting at zero; every
    other role (ROUTER_LATE and CLIENT_BASE too) waits out the routers' window first."""
    cw = cw_size_for_snr(snr)
    slot = slot_time_s(preset)
    if router:
        return rng.randrange(0, max(1, 2 * cw)) * slot
    return (2 * CW_MAX) * slot + rng.randrange(0, 2**cw) * slot


def late_window_s(preset: str, snr: float) -> float:
    """getTxDelayMsecWeightedWorst (RadioInterface.cpp:600-605): past every CLIENT's window,
    where ROUTER_LATE and CLIENT_BASE move a relay another radio already made."""
    return (2 * CW_MAX + 2 ** cw_size_for_snr(snr)) * slot_time_s(preset)


def retransmission_timeout_s(airtime: float, preset: str, channel_util: float) -> float:
    """How long a want_ack sender waits for its ack before trying again
    (RadioInterface.cpp:560-573), counted from the hand-off to the radio."""
    cw = cw_size_for_util(channel_util)
    slots = 2**cw + 2 * CW_MAX + 2 ** ((CW_MAX + CW_MIN) // 2)
    return 2 * airtime + slots * slot_time_s(preset) + PROCESSING_TIME_S


def priority(port: int, want_ack: bool, request_id: int) -> int:
    """fixPriority (MeshPacketQueue.cpp:41-63) for a packet as it sits in a transmit queue."""
    if port == ROUTING_PORT:
        return PRIORITY_ACK
    if port == TEXT_PORT:
        return PRIORITY_HIGH
    if request_id:
        return PRIORITY_RESPONSE
    return PRIORITY_RELIABLE if want_ack else PRIORITY_DEFAULT


def data_bytes(payload: int, port: int, request_id: int = 0) -> int:
    """The encoded Data protobuf: portnum, payload, bitfield, and request_id on acks."""
    from protocol.airtime import data_overhead

    return payload + data_overhead(payload, port) + (REQUEST_ID_BYTES if request_id else 0)


def uses_pki(to: int, port: int, broadcast: int) -> bool:
    """Router.cpp:642-656: a DM we originate on an app port is PKI-encrypted (+12 B)."""
    return to != broadcast and port not in (ROUTING_PORT, 3, 4, 70)  # not position/nodeinfo/traceroute


def signed(to: int, payload: int, port: int, broadcast: int, firmware: str) -> bool:
    """2.8 develop: a broadcast of 166 B or less that the radio originates is XEdDSA-signed."""
    return (firmware == "2.8" and to == broadcast and port != ROUTING_PORT
            and payload <= SIGNED_BROADCAST_MAX)


def signs_broadcasts(version: str) -> bool:
    """Does a radio on this firmware version ("2.8.0.abc", "" when unknown) sign its short
    broadcasts? 2.8 develop does (see signed)."""
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (2, 8)


def node_num_for_key(public_key: bytes) -> int:
    """2.8 develop: on its first 2.8 boot a radio takes crc32(public key) as its node number
    (the reserved numbers 0-3 and broadcast are skipped)."""
    num = zlib.crc32(public_key) & 0xFFFFFFFF
    return num if 4 <= num < 0xFFFFFFFF else (num ^ 0x80000000)


def duty_bucket_start(elapsed: float) -> float:
    """Start of the oldest of the 60 one-minute buckets airtime.cpp:113-121 sums."""
    return (math.floor(elapsed / DUTY_BUCKET_S) - 59) * DUTY_BUCKET_S


def relay_byte(num: int) -> int:
    """The one byte of a node number that next_hop and relay_node carry on the air."""
    return num & 0xFF


# Region spans narrower than some presets (RadioInterface.cpp:801-826: the radio falls back
# to LONG_FAST, "region too narrow for 500kHz preset"). EU_868 is 869.4-869.65 MHz.
REGION_SPAN_KHZ: dict[str, float] = {"EU_868": 250.0}


def effective_preset(region: str, preset: str) -> str:
    """The preset the radio really runs: a preset wider than the region falls back."""
    from protocol.airtime import PRESETS

    p = PRESETS.get(preset.upper())
    span = REGION_SPAN_KHZ.get(region.upper())
    if p is not None and span is not None and p.bw_hz / 1000.0 > span:
        return "LONG_FAST"
    return preset.upper()
