"""Several collectors' config (issue 16): ``[mqtt] client_id`` left empty is the first release's
fixed id alone and one stable id per host in a shared group; ``shared_group`` is checked at load."""

from __future__ import annotations

import socket

import pytest

from collector.config import derived_client_id, load_mapping
from protocol.config import ConfigError


def test_config_client_id_alone_is_the_first_release_id():
    assert load_mapping({}).mqtt.client_id == "robopulse-collector"


def test_config_client_id_in_a_shared_group_is_group_and_host():
    cfg = load_mapping({"mqtt": {"shared_group": "collectors"}})
    assert cfg.mqtt.client_id == derived_client_id("collectors", socket.gethostname())
    assert cfg.mqtt.client_id.startswith("robopulse-collectors-") and cfg.mqtt.client_id != "robopulse-collectors-"
    assert load_mapping({"mqtt": {"shared_group": "collectors"}}).mqtt.client_id == cfg.mqtt.client_id  # stable


def test_config_client_id_derived_from_an_odd_host_name():
    assert derived_client_id("g", "Edge Box#3.corp.example") == "robopulse-g-edge-box-3"
    assert derived_client_id("", "anything") == "robopulse-collector"


def test_config_client_id_given_is_kept():
    cfg = load_mapping({"mqtt": {"shared_group": "collectors", "client_id": "col-a"}})
    assert cfg.mqtt.client_id == "col-a"


@pytest.mark.parametrize("group", ["Collectors", "a/b", "+", "x" * 65, "-lead"])
def test_config_shared_group_refused_when_not_an_id(group):
    with pytest.raises(ConfigError) as exc:
        load_mapping({"mqtt": {"shared_group": group}})
    assert "shared_group" in str(exc.value)


@pytest.mark.parametrize("client_id", ["a/b", "c#", " pad"])
def test_config_client_id_refused_with_topic_characters(client_id):
    with pytest.raises(ConfigError) as exc:
        load_mapping({"mqtt": {"client_id": client_id}})
    assert "client_id" in str(exc.value)
