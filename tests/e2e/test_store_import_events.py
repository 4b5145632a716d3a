"""Issue 14: ``robopulse collector import-events`` as a real process on a real store: a file with a
bad row is refused whole (line and reason, nothing applied), a good file is applied and attributed,
and importing it again changes nothing."""

from __future__ import annotations

import getpass
from tests.plugins.api import connect_store
from tests.support.imports import run_collector, store_with_customers

CUSTOMERS = """id,name,scene,tier,contract_start,contract_end,arr,csm,distributor
museum-sh,上海博物馆,museum,high,2025-03-01,2026-02-28,120000,王芳,华东代理
ktv-bj,北京欢唱KTV,ktv,mid,2025-06-01,2026-05-31,36000,李雷,
"""

GOOD = """customer,date,kind,amount,robots,referred_by,contract_end,note,extra
museum-sh,2026-02-10,renewal,"130,000",,,2027-02-28,三年合同,ignored
museum-sh,2026-03-01,expansion,20000,2,,,two more robots,
ktv-bj,2026-04-01,referral,36000,,museum-sh,,referred by the museum,
ktv-bj,2026-05-31,churn,,,,,,
"""

#: one good row first: a refused file applies nothing, not even its good rows
BAD = """customer,date,kind,amount,robots,referred_by,contract_end,note
museum-sh,2026-02-10,renewal,130000,,,2027-02-28,fine on its own
nobody,2026-02-10,expansion,1000,1,,,
museum-sh,2026-02-30,expansion,1000,1,,,
museum-sh,2026-03-01,expansion,-5,1,,,
museum-sh,2026-03-01,upsell,1000,,,,
museum-sh,2026-02-10,renewal,130000,,,2027-02-28,the same event again
"""


def _snapshot(db):
    conn = connect_store(db)
    try:
        return (conn.execute("SELECT * FROM customer_events ORDER BY id").fetchall(),
                conn.execute("SELECT id, contract_end, arr, distributor, updated_ms FROM customers ORDER BY id")
                .fetchall())
    finally:
        conn.close()


def test_store_import_events_refuses_a_bad_file_whole(tmp_path, store_url):
    db, config = store_with_customers(tmp_path, CUSTOMERS, store_url)
    before = _snapshot(db)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\ufeff".encode() + BAD.encode("utf-8"))
    result = run_collector("import-events", bad, "--config", config)
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1] for e in errors] == ["3", "4", "5", "6", "7"]
    assert "unknown customer 'nobody'" in errors[0]
    assert "date '2026-02-30' is not a date YYYY-MM-DD" in errors[1]
    assert "amount '-5' must be a number >= 0" in errors[2]
    assert "kind 'upsell' must be one of renewal, expansion, churn, referral" in errors[3]
    assert "the same event as line 2" in errors[4]
    assert "refused" in result.stdout and "5 bad rows, nothing imported" in result.stdout
    assert _snapshot(db) == before  # nothing applied: no event, the contract end unmoved
    assert before[1][1][1] == "2026-02-28"


def test_store_import_events_applies_attributes_and_reimports_as_no_change(tmp_path, store_url):
    db, config = store_with_customers(tmp_path, CUSTOMERS, store_url)
    good = tmp_path / "events.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = run_collector("import-events", good, "--config", config, "--by", "王芳")
    assert result.returncode == 0, result.stderr
    assert "imported 4 events (4 new, 0 already stored) as 王芳" in result.stdout
    events, customers = _snapshot(db)
    assert [(e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[10], e[11]) for e in events] == [
        ("museum-sh", "2026-02-10", "renewal", 130000.0, 0, "", "2027-02-28", "2026-02-28", "王芳", "import"),
        ("museum-sh", "2026-03-01", "expansion", 20000.0, 2, "", None, None, "王芳", "import"),
        ("ktv-bj", "2026-04-01", "referral", 36000.0, 0, "museum-sh", None, None, "王芳", "import"),
        ("ktv-bj", "2026-05-31", "churn", 0.0, 0, "", None, None, "王芳", "import"),
    ]
    # the renewal moved the contract end; distributor came with import-customers
    assert [(c[0], c[1], c[3]) for c in customers] == [("ktv-bj", "2026-05-31", ""),
                                                       ("museum-sh", "2027-02-28", "华东代理")]
    snapshot = _snapshot(db)
    again = run_collector("import-events", good, "--config", config)  # no --by: the OS user, but nothing is new
    assert again.returncode == 0, again.stderr
    assert f"imported 4 events (0 new, 4 already stored) as {getpass.getuser()}" in again.stdout
    assert _snapshot(db) == snapshot
    # importing customers again without a distributor column keeps the distributors
    plain = tmp_path / "plain.csv"
    plain.write_text("id,name\nmuseum-sh,上海博物馆\n", encoding="utf-8")
    assert run_collector("import-customers", plain, "--config", config).returncode == 0
    assert connect_store(db).execute("SELECT distributor FROM customers WHERE id = 'museum-sh'").fetchone() == \
        ("华东代理",)


def test_store_import_events_refuses_unusable_files(tmp_path, store_url):
    _, config = store_with_customers(tmp_path, CUSTOMERS, store_url)
    header = tmp_path / "h.csv"
    header.write_text("who,when\nx,y\n")
    result = run_collector("import-events", header, "--config", config)
    assert result.returncode == 2 and "header lacks customer, date, kind" in result.stderr
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("customer,date,kind\nmuseum-sh,2026-01-01,churn,备注\n".encode("gbk"))
    result = run_collector("import-events", gbk, "--config", config)
    assert result.returncode == 2 and "is not UTF-8" in result.stderr
    assert run_collector("import-events", tmp_path / "missing.csv", "--config", config).returncode == 2
