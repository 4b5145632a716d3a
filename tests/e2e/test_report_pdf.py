"""Issue 15, must-show: ``robopulse collector report`` as a CS person runs it.  ``--all`` over a
demo-like store finishes and lists what it wrote; the PDF of a Chinese customer and of an English
one read back with poppler (pdftotext: the customer's name and the month's totals; pdftoppm: the
pages as PNG, kept in test-output/ and shown in docs/report.md); bad months refused naming them.

One ``--all`` run (module fixture) makes every PDF the other tests read, so Chromium prints each
customer once.  The month is the last complete one by the wall clock: the CLI has no fake clock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collector.report.period import last_month
from tests.support.report_month import CUSTOMERS, build, build_demo

ROBOPULSE = str(Path(sys.executable).parent / "robopulse")
MONTH = last_month(int(time.time() * 1000), "Asia/Shanghai")
pytestmark = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("chromium")),
                                reason="needs chromium and poppler-utils (make test installs them)")


def run(*args: str, config: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOPULSE_")}
    return subprocess.run([ROBOPULSE, "collector", "report", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-cli")
    built = build(root / "store.db", MONTH)
    config = root / "collector.toml"
    config.write_text(f'[collector]\ndb = "{built.path}"\n', encoding="utf-8")
    return built, config, root


@pytest.fixture(scope="module")
def all_run(store):
    built, config, root = store
    out = root / "reports"
    done = run("--all", "--month", MONTH, "--out", str(out), config=config)
    return done, out


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pages(path: Path, out_dir: Path, prefix: str) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), str(out_dir / prefix)], check=True)
    return sorted(out_dir.glob(f"{prefix}-*.png"))


def test_report_cli_all_finishes_and_lists_what_it_wrote(all_run, store):
    done, out = all_run
    assert done.returncode == 0, done.stderr
    with_data = [c[0] for c in CUSTOMERS if c[3]]
    expected = [out / f"{cid}-{MONTH}.pdf" for cid in with_data]
    assert done.stdout.splitlines()[0] == f"wrote {len(expected)} reports for {MONTH} to {out}:"
    for path in expected:
        assert f"  {path}" in done.stdout.splitlines() and path.read_bytes().startswith(b"%PDF")
    assert f"skipped never-seen: customer never-seen has no data yet: no report for month {MONTH}" in done.stdout
    progress = done.stderr.splitlines()
    assert [line.split(":")[0] for line in progress if line.startswith("[")] == [
        f"[{i}/{len(CUSTOMERS)}] {cid}" for i, cid in enumerate(sorted(c[0] for c in CUSTOMERS), 1)]
    assert not list(out.glob("*.part"))


def test_report_pdf_of_a_chinese_customer_reads_back(all_run, store, output_dir):
    built, _, _ = store
    pdf = all_run[1] / f"nanjing-museum-{MONTH}.pdf"
    text = pdf_text(pdf)
    sums = built.sums[("nanjing-museum", MONTH)]
    assert "南京博物院" in text and "月度价值报告" in text
    assert f"{int(MONTH[:4])}年{int(MONTH[5:])}月" in text
    for metric in ("usage.interactions", "usage.foot_traffic"):
        assert f"{sums[metric]:,}" in text, metric
    assert "风险" in text and "建议的下一步" in text
    shots = pages(pdf, output_dir, "report-zh")
    assert 2 <= len(shots) <= 4 and all(p.stat().st_size > 10_000 for p in shots)


def test_report_pdf_of_an_english_customer_reads_back(all_run, store, output_dir):
    built, _, _ = store
    pdf = all_run[1] / f"harbour-mall-{MONTH}.pdf"
    text = pdf_text(pdf)
    sums = built.sums[("harbour-mall", MONTH)]
    assert "Harbour City Mall" in text and "Monthly value report" in text
    for metric in ("usage.interactions", "usage.foot_traffic"):
        assert f"{sums[metric]:,}" in text, metric
    assert "Availability in opening hours" in text and "Recommended next steps" in text
    shots = pages(pdf, output_dir, "report-en")
    assert 2 <= len(shots) <= 4


def test_report_pdf_of_a_month_without_data_says_so(all_run):
    text = pdf_text(all_run[1] / f"quiet-bank-{MONTH}.pdf")
    assert "城市银行" in text and "没有上报任何数据" in text
    assert "异常次数" not in text  # no table of zeros


def test_report_cli_one_customer_to_html_and_bad_months(store, tmp_path):
    built, config, _ = store
    out = tmp_path / "mall.html"
    done = run("--customer", "harbour-mall", "--month", MONTH, "--out", str(out), config=config)
    assert done.returncode == 0 and done.stdout.strip() == f"wrote {out}", done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    future = run("--customer", "harbour-mall", "--month", "2999-01", "--out", str(out), config=config)
    assert future.returncode == 2 and "month 2999-01 has not begun yet" in future.stderr
    early = run("--customer", "harbour-mall", "--month", "2001-01", "--out", str(out), config=config)
    assert early.returncode == 2 and "month 2001-01 is before customer harbour-mall's first data" in early.stderr
    wrong = run("--customer", "harbour-mall", "--month", MONTH, "--out", str(tmp_path / "x.docx"), config=config)
    assert wrong.returncode == 2 and "must end in .pdf or .html" in wrong.stderr


def test_report_cli_all_writes_every_demo_customers_report(tmp_path):
    """``--all`` over the built-in demo's eight customers (as html: each PDF is the same HTML printed,
    shown above) writes one report each, in Chinese, and lists them all."""
    db = tmp_path / "store.db"
    customers = build_demo(db, MONTH, int(time.time() * 1000))
    config = tmp_path / "collector.toml"
    config.write_text(f'[collector]\ndb = "{db}"\n', encoding="utf-8")
    out = tmp_path / "reports"
    done = run("--all", "--month", MONTH, "--out", str(out), "--format", "html", config=config)
    assert done.returncode == 0, done.stderr
    assert len(customers) == 8
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote 8 reports for {MONTH} to {out}:"
    for cid, name in customers:
        path = out / f"{cid}-{MONTH}.html"
        assert f"  {path}" in lines
        html = path.read_text(encoding="utf-8")
        assert name in html and "月度价值报告" in html and 'data-has-data="true"' in html


def test_report_cli_reads_the_percentile_peers_from_the_config(store, tmp_path):
    """Issue 13: a percentile among peers only from ``health.percentile_min_peers`` of them, the
    setting of the collector's own config: by default (5) the museum's one peer gets no rank and the
    report says so; a config that allows ranking one peer shows the rank."""
    built, config, _ = store
    out = tmp_path / "museum.html"
    done = run("--customer", "nanjing-museum", "--month", MONTH, "--out", str(out), config=config)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "同行数量太少，不做排名（至少需要 5 家才给出百分位）" in html and "百分位。" not in html.replace("给出百分位）。", "")
    one = tmp_path / "one.toml"
    one.write_text(config.read_text(encoding="utf-8") + "\n[health]\npercentile_min_peers = 1\n", encoding="utf-8")
    done = run("--customer", "nanjing-museum", "--month", MONTH, "--out", str(out), config=one)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "与另外 1 家博物馆场景客户相比：台均每日导览 + 交互位于第 100 百分位。" in html and "不做排名" not in html
