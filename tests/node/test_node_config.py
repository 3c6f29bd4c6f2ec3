"""Configuration: defaults, environment, TOML, secrets only from 0600 files or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.config import ConfigError, default_data_dir, load_config


def test_data_dir_defaults(tmp_path):
    assert default_data_dir({"DUNGEON_DATA_DIR": "/x"}) == Path("/x")
    assert default_data_dir({"INVOCATION_ID": "abc"}) == Path("/var/lib/dungeon")
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "dungeon"


def test_env_then_flags(tmp_path):
    env = {"DUNGEON_DATA_DIR": str(tmp_path), "DUNGEON_RADIO": "tcp:127.0.0.1:4403",
           "DUNGEON_AUTO_APPROVE": "yes", "DUNGEON_NODE_ID": "pi-1"}
    cfg = load_config(env=env)
    assert cfg.radio == "tcp:127.0.0.1:4403" and cfg.auto_approve is True
    assert cfg.node_id == "pi-1" and cfg.db_path == tmp_path / "dungeon.db"
    assert load_config(env=env, radio="loopback").radio == "loopback"
    assert cfg.auto_approve is True and load_config(env={}, data_dir=tmp_path).auto_approve is False


def test_toml_file_and_errors(tmp_path):
    f = tmp_path / "node.toml"
    f.write_text('[node]\nnode_id = "cellar"\nturn_timeout_s = 30\nhealth_port = 9464\n')
    cfg = load_config(f, env={}, data_dir=tmp_path)
    assert (cfg.node_id, cfg.turn_timeout_s, cfg.health_port) == ("cellar", 30.0, 9464)
    f.write_text('[node]\nturn_timeout_s = "soon"\n')
    with pytest.raises(ConfigError, match="turn_timeout_s"):
        load_config(f, env={})
    f.write_text('[node]\nradio = "carrier-pigeon"\n')
    with pytest.raises(ConfigError, match="radio"):
        load_config(f, env={})
    f.write_text('[node]\nrelay_secret = "hunter2"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_config(f, env={})


def test_secret_file_must_be_0600(tmp_path):
    secret = tmp_path / "relay.secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as err:
        load_config(env={"DUNGEON_RELAY_SECRET_FILE": str(secret)}, data_dir=tmp_path)
    assert "\n" not in str(err.value)
    secret.chmod(0o600)
    cfg = load_config(env={"DUNGEON_RELAY_SECRET_FILE": str(secret)}, data_dir=tmp_path)
    assert cfg.relay_secret == "s3cret"
    assert "s3cret" not in repr(cfg)
