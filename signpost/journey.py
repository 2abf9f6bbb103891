"""The referral journey as pure routing: which page comes next, for these answers.

Generated from a threshold version, so a new version changes the questions without code
changes. No Flask, no database: the web layer stores the answers dict in a server-side draft.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from .engine import Answers, applies_to_age
from .thresholds.loader import ThresholdVersion
from .thresholds.schema import Indicator, SeverityQuestion

# Who is referring: (id, label, census referral source code).
ORGANISATIONS = (
    ("school", "School or college", "2A"),
    ("education", "Early years setting or other education service", "2B"),
    ("gp", "GP practice", "3A"),
    ("health_visiting", "Health visiting", "3B"),
    ("school_nursing", "School nursing", "3C"),
    ("primary_health", "Midwifery or other primary health service", "3D"),
    ("emergency", "Hospital emergency department", "3E"),
    ("other_health", "Other health service (for example hospital or CAMHS)", "3F"),
    ("other", "Another organisation", "8"),
)
SOURCE_CODES = {key: code for key, _, code in ORGANISATIONS}

ROLES = (
    ("dsl", "Designated safeguarding lead or deputy"),
    ("teacher", "Teacher, teaching assistant or pastoral staff"),
    ("head", "Head teacher or senior leader"),
    ("early_years", "Early years practitioner"),
    ("health_visitor", "Health visitor"),
    ("school_nurse", "School nurse"),
    ("midwife", "Midwife"),
    ("gp", "GP or practice nurse"),
    ("other_health", "Other health professional"),
    ("other", "Other"),
)

CONSENT_CHOICES = (
    ("given", "Yes, the family agrees to this request for help"),
    ("refused", "No, the family does not agree"),
    ("not_asked", "I have not asked the family yet"),
    ("not_needed", "I have not told the family because telling them would increase the risk to the child"),
)

UNSENT = "_unsent"  # answers key: forms posted after an idle sign-out, shown again once

FIXED_END = ("family", "consent", "check", "recommendation")


@dataclasses.dataclass(frozen=True)
class Item:
    """One checkbox on a concerns page: an indicator, or a concern with a severity question."""

    id: str
    text: str
    hint: str | None
    level: int
    area: str
    question: SeverityQuestion | None = None


@dataclasses.dataclass(frozen=True)
class ConcernsPage:
    id: str
    title: str
    domain_id: str | None
    groups: tuple[tuple[str, tuple[Item, ...]], ...]  # (area name, items)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for _, items in self.groups for item in items)


# ---------------------------------------------------------------- the child and their age

def child_age(answers: dict) -> tuple[int | None, bool]:
    """(age in months, unborn) from the about_child answer; (None, False) if not answered."""
    child = answers.get("child")
    if not child:
        return None, False
    if child.get("unborn"):
        return None, True
    return int(child["years"]) * 12 + int(child["months"]), False


def age_band(answers: dict) -> str:
    months, unborn = child_age(answers)
    if unborn:
        return "unborn"
    if months is None:
        return "unknown"
    years = months // 12
    for low, high in ((0, 0), (1, 4), (5, 9), (10, 15), (16, 17)):
        if low <= years <= high:
            return "under 1" if high == 0 else f"{low} to {high}"
    return "unknown"


def applies(ind: Indicator, months: int | None, unborn: bool) -> bool:
    """Whether a concern can be asked about a child of this age (the engine's own rule)."""
    return applies_to_age(ind, months, unborn)


# ---------------------------------------------------------------- pages from the thresholds

def concerns_pages(version: ThresholdVersion, answers: dict) -> list[ConcernsPage]:
    """The serious page first (top-level concerns from every domain), then one page per domain."""
    months, unborn = child_age(answers)
    doc = version.document
    top = doc.levels[-1].number
    questions = {q.id: q for q in doc.severity_questions}
    area_names = {a.id: a.name for d in doc.domains for a in d.areas}
    area_order = {a.id: n for n, a in enumerate(a for d in doc.domains for a in d.areas)}

    serious: list[Item] = []
    by_domain: dict[str, list[Item]] = {d.id: [] for d in doc.domains}
    asked: set[str] = set()
    for ind in doc.indicators:
        if not applies(ind, months, unborn):
            continue
        if ind.asks_for:
            if ind.asks_for in asked:
                continue
            asked.add(ind.asks_for)
            q = questions[ind.asks_for]
            options = [o for o in version.severity_options(q.id) if applies(o, months, unborn)]
            if len(options) == 1:  # only one severity applies at this age: ask it directly
                only = options[0]
                item = Item(only.id, only.text, only.hint, only.level, only.area)
                (serious if only.level == top else by_domain[only.domain]).append(item)
                continue
            item = Item(q.id, q.text, q.hint, max(o.level for o in options), ind.area, q)
            # A concern that can be top-level is asked with the most serious, first.
            (serious if item.level == top else by_domain[ind.domain]).append(item)
        elif ind.level == top:
            serious.append(Item(ind.id, ind.text, ind.hint, ind.level, ind.area))
        else:
            by_domain[ind.domain].append(Item(ind.id, ind.text, ind.hint, ind.level, ind.area))

    def grouped(items: list[Item]) -> tuple:
        items = sorted(items, key=lambda i: (area_order[i.area], -i.level))
        groups: dict[str, list[Item]] = {}
        for item in items:
            groups.setdefault(area_names[item.area], []).append(item)
        return tuple((name, tuple(group)) for name, group in groups.items())

    pages = [ConcernsPage("concerns_serious", "The most serious concerns", None, grouped(serious))]
    for domain in doc.domains:
        if by_domain[domain.id]:
            pages.append(ConcernsPage(f"concerns_{domain.id}", domain.name, domain.id,
                                      grouped(by_domain[domain.id])))
    return pages


def chosen_indicators(version: ThresholdVersion, answers: dict) -> frozenset[str]:
    """Indicator ids the referrer has ticked (severity concerns resolved to their answer)."""
    chosen: set[str] = set()
    severity = answers.get("severity", {})
    for items in answers.get("concerns", {}).values():
        for item_id in items:
            if item_id in version.indicators:
                chosen.add(item_id)
            elif item_id in severity and severity[item_id] in version.indicators:
                chosen.add(severity[item_id])
    return frozenset(chosen)


def immediate_chosen(version: ThresholdVersion, answers: dict) -> list[Indicator]:
    return [version.indicators[i] for i in sorted(chosen_indicators(version, answers))
            if version.indicators[i].immediate]


def sequence(version: ThresholdVersion, answers: dict) -> list[str]:
    """Every page this referrer will see, in order, given what they have answered so far."""
    seq = ["danger"]
    if answers.get("in_danger") == "yes":
        return seq + ["danger_call"]
    seq += ["about_you", "about_child"]
    if "child" not in answers:
        return seq
    concerns = answers.get("concerns", {})
    for page in concerns_pages(version, answers):
        seq.append(page.id)
        for item in page.items:
            if item.question is not None and item.id in concerns.get(page.id, ()):
                seq.append(f"severity_{item.id}")
        if immediate_chosen(version, answers):
            return seq + ["danger_call"]
    _, unborn = child_age(answers)
    if not unborn:
        seq.append("voice")
    return seq + list(FIXED_END)


def is_answered(page: str, answers: dict) -> bool:
    if page.startswith("concerns_"):
        return page in answers.get("concerns", {})
    if page.startswith("severity_"):
        return page.removeprefix("severity_") in answers.get("severity", {})
    if page in ("check", "recommendation", "danger_call"):
        return False
    key = {"danger": "in_danger", "about_child": "child"}.get(page, page)
    return key in answers


def first_unanswered(version: ThresholdVersion, answers: dict) -> str:
    seq = sequence(version, answers)
    for page in seq:
        if not is_answered(page, answers):
            return page
    return seq[-1]


def can_visit(version: ThresholdVersion, answers: dict, page: str) -> bool:
    """A page is reachable when it is in the sequence and every page before it is answered."""
    seq = sequence(version, answers)
    if page not in seq:
        return False
    return all(is_answered(p, answers) for p in seq[: seq.index(page)])


def next_page(version: ThresholdVersion, answers: dict, current: str, returning_to_check: bool = False) -> str:
    """The page after `current`; from a change made on Check your answers, back to check."""
    if returning_to_check:
        # After a change, go back to Check your answers unless the change opened new questions.
        return first_unanswered(version, answers)
    seq = sequence(version, answers)
    if current not in seq:
        return first_unanswered(version, answers)
    index = seq.index(current)
    return seq[index + 1] if index + 1 < len(seq) else seq[-1]


def previous_page(version: ThresholdVersion, answers: dict, current: str) -> str | None:
    seq = sequence(version, answers)
    if current not in seq or seq.index(current) == 0:
        return None
    return seq[seq.index(current) - 1]


def prune(version: ThresholdVersion, answers: dict) -> dict:
    """Drop answers that no longer apply (after a change of age, or a new version).

    A ticked concern now asked on another page moves there if that page is answered, so a
    draft begun before a change of layout keeps it; a form kept across an idle sign-out
    (UNSENT) is dropped once any page is saved.
    """
    pages = {p.id: p for p in concerns_pages(version, answers)}
    home = {item.id: page_id for page_id, page in pages.items() for item in page.items}
    old = answers.get("concerns", {})
    concerns: dict[str, list[str]] = {page_id: [] for page_id in old if page_id in pages}
    for items in old.values():
        for item_id in items:
            target = home.get(item_id)
            if target in concerns and item_id not in concerns[target]:
                concerns[target].append(item_id)
    ticked_questions = {i for items in concerns.values() for i in items}
    months, unborn = child_age(answers)
    severity = {
        q: ind for q, ind in answers.get("severity", {}).items()
        if q in ticked_questions and ind in version.indicators
        and version.indicators[ind].asks_for == q and applies(version.indicators[ind], months, unborn)
    }
    out = {k: v for k, v in answers.items() if k != UNSENT}
    if "concerns" in answers:
        out["concerns"] = concerns
    if "severity" in answers:
        out["severity"] = severity
    if unborn:
        out.pop("voice", None)
    return out


def engine_answers(version: ThresholdVersion, answers: dict, on_date: dt.date | None = None) -> Answers:
    months, unborn = child_age(answers)
    child = answers.get("child") or {}
    expected = child.get("expected_date")
    consent = (answers.get("consent") or {}).get("consent", "not_asked")
    return Answers(
        indicators=chosen_indicators(version, answers),
        age_months=months, unborn=unborn,
        expected_date=dt.date.fromisoformat(expected) if expected else None,
        consent=consent, in_danger=answers.get("in_danger") == "yes")


def source_code(answers: dict) -> str | None:
    organisation = (answers.get("about_you") or {}).get("organisation")
    return SOURCE_CODES.get(organisation)
