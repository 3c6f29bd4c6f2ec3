"""`dungeon backup config|restore|snapshot`: Litestream replication set-up, restore+verify, snapshots."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from node.cli import argtypes

HELP = "configure Litestream backups, restore and verify them, take VACUUM INTO snapshots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = sub.add_parser("config", help="write a Litestream config for a file, sftp or s3 replica")
    p.add_argument("--db", required=True, help="the node database, e.g. /var/lib/dungeon/dungeon.db")
    p.add_argument("--replica", required=True,
                   help="file:///path | sftp://user@host/path | s3://bucket/path")
    p.add_argument("--out", help="write here (e.g. /etc/dungeon/litestream.yml); default stdout")
    p.add_argument("--sync-interval", type=argtypes.count, default=1, metavar="S",
                   help="seconds between replica uploads: the most a crash can lose (default 1)")
    p.add_argument("--sftp-key", help="private key for an sftp replica")
    p.add_argument("--s3-endpoint", help="S3-compatible endpoint URL (MinIO, R2, B2...)")
    p.add_argument("--s3-region", help="S3 region")

    p = sub.add_parser("restore", help="restore the latest backup to a new file and verify it")
    p.add_argument("--to", required=True, help="path of the restored database (must not exist)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="a Litestream config naming one database")
    src.add_argument("--replica", help="a replica URL, e.g. file:///mnt/usb/dungeon")
    p.add_argument("--force", action="store_true", help="overwrite --to if it exists")
    p.add_argument("--no-replay", action="store_true", help="skip the replay digest check")
    p.add_argument("--json", action="store_true", help="print the verification as JSON")

    p = sub.add_parser("snapshot", help="copy the live database with VACUUM INTO, keeping the newest N")
    p.add_argument("--db", required=True, help="the node database")
    p.add_argument("--dir", required=True, help="snapshot directory")
    p.add_argument("--keep", type=argtypes.count, default=24, help="snapshots to keep per label (default 24)")
    p.add_argument("--label", default="manual",
                   help="why: manual, periodic, levelup, dm-edit... (default manual)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    from node import backup

    try:
        return {"config": _config, "restore": _restore, "snapshot": _snapshot}[args.action](args)
    except (backup.BackupError, OSError) as err:
        print(f"backup {args.action}: {err}", file=sys.stderr)
        return 1


def _config(args: argparse.Namespace) -> int:
    from node import backup

    text = backup.litestream_config(
        Path(args.db).absolute(), args.replica, sync_interval_s=args.sync_interval,
        sftp_key_path=args.sftp_key, s3_endpoint=args.s3_endpoint, s3_region=args.s3_region,
    )
    if not args.out:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.chmod(0o640)
    # Let Litestream itself parse what we wrote, so a bad config fails now, not at boot.
    backup.config_databases(out)
    print(f"wrote {out}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from node import backup
    from node.cli.progress import Progress

    phases = ["restoring", "verifying"]
    with Progress(len(phases), "restore") as bar:

        def step(name: str) -> None:
            bar.label = f"restore: {name}"
            bar.update(phases.index(name))

        report = backup.restore(args.to, config=args.config, replica=args.replica,
                                force=args.force, replay=not args.no_replay, step=step)
        bar.update(len(phases))
    v = report.verify
    if args.json:
        print(json.dumps({"ok": report.ok, "source": report.source, **asdict(v)}))
    else:
        print(f"restored {v.path} from {report.source}")
        print(f"integrity: {v.integrity}; events: {v.events} (max seq {v.max_seq}, "
              f"{'no gaps' if v.gapless else 'GAPS'})")
        if v.replay_ok is None:
            print("replay: not checked")
        else:
            print(f"replay: {'ok' if v.replay_ok else 'MISMATCH'} digest={v.digest} "
                  f"snapshot_digest={v.snapshot_digest}"
                  + (f" ({v.replay_error})" if v.replay_error else ""))
    if not report.ok:
        print(f"backup restore: {v.path} failed verification", file=sys.stderr)
        return 1
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from node import backup

    path = backup.snapshot(args.db, args.dir, keep=args.keep, label=args.label)
    kept = [str(p) for p in backup.list_snapshots(args.dir, args.label)]
    if args.json:
        print(json.dumps({"snapshot": str(path), "kept": kept}))
    else:
        print(f"snapshot {path} ({len(kept)} kept)")
    return 0
