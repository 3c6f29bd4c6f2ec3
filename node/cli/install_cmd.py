"""`dungeon install-service`: write the systemd units for this install and enable them."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

HELP = "install and enable the systemd units (node, litestream backup, optional relay)"

UNITS = ("dungeon-node.service", "dungeon-litestream.service", "dungeon-relay.service")
DEFAULT_PREFIX = "/opt/dungeon"
DEFAULT_USER = "dungeon"
DEFAULT_ETC = "/etc/dungeon"
CONFIG_NAME = "node.toml"
_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")  # what useradd accepts on Debian, minus '$'


class InstallError(Exception):
    """A one-line reason the units could not be installed."""


@dataclass
class Plan:
    unit_dir: str
    prefix: str
    user: str
    written: list[str] = field(default_factory=list)
    config: str = ""  # the node.toml the node unit reads
    config_written: bool = False  # False: it existed (kept as is) or a dry run skipped it
    commands: list[list[str]] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default=DEFAULT_USER, help="system user the services run as")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX,
                        help="install prefix holding venv/ (default %(default)s)")
    parser.add_argument("--unit-dir", default="/etc/systemd/system",
                        help="where to write the units (default %(default)s)")
    parser.add_argument("--units-from", default=None,
                        help="directory with the unit templates (default: the source checkout's systemd/)")
    parser.add_argument("--etc-dir", default=DEFAULT_ETC,
                        help="where node.toml is written if absent (default %(default)s, which "
                             "the units read); with --dry-run it is written only when given")
    parser.add_argument("--dm-user", action="append", default=[], metavar="LOGIN",
                        help="a login that may open the DM console (`dungeon tui`): added to the "
                             "service's group; repeat for more")
    parser.add_argument("--relay", action="store_true",
                        help="also enable dungeon-relay.service (usually on the relay host, not the Pi)")
    parser.add_argument("--now", action="store_true", help="start the enabled units as well")
    parser.add_argument("--dry-run", action="store_true",
                        help="write the units but run no systemctl/useradd; print the commands")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def template_source(explicit: str | None = None) -> Path:
    """The directory holding the unit templates: explicit, the checkout's, or ./systemd."""
    candidates = [Path(explicit)] if explicit else [
        Path(__file__).resolve().parents[2] / "systemd",
        Path.cwd() / "systemd",
    ]
    for c in candidates:
        if (c / UNITS[0]).is_file():
            return c
    raise InstallError(
        f"no unit templates in {', '.join(map(str, candidates))}; pass --units-from DIR"
    )


def render_unit(text: str, *, prefix: str, user: str, group: str | None = None) -> str:
    """A unit template with the install prefix and the service user substituted."""
    prefix = prefix.rstrip("/") or "/"
    out = text.replace(DEFAULT_PREFIX + "/", prefix.rstrip("/") + "/")
    out = re.sub(r"(?m)^User=.*$", f"User={user}", out)
    return re.sub(r"(?m)^Group=.*$", f"Group={group or user}", out)


def validate(prefix: str, user: str) -> None:
    if not _NAME.match(user):
        raise InstallError(f"invalid user name {user!r}")
    if not prefix.startswith("/") or re.search(r"[\s%$\\\"']", prefix):
        raise InstallError(f"prefix must be an absolute path without spaces or quotes: {prefix!r}")


def plan_and_write(
    *,
    prefix: str,
    user: str,
    unit_dir: Path,
    source: Path,
    relay: bool = False,
    now: bool = False,
    dry_run: bool = False,
    etc_dir: Path | None = None,
    dm_users: list[str] | None = None,
) -> Plan:
    """Write the rendered units (and node.toml, if absent) and list the commands that enable them.

    etc_dir None: node.toml's place is the default one, planned but not written (a dry run).
    """
    import pwd

    validate(prefix, user)
    for login in dm_users or []:
        if not _NAME.match(login):
            raise InstallError(f"invalid login name {login!r}")
    plan = Plan(unit_dir=str(unit_dir), prefix=prefix, user=user, dry_run=dry_run)
    try:
        pw = pwd.getpwnam(user)
        import grp

        group = grp.getgrgid(pw.pw_gid).gr_name
    except KeyError:
        group = user
        plan.commands.append(["useradd", "--system", "--user-group", "--home-dir",
                              "/var/lib/dungeon", "--no-create-home",
                              "--shell", "/usr/sbin/nologin", user])
    exe = Path(prefix) / "venv" / "bin" / "dungeon"
    if not os.access(exe, os.X_OK):
        plan.warnings.append(f"{exe} does not exist yet; install the venv before starting")
    unit_dir.mkdir(parents=True, exist_ok=True)
    for name in UNITS:
        text = render_unit((source / name).read_text(), prefix=prefix, user=user, group=group)
        dest = unit_dir / name
        tmp = dest.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o644)
        os.replace(tmp, dest)
        plan.written.append(str(dest))
    config = Path(etc_dir or DEFAULT_ETC) / CONFIG_NAME
    plan.config = str(config)
    if etc_dir is not None and not config.exists():
        _write_config(config, group)
        plan.config_written = True
    for login in dm_users or []:
        # The node's socket is 0660 in this group (control_group); the data dir is 0750.
        plan.commands.append(["usermod", "--append", "--groups", group, login])
    enable = [UNITS[0], UNITS[1]] + ([UNITS[2]] if relay else [])
    plan.commands.append(["systemctl", "daemon-reload"])
    plan.commands.append(["systemctl", "enable", *(["--now"] if now else []), *enable])
    return plan


def _write_config(path: Path, group: str) -> None:
    """node.toml with the service's settings and every other option commented out.

    Mode 0644: the file may hold no secrets (those come from 0600 files), and the service
    user and a DM's `dungeon tui` both read it to find the node's data dir.
    """
    from node.config import service_example

    path.parent.mkdir(parents=True, exist_ok=True)
    text = service_example().replace('control_group = "dungeon"', f'control_group = "{group}"')
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    try:
        if not args.dry_run and os.geteuid() != 0:
            raise InstallError("must run as root (try: sudo dungeon install-service ...), or use --dry-run")
        plan = plan_and_write(
            prefix=args.prefix, user=args.user, unit_dir=Path(args.unit_dir),
            source=template_source(args.units_from), relay=args.relay, now=args.now,
            dry_run=args.dry_run, dm_users=args.dm_user,
            etc_dir=Path(args.etc_dir) if not args.dry_run or args.etc_dir != DEFAULT_ETC
            else None,
        )
        if not args.dry_run:
            for cmd in plan.commands:
                if shutil.which(cmd[0]) is None:
                    raise InstallError(f"{cmd[0]} not found; is this a systemd host?")
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                    raise InstallError(f"{' '.join(cmd)} failed: {last}")
    except (InstallError, OSError) as err:
        print(f"install-service: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(plan)))
        return 0
    for w in plan.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for path in plan.written:
        print(f"wrote {path}")
    if plan.config_written:
        print(f"wrote {plan.config} (edit radio, region, preset there)")
    else:
        print(f"{'kept' if Path(plan.config).exists() else 'would write'} {plan.config}")
    for cmd in plan.commands:
        print(("would run: " if args.dry_run else "ran: ") + " ".join(cmd))
    return 0
