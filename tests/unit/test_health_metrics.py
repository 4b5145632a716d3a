"""The health and notify metrics pass promtool's checks (names, types, units)."""

import shutil
import subprocess

import pytest

import collector.alerts.evaluator  # noqa: F401
import collector.alerts.leader  # noqa: F401  (the evaluator's role, issue 16)
import collector.alerts.notify  # noqa: F401  (registers its metrics)
from collector.metrics import REGISTRY


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_health_metrics_pass_promtool():
    text = REGISTRY.render()
    for name in ("robopulse_health_cycles_total", "robopulse_health_cycle_seconds",
                 "robopulse_health_cycle_failures_total", "robopulse_notifications_sent_total",
                 "robopulse_notification_attempts_failed_total", "robopulse_evaluator_leader",
                 "robopulse_evaluator_takeovers_total"):
        assert f"# TYPE {name} " in text, name
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
