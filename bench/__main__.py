"""``python -m bench [NAME ...]``: run benchmarks (all when no name is given), one after another.

Each benchmark is a module ``bench/<name>.py`` with a ``main(argv)``; its own ``--help`` lists its
options (duration, sizes).  Results are printed as markdown and copied into docs/benchmarks.md by hand,
together with the command, because figures depend on the machine.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available())}",
              file=sys.stderr)
        return 2
    failed = 0
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] bench.{name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        rc = importlib.import_module(f"bench.{name}").main([]) or 0
        print(f"[{i}/{len(names)}] bench.{name} finished in {time.monotonic() - started:.0f} s (exit {rc})",
              file=sys.stderr, flush=True)
        failed += rc != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
