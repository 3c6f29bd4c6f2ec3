"""Radio physics for the mesh simulator: path loss, sensitivity, SNR and MAC slot time."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from node.radio.firmware import slot_time_s  # noqa: F401  (a firmware fact; the mesh uses it from here)
from protocol.airtime import PRESETS, Preset, airtime_s

# 3GPP suburban macro model with a 1 m handset height at 869.5 MHz, as Meshtasticator
# defaults to; it gives LONG_FAST about 1.3 km between ground-level handhelds.
FREQ_MHZ = 869.525
HANDSET_HEIGHT_M = 1.0
NOISE_FIGURE_DB = 6.0
# The SNR each spreading factor can still demodulate (Semtech SX126x datasheet).
SNR_LIMIT_DB = {7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}
CAPTURE_DB = 6.0  # a reception survives an overlap if it is this much stronger
SHADOWING_SIGMA_DB = 2.0  # spread of the fixed per-link offset
SHADOWING_CLIP_DB = 4.0
TX_POWER_DBM = {"EU_868": 27.0, "EU_433": 12.0, "US": 30.0}
DEFAULT_TX_POWER_DBM = 20.0  # what a typical SX1262 handheld actually puts out
# The SNR an SX126x reports saturates at close range: two SX1262 30 cm apart read about
# +14 dB (markqvist/RNode_Firmware#60). The firmware's contention window follows the
# reported figure, so a neighbour a few metres away does not wait minutes to relay.
SNR_REPORT_MAX_DB = 14.0
MAX_FIRMWARE_PAYLOAD = 231  # PRIVATE_APP bytes left after the firmware's own fields


def preset_params(preset: str) -> Preset:
    p = PRESETS.get(preset.upper())
    if p is None:
        raise ValueError(f"unknown modem preset {preset!r}")
    return p


def path_loss_db(distance_m: float) -> float:
    """Median path loss in dB at distance_m (3GPP suburban macro, as Meshtasticator)."""
    d = max(distance_m, 1.0)
    hm = HANDSET_HEIGHT_M
    return (
        (44.9 - 6.55 * math.log10(hm)) * (math.log10(d) - 3.0)
        + 45.5
        + (35.46 - 1.1 * hm) * math.log10(FREQ_MHZ)
        - 13.82 * math.log10(hm)
        + 0.7 * hm
    )


def noise_floor_dbm(preset: str) -> float:
    return -174.0 + 10.0 * math.log10(preset_params(preset).bw_hz) + NOISE_FIGURE_DB


def sensitivity_dbm(preset: str) -> float:
    """The weakest signal the preset's SF/BW still decodes."""
    return noise_floor_dbm(preset) + SNR_LIMIT_DB[preset_params(preset).sf]


def range_m(preset: str, tx_power_dbm: float = DEFAULT_TX_POWER_DBM, margin_db: float = 0.0) -> float:
    """Distance at which the median link has `margin_db` above sensitivity."""
    budget = tx_power_dbm - sensitivity_dbm(preset) - margin_db
    lo, hi = 1.0, 1e7
    for _ in range(100):  # path loss is monotonic in distance: bisect it
        mid = math.sqrt(lo * hi)
        if path_loss_db(mid) > budget:
            hi = mid
        else:
            lo = mid
    return lo


def link_offset_db(seed: int, a: int, b: int) -> float:
    """A fixed, symmetric shadowing offset per pair of radios, reproducible from the seed."""
    lo, hi = min(a, b), max(a, b)
    rng = random.Random(f"link:{seed}:{lo}:{hi}")
    value = rng.gauss(0.0, SHADOWING_SIGMA_DB)
    return max(-SHADOWING_CLIP_DB, min(SHADOWING_CLIP_DB, value))


def packet_airtime_s(payload_bytes: int, preset: str, port: int) -> float:
    return airtime_s(payload_bytes, preset, portnum=port)


@dataclass(frozen=True, slots=True)
class LinkBudget:
    rssi: float
    snr: float
    heard: bool


def link(preset: str, tx_power_dbm: float, distance_m: float, offset_db: float) -> LinkBudget:
    rssi = tx_power_dbm - path_loss_db(distance_m) + offset_db
    snr = min(rssi - noise_floor_dbm(preset), SNR_REPORT_MAX_DB)
    return LinkBudget(rssi, snr, rssi >= sensitivity_dbm(preset))
