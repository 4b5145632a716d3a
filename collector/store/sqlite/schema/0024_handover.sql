-- Handover (issue 15, seed 003): who to talk to at each customer and what CS knows about it, so a
-- CSM taking over an account finds the whole context in one place.  Written by the API (admin
-- tokens), each row attributed to the token's person (issue 14: [[http.tokens]] person).

-- The customer's people: one row per name (posting a known name again updates that contact).
CREATE TABLE customer_contacts (
    id          INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL DEFAULT '',   -- their job at the customer (馆长, IT 负责人, ...)
    phone       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    wechat      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL,              -- who recorded or last changed it (token person, else name)
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (customer, name)
);

-- CS notes on the account, kept for good (never edited, never deleted): the handover's history.
CREATE TABLE customer_notes (
    id          INTEGER PRIMARY KEY,
    customer    TEXT NOT NULL,
    text        TEXT NOT NULL,
    author      TEXT NOT NULL,              -- the token's person, else its name
    token       TEXT NOT NULL,              -- the token's name (which credential wrote it)
    created_ms  INTEGER NOT NULL
);

CREATE INDEX customer_notes_customer ON customer_notes (customer, created_ms);
