"""``robopulse collector report``: write one customer's report to a file, or every customer's for a
month into a folder, with a progress line per customer and the list of what was written.

The format follows the file's suffix (``.pdf`` or ``.html``); for ``--all`` it is ``--format``
(default pdf).  Each file is written whole or not at all (the PDF through a ``.part`` file, the
HTML likewise), so an interrupted ``--all`` leaves no half report behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from collector.report import build, pdf, render
from collector.report.period import ReportError
from collector.store.seam import ReadStore

FORMATS = ("pdf", "html")


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ReportError(400, f"--out {path}: the file must end in .pdf or .html")
    return suffix


def write(figures: dict, out: Path, fmt: str, browser: str | None = None) -> None:
    html = render.document(figures, render.language_of(figures))
    if fmt == "pdf":
        pdf.html_to_pdf(html, out, browser)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, out)


def write_one(reads: ReadStore, customer: str, month: str, out: str, now_ms: int, health,
              browser: str | None = None) -> Path:
    """The customer's report of ``month`` to ``out``; raises ``ReportError`` or ``pdf.PdfError``."""
    fmt = format_of(out)
    figures = build.report(reads, customer, month, now_ms, health)
    write(figures, Path(out), fmt, browser)
    return Path(out)


def write_all(reads: ReadStore, month: str, out_dir: str, now_ms: int, health, fmt: str = "pdf",
              browser: str | None = None, progress: TextIO | None = None,
              on_line: Callable[[str], None] | None = None) -> tuple[list[Path], list[tuple[str, str]], list[tuple[str, str]]]:
    """Every customer's report of ``month`` into ``out_dir`` as ``<customer>-<month>.<fmt>``.
    Returns (written, skipped, failed): a customer with no data by then is skipped with the
    reason; a failure (the browser) is reported and the others still written."""
    if fmt not in FORMATS:
        raise ReportError(400, f"--format must be pdf or html, not {fmt}")
    if fmt == "pdf":
        pdf.find_browser(browser)  # fail before the first customer, not at each
    customers = reads.report_customers()
    written: list[Path] = []
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    say = on_line or (lambda line: progress.write(line + "\n") if progress else None)
    for i, (cid, _name) in enumerate(customers, 1):
        target = Path(out_dir) / f"{cid}-{month}.{fmt}"
        try:
            figures = build.report(reads, cid, month, now_ms, health)
        except ReportError as exc:
            if exc.status == 400 and "not a month" in exc.message:
                raise
            skipped.append((cid, exc.message))
            say(f"[{i}/{len(customers)}] {cid}: skipped ({exc.message})")
            continue
        try:
            write(figures, target, fmt, browser)
        except (pdf.PdfError, OSError) as exc:
            failed.append((cid, str(exc)))
            say(f"[{i}/{len(customers)}] {cid}: FAILED ({exc})")
            continue
        written.append(target)
        note = "" if figures["has_data"] else " (no data this month: the report says so)"
        say(f"[{i}/{len(customers)}] {cid}: wrote {target}{note}")
    return written, skipped, failed
