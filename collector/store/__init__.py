"""SQLite store: one writer connection, read-only connections for readers, numbered migrations."""
