"""A customer's lifecycle stage, seed 002's seven: signing, launch, growth, maturity, decline,
renewal, churn, each with the reason it was chosen.

Why: a CSM treats a customer by where it is in its life (a new one needs launching, a mature one
upselling, a declining one rescuing, one near its end date renewing), and seed 002 names these
stages.  The stage is computed every health cycle from what the store knows: the contract's dates,
the robots' first data (onboarding), the usage trend, the dormant verdict and the commercial events
(renewal, expansion, churn).  The first rule that holds wins, in this order (docs/health.md,
"Lifecycle stage"):

1. ``churn``: a churn event not followed by a renewal, or the contract ended more than
   ``CHURN_GRACE_DAYS`` ago with no renewal recorded;
2. ``signing``: the contract starts in the future, or no robot has sent data yet;
3. ``renewal``: the contract ends within ``RENEWAL_DAYS`` (or ended within the grace);
4. ``launch``: the customer's first robot sent its first data less than ``LAUNCH_DAYS`` ago;
5. ``decline``: the fleet is dormant, or interactions fell by ``DECLINE_PCT`` or more against the
   7 days before (with at least ``MIN_VOLUME`` interactions per robot per day before);
6. ``growth``: an expansion in the last ``EXPANSION_DAYS``, interactions up by ``GROWTH_PCT`` or
   more, or live for less than ``RAMP_DAYS``;
7. ``maturity``: live, steady, none of the above.

Plain functions of a customer's assessed health (``collector.health.customer.assess``), its row,
its robots' rows and its latest events; days are the customer's local days.
"""

from __future__ import annotations

import datetime as dt

from protocol.timeunits import DAY_MS, local_day

STAGES = ("signing", "launch", "growth", "maturity", "decline", "renewal", "churn")

#: days after the contract end, with no renewal recorded, before the customer counts as churned
#: (the outcome rates' grace for a late renewal is the same order: a renewal weeks late is common)
CHURN_GRACE_DAYS = 30
#: days before the contract end from which the customer is in its renewal stage
RENEWAL_DAYS = 90
#: days since the first robot's first data during which the customer is launching
LAUNCH_DAYS = 30
#: days since the first robot's first data during which a steady customer is still growing
RAMP_DAYS = 180
#: days an expansion keeps the customer in growth
EXPANSION_DAYS = 90
#: fall of interactions, last 7 days against the 7 before, at or beyond which usage declines (%)
DECLINE_PCT = 20.0
#: rise of interactions, last 7 days against the 7 before, at or beyond which usage grows (%)
GROWTH_PCT = 10.0
#: interactions per robot per day in the 7 days before, below which no trend is judged
MIN_VOLUME = 5.0


def _days_between(first: str, today: int) -> int | None:
    """Local days from the date ``first`` (``YYYY-MM-DD``) to the local day ``today`` (label ms)."""
    try:
        d = dt.date.fromisoformat(first)
    except (TypeError, ValueError):
        return None
    return (today - int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) * 1000) // DAY_MS


def _out(stage_: str, code: str, reason: str, **args) -> dict:
    """The verdict: ``stage``, ``reason`` (English, for the API and logs) and ``code`` + ``args``, the
    same reason as a catalogue key and its values, so the dashboard says it in its own language."""
    return {"stage": stage_, "reason": reason, "code": code, "args": args}


def stage(health: dict, customer: dict, robot_rows: list[dict], events: dict[str, dict], today: int,
          off: int) -> dict:
    """``{stage, reason, code, args}`` for one customer: ``health`` from ``customer.assess``,
    ``customer`` its row (contract dates), ``events`` its latest event of each kind
    (``{kind: {date, robots, amount}}``), ``today`` its local day label, ``off`` its UTC offset."""
    facts = health["facts"]
    deal = facts.get("contract") or {}
    to_end, end = deal.get("days_to_renewal"), deal.get("contract_end")
    renewal, churn, expansion = events.get("renewal"), events.get("churn"), events.get("expansion")

    if churn and not (renewal and renewal["date"] > churn["date"]):
        return _out("churn", "churn_recorded", f"churn recorded on {churn['date']}", date=churn["date"])
    if to_end is not None and to_end < -CHURN_GRACE_DAYS:
        return _out("churn", "churn_lapsed", f"contract ended {end}, {-to_end} days ago, with no renewal recorded",
                    date=end, days=-to_end)

    start = customer.get("contract_start")
    before_start = _days_between(start, today) if start else None
    if before_start is not None and before_start < 0:
        return _out("signing", "signing_future", f"contract signed, starts {start} (in {-before_start} days)",
                    date=start, days=-before_start)
    firsts = [r["first_seen_ms"] for r in robot_rows if r.get("first_seen_ms")]
    if not firsts:
        return _out("signing", "signing_no_data", "contract signed, no robot has sent data yet")

    if to_end is not None and to_end <= RENEWAL_DAYS:
        if to_end < 0:
            return _out("renewal", "renewal_ended", f"contract ended {-to_end} days ago ({end}), no renewal "
                        "recorded yet", date=end, days=-to_end)
        return _out("renewal", "renewal_due", f"contract ends in {to_end} days ({end}), no renewal recorded yet",
                    date=end, days=to_end)

    first = local_day(min(firsts), off)
    live = (today - first) // DAY_MS
    first_day = dt.datetime.fromtimestamp(first / 1000, dt.UTC).date().isoformat()
    if live < LAUNCH_DAYS:
        return _out("launch", "launch", f"first robot live since {first_day} ({live} days)", date=first_day, days=live)

    use = facts.get("usage") or {}
    robots = max(1, health["robots"]["total"])
    trend = use.get("trend_7d_pct")
    judged = trend is not None and use.get("interactions_prev_7d", 0) / (7 * robots) >= MIN_VOLUME
    if facts.get("dormant"):
        idle = facts["dormant"]["idle_days"]
        return _out("decline", "decline_dormant", facts["dormant"]["reason"], days=idle)
    if judged and trend <= -DECLINE_PCT:
        return _out("decline", "decline_drop", f"interactions {trend:+.0f}% against the previous 7 days", change=trend)

    out = _grown(expansion, judged, trend, live, first_day, today)
    if renewal:
        out["reason"] += f"; renewed on {renewal['date']}"
        out["args"]["renewed"] = renewal["date"]
    return out


def _grown(expansion: dict | None, judged: bool, trend: float | None, live: int, first_day: str,
           today: int) -> dict:
    """``growth`` or ``maturity`` for a live customer that is not declining."""
    expanded = _days_between(expansion["date"], today) if expansion else None
    if expanded is not None and 0 <= expanded < EXPANSION_DAYS:
        more = f" (+{expansion['robots']} robots)" if expansion.get("robots") else ""
        return _out("growth", "growth_expansion", f"expansion on {expansion['date']}{more}", date=expansion["date"],
                    robots=expansion.get("robots") or 0)
    if judged and trend >= GROWTH_PCT:
        return _out("growth", "growth_trend", f"interactions {trend:+.0f}% against the previous 7 days", change=trend)
    if live < RAMP_DAYS:
        return _out("growth", "growth_ramp", f"ramping up: live since {first_day} ({live} days)",
                    date=first_day, days=live)
    if trend is None:
        return _out("maturity", "maturity_no_trend", f"live since {first_day} ({live} days), no usage trend to judge",
                    date=first_day, days=live)
    return _out("maturity", "maturity", f"live since {first_day} ({live} days), interactions {trend:+.0f}% week "
                "on week", date=first_day, days=live, change=trend)


def attach(health_store, customers: dict[str, dict], customer_rows: dict[str, dict],
           robot_rows: dict[str, list[dict]], now_ms: int) -> None:
    """Each customer's stage into its facts (``facts.lifecycle``: stage, reason, code, args)."""
    events = health_store.latest_events()
    for cid, c in customers.items():
        row = customer_rows.get(cid) or {}
        off = row.get("offset_ms") or 0
        today = c.get("local_day") or local_day(now_ms, off)
        c["facts"]["lifecycle"] = stage(c, row, robot_rows.get(cid, []), events.get(cid, {}), today, off)
