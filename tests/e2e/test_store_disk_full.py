"""Finding 3 of the hardening issue: the collector's disk fills up.  A real tmpfs as the store's
directory, a real Mosquitto and collector: fill the disk, publish a new customer's telemetry,
free the space; every window is stored exactly once, the customer row exists and is listed, and
/healthz and /metrics said degraded meanwhile (the cause logged once, not per retry; the health
evaluator's failing cycles likewise)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import time

import pytest

from tests.plugins.collector import Fleet, new_collector
from tests.support.procs import wait_until

TMPFS_SIZE = "6m"


@contextlib.contextmanager
def small_tmpfs(path, size: str):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs the suite as root)")
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)], check=True,
                   capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill_disk(folder) -> os.PathLike:
    """Write a file until the filesystem refuses: nothing is left for SQLite."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        with contextlib.suppress(OSError):
            while True:
                f.write(chunk)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 512)
    with pytest.raises(OSError) as err, open(folder / "probe", "wb", buffering=0) as probe:
        probe.write(b"\0" * 4096)
    assert err.value.errno == errno.ENOSPC
    return filler


def test_store_disk_full_keeps_new_customer_and_reports_degraded(tmp_path, broker, make_publisher):
    with small_tmpfs(tmp_path / "disk", TMPFS_SIZE) as disk:
        col = new_collector(tmp_path / "col", broker, **{"health.interval_s": 1})
        col.db = disk / "store.db"
        col.config.write_text(col.config.read_text().replace(str(tmp_path / "col" / "store.db"), str(col.db)))
        col.start()
        try:
            old = Fleet(2, customer="acme", seed=3)
            pub = make_publisher(broker.port)
            for i in range(2):
                pub.publish(*old.batch(i, 10))
            pub.wait_all()
            wait_until(lambda: col.window_count() == 20, 30, 0.1, "first windows stored", (col.proc,))
            assert col.healthz()["status"] == "ok" and col.metric("robopulse_store_commit_failing") == 0

            filler = fill_disk(disk)
            new = Fleet(6, customer="newco", seed=4, prefix="n")
            for round_ in range(2):
                for i in range(6):
                    pub.publish(*new.batch(i, 250))  # 3,000 windows of a customer the store never saw
            wait_until(lambda: col.healthz()["status"] == "degraded", 60, 0.2, "healthz degraded", (col.proc,))
            health = col.healthz()
            assert health["store"] == "failing" and "full" in health["store_error"], health
            assert col.metric("robopulse_store_commit_failing") == 1
            assert col.metric("robopulse_store_flush_errors_total") >= 1
            with pytest.raises(Exception):
                col.get_json("/api/v1/customers/newco")  # not stored: 404

            time.sleep(3)  # a few health cycles on the full disk
            filler.unlink()
            pub.wait_all(120)  # acknowledged only now: each once stored
            wait_until(lambda: col.window_count() == 20 + 3000, 120, 0.2, "all windows stored", (col.proc,))
            wait_until(lambda: col.healthz()["status"] == "ok", 30, 0.2, "healthz ok again", (col.proc,))
            assert col.metric("robopulse_store_commit_failing") == 0
            assert col.metric("robopulse_store_windows_stored_total") == 3020  # exactly once
            with col.db_read() as conn:
                assert conn.execute("SELECT id, assigned FROM customers WHERE id = 'newco'").fetchall() == [
                    ("newco", 0)]
                robots = conn.execute("SELECT count(*) FROM robots WHERE customer = 'newco'").fetchone()[0]
            assert robots == 6
            listed = {c["id"] for c in col.get_json("/api/v1/customers?limit=100")["items"]}
            assert {"acme", "newco"} <= listed
            assert col.get_json("/api/v1/customers/newco")

            lines = [json.loads(line) for line in col.proc.output().splitlines() if line.startswith("{")]
            failing = [r for r in lines if r.get("event") == "store_commit_failing"]
            assert 1 <= len(failing) <= 3, failing  # once per cause, not once per retry
            assert all("SQLITE_FULL" in r["error"] or "SQLITE_IOERR" in r["error"] for r in failing), failing
            assert not any("cannot rollback" in line for line in col.proc.output().splitlines())
            assert any(r.get("event") == "store_commit_recovered" for r in lines)
            # the evaluator's cycles failed too (one a second): logged once, then its recovery
            recovered = wait_until(lambda: [r for r in map(json.loads, filter(
                lambda line: line.startswith("{"), col.proc.output().splitlines()))
                if r.get("event") == "health_cycle_recovered"], 30, 0.2, "health cycle recovered", (col.proc,))
            cycles = [r for r in lines if r.get("event") == "health_cycle_failed"]
            assert len(cycles) == 1 and "full" in cycles[0]["error"], (cycles, recovered)
        finally:
            col.proc.terminate()
