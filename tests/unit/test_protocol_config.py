import pytest

from protocol.config import REQUIRED, ConfigError, Option, load, positive

OPTIONS = (
    Option("agent", "robot_id", str, REQUIRED, "robot id"),
    Option("agent", "interval_s", int, 10, "window length", positive),
    Option("mqtt", "tls", bool, False, "use TLS"),
)


def test_config_env_overrides_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[agent]\nrobot_id = "r1"\ninterval_s = 5\n')
    cfg = load(path, OPTIONS, env={"ROBOPULSE_AGENT_INTERVAL_S": "7", "ROBOPULSE_MQTT_TLS": "yes"})
    assert cfg == {"agent": {"robot_id": "r1", "interval_s": 7}, "mqtt": {"tls": True}}


@pytest.mark.parametrize("text,key", [
    ('[agent]\ninterval_s = 5\n', "agent.robot_id"),
    ('[agent]\nrobot_id = "r"\ninterval_s = 0\n', "agent.interval_s"),
    ('[agent]\nrobot_id = "r"\ninterval_s = "x"\n', "agent.interval_s"),
    ('[agent]\nrobot_id = "r"\ncolour = 1\n', "agent.colour"),
    ('[bogus]\n', "bogus"),
    ('[agent\n', "file"),
])
def test_config_errors_name_the_key(tmp_path, text, key):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load(path, OPTIONS, env={})
    assert exc.value.key == key


def test_config_collector_refuses_rollups_kept_shorter_than_health_reads(tmp_path):
    """Health reads the last 30 complete days of rollups: keeping fewer would make its usage trends
    silently wrong, so the collector refuses to start, saying why."""
    from collector.config import load as load_collector

    path = tmp_path / "c.toml"
    path.write_text("[collector]\nrollup_retention_days = 7\n")
    with pytest.raises(ConfigError) as exc:
        load_collector(path, env={})
    assert exc.value.key == "collector.rollup_retention_days"
    assert "at least 31" in str(exc.value) and "30 complete days" in str(exc.value)
    path.write_text("[collector]\nrollup_retention_days = 31\n")
    assert load_collector(path, env={})["collector"]["rollup_retention_days"] == 31
