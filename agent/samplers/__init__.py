"""Sources of what the agent reports, one file each.

Polled samplers (``system``, ``network``) implement ``sample(t0_ms, t1_ms) -> Sample`` and are called
when a window closes; push sources (``statsd``, ``programmatic``) add counts to the window in
progress as they arrive.  The OS boundary is passed in (``ps=psutil``) so tests can hand a fake.
``REGISTRY`` maps names to ``"module:Class"`` strings and only the enabled ones are imported.
A failing sampler is logged and counted in ``agent.sampler_errors``; it never stops the loop.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

REGISTRY: dict[str, str] = {
    "system": "agent.samplers.system:SystemSampler",
    "network": "agent.samplers.network:NetworkSampler",
    "statsd": "agent.samplers.statsd:StatsdListener",
    "programmatic": "agent.samplers.programmatic:ProgrammaticSource",
}


@dataclass
class Sample:
    counts: dict[str, int] = field(default_factory=dict)
    gauges: dict[str, float] = field(default_factory=dict)


def load_class(name: str) -> type:
    module, _, cls = REGISTRY[name].partition(":")
    return getattr(importlib.import_module(module), cls)
