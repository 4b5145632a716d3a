"""Settings: documented defaults; an unknown key or a bad value raises ConfigError naming it."""

import pytest

from collector.alerts import notify_settings
from collector.alerts import settings as alert_settings
from collector.health import settings as health_settings
from protocol.config import ConfigError


def test_settings_defaults_parse():
    assert health_settings.parse({}).min_volume == 20
    rules = alert_settings.parse({})
    assert set(rules.as_dict()) == {"robot_offline", "subsystem_degraded", "site_outage", "usage_drop", "below_peers",
                          "onboarding_stalled", "renewal_risk", "benchmark_candidate", "fleet_dormant",
                          "low_conversion", "goal_at_risk"}
    assert all({"enabled", "threshold", "clear", "for_s", "clear_for_s", "severity"} <= set(r.as_dict())
               for r in rules.as_dict().values())
    assert notify_settings.parse({}).webhooks == ()  # frozen: lists of the file become tuples


@pytest.mark.parametrize("parse, table, key", [
    (health_settings.parse, {"min_volum": 3}, "health.min_volum"),
    (health_settings.parse, {"min_volume": "3"}, "health.min_volume"),
    (health_settings.parse, {"asr_warn": 0.5, "asr_crit": 0.4}, "health.asr_warn"),
    (alert_settings.parse, {"site_outages": {}}, "alerts.site_outages"),
    (alert_settings.parse, {"usage_drop": {"treshold": 3}}, "alerts.usage_drop.treshold"),
    (alert_settings.parse, {"usage_drop": {"severity": "loud"}}, "alerts.usage_drop.severity"),
    (alert_settings.parse, {"usage_drop": {"threshold": 10.0, "clear": 20.0}}, "alerts.usage_drop.clear"),
    (notify_settings.parse, {"webhooks": [{"name": "a", "url": "ftp://x"}]}, "notify.webhooks[0].url"),
    (notify_settings.parse, {"webhooks": [{"name": "a", "url": "http://x/", "secret": 1}]},
     "notify.webhooks[0].secret"),
    (notify_settings.parse, {"retry": 1}, "notify.retry"),
])
def test_settings_errors_name_the_key(parse, table, key):
    with pytest.raises(ConfigError) as err:
        parse(table)
    assert err.value.key == key


def test_settings_through_the_collector_config(tmp_path):
    from collector.config import load
    path = tmp_path / "c.toml"
    path.write_text('[health]\nmin_volume = 50\n[alerts.usage_drop]\nthreshold = 30.0\n'
                    '[[notify.webhooks]]\nname = "slack"\nurl = "https://hooks.example/x"\n')
    cfg = load(path, env={})
    assert cfg.health.min_volume == 50
    assert cfg.alerts.usage_drop.threshold == 30.0
    assert cfg.notify.webhooks[0].name == "slack"


def test_settings_webhook_defaults_and_unique_names():
    hooks = notify_settings.parse({"webhooks": [{"url": "https://a.example/x"},
                                                {"url": "http://b.example/y", "rules": ["usage_drop"]}]}).webhooks
    assert [(h.name, h.rules, h.min_severity) for h in hooks] == [
        ("webhook0", (), "info"), ("webhook1", ("usage_drop",), "info")]
    with pytest.raises(ConfigError) as err:
        notify_settings.parse({"webhooks": [{"name": "a", "url": "http://x/"}, {"name": "a", "url": "http://y/"}]})
    assert err.value.key == "notify.webhooks"
    with pytest.raises(ConfigError) as err:
        notify_settings.parse({"webhooks": [{"name": "a"}]})
    assert err.value.key == "notify.webhooks[0].url"


def test_settings_alert_rules_carry_their_direction():
    rules = alert_settings.parse({"below_peers": {"threshold": 0.4}})  # a share of the scene's median (issue 13)
    assert rules.below_peers.direction == "below" and rules.below_peers.threshold == 0.4
    assert rules.usage_drop.direction == "above" and rules.usage_drop.min_volume == 20.0


@pytest.mark.parametrize("entries, reason", [
    (["ktv skill.delivery"], "is not '<scene>: <metric>"),
    (["ktv: delivery"], "is not a usage.* or skill.* metric"),
    (["ktv: skill.delivery @ 0"], "must be positive"),
    (["ktv: skill.delivery", "ktv: usage.interactions"], "listed twice"),
])
def test_settings_scene_measures_refused_with_the_reason(entries, reason):
    with pytest.raises(ConfigError) as err:
        health_settings.parse({"scene_measures": entries})
    assert err.value.key == "health.scene_measures" and reason in err.value.reason


def test_settings_scene_measures_parse_into_measures():
    from collector.health import peers
    table = peers.table(health_settings.parse({"scene_measures": ["ktv: skill.delivery + skill.qa @ 250"]}).scene_measures)
    assert table["ktv"] == peers.Measure("ktv", ("skill.delivery", "skill.qa"), 250.0)
    assert table["ktv"].name == "delivery + qa"
    assert peers.measure_of("museum", table).metrics == ("usage.interactions",)  # not listed: interactions
