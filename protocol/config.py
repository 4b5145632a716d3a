"""TOML configuration with environment overrides, validated against a table of options.

Every option of the agent and the collector (``[health]``, ``[alerts.<rule>]`` and ``[notify]``
included) is one ``Option`` row; a module's rows form its table, and the same table feeds
defaults, validation, ``check-config`` and the docs.  ``load_table`` checks one TOML table against
its rows; ``from_mapping`` and ``load`` check a whole file of sections.  Results are frozen
``Values`` objects read by attribute (``config.mqtt.port``).  ``ROBOPULSE_<SECTION>_<KEY>`` in the
environment overrides the file where the caller passes an environment.  Every problem raises
``ConfigError`` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "ROBOPULSE_"
REQUIRED = object()


class ConfigError(ValueError):
    def __init__(self, key: str, reason: str):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Option:
    """One option: ``section.key``, its type, default (or ``REQUIRED``), meaning and check.

    ``items``: for a ``list`` option whose entries are tables (``[[http.tokens]]``), the rows each
    entry is checked against (their ``section`` is unused); the value becomes a tuple of ``Values``."""

    section: str
    key: str
    type: type  # str, int, float, bool or list
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None  # returns a reason when the value is bad
    items: tuple[Option, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}_{self.key.upper()}"


def setting(section: str, key: str, default: Any, doc: str,
            check: Callable[[Any], str | None] | None = None) -> Option:
    """An ``Option`` whose type is its default's: the rows of ``[health]``, ``[alerts]``, ``[notify]``."""
    return Option(section, key, type(default), default, doc, check)


class Values:
    """The checked values of an option table, frozen, read by attribute: ``config.collector.db``,
    ``settings.min_volume``, ``config.http.tokens[0].role``, ``settings.alerts.usage_drop.min_volume``.

    Attribute access only: a subscript (``config["collector"]``), ``in`` or ``.get`` fails (TypeError,
    AttributeError), so no caller reads options as the former nested dicts did.  A missing option is an
    AttributeError naming it; ``getattr(values, name)`` reads an option whose name is computed
    (``f"{sub}_warn"``).  ``as_dict()`` is the one way to list them (docs, tests).  ``Values`` compare
    equal when their options are, and pickle (the writer process gets its config this way)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | Values = (), /, **more: Any):
        base = values.as_dict() if isinstance(values, Values) else dict(values)
        object.__setattr__(self, "_values", {**base, **more})

    def __getattr__(self, name: str) -> Any:
        if name == "_values":  # not set yet (never by the constructor): no recursion
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no option {name!r} (options: {', '.join(self._values)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"config values are frozen (cannot set {name})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"config values are frozen (cannot delete {name})")

    def __eq__(self, other: object) -> bool:
        return self._values == other._values if isinstance(other, Values) else NotImplemented

    __hash__ = None  # some options are lists or tables

    def __reduce__(self):
        return (Values, (self._values,))

    def __repr__(self) -> str:
        return f"Values({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"

    def as_dict(self) -> dict[str, Any]:
        """The options as a new ``{name: value}`` dict, in table order (one level: nested ``Values``
        stay ``Values``), for listing them; code reads one option by attribute."""
        return dict(self._values)

    def replace(self, **changes: Any) -> Values:
        """A copy with ``changes`` (no checks: for values derived after validation)."""
        return Values(self._values, **changes)


def _coerce(option: Option, value: Any, from_env: bool) -> Any:
    kind = option.type
    if from_env:
        try:
            if kind is bool:
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                return low in ("1", "true", "yes", "on")
            if kind is int:
                return int(value)
            if kind is float:
                return float(value)
            if kind is list:
                return [item.strip() for item in value.split(",") if item.strip()]
        except ValueError:
            raise ConfigError(option.name, f"{option.env}={value!r} is not a {kind.__name__}") from None
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(option.name, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def _frozen(option: Option, value: Any, name: str) -> Any:
    """Lists become tuples; entries of a list of tables become ``Values`` checked against ``items``."""
    if option.type is not list:
        return value
    if not option.items:
        return tuple(value)
    out = []
    for i, entry in enumerate(value):
        key = f"{name}[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(key, "must be a table")
        out.append(load_table(entry, option.items, key))
    return tuple(out)


def load_table(table: Any, options: tuple[Option, ...], name: str,
               env: Mapping[str, str] | None = None) -> Values:
    """One TOML table (None: empty) checked against ``options`` -> Values; errors name ``name.key``.

    ``env`` (none by default) overrides values by each option's ``ROBOPULSE_<SECTION>_<KEY>``."""
    table = {} if table is None else table
    if not isinstance(table, Mapping):
        raise ConfigError(name, "must be a table")
    known = {o.key: o for o in options}
    for key in table:
        if key not in known:
            raise ConfigError(f"{name}.{key}", "unknown key")
    env = {} if env is None else env
    out: dict[str, Any] = {}
    for option in options:
        key = f"{name}.{option.key}"
        if option.env in env:
            value = _coerce(option, env[option.env], from_env=True)
        elif option.key in table:
            try:
                value = _coerce(option, table[option.key], from_env=False)
            except ConfigError as exc:
                raise ConfigError(key, exc.reason) from None
        elif option.default is REQUIRED:
            raise ConfigError(key, "is required")
        else:
            value = option.default
        if option.check is not None and value is not None:
            reason = option.check(value)
            if reason:
                raise ConfigError(key, reason)
        out[option.key] = _frozen(option, value, key)
    return Values(out)


def read_toml(path: str | os.PathLike) -> dict[str, Any]:
    """A TOML file as a dict; a missing or unparsable file is a ConfigError on the key ``file``."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("file", f"{p} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("file", f"{p} is not valid TOML: {exc}") from None


def load(path: str | os.PathLike | None, options: tuple[Option, ...],
         env: Mapping[str, str] | None = None,
         ignore_sections: tuple[str, ...] = ()) -> Values:
    """Read ``path`` (None: defaults and environment only) into ``Values`` of one ``Values`` per section.

    ``ignore_sections`` are left to the caller (tables checked by their own parser)."""
    env = os.environ if env is None else env
    raw = read_toml(path) if path is not None else {}
    return from_mapping(raw, options, env=env, ignore_sections=ignore_sections)


def from_mapping(raw: Mapping[str, Any], options: tuple[Option, ...],
                 env: Mapping[str, str] | None = None,
                 ignore_sections: tuple[str, ...] = ()) -> Values:
    """A mapping shaped like the TOML file (plus ``env`` overrides, none by default) into ``Values``
    of one ``Values`` per section, with exactly the checks a file gets: the simulator builds agent configs this way."""
    sections: dict[str, list[Option]] = {}
    for option in options:
        sections.setdefault(option.section, []).append(option)
    for section in raw:
        if section not in sections and section not in ignore_sections:
            raise ConfigError(section, "unknown section")
    return Values({s: load_table(raw.get(s), tuple(rows), s, env=env) for s, rows in sections.items()})


# small reusable checks -------------------------------------------------------------

def positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def fraction(value: Any) -> str | None:
    return None if 0 <= value <= 1 else "must be between 0 and 1"


def at_least(low: float, why: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low:g} ({why})"
    return check


def in_range(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"
    return check


def host_port(value: str) -> str | None:
    """``host:port``; an empty string means disabled."""
    if value == "":
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        return f"{value!r} is not host:port"
    return None


def markdown_table(options: tuple[Option, ...]) -> str:
    """The options as a Markdown table, for docs (a docs test compares it with the docs)."""
    rows = ["| key | type | default | environment | meaning |", "|---|---|---|---|---|"]
    for o in options:
        default = "(required)" if o.default is REQUIRED else repr(o.default)
        rows.append(f"| `{o.name}` | {o.type.__name__} | `{default}` | `{o.env}` | {o.doc} |")
    return "\n".join(rows)

