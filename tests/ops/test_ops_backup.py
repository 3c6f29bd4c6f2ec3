"""Litestream configs, database verification and VACUUM INTO snapshots with retention."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import backup
from node.backup import BackupError, litestream_config, parse_replica, snapshot, verify_db
from node.cli import main
from node.store import Store, Write


def _db(path: Path, n: int) -> Path:
    s = Store(path)
    for seq in range(1, n + 1):
        s.commit("node-a", Write(seq=seq, ts=float(seq), type="Test", payload={"n": seq}))
    s.close()
    return path


@pytest.mark.parametrize(
    ("url", "kind"),
    [("file:///mnt/usb/dungeon", "file"), ("sftp://dm@nas.local:2222/backups/dd", "sftp"),
     ("s3://my-bucket/dungeon/node-a", "s3")],
)
def test_configs_parse_with_litestream_itself(tmp_path, url, kind):
    config = tmp_path / "ls.yml"
    text = litestream_config(tmp_path / "dungeon.db", url, sftp_key_path="/etc/dungeon/id",
                             s3_endpoint="http://127.0.0.1:9000", s3_region="us-east-1")
    config.write_text(text)
    out = subprocess.run([backup.find_litestream(), "databases", "-config", str(config)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[1].split() == [str(tmp_path / "dungeon.db"), kind]
    assert backup.config_databases(config) == [str(tmp_path / "dungeon.db")]
    assert ("key-path" in text) == (kind == "sftp")
    assert ("endpoint" in text) == (kind == "s3")


@pytest.mark.parametrize("url", ["http://x/y", "file://relative/path", "sftp://host/path",
                                 "s3:///nobucket", "file:///a\"b", ""])
def test_bad_replica_urls_are_refused(url):
    with pytest.raises(BackupError):
        parse_replica(url)


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_paths_survive_yaml_quoting(name):
    # Whatever the path, the YAML value round-trips to the same string.
    import json

    text = litestream_config(Path("/var/lib") / (name.replace("/", "_") or "db"), "s3://b/p")
    line = next(ln for ln in text.splitlines() if ln.startswith("  - path: "))
    assert json.loads(line.removeprefix("  - path: ")) == str(
        Path("/var/lib") / (name.replace("/", "_") or "db"))


def test_config_cli_writes_a_checked_file(tmp_path, capsys):
    out = tmp_path / "etc" / "litestream.yml"
    rc = main(["backup", "config", "--db", str(tmp_path / "dungeon.db"),
               "--replica", f"file://{tmp_path}/rep", "--out", str(out)])
    assert rc == 0
    assert "sync-interval: 1s" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o640"
    rc = main(["backup", "config", "--db", "x.db", "--replica", "ftp://nope"])
    assert rc == 1
    assert "file://, sftp:// or s3://" in capsys.readouterr().err


def test_ca_bundle_is_kept_away_from_litestream(monkeypatch):
    monkeypatch.setenv("AWS_CA_BUNDLE", "/etc/ssl/bundle.pem")
    assert "AWS_CA_BUNDLE" not in backup.litestream_env()


def test_verify_reports_gaps_and_non_node_files(tmp_path):
    db = _db(tmp_path / "a.db", 4)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM events WHERE seq = 2")
    conn.commit()
    conn.close()
    r = verify_db(db, replay=False)
    assert r.integrity == "ok" and r.events == 3 and r.max_seq == 4 and not r.gapless
    assert not r.ok
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(BackupError, match="not a node database"):
        verify_db(other, replay=False)


def test_snapshot_is_a_consistent_copy(tmp_path):
    db = _db(tmp_path / "dungeon.db", 7)
    path = snapshot(db, tmp_path / "snaps", keep=3)
    assert backup.SNAPSHOT_RE.match(path.name)
    r = verify_db(path, replay=False)
    assert (r.integrity, r.events, r.max_seq) == ("ok", 7, 7)
    assert not list((tmp_path / "snaps").glob("*.partial"))


def test_snapshot_retention_keeps_newest_per_label(tmp_path):
    db = _db(tmp_path / "dungeon.db", 2)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for i in range(5):
        made.append(snapshot(db, tmp_path / "s", keep=2, now=lambda i=i: t0 + timedelta(hours=i)))
    levelup = snapshot(db, tmp_path / "s", keep=2, label="levelup", now=lambda: t0)
    assert backup.list_snapshots(tmp_path / "s", "periodic") == made[-2:]
    assert backup.list_snapshots(tmp_path / "s", "levelup") == [levelup]
    assert not made[0].exists()


@pytest.mark.parametrize(("keep", "label"), [(0, "periodic"), (1, "Level Up!")])
def test_snapshot_rejects_bad_arguments(tmp_path, keep, label):
    db = _db(tmp_path / "dungeon.db", 1)
    with pytest.raises(BackupError):
        snapshot(db, tmp_path / "s", keep=keep, label=label)


def test_snapshot_cli(tmp_path, capsys):
    db = _db(tmp_path / "dungeon.db", 3)
    for _ in range(3):
        assert main(["backup", "snapshot", "--db", str(db), "--dir", str(tmp_path / "s"),
                     "--keep", "2", "--json"]) == 0
    import json

    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(last["kept"]) == 2 and last["snapshot"] == last["kept"][-1]
    assert main(["backup", "snapshot", "--db", str(tmp_path / "none.db"),
                 "--dir", str(tmp_path / "s")]) == 1


async def test_periodic_snapshots_only_when_the_log_grew(tmp_path):
    db = _db(tmp_path / "dungeon.db", 2)
    task = asyncio.create_task(
        backup.periodic_snapshots(db, tmp_path / "s", keep=10, interval_s=0.05))
    await asyncio.sleep(0.4)
    assert len(backup.list_snapshots(tmp_path / "s")) == 1  # nothing new after the first
    s = Store(db)
    s.commit("node-a", Write(seq=3, ts=3.0, type="Test", payload={}))
    s.close()
    await asyncio.sleep(0.4)
    task.cancel()
    snaps = backup.list_snapshots(tmp_path / "s")
    assert len(snaps) == 2
    assert verify_db(snaps[-1], replay=False).max_seq == 3


async def test_snapshot_before_a_change_keeps_the_old_sheet(tmp_path):
    db = _db(tmp_path / "dungeon.db", 3)
    before = await backup.snapshot_async(db, tmp_path / "s", keep=5, label="levelup")
    s = Store(db)
    s.commit("node-a", Write(seq=4, ts=4.0, type="Test", payload={"level": 2}))
    s.close()
    assert verify_db(before, replay=False).max_seq == 3  # the pre-change state, untouched
    assert verify_db(db, replay=False).max_seq == 4
