"""The harness of the ``robopulse collector import-…`` end-to-end tests of rows that belong to a
customer (events, goals): the command as a real process, and a real store with customers imported
first (those rows name a stored customer).  What each test checks stays in the test."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.procs import robopulse_cmd


def run_collector(*args) -> subprocess.CompletedProcess:
    """``robopulse collector ARGS…`` to its end (60 s at most), its output captured as text."""
    return subprocess.run(robopulse_cmd("collector", *map(str, args)), capture_output=True, text=True, timeout=60)


def store_with_customers(tmp_path: Path, customers_csv: str, db=None) -> tuple[Path | str, Path]:
    """``(db, config)``: a store under ``tmp_path`` (or at ``db``, a path or a ``postgresql://`` URL
    from the ``store_url`` fixture) with ``customers_csv`` imported (which must succeed)."""
    db = db if db is not None else tmp_path / "store.db"
    config = tmp_path / "c.toml"
    config.write_text(f'[collector]\ndb = "{db}"\n')
    customers = tmp_path / "customers.csv"
    customers.write_text(customers_csv, encoding="utf-8")
    assert run_collector("import-customers", customers, "--config", config).returncode == 0
    return db, config
