"""The collector's layers flow one way (docs/architecture.md): a package imports only packages below it.

Read from the source with ``ast`` (imports inside functions count too: a lazy import is still a
dependency), so the test needs no import of the collector and fails with the offending line.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: bottom to top; a package may import its own modules and any package on a lower line
LAYERS: tuple[tuple[str, ...], ...] = (
    ("protocol",),
    ("collector.metrics",),
    ("collector.store",),
    ("collector.ingest", "collector.health"),
    ("collector.alerts",),
    ("collector.http", "collector.report"),
    ("collector.api", "collector.feed", "collector.dashboard"),
    ("collector.app", "collector.config"),
    ("collector.service",),
    ("collector.cli",),
)
RANK = {package: rank for rank, row in enumerate(LAYERS) for package in row}
#: the ``robopulse`` entry point (pyproject's script) dispatches to every group, each imported only
#: when asked for; it is the one module above everything, kept in protocol/ as the shared entry
ENTRY_POINT = "protocol.cli"


def package_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (``collector.store.sqlite.db`` -> ``collector.store``)."""
    parts = module.split(".")
    for n in (2, 1):
        name = ".".join(parts[:n])
        if name in RANK:
            return name
    return None


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def modules(top: str):
    for path in sorted((ROOT / top).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield path, ".".join(parts)


def violations(top: str) -> list[str]:
    out = []
    for path, module in modules(top):
        own = package_of(module)
        if module == ENTRY_POINT:
            continue
        for line, target in imports_of(path, module):
            theirs = package_of(target)
            if own is None or theirs is None or theirs == own:
                continue
            if RANK[theirs] >= RANK[own]:
                out.append(f"{path.relative_to(ROOT)}:{line}: {own} imports {target} ({theirs} is not below it)")
    return out


@pytest.mark.parametrize("top", ["protocol", "collector"])
def test_layers_import_only_downwards(top):
    assert violations(top) == []


def test_every_collector_package_has_a_layer():
    packages = {p.name for p in (ROOT / "collector").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    top_modules = {p.stem for p in (ROOT / "collector").glob("*.py") if p.stem != "__init__"}
    missing = [name for name in sorted(packages | top_modules) if f"collector.{name}" not in RANK]
    assert missing == [], f"add these to LAYERS (and docs/architecture.md): {missing}"


def test_layer_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a store module importing the API is reported."""
    fake = tmp_path / "collector" / "store"
    fake.mkdir(parents=True)
    (tmp_path / "collector" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "bad.py").write_text("def f():\n    from collector.api import routes\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations("collector") == ["collector/store/bad.py:2: collector.store imports collector.api "
                                       "(collector.api is not below it)"]
