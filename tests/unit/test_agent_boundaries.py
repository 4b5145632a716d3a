"""The agent's boundaries: what it imports, and the systemd unit that runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "robopulse-agent.service"


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


def test_systemd_unit_has_what_the_issue_asks():
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=robopulse-agent",
                 "User=robopulse", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "ProtectHome=yes", "MemoryMax=", "CPUQuota=",
                 "ExecStart=/opt/robopulse/venv/bin/robopulse agent run --config /etc/robopulse/agent.toml"):
        assert line in text, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent (no systemd here)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify needs ExecStart's binary to exist: the same unit pointing at this venv's robopulse
    robopulse = Path(sys.executable).parent / "robopulse"
    assert robopulse.exists()
    unit = tmp_path / "robopulse-agent.service"
    unit.write_text(UNIT.read_text().replace("/opt/robopulse/venv/bin/robopulse", str(robopulse)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "robopulse-agent.service" in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
