"""``robopulse collector import-robots`` (contract section 6): the asset registry from a CSV, a
file with any bad row refused whole naming each line and reason, and a second import of the same
file changing nothing."""

from __future__ import annotations

import subprocess

from tests.plugins.api import connect_store
from tests.support.procs import robopulse_cmd

CUSTOMERS = "id,name\nacme,Acme\nmuseum-sh,上海博物馆\n"
GOOD = """robot,customer,site,activated,model,notes
r-0001,acme,acme-hq,2026-03-01,GreetBot 2,extra column ignored
r-0002,acme,acme-hq,,,
r-0101,museum-sh,hall-1,2026-04-15,GuideBot,
"""
BAD = """robot,site,customer,activated
r-0001,acme-hq,acme,2026-03-01
R 2,acme-hq,acme,2026-03-01
r-0003,acme-hq,nobody,2026-03-01
r-0004,acme-hq,acme,2026-02-30
r-0001,hall-1,museum-sh,2026-03-01
r-0005,hall-1,museum-sh,01/03/2026
"""


def _run(command, csv_path, config):
    return subprocess.run(robopulse_cmd("collector", command, str(csv_path), "--config", str(config)),
                          capture_output=True, text=True, timeout=60)


def _registry(db):
    conn = connect_store(db)
    try:
        return {r[0]: r[1:] for r in conn.execute(
            "SELECT robot, customer, site, activated, model, updated_ms FROM robot_registry")}
    finally:
        conn.close()


def test_store_import_robots_refuses_a_bad_file_whole_and_is_idempotent(tmp_path, store_url):
    db = store_url
    config = tmp_path / "c.toml"
    config.write_text(f'[collector]\ndb = "{db}"\n')
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    assert _run("import-customers", tmp_path / "customers.csv", config).returncode == 0

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD, encoding="utf-8")
    result = _run("import-robots", bad, config)
    assert result.returncode == 1, result.stderr
    errors = result.stderr.strip().splitlines()
    assert [e.split(":")[1] for e in errors] == ["3", "4", "5", "6", "7"]
    assert "robot 'R 2' must match" in errors[0]
    assert "customer 'nobody' is unknown" in errors[1]
    assert "activated '2026-02-30' is not a date" in errors[2]
    assert "'r-0001' is on line 2 with customer 'acme' and here with 'museum-sh'" in errors[3]
    assert "activated '01/03/2026' is not a date" in errors[4]
    assert "nothing imported" in result.stdout
    assert _registry(db) == {}  # not even line 2, which was good

    good = tmp_path / "robots.csv"
    good.write_bytes("\ufeff".encode() + GOOD.encode("utf-8"))
    result = _run("import-robots", good, config)
    assert result.returncode == 0, result.stderr
    assert "imported 3 robots (3 new, 0 updated, 0 unchanged)" in result.stdout
    first = _registry(db)
    assert {k: v[:4] for k, v in first.items()} == {
        "r-0001": ("acme", "acme-hq", "2026-03-01", "GreetBot 2"),
        "r-0002": ("acme", "acme-hq", None, ""),
        "r-0101": ("museum-sh", "hall-1", "2026-04-15", "GuideBot"),
    }
    result = _run("import-robots", good, config)
    assert result.returncode == 0 and "(0 new, 0 updated, 3 unchanged)" in result.stdout
    assert _registry(db) == first  # not even updated_ms moved

    good.write_text(GOOD.replace("r-0002,acme,acme-hq,,", "r-0002,acme,acme-annex,2026-05-01,"), encoding="utf-8")
    result = _run("import-robots", good, config)
    assert "(0 new, 1 updated, 2 unchanged)" in result.stdout
    assert _registry(db)["r-0002"][:3] == ("acme", "acme-annex", "2026-05-01")

    headless = tmp_path / "headless.csv"
    headless.write_text("robot,customer,site\nr-9,acme,x\n", encoding="utf-8")
    result = _run("import-robots", headless, config)
    assert result.returncode == 2 and "header lacks activated" in result.stderr
