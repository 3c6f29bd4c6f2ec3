"""The node's configuration: a TOML file plus environment, validated once at start-up."""

from __future__ import annotations

import dataclasses
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration problem; str(err) is one line naming the option and the fix."""


@dataclass
class NodeConfig:
    node_id: str = "node-1"
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    radio: str = "loopback"
    dungeon: str = "crypt"
    auto_approve: bool = False
    party_max: int = 8  # auto-approve stops at this many characters; more wait for the DM
    text_auth: str = "channel"  # a new session's: "channel" (any game-channel text) | "dm"
    turn_timeout_s: float = 90.0
    rate_per_s: float = 1.0  # sustained commands per sender per second
    rate_burst: int = 5  # a short burst a sender may spend at once
    health_port: int | None = None
    health_host: str = "127.0.0.1"
    relay_url: str | None = None
    relay_secret: str | None = field(default=None, repr=False)
    hmac_key: str | None = field(default=None, repr=False)
    game_channel: int = 0
    snapshot_every: int = 50
    backup_interval_s: float = 3600.0  # VACUUM INTO copies under <data_dir>/snapshots; 0 turns off
    backup_keep: int = 24
    region: str = "EU_868"
    preset: str = "LONG_FAST"
    ai_budget_s: float = 5.0
    ai_delay_s: float = 0.5  # a beat before each monster turn so players can read along
    coalesce_s: float = 1.0  # how long public results gather before one broadcast
    game_seed: int | None = None  # None: a fresh random seed per session; set it for repeatable sims
    log_json: bool | None = None  # None: JSON when not a terminal or under systemd

    @property
    def db_path(self) -> Path:
        return self.data_dir / "dungeon.db"

    @property
    def control_path(self) -> Path:
        return self.data_dir / "control.sock"

    def validate(self) -> NodeConfig:
        if not self.node_id or len(self.node_id) > 64:
            raise ConfigError("node_id must be 1-64 characters")
        if self.turn_timeout_s <= 0:
            raise ConfigError("turn_timeout_s must be positive")
        if self.rate_per_s <= 0 or self.rate_burst < 1:
            raise ConfigError("rate_per_s must be positive and rate_burst at least 1")
        if self.health_port is not None and not 0 <= self.health_port <= 65535:
            raise ConfigError(f"health_port {self.health_port} is not a TCP port")
        if self.backup_interval_s < 0 or self.backup_keep < 1:
            raise ConfigError("backup_interval_s must be >= 0 and backup_keep at least 1")
        if self.party_max < 1:
            raise ConfigError("party_max must be at least 1")
        if self.text_auth not in ("channel", "dm"):
            raise ConfigError(f"text_auth {self.text_auth!r}: use channel or dm")
        if self.snapshot_every < 1:
            raise ConfigError("snapshot_every must be at least 1")
        if not self.radio:
            raise ConfigError("radio must name a transport: sim|loopback|serial[:PATH]|tcp:HOST[:PORT]")
        kind = self.radio.split(":", 1)[0]
        if kind not in ("sim", "loopback", "serial", "tcp"):
            raise ConfigError(f"radio {self.radio!r}: use sim|loopback|serial[:PATH]|tcp:HOST[:PORT]")
        return self


def default_data_dir(env: Mapping[str, str]) -> Path:
    if env.get("DUNGEON_DATA_DIR"):
        return Path(env["DUNGEON_DATA_DIR"])
    if env.get("INVOCATION_ID"):  # systemd sets it for every unit it starts
        return Path("/var/lib/dungeon")
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "dungeon"


# environment variable -> option; secrets come only from here or a 0600 file
_ENV: dict[str, str] = {
    "DUNGEON_NODE_ID": "node_id",
    "DUNGEON_RADIO": "radio",
    "DUNGEON_DUNGEON": "dungeon",
    "DUNGEON_AUTO_APPROVE": "auto_approve",
    "DUNGEON_PARTY_MAX": "party_max",
    "DUNGEON_TEXT_AUTH": "text_auth",
    "DUNGEON_TURN_TIMEOUT_S": "turn_timeout_s",
    "DUNGEON_HEALTH_PORT": "health_port",
    "DUNGEON_RELAY_URL": "relay_url",
    "DUNGEON_RELAY_SECRET": "relay_secret",
    "DUNGEON_HMAC_KEY": "hmac_key",
}
_SECRETS = ("relay_secret", "hmac_key")


def read_secret_file(path: Path) -> str:
    """A secret from a file readable by its owner only; wider modes are refused."""
    try:
        st = path.stat()
    except OSError as err:
        raise ConfigError(f"secret file {path}: {err.strerror}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise ConfigError(
            f"secret file {path} has mode {stat.S_IMODE(st.st_mode):o}; run: chmod 600 {path}"
        )
    return path.read_text(encoding="utf-8").strip()


def _coerce(name: str, value: Any) -> Any:
    f = {f.name: f for f in dataclasses.fields(NodeConfig)}.get(name)
    if f is None:
        raise ConfigError(f"unknown option {name!r}")
    kind = str(f.type)
    try:
        if value is None:
            return None
        if "Path" in kind:
            return Path(str(value)).expanduser()
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind.startswith("int"):
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"option {name}: {value!r} is not a valid {kind}") from None


def load_config(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> NodeConfig:
    """File, then environment, then explicit overrides (command-line flags) win."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"config {p}: {err.strerror}") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config {p}: {err}") from None
        raw = raw.get("node", raw)
        for key, value in raw.items():
            if key in _SECRETS:
                raise ConfigError(f"config {p}: put {key} in the environment or {key}_file (mode 0600)")
            if key.endswith("_file") and key[:-5] in _SECRETS:
                values[key[:-5]] = read_secret_file(Path(value).expanduser())
                continue
            values[key] = _coerce(key, value)
    for var, name in _ENV.items():
        if env.get(var):
            values[name] = _coerce(name, env[var])
    for name in _SECRETS:
        file_var = f"DUNGEON_{name.upper()}_FILE"
        if env.get(file_var):
            values[name] = read_secret_file(Path(env[file_var]))
    for key, value in overrides.items():
        if value is not None:
            values[key] = _coerce(key, value)
    if "data_dir" not in values:
        values["data_dir"] = default_data_dir(env)
    return NodeConfig(**values).validate()
