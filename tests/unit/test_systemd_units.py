"""The systemd units that run the agent and the collector: what they must keep (notify, watchdog,
state directories, the command lines the docs give) and how exposed systemd itself rates them
(issue 17: ``systemd-analyze security --offline=yes`` at 2.5 or less for both)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AGENT_UNIT = ROOT / "systemd" / "robopulse-agent.service"
COLLECTOR_UNIT = ROOT / "systemd" / "robopulse-collector.service"
UNITS = (AGENT_UNIT, COLLECTOR_UNIT)
MAX_EXPOSURE = 2.5

needs_systemd_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                           reason="systemd-analyze absent (Debian package `systemd`; "
                                                  "`make system-deps` installs it)")


def test_systemd_unit_has_what_the_issue_asks():
    text = AGENT_UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=robopulse-agent",
                 "User=robopulse", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "ProtectHome=yes", "MemoryMax=", "CPUQuota=",
                 "ExecStart=/opt/robopulse/venv/bin/robopulse agent run --config /etc/robopulse/agent.toml"):
        assert line in text, line


def test_agent_unit_keeps_what_the_agent_needs():
    """Hardening must not take away the network, the notify socket or the /proc files psutil reads."""
    text = AGENT_UNIT.read_text()
    families = re.search(r"^RestrictAddressFamilies=(.*)$", text, re.M).group(1).split()
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= set(families)  # sd_notify, MQTT, StatsD/status on loopback
    assert "NotifyAccess=main" in text
    assert not re.search(r"^PrivateNetwork=yes", text, re.M)
    assert not re.search(r"^ProcSubset=pid", text, re.M)  # /proc/stat, /proc/meminfo for the samplers
    assert not re.search(r"^Environment=ROBOPULSE_MQTT_PASSWORD", text, re.M)  # secrets: LoadCredential=


def test_collector_unit_runs_the_collector_with_its_store():
    text = COLLECTOR_UNIT.read_text()
    for line in ("ExecStart=/opt/robopulse/venv/bin/robopulse collector run --config /etc/robopulse/collector.toml",
                 "StateDirectory=robopulse\n", "User=robopulse", "Restart=on-failure", "ProtectSystem=strict",
                 "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=\n"):
        assert line in text, line
    families = re.search(r"^RestrictAddressFamilies=(.*)$", text, re.M).group(1).split()
    assert {"AF_INET", "AF_INET6"} <= set(families)  # MQTT, the HTTP listener, webhooks
    assert not re.search(r"^PrivateNetwork=yes", text, re.M)


def exposure(unit: Path) -> tuple[float, str]:
    """The overall exposure ``systemd-analyze security --offline=yes`` gives the unit file."""
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                            capture_output=True, text=True, cwd=unit.parent)
    output = result.stdout + result.stderr
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?) ", output)
    assert found, output
    return float(found.group(1)), output


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_security_rates_the_unit_at_most_2_5(unit):
    value, output = exposure(unit)
    assert value <= MAX_EXPOSURE, output


@needs_systemd_analyze
def test_the_exposure_parser_sees_a_bad_unit(tmp_path):
    """The parser reads a real figure: a unit without hardening rates far above the bar."""
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    value, output = exposure(bare)
    assert value > 5, output


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_analyze_verify_accepts_the_unit(unit, tmp_path):
    # verify needs ExecStart's binary to exist: the same unit pointing at this venv's robopulse
    robopulse = Path(sys.executable).parent / "robopulse"
    assert robopulse.exists()
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text().replace("/opt/robopulse/venv/bin/robopulse", str(robopulse)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_deploy_doc_keeps_the_mqtt_password_out_of_the_units_environment():
    """Issue 17: ``Environment=`` is readable over D-Bus; the docs give LoadCredential= or the 0640 file."""
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "Environment=ROBOPULSE_MQTT_PASSWORD" not in deploy
    assert "LoadCredential=mqtt-password:" in deploy and "$CREDENTIALS_DIRECTORY" in deploy
    assert "0640" in deploy and "root:robopulse" in deploy
    for unit in UNITS:  # and no unit ships a secret in its environment
        assert not re.search(r"^Environment=.*PASSWORD", unit.read_text(), re.M), unit.name
