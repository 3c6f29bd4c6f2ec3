"""The systemd units pass `systemd-analyze verify` and carry the hardening we promise."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from node.cli import main
from node.cli.install_cmd import UNITS, render_unit

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
# The venv's executables do not exist on a test host; everything else must be clean.
IGNORED = ("is not executable", "not found", "No such file")


def _directives(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _verify(paths: list[Path]) -> list[str]:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run([exe, "verify", *map(str, paths)], capture_output=True, text=True,
                          timeout=60)
    lines = (proc.stdout + proc.stderr).splitlines()
    return [line for line in lines if line.strip() and not any(s in line for s in IGNORED)]


def test_shipped_units_verify_clean():
    assert _verify([SYSTEMD_DIR / u for u in UNITS]) == []


def test_verify_catches_a_broken_unit(tmp_path):
    # The check must be able to fail: a misspelt directive is reported.
    bad = tmp_path / "dungeon-node.service"
    bad.write_text((SYSTEMD_DIR / UNITS[0]).read_text().replace("Restart=", "Restrat="))
    assert any("Restrat" in line for line in _verify([bad]))


@pytest.mark.parametrize("unit", UNITS)
def test_every_unit_is_hardened_and_runs_from_the_venv(unit):
    d = _directives(SYSTEMD_DIR / unit)
    assert d["ExecStart"][0].startswith("/opt/dungeon/venv/bin/")
    assert d["Restart"] == ["on-failure"]
    assert d["ProtectSystem"] == ["strict"]
    assert d["ReadWritePaths"] == ["/var/lib/dungeon"]
    assert d["NoNewPrivileges"] == ["yes"]
    assert d["PrivateTmp"] == ["yes"]
    assert d["User"] == ["dungeon"]
    assert d["StateDirectory"] == ["dungeon"]
    assert d["StartLimitIntervalSec"] == ["0"]  # a field node keeps retrying, never gives up


def test_node_unit_has_serial_access_and_watchdog():
    d = _directives(SYSTEMD_DIR / "dungeon-node.service")
    assert d["SupplementaryGroups"] == ["dialout"]
    assert d["Type"] == ["notify"]
    assert int(d["WatchdogSec"][0]) > 0
    assert d["ExecStart"][0].split()[:2] == ["/opt/dungeon/venv/bin/dungeon", "node"]
    # /dev/ttyUSB0 must stay visible to the node.
    assert "PrivateDevices" not in d


def test_litestream_unit_runs_the_venv_binary_with_our_config():
    d = _directives(SYSTEMD_DIR / "dungeon-litestream.service")
    assert d["ExecStart"] == [
        "/opt/dungeon/venv/bin/litestream replicate -config /etc/dungeon/litestream.yml"
    ]
    assert d["UnsetEnvironment"] == ["AWS_CA_BUNDLE"]


def test_render_substitutes_prefix_and_user():
    text = (SYSTEMD_DIR / "dungeon-node.service").read_text()
    out = render_unit(text, prefix="/srv/dd/", user="gm", group="games")
    assert "/opt/dungeon" not in out
    assert "ExecStart=/srv/dd/venv/bin/dungeon node" in out
    assert "\nUser=gm\n" in out and "\nGroup=games\n" in out
    assert "ReadWritePaths=/var/lib/dungeon" in out


def test_install_dry_run_writes_units_that_verify(tmp_path, capsys):
    unit_dir = tmp_path / "units"
    rc = main(["install-service", "--user", "dgn-test", "--prefix", "/srv/dungeon",
               "--unit-dir", str(unit_dir), "--dry-run", "--json"])
    assert rc == 0
    plan = json.loads(capsys.readouterr().out)
    assert sorted(Path(p).name for p in plan["written"]) == sorted(UNITS)
    assert ["systemctl", "daemon-reload"] in plan["commands"]
    enable = plan["commands"][-1]
    assert enable[:2] == ["systemctl", "enable"] and "dungeon-relay.service" not in enable
    node = (unit_dir / "dungeon-node.service").read_text()
    assert "ExecStart=/srv/dungeon/venv/bin/dungeon node" in node
    assert "\nUser=dgn-test\n" in node
    assert _verify(sorted(unit_dir.iterdir())) == []


def test_install_plans_useradd_for_a_missing_user(tmp_path, capsys):
    rc = main(["install-service", "--user", "dgn-no-such-user", "--unit-dir", str(tmp_path),
               "--dry-run", "--relay", "--now"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "would run: useradd --system" in out
    assert "would run: systemctl enable --now dungeon-node.service dungeon-litestream.service " \
           "dungeon-relay.service" in out


def test_install_refuses_without_root(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    rc = main(["install-service", "--user", "dungeon", "--unit-dir", str(tmp_path)])
    assert rc == 1
    err = capsys.readouterr().err.strip()
    assert "must run as root" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [["--user", "Root Kit"], ["--prefix", "relative/path"],
                                 ["--prefix", "/opt/my dungeon"]])
def test_install_rejects_unsafe_values(tmp_path, capsys, bad):
    rc = main(["install-service", "--unit-dir", str(tmp_path), "--dry-run", *bad])
    assert rc == 1
    assert capsys.readouterr().err.startswith("install-service: ")


def test_node_unit_reads_the_config_file_and_sets_nothing_it_would_override():
    d = _directives(SYSTEMD_DIR / "dungeon-node.service")
    assert d["ExecStart"] == ["/opt/dungeon/venv/bin/dungeon node --config /etc/dungeon/node.toml"]
    # environment beats the file, so the unit itself must not set options
    assert not any("DUNGEON_" in e for e in d.get("Environment", []))


def test_relay_unit_is_notify_with_a_watchdog():
    d = _directives(SYSTEMD_DIR / "dungeon-relay.service")
    assert d["Type"] == ["notify"] and d["NotifyAccess"] == ["main"]
    assert int(d["WatchdogSec"][0]) > 0


def test_install_writes_a_node_toml_and_lets_the_dm_in(tmp_path, capsys):
    import grp
    import os
    import tomllib

    group = grp.getgrgid(os.getgid()).gr_name
    user = next(u for u in ("root", os.environ.get("USER", "")) if u)
    etc = tmp_path / "etc"
    rc = main(["install-service", "--user", user, "--unit-dir", str(tmp_path / "units"),
               "--etc-dir", str(etc), "--dm-user", "gm", "--dry-run", "--json"])
    assert rc == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["config_written"] and plan["config"] == str(etc / "node.toml")
    cfg = tomllib.loads((etc / "node.toml").read_text())["node"]
    assert cfg["radio"] == "serial" and cfg["data_dir"] == "/var/lib/dungeon"
    assert cfg["control_group"] == grp.getgrgid(__import__("pwd").getpwnam(user).pw_gid).gr_name
    assert (etc / "node.toml").stat().st_mode & 0o777 == 0o644
    assert ["usermod", "--append", "--groups", cfg["control_group"], "gm"] in plan["commands"]
    assert group  # the test user's group exists, so the config validates on this machine
    # an existing file is kept as the admin edited it
    (etc / "node.toml").write_text("[node]\n")
    main(["install-service", "--user", user, "--unit-dir", str(tmp_path / "units"),
          "--etc-dir", str(etc), "--dry-run"])
    assert "kept " + str(etc / "node.toml") in capsys.readouterr().out
    assert (etc / "node.toml").read_text() == "[node]\n"
