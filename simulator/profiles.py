"""Scene profiles: how much a robot of each scene is used, for what, and how often it errs.

The figures follow the scene differences of DOMAIN.md (museum: guide high, sign-in low; KTV:
delivery high, interaction low; scenic spot: interaction high, speech low; conference: sign-in and
lead-the-way high, guide low).  Rates are per robot per open hour for a fully engaged customer;
``rhythm`` spreads them over the day and the week.  A well-used scenic robot passes the benchmark
bar of DOMAIN.md (1,000 interactions a day), a museum robot does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Profile:
    scene: str
    #: per open hour: usage volumes and skills
    hourly: dict[str, float]
    #: Monday..Sunday multipliers
    weekly: tuple[float, ...]
    #: scene-specific error rates replacing BASE_ERRORS entries
    errors: dict[str, float] = field(default_factory=dict)
    #: network disconnect episodes per hour (venue Wi-Fi, outdoor 4G)
    disconnects_per_h: float = 0.05
    #: the venue cuts the robots' power at closing and they boot at opening (the README's
    #: "closing-time power cuts": no clean shutdown, the broker publishes their last will); other
    #: scenes leave them on at night, idle
    off_when_closed: bool = False


USAGE = ("usage.foot_traffic", "usage.solicitations", "usage.wakeups", "usage.interactions")


def _p(scene, foot, solicit, wake, inter, skills, weekly, errors=None, disc=0.05, off_when_closed=False):
    hourly = {"usage.foot_traffic": foot, "usage.solicitations": solicit, "usage.wakeups": wake,
              "usage.interactions": inter}
    hourly.update({f"skill.{k}": v for k, v in skills.items()})
    return Profile(scene, hourly, tuple(weekly), errors or {}, disc, off_when_closed)


PROFILES: dict[str, Profile] = {p.scene: p for p in (
    _p("museum", 420, 60, 55, 75, {"guide": 14, "sign_in": 0.5, "lead_way": 5, "speech": 3, "qa": 22},
       (0.6, 0.9, 0.9, 0.9, 1.0, 1.5, 1.5)),
    _p("ktv", 160, 18, 14, 22, {"delivery": 20, "lead_way": 6, "speech": 0.5, "qa": 3, "guide": 0.2},
       (0.7, 0.7, 0.8, 0.9, 1.3, 1.6, 1.4), {"asr.unrecognized": 0.09}),
    _p("scenic", 600, 90, 95, 115, {"guide": 6, "lead_way": 12, "speech": 0.3, "qa": 45, "sign_in": 0.2},
       (0.8, 0.8, 0.8, 0.8, 1.0, 1.7, 1.6), {"asr.unrecognized": 0.07}, disc=0.15),
    _p("conference", 320, 40, 45, 65, {"sign_in": 40, "lead_way": 26, "guide": 0.8, "speech": 3, "qa": 10},
       (1.2, 1.3, 1.3, 1.3, 1.1, 0.3, 0.2), off_when_closed=True),  # halls powered down at night
    _p("mall", 520, 70, 60, 85, {"lead_way": 20, "qa": 22, "guide": 3, "delivery": 1, "speech": 1},
       (0.8, 0.8, 0.8, 0.9, 1.1, 1.5, 1.4)),
    _p("bank", 130, 25, 30, 42, {"qa": 16, "sign_in": 10, "lead_way": 6, "guide": 1},
       (1.1, 1.1, 1.1, 1.1, 1.2, 0.4, 0.3)),
    _p("hospital", 300, 30, 50, 72, {"lead_way": 26, "sign_in": 15, "qa": 20, "guide": 2},
       (1.3, 1.1, 1.1, 1.1, 1.1, 0.7, 0.6)),
)}

#: error metric -> fraction of its catalogue denominator, for a healthy robot
BASE_ERRORS: dict[str, float] = {
    "vision.face_unrecognized": 0.06, "vision.face_errors": 0.004,
    "touch.no_response": 0.01, "touch.wrong_command": 0.005,
    "nav.start_failures": 0.01, "nav.interruptions": 0.02, "nav.lidar_faults": 0.002,
    "nav.localization_faults": 0.004, "nav.relocalization_faults": 0.003,
    "asr.unrecognized": 0.05, "asr.misrecognized": 0.03,
    "nlp.unhandled": 0.05, "nlp.errors": 0.004,
    "tts.failed": 0.003, "tts.errors": 0.002,
}

#: the request volumes behind the error rates, as multiples of the interactions (or foot traffic)
VOLUMES: dict[str, tuple[str, float]] = {
    "asr.requests": ("usage.interactions", 1.3),
    "nlp.requests": ("usage.interactions", 1.2),
    "tts.requests": ("usage.interactions", 1.4),
    "touch.taps": ("usage.interactions", 0.8),
    "vision.face_attempts": ("usage.foot_traffic", 0.25),
}
#: navigation tasks: every guide, delivery and lead-the-way, plus patrols per open hour
NAV_SKILLS = ("skill.guide", "skill.delivery", "skill.lead_way")
PATROLS_PER_H = 2.0


def _raw_shape(x: float) -> float:
    return 0.55 + 0.8 * math.sin(math.pi * min(1.0, max(0.0, x))) ** 1.5


_SHAPE_MEAN = sum(_raw_shape((i + 0.5) / 1000) for i in range(1000)) / 1000


def day_shape(x: float) -> float:
    """Usage across the opening hours (x: 0 at opening, 1 at closing), mean 1: a slow start,
    a busy middle of the day, a quiet last hour."""
    return _raw_shape(x) / _SHAPE_MEAN


def error_rate(scene: str, metric: str) -> float:
    return PROFILES[scene].errors.get(metric, BASE_ERRORS[metric])
