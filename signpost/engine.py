"""The decision engine: a referrer's answers plus one threshold version -> a recommendation.

Pure: no Flask, no database, no clock. Order: urgency (an emergency decides everything; a
same-day concern decides the first next steps), highest indicator level, explicit rules
(cumulative, age), consent (which only ever turns early help into universal services),
then the route of the final level. A concern about an adult who works with children (LADO)
is outside the child's threshold: it adds its own outcome, shown first.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from .directory import Directory, Service
from .thresholds.loader import ThresholdVersion
from .thresholds.schema import AgeRule, ConsentRule, CumulativeRule
from .values import CONSENT_VALUES, URGENCY_ORDER

MAX_AGE_MONTHS = 18 * 12 - 1  # a child is under 18
MAX_PREGNANCY_DAYS = 300
# A baby can be born two weeks or more after its due date, and a date given early in pregnancy is
# often moved: a midwife with an overdue mother, the time a pre-birth concern matters most, is not
# refused. Beyond 4 weeks the baby is almost certainly born (then give the child's age).
MAX_OVERDUE_DAYS = 28
EXPECTED_DATE_PROBLEM = ("The expected date of birth must be no more than 4 weeks ago and no more than 10 months "
                         "from now. If the baby has been born, say so and give their age.")
UNKNOWN_CONCERNS = "These concerns are not in threshold version"  # how the unknown-ids problem starts


@dataclasses.dataclass(frozen=True)
class Problem:
    """Why answers cannot be assessed, as data: a stable code, the answer it is about
    (`field`: consent, age_months, unborn, expected_date or indicators, with the concern ids
    involved, the one that clashes last), and a plain-English message. Pages and the API use
    these as they are; nobody parses the message."""

    code: str
    field: str | None
    message: str
    indicators: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


class AnswerError(ValueError):
    """Answers that cannot be assessed; `problems` lists each Problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


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
    kind: str  # "immediate", "indicator", "rule", "consent" or "lado"
    id: str
    text: str
    level: int | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class UrgentReason:
    """A concern that makes the recommendation urgent, and why it cannot wait (its urgency_reason):
    what to do first for it, such as telling the police about a child who is missing now."""
    id: str
    text: str
    why: str

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
    urgency: str = "standard"  # emergency, same_day or standard (values.URGENCIES)
    lado: bool = False  # a concern about an adult who works with children: tell the LADO
    lado_steps: tuple[str, ...] = ()
    consent_refused_referral: bool = False  # consent refused, and the referral still goes
    # The urgent concerns (those with the recommendation's urgency; on the 999 path the same-day ones
    # too) whose threshold document says why they cannot wait: shown with the urgent instructions,
    # whatever decided the level.
    urgent_reasons: tuple[UrgentReason, ...] = ()

    @property
    def reason_ids(self) -> list[str]:
        return [r.id for r in self.reasons]

    def to_dict(self) -> dict:
        return {
            "route": self.route,
            "immediate": self.immediate,
            "urgency": self.urgency,
            "lado": {"concern": self.lado, "next_steps": list(self.lado_steps)},
            "level": {"number": self.level, "name": self.level_name},
            "reasons": [r.to_dict() for r in self.reasons],
            "services": [service_summary(s) for s in self.services],
            "next_steps": list(self.next_steps),
            "urgent_reasons": [r.to_dict() for r in self.urgent_reasons],
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


def expected_date_possible(expected: dt.date, on_date: dt.date) -> bool:
    """Whether an unborn baby can be due on this date: from 4 weeks ago to 10 months ahead."""
    return (on_date - dt.timedelta(days=MAX_OVERDUE_DAYS)) <= expected <= on_date + dt.timedelta(days=MAX_PREGNANCY_DAYS)


def check_answers(answers: Answers, version: ThresholdVersion, on_date: dt.date) -> list[Problem]:
    """Every reason these answers cannot be assessed."""
    problems: list[Problem] = []
    age_ok = True  # only check indicators' age bounds against an age we could read
    if answers.consent not in CONSENT_VALUES:
        problems.append(Problem("consent_unknown", "consent", f"Consent must be one of: {', '.join(CONSENT_VALUES)}."))
    if answers.unborn:
        if answers.age_months is not None:
            problems.append(Problem("age_and_unborn", "age_months",
                                    "Give either the child's age or that the baby is not born yet, not both."))
            age_ok = False
        if answers.expected_date is not None and not expected_date_possible(answers.expected_date, on_date):
            problems.append(Problem("expected_date_out_of_range", "expected_date", EXPECTED_DATE_PROBLEM))
    elif answers.age_months is None:
        if not answers.in_danger:  # a child in danger now is never held up by a missing age
            problems.append(Problem("age_missing", "age_months",
                                    "Give the child's age in months, or say that the baby is not born yet."))
        age_ok = False
    elif isinstance(answers.age_months, bool) or not isinstance(answers.age_months, int):
        problems.append(Problem("age_not_whole", "age_months", "The child's age must be a whole number of months."))
        age_ok = False
    elif not 0 <= answers.age_months <= MAX_AGE_MONTHS:
        problems.append(Problem("age_out_of_range", "age_months",
                                "The child's age must be between 0 and 17 years (0 to 215 months)."))
        age_ok = False
    unknown = sorted(i for i in answers.indicators if i not in version.indicators)
    if unknown:
        problems.append(Problem("unknown_concerns", "indicators", f"{UNKNOWN_CONCERNS} {version.id}: {', '.join(unknown)}.",
                                tuple(unknown)))
    asked: dict[str, str] = {}
    for ind_id in sorted(answers.indicators):
        ind = version.indicators.get(ind_id)
        if ind is None:
            continue
        if ind.asks_for:
            if ind.asks_for in asked:
                problems.append(Problem("two_answers_to_one_question", "indicators",
                                        f"Choose one answer about '{ind.asks_for}', not both "
                                        f"'{asked[ind.asks_for]}' and '{ind.id}'.", (asked[ind.asks_for], ind.id)))
            asked.setdefault(ind.asks_for, ind.id)
        if age_ok and not applies_to_age(ind, answers.age_months, answers.unborn):
            problems.append(Problem("concern_not_for_this_age", "indicators",
                                    f"'{ind.id}' does not apply to a child of this age: {describe_ages(ind)}.", (ind.id,)))
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


def _urgent_reasons(chosen, urgency: str) -> tuple[UrgentReason, ...]:
    """Why each urgent concern chosen cannot wait: on the 999 path the emergency concerns' reasons
    first, then the same-day concerns' (they still hold after the 999 call: known FGM's duty to
    report to the police, a missing child's police report), so none is lost to a more urgent one."""
    if urgency == "standard":
        return ()
    kinds = ("emergency", "same_day") if urgency == "emergency" else (urgency,)
    return tuple(UrgentReason(i.id, i.text, i.urgency_reason) for kind in kinds for i in chosen
                 if i.urgency == kind and i.urgency_reason)


def assess(answers: Answers, version: ThresholdVersion, on_date: dt.date,
           directory: Directory | None = None) -> Recommendation:
    """Recommend a route for these answers under this threshold version."""
    problems = check_answers(answers, version, on_date)
    if problems:
        raise AnswerError(problems)
    doc = version.document
    picked = [version.indicators[i] for i in sorted(answers.indicators)]
    about_adults = [i for i in picked if i.lado]
    chosen = [i for i in picked if not i.lado]
    overdue = on_date > doc.review_by
    top = doc.levels[-1]
    lado = dict(lado=bool(about_adults),
                lado_steps=tuple(doc.lado.next_steps) if about_adults and doc.lado else ())
    lado_reasons = [Reason("lado", i.id, i.text, None) for i in about_adults]
    urgency = max((i.urgency for i in chosen), key=URGENCY_ORDER.__getitem__, default="standard")
    urgent_reasons = _urgent_reasons(chosen, "emergency" if answers.in_danger else urgency)

    if answers.in_danger or urgency == "emergency":
        reasons = [Reason("immediate", i.id, i.text, i.level) for i in chosen if i.urgency == "emergency"]
        if answers.in_danger:
            reasons.insert(0, Reason("immediate", "in_immediate_danger",
                                     "You told us the child is in immediate danger.", top.number))
        steps = list(doc.immediate_danger.next_steps) + [
            s for s in doc.routes.social_care.next_steps if s not in doc.immediate_danger.next_steps]
        return Recommendation(
            route="social_care", immediate=True, level=top.number, level_name=top.name,
            reasons=tuple(lado_reasons + reasons), services=(), next_steps=tuple(steps),
            version_id=version.id, version_hash=version.content_hash, overdue_for_review=overdue,
            urgency="emergency", urgent_reasons=urgent_reasons, **lado)

    base = max((i.level for i in chosen), default=doc.levels[0].number)
    reasons = [Reason("indicator", i.id, i.text, i.level) for i in chosen if i.level == base]
    level = base
    raised: list[tuple[int, Reason]] = []
    for rule in doc.rules:
        if isinstance(rule, CumulativeRule):
            counted = [i for i in chosen if i.level >= rule.when.min_level
                       and (not rule.when.any_indicator or i.id in rule.when.any_indicator)]
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
    consent_applied = refused_referral = False
    for rule in doc.rules:
        if not isinstance(rule, ConsentRule) or answers.consent not in rule.consent:
            continue
        # Early help is voluntary, so without consent it cannot go ahead. A level that leads
        # to social care is never lowered: the referral goes, saying the family refused and why.
        if route == "early_help" and (rule.unless_level is None or level < rule.unless_level):
            route = rule.route
            consent_applied = True
            reasons.append(Reason("consent", rule.id, rule.reason, None))
            extra_steps.extend(rule.next_steps)
        elif route == "social_care" and rule.referral_reason:
            refused_referral = True
            reasons.append(Reason("consent", rule.id, rule.referral_reason, None))

    info = getattr(doc.routes, route)
    first = list(doc.same_day.next_steps) if urgency == "same_day" and doc.same_day else []
    if about_adults and not chosen:
        # Only a concern about an adult who works with children: the LADO's steps are what to do
        # (shown first). Universal services' steps would have the referrer talk to the child and
        # agree a plan with the family, against the LADO's "do not investigate or question the child".
        steps = []
    else:
        consent = answers.consent
        if route == "social_care" and consent in ("not_asked", "refused") and any(i.family_not_told for i in chosen):
            # A concern the family must not hear of from the referrer (forced marriage, FGM, fabricated
            # illness...): the advice for not telling them, never "tell the parents you are referring".
            consent = "not_needed"
        consent_steps = list(getattr(getattr(doc.consent_advice, consent), route))
        if first and route == "social_care" and consent == "not_asked":
            # The same-day steps say how the family is told (the front door decides, once phoned), so
            # not also "tell the parents you are making a referral" after them.
            consent_steps = []
        steps = first + list(info.next_steps) + extra_steps + consent_steps
    services: tuple[Service, ...] = ()
    if directory is not None:
        areas = frozenset(i.area for i in chosen)
        # Services for a concern that decided the level come first.
        deciding = frozenset(r.id for r in reasons if r.kind == "indicator" and r.level == level)
        services = directory.signpost(tuple(info.services.tiers), answers.age_months, answers.unborn,
                                      areas, info.services.limit, answers.indicators, deciding)
    return Recommendation(
        route=route, immediate=False, level=level, level_name=level_info.name,
        reasons=tuple(lado_reasons + reasons), services=services, next_steps=tuple(steps),
        version_id=version.id, version_hash=version.content_hash,
        consent_applied=consent_applied, overdue_for_review=overdue, urgency=urgency,
        consent_refused_referral=refused_referral, urgent_reasons=urgent_reasons, **lado)


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
