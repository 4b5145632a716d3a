"""The store is below ingest: nothing under collector/store imports collector.ingest (ingest builds
the store's records, collector/store/records.py, and hands them down)."""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "collector" / "store"


def imported_modules(source: str) -> set[str]:
    """Every module a file's source imports, at the top or inside a function."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_store_imports_nothing_from_ingest():
    bad = {str(path.relative_to(STORE)): sorted(m for m in imported_modules(path.read_text(encoding="utf-8"))
                                                  if m.startswith("collector.ingest"))
           for path in STORE.rglob("*.py")}
    assert {name: mods for name, mods in bad.items() if mods} == {}


def test_store_boundary_check_sees_function_level_imports():
    assert "collector.ingest.stats" in imported_modules("def f():\n    from collector.ingest.stats import IngestStats\n")
    assert "collector.ingest" in imported_modules("import collector.ingest as ingest\n")
