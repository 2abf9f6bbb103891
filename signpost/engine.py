"""The decision engine: a referrer's answers plus one threshold version -> a recommendation.

Pure: no Flask, no database, no clock. Order: immediate danger, highest indicator level,
explicit rules (cumulative, age), consent, then the route of the final level.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from .directory import Directory, Service
from .thresholds.loader import ROUTE_ORDER, ThresholdVersion
from .thresholds.schema import CONSENT_VALUES, AgeRule, ConsentRule, CumulativeRule

MAX_AGE_MONTHS = 18 * 12 - 1  # a child is under 18
MAX_PREGNANCY_DAYS = 300
UNKNOWN_CONCERNS = "These concerns are not in threshold version"  # how the unknown-ids problem starts


class AnswerError(ValueError):
    """Answers that cannot be assessed; `problems` lists each in plain English."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclasses.dataclass(frozen=True)
class Answers:
    indicators: frozenset[str] = frozenset()
    age_months: int | None = None
    unborn: bool = False
    expected_date: dt.date | None = None
    consent: str = "not_asked"
    in_danger: bool = False  # the referrer said the child is in immediate danger now

    @classmethod
    def of(cls, indicators: Iterable[str] = (), **kwargs) -> "Answers":
        return cls(indicators=frozenset(indicators), **kwargs)


@dataclasses.dataclass(frozen=True)
class Reason:
    kind: str  # "immediate", "indicator", "rule" or "consent"
    id: str
    text: str
    level: int | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Recommendation:
    route: str
    immediate: bool
    level: int
    level_name: str
    reasons: tuple[Reason, ...]
    services: tuple[Service, ...]
    next_steps: tuple[str, ...]
    version_id: str
    version_hash: str
    consent_applied: bool = False
    overdue_for_review: bool = False

    @property
    def reason_ids(self) -> list[str]:
        return [r.id for r in self.reasons]

    def to_dict(self) -> dict:
        return {
            "route": self.route,
            "immediate": self.immediate,
            "level": {"number": self.level, "name": self.level_name},
            "reasons": [r.to_dict() for r in self.reasons],
            "services": [service_summary(s) for s in self.services],
            "next_steps": list(self.next_steps),
            "threshold": {"id": self.version_id, "hash": self.version_hash},
            "overdue_for_review": self.overdue_for_review,
        }


def service_summary(service: Service) -> dict:
    return {
        "id": service.id,
        "name": service.name,
        "organization": service.organization,
        "description": service.description,
        "how_to_access": service.how_to_access,
        "contact": service.contact.model_dump(exclude_none=True),
        "minimum_age_months": service.minimum_age,
        "maximum_age_months": service.maximum_age,
    }


def check_answers(answers: Answers, version: ThresholdVersion, on_date: dt.date) -> list[str]:
    """Every reason these answers cannot be assessed, in plain English."""
    problems: list[str] = []
    age_ok = True  # only check indicators' age bounds against an age we could read
    if answers.consent not in CONSENT_VALUES:
        problems.append(f"Consent must be one of: {', '.join(CONSENT_VALUES)}.")
    if answers.unborn:
        if answers.age_months is not None:
            problems.append("Give either the child's age or that the baby is not born yet, not both.")
            age_ok = False
        if answers.expected_date is not None and not (
                on_date <= answers.expected_date <= on_date + dt.timedelta(days=MAX_PREGNANCY_DAYS)):
            problems.append("The expected date of birth must be between today and 10 months from now.")
    elif answers.age_months is None:
        if not answers.in_danger:  # a child in danger now is never held up by a missing age
            problems.append("Give the child's age in months, or say that the baby is not born yet.")
        age_ok = False
    elif isinstance(answers.age_months, bool) or not isinstance(answers.age_months, int):
        problems.append("The child's age must be a whole number of months.")
        age_ok = False
    elif not 0 <= answers.age_months <= MAX_AGE_MONTHS:
        problems.append("The child's age must be between 0 and 17 years (0 to 215 months).")
        age_ok = False
    unknown = sorted(i for i in answers.indicators if i not in version.indicators)
    if unknown:
        problems.append(f"{UNKNOWN_CONCERNS} {version.id}: {', '.join(unknown)}.")
    asked: dict[str, str] = {}
    for ind_id in sorted(answers.indicators):
        ind = version.indicators.get(ind_id)
        if ind is None:
            continue
        if ind.asks_for:
            if ind.asks_for in asked:
                problems.append(f"Choose one answer about '{ind.asks_for}', not both "
                                f"'{asked[ind.asks_for]}' and '{ind.id}'.")
            asked.setdefault(ind.asks_for, ind.id)
        if age_ok and not applies_to_age(ind, answers.age_months, answers.unborn):
            problems.append(f"'{ind.id}' does not apply to a child of this age: {describe_ages(ind)}.")
    return problems


def applies_to_age(ind, age_months: int | None, unborn: bool) -> bool:
    if unborn:
        return ind.applies_to in ("unborn", "both")
    if ind.applies_to == "unborn":
        return False
    if age_months is None:
        return True
    if ind.min_age_months is not None and age_months < ind.min_age_months:
        return False
    return ind.max_age_months is None or age_months <= ind.max_age_months


def describe_ages(ind) -> str:
    if ind.applies_to == "unborn":
        return "it is only for unborn babies"
    low, high = ind.min_age_months, ind.max_age_months
    span = ("from %d to %d months" % (low, high) if low is not None and high is not None
            else "from %d months" % low if low is not None
            else "up to %d months" % high if high is not None else "any age")
    return f"it applies to children {span}" + (" and unborn babies" if ind.applies_to == "both" else "")


def assess(answers: Answers, version: ThresholdVersion, on_date: dt.date,
           directory: Directory | None = None) -> Recommendation:
    """Recommend a route for these answers under this threshold version."""
    problems = check_answers(answers, version, on_date)
    if problems:
        raise AnswerError(problems)
    doc = version.document
    chosen = [version.indicators[i] for i in sorted(answers.indicators)]
    overdue = on_date > doc.review_by
    top = doc.levels[-1]

    immediate = [i for i in chosen if i.immediate]
    if answers.in_danger or immediate:
        reasons = [Reason("immediate", i.id, i.text, i.level) for i in immediate]
        if answers.in_danger:
            reasons.insert(0, Reason("immediate", "in_immediate_danger",
                                     "You told us the child is in immediate danger.", top.number))
        return Recommendation(
            route="social_care", immediate=True, level=top.number, level_name=top.name,
            reasons=tuple(reasons), services=(), next_steps=tuple(doc.immediate_danger.next_steps),
            version_id=version.id, version_hash=version.content_hash, overdue_for_review=overdue)

    base = max((i.level for i in chosen), default=doc.levels[0].number)
    reasons = [Reason("indicator", i.id, i.text, i.level) for i in chosen if i.level == base]
    level = base
    raised: list[tuple[int, Reason]] = []
    for rule in doc.rules:
        if isinstance(rule, CumulativeRule):
            counted = [i for i in chosen if i.level >= rule.when.min_level]
            hit = (len(counted) >= rule.when.min_count
                   and len({i.domain for i in counted}) >= rule.when.min_domains)
        elif isinstance(rule, AgeRule):
            hit = _age_rule_applies(rule, chosen, answers)
        else:
            continue
        if hit and rule.raise_to > base:
            raised.append((rule.raise_to, Reason("rule", rule.id, rule.reason, rule.raise_to)))
    if raised:
        level = max(lv for lv, _ in raised)
        reasons = [r for lv, r in raised if lv == level] + [
            Reason("indicator", i.id, i.text, i.level) for i in chosen]
    level_info = version.levels[level]
    route = level_info.route

    extra_steps: list[str] = []
    consent_applied = False
    for rule in doc.rules:
        if (isinstance(rule, ConsentRule) and answers.consent in rule.consent
                and level < rule.unless_level and ROUTE_ORDER[rule.route] < ROUTE_ORDER[route]):
            route = rule.route
            consent_applied = True
            reasons.append(Reason("consent", rule.id, rule.reason, None))
            extra_steps.extend(rule.next_steps)

    info = getattr(doc.routes, route)
    steps = list(info.next_steps) + extra_steps + list(getattr(getattr(doc.consent_advice, answers.consent), route))
    services: tuple[Service, ...] = ()
    if directory is not None:
        areas = frozenset(i.area for i in chosen)
        services = directory.signpost(tuple(info.services.tiers), answers.age_months, answers.unborn,
                                      areas, info.services.limit, answers.indicators)
    return Recommendation(
        route=route, immediate=False, level=level, level_name=level_info.name,
        reasons=tuple(reasons), services=services, next_steps=tuple(steps),
        version_id=version.id, version_hash=version.content_hash,
        consent_applied=consent_applied, overdue_for_review=overdue)


def _age_rule_applies(rule: AgeRule, chosen, answers: Answers) -> bool:
    when = rule.when
    if answers.unborn:
        if not when.unborn:
            return False
    else:
        age = answers.age_months
        if when.min_age_months is not None and age < when.min_age_months:
            return False
        if when.max_age_months is not None and age > when.max_age_months:
            return False
        if when.min_age_months is None and when.max_age_months is None and when.unborn:
            return False
    for ind in chosen:
        if when.min_level is not None and ind.level < when.min_level:
            continue
        if not when.any_indicator and not when.any_area:
            return True
        if ind.id in when.any_indicator or ind.area in when.any_area:
            return True
    return False
