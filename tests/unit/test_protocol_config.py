import pytest

from protocol.config import REQUIRED, ConfigError, Option, Values, load, positive

OPTIONS = (
    Option("agent", "robot_id", str, REQUIRED, "robot id"),
    Option("agent", "interval_s", int, 10, "window length", positive),
    Option("mqtt", "tls", bool, False, "use TLS"),
)


def test_config_env_overrides_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[agent]\nrobot_id = "r1"\ninterval_s = 5\n')
    cfg = load(path, OPTIONS, env={"ROBOPULSE_AGENT_INTERVAL_S": "7", "ROBOPULSE_MQTT_TLS": "yes"})
    assert cfg == Values(agent=Values(robot_id="r1", interval_s=7), mqtt=Values(tls=True))


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
    assert load_collector(path, env={}).collector.rollup_retention_days == 31


def test_config_results_are_frozen_records_read_by_attribute(tmp_path):
    import pickle

    path = tmp_path / "c.toml"
    path.write_text('[agent]\nrobot_id = "r1"\n')
    cfg = load(path, OPTIONS, env={})
    assert cfg.agent.robot_id == "r1" and cfg.agent.interval_s == 10 and cfg.mqtt.tls is False
    with pytest.raises(AttributeError):
        cfg.agent.interval_s = 5
    with pytest.raises(AttributeError):
        cfg.agent.colour
    with pytest.raises(TypeError):
        cfg["agent"]["interval_s"] = 5
    assert pickle.loads(pickle.dumps(cfg)) == cfg  # the writer process gets its config pickled
    # attribute access only: a read written against the former nested dicts fails loudly
    with pytest.raises(TypeError):
        cfg["agent"]
    with pytest.raises(TypeError):
        "interval_s" in cfg.agent
    with pytest.raises(AttributeError):
        cfg.agent.get("interval_s")
    assert cfg.agent.as_dict() == {"robot_id": "r1", "interval_s": 10}  # listing the options: explicit


def test_config_list_of_tables_becomes_records_and_errors_name_the_entry():
    from collector.config import load_mapping

    tokens = [{"token": "viewer-token-1"}, {"token": "admin-token-1", "role": "admin", "name": "ops"}]
    cfg = load_mapping({"http": {"tokens": tokens, "cors_origins": ["https://a.example"]}})
    assert [(t.token, t.role, t.name) for t in cfg.http.tokens] == [
        ("viewer-token-1", "viewer", "token0"), ("admin-token-1", "admin", "ops")]
    assert cfg.http.cors_origins == ("https://a.example",)
    for bad, key in [([{"token": "short"}], "http.tokens[0].token"),
                     ([{"token": "long-enough", "role": "root"}], "http.tokens[0].role"),
                     ([{"token": "long-enough", "colour": 1}], "http.tokens[0].colour"),
                     ([{"role": "admin"}], "http.tokens[0].token"),
                     (["x"], "http.tokens[0]")]:
        with pytest.raises(ConfigError) as exc:
            load_mapping({"http": {"tokens": bad}})
        assert exc.value.key == key


def test_config_mqtt_options_are_declared_once():
    """The agent and the collector share the [mqtt] rows (only host and keepalive defaults differ),
    so they accept and refuse the same values and document them alike."""
    from agent.config import OPTIONS as AGENT
    from agent.config import build_config
    from collector.config import OPTIONS as COLLECTOR
    from collector.config import load_mapping
    from protocol.mqtt_options import mqtt_options

    agent = {o.key: o for o in AGENT if o.section == "mqtt"}
    collector = {o.key: o for o in COLLECTOR if o.section == "mqtt"}
    for o in mqtt_options("h", 30, "k"):
        assert agent[o.key].type is collector[o.key].type is o.type, o.key
        assert o.key == "keepalive_s" or agent[o.key].doc == collector[o.key].doc == o.doc, o.key
    ids = {"agent": {"robot_id": "r1", "customer_id": "c1"}}
    for bad, key in [({"port": 0}, "mqtt.port"), ({"topic_prefix": "a/#"}, "mqtt.topic_prefix"),
                     ({"keepalive_s": 2}, "mqtt.keepalive_s"), ({"password": "p"}, "mqtt.username"),
                     ({"tls_cert": "c.pem", "tls_key": "k.pem"}, "mqtt.tls_ca")]:
        for build in (lambda m: build_config({**ids, "mqtt": m}), lambda m: load_mapping({"mqtt": m})):
            with pytest.raises(ConfigError) as exc:
                build(bad)
            assert exc.value.key == key
