"""The ``robopulse`` entry point.  It only dispatches: each group's module is imported (a plain
``import`` inside the function that runs that group) only when the group is asked for, so
``robopulse agent ...`` never imports the collector's web stack."""

from __future__ import annotations

import sys
from collections.abc import Callable


def _agent(argv: list[str]) -> int | None:
    import agent.cli

    return agent.cli.main(argv)


def _collector(argv: list[str]) -> int | None:
    import collector.cli

    return collector.cli.main(argv)


def _sim(argv: list[str]) -> int | None:
    import simulator.cli

    return simulator.cli.main(argv)


def _demo(argv: list[str]) -> int | None:
    import simulator.demo

    return simulator.demo.main(argv)


#: command group -> (the function that runs it, what it does)
GROUPS: dict[str, tuple[Callable[[list[str]], int | None], str]] = {
    "agent": (_agent, "run, status and check-config on the robot"),
    "collector": (_collector, "run the cloud collector, import customers"),
    "sim": (_sim, "drive simulated robots through the real agent code"),
    "demo": (_demo, "broker + collector + simulated fleet on this machine"),
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
    run, _doc = group
    return run(argv[1:]) or 0


if __name__ == "__main__":
    raise SystemExit(main())
