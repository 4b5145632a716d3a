"""What the health loop keeps between cycles (``HealthMemory``): only saves work, never changes a result.

- ``views``: the store's cache of complete buckets (``ViewCache``, its contents the backend's);
- ``assess``: per robot, the inputs of its last assessment and the result (kept while they hold);
- ``written``: per robot, the ``robot_health`` row last written, when, and its levels (None until
  the first cycle after a start takes the stored rows).

Dropped (replaced by a new one) after a failed cycle: the write may have been rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from collector.store.seam import RobotHealthRow, ViewCache


class Written(NamedTuple):
    """A robot's row as last written, when (``computed_ms``) and the levels that must reach the
    store at once (``cycle.levels``)."""

    row: RobotHealthRow
    written_ms: int
    levels: tuple


@dataclass
class HealthMemory:
    views: ViewCache = field(default_factory=ViewCache)
    assess: dict[str, tuple[tuple, dict]] = field(default_factory=dict)
    written: dict[str, Written] | None = None

    #: names tests use to look at what is kept (``memory["buckets"]``, ``"today" in memory``)
    _VIEW_FIELDS = ("buckets", "hour_base", "today")

    def __getitem__(self, name: str) -> Any:
        return getattr(self.views if name in self._VIEW_FIELDS else self, name)

    def __contains__(self, name: str) -> bool:
        value = getattr(self.views if name in self._VIEW_FIELDS else self, name, None)
        return value is not None and value != {}
