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


DEFAULT_CONFIG_PATH = Path("/etc/dungeon/node.toml")
RADIO_KINDS = ("auto", "sim", "loopback", "serial", "tcp")


def _opt(default: Any = None, doc: str = "", **kw: Any) -> Any:
    """A config field whose `doc` is the comment the example file and `--help` show."""
    if "default_factory" in kw:
        return field(metadata={"doc": doc}, **kw)
    return field(default=default, metadata={"doc": doc}, **kw)


@dataclass
class NodeConfig:
    node_id: str = _opt("node-1", "this node's name in logs and on the relay")
    data_dir: Path = _opt(doc="where dungeon.db, control.sock and snapshots live",
                          default_factory=lambda: default_data_dir(os.environ))
    radio: str = _opt("auto", "auto (a USB radio if one is plugged in, else none) | loopback | "
                              "sim | serial[:PATH] | tcp:HOST[:PORT]")
    dungeon: str = _opt("crypt", "the dungeon a new session starts in: a bundled name or a "
                                 ".toml file's path")
    monsters_path: str | None = _opt(None, "a custom monster file (.toml/.json) or a folder of "
                                           "them, spawnable like SRD monsters (unset: none)")
    auto_approve: bool = _opt(False, "let radio players join without the DM approving")
    party_max: int = _opt(8, "auto-approve stops at this many characters; more wait for the DM")
    text_auth: str = _opt("channel", "who may act by text in a new session: channel (any "
                                     "game-channel text from a joined radio) | dm (only "
                                     "PKI direct messages or signed packets)")
    turn_timeout_s: float = _opt(90.0, "seconds before an absent player dodges and ends the turn")
    rate_per_s: float = _opt(1.0, "sustained commands per sender per second")
    rate_burst: int = _opt(5, "a short burst of commands a sender may spend at once")
    health_port: int | None = _opt(None, "serve /healthz and /metrics on this port (unset: off)")
    health_host: str = _opt("127.0.0.1", "address /healthz and /metrics listen on")
    relay_url: str | None = _opt(None, "the cloud relay (unset: play offline)")
    relay_secret: str | None = _opt(None, "this node's relay secret: environment or a 0600 "
                                          "file (relay_secret_file) only", repr=False)
    hmac_key: str | None = _opt(None, "key for binary clients' frames: environment or a 0600 "
                                      "file (hmac_key_file) only", repr=False)
    control_group: str | None = _opt(None, "a group whose members may open the DM console "
                                           "(control.sock becomes 0660); unset: owner only")
    game_channel: int = _opt(0, "the radio channel index the game talks on")
    snapshot_every: int = _opt(50, "commands between state snapshots")
    backup_interval_s: float = _opt(3600.0, "seconds between VACUUM INTO copies under "
                                            "<data_dir>/snapshots; 0 turns them off")
    backup_keep: int = _opt(24, "snapshot copies kept")
    region: str = _opt("EU_868", "the LoRa region the radio should be set to")
    preset: str = _opt("LONG_FAST", "the modem preset the radio should be set to")
    ai_budget_s: float = _opt(5.0, "seconds the monster AI may think per turn")
    ai_delay_s: float = _opt(0.5, "a beat before each monster turn so players can read along")
    coalesce_s: float = _opt(1.0, "how long public results gather before one broadcast")
    game_seed: int | None = _opt(None, "unset: a fresh random seed per session; set it for "
                                       "repeatable games")
    log_json: bool | None = _opt(None, "unset: JSON logs when not a terminal or under systemd")

    def _check_dungeon_file(self, known: list[str]) -> None:
        from node.session import new_game
        from rules.errors import RulesError

        if not self.dungeon.endswith(".toml"):
            raise ConfigError(f"no dungeon {self.dungeon[:40]!r}; the dungeons are "
                              f"{', '.join(known)}, or a .toml file's path")
        try:
            new_game(self.dungeon, monsters=self.monsters())
        except RulesError as err:
            raise ConfigError(str(err)) from None

    def monsters(self) -> list[dict[str, Any]]:
        """The checked custom stat blocks under monsters_path (none when unset)."""
        if not self.monsters_path:
            return []
        from node.monster_files import load_monsters
        from rules.errors import RulesError

        try:
            return load_monsters(Path(self.monsters_path))
        except RulesError as err:
            raise ConfigError(f"monsters_path: {err}") from None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "dungeon.db"

    @property
    def control_path(self) -> Path:
        return self.data_dir / "control.sock"

    def control_access(self) -> tuple[int, int]:
        """The control socket's mode and group id: owner only, or also `control_group`'s members.

        Under systemd the data dir is 0750 and owned by the service's group; a DM whose login
        is in that group (control_group = "dungeon") can then open the console (-1: no group).
        """
        if not self.control_group:
            return 0o600, -1
        import grp

        try:
            return 0o660, grp.getgrnam(self.control_group).gr_gid
        except KeyError:
            raise ConfigError(f"control_group {self.control_group!r} is not a group here; "
                              "create it or unset control_group") from None

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
        if self.radio.split(":", 1)[0] not in RADIO_KINDS:
            raise ConfigError(f"radio {self.radio!r}: use {_doc('radio')}")
        known = bundled_dungeons()
        if known and self.dungeon not in known:
            self._check_dungeon_file(known)
        self.monsters()
        self.control_access()
        if not 0 <= self.game_channel <= 7:
            raise ConfigError(f"game_channel {self.game_channel} is not a channel index 0-7")
        return self


def bundled_dungeons() -> list[str]:
    """The names `dungeon` may take: the sample dungeons shipped with the rules."""
    from rules.dungeon import bundled_names

    return bundled_names()


def _doc(name: str) -> str:
    return FIELDS[name].metadata.get("doc", "")


FIELDS: dict[str, dataclasses.Field[Any]] = {f.name: f for f in dataclasses.fields(NodeConfig)}


def default_data_dir(env: Mapping[str, str]) -> Path:
    if env.get("DUNGEON_DATA_DIR"):
        return Path(env["DUNGEON_DATA_DIR"])
    if env.get("INVOCATION_ID"):  # systemd sets it for every unit it starts
        return Path("/var/lib/dungeon")
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "dungeon"


def env_var(name: str) -> str:
    """The environment variable for option `name`: DUNGEON_ and the name in capitals."""
    return f"DUNGEON_{name.upper()}"


# environment variable -> option, one for every field; secrets come only from here or a 0600 file
_ENV: dict[str, str] = {env_var(name): name for name in FIELDS}
_SECRETS = ("relay_secret", "hmac_key")
_SERVICE_EXAMPLE = {"radio": "serial", "health_port": 9464, "data_dir": "/var/lib/dungeon",
                    "control_group": "dungeon"}


def example_toml(values: Mapping[str, Any] | None = None) -> str:
    """An annotated node.toml listing every option, generated from NodeConfig's fields.

    Options in `values` are written set; the rest are commented out at their defaults.
    """
    values = values or {}
    lines = ["# Distributed Dungeon node configuration (dungeon node --config FILE; by default",
             f"# {DEFAULT_CONFIG_PATH}). Every option also has an environment variable,",
             "# DUNGEON_<OPTION> in capitals (DUNGEON_TURN_TIMEOUT_S=60), which wins over",
             "# this file; command-line flags win over both.", "[node]"]
    for name, f in FIELDS.items():
        lines.append(f"# {f.metadata.get('doc', '')}")
        if name in _SECRETS:
            lines.append(f'# {name}_file = "/etc/dungeon/{name.replace("_", "-")}"  '
                         f"# or {env_var(name)} / {env_var(name)}_FILE")
            continue
        default = f.default if f.default is not dataclasses.MISSING else None
        if name in values:
            lines.append(f"{name} = {_toml_value(values[name])}")
        else:
            shown = _toml_value(default) if default is not None else "(unset)"
            lines.append(f"# {name} = {shown}")
    return "\n".join(lines) + "\n"


def service_example() -> str:
    """The node.toml `dungeon install-service` writes: the example with the service's values."""
    return example_toml(_SERVICE_EXAMPLE)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_config_path(env: Mapping[str, str]) -> Path | None:
    """$DUNGEON_CONFIG, else /etc/dungeon/node.toml when it exists, else no file."""
    if env.get("DUNGEON_CONFIG"):
        return Path(env["DUNGEON_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def radio_mismatches(cfg: NodeConfig, region: str, preset: str) -> list[str]:
    """One line for each way the radio's real settings differ from the configuration."""
    out = []
    if region != cfg.region:
        out.append(f"the radio's region is {region} but the config says {cfg.region}; "
                   f"set one to the other (meshtastic --set lora.region {cfg.region})")
    if preset != cfg.preset:
        from node.radio.firmware import effective_preset

        if effective_preset(region, cfg.preset) != cfg.preset:
            # RadioInterface.cpp:801-826: EU_868 is too narrow for the 500 kHz Turbo presets.
            out.append(f"the radio runs {preset}: {region} is too narrow for {cfg.preset}, "
                       f"so the firmware falls back; set the config's preset to {preset}")
        else:
            out.append(f"the radio's preset is {preset} but the config says {cfg.preset}; "
                       f"players on {cfg.preset} will not hear it "
                       f"(meshtastic --set lora.modem_preset {cfg.preset})")
    return out


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
    f = FIELDS.get(name)
    if f is None:
        import difflib

        close = difflib.get_close_matches(name, list(FIELDS), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else f"; options are {', '.join(FIELDS)}"
        raise ConfigError(f"unknown option {name!r}{hint}")
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
    """File, then environment, then explicit overrides (command-line flags) win.

    With no `path`, the file is $DUNGEON_CONFIG or /etc/dungeon/node.toml when present.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path is None:
        path = default_config_path(env)
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
