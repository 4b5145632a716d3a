"""Times are integer milliseconds since the Unix epoch, UTC (docs/contract.md section 1).  Rollups bucket
a window by the UTC hour and day holding its ``t0``: the store writes them, health and the counters
route read them, so the bucket arithmetic lives here once."""

HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def hour_start(ms: int) -> int:
    """The start of the UTC hour holding ``ms``."""
    return ms - ms % HOUR_MS


def day_start(ms: int) -> int:
    """The start of the UTC day holding ``ms``."""
    return ms - ms % DAY_MS
