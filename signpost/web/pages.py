"""The journey's page registry: each question page defined once.

A Page says which template shows it (with all its words: question, hints, options, error
messages), how its form is built from the typed answers, how the posted form writes the
answers back, its rows on Check your answers (built here, with the words of journey/_words.html),
whether it is answered and which pages it makes relevant. The last two are its Step in
signpost.journey, which the routing reads without Flask (tests, benchmarks, load plans);
a Page exposes them as is_answered and makes_relevant.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from .. import journey
from ..journey import AboutYou, Child, Consent, Family, JourneyAnswers, Ticks, Voice
from . import journey_forms as jf


@dataclasses.dataclass(frozen=True)
class Context:
    version: Any
    answers: JourneyAnswers
    today: dt.date

    @property
    def plan(self) -> journey.Layout:
        return journey.layout(self.version, self.answers)

    @property
    def unborn(self) -> bool:
        return journey.child_age(self.answers)[1]


@dataclasses.dataclass(frozen=True)
class Page:
    id: str
    template: str  # templates/journey/<template>.html, which holds the page's words
    form: Callable[[Context, Any], Any]  # (context, formdata) -> the form, filled from the answers
    write: Callable[[Context, Any], JourneyAnswers | None]  # None when the form's own checks failed
    extra: Callable[[Context], dict] = lambda ctx: {}  # what else the template needs
    # Its answers on Check your answers and the summary: (the answers, the words) -> rows
    rows: Callable[["Answered", Any], list["Row"]] = lambda answered, words: []

    @property
    def slug(self) -> str:
        return self.id.replace("_", "-")

    @property
    def step(self) -> journey.Step:
        return journey.STEPS[self.id]

    def is_answered(self, version, answers: JourneyAnswers) -> bool:
        """Answered, and nothing offered on it now is new to the referrer."""
        return self.step.answered(version, answers)

    def makes_relevant(self, version, answers: JourneyAnswers) -> tuple[str, ...]:
        """The pages that come straight after it, given the answers so far."""
        return self.step.leads_to(version, answers)


@dataclasses.dataclass(frozen=True)
class Row:
    """One answer on Check your answers: its label, its lines, the page that asks it, and the
    address that changes it (None where the answers can no longer be changed)."""
    key: str
    lines: tuple[str, ...]
    page: str
    href: str | None = None


@dataclasses.dataclass(frozen=True)
class Answered:
    """What the rows read: the answers, and the concerns chosen, most serious first."""
    version: Any
    answers: JourneyAnswers
    chosen: tuple  # Indicator, highest level first

    @classmethod
    def of(cls, version, answers: JourneyAnswers) -> "Answered":
        """Most serious first; at one level, in the threshold document's order."""
        ids = journey.chosen_indicators(version, journey.in_journey(version, answers))
        in_document = (ind for ind in version.document.indicators if ind.id in ids)
        return cls(version, answers, tuple(sorted(in_document, key=lambda ind: -ind.level)))

    def concern_lines(self, ticks: Ticks | None, words) -> tuple[str, ...]:
        if not ticks:
            return (words.summary["none_of_these"],)
        ticked = ticks.ticked
        option = words.summary["concern_option"]
        lines = tuple(option.format(concern=ind.text, option=ind.option)
                      if ind.asks_for and ind.option and ind.asks_for in ticked else ind.text
                      for ind in self.chosen if ind.id in ticked or ind.asks_for in ticked)
        return lines or (words.summary["none_of_these"],)


def summary_rows(version, answers: JourneyAnswers, words, change_url: Callable[[str], str] | None = None) -> list[Row]:
    """Every answer of the pages this journey asks, in order; with change_url(page), each row
    links to the page that changes it. `words` is templates/journey/_words.html's module."""
    answered = Answered.of(version, answers)
    rows = [row for page in journey.sequence(version, answers) if page in PAGES
            for row in PAGES[page].rows(answered, words)]
    if change_url is None:
        return rows
    hrefs = {page: change_url(page) for page in dict.fromkeys(row.page for row in rows)}
    return [dataclasses.replace(row, href=hrefs[row.page]) for row in rows]


def danger_rows(answered, words):
    return [Row(words.summary["danger"], (words.yes_no["yes" if answered.answers.in_danger == "yes" else "no"],),
                "danger")]


def about_you_rows(answered, words):
    about = answered.answers.about_you
    return [Row(words.summary["role"], (words.roles.get(about.role, "") if about else "",), "about_you"),
            Row(words.summary["organisation"], (words.organisations.get(about.organisation, "") if about else "",),
                "about_you")]


def age_words(child: Child | None, words) -> str:
    said = words.summary
    if child is None:
        return said["age_not_known"]
    if child.unborn:
        due = child.expected_date
        return said["due"].format(date=f"{due.day} {due:%B %Y}") if due else said["unborn"]
    years, months = child.years or 0, child.months or 0
    parts = []
    if years:
        parts.append(said["year" if years == 1 else "years"].format(n=years))
    if months or not years:
        parts.append(said["month" if months == 1 else "months"].format(n=months))
    return said["years_and_months"].format(years=parts[0], months=parts[1]) if len(parts) == 2 else parts[0]


def about_child_rows(answered, words):
    return [Row(words.summary["age"], (age_words(answered.answers.child, words),), "about_child")]


def serious_rows(answered, words):
    return [Row(words.summary["serious"], answered.concern_lines(answered.answers.serious, words), "serious")]


def areas_rows(answered, words):
    ticks = answered.answers.areas
    names = {a.id: a.name for d in answered.version.document.domains for a in d.areas}
    lines = tuple(names.get(a, a) for a in (ticks.ticked if ticks else ()))
    return [Row(words.summary["areas"], lines or (words.summary["none_of_these"],), "areas")]


def concerns_rows(answered, words):
    return [Row(words.summary["concerns"], answered.concern_lines(answered.answers.concerns, words), "concerns")]


def what_happened_rows(answered, words):
    said, answers = words.summary, answered.answers
    rows = [Row(said["what_happened"], (answers.what_happened or "",), "what_happened")]
    voice = answers.voice
    if voice:
        rows.append(Row(said["seen"], (words.seen[voice.seen],), "what_happened"))
        rows.extend(Row(said[key], (getattr(voice, key),), "what_happened")
                    for key in ("says", "wants", "observed", "not_seen_reason") if getattr(voice, key))
    return rows


def consent_words(words, consent) -> dict:
    """The consent answers' words, for the family's agreement or a young person's own."""
    return words.consent_young_person if consent and consent.asked_of == "young_person" else words.consent


def family_rows(answered, words):
    said, family, consent = words.summary, answered.answers.family, answered.answers.consent
    rows = [Row(said["working_well"], (family.working_well if family else "",), "family"),
            Row(said["tried"], ((family.tried if family else "") or said["nothing_given"],), "family"),
            Row(said["tried_by"], ((family.tried_by if family else "") or said["nothing_given"],), "family"),
            Row(said["aware"], (words.yes_no.get(consent.aware, "") if consent else "",), "family"),
            Row(said["consent"], (consent_words(words, consent).get(consent.consent, "") if consent else "",),
                "family")]
    if consent and consent.reason:
        rows.append(Row(said["reason"], (consent.reason,), "family"))
    return rows


def _ticks_data(ticks: Ticks | None) -> dict:
    if ticks is None:
        return {"concerns": []}
    return {"concerns": list(ticks.ticked) or [jf.NONE]}


# ------------------------------------------------------------------------ one function pair per page

def danger_form(ctx, formdata):
    return jf.DangerForm(formdata=formdata, data={"in_danger": ctx.answers.in_danger})


def danger_write(ctx, form):
    return ctx.answers.but(in_danger=form.in_danger.data)


def about_you_form(ctx, formdata):
    about = ctx.answers.about_you
    return jf.AboutYouForm(formdata=formdata, data=about.model_dump() if about else {})


def about_you_write(ctx, form):
    return ctx.answers.but(about_you=AboutYou(role=form.role.data, organisation=form.organisation.data))


def about_child_form(ctx, formdata):
    child, data = ctx.answers.child, {}
    if child is not None:
        data["born"] = "unborn" if child.unborn else "born"
        if child.unborn and child.expected_date:
            due = child.expected_date
            data.update(due_day=due.day, due_month=due.month, due_year=due.year)
        elif not child.unborn:
            data.update(years=child.years, months=child.months)
    return jf.AboutChildForm(formdata=formdata, data=data)


def about_child_write(ctx, form):
    if not form.validate_extra(ctx.today):
        return None
    if form.born.data == "unborn":
        return ctx.answers.but(child=Child(unborn=True, expected_date=form.due))
    return ctx.answers.but(child=Child(unborn=False, years=form.age_years, months=form.age_months))


def serious_form(ctx, formdata):
    return jf.ticks_form(ctx.plan.serious_items, data=_ticks_data(ctx.answers.serious), formdata=formdata)


def serious_write(ctx, form):
    shown = tuple(i.id for i in ctx.plan.serious_items)
    return ctx.answers.but(serious=Ticks(ticked=form.ticked, shown=shown))


def serious_extra(ctx):
    return {"groups": ctx.plan.serious,
            "emergency_ids": {i.id for i in ctx.plan.serious_items if journey.is_emergency(i.options[0])}}


def areas_form(ctx, formdata):
    items = [i for g in ctx.plan.areas for i in g.items]
    return jf.ticks_form(items, data=_ticks_data(ctx.answers.areas), formdata=formdata, form_class=jf.AreasForm)


def areas_write(ctx, form):
    return ctx.answers.but(areas=Ticks(ticked=form.ticked, shown=ctx.plan.area_ids))


def concerns_form(ctx, formdata):
    items = journey.concern_items(ctx.version, ctx.answers)
    data = _ticks_data(ctx.answers.concerns)
    data.update({f"severity_{q}": ind for q, ind in ctx.answers.severity.items()})
    return jf.concerns_form(items, data=data, formdata=formdata)


def concerns_write(ctx, form):
    severity = jf.severity_answers(form)
    if severity is None:
        return None
    shown = tuple(i.id for i in journey.concern_items(ctx.version, ctx.answers))
    return ctx.answers.but(concerns=Ticks(ticked=form.ticked, shown=shown), severity=severity)


def concerns_extra(ctx):
    chosen = ctx.answers.areas.ticked if ctx.answers.areas else ()
    return {"groups": ctx.plan.concern_groups(chosen)}


def _asks_voice(ctx) -> bool:
    return not ctx.unborn and ctx.answers.in_danger != "yes"


def _asks_lado(ctx) -> bool:
    return journey.on_emergency_path(ctx.version, ctx.answers)


def what_happened_form(ctx, formdata):
    voice = ctx.answers.voice
    data = {"what_happened": ctx.answers.what_happened, **(voice.model_dump() if voice else {}),
            "lado": list(ctx.answers.lado.ticked) if ctx.answers.lado else []}
    form_class = jf.VoiceForm if _asks_voice(ctx) else jf.WhatHappenedForm
    form = form_class(formdata=formdata, data=data)
    if _asks_lado(ctx):
        form.lado.choices = [(i.id, i.text) for i in journey.lado_items(ctx.version)]
    return form


def what_happened_write(ctx, form):
    answers = ctx.answers.but(what_happened=form.what_happened.data or "")
    if _asks_lado(ctx):
        shown = tuple(i.id for i in journey.lado_items(ctx.version))
        answers = answers.but(lado=Ticks(ticked=tuple(form.lado.data or ()), shown=shown))
    if not _asks_voice(ctx):
        return answers
    if not form.validate_extra():
        return None
    keep = {"yes": ("says", "wants", "observed"), "seen_not_spoken": ("observed",),
            "no": ("not_seen_reason",)}[form.seen.data]
    return answers.but(voice=Voice(seen=form.seen.data, **{k: getattr(form, k).data or "" for k in keep}))


def what_happened_extra(ctx):
    return {"asks_voice": _asks_voice(ctx), "asks_lado": _asks_lado(ctx) and bool(journey.lado_items(ctx.version))}


def family_form(ctx, formdata):
    family, consent = ctx.answers.family, ctx.answers.consent
    asked_of = journey.asks_consent_of(ctx.version, ctx.answers)
    data = {**(family.model_dump() if family else {}), **(consent.model_dump() if consent else {}),
            "asked_of": asked_of}
    if consent and consent.asked_of != asked_of:
        # Asked of someone else before the age changed: whoever is asked now answers afresh.
        data.pop("consent", None)
        data.pop("reason", None)
    if formdata is not None and formdata.get("asked_of", asked_of) != asked_of:
        # Sent (or kept, to show again) from the page when it asked someone else: the age changed in
        # another tab, or the draft moved to a version that asks otherwise. Whoever is asked now
        # answers afresh; the rest of what was typed stays.
        formdata = MultiDict([(key, value) for key, value in formdata.items(multi=True)
                              if key not in ("consent", "reason", "asked_of")])
    return jf.FamilyForm(formdata=formdata, data=data)


def family_extra(ctx):
    """The concerns chosen that the family must not hear of from the referrer: the page says not to
    ask for their consent (the recommendation then says not to tell them)."""
    not_told = journey.family_not_told(ctx.version, ctx.answers)
    return {"family_not_told": [ctx.version.indicators[i].text for i in not_told],
            "warned": " ".join(not_told),  # the page says which warnings it shows (family_write)
            "young_person": journey.asks_consent_of(ctx.version, ctx.answers) == "young_person"}


def family_write(ctx, form):
    """The answer covers only the concerns whose warning the page showed (its `warned` field), never
    every one chosen now: the answers here are read as the form is sent, and again after another tab's
    save, so a concern chosen in another tab meanwhile is in them. One it did not show leaves the page
    unanswered, to be shown again with that concern's warning."""
    asked_of = journey.asks_consent_of(ctx.version, ctx.answers)
    if not form.validate_extra(young_person=asked_of == "young_person"):
        return None
    shown = set((form.warned.data or "").split())
    return ctx.answers.but(
        family=Family(**{k: getattr(form, k).data or "" for k in ("working_well", "tried", "tried_by")}),
        consent=Consent(aware=form.aware.data, consent=form.consent.data, reason=form.reason.data or "",
                        warned=tuple(i for i in journey.family_not_told(ctx.version, ctx.answers) if i in shown),
                        asked_of=asked_of))


PAGES: dict[str, Page] = {page.id: page for page in (
    Page("danger", "danger", danger_form, danger_write, rows=danger_rows),
    Page("about_you", "about_you", about_you_form, about_you_write, rows=about_you_rows),
    Page("about_child", "about_child", about_child_form, about_child_write, rows=about_child_rows),
    Page("serious", "serious", serious_form, serious_write, serious_extra, serious_rows),
    Page("areas", "areas", areas_form, areas_write, lambda ctx: {"groups": ctx.plan.areas}, areas_rows),
    Page("concerns", "concerns", concerns_form, concerns_write, concerns_extra, concerns_rows),
    Page("what_happened", "what_happened", what_happened_form, what_happened_write, what_happened_extra,
         what_happened_rows),
    Page("family", "family", family_form, family_write, family_extra, family_rows),
)}
BY_SLUG = {page.slug: page for page in PAGES.values()}
