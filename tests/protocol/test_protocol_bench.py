"""The protocol benchmarks run through the real `dungeon` CLI and print JSON."""

import json

import pytest

from node.cli import main


def test_bench_fuzz_reports_no_crashes(capsys):
    assert main(["bench", "fuzz", "--frames", "3000", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 3000 and out["crashes"] == 0
    assert out["accepted"] > 0 and out["rejected"] > 0
    assert out["accepted"] + out["rejected"] == 3000
    assert out["frames_per_s"] > 0


def test_bench_protocol_measures_real_games(capsys):
    pytest.importorskip("rules.tactics")
    pytest.importorskip("rules.game")
    assert main(["bench", "protocol", "--seeds", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("binary_median_bytes", "json_median_bytes", "msgpack_median_bytes",
                "cbor_median_bytes", "text_median_bytes", "max_frame_bytes", "round_frames"):
        assert out[key] is not None, key
    assert out["binary_median_bytes"] < out["json_median_bytes"]
    assert out["max_frame_bytes"] <= 200
    assert any(k.startswith("event:Attacked") for k in out["per_type"])
