"""docs/collector.md stays true: every [collector]/[mqtt] option, reject reason and metric."""

from pathlib import Path

from collector.config import OPTIONS
from collector.ingest.stats import IngestStats
from collector.ingest.validate import REJECT_REASONS
from collector.metrics import Registry
from protocol.config import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "collector.md"


def test_store_docs_config_table_is_current():
    table = markdown_table(tuple(o for o in OPTIONS if o.section in ("collector", "mqtt")))
    assert table in DOC.read_text(encoding="utf-8")
    table = markdown_table(tuple(o for o in OPTIONS if o.section == "ingest"))
    assert table in DOC.read_text(encoding="utf-8")


def test_store_docs_list_every_reject_reason_and_metric():
    text = DOC.read_text(encoding="utf-8")
    for reason in REJECT_REASONS:
        assert f"| `{reason}` |" in text, reason
    registry = Registry()
    IngestStats(registry).bind_backlog(lambda: 0, lambda: 0)
    for line in registry.render().splitlines():
        if line.startswith("# TYPE "):
            assert f"`{line.split()[2]}" in text, line


def test_store_docs_commands():
    text = DOC.read_text(encoding="utf-8")
    assert "`robopulse collector run --config FILE`" in text
    assert "`robopulse collector import-customers FILE.csv --config FILE`" in text
    assert "`robopulse collector import-robots FILE.csv --config FILE`" in text
    assert "`robopulse collector broker-acl --config FILE --out DIR`" in text
