"""Contacts and notes per customer (issue 15's handover page): what a posted contact or note must be.

Checked here once, before the store sees it, so that every way in (today the API's POST; an
import later) refuses the same bad input with the same message.  A message names the field and
the rule, never echoes more than 40 characters of what was sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

#: longest note: a page of text, so a meeting's minutes fit but a pasted export does not
MAX_NOTE_TEXT = 4000
#: the contact's fields and their longest value; ``name`` is required
CONTACT_FIELDS = {"name": 100, "role": 100, "phone": 40, "email": 200, "wechat": 60, "note": 500}
PHONE_RE = re.compile(r"^[0-9+()\- ]{3,40}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContactRow(NamedTuple):
    customer: str
    name: str
    role: str
    phone: str
    email: str
    wechat: str
    note: str


def _text(value: object, field: str, longest: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    value = value.strip()
    if len(value) > longest:
        raise ValueError(f"{field} must be at most {longest} characters")
    if any(not c.isprintable() and c not in "\n\t" for c in value):
        raise ValueError(f"{field} must not contain control characters")
    return value


def note_text(body: Mapping) -> str:
    """The note's text from a posted ``{"text": ...}``: required, not blank, at most MAX_NOTE_TEXT."""
    unknown = set(body) - {"text"}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    if "text" not in body:
        raise ValueError("text is required")
    text = _text(body["text"], "text", MAX_NOTE_TEXT)
    if not text:
        raise ValueError("text must not be blank")
    return text


def contact_row(customer: str, body: Mapping) -> ContactRow:
    """A contact from a posted object: ``name`` required; ``phone`` digits, spaces and ``+-()``;
    ``email`` one ``@`` and a dotted domain; every field trimmed and bounded (CONTACT_FIELDS)."""
    unknown = set(body) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
    cells = {}
    for field, longest in CONTACT_FIELDS.items():
        value = body.get(field)
        cells[field] = "" if value is None else _text(value, field, longest)
    if not cells["name"]:
        raise ValueError("name is required")
    if "\n" in cells["name"]:
        raise ValueError("name must be one line")
    if cells["phone"] and not PHONE_RE.match(cells["phone"]):
        raise ValueError(f"phone {cells['phone'][:40]!r} may hold only digits, spaces and + - ( )")
    if cells["email"] and not EMAIL_RE.match(cells["email"]):
        raise ValueError(f"email {cells['email'][:40]!r} is not an e-mail address")
    return ContactRow(customer, **cells)
