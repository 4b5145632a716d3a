"""Health's and alerts' layers, read from their imports: alerts -> health -> store, never back, and
neither the evaluator nor the notifier is part of the web server."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports(package: str) -> dict[str, set[str]]:
    """``{module file: {imported module}}`` for every module of ``collector/<package>``, lazy imports too."""
    out = {}
    for path in sorted((ROOT / "collector" / package).glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        out[path.name] = names
    return out


def offending(package: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(module, name) for module, names in imports(package).items() for name in sorted(names)
            if any(name == f or name.startswith(f + ".") for f in forbidden)]


def test_health_imports_neither_alerts_nor_the_web_layer():
    assert offending("health", ("collector.alerts", "collector.http", "collector.api", "collector.feed",
                                "collector.dashboard", "collector.service", "aiohttp")) == []


def test_alerts_import_nothing_of_the_web_layer():
    # the notifier is an aiohttp *client*; no server, route or app key
    assert offending("alerts", ("collector.http", "collector.api", "collector.feed", "collector.dashboard",
                                "collector.service", "aiohttp.web")) == []


def test_the_store_imports_neither_health_nor_alerts():
    for package in ("store", "store/sqlite"):
        assert offending(package, ("collector.health", "collector.alerts")) == [], package
