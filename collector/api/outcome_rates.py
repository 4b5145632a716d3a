"""The outcome rates of contract section 6 (seed 002), as one plain function over rows.

``compute(customers, events, start, end, today, group)`` takes what ``ReadStore.outcome_inputs``
returns and dates as ``YYYY-MM-DD`` strings (they compare as dates).  Definitions (docs/api.md,
"Outcome rates", says the same for people):

- a customer's **terms**: its original contract end, then each renewal's new end, in the order of
  the renewals' dates.  Renewal *i* replaced term *i* (its ``previous_end``, kept by the store), so
  "due" is judged on the contract as it stood before any renewal;
- **due** in the period: a term end within ``start..end``; the customer counts once, judged on its
  last term due in the period.  **ARR due**: the customer's ``arr``;
- **renewed**: that term was replaced by a renewal dated no later than ``RENEWAL_GRACE_DAYS`` after
  it (an early renewal, even before the period, counts); **renewed ARR**: that renewal's amount;
- **under contract at the start**: contract started on or before ``start`` (or no start recorded)
  and the end in force on ``start`` (after the renewals dated up to then) is on or after it;
  **ARR at the start**: their ``arr``;
- **expanding**: customers with an expansion dated in the period; expansion ARR: their amounts;
- **referred**: customers whose referral event is dated in the period; their signed ARR.  Grouped by
  the *referrer*'s CSM, scene, tier or distributor (the book that earned the referral);
- **ARR at risk**: ``arr`` of customers not green (yellow, red, or no health yet) whose contract
  end is within ``today..today+90``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo
from collections import defaultdict
from collections.abc import Iterable

GROUPS = ("csm", "scene", "tier", "distributor")
RENEWAL_GRACE_DAYS = 30
RISK_DAYS = 90
DUE_BANDS = (30, 60, 90)

#: the per-group figures, in the CSV's column order after ``group`` and ``key``
FIELDS = ("customers_due", "customers_renewed", "renewal_rate_by_count", "arr_due", "arr_renewed",
          "renewal_rate_by_amount", "customers_at_start", "arr_at_start", "customers_expanded",
          "arr_expanded", "expansion_rate_by_count", "expansion_rate_by_amount", "customers_referred",
          "arr_referred", "referral_rate_by_count", "referral_rate_by_amount", "customers_churned",
          "arr_at_risk")


def plus_days(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def pct(part: float, whole: float) -> float | None:
    """Percent with two decimals; ``None`` when there is nothing to divide by."""
    return None if not whole else round(100.0 * part / whole, 2)


class _Tally:
    """Numerators and denominators of one group (sets of customer ids, sums of ARR)."""

    def __init__(self) -> None:
        self.due: set[str] = set()
        self.renewed: set[str] = set()
        self.at_start: set[str] = set()
        self.expanded: set[str] = set()
        self.referred: set[str] = set()
        self.churned: set[str] = set()
        self.arr_due = self.arr_renewed = self.arr_at_start = 0.0
        self.arr_expanded = self.arr_referred = self.arr_at_risk = 0.0

    def figures(self) -> dict:
        return {
            "customers_due": len(self.due), "customers_renewed": len(self.renewed),
            "renewal_rate_by_count": pct(len(self.renewed), len(self.due)),
            "arr_due": round(self.arr_due, 2), "arr_renewed": round(self.arr_renewed, 2),
            "renewal_rate_by_amount": pct(self.arr_renewed, self.arr_due),
            "customers_at_start": len(self.at_start), "arr_at_start": round(self.arr_at_start, 2),
            "customers_expanded": len(self.expanded), "arr_expanded": round(self.arr_expanded, 2),
            "expansion_rate_by_count": pct(len(self.expanded), len(self.at_start)),
            "expansion_rate_by_amount": pct(self.arr_expanded, self.arr_at_start),
            "customers_referred": len(self.referred), "arr_referred": round(self.arr_referred, 2),
            "referral_rate_by_count": pct(len(self.referred), len(self.at_start)),
            "referral_rate_by_amount": pct(self.arr_referred, self.arr_at_start),
            "customers_churned": len(self.churned), "arr_at_risk": round(self.arr_at_risk, 2),
        }


def _terms(customer: dict, renewals: list[dict]) -> list[tuple[str | None, dict | None]]:
    """``(term end, the renewal that replaced it or None)`` in order: the original end first."""
    ends = [renewals[0]["previous_end"] if renewals else customer["contract_end"]]
    ends += [r["contract_end"] for r in renewals]
    return [(e, renewals[i] if i < len(renewals) else None) for i, e in enumerate(ends)]


def _end_in_force(terms: list[tuple[str | None, dict | None]], day: str) -> str | None:
    """The contract end as it stood on ``day``: after the renewals dated up to ``day``."""
    end = terms[0][0]
    for i, (_, renewal) in enumerate(terms):
        if renewal is not None and renewal["date"] <= day:
            end = terms[i + 1][0]
    return end


def team_today(at_ms: int, zone: str | None) -> dt.date:
    """The date at ``at_ms`` in ``zone`` (the CS team's ``[health] timezone``; empty: Asia/Shanghai):
    the "today" renewals due and ARR at risk count from, in the outcomes route and a CSM's book."""
    return dt.datetime.fromtimestamp(at_ms / 1000, ZoneInfo(zone or "Asia/Shanghai")).date()


def compute(customers: Iterable[dict], events: Iterable[dict], start: str, end: str, today: str,
            group: str | None = None) -> dict:
    """The rates for ``start..end`` inclusive, overall and per ``group`` value (a customer without
    one falls under the key ``""``), plus the renewals due in the next 30/60/90 days."""
    customers = list(customers)
    by_id = {c["id"]: c for c in customers}
    renewals: dict[str, list[dict]] = defaultdict(list)
    in_period: list[dict] = []
    for e in events:
        if e["kind"] == "renewal":
            renewals[e["customer"]].append(e)
        if start <= e["date"] <= end:
            in_period.append(e)
    for rows in renewals.values():
        rows.sort(key=lambda r: (r["date"], r["id"]))

    overall = _Tally()
    groups: dict[str, _Tally] = defaultdict(_Tally)

    def tallies(customer_id: str) -> list[_Tally]:
        c = by_id.get(customer_id)
        if group is None or c is None:
            return [overall]
        return [overall, groups[c[group] or ""]]

    risk_until = plus_days(today, RISK_DAYS)
    for c in customers:
        if group is not None:
            groups[c[group] or ""]  # every key that has a customer gets a row
        terms = _terms(c, renewals.get(c["id"], []))
        due = [(e, r) for e, r in terms if e is not None and start <= e <= end]
        if due:
            term_end, renewal = due[-1]
            renewed = renewal is not None and renewal["date"] <= plus_days(term_end, RENEWAL_GRACE_DAYS)
            for t in tallies(c["id"]):
                t.due.add(c["id"])
                t.arr_due += c["arr"]
                if renewed:
                    t.renewed.add(c["id"])
                    t.arr_renewed += renewal["amount"]
        in_force = _end_in_force(terms, start)
        if (c["contract_start"] is None or c["contract_start"] <= start) and in_force is not None \
                and in_force >= start:
            for t in tallies(c["id"]):
                t.at_start.add(c["id"])
                t.arr_at_start += c["arr"]
        if c["color"] != "green" and c["contract_end"] is not None and today <= c["contract_end"] <= risk_until:
            for t in tallies(c["id"]):
                t.arr_at_risk += c["arr"]
    for e in in_period:
        if e["kind"] == "expansion":
            for t in tallies(e["customer"]):
                t.expanded.add(e["customer"])
                t.arr_expanded += e["amount"]
        elif e["kind"] == "referral":
            for t in tallies(e["referred_by"]):
                t.referred.add(e["customer"])
                t.arr_referred += e["amount"]
        elif e["kind"] == "churn":
            for t in tallies(e["customer"]):
                t.churned.add(e["customer"])
    return {
        "from": start, "to": end, "group": group, "today": today,
        "renewal_grace_days": RENEWAL_GRACE_DAYS,
        "overall": overall.figures(),
        "groups": [{"key": key, **groups[key].figures()} for key in sorted(groups)],
        "renewals_due": renewals_due(customers, today),
    }


def renewals_due(customers: list[dict], today: str) -> dict:
    """Customers whose contract ends in the next 30/60/90 days (cumulative bands), soonest first,
    each with its health."""
    horizon = plus_days(today, DUE_BANDS[-1])
    items = []
    for c in customers:
        if c["contract_end"] is None or not today <= c["contract_end"] <= horizon:
            continue
        left = (dt.date.fromisoformat(c["contract_end"]) - dt.date.fromisoformat(today)).days
        items.append({"customer": c["id"], "name": c["name"], "csm": c["csm"], "distributor": c["distributor"],
                      "contract_end": c["contract_end"], "days_left": left, "arr": c["arr"],
                      "score": c["score"], "color": c["color"],
                      "within": next(b for b in DUE_BANDS if left <= b)})
    items.sort(key=lambda i: (i["contract_end"], i["customer"]))
    out: dict = {}
    for band in DUE_BANDS:
        inside = [i for i in items if i["days_left"] <= band]
        out[f"days_{band}"] = {"customers": len(inside), "arr": round(sum(i["arr"] for i in inside), 2)}
    out["customers"] = items
    return out
