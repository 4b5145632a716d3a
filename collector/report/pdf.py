"""The report as a PDF: the report's HTML printed by the system's Chromium (headless).

Why Chromium and not a PDF library (docs/report.md "Why the browser prints the PDF"): the dashboard
page, the saved .html file and the PDF are then one rendering of one HTML and one print style, so
a chart that fits the page on screen fits it on paper; CJK text, SVG and CSS grid come for free;
and the tests already need Chromium (Makefile SYSTEM_DEPS), so the PDF adds no Python dependency
(WeasyPrint would add its own layout engine with its own CSS gaps, plus Pango and Cairo; reportlab
a second layout of every section written by hand).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

#: executable names tried in order (Debian: chromium; Ubuntu snaps and others)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120


class PdfError(RuntimeError):
    """No browser to print with, or it failed: the message says which and how to fix it."""


def find_browser(explicit: str | None = None) -> str:
    """The browser to print with: ``explicit``, else ``$ROBOPULSE_CHROMIUM``, else the first of
    ``CANDIDATES`` on the PATH."""
    for name in (explicit, os.environ.get("ROBOPULSE_CHROMIUM"), *CANDIDATES):
        if name and (found := shutil.which(name)):
            return found
    raise PdfError("no Chromium to print the PDF with: install the distribution's chromium package "
                   "(apt-get install chromium), set ROBOPULSE_CHROMIUM, or write .html instead")


def html_to_pdf(html: str, out: Path, browser: str | None = None) -> None:
    """Print ``html`` (a whole document) to ``out`` as A4 pages, written whole or not at all."""
    exe = find_browser(browser)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="robopulse-report-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        args = [exe, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={Path(tmp) / 'profile'}",
                "--no-pdf-header-footer", "--virtual-time-budget=5000", f"--print-to-pdf={pdf}", src.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run its sandbox as root
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{exe} did not finish printing within {TIMEOUT_S} s") from exc
        if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise PdfError(f"{exe} failed to print the PDF (exit {done.returncode}): {' | '.join(tail)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".part")
        shutil.copyfile(pdf, partial)
        os.replace(partial, out)
