"""The ``robopulse`` entry point.  It only dispatches: each group's module is imported when that
group is asked for, so ``robopulse agent ...`` never imports the collector's web stack."""

from __future__ import annotations

import importlib
import sys

GROUPS = {
    "agent": ("agent.cli", "run, status and check-config on the robot"),
    "collector": ("collector.cli", "run the cloud collector, import customers"),
    "sim": ("simulator.cli", "drive simulated robots through the real agent code"),
    "demo": ("simulator.demo", "broker + collector + simulated fleet on this machine"),
}

USAGE = "usage: robopulse {" + ",".join(GROUPS) + "} ...\n\n" + "\n".join(
    f"  {name:<10} {doc}" for name, (_, doc) in GROUPS.items()
) + "\n\nrobopulse GROUP --help shows a group's commands.\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    if argv[0] == "--version":
        from importlib.metadata import version

        print(version("robopulse"))
        return 0
    group = GROUPS.get(argv[0])
    if group is None:
        sys.stderr.write(f"robopulse: unknown command {argv[0]!r}\n\n{USAGE}")
        return 2
    module = importlib.import_module(group[0])
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    raise SystemExit(main())
