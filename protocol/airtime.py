"""LoRa time on air for Meshtastic modem presets (Semtech AN1200.13)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocol.errors import ProtocolError


@dataclass(frozen=True, slots=True)
class Preset:
    """A Meshtastic modem preset: spreading factor, bandwidth (Hz), coding rate 4/cr."""

    sf: int
    bw_hz: float
    cr: int  # denominator: 5 means 4/5

    @property
    def symbol_s(self) -> float:
        return (1 << self.sf) / self.bw_hz


# Parameters as set by the firmware's modem-preset switch (RadioInterface.cpp, 2.7),
# for regions without wide LoRa. VERY_LONG_SLOW is deprecated in 2.7 but kept so
# old configs can still be costed.
PRESETS: dict[str, Preset] = {
    "SHORT_TURBO": Preset(7, 500_000, 5),
    "SHORT_FAST": Preset(7, 250_000, 5),
    "SHORT_SLOW": Preset(8, 250_000, 5),
    "MEDIUM_FAST": Preset(9, 250_000, 5),
    "MEDIUM_SLOW": Preset(10, 250_000, 5),
    "LONG_TURBO": Preset(11, 500_000, 8),
    "LONG_FAST": Preset(11, 250_000, 5),
    "LONG_MODERATE": Preset(11, 125_000, 8),
    "LONG_SLOW": Preset(12, 125_000, 8),
    "VERY_LONG_SLOW": Preset(12, 62_500, 8),
}

PREAMBLE_SYMBOLS = 16  # Meshtastic uses 16, not the LoRa default of 8
MESH_HEADER_BYTES = 16  # to, from, id, flags, channel hash, next hop, relay node
PRIVATE_APP = 256


def _varint_len(n: int) -> int:
    length = 1
    while n >= 0x80:
        n >>= 7
        length += 1
    return length


def data_overhead(payload_bytes: int, portnum: int = PRIVATE_APP) -> int:
    """Bytes the Data protobuf adds around a payload: portnum, payload tag+length, bitfield."""
    portnum_field = 1 + _varint_len(portnum)
    payload_field = 1 + _varint_len(payload_bytes)
    bitfield = 2  # firmware 2.5+ always sets Data.bitfield (ok_to_mqtt and friends)
    return portnum_field + payload_field + bitfield


def lora_airtime_s(phy_bytes: int, preset: Preset) -> float:
    """Time on air of a LoRa frame of phy_bytes with explicit header and CRC on."""
    sf, cr = preset.sf, preset.cr
    t_sym = preset.symbol_s
    # Low data rate optimisation is mandatory once a symbol lasts longer than 16 ms.
    de = 1 if t_sym > 0.016 else 0
    header = 0  # explicit header: H = 0 in the AN1200.13 formula
    crc = 1
    num = 8 * phy_bytes - 4 * sf + 28 + 16 * crc - 20 * header
    n_payload = 8 + max(math.ceil(num / (4 * (sf - 2 * de))) * cr, 0)
    t_preamble = (PREAMBLE_SYMBOLS + 4.25) * t_sym
    return t_preamble + n_payload * t_sym


def airtime_s(
    payload_bytes: int,
    preset: str = "LONG_FAST",
    *,
    mesh_header: bool = True,
    data_overhead: bool = True,
    portnum: int = PRIVATE_APP,
) -> float:
    """Seconds on air for an application payload sent as one Meshtastic packet."""
    p = PRESETS.get(preset.upper())
    if p is None:
        raise ProtocolError(f"unknown modem preset {preset!r}; try one of {', '.join(PRESETS)}")
    if payload_bytes < 0:
        raise ProtocolError("payload size cannot be negative")
    n = payload_bytes
    if data_overhead:
        n += _data_overhead(payload_bytes, portnum)
    if mesh_header:
        n += MESH_HEADER_BYTES
    return lora_airtime_s(n, p)


_data_overhead = data_overhead  # airtime_s's keyword shadows the function name
