"""Must-show 5: ``robopulse collector import-customers`` with good and bad rows, Chinese names,
a BOM, and a re-import that updates.  Since the second release (docs/contract.md section 6) a file
with a bad row is refused whole: every bad line is named and nothing of the file is applied."""

from __future__ import annotations

import subprocess

from tests.plugins.api import connect_store
from tests.support.procs import robopulse_cmd

GOOD_AND_BAD = """id,name,scene,tier,contract_start,contract_end,arr,csm,notes
museum-sh,上海博物馆,museum,high,2025-03-01,2026-02-28,120000,王芳,extra column ignored
ktv-bj,北京欢唱KTV,ktv,mid,2025-06-01,2026-05-31,"36,000",李雷,
BAD ID,坏的,mall,low,2025-01-01,2025-12-31,1000,张三,
no-name,,mall,low,2025-01-01,2025-12-31,1000,张三,
bad-date,日期错,bank,low,2025-13-01,2025-12-31,1000,张三,
ends-first,结束早,bank,low,2025-06-01,2025-01-01,1000,张三,
bad-arr,金额错,bank,low,2025-01-01,2025-12-31,lots,张三,
museum-sh,重复,museum,high,2025-03-01,2026-02-28,1,王芳,
scenic-hz,杭州西湖景区,scenic,tech,,,0,,
"""


def _run(csv_path, config):
    return subprocess.run(robopulse_cmd("collector", "import-customers", str(csv_path), "--config", str(config)),
                          capture_output=True, text=True, timeout=60)


def test_store_import_customers_refuses_a_file_with_bad_rows_whole_and_loads_a_good_one(tmp_path, store_url):
    db = store_url
    config = tmp_path / "c.toml"
    config.write_text(f'[collector]\ndb = "{db}"\n')
    csv_path = tmp_path / "customers.csv"
    csv_path.write_bytes("\ufeff".encode() + GOOD_AND_BAD.encode("utf-8"))  # Excel's "CSV UTF-8" has a BOM
    result = _run(csv_path, config)
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1] for e in errors] == ["4", "5", "6", "7", "8", "9"]
    assert "id 'BAD ID' must match" in errors[0]
    assert "name is empty" in errors[1]
    assert "contract_start '2025-13-01' is not a date" in errors[2]
    assert "before contract_start" in errors[3]
    assert "arr 'lots' is not a number" in errors[4]
    assert "already on line 2" in errors[5]
    assert "refused" in result.stdout and "6 bad rows, nothing imported" in result.stdout
    conn = connect_store(db)
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (0,)  # not even the good rows
    good = [line for i, line in enumerate(GOOD_AND_BAD.splitlines(), 1) if i not in (4, 5, 6, 7, 8, 9)]
    csv_path.write_bytes("\ufeff".encode() + ("\n".join(good) + "\n").encode("utf-8"))
    result = _run(csv_path, config)
    assert result.returncode == 0, result.stderr
    assert "imported 3 customers (3 new, 0 updated)" in result.stdout
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, name, scene, tier, contract_start, contract_end, arr, csm, assigned FROM customers")}
    assert rows == {
        "museum-sh": ("上海博物馆", "museum", "high", "2025-03-01", "2026-02-28", 120000.0, "王芳", 1),
        "ktv-bj": ("北京欢唱KTV", "ktv", "mid", "2025-06-01", "2026-05-31", 36000.0, "李雷", 1),
        "scenic-hz": ("杭州西湖景区", "scenic", "tech", None, None, 0.0, "", 1),
    }
    # a customer first seen in telemetry (unassigned) is taken over by the import
    conn.execute("INSERT INTO customers (id, name, assigned, created_ms, updated_ms) VALUES ('bank-gz', 'bank-gz', 0, 1, 1)")
    conn.commit()
    csv_path.write_text("id,name,scene,tier,contract_start,contract_end,arr,csm\n"
                        "museum-sh,上海博物馆（新馆）,museum,high,2026-03-01,2027-02-28,150000,王芳\n"
                        "bank-gz,广州银行,bank,mid,2026-01-01,2026-12-31,50000,赵六\n", encoding="utf-8")
    result = _run(csv_path, config)  # no BOM this time
    assert result.returncode == 0, result.stderr
    assert "imported 2 customers (0 new, 2 updated)" in result.stdout
    assert conn.execute("SELECT name, arr, contract_end FROM customers WHERE id = 'museum-sh'").fetchone() == \
        ("上海博物馆（新馆）", 150000.0, "2027-02-28")
    assert conn.execute("SELECT name, assigned FROM customers WHERE id = 'bank-gz'").fetchone() == ("广州银行", 1)


def test_store_import_customers_refuses_unusable_files(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[collector]\ndb = "{tmp_path / "s.db"}"\n')
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("customer,title\nx,y\n")
    result = _run(bad_header, config)
    assert result.returncode == 2 and "header lacks id, name" in result.stderr
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("id,name\nm1,上海博物馆\n".encode("gbk"))
    result = _run(gbk, config)
    assert result.returncode == 2 and "is not UTF-8" in result.stderr
    assert _run(tmp_path / "missing.csv", config).returncode == 2
