import pytest

from protocol import catalogue
from protocol.topics import Topic, parse_topic, status_topic, subscriptions, telemetry_topic


def test_topics_build_and_parse_roundtrip():
    topic = telemetry_topic("acme", "r-1")
    assert topic == "robopulse/v1/acme/r-1/telemetry"
    assert parse_topic(topic) == Topic("acme", "r-1", "telemetry")
    assert parse_topic(status_topic("acme", "r-1", prefix="x/y"), prefix="x/y").kind == "status"


@pytest.mark.parametrize("topic", ["robopulse/v1/acme/r1", "robopulse/v1/ACME/r1/telemetry",
                                   "robopulse/v1/acme/r1/other", "other/acme/r1/telemetry",
                                   "robopulse/v1/acme/r1/telemetry/x"])
def test_topics_parse_rejects_foreign_topics(topic):
    assert parse_topic(topic) is None


def test_topics_build_refuses_bad_ids():
    with pytest.raises(ValueError):
        telemetry_topic("acme", "../x")


def test_topics_shared_subscription():
    assert subscriptions(shared_group="cg") == ["$share/cg/robopulse/v1/+/+/telemetry",
                                                 "$share/cg/robopulse/v1/+/+/status"]


def test_catalogue_denominators_exist_and_names_valid():
    for metric in catalogue.CATALOGUE:
        assert catalogue.is_valid_name(metric.name)
        if metric.denominator and metric.denominator != catalogue.WINDOW_SECONDS:
            assert metric.denominator in catalogue.BY_NAME
    assert catalogue.lookup("skill.karaoke").subsystem == "skills"
    assert catalogue.lookup("nope.x") is None
