"""Issue 14: ``robopulse collector import-goals`` as a real process on a real store: a file with a
bad row (unknown customer, a date that is not a date, a negative target, an unknown metric, a due
date before its start) is refused whole naming line and reason, nothing applied; a good file is
applied and attributed; importing it again changes nothing; a changed target updates the goal."""

from __future__ import annotations

import sqlite3

from tests.support.imports import run_collector, store_with_customers

CUSTOMERS = """id,name,scene,tier,contract_start,contract_end,arr,csm,timezone
museum-sh,上海博物馆,museum,high,2025-03-01,2026-02-28,120000,王芳,
ktv-la,Starlight KTV,ktv,mid,2025-06-01,2026-05-31,36000,李雷,America/Los_Angeles
"""

GOOD = """customer,metric,target,start,due,note,extra
museum-sh,conversion,45,2026-01-01,2026-01-07,交互转化率 7 天内 45%,ignored
museum-sh,interactions_per_robot_day,"1,000",2026-01-01,2026-03-31,标杆,
ktv-la,skill:delivery,12.5,2026-02-01,2026-02-28,,
ktv-la,availability,98,2026-02-01,2026-02-01,one day,
"""

#: one good row first: a refused file applies nothing, not even its good rows
BAD = """customer,metric,target,start,due,note
museum-sh,conversion,45,2026-01-01,2026-01-07,fine on its own
nobody,conversion,45,2026-01-01,2026-01-07,
museum-sh,conversion,45,2026-02-30,2026-03-07,
museum-sh,active_day_share,-5,2026-01-01,2026-01-07,
museum-sh,happiness,5,2026-01-01,2026-01-07,
museum-sh,availability,95,2026-03-01,2026-02-01,
museum-sh,conversion,50,2026-01-01,2026-01-07,the same goal again
"""


def _goals(db):
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT * FROM customer_goals ORDER BY id").fetchall()
    finally:
        conn.close()


def test_store_import_goals_refuses_a_bad_file_whole(tmp_path):
    db, config = store_with_customers(tmp_path, CUSTOMERS)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\ufeff".encode() + BAD.encode("utf-8"))
    result = run_collector("import-goals", bad, "--config", config)
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1] for e in errors] == ["3", "4", "5", "6", "7", "8"]
    assert "unknown customer 'nobody'" in errors[0]
    assert "start '2026-02-30' is not a date YYYY-MM-DD" in errors[1]
    assert "target '-5' must be a number >= 0" in errors[2]
    assert "unknown metric 'happiness'" in errors[3]
    assert "due 2026-02-01 is before start 2026-03-01" in errors[4]
    assert "the same goal as line 2" in errors[5]
    assert "refused" in result.stdout and "6 bad rows, nothing imported (goals)" in result.stdout
    assert _goals(db) == []


def test_store_import_goals_applies_attributes_and_reimports_as_no_change(tmp_path):
    db, config = store_with_customers(tmp_path, CUSTOMERS)
    good = tmp_path / "goals.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = run_collector("import-goals", good, "--config", config, "--by", "王芳")
    assert result.returncode == 0, result.stderr
    assert "imported 4 goals (4 new, 0 updated, 0 unchanged) as 王芳" in result.stdout
    rows = _goals(db)
    assert [r[1:9] for r in rows] == [
        ("museum-sh", "conversion", 45.0, "2026-01-01", "2026-01-07", "交互转化率 7 天内 45%", "王芳", "import"),
        ("museum-sh", "interactions_per_robot_day", 1000.0, "2026-01-01", "2026-03-31", "标杆", "王芳", "import"),
        ("ktv-la", "skill:delivery", 12.5, "2026-02-01", "2026-02-28", "", "王芳", "import"),
        ("ktv-la", "availability", 98.0, "2026-02-01", "2026-02-01", "one day", "王芳", "import"),
    ]
    again = run_collector("import-goals", good, "--config", config, "--by", "someone-else")
    assert again.returncode == 0, again.stderr
    assert "imported 4 goals (0 new, 0 updated, 4 unchanged) as someone-else" in again.stdout
    assert _goals(db) == rows  # not even the actor or updated_ms moved
    changed = tmp_path / "changed.csv"
    changed.write_text(GOOD.replace(",45,", ",50,"), encoding="utf-8")
    result = run_collector("import-goals", changed, "--config", config, "--by", "李雷")
    assert "imported 4 goals (0 new, 1 updated, 3 unchanged) as 李雷" in result.stdout
    first = _goals(db)[0]
    assert (first[0], first[3], first[7]) == (rows[0][0], 50.0, "李雷")


def test_store_import_goals_refuses_unusable_files(tmp_path):
    _, config = store_with_customers(tmp_path, CUSTOMERS)
    header = tmp_path / "h.csv"
    header.write_text("customer,metric\nx,y\n")
    result = run_collector("import-goals", header, "--config", config)
    assert result.returncode == 2 and "header lacks target, start, due" in result.stderr
    assert run_collector("import-goals", tmp_path / "missing.csv", "--config", config).returncode == 2
