"""docs/api.md stays true: every route of the OpenAPI document, every [http] option, every CSV
column and every feed event kind is documented."""

import re
from pathlib import Path

from collector.api.exports import EXPORTS
from collector.api.openapi import document
from collector.config import OPTIONS
from collector.feed.sse import KINDS
from protocol.config import markdown_table

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")


def test_api_docs_every_route():
    for path in document()["paths"]:
        if path.startswith("/api/v1/export/"):  # documented together: .../{customers,robots,alerts}.csv
            assert f"`{path.rsplit('/', 1)[-1]}`" in TEXT, path
        else:
            assert re.search(rf"[` ]{re.escape(path)}[`? ]", TEXT), path


def test_api_docs_http_options_table_is_current():
    assert markdown_table(tuple(o for o in OPTIONS if o.section == "http")) in TEXT


def test_api_docs_csv_columns_and_feed_kinds():
    for name, (columns, _rows, _filters) in EXPORTS.items():
        line = next(line for line in TEXT.splitlines() if line.startswith(f"- `{name}.csv`"))
        assert re.findall(r"`([a-z0-9_]+)`", line.split(":", 1)[1]) == list(columns), name
    for kind in (*KINDS, "gap"):
        assert f"| `{kind}` |" in TEXT, kind


def test_api_docs_every_token_key():
    """Each key of a ``[[http.tokens]]`` table (collector/config.py TOKEN) is in the example."""
    from collector.config import TOKEN

    example = TEXT.split("```toml\n[[http.tokens]]", 1)[1].split("```", 1)[0]
    for option in TOKEN:
        assert re.search(rf"^{option.key}\s*=", example, re.M), option.key
