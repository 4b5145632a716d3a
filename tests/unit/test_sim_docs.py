"""docs/simulator.md, docs/demo.md and the README's tour stay true to the code."""

from pathlib import Path

from simulator import cli, demo, scenario
from simulator.profiles import PROFILES

DOCS = Path(__file__).resolve().parents[2] / "docs"
SIM = (DOCS / "simulator.md").read_text(encoding="utf-8")
DEMO = (DOCS / "demo.md").read_text(encoding="utf-8")


def options(parser) -> set[str]:
    found = set()
    for action in parser._actions:
        if hasattr(action, "choices") and isinstance(action.choices, dict):  # sub-commands
            for sub in action.choices.values():
                found |= options(sub)
        found |= {s for s in action.option_strings if s.startswith("--") and s != "--help"}
    return found


def test_sim_docs_every_scenario_key_fault_and_scene():
    for key in scenario.SCENARIO_KEYS | scenario.CUSTOMER_KEYS | scenario.FAULT_KEYS:
        assert f"`{key}`" in SIM, key
    for kind in scenario.FAULT_KINDS:
        assert f"`{kind}`" in SIM, kind
    for scene in PROFILES:
        assert f"`{scene}`" in SIM, scene


def test_sim_docs_every_command_line_option():
    assert "robopulse sim run --scenario FILE" in SIM
    for option in options(cli.build_parser()):
        assert f"`{option}" in SIM, option
    for option in options(demo.build_parser()):
        assert f"`{option}" in DEMO, option


def test_sim_docs_demo_settings_match_the_demo_config():
    for line in demo.DEMO_COLLECTOR.splitlines():
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            assert f"| `{value}`" in DEMO or f"| `{value}` (minutes)" in DEMO, line


def test_sim_docs_readme_tour_covers_demo_systemd_and_feed():
    tour = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    for text in ("make demo", "systemctl enable --now robopulse-agent", "/api/v1/feed", "export/customers.csv",
                 "img/dashboard.png"):
        assert text in tour, text


def test_sim_docs_every_log_event():
    import re

    events = set()
    for path in (DOCS.parent / "simulator").glob("*.py"):
        events |= set(re.findall(r"log\.(?:debug|info|warning|error)\(\s*\"([a-z_]+)\"", path.read_text()))
    assert len(events) >= 6
    for event in events:
        assert f"`{event}`" in SIM, event
