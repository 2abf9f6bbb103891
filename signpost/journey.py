"""The referral journey as pure routing: a typed answers model, and which page comes next.

Generated from a threshold version, so a new version changes the questions without code
changes. No Flask, no database: the web layer keeps JourneyAnswers in a server-side draft.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .engine import Answers, applies_to_age
from .thresholds.loader import ThresholdVersion
from .values import age_band_for
from .thresholds.schema import Indicator, SeverityQuestion
from .values import CONSENT_VALUES

# Who is referring: the type of organisation, and its Children in Need census referral source
# code. What the referrer reads for each (and for ROLES) is in templates/journey/_words.html.
SOURCE_CODES = {
    "school": "2A",  # school or college
    "education": "2B",  # early years setting or other education service
    "gp": "3A",
    "health_visiting": "3B",
    "school_nursing": "3C",
    "primary_health": "3D",  # midwifery or other primary health service
    "emergency": "3E",  # hospital emergency department
    "other_health": "3F",  # for example hospital or CAMHS
    "other": "8",
}
ORGANISATIONS = tuple(SOURCE_CODES)
ORGANISATION_FOR_CODE = {code: key for key, code in SOURCE_CODES.items()}

ROLES = ("dsl", "teacher", "head", "early_years", "health_visitor", "school_nurse", "midwife", "gp",
         "other_health", "other")


# ---------------------------------------------------------------- the typed answers

class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AboutYou(_Part):
    role: str
    organisation: str


class Child(_Part):
    unborn: bool = False
    years: int | None = None
    months: int | None = None
    expected_date: dt.date | None = None


class Ticks(_Part):
    """A concerns page's answer: what was ticked, and what was offered when it was answered.

    `shown` is what makes relevance work: when a change (say, of age) offers items the
    referrer has not seen, the page counts as unanswered and is asked again.
    """
    ticked: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()


class Voice(_Part):
    seen: Literal["yes", "seen_not_spoken", "no"]
    says: str = ""
    wants: str = ""
    observed: str = ""
    not_seen_reason: str = ""


class Family(_Part):
    working_well: str = ""
    tried: str = ""
    tried_by: str = ""


class Consent(_Part):
    """The family page's consent answer, whose it is, and the concerns it was given beside.

    `asked_of` is whose agreement the page asked for (asks_consent_of): a young person of 16 or 17
    gives or refuses their own. A change of age that changes it makes the page unanswered, so an
    answer given about the family is never read as the young person's, nor the other way round.

    `warned` holds the concerns the family must not hear of from the referrer (family_not_told)
    whose warning the page showed when this was answered. A concern like that chosen afterwards (say,
    sexual abuse ticked from Check your answers after the family agreed to early help) makes the
    page unanswered, so the referrer sees its warning before the referral says the family agree.
    """
    aware: Literal["yes", "no"]
    consent: Literal[CONSENT_VALUES]  # type: ignore[valid-type]
    reason: str = ""
    warned: tuple[str, ...] = ()
    asked_of: Literal["family", "young_person"] = "family"


class Sending(_Part):
    """The details for a referral or an early-help request, kept until it is sent."""

    kind: Literal["referral", "early_help_request"]
    details: dict[str, str | None]


class JourneyAnswers(_Part):
    """Everything a referrer has answered so far; stored as JSON in the draft."""

    in_danger: Literal["yes", "no"] | None = None
    about_you: AboutYou | None = None
    child: Child | None = None
    serious: Ticks | None = None  # top-level and urgent concerns (indicator ids)
    areas: Ticks | None = None  # the areas that worry the referrer (area ids)
    concerns: Ticks | None = None  # those areas' concerns (indicator or severity question ids)
    severity: dict[str, str] = Field(default_factory=dict)  # question id -> indicator id
    lado: Ticks | None = None  # on the immediate-danger path: is it about an adult who works with children?
    what_happened: str | None = None
    voice: Voice | None = None
    family: Family | None = None
    consent: Consent | None = None
    sending: Sending | None = None

    @classmethod
    def load(cls, data: dict | None) -> "JourneyAnswers":
        return cls.model_validate(data or {})

    def dump(self) -> dict:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)

    def but(self, **changes) -> "JourneyAnswers":
        return self.model_copy(update=changes)


# ---------------------------------------------------------------- the child and their age

def child_age(answers: JourneyAnswers) -> tuple[int | None, bool]:
    """(age in months, unborn) from the about_child answer; (None, False) if not answered."""
    child = answers.child
    if child is None:
        return None, False
    if child.unborn:
        return None, True
    return int(child.years or 0) * 12 + int(child.months or 0), False


def asks_consent_of(version: ThresholdVersion, answers: JourneyAnswers) -> Literal["family", "young_person"]:
    """Whose agreement the family page asks for: a young person's own from the age the version says
    (consent_advice.own_consent_from_age: 16 from northmere-2026-12-5, when the Mental Capacity Act
    2005 presumes them able to decide), else the family's. A version that does not say asks the
    family's at every age: its steps speak of the family's agreement."""
    from_age = version.document.consent_advice.own_consent_from_age
    months, unborn = child_age(answers)
    if from_age is None or unborn or months is None:
        return "family"
    return "young_person" if months >= from_age * 12 else "family"


def age_band(answers: JourneyAnswers | dict) -> str:
    """The Children in Need style age band (values.AGE_BANDS); also from stored answers (a dict)."""
    if isinstance(answers, dict):
        answers = JourneyAnswers.load(answers)
    return age_band_for(*child_age(answers))


def applies(ind: Indicator, months: int | None, unborn: bool) -> bool:
    """Whether a concern can be asked about a child of this age (the engine's own rule)."""
    return applies_to_age(ind, months, unborn)


def is_serious(version: ThresholdVersion, ind: Indicator) -> bool:
    """Asked on the first concerns page: every top-level, emergency or same-day concern."""
    return not ind.lado and (ind.level == version.document.levels[-1].number or ind.urgency != "standard")


def is_emergency(ind: Indicator) -> bool:
    return ind.urgency == "emergency"


# ---------------------------------------------------------------- concerns, from the thresholds

@dataclasses.dataclass(frozen=True)
class Item:
    """One checkbox: an indicator, or a concern whose severity question picks the indicator."""

    id: str
    text: str
    hint: str | None
    level: int
    area: str
    question: SeverityQuestion | None = None
    options: tuple[Indicator, ...] = ()  # the severity answers that apply, for a question


@dataclasses.dataclass(frozen=True)
class Group:
    """Items under one heading: a domain on the first page, an area on the concerns page."""

    id: str
    name: str
    items: tuple[Item, ...]
    areas: tuple[str, ...] = ()  # area names inside a domain group, to say what it holds


@dataclasses.dataclass(frozen=True)
class Layout:
    """What this child's journey asks: serious groups, the areas, and each area's items."""

    serious: tuple[Group, ...]
    areas: tuple[Group, ...]  # domain groups whose items are areas (Item.id == area id)
    by_area: dict[str, tuple[Item, ...]]

    @property
    def serious_items(self) -> tuple[Item, ...]:
        return tuple(i for g in self.serious for i in g.items)

    @property
    def area_ids(self) -> tuple[str, ...]:
        return tuple(i.id for g in self.areas for i in g.items)

    def concern_groups(self, areas) -> tuple[Group, ...]:
        names = {i.id: i.text for g in self.areas for i in g.items}
        return tuple(Group(a, names[a], self.by_area[a]) for a in self.area_ids if a in set(areas))


_LAYOUTS: dict[tuple, Layout] = {}  # a page works it out several times: it depends on little


def layout(version: ThresholdVersion, answers: JourneyAnswers) -> Layout:
    """The serious concerns grouped by domain; the rest by area, each only where it applies."""
    months, unborn = child_age(answers)
    serious_ticked = tuple(sorted(answers.serious.ticked)) if answers.serious else ()
    key = (version.content_hash, months, unborn, serious_ticked)
    found = _LAYOUTS.get(key)
    if found is None:
        if len(_LAYOUTS) > 2000:
            _LAYOUTS.clear()
        found = _LAYOUTS[key] = _layout(version, months, unborn, set(serious_ticked))
    return found


def _layout(version: ThresholdVersion, months: int | None, unborn: bool, serious_ticked: set[str]) -> Layout:
    doc = version.document
    questions = {q.id: q for q in doc.severity_questions}

    serious: dict[str, list[Item]] = {d.id: [] for d in doc.domains}
    by_area: dict[str, list[Item]] = {a.id: [] for d in doc.domains for a in d.areas}
    asked: set[str] = set()
    for ind in doc.indicators:
        if not applies(ind, months, unborn):
            continue
        if is_serious(version, ind):
            serious[ind.domain].append(Item(ind.id, ind.text, ind.hint, ind.level, ind.area,
                                            options=(ind,)))
            continue
        if ind.asks_for:
            if ind.asks_for in asked:
                continue
            asked.add(ind.asks_for)
            q = questions[ind.asks_for]
            options = [o for o in version.severity_options(q.id)
                       if applies(o, months, unborn) and not is_serious(version, o)]
            if any(version.indicators[i].asks_for == q.id for i in serious_ticked if i in version.indicators):
                continue  # already answered at its most serious on the first page
            if len(options) == 1:  # only one answer applies at this age: ask it directly
                only = options[0]
                by_area[only.area].append(Item(only.id, only.text, only.hint, only.level, only.area,
                                               options=(only,)))
                continue
            by_area[ind.area].append(Item(q.id, q.text, q.hint, max(o.level for o in options), ind.area,
                                          q, tuple(options)))
        else:
            by_area[ind.area].append(Item(ind.id, ind.text, ind.hint, ind.level, ind.area, options=(ind,)))

    serious_groups = []
    area_groups = []
    for domain in doc.domains:
        names = {a.id: a.name for a in domain.areas}
        order = {a.id: n for n, a in enumerate(domain.areas)}
        items = sorted(serious[domain.id], key=lambda i: (order[i.area], not i.options[0].immediate))
        if items:
            held = tuple(dict.fromkeys(names[i.area] for i in items))
            serious_groups.append(Group(domain.id, domain.name, tuple(items), held))
        areas = tuple(Item(a.id, a.name, a.description, 0, a.id)
                      for a in domain.areas if by_area[a.id])
        if areas:
            area_groups.append(Group(domain.id, domain.name, areas))
    return Layout(tuple(serious_groups), tuple(area_groups),
                  {k: tuple(sorted(v, key=lambda i: i.level)) for k, v in by_area.items() if v})


def concern_items(version: ThresholdVersion, answers: JourneyAnswers) -> tuple[Item, ...]:
    """The items of the concerns page: those of the areas the referrer chose."""
    chosen = answers.areas.ticked if answers.areas else ()
    return tuple(i for g in layout(version, answers).concern_groups(chosen) for i in g.items)


def chosen_indicators(version: ThresholdVersion, answers: JourneyAnswers) -> frozenset[str]:
    """Indicator ids the referrer has ticked (severity concerns resolved to their answer)."""
    chosen: set[str] = set()
    ticked = list(answers.serious.ticked if answers.serious else ()) + list(
        answers.concerns.ticked if answers.concerns else ()) + list(answers.lado.ticked if answers.lado else ())
    for item_id in ticked:
        if item_id in version.indicators:
            chosen.add(item_id)
        elif answers.severity.get(item_id) in version.indicators:
            chosen.add(answers.severity[item_id])
    return frozenset(chosen)


def family_not_told(version: ThresholdVersion, answers: JourneyAnswers) -> tuple[str, ...]:
    """The chosen concerns the family must not hear of from the referrer, in id order."""
    return tuple(sorted(i for i in chosen_indicators(version, answers) if version.indicators[i].family_not_told))


def not_warned(version: ThresholdVersion, answers: JourneyAnswers) -> tuple[str, ...]:
    """The chosen concerns the family must not hear of whose warning the family page did not show when
    it was answered (chosen since: from Check your answers, or in another tab as it was answered)."""
    warned = set(answers.consent.warned) if answers.consent is not None else set()
    return tuple(i for i in family_not_told(version, answers) if i not in warned)


def _family_answered(version: ThresholdVersion, answers: JourneyAnswers) -> bool:
    return (answers.family is not None and answers.consent is not None
            and not not_warned(version, answers)
            and answers.consent.asked_of == asks_consent_of(version, answers))


def lado_items(version: ThresholdVersion) -> tuple[Indicator, ...]:
    """Concerns about an adult who works with children: asked on the immediate-danger path
    too, after the phone numbers, so the LADO is told whatever else happens."""
    return tuple(i for i in version.document.indicators if i.lado)


def on_emergency_path(version: ThresholdVersion, answers: JourneyAnswers) -> bool:
    return answers.in_danger == "yes" or bool(emergency_chosen(version, answers))


def emergency_chosen(version: ThresholdVersion, answers: JourneyAnswers) -> list[Indicator]:
    return [version.indicators[i] for i in sorted(chosen_indicators(version, answers))
            if is_emergency(version.indicators[i])]


# ---------------------------------------------------------------- each page's part in the routing

@dataclasses.dataclass(frozen=True)
class Step:
    """One page's routing: whether it is answered, and which pages it makes relevant.

    `answered` is true when the page's answer is given and nothing offered on it now is new
    to the referrer. `leads_to` names the pages that come straight after this one, given the
    answers so far; a page it names that is already in the journey is not asked twice.
    The web page registry (signpost.web.pages) exposes these with the page's form, template
    and rows; they are here so that routing stays pure (no Flask) for the tests and benchmarks.
    """

    id: str
    answered: Callable[[ThresholdVersion, JourneyAnswers], bool] = lambda version, answers: False
    leads_to: Callable[[ThresholdVersion, JourneyAnswers], tuple[str, ...]] = lambda version, answers: ()


def _ticks_answered(ticks: Ticks | None, offered) -> bool:
    return ticks is not None and set(offered) <= set(ticks.shown)


def _concerns_answered(version, answers) -> bool:
    items = concern_items(version, answers)
    return _ticks_answered(answers.concerns, (i.id for i in items)) and all(
        answers.severity.get(i.id) for i in items if i.question and i.id in answers.concerns.ticked)


def _what_happened_answered(version, answers) -> bool:
    _, unborn = child_age(answers)
    return answers.what_happened is not None and (answers.voice is not None or unborn or answers.in_danger == "yes")


def _after_serious(version, answers) -> tuple[str, ...]:
    if emergency_chosen(version, answers):
        return ("danger_call",)  # phone first; the referrer's words and the referral follow it
    return (("areas",) if layout(version, answers).areas else ()) + ("what_happened",)


STEPS: dict[str, Step] = {step.id: step for step in (
    Step("danger", lambda v, a: a.in_danger is not None,
         lambda v, a: ("danger_call",) if a.in_danger == "yes" else ("about_you", "about_child")),
    # Known from the account after the first journey: next_page steps over it when answered.
    Step("about_you", lambda v, a: a.about_you is not None),
    Step("about_child", lambda v, a: a.child is not None, lambda v, a: ("serious",) if a.child else ()),
    Step("serious", lambda v, a: _ticks_answered(a.serious, (i.id for i in layout(v, a).serious_items)),
         _after_serious),
    Step("areas", lambda v, a: _ticks_answered(a.areas, layout(v, a).area_ids),
         lambda v, a: ("concerns",) if a.areas and a.areas.ticked else ()),
    Step("concerns", _concerns_answered),
    Step("danger_call", leads_to=lambda v, a: ("what_happened",)),  # only informs: never "answered"
    Step("what_happened", _what_happened_answered,
         lambda v, a: ("referral",) if on_emergency_path(v, a) else ("family",)),
    Step("family", _family_answered, lambda v, a: ("check",)),
    Step("check", leads_to=lambda v, a: ("recommendation",)),
    Step("recommendation"),
    Step("referral"),
)}
FIRST = "danger"


# ---------------------------------------------------------------- which pages, in which order

def sequence(version: ThresholdVersion, answers: JourneyAnswers) -> list[str]:
    """Every page this referrer will see, in order, given what they have answered so far:
    from the first page, each page's `leads_to` pages straight after it."""
    seq = [FIRST]
    index = 0
    while index < len(seq):
        following = [p for p in STEPS[seq[index]].leads_to(version, answers) if p not in seq]
        seq[index + 1:index + 1] = following
        index += 1
    return seq


def is_answered(version: ThresholdVersion, page: str, answers: JourneyAnswers) -> bool:
    """Answered, and nothing offered on it now that the referrer has not seen."""
    step = STEPS.get(page)
    return step is not None and step.answered(version, answers)


def first_unanswered(version: ThresholdVersion, answers: JourneyAnswers) -> str:
    seq = sequence(version, answers)
    for page in seq:
        if not is_answered(version, page, answers):
            return page
    return seq[-1]


def can_visit(version: ThresholdVersion, answers: JourneyAnswers, page: str) -> bool:
    """A page is reachable when it is in the sequence and every page before it is answered."""
    seq = sequence(version, answers)
    if page not in seq:
        return False
    # The phone page only informs: the pages after it (the referrer's words) may follow it.
    return all(is_answered(version, p, answers) or p == "danger_call" for p in seq[: seq.index(page)])


def next_page(version: ThresholdVersion, answers: JourneyAnswers, current: str,
              returning_to_check: bool = False) -> str:
    """The page after `current`; after a change from Check your answers, the first page the
    change left unanswered (new questions), else Check your answers."""
    seq = sequence(version, answers)
    if returning_to_check or current not in seq:
        return first_unanswered(version, answers)
    index = seq.index(current)
    following = seq[index + 1] if index + 1 < len(seq) else seq[-1]
    if following == "about_you" and is_answered(version, following, answers):
        following = seq[index + 2]  # known from the account: changed on Check your answers only
    return following


def previous_page(version: ThresholdVersion, answers: JourneyAnswers, current: str) -> str | None:
    """Where Back goes: the page before `current`, skipping About you once it is answered, as
    next_page does going forward (known from the account, it is changed on Check your answers only:
    a referrer whose account had said never saw it on this journey)."""
    seq = sequence(version, answers)
    if current not in seq or seq.index(current) == 0:
        return None
    index = seq.index(current) - 1
    if seq[index] == "about_you" and index > 0 and is_answered(version, "about_you", answers):
        index -= 1
    return seq[index]


def prune(version: ThresholdVersion, answers: JourneyAnswers,
          moved_from: ThresholdVersion | None = None) -> tuple[JourneyAnswers, list[str]]:
    """Drop answers that no longer apply (after a change of age, or under a new version).

    Returns the answers kept and the words of each concern dropped, to tell the referrer.
    `moved_from`: the version the answers were given under, when they move to `version`. A concern
    the new version still has, on another page (the areas page before, the serious concerns page
    now), is then carried there, ticked, and that page asks again; a dropped concern is named in the
    words it was ticked under (the new version may not have it at all).
    """
    original = answers
    plan = layout(version, answers)
    dropped: list[str] = []  # ids: indicators, severity questions, areas

    def keep(ticks: Ticks | None, offered: dict[str, str]) -> Ticks | None:
        if ticks is None:
            return None
        kept = tuple(t for t in ticks.ticked if t in offered)
        dropped.extend(t for t in ticks.ticked if t not in offered)
        return Ticks(ticked=kept, shown=tuple(s for s in ticks.shown if s in offered))

    serious = keep(answers.serious, {i.id: i.text for i in plan.serious_items})
    answers = answers.but(serious=serious)
    plan = layout(version, answers)  # a serious answer removes its question from the areas
    areas = keep(answers.areas, {a: a for a in plan.area_ids})
    answers = answers.but(areas=areas)
    items = {i.id: i for i in concern_items(version, answers)}
    concerns = keep(answers.concerns, {k: i.text for k, i in items.items()})
    ticked = set(concerns.ticked) if concerns else set()
    severity = {q: ind for q, ind in answers.severity.items()
                if q in ticked and q in items and ind in {o.id for o in items[q].options}}
    for q, ind in answers.severity.items():
        if q in ticked and q not in severity:
            dropped.append(ind)
    _, unborn = child_age(answers)
    out = answers.but(concerns=concerns, severity=severity)
    if moved_from is not None and not on_emergency_path(version, out):
        missing = sorted((chosen_indicators(moved_from, original) - chosen_indicators(version, out))
                         & set(version.indicators))
        out, lost = _carry_concerns(version, out, missing)
        carried = set(missing) - set(lost)
        # Neither the concern nor the question it answered before is named as dropped.
        dropped = [d for d in dropped if d not in carried and original.severity.get(d) not in carried]
    if answers.lado is not None and not on_emergency_path(version, answers):
        # Asked on that path only; elsewhere they are concerns like any other. A concern about an
        # adult who works with children ticked there is carried to the page that offers it (ticked,
        # not yet shown, so that page is asked again with it ticked): the LADO outcome is never lost
        # by changing "in immediate danger" back to no.
        out, lost = _carry_concerns(version, out.but(lado=None), answers.lado.ticked)
        dropped.extend(lost)
    elif answers.lado is None and on_emergency_path(version, out):
        # Onto the emergency path with a concern about an adult who works with children already
        # ticked: it is carried to that path's own question (ticked, not yet shown), so the LADO
        # outcome stays and the referrer sees it, and can untick it, beside what happened.
        staff = {i.id for i in lado_items(version)} & chosen_indicators(version, out)
        if staff:
            out = out.but(lado=Ticks(ticked=tuple(sorted(staff)), shown=()))
    if unborn:
        out = out.but(voice=None)
    said = moved_from or version
    words = [_words(said, d) or _words(version, d) for d in dropped]
    return out, list(dict.fromkeys(w for w in words if w))


def _carry_concerns(version: ThresholdVersion, answers: JourneyAnswers,
                    indicator_ids) -> tuple[JourneyAnswers, list[str]]:
    """These concerns ticked on the serious or concerns page that offers each (which then asks
    again; a concern offered as an answer to a question, with the question ticked and answered);
    and the ids of any this child's pages do not offer."""
    lost = []
    for item_id in indicator_ids:
        plan = layout(version, answers)
        if item_id in {i.id for i in plan.serious_items}:
            answers = answers.but(serious=_tick(answers.serious, item_id))
            continue
        found = next(((a, i) for a in plan.area_ids for i in plan.by_area[a]
                      if i.id == item_id or (i.question and any(o.id == item_id for o in i.options))), None)
        if found is None:
            lost.append(item_id)
            continue
        area, item = found
        answers = answers.but(areas=_tick(answers.areas, area), concerns=_tick(answers.concerns, item.id))
        if item.id != item_id:
            answers = answers.but(severity={**answers.severity, item.id: item_id})
    return answers, lost


def _tick(ticks: Ticks | None, item_id: str) -> Ticks:
    """These ticks with one more ticked, and not counted as shown (the page asks again)."""
    ticks = ticks or Ticks()
    return Ticks(ticked=ticks.ticked if item_id in ticks.ticked else (*ticks.ticked, item_id),
                 shown=tuple(s for s in ticks.shown if s != item_id))


def _words(version: ThresholdVersion, item_id: str) -> str:
    if item_id in version.indicators:
        return version.indicators[item_id].text
    question = next((q for q in version.document.severity_questions if q.id == item_id), None)
    if question is not None:
        return question.text
    return ""  # an area: the area's concerns are reported instead


def in_journey(version: ThresholdVersion, answers: JourneyAnswers) -> JourneyAnswers:
    """The answers that count: those of the pages in the referrer's journey as it now stands.

    A change of path ("in danger" now yes, or an emergency ticked on the first concerns page)
    takes pages out of the journey: the areas and their concerns, the family and consent, the
    child's voice when they are in danger now. Their answers stay in the draft, so nothing is lost
    if the referrer changes back, but they no longer count: the recommendation, its record and
    the referral hold only what the referrer's pages show. (A concern about an adult who works
    with children is carried to the emergency path's own question by prune.)
    """
    pages = set(sequence(version, answers))
    changes: dict = {}
    if "serious" not in pages:
        changes["serious"] = None
    if "areas" not in pages:
        changes["areas"] = None
    if "concerns" not in pages:
        changes.update(concerns=None, severity={})
    if "family" not in pages:
        changes.update(family=None, consent=None)
    if answers.in_danger == "yes":
        changes["voice"] = None  # not asked on that path (signpost.web.pages)
    return answers.but(**changes) if changes else answers


def phone_today(version: ThresholdVersion, answers: JourneyAnswers) -> bool:
    """A concern that needs a phone call to the front door today is ticked (and the child is not on
    the emergency path, whose page says 999 first): the pages after it say so straight away, for
    the threshold document says to phone before writing anything, not at the end of the journey."""
    chosen = [version.indicators[i] for i in chosen_indicators(version, answers)]
    if answers.in_danger == "yes" or any(is_emergency(i) for i in chosen):  # on_emergency_path, from one reading
        return False
    # Off that path every page that holds concerns is in the journey (prune keeps their ticks to
    # what they offer), so the ticks are those in_journey would count, without working out the path.
    return any(i.urgency == "same_day" for i in chosen)


def engine_answers(version: ThresholdVersion, answers: JourneyAnswers) -> Answers:
    answers = in_journey(version, answers)
    months, unborn = child_age(answers)
    child = answers.child or Child()
    consent = answers.consent.consent if answers.consent else "not_asked"
    return Answers(
        indicators=chosen_indicators(version, answers),
        age_months=months, unborn=unborn,
        expected_date=child.expected_date if unborn else None,
        consent=consent, in_danger=answers.in_danger == "yes")


SERVICE_FIELDS = {"id", "name", "description", "eligibility_description", "how_to_access", "contact"}


def shown(rec) -> dict:
    """What the pages show of a recommendation, as stored with its revision."""
    return {"level_name": rec.level_name, "reasons": [r.to_dict() for r in rec.reasons],
            "next_steps": list(rec.next_steps), "lado_steps": list(rec.lado_steps),
            "urgent_reasons": [r.to_dict() for r in rec.urgent_reasons],
            "services": [s.model_dump(mode="json", include=SERVICE_FIELDS) for s in rec.services],
            "overdue_for_review": rec.overdue_for_review}


def answers_key(version: ThresholdVersion, answers: JourneyAnswers) -> str:
    """A hash of what the engine reads from these answers, with the version: a recorded
    recommendation is for the current answers only when its key matches."""
    return engine_key(version, engine_answers(version, answers))


# Raised when the engine gives different advice for the same answers and version (2: the 999 page
# keeps same-day reasons; a concern about staff alone gives the LADO's steps only; family_not_told.
# 3: a same-day referral without consent asked no longer also says "tell the parents".
# 4: the services shown no longer include couples work or family mediation with suspected domestic
# abuse, a partner's history of it, or a risk of forced marriage or "honour"-based abuse: the
# directory's not_for changed, and the key does not hold the directory).
# A draft's recorded recommendation from before then no longer matches its answers, so Check your
# answers works it out again, rather than showing the older advice.
ENGINE_REVISION = 4


def engine_key(version: ThresholdVersion, e: Answers) -> str:
    """answers_key, from the engine's answers already worked out (working them out means working
    out the journey's path: recording a revision does it once, for the engine and the key)."""
    data = {"indicators": sorted(e.indicators), "age": e.age_months, "unborn": e.unborn,
            "expected": e.expected_date.isoformat() if e.expected_date else None,
            "consent": e.consent, "in_danger": e.in_danger, "version": version.content_hash,
            "engine": ENGINE_REVISION}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def source_code(answers: JourneyAnswers) -> str | None:
    return SOURCE_CODES.get(answers.about_you.organisation) if answers.about_you else None


def with_concerns(version: ThresholdVersion, answers: JourneyAnswers, indicator_ids) -> JourneyAnswers:
    """The concerns pages answered so that exactly these indicators are chosen.

    Used for the demo history, the tests and the journey-length benchmark: what a referrer
    who knows their concerns ticks on each page. The ids must apply to the child's age,
    with one answer per severity question.
    """
    wanted = set(indicator_ids)
    answers = answers.but(serious=None, areas=None, concerns=None, severity={}, lado=None)
    if answers.in_danger == "yes":  # the danger path asks only about an adult who works with children
        lado = tuple(i.id for i in lado_items(version))
        return answers.but(lado=Ticks(ticked=tuple(i for i in lado if i in wanted), shown=lado))
    plan = layout(version, answers)
    serious = tuple(i.id for i in plan.serious_items if i.id in wanted)
    answers = answers.but(serious=Ticks(ticked=serious, shown=tuple(i.id for i in plan.serious_items)))
    plan = layout(version, answers)
    ticked, severity, areas = [], {}, []
    for area in plan.area_ids:
        for item in plan.by_area[area]:
            hit = next((o.id for o in item.options if o.id in wanted), None)
            if hit is None:
                continue
            ticked.append(item.id)
            if item.question is not None:
                severity[item.id] = hit
            if area not in areas:
                areas.append(area)
    answers = answers.but(areas=Ticks(ticked=tuple(areas), shown=plan.area_ids))
    shown = tuple(i.id for i in concern_items(version, answers))
    return answers.but(concerns=Ticks(ticked=tuple(ticked), shown=shown) if areas else None, severity=severity)


def random_concerns(version: ThresholdVersion, months: int | None, unborn: bool, rng, rate: float) -> list[str]:
    """Concerns a referrer might tick (each with probability `rate`): no emergencies, one
    answer per severity question. For the demo history, tests and benchmarks."""
    picked, asked = [], set()
    for ind in version.document.indicators:
        if (rng.random() < rate and applies(ind, months, unborn) and not is_emergency(ind)
                and (ind.asks_for or ind.id) not in asked):
            asked.add(ind.asks_for or ind.id)
            picked.append(ind.id)
    return picked
