"""Takes docs/img/dashboard.png from a running demo (how the README's screenshot was made).

    robopulse demo --port 0 --data-dir /tmp/demo &      # wait two minutes
    python docs/img/screenshot.py /tmp/demo/demo.json
    python docs/img/screenshot.py /tmp/demo/demo.json docs/img/outcomes-zh.png '#/outcomes?group=csm' zh-CN
    python docs/img/screenshot.py /tmp/demo/demo.json docs/img/csm-zh.png '#/csm/<name>' zh-CN

outcomes-zh.png and csm-zh.png in this folder were taken by tests/e2e/test_api_outcomes_dashboard.py
(test-output/, the hand-checked book of tests/integration/test_api_outcomes.py and the api fixtures).

Headless Chromium from the distribution through Playwright; signs in with the demo's viewer token.
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright


def main(info_path: str, out: str = str(Path(__file__).with_name("dashboard.png")), hash_: str = "",
         locale: str = "en-US") -> None:
    """``hash_``: the page to open after signing in (``#/outcomes``, ``#/csm/<name>``); default the overview."""
    info = json.loads(Path(info_path).read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 480}, device_scale_factor=1, locale=locale)
        page.goto(info["url"])
        page.fill("#token", info["viewer_token"])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("table tbody tr", timeout=20_000)
        if hash_:
            page.goto(info["url"].rstrip("/") + "/" + hash_)
            page.wait_for_selector("main table tbody tr", timeout=20_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=out, full_page=bool(hash_))
        browser.close()
    print(out)


if __name__ == "__main__":
    main(*sys.argv[1:])
