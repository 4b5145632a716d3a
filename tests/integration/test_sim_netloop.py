"""paho's select()-based loop fails past file descriptor 1024; the simulator's poll()-based loop
does not (a thousand simulated robots in one process have several thousand descriptors)."""

import os
import threading

import paho.mqtt.client as mqtt
import pytest

from simulator.netloop import _original_loop, poll_loop
from tests.support.procs import wait_until


@pytest.fixture
def high_fds():
    """Hold enough descriptors that the next socket gets a number above 1024."""
    pipes = [os.pipe() for _ in range(560)]
    yield
    for r, w in pipes:
        os.close(r)
        os.close(w)


def connect(port: int, name: str) -> tuple[mqtt.Client, threading.Event]:
    acked = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    client.on_publish = lambda *args: acked.set()
    client.connect("127.0.0.1", port, 30)
    assert client.socket().fileno() > 1024
    return client, acked


def test_sim_netloop_poll_loop_works_above_fd_1024(broker, high_fds):
    client, acked = connect(broker.port, "poll-loop")
    wait_until(lambda: poll_loop(client, 0.05) == mqtt.MQTT_ERR_SUCCESS and client.is_connected(), 10)
    client.publish("robopulse/test", b"x", qos=1)
    wait_until(lambda: poll_loop(client, 0.05) == mqtt.MQTT_ERR_SUCCESS and acked.is_set(), 10)
    client.disconnect()


def test_sim_netloop_select_loop_fails_above_fd_1024(broker, high_fds):
    client, _ = connect(broker.port, "select-loop")
    assert _original_loop(client, 0.05) == mqtt.MQTT_ERR_CONN_LOST
