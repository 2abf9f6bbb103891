"""What a draft threshold version would have recommended for the stored assessments.

SQL groups the period's assessments by their answers (and decided referrals by answers and
outcome); the pure engine then runs once per distinct answer set, never once per row.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import Text, and_, case, cast, exists, func, select
from sqlalchemy.orm import aliased

from .engine import MAX_AGE_MONTHS, AnswerError, Answers, applies_to_age, assess
from .models import Assessment, Referral
from .thresholds.cases import load_cases, run_applicable
from .thresholds.loader import Library, ThresholdVersion
from .thresholds.schema import AgeRule
from .values import NFA_OUTCOMES, OUTCOMES, ROUTE_OF_OUTCOME, URGENCY_ORDER
from .workdays import uk_day_start

# Stored assessments made before the age in months was kept have only a band: the
# simulation then uses a representative age inside the band, and says so.
BAND_AGE = {"under 1": 6, "1 to 4": 36, "5 to 9": 84, "10 to 15": 150, "16 to 17": 198}
BAND_MONTHS = {"under 1": (0, 11), "1 to 4": (12, 59), "5 to 9": (60, 119), "10 to 15": (120, 191),
               "16 to 17": (192, 215)}
NFA = set(NFA_OUTCOMES)
SERIOUS = {"assessment_s17", "strategy_s47"}  # the front door took it to assessment or s47
EXAMPLES = 3

AnswerKey = tuple  # (indicator ids JSON, age class, age_band, unborn, consent, in_danger)
NO_AGE = -1  # the age class of an assessment stored without its age in months


@dataclasses.dataclass(frozen=True)
class Recommended:
    """What a recommendation decides, compared between the draft and before: a change in any part
    changes what the referrer is told to do (a lower urgency as much as another route)."""
    route: str
    level: int | None
    urgency: str | None
    lado: bool | None

    @classmethod
    def of(cls, rec) -> Recommended:
        return cls(rec.route, rec.level, rec.urgency, rec.lado)

    def differs(self, other: Recommended) -> dict[str, tuple]:
        """Each part that differs, as (before, after); a part not recorded before (None) is not compared."""
        return {name: (mine, theirs) for name in ("route", "level", "urgency", "lado")
                if (mine := getattr(self, name)) is not None and mine != (theirs := getattr(other, name))}


def urgency_fell(before: str | None, after: str | None) -> bool:
    return before is not None and after is not None and URGENCY_ORDER[after] < URGENCY_ORDER[before]


def age_breakpoints(version: ThresholdVersion) -> list[int]:
    """Every age (months) at which this version's answer can change: concerns' and age rules' bounds.

    The engine compares ages only with these bounds, so every age between two breakpoints
    gets the same recommendation: SQL groups ages into these classes, not by the month.
    """
    points = {0, MAX_AGE_MONTHS + 1}
    bounded = list(version.document.indicators) + [r.when for r in version.document.rules if isinstance(r, AgeRule)]
    for item in bounded:
        if item.min_age_months is not None:
            points.add(item.min_age_months)
        if item.max_age_months is not None:
            points.add(item.max_age_months + 1)
    return sorted(points)


def age_class(points: list[int]):
    """SQL: the index of the breakpoint class an assessment's age falls in (NO_AGE when not stored)."""
    return case((Assessment.age_months.is_(None), NO_AGE),
                *((Assessment.age_months < p, i) for i, p in enumerate(points[1:])),
                else_=len(points) - 1).label("age_class")


@dataclasses.dataclass(frozen=True)
class Example:
    concerns: tuple[str, ...]
    age: str
    consent: str
    count: int
    outcome: str | None = None


@dataclasses.dataclass
class Simulation:
    version_id: str
    start: dt.date
    end: dt.date
    baseline_id: str | None = None  # compared with this version's answers, else with those recorded then
    total: int = 0
    changed: int = 0  # a change of route, level, urgency or LADO steps
    not_assessable: int = 0
    distinct: int = 0  # distinct answer sets the engine ran on
    band_ages: int = 0  # assessed at a representative age for their band
    retired_concerns: int = 0  # had concerns the draft no longer has
    routes: Counter = dataclasses.field(default_factory=Counter)  # (old, new) -> n, changed only
    levels: Counter = dataclasses.field(default_factory=Counter)  # (old, new) -> n, changed only
    urgencies: Counter = dataclasses.field(default_factory=Counter)  # (old, new) -> n, changed only
    lado_changed: int = 0
    less_urgent: int = 0  # told to act less urgently than before: shown first, with examples
    less_urgent_examples: list = dataclasses.field(default_factory=list)  # (Example, old, new urgency)
    by_reason: Counter = dataclasses.field(default_factory=Counter)  # reason id -> changed n
    reason_text: dict = dataclasses.field(default_factory=dict)
    examples: dict = dataclasses.field(default_factory=lambda: defaultdict(list))  # (old, new) -> [Example]
    decided: int = 0  # referrals with a decision
    judged: int = 0  # of them, those whose decision amounts to a route (agreement is out of these)
    agree_recorded: int = 0  # with the route recorded when the assessment was made: the reports' agreement
    agree_before: int = 0  # with the base version's route for the same answers (recorded, without a base)
    agree_after: int = 0
    nfa_kept_away: int = 0
    sent_away: int = 0  # taken to assessment or s47 by the front door, which the draft would not refer
    sent_away_examples: list = dataclasses.field(default_factory=list)
    outcomes: Counter = dataclasses.field(default_factory=Counter)  # (outcome, new route) -> n
    cases: list = dataclasses.field(default_factory=list)  # thresholds.cases.Outcome
    cases_skipped: int = 0  # cases that name other versions (or concerns the draft lacks): not run
    cases_tested_as: str | None = None  # the version whose named cases the draft was held to

    @property
    def cases_failed(self) -> list:
        return [c for c in self.cases if not c.passed]


def _answer_columns(points: list[int]):
    return (cast(Assessment.indicator_ids, Text).label("ids"), age_class(points), Assessment.age_band,
            Assessment.unborn, Assessment.consent, Assessment.in_danger)


def _period(at, start: dt.date, end: dt.date):
    """`at` on the UK days from start to end (stored as UTC: a summer day starts at 23:00 the day before)."""
    return and_(at >= uk_day_start(start), at < uk_day_start(end + dt.timedelta(days=1)))


STORED = (Assessment.recommended_route, Assessment.recommended_level, Assessment.urgency, Assessment.lado)


def grouped_assessments(connection, start: dt.date, end: dt.date, points: list[int]) -> list:
    """(answers..., stored route, level, urgency, LADO, count) for every distinct answer set in the
    period, counting each draft's latest revision only: a changed answer is one assessment, not two."""
    cols = _answer_columns(points)
    later = aliased(Assessment)
    query = (select(*cols, *STORED, func.count())
             .where(_period(Assessment.completed_at, start, end), ~exists().where(later.replaces_id == Assessment.id))
             .group_by(*cols, *STORED))
    return connection.execute(query).all()


def grouped_decisions(connection, start: dt.date, end: dt.date, points: list[int]) -> list:
    """(answers..., stored route, latest outcome, count) for the period's decided referrals to
    children's social care, as the reports count them: received in the period (not by when their
    assessment was completed, which can be the day before), and not requests for early help or for advice.

    Referral.latest_outcome is the newest decision's outcome, kept with every decision."""
    cols = _answer_columns(points)
    query = (select(*cols, Assessment.recommended_route, Referral.latest_outcome, func.count())
             .select_from(Assessment)
             .join(Referral, Referral.assessment_id == Assessment.id)
             .where(_period(Referral.created_at, start, end), Referral.latest_outcome.is_not(None), Referral.kind == "referral")
             .group_by(*cols, Assessment.recommended_route, Referral.latest_outcome))
    return connection.execute(query).all()


class Evaluator:
    """The draft's recommendation for one answer set, worked out once per distinct set."""

    def __init__(self, version: ThresholdVersion, on_date: dt.date, points: list[int] | None = None):
        self.version, self.on_date = version, on_date
        self.points = points or age_breakpoints(version)
        self.cache: dict[AnswerKey, tuple] = {}

    def __call__(self, key: AnswerKey):
        if key not in self.cache:
            self.cache[key] = self._evaluate(key)
        return self.cache[key]

    def _band_age(self, band: str, known: list[str]) -> int:
        """The band's typical age, moved (within the band) to an age every recorded concern fits:
        the referrer could only have ticked them for a child they apply to."""
        low, high = BAND_MONTHS[band]
        for ind_id in known:
            ind = self.version.indicators[ind_id]
            low = max(low, ind.min_age_months if ind.min_age_months is not None else low)
            high = min(high, ind.max_age_months if ind.max_age_months is not None else high)
        typical = BAND_AGE[band]
        return min(max(typical, low), high) if low <= high else typical

    def _evaluate(self, key: AnswerKey):
        ids_json, klass, band, unborn, consent, in_danger = key
        ids = json.loads(ids_json) if ids_json else []
        age_months = None if klass == NO_AGE else self.points[klass]
        from_band = age_months is None and not unborn and band in BAND_AGE
        known = [i for i in ids if i in self.version.indicators]
        age = self._band_age(band, known) if from_band else age_months
        usable = [i for i in known if applies_to_age(self.version.indicators[i], age, bool(unborn))]
        answers = Answers(indicators=frozenset(usable), age_months=None if unborn else age,
                          unborn=bool(unborn), consent=consent or "not_asked", in_danger=bool(in_danger))
        try:
            rec = assess(answers, self.version, self.on_date)
        except AnswerError:
            return None, from_band, len(known) < len(ids)
        return rec, from_band, len(known) < len(ids)


def _ages(points: list[int], klass: int) -> str:
    low, high = points[klass], points[klass + 1] - 1 if klass + 1 < len(points) else points[klass]
    if low % 12 == 0 and (high + 1) % 12 == 0:
        low, high, unit = low // 12, (high + 1) // 12 - 1, "years"
    else:
        unit = "months"
    return f"Aged {low} {unit}" if low == high else f"Aged {low} to {high} {unit}"


def describe(version: ThresholdVersion, key: AnswerKey, count: int, outcome: str | None = None,
             points: list[int] | None = None) -> Example:
    ids_json, klass, band, unborn, consent, in_danger = key
    ids = json.loads(ids_json) if ids_json else []
    texts = [version.indicators[i].text if i in version.indicators else f"{i} (not in this version)"
             for i in ids]
    if in_danger:
        texts.insert(0, "The child was said to be in immediate danger")
    if unborn:
        age = "Unborn baby"
    elif klass != NO_AGE and points:
        age = _ages(points, klass)
    else:
        age = f"Aged {band}" if band else "Age not known"
    return Example(tuple(texts) or ("No concerns ticked",), age, (consent or "not_asked").replace("_", " "),
                   count, outcome)


def simulate(connection, version: ThresholdVersion, start: dt.date, end: dt.date,
             on_date: dt.date | None = None, cases_dir: Path | str | None = None,
             baseline: ThresholdVersion | None = None, library: Library | None = None) -> Simulation:
    """Compare the draft with what was recommended (and decided) for the period's assessments.

    With `baseline` (the version the draft was started from), "before" is what that version
    recommends for the same answers, worked out the same way: only what the draft changes counts,
    not what earlier versions did differently at the time. Without it, the route recorded then.
    The cases in `cases_dir` that apply to the draft run too (those of its base, through `library`)."""
    on = on_date or version.effective_from
    points = age_breakpoints(version)
    if baseline is not None:  # ages grouped so that neither version's bounds fall inside a group
        points = sorted(set(points) | set(age_breakpoints(baseline)))
    evaluate = Evaluator(version, on, points)
    before = Evaluator(baseline, on, points) if baseline is not None else None

    def then(key, recorded: Recommended) -> Recommended:
        rec = before(key)[0] if before is not None else None
        return Recommended.of(rec) if rec is not None else recorded

    result = Simulation(version.id, start, end, baseline.id if baseline is not None else None)
    shown: Counter = Counter()  # (route change, answers) -> assessments
    sent: Counter = Counter()   # (answers, outcome, draft's route) -> decided referrals sent away
    calmer: Counter = Counter()  # (answers, old urgency, new urgency) -> assessments told less urgently
    for *key, old_route, old_level, old_urgency, old_lado, count in grouped_assessments(
            connection, start, end, points):
        key = tuple(key)
        old = then(key, Recommended(old_route, old_level, old_urgency, old_lado))
        rec, from_band, retired = evaluate(key)
        result.total += count
        result.band_ages += count if from_band else 0
        result.retired_concerns += count if retired else 0
        if rec is None:
            result.not_assessable += count
            continue
        differs = old.differs(Recommended.of(rec))
        if not differs:
            continue
        result.changed += count
        for reason in rec.reasons:
            result.by_reason[reason.id] += count
            result.reason_text[reason.id] = reason.text
        if "route" in differs:
            result.routes[differs["route"]] += count
            shown[(differs["route"], key)] += count
        if "level" in differs:
            result.levels[differs["level"]] += count
        if "urgency" in differs:
            result.urgencies[differs["urgency"]] += count
            if urgency_fell(*differs["urgency"]):
                result.less_urgent += count
                calmer[(key, *differs["urgency"])] += count
        result.lado_changed += count if "lado" in differs else 0
    # One example per set of answers and change: rows recorded under different routes then are one
    # case when compared with a base version, so their counts are added up first.
    for (pair, key), count in shown.items():
        result.examples[pair].append(describe(version, key, count, points=points))
    for pair, examples in result.examples.items():
        result.examples[pair] = sorted(examples, key=lambda e: -e.count)[:EXAMPLES]

    result.less_urgent_examples = sorted(((describe(version, key, count, points=points), old, new)
                                          for (key, old, new), count in calmer.items()),
                                         key=lambda item: -item[0].count)
    for *key, recorded_route, outcome, count in grouped_decisions(connection, start, end, points):
        key = tuple(key)
        old_route = then(key, Recommended(recorded_route, None, None, None)).route
        rec, _, _ = evaluate(key)
        if rec is None or outcome not in OUTCOMES:
            continue
        result.decided += count
        result.outcomes[(outcome, rec.route)] += count
        decided_route = ROUTE_OF_OUTCOME.get(outcome)  # agreement as the reports count it
        if decided_route is not None:  # passed to another council or the LADO: neither agrees nor disagrees
            result.judged += count
            result.agree_recorded += count if decided_route == recorded_route else 0
            result.agree_before += count if decided_route == old_route else 0
            result.agree_after += count if decided_route == rec.route else 0
        if old_route == "social_care" and rec.route != "social_care":
            if outcome in NFA:
                result.nfa_kept_away += count
            elif outcome in SERIOUS:
                result.sent_away += count
                sent[(key, outcome, rec.route)] += count
    result.sent_away_examples = sorted(((describe(version, key, count, outcome, points), route)
                                        for (key, outcome, route), count in sent.items()),
                                       key=lambda pair: -pair[0].count)
    result.distinct = len(evaluate.cache)
    if cases_dir is not None and Path(cases_dir).is_dir():
        run = run_applicable(load_cases(cases_dir), version, library or Library(()), on,
                             base_id=baseline.id if baseline is not None else None)
        result.cases, result.cases_skipped, result.cases_tested_as = run.outcomes, run.skipped, run.tested_as
    return result
