"""The agent's boundaries: what it imports.  (Its systemd unit: tests/unit/test_systemd_units.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_agent_imports_no_aiohttp_collector_or_simulator():
    code = ("import sys, agent.cli, agent.core, agent.runner, agent.publisher, agent.status, agent.outbox, "
            "agent.samplers.system, agent.samplers.network, agent.samplers.statsd, agent.samplers.programmatic;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'collector', 'simulator')];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_agent_cli_import_is_light():
    """`robopulse agent status` must not pay for paho, psutil or structlog."""
    code = ("import sys, agent.cli;"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('paho', 'psutil', 'structlog', 'aiohttp')];"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
