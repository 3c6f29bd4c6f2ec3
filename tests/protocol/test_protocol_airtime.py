"""LoRa airtime against DESIGN.md's figures and the AN1200.13 formula's properties."""

import pytest

from protocol.airtime import PRESETS, airtime_s, data_overhead
from protocol.errors import ProtocolError


@pytest.mark.parametrize(("size", "seconds"), [(8, 0.48), (60, 0.89), (200, 1.9)])
def test_long_fast_matches_design(size, seconds):
    assert airtime_s(size, "LONG_FAST") == pytest.approx(seconds, rel=0.05)


@pytest.mark.parametrize(("preset", "ratio"), [("MEDIUM_FAST", 3.4), ("SHORT_FAST", 12.0)])
def test_faster_presets_ratio_for_small_payloads(preset, ratio):
    assert airtime_s(8) / airtime_s(8, preset) == pytest.approx(ratio, rel=0.05)


def test_medium_fast_ratio_holds_across_sizes():
    for n in (8, 60, 200):
        assert airtime_s(n) / airtime_s(n, "MEDIUM_FAST") == pytest.approx(3.4, rel=0.05)


def test_all_listed_presets_exist_and_order_by_speed():
    names = ["SHORT_TURBO", "SHORT_FAST", "SHORT_SLOW", "MEDIUM_FAST", "MEDIUM_SLOW",
             "LONG_FAST", "LONG_MODERATE", "LONG_SLOW", "VERY_LONG_SLOW"]
    times = [airtime_s(50, n) for n in names]
    assert times == sorted(times)
    assert set(names) <= set(PRESETS)


def test_monotonic_in_payload():
    for preset in PRESETS:
        prev = 0.0
        for n in range(0, 233):
            t = airtime_s(n, preset)
            assert t >= prev
            prev = t


def test_low_data_rate_optimisation_kicks_in_for_long_symbols():
    # SF12 at 125 kHz: 32.8 ms symbols, so LDRO is on and SF12 packs fewer bits/symbol.
    assert PRESETS["LONG_SLOW"].symbol_s > 0.016 > PRESETS["LONG_FAST"].symbol_s
    # by hand: PL=224, ceil((1792-48+44)/40)=45, x8 +8 = 368 symbols + 20.25 preamble
    assert airtime_s(200, "LONG_SLOW") == pytest.approx(388.25 * 4096 / 125_000, rel=1e-9)


def test_overheads_can_be_turned_off():
    bare = airtime_s(40, mesh_header=False, data_overhead=False)
    assert bare < airtime_s(40, data_overhead=False) < airtime_s(40)
    assert data_overhead(10) == 7 and data_overhead(200) == 8 and data_overhead(10, 1) == 6


def test_unknown_preset_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="unknown modem preset"):
        airtime_s(10, "LONG_WHATEVER")
    assert airtime_s(10, "long_fast") == airtime_s(10)
