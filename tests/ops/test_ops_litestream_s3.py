"""Litestream to S3: a moto server on loopback stands in for the bucket.

This host sets AWS_CA_BUNDLE (as many CI images do), and Litestream refuses to
start its S3 client while it is set; `dungeon backup` drops it from Litestream's
environment, and this test runs with it set to prove that.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import certifi
import httpx
import pytest

from node.backup import find_litestream, litestream_config, litestream_env
from node.cli import main
from node.store import Store, Write

pytest.importorskip("moto.server")


@pytest.fixture
def s3_endpoint(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open(tmp_path / "moto.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.put(f"{url}/dungeon", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                raise AssertionError("moto did not start")
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.mark.timeout(120)
def test_replicate_and_restore_through_s3(tmp_path: Path, s3_endpoint: str, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(os.environ.get("AWS_CA_BUNDLE") or certifi.where()).read_bytes())
    monkeypatch.setenv("AWS_CA_BUNDLE", str(bundle))
    db = tmp_path / "dungeon.db"
    store = Store(db)
    for seq in range(1, 21):
        store.commit("node-a", Write(seq=seq, ts=float(seq), type="Test", payload={"n": seq}))
    store.close()
    config = tmp_path / "litestream.yml"
    config.write_text(litestream_config(db, "s3://dungeon/node-a", s3_endpoint=s3_endpoint,
                                        s3_region="us-east-1"))
    cmd = [find_litestream(), "replicate", "-once", "-config", str(config)]
    # With the bundle variable left in, Litestream cannot build its S3 client.
    broken = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert broken.returncode != 0 and "cannot load aws config" in broken.stderr
    once = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=litestream_env())
    assert once.returncode == 0, once.stderr[-1000:]
    listing = httpx.get(f"{s3_endpoint}/dungeon?list-type=2&prefix=node-a/").text
    assert "node-a/" in listing and ".ltx" in listing  # the replica really is in the bucket
    rc = main(["backup", "restore", "--config", str(config), "--to", str(tmp_path / "r.db"),
               "--no-replay", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["integrity"] == "ok" and doc["events"] == 20 and doc["gapless"]
