"""The handover page's script (collector/dashboard/static/handover.js) asks only for catalogue keys
that exist in both languages, and names every commercial event kind and contact field it shows
(the page walk in tests/e2e/ then checks what is really on screen)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from collector.dashboard.routes import STATIC
from collector.store.events import KINDS
from collector.store.handover import CONTACT_FIELDS

SOURCE = (Path(STATIC) / "handover.js").read_text(encoding="utf-8")
MESSAGES = json.loads((Path(STATIC) / "messages.json").read_text(encoding="utf-8"))["messages"]


def test_dashboard_handover_keys_exist_in_both_languages():
    keys = set(re.findall(r"""\bt\(\s*"([\w.]+)"\s*[,)]""", SOURCE))
    assert len(keys) > 30
    for lang in ("en", "zh-CN"):
        assert sorted(k for k in keys if k not in MESSAGES[lang]) == [], lang


def test_dashboard_handover_names_every_fixed_term():
    names = [f"event_kind.{k}" for k in KINDS]
    names += [f"handover.contact.{f}" for f in CONTACT_FIELDS]
    assert [n for n in names if n not in MESSAGES["en"] or n not in MESSAGES["zh-CN"]] == []


def test_dashboard_handover_script_is_loaded_after_app():
    html = (Path(STATIC) / "index.html").read_text(encoding="utf-8")
    assert html.index("/static/app.js") < html.index("/static/handover.js")
