"""Fixtures shared by every test.  Area-specific fixtures live in tests/plugins/<area>.py."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.support.broker import Broker, make_tls_files

pytest_plugins = [
    "tests.plugins.agent",
    "tests.plugins.collector",
    "tests.plugins.health",
    "tests.plugins.api",
    "tests.plugins.sim",
    "tests.plugins.store",
]


@pytest.fixture
def make_broker(tmp_path):
    """Factory: ``make_broker(passwords=..., acl=..., tls=..., persistence=...)`` -> started Broker."""
    brokers: list[Broker] = []

    def factory(name: str = "broker", start: bool = True, **kwargs) -> Broker:
        broker = Broker(tmp_path / name, **kwargs)
        brokers.append(broker)
        return broker.start() if start else broker

    yield factory
    for broker in brokers:
        broker.kill()


@pytest.fixture
def broker(make_broker) -> Broker:
    """An anonymous private Mosquitto on a free port."""
    return make_broker()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def output_dir(request) -> Path:
    """A folder kept after the run (screenshots, logs a person would look at)."""
    path = Path(__file__).resolve().parent.parent / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def fail_on_thread_exception():
    """paho swallows nothing by default but runs callbacks in its thread: an exception there
    would only be printed.  Collect them and fail the test."""
    errors: list[BaseException] = []
    previous = threading.excepthook

    def hook(args):
        errors.append(args.exc_value)
        previous(args)

    threading.excepthook = hook
    yield
    threading.excepthook = previous
    if errors:
        pytest.fail(f"exception in a background thread: {errors[0]!r}")
