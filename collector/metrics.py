"""The collector's own metrics, rendered as Prometheus text at ``GET /metrics``.

A tiny registry (no client library: a few dozen lines beat a dependency).  Names follow
``robopulse_<thing>_<unit>_total`` for counters; labels are low-cardinality (``reason``, never
a raw message).  Thread-safe: the ingest thread, the writer and the event loop all count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{_escape(str(v))}"' for n, v in zip(names, values)) + "}"


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labelnames: tuple[str, ...] = ()):
        self.name, self.help, self.labelnames = name, help_text, tuple(labelnames)
        self._values: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.labelnames)

    def value(self, **labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0)

    def samples(self) -> list[tuple[str, tuple[str, ...], float]]:
        with self._lock:
            return [(self.name, key, value) for key, value in sorted(self._values.items())]

    def render(self) -> str:
        lines = [f"# HELP {self.name} {_escape(self.help)}", f"# TYPE {self.name} {self.kind}"]
        for name, key, value in self.samples():
            lines.append(f"{name}{_labels(self.labelnames, key)} {_format(value)}")
        return "\n".join(lines)


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Counter(_Metric):
    kind = "counter"

    def inc(self, n: float = 1, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0) + n

    def preset(self, *label_values: tuple[str, ...]) -> None:
        """Show zero-valued series up front (e.g. every reject reason) so dashboards see them."""
        with self._lock:
            for values in label_values:
                self._values.setdefault(tuple(values), 0)


class Gauge(_Metric):
    kind = "gauge"

    def __init__(self, name, help_text, labelnames=(), fn: Callable[[], float] | None = None):
        super().__init__(name, help_text, labelnames)
        self._fn = fn

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = value

    def samples(self):
        if self._fn is not None:
            return [(self.name, (), float(self._fn()))]
        return super().samples()


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def _get(self, cls, name, help_text, labelnames, **kw):
        with self._lock:
            metric = self._metrics.get(name)
            if metric is None:
                metric = self._metrics[name] = cls(name, help_text, tuple(labelnames), **kw)
            elif not isinstance(metric, cls):
                raise ValueError(f"{name} already registered as {metric.kind}")
            return metric

    def counter(self, name: str, help_text: str, labelnames=()) -> Counter:
        return self._get(Counter, name, help_text, labelnames)

    def gauge(self, name: str, help_text: str, labelnames=(), fn=None) -> Gauge:
        return self._get(Gauge, name, help_text, labelnames, fn=fn)

    def render(self) -> str:
        with self._lock:
            metrics = list(self._metrics.values())
        return "\n".join(m.render() for m in metrics) + "\n"

    def get(self, name: str) -> _Metric | None:
        with self._lock:
            return self._metrics.get(name)

    def snapshot(self) -> dict[tuple[str, tuple[str, ...]], tuple[str, float]]:
        """``{(name, label values): (kind, value)}`` of every counter and set gauge (gauges read
        through a function are left out): what a child process ships to its parent."""
        with self._lock:
            metrics = [m for m in self._metrics.values() if getattr(m, "_fn", None) is None]
        out = {}
        for m in metrics:
            with m._lock:
                for key, value in m._values.items():
                    out[(m.name, key)] = (m.kind, value)
        return out


#: the process-wide registry (one collector per process)
REGISTRY = Registry()
