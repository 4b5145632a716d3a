"""The parts the PostgreSQL backend does not have yet (issue 16): ``health`` (the evaluator's
reads and health rows) and ``reads`` (the HTTP API).  Any use raises ``NotImplementedError``
naming the part, so a collector pointed at PostgreSQL fails loudly where it would need them,
never silently with empty answers.  Closing is allowed (``Store.close`` closes every part)."""

from __future__ import annotations

from typing import Any


class MissingPart:
    def __init__(self, part: str):
        self._part = part

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"the PostgreSQL store has no {self._part} part yet ({self._part}.{name}: "
                                  "issue 16, docs/scale.md)")
