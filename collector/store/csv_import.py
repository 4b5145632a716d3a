"""What every ``robopulse collector import-…`` command shares (docs/contract.md section 6): a UTF-8
CSV (a BOM is fine) with a header row, extra columns ignored, each row checked on its own, and a file
with any bad row refused whole, naming each bad line and its reason, with nothing applied.

Why one module: the customers, robots and events imports each had their own copy of the reading
loop and the refusal, and a rule the contract sets for all of them (refuse the file whole) had
drifted apart (import-customers applied the good rows of a bad file).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from protocol.topics import is_valid_id

Row = TypeVar("Row")


@dataclass
class Report(Generic[Row]):
    """The good rows of a file and ``(line, reason)`` for every bad one."""

    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse(text: str, required: tuple[str, ...], expected: str, make_row: Callable[[Mapping[str, str]], Row],
          key: Callable[[Row], Hashable], duplicate: Callable[[Row, int, Row], str]) -> Report[Row]:
    """Each non-blank row through ``make_row`` (which raises ValueError with the reason); a row
    whose ``key`` an earlier row had is bad (``duplicate(row, first_line, first_row)`` says why).
    Raises ValueError for a header lacking a ``required`` column (``expected`` names the header)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"header lacks {', '.join(missing)} (expected {expected})")
    reader.fieldnames = header
    report: Report[Row] = Report()
    seen: dict[Hashable, tuple[int, Row]] = {}
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.errors.append((reader.line_num, f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any((v or "").strip() for k, v in record.items() if k is not None and isinstance(v, str)):
            continue  # blank line
        try:
            row = make_row(record)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        if key(row) in seen:
            report.errors.append((line, duplicate(row, *seen[key(row)])))
            continue
        seen[key(row)] = (line, row)
        report.rows.append(row)
    return report


def stored_customer(value: str, known: set[str]) -> str:
    """A row's ``customer`` cell (stripped) when it names one of the ``known`` (stored) customers: the
    events and goals rows belong to a customer imported before them.  Raises ValueError with the
    reason."""
    if not value:
        raise ValueError("customer is empty")
    if not is_valid_id(value):
        raise ValueError(f"customer {value[:40]!r} must match ^[a-z0-9][a-z0-9_-]{{0,63}}$")
    if value not in known:
        raise ValueError(f"unknown customer {value!r} (import it with import-customers first)")
    return value


def read_text(path: str, command: str, err) -> str | None:
    """The file's text, or None after saying on ``err`` why it cannot be used (exit status 2)."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8")
    except (FileNotFoundError, IsADirectoryError):
        print(f"{command}: {path} does not exist", file=err)
    except UnicodeDecodeError as exc:
        print(f"{command}: {path} is not UTF-8 (byte {exc.start}); save it as CSV UTF-8", file=err)
    return None


def load(path: str, command: str, err, parse_text: Callable[[str], Report[Row]]) -> Report[Row] | int:
    """The file parsed, or the exit status when it cannot be used (2, said on ``err``)."""
    text = read_text(path, command, err)
    if text is None:
        return 2
    try:
        return parse_text(text)
    except ValueError as exc:  # the header
        print(f"{command}: {path}: {exc}", file=err)
        return 2


def checked(path: str, command: str, what: str, out, err,
            parse_text: Callable[[str], Report[Row]]) -> Report[Row] | int:
    """The file parsed when every row is good, else the exit status: 2 when it cannot be used
    (``load``), 1 when it has bad rows (``refuse``: each named, nothing applied)."""
    report = load(path, command, err, parse_text)
    if isinstance(report, int):
        return report
    if report.errors:
        return refuse(path, report, what, out, err)
    return report


def refuse(path: str, report: Report, what: str, out, err) -> int:
    """A file with bad rows: each named on ``err`` as ``FILE:LINE: reason``, nothing applied (1)."""
    for line, reason in report.errors:
        print(f"{path}:{line}: {reason}", file=err)
    print(f"refused {path}: {len(report.errors)} bad rows, nothing imported ({what})", file=out)
    return 1
