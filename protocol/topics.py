"""Every MQTT topic string is built and parsed here and nowhere else."""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocol import DEFAULT_PREFIX

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TELEMETRY = "telemetry"
STATUS = "status"
KINDS = (TELEMETRY, STATUS)


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_RE.match(value) is not None


def _check_prefix(prefix: str) -> str:
    if not prefix or any(ch in prefix for ch in "+#\x00") or prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"bad topic prefix {prefix!r}")
    return prefix


def _build(prefix: str, customer: str, robot: str, kind: str) -> str:
    if not is_valid_id(customer):
        raise ValueError(f"bad customer id {customer!r}")
    if not is_valid_id(robot):
        raise ValueError(f"bad robot id {robot!r}")
    return f"{_check_prefix(prefix)}/{customer}/{robot}/{kind}"


def telemetry_topic(customer: str, robot: str, prefix: str = DEFAULT_PREFIX) -> str:
    return _build(prefix, customer, robot, TELEMETRY)


def status_topic(customer: str, robot: str, prefix: str = DEFAULT_PREFIX) -> str:
    return _build(prefix, customer, robot, STATUS)


def subscriptions(prefix: str = DEFAULT_PREFIX, shared_group: str | None = None) -> list[str]:
    """The filters a collector subscribes to; ``$share/<group>/`` splits a fleet between collectors."""
    filters = [f"{_check_prefix(prefix)}/+/+/{kind}" for kind in KINDS]
    if shared_group:
        if not is_valid_id(shared_group):
            raise ValueError(f"bad shared group {shared_group!r}")
        filters = [f"$share/{shared_group}/{f}" for f in filters]
    return filters


@dataclass(frozen=True, slots=True)
class Topic:
    customer: str
    robot: str
    kind: str


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> Topic | None:
    """``Topic`` for a robopulse topic under ``prefix``, or None when it is not one."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/")
    if len(parts) != 3:
        return None
    customer, robot, kind = parts
    if kind not in KINDS or not is_valid_id(customer) or not is_valid_id(robot):
        return None
    return Topic(customer, robot, kind)
