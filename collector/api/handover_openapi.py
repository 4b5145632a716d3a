"""The OpenAPI entries of the handover routes (collector/api/handover.py): contacts, notes and the
handover itself.  Kept apart from openapi.py so that file only gains two lines; built with its
helpers, so the shapes match the rest of the document."""

from __future__ import annotations

from collector.api.handover import MAX_MONTHS, MAX_TIMELINE_DAYS, TIMELINE_DAYS
from collector.store.handover import CONTACT_FIELDS, EMAIL_RE, MAX_NOTE_TEXT, PHONE_RE

NONBLANK = r"\S"


def schemas(obj, ref, page_of, INT, STR, MS, ID) -> dict:
    text = lambda n: {"type": "string", "maxLength": n}  # noqa: E731
    contact_body = {f: text(n) for f, n in CONTACT_FIELDS.items()}
    contact_body["name"] = {**contact_body["name"], "pattern": NONBLANK,
                            "description": "required; one line; posting a known name updates that contact"}
    contact_body["phone"] = {**contact_body["phone"], "pattern": PHONE_RE.pattern + "|^$"}
    contact_body["email"] = {**contact_body["email"], "pattern": EMAIL_RE.pattern + "|^$"}
    return {
        "Note": obj({"id": INT, "customer": ID, "text": STR,
                     "author": {"type": "string", "description": "the token's person, else its name"},
                     "token": {"type": "string", "description": "the name of the token that wrote it"},
                     "created_ms": MS}),
        "NoteList": page_of("Note"),
        "NoteBody": obj({"text": {**text(MAX_NOTE_TEXT), "pattern": NONBLANK}}, ("text",), extra=False),
        "NoteCreated": obj({"note": ref("Note")}),
        "Contact": obj({"id": INT, "customer": ID, **{f: STR for f in CONTACT_FIELDS},
                        "actor": {"type": "string", "description": "who recorded or last changed it"},
                        "created_ms": MS, "updated_ms": MS}),
        "ContactList": obj({"items": {"type": "array", "items": ref("Contact")}, "total": INT}),
        "ContactBody": obj(contact_body, ("name",), extra=False),
        "ContactCreated": obj({"contact": ref("Contact"), "created": {"type": "boolean"}}),
        "ContactRemoved": obj({"id": INT, "removed": {"type": "boolean"}}),
        "ReportMonth": obj({"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                            "complete": {"type": "boolean"}}),
        "Handover": obj({
            "customer": ID, "timezone": {"type": "string", "nullable": True}, "days": INT, "since_ms": MS,
            "contacts": {"type": "array", "items": ref("Contact")},
            "notes": ref("NoteList"),
            "events": {"type": "array", "items": ref("Event")},
            "timeline": {"type": "array", "items": ref("AlertEvent")},
            "timeline_truncated": {"type": "boolean"},
            "first_data_ms": {**MS, "nullable": True},
            "months": {"type": "array", "items": ref("ReportMonth"), "maxItems": MAX_MONTHS}}),
    }


def paths(get, resp, path, q, ERR, NF, PAGE) -> dict:
    forbidden = {"403": resp("Error", "the token is not an admin")}

    def post(summary: str, body: str, answers: dict) -> dict:
        return {"summary": summary, "parameters": [path("customer id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": body}}}},
                "responses": {**answers, **ERR, **NF, **forbidden}}

    s = "#/components/schemas/"
    return {
        "/api/v1/customers/{id}/handover": get(
            "the customer's handover: contacts, notes, commercial events, the alert timeline of the last "
            "days, report months", resp("Handover", "the handover"),
            [path("customer id"), q("days", {"type": "integer", "minimum": 1, "maximum": MAX_TIMELINE_DAYS,
                                             "default": TIMELINE_DAYS}, "days of timeline")],
            {**ERR, **NF}),
        "/api/v1/customers/{id}/notes": {
            **get("the customer's CS notes, newest first", resp("NoteList", "notes"),
                  [path("customer id"), *PAGE], {**ERR, **NF}),
            "post": post("add a note (admin; attributed to the token's person, else its name)", s + "NoteBody",
                         {"201": resp("NoteCreated", "stored")})},
        "/api/v1/customers/{id}/contacts": {
            **get("the customer's contacts, by name", resp("ContactList", "contacts"), [path("customer id")],
                  {**ERR, **NF}),
            "post": post("add a contact, or update the one of that name (admin)", s + "ContactBody",
                         {"201": resp("ContactCreated", "added"),
                          "200": resp("ContactCreated", "a contact of that name, updated (or unchanged)")})},
        "/api/v1/customers/{id}/contacts/{contact}": {"delete": {
            "summary": "remove a contact (admin)",
            "parameters": [path("customer id"),
                           {"name": "contact", "in": "path", "required": True, "description": "contact id",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}}],
            "responses": {"200": resp("ContactRemoved", "removed"), **ERR, **NF, **forbidden}}},
    }
