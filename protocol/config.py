"""TOML configuration with environment overrides, validated against a table of options.

The agent and the collector each declare their options as one tuple of ``Option`` rows (the
same table feeds defaults, validation, ``check-config`` and docs).  ``ROBOPULSE_<SECTION>_<KEY>``
in the environment overrides the file.  Every problem raises ``ConfigError`` naming the key.
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
    section: str
    key: str
    type: type  # str, int, float, bool or list
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None  # returns a reason when the value is bad

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def env(self) -> str:
        return f"{ENV_PREFIX}{self.section.upper()}_{self.key.upper()}"


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
         ignore_sections: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Read ``path`` (None: defaults and environment only) into ``{section: {key: value}}``.

    ``ignore_sections`` are left to the caller (nested tables parsed elsewhere)."""
    env = os.environ if env is None else env
    raw = read_toml(path) if path is not None else {}
    return from_mapping(raw, options, env=env, ignore_sections=ignore_sections)


def from_mapping(raw: Mapping[str, Any], options: tuple[Option, ...],
                 env: Mapping[str, str] | None = None,
                 ignore_sections: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """A mapping shaped like the TOML file (plus ``env`` overrides, none by default) into
    ``{section: {key: value}}``, with exactly the checks a file gets: the simulator builds agent
    configs this way."""
    env = {} if env is None else env
    known = {(o.section, o.key): o for o in options}
    sections = {o.section for o in options}
    for section, body in raw.items():
        if section in ignore_sections:
            continue
        if section not in sections:
            raise ConfigError(section, "unknown section")
        if not isinstance(body, Mapping):
            raise ConfigError(section, "must be a table")
        for key in body:
            if (section, key) not in known:
                raise ConfigError(f"{section}.{key}", "unknown key")
    out: dict[str, dict[str, Any]] = {s: {} for s in sections}
    for option in options:
        if option.env in env:
            value = _coerce(option, env[option.env], from_env=True)
        elif option.key in raw.get(option.section, {}):
            value = _coerce(option, raw[option.section][option.key], from_env=False)
        elif option.default is REQUIRED:
            raise ConfigError(option.name, "is required")
        else:
            value = option.default
        if option.check is not None and value is not None:
            reason = option.check(value)
            if reason:
                raise ConfigError(option.name, reason)
        out[option.section][option.key] = value
    return out


# small reusable checks -------------------------------------------------------------

def positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def at_least(low: float, why: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low:g} ({why})"
    return check


def in_range(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"
    return check


def one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
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
