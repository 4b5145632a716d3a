"""A docs test: every CLI command, every config key and every catalogue metric is documented,
so that a new option cannot land without a line a user can find."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from protocol import catalogue

ROOT = Path(__file__).resolve().parents[2]


def _docs_text() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


COMMANDS = [
    "robopulse agent run", "robopulse agent status", "robopulse agent check-config",
    "robopulse collector run", "robopulse collector import-customers",
    "robopulse collector import-robots", "robopulse collector broker-acl",
    "robopulse collector report",
    "robopulse sim run", "robopulse demo",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_docs_name_every_cli_command(command):
    assert command in _docs_text(), f"{command!r} is not documented in README.md or docs/"


def _agent_keys() -> list[str]:
    from agent.config import OPTIONS

    return [o.name for o in OPTIONS]


def _collector_keys() -> list[str]:
    from collector.config import OPTIONS

    return [o.name for o in OPTIONS]


def _health_keys() -> list[str]:
    from collector.alerts import settings as alert_settings
    from collector.health import settings as health_settings

    keys = [f"health.{s.key}" for s in health_settings.SETTINGS]
    keys += [f"alerts.{rule}.{s.key}" for rule in alert_settings.RULES for s in alert_settings.spec(rule)]
    return keys


def _notify_keys() -> list[str]:
    from collector.alerts import notify_settings

    return [f"notify.{k}" for k in notify_settings.defaults().as_dict()]


@pytest.mark.parametrize("keys", [_agent_keys, _collector_keys, _health_keys, _notify_keys],
                         ids=["agent", "collector", "health-alerts", "notify"])
def test_docs_name_every_config_key(keys):
    text = _docs_text()
    missing = [k for k in keys() if f"`{k}`" not in text and f"`{k.split('.', 1)[1]}`" not in text]
    assert not missing, f"config keys not documented in docs/: {missing}"


def test_docs_name_every_catalogue_metric():
    text = _docs_text()
    missing = [m.name for m in catalogue.CATALOGUE if not re.search(rf"`{re.escape(m.name)}`", text)]
    assert not missing, missing


def test_docs_relative_links_point_at_files():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
