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


def test_every_option_has_an_environment_variable_named_after_it(tmp_path):
    import dataclasses

    from node.config import NodeConfig, env_var

    env = {"DUNGEON_GAME_CHANNEL": "2", "DUNGEON_PRESET": "MEDIUM_FAST", "DUNGEON_REGION": "US",
           "DUNGEON_SNAPSHOT_EVERY": "7", "DUNGEON_LOG_JSON": "no", "DUNGEON_GAME_SEED": "11"}
    cfg = load_config(env=env, data_dir=tmp_path)
    assert (cfg.game_channel, cfg.preset, cfg.region) == (2, "MEDIUM_FAST", "US")
    assert (cfg.snapshot_every, cfg.log_json, cfg.game_seed) == (7, False, 11)
    names = [f.name for f in dataclasses.fields(NodeConfig)]
    assert {env_var(n) for n in names} >= set(env)
    assert env_var("turn_timeout_s") == "DUNGEON_TURN_TIMEOUT_S"


def test_unknown_options_get_a_suggestion(tmp_path):
    f = tmp_path / "node.toml"
    f.write_text("[node]\nturn_timeout = 30\n")
    with pytest.raises(ConfigError) as err:
        load_config(f, env={})
    assert str(err.value) == "unknown option 'turn_timeout'; did you mean 'turn_timeout_s'?"
    f.write_text("[node]\nzzz = 1\n")
    with pytest.raises(ConfigError, match="options are node_id, data_dir, radio"):
        load_config(f, env={})


def test_the_example_lists_every_option_and_loads(tmp_path):
    import dataclasses
    import tomllib

    from node.config import NodeConfig, example_toml, service_example

    text = example_toml()
    for f in dataclasses.fields(NodeConfig):
        assert f"# {f.name}" in text or f"# {f.name}_file" in text, f.name
        assert f.metadata.get("doc"), f"{f.name} has no comment"
    assert tomllib.loads(text) == {"node": {}}  # everything commented out: all defaults
    import grp
    import os

    service = tmp_path / "node.toml"
    mine = grp.getgrgid(os.getgid()).gr_name  # the service's group, here
    service.write_text(service_example().replace('"dungeon"', f'"{mine}"'))
    assert tomllib.loads(service.read_text())["node"]["radio"] == "serial"
    cfg = load_config(service, env={})
    assert (cfg.radio, cfg.health_port) == ("serial", 9464)
    assert cfg.data_dir == Path("/var/lib/dungeon")


def test_default_config_path_and_dungeon_names(tmp_path):
    f = tmp_path / "elsewhere.toml"
    f.write_text('[node]\nnode_id = "from-env-path"\n')
    assert load_config(env={"DUNGEON_CONFIG": str(f)}, data_dir=tmp_path).node_id == "from-env-path"
    with pytest.raises(ConfigError, match="no dungeon 'nowhere'; the dungeons are crypt"):
        load_config(env={}, data_dir=tmp_path, dungeon="nowhere")


def test_control_group_opens_the_socket_to_a_group(tmp_path):
    import grp
    import os

    mine = grp.getgrgid(os.getgid()).gr_name
    cfg = load_config(env={"DUNGEON_CONTROL_GROUP": mine}, data_dir=tmp_path)
    assert cfg.control_access() == (0o660, os.getgid())
    assert load_config(env={}, data_dir=tmp_path).control_access() == (0o600, -1)
    with pytest.raises(ConfigError, match="control_group 'no-such-group-x' is not a group"):
        load_config(env={"DUNGEON_CONTROL_GROUP": "no-such-group-x"}, data_dir=tmp_path)


def test_radio_settings_that_differ_from_the_config_are_named(tmp_path):
    from node.config import radio_mismatches

    cfg = load_config(env={}, data_dir=tmp_path, region="EU_868", preset="LONG_FAST")
    assert radio_mismatches(cfg, "EU_868", "LONG_FAST") == []
    found = radio_mismatches(cfg, "US", "SHORT_FAST")
    assert found[0].startswith("the radio's region is US but the config says EU_868")
    assert found[1].startswith("the radio's preset is SHORT_FAST but the config says LONG_FAST")


def test_the_shipped_example_file_is_the_generated_one():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "tools" / "node_toml_example.py"),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = (root / "systemd" / "node.toml.example").read_text()
    import dataclasses

    from node.config import NodeConfig

    for f in dataclasses.fields(NodeConfig):
        assert f.name in text, f"{f.name} is missing from systemd/node.toml.example"
