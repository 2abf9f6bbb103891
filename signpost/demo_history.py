"""Fictional front-door history for the reports: `flask demo history --months 24` (and `make run`).

A baseline year of contacts recorded by the front door with about 40% ending in No Further
Action, then Signpost: school and health staff move onto it month by month, more concerns are
signposted to universal services or early help, and NFA falls, with a real front door's noise.
Deterministic for a seed; nothing here is a real child, person or service.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import deque

from . import workdays
from .values import CONTACT_CHANNELS, URGENCIES

# Referral sources with national shares (Children in Need census: police ~28%, schools ~21%, health ~14%).
SOURCE_SHARES = (("6", 28), ("2A", 19), ("2B", 2), ("3A", 3), ("3B", 3), ("3C", 2), ("3D", 2), ("3E", 2),
                 ("3F", 2), ("5A", 3), ("5B", 3), ("5C", 2), ("5D", 2), ("1A", 5), ("1C", 1), ("1D", 2),
                 ("4", 2), ("7", 3), ("8", 5), ("9", 1), ("10", 8))
# The organisations Signpost serves (school and health staff), by census source code.
SIGNPOST_SOURCES = {"2A": ("school", "dsl"), "2B": ("education", "early_years"), "3A": ("gp", "gp"),
                    "3B": ("health_visiting", "health_visitor"), "3C": ("school_nursing", "school_nurse"),
                    "3D": ("primary_health", "midwife"), "3E": ("emergency", "other_health"),
                    "3F": ("other_health", "other_health")}
AGE_BAND_SHARES = (("unborn", 3), ("under 1", 9), ("1 to 4", 22), ("5 to 9", 25), ("10 to 15", 32),
                   ("16 to 17", 9))
SEASON = {1: 1.0, 2: 1.0, 3: 1.05, 4: 0.95, 5: 1.05, 6: 1.05, 7: 0.95, 8: 0.75, 9: 1.05, 10: 1.1,
          11: 1.1, 12: 0.9}
NOT_NFA = (("early_help", 28), ("assessment_s17", 50), ("strategy_s47", 15), ("already_open", 5),
           ("other_council", 1), ("lado", 1))
# Referrals Signpost recommended for social care that the front door kept: mostly assessments.
NOT_NFA_SOCIAL_CARE = (("early_help", 11), ("assessment_s17", 60), ("strategy_s47", 22), ("already_open", 5),
                       ("other_council", 1), ("lado", 1))
FIRST_NAMES = ("Alfie", "Bea", "Callum", "Daisy", "Ellis", "Freya", "Idris", "Jade", "Kai", "Lola", "Milo",
               "Nia", "Oscar", "Poppy", "Reuben", "Sana", "Theo", "Una", "Wren", "Zac", "Amara", "Bilal")
LAST_NAMES = ("Ashdown", "Brackley", "Cobbold", "Dunmere", "Elstow", "Fenwick", "Garside", "Holloway",
              "Inchley", "Jessop", "Kettering", "Lomax")
BAND_YEARS = {"unborn": (0, 0), "under 1": (0, 0), "1 to 4": (1, 4), "5 to 9": (5, 9), "10 to 15": (10, 15),
              "16 to 17": (16, 17)}


def shown(version, route: str, level: int, concerns, reason_ids: list[str], urgency: str) -> dict:
    """What a demo journey's summary shows (journey.shown's shape): its level, reasons and the route's
    steps in its version, so a demo referrer's "My referrals" summaries read like real ones."""
    doc = version.document
    rules = {rule.id: rule for rule in doc.rules}
    reasons = [{"kind": "rule", "id": rid, "text": rules[rid].reason, "level": rules[rid].raise_to}
               for rid in reason_ids if rid in rules]
    reasons += [{"kind": "indicator", "id": c.id, "text": c.text, "level": c.level} for c in concerns]
    first = list(doc.same_day.next_steps) if urgency == "same_day" and doc.same_day else []
    return {"level_name": version.levels[level].name, "reasons": reasons,
            "next_steps": first + list(getattr(doc.routes, route).next_steps), "lado_steps": [],
            "urgent_reasons": [], "services": [], "overdue_for_review": False}


def _pick(rng: random.Random, shares) -> str:
    return rng.choices([v for v, _w in shares], weights=[w for _v, w in shares])[0]


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclasses.dataclass
class Child:
    first_name: str
    last_name: str
    date_of_birth: dt.date
    age_band: str


class History:
    """Builds the rows; store.history writes them."""

    def __init__(self, library, *, referrers: dict[str, int], front_door: int, now: dt.datetime,
                 months: int = 24, per_month: int = 240, seed: int = 2026, child_key=None):
        self.library, self.referrers, self.front_door = library, referrers, front_door
        self.now, self.months, self.per_month = now, months, per_month
        self.rng = random.Random(seed)
        self.child_key = child_key or (lambda details: None)
        self.first = _month_start(now.date(), months - 1)
        self.signpost_from = _month_start(now.date(), months - 1 - months // 2)
        self.contacts: list[dict] = []
        self.journeys: list[dict] = []
        self.recent: deque[tuple[dt.datetime, Child]] = deque()
        self.follow_ups: list[tuple[dt.datetime, Child, str, str]] = []
        self._pools: dict[str, dict[str, list]] = {}
        # A few concerns that staff read too high: referrals they decide end in NFA far more often.
        self.misread: dict[str, float] = {}
        self.serial = 0

    # -- the threshold version's concerns, by the route they lead to -------------------------
    def pools(self, version) -> dict[str, list]:
        if version.id not in self._pools:
            pools: dict[str, list] = {"universal": [], "early_help": [], "social_care": []}
            for indicator in version.document.indicators:
                if not indicator.immediate:
                    pools[version.route_of_level(indicator.level)].append(indicator)
            rules = [r.id for r in version.document.rules if getattr(r, "kind", "") == "cumulative"
                     or type(r).__name__ == "CumulativeRule"]
            self._pools[version.id] = {**pools, "rules": rules}
            for indicator in pools["social_care"]:
                self.misread.setdefault(indicator.id, 0.3 if self.rng.random() < 0.15 else 0.0)
        return self._pools[version.id]

    # -- times ------------------------------------------------------------------------------
    def received(self, month: dt.date) -> dt.datetime:
        days = (_month_start(month, -1) - month).days
        while True:
            day = month + dt.timedelta(days=self.rng.randrange(days))
            if workdays.is_working_day(day) or self.rng.random() < 0.2:
                break
        return dt.datetime.combine(day, dt.time(self.rng.randint(7, 18), self.rng.randrange(60),
                                                self.rng.randrange(60)))

    def decided(self, received: dt.datetime) -> dt.datetime | None:
        """When the front door decided: usually within one working day, sometimes late, recent ones pending."""
        due = workdays.due_by(received)
        if due > self.now and self.rng.random() < 0.5:
            return None
        if self.rng.random() < 0.86:
            at = received + (due - received) * self.rng.uniform(0.05, 0.98)
        else:
            at = due + dt.timedelta(hours=self.rng.uniform(2, 60))
        return at if at <= self.now else None

    # -- items ------------------------------------------------------------------------------
    def outcome(self, nfa_chance: float, otherwise=NOT_NFA) -> str:
        if self.rng.random() < nfa_chance:
            return "nfa" if self.rng.random() < 0.65 else "nfa_advice"
        return _pick(self.rng, otherwise)

    def contact(self, received: dt.datetime, source: str, nfa_chance: float) -> None:
        decided = self.decided(received)
        consultation = self.rng.random() < 0.08
        self.serial += 1
        self.contacts.append({
            "reference": f"DEMO-FD-{self.serial:06d}", "received_at": received, "source_code": source,
            "channel": _pick(self.rng, [(c, 6 if c == "phone" else 2) for c in CONTACT_CHANNELS]),
            "age_band": _pick(self.rng, AGE_BAND_SHARES), "urgency": self.urgency(),
            "outcome": "advice_given" if consultation else self.outcome(nfa_chance),
            "decided_at": decided or received + dt.timedelta(hours=3)})

    def urgency(self) -> str:
        return _pick(self.rng, [(u, {"emergency": 2, "same_day": 15}.get(u, 83)) for u in URGENCIES])

    def child(self, received: dt.datetime) -> Child:
        # About one referral in five is a re-referral: a child referred in the 12 months before.
        while self.recent and self.recent[0][0] < received - dt.timedelta(days=365):
            self.recent.popleft()
        if self.recent and self.rng.random() < 0.2:
            return self.rng.choice(self.recent)[1]
        band = _pick(self.rng, AGE_BAND_SHARES)
        low, high = BAND_YEARS[band]
        born = received.date() - dt.timedelta(days=int(365.25 * self.rng.uniform(low, high + 0.99)))
        if band == "unborn":
            born = received.date() + dt.timedelta(days=self.rng.randint(20, 150))
        return Child(self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES), born, band)

    def journey(self, received: dt.datetime, source: str, kind: str | None, *, child: Child | None = None,
                route: str | None = None, follows: str | None = None) -> None:
        """One Signpost assessment; kind None means it never reached the front door (signposted).

        follows: the reference of the consultation whose advice this referral was made from."""
        completed = received - dt.timedelta(minutes=1)  # the version in force then is the one recorded
        version = self.library.in_force(workdays.uk_local(completed).date())
        pools = self.pools(version)
        organisation, role = SIGNPOST_SOURCES[source]
        if route is None:
            route = {"early_help_request": "early_help", "consultation": _pick(
                self.rng, (("early_help", 5), ("social_care", 3), ("universal", 2)))}.get(kind) or (
                "social_care" if kind == "referral" and self.rng.random() < 0.82 else
                _pick(self.rng, (("universal", 5), ("early_help", 5))) if kind is None or kind == "referral"
                else "early_help")
        concerns = self.rng.sample(pools[route], k=min(len(pools[route]), self.rng.choice((1, 1, 2)))) \
            if pools[route] else []
        reasons = [c.id for c in concerns]
        if route == "early_help" and pools["rules"] and self.rng.random() < 0.15:
            reasons.append(self.rng.choice(pools["rules"]))
        level = max((c.level for c in concerns), default=1)
        taken = {"referral": "social_care", "early_help_request": "early_help"}.get(kind, route)
        child = child or self.child(received)
        assessment = {
            "user_id": self.referrers["health" if source.startswith("3") else "school"],
            "started_at": received - dt.timedelta(minutes=self.rng.randint(6, 25)),
            "completed_at": completed, "source_code": source, "referrer_role": role,
            "age_band": child.age_band, "unborn": child.age_band == "unborn",
            "indicator_ids": sorted(c.id for c in concerns), "consent": _pick(self.rng, (("given", 7), ("refused", 1),
                                                                               ("not_asked", 2))),
            "in_danger": False, "immediate": False, "recommended_route": route, "recommended_level": level,
            "reason_ids": reasons, "route_taken": taken, "overridden": taken != route,
            "override_reason": "Demo: the referrer knew more about the family" if taken != route else None,
            "threshold_id": version.id, "threshold_hash": version.content_hash, "urgency": self.urgency(),
        }
        assessment["shown"] = shown(version, route, level, concerns, reasons, assessment["urgency"])
        journey = {"assessment": assessment, "referral": None, "decisions": []}
        if kind is not None:
            self.serial += 1
            details = {"first_name": child.first_name, "last_name": child.last_name,
                       "date_of_birth": child.date_of_birth.isoformat(), "address": "(demo) 1 Example Row",
                       "postcode": "NM1 4AB"} if kind != "consultation" else {
                "question": "(demo) Does this need a referral?", "referrer_phone": "01632 960 700"}
            referral = {"reference": f"NM-{received.year}-H{self.serial:06d}", "kind": kind,
                        "user_id": assessment["user_id"], "created_at": received, "details": details,
                        "family_aware": "yes", "consent": assessment["consent"], "consent_reason": None,
                        "child_key": self.child_key(details) if kind != "consultation" else None,
                        **({"follows": follows} if follows else {})}
            journey["referral"] = referral
            self.decide(journey, received, kind, route, concerns, child)
            if kind == "referral":
                self.recent.append((received, child))
        self.journeys.append(journey)

    def decide(self, journey: dict, received: dt.datetime, kind: str, route: str, concerns, child: Child) -> None:
        decided = self.decided(received)
        if decided is None:
            return
        advised = None
        if kind == "consultation":
            outcome, advised = "advice_given", self.rng.random() < 0.35
            if advised and self.rng.random() < 0.6:
                self.follow_ups.append((received + dt.timedelta(days=self.rng.uniform(1, 25)), child,
                                        journey["assessment"]["source_code"], journey["referral"]["reference"]))
        elif kind == "early_help_request":
            outcome = _pick(self.rng, (("early_help", 85), ("nfa_advice", 10), ("assessment_s17", 5)))
        else:
            if route == "social_care":
                outcome = self.outcome(0.14 + max((self.misread.get(c.id, 0.0) for c in concerns), default=0.0),
                                       NOT_NFA_SOCIAL_CARE)
            else:
                outcome = self.outcome(0.52)
        decisions = [{"sequence": 1, "outcome": outcome, "decided_on": decided.date(), "decided_at": decided,
                      "decided_by": self.front_door, "note": "(demo) Decision recorded.",
                      "referral_advised": advised, "created_at": decided}]
        if kind == "referral" and self.rng.random() < 0.04:  # a decision later changed: both kept
            later = min(self.now, decided + dt.timedelta(days=self.rng.uniform(1, 3)))
            changed = "early_help" if outcome in ("nfa", "nfa_advice") else "nfa_advice"
            decisions.append({**decisions[0], "sequence": 2, "outcome": changed, "decided_on": later.date(),
                              "decided_at": later, "created_at": later, "note": "(demo) Decision changed."})
        journey["decisions"] = decisions
        journey["referral"].update(latest_outcome=decisions[-1]["outcome"],
                                   latest_decided_at=decisions[-1]["decided_at"])

    def build(self) -> tuple[list[dict], list[dict]]:
        rng = self.rng
        for back in range(self.months - 1, -1, -1):
            month = _month_start(self.now.date(), back)
            live = month >= self.signpost_from
            since = (month.year * 12 + month.month) - (self.signpost_from.year * 12 + self.signpost_from.month)
            adoption = min(0.9, 0.5 + 0.05 * since) if live else 0.0
            volume = max(0, round(self.per_month * SEASON[month.month] * rng.gauss(1.0, 0.06)))
            # A front door's month-to-month wobble in NFA; after Signpost starts, the partnership's
            # threshold work lowers it a little for the contacts that do not come through Signpost too.
            baseline_nfa = min(0.6, max(0.2, rng.gauss(0.40, 0.02))) - (min(0.12, 0.012 * since) if live else 0.0)
            for _ in range(volume):
                received = self.received(month)
                if received > self.now:
                    continue
                source = _pick(rng, SOURCE_SHARES)
                if source in SIGNPOST_SOURCES and rng.random() < adoption:
                    # With the thresholds in front of them, some referrers now signpost instead.
                    kind = _pick(rng, ((None, 14), ("early_help_request", 10), ("consultation", 6),
                                       ("referral", 70)))
                    self.journey(received, source, kind)
                    if rng.random() < 0.8:  # and a journey that ended in universal services or early help
                        self.journey(received + dt.timedelta(minutes=rng.randint(5, 600)), source, None)
                else:
                    self.contact(received, source, baseline_nfa)
        for at, child, source, consultation in sorted(self.follow_ups, key=lambda f: f[0]):
            if at <= self.now:
                self.journey(at, source, "referral", child=child, route="social_care", follows=consultation)
        return self.contacts, self.journeys


def seed_history(months: int, echo, *, per_month: int = 240, now: dt.datetime | None = None) -> dict | None:
    """Seed the history once: None (and nothing written) when it is already there."""
    from . import store
    from .content import current_library
    from .demo import demo_user
    from .models import child_key, utcnow
    from .store.history import has_demo_history, record_demo_history

    if has_demo_history():
        echo("  demo history already there: nothing added")
        return None
    library = current_library()
    if not library.versions:
        echo("  no valid threshold version: demo history skipped")
        return None
    health = store.find_user("healthvisitor@northmere.example") or demo_user("referrer")
    front_door = demo_user("front_door")
    history = History(library, referrers={"school": demo_user("referrer").id, "health": health.id},
                      front_door=front_door.id, now=now or utcnow(), months=months, per_month=per_month,
                      child_key=child_key)
    contacts, journeys = history.build()
    counts = record_demo_history(contacts, journeys, months=months, recorded_by=front_door.id)
    echo(f"  added {months} months of demo history: {counts['contacts']} contacts recorded by the front door, "
         f"{counts['assessments']} Signpost assessments, {counts['referrals']} items sent to the front door, "
         f"{counts['decisions']} decisions")
    return counts
