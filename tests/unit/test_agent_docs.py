"""docs/agent.md stays true: every config key, command, log event and the systemd file it describes."""

from __future__ import annotations

import re
from pathlib import Path

from agent.config import OPTIONS
from protocol.config import markdown_table

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "agent.md").read_text(encoding="utf-8")


def test_agent_docs_hold_the_options_table_exactly():
    assert markdown_table(OPTIONS) in DOC


def test_agent_docs_name_every_command_and_flag():
    for text in ("robopulse agent run --config FILE", "robopulse agent status [--config FILE] [--json]",
                 "robopulse agent check-config --config FILE", "--log-level"):
        assert text in DOC, text


def test_agent_docs_list_every_log_event():
    events = set()
    for path in (ROOT / "agent").rglob("*.py"):
        events |= set(re.findall(r"log\.(?:debug|info|warning|error|exception)\(\s*\"([a-z_]+)\"", path.read_text()))
    assert events
    for event in events:
        assert f"`{event}`" in DOC, event


def test_deploy_doc_covers_venv_config_enable_and_logs():
    deploy = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for text in ("/opt/robopulse/venv", "/etc/robopulse/agent.toml", "systemctl enable --now robopulse-agent",
                 "journalctl -u robopulse-agent"):
        assert text in deploy, text
