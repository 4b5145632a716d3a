"""docs/health.md documents every setting with its default, every rule and the payload fields."""

from pathlib import Path

from collector.alerts import notify_settings
from collector.alerts.outbox import ALERT_FIELDS
from collector.alerts.settings import RULES, spec
from collector.health.settings import SETTINGS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "health.md").read_text(encoding="utf-8")


def test_health_docs_every_setting_with_its_default():
    rows = [(f"health.{s.key}", s.default) for s in SETTINGS]
    rows += [(f"alerts.{rule}.{s.key}", s.default) for rule in RULES for s in spec(rule)]
    rows += [(f"notify.{s.key}", s.default) for s in notify_settings.SETTINGS]
    for key, default in rows:
        assert f"| `{key}` | `{default!r}` |" in DOC, key


def test_health_docs_every_rule_and_payload_field():
    for rule in RULES:
        assert f"| `{rule}` |" in DOC, rule
    for field in ALERT_FIELDS:
        assert f"`alert.{field}`" in DOC or f"`alert.{field}`," in DOC or f"alert.{field}" in DOC, field
    for field in ("schema", "idempotency_key", "event", "ts", "text"):
        assert f"| `{field}` |" in DOC, field
