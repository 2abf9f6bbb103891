"""The referral journey's forms: one WTForms class per page, with no words in them.

Each field's label, hint and option text, and the words of each error, are in the page's
template (its `words`; forms.use_words gives them to the form). Errors are raised as codes
(forms.Problem): "required" for an answer left out, "too_long" for text over the limit, and
the codes named beside each check below. Concerns and severity pages are built from the
threshold version at request time, with the threshold file's words.
"""
from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from ..engine import expected_date_possible
from ..journey import ORGANISATIONS, ROLES
from ..values import CONSENT_VALUES, months_old
from .forms import DIGITS, Problem, max_length, normalise_postcode, read_date, uk_phone, uk_postcode

LONG = 5000  # characters allowed in a free-text answer
REQUIRED = Problem("required")


def _choices(*values: str) -> list[tuple[str, str]]:
    """Radio values; their words are the template's options."""
    return [(value, "") for value in values]


def _radio(*values: str) -> RadioField:
    return RadioField("", choices=_choices(*values), validators=[InputRequired(REQUIRED)])


def _text(required: bool = False, limit: int = LONG) -> TextAreaField:
    return TextAreaField("", validators=[InputRequired(REQUIRED) if required else Optional(), max_length(limit)],
                         filters=[lambda v: v.strip() if isinstance(v, str) else v])


def _line(limit: int, *checks, required: bool = False, **options) -> StringField:
    return StringField("", validators=[InputRequired(REQUIRED) if required else Optional(), max_length(limit),
                                       *checks], **options)


def _missing(field, code: str) -> None:
    field.errors = list(field.errors) + [Problem(code)]


class DangerForm(FlaskForm):
    in_danger = _radio("yes", "no")


class AboutYouForm(FlaskForm):
    role = _radio(*ROLES)
    organisation = _radio(*ORGANISATIONS)


def _number(field, low: int, high: int) -> int | None:
    """A whole number typed into a text box; else None, with not_a_number (low, high) on the
    field if something else was typed."""
    raw = (field.data or "").strip()
    if not raw:
        return None
    if not DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        field.errors = list(field.errors) + [Problem("not_a_number", low=low, high=high)]
        return None
    return int(raw)


class AboutChildForm(FlaskForm):
    born = _radio("born", "unborn")
    # Text boxes read by validate_extra, so that only the boxes under the chosen answer count.
    # The date's boxes are labelled by forms.date_params; its errors are on the day's box.
    years = StringField("")
    months = StringField("")
    due_day = StringField("")
    due_month = StringField("")
    due_year = StringField("")

    def validate_extra(self, today: dt.date) -> bool:
        self.age_years = self.age_months = self.due = None
        if self.born.data == "born":
            self.age_years = _number(self.years, 0, 17)
            self.age_months = _number(self.months, 0, 11)
            if self.age_years is None and not self.years.errors:
                _missing(self.years, "required")
            if self.age_months is None and not self.months.errors:
                _missing(self.months, "required")
            return self.age_years is not None and self.age_months is not None
        if self.born.data == "unborn":
            self.due, problem = read_date(self.due_day, self.due_month, self.due_year)
            if problem is None and not expected_date_possible(self.due, today):
                problem = Problem("not_due_soon")
            if problem:
                self.due_day.errors = [problem]
                return False
            return True
        return False


NONE = "none"


class TicksForm(FlaskForm):
    """A page of checkboxes with an exclusive "None of these"."""

    # Its label and options are not rendered from here: the page lays out the threshold's items.
    concerns = SelectMultipleField("", choices=[], validate_choice=True)
    required = Problem("concerns_required")

    def validate_concerns(self, field):
        chosen = field.data or []
        if not chosen:
            raise ValidationError(self.required)
        if NONE in chosen and len(chosen) > 1:
            raise ValidationError(Problem("none_and_others"))

    @property
    def ticked(self) -> tuple[str, ...]:
        return tuple(c for c in self.concerns.data or () if c != NONE)


class AreasForm(TicksForm):
    required = Problem("areas_required")


def ticks_form(items, data=None, formdata=None, form_class=TicksForm) -> TicksForm:
    form = form_class(formdata=formdata, data=data)
    form.concerns.choices = [(item.id, item.text) for item in items] + [(NONE, "")]
    # The error summary links to the field's id: the first box on the page (journey/_ticks.html gives
    # each box the id concerns-<value>), as GOV.UK's checkboxes do, so following the link puts focus
    # on a box rather than on the block around them all.
    form.concerns.id = f"concerns-{items[0].id if items else NONE}"
    return form


def concerns_form(items, data=None, formdata=None) -> TicksForm:
    """The chosen areas' concerns; a concern with a severity question gets its radios beside it."""
    fields = {}
    for item in items:
        if item.question is not None:
            # Checked in severity_answers: only a ticked concern needs its answer.
            fields[f"severity_{item.id}"] = RadioField(item.question.question, validate_choice=False,
                                                       choices=[(o.id, o.option) for o in item.options])
    form_class = type("ConcernsForm", (TicksForm,), fields)
    form = ticks_form(items, data=data, formdata=formdata, form_class=form_class)
    form.questions = [item for item in items if item.question is not None]
    return form


def severity_answers(form) -> dict[str, str] | None:
    """{question id: answer} for each ticked question, or None after adding the errors."""
    out, ok = {}, True
    for item in form.questions:
        if item.id not in form.ticked:
            continue
        field = getattr(form, f"severity_{item.id}")
        if field.data not in {o.id for o in item.options}:
            field.errors = [Problem("severity_required", question=item.question.question.rstrip("?").lower())]
            ok = False
        else:
            out[item.id] = field.data
    return out if ok else None


class WhatHappenedForm(FlaskForm):
    # On the immediate-danger path only (choices set then, from the threshold file): concerns for the LADO.
    lado = SelectMultipleField("", choices=[], validate_choice=True)
    what_happened = _text(required=True)


class VoiceForm(WhatHappenedForm):
    seen = _radio("yes", "seen_not_spoken", "no")
    says = _text()
    wants = _text()
    observed = _text()
    not_seen_reason = _text()

    def validate_extra(self) -> bool:
        """The boxes the chosen answer needs ("required" on each one left empty)."""
        needs = {"yes": ("says", "wants"), "seen_not_spoken": ("observed",),
                 "no": ("not_seen_reason",)}.get(self.seen.data, ())
        ok = True
        for name in needs:
            field = getattr(self, name)
            if not (field.data or "").strip():
                _missing(field, "required")
                ok = False
        return ok


class FamilyForm(FlaskForm):
    """What is working well, what has been tried, and the family's consent: one page."""

    working_well = _text(required=True)
    tried = _text()
    tried_by = _text(limit=1000)

    aware = _radio("yes", "no")
    consent = _radio(*CONSENT_VALUES)
    reason = _text()
    # Whose agreement the page asked for when shown (journey.asks_consent_of): an answer sent, or kept,
    # from a page that asked someone else is not taken as the agreement of whoever is asked now.
    asked_of = HiddenField("")
    # The concerns whose "do not tell the family" warning the page showed (their ids, space-separated):
    # a concern chosen in another tab since was not warned about here, so the answer does not cover it.
    warned = HiddenField("")

    def validate_extra(self, young_person: bool = False) -> bool:
        """A reason when the family did not agree (required_refused) or was not told (required_not_needed);
        and no agreement or refusal from a family that does not know of the worry (not_aware). A young
        person of 16 or 17 answers for themselves, so their family may not know of it."""
        ok = True
        if not young_person and self.aware.data == "no" and self.consent.data in ("given", "refused"):
            _missing(self.consent, "not_aware")
            ok = False
        if self.consent.data in ("refused", "not_needed") and not (self.reason.data or "").strip():
            _missing(self.reason, f"required_{self.consent.data}")
            ok = False
        return ok


class OverrideForm(FlaskForm):
    route = RadioField("", choices=[], validators=[InputRequired(REQUIRED)])
    reason = _text(required=True)


def override_form(recommended: str, formdata=None) -> OverrideForm:
    form = OverrideForm(formdata=formdata)
    form.route.choices = _choices(*(r for r in ("social_care", "early_help", "universal") if r != recommended))
    return form


def eighteenth_birthday(born: dt.date) -> dt.date:
    """The day a child born on `born` turns 18 (someone born on 29 February, on 1 March)."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return dt.date(born.year + 18, 3, 1)


class ReferralForm(FlaskForm):
    first_name = _line(100)
    last_name = _line(100)
    dob_day = StringField("")
    dob_month = StringField("")
    dob_year = StringField("")
    gender = _line(50)
    address = _text(required=True, limit=500)
    postcode = _line(10, uk_postcode(Problem("not_a_postcode")), required=True, filters=[normalise_postcode])
    parents = _text(required=True)
    other_children = _text()
    school_or_gp = _line(200)
    languages = _line(200)
    interpreter = _radio("yes", "no", "unknown")
    risks_to_workers = _text()
    referrer_phone = _line(40, uk_phone(Problem("not_a_phone_number")), required=True)
    # Asked only where About the child was not (the immediate-danger path): the baby is not born yet.
    unborn = BooleanField("")

    def validate_extra(self, unborn: bool, today: dt.date, age_months: int | None = None,
                       ask_unborn: bool = False) -> bool:
        """Name and date of birth for a born child; the date must fit the age given earlier. With
        ask_unborn, the form's own box may say the baby is not born yet (then `is_unborn`)."""
        ok = True
        self.dob = None
        self.is_unborn = unborn or (ask_unborn and bool(self.unborn.data))
        if self.is_unborn:
            return True
        for field in (self.first_name, self.last_name):
            if not (field.data or "").strip():
                _missing(field, "required_or_unborn" if ask_unborn else "required")
                ok = False
        dob, problem = read_date(self.dob_day, self.dob_month, self.dob_year)
        if problem is None and not (dob <= today < eighteenth_birthday(dob)):
            problem = Problem("not_under_18")
        if problem is None and age_months is not None:
            months = months_old(dob, today)
            if abs(months - age_months) > 1:
                problem = Problem("not_the_age_given", years=months // 12, months=months % 12,
                                  said_years=age_months // 12, said_months=age_months % 12)
        if problem:
            self.dob_day.errors = [problem]
            return False
        self.dob = dob
        return ok

    @staticmethod
    def data_from(details: dict | None) -> dict | None:
        """Form data from details saved earlier (the date of birth back in its three boxes)."""
        if not details:
            return None
        data = {k: v for k, v in details.items() if k != "date_of_birth"}
        if details.get("date_of_birth"):
            born = dt.date.fromisoformat(details["date_of_birth"])
            data.update(dob_day=str(born.day), dob_month=str(born.month), dob_year=str(born.year))
        return data

    def details(self, unborn: bool) -> dict:
        """What is sent; `unborn` is validate_extra's is_unborn. A baby not born yet has no name, date of
        birth or gender, whatever was typed in their boxes; where the form itself said so (the
        immediate-danger path), the details say it too ("unborn")."""
        dob = self.dob.isoformat() if getattr(self, "dob", None) else None
        named = not unborn
        return {
            **({"unborn": "yes"} if unborn and self.unborn.data else {}),  # details hold text only
            "first_name": (self.first_name.data or "").strip() if named else "",
            "last_name": (self.last_name.data or "").strip() if named else "",
            "date_of_birth": dob,
            "gender": (self.gender.data or "").strip() if named else "",
            "address": self.address.data,
            "postcode": self.postcode.data,
            "parents": self.parents.data,
            "other_children": self.other_children.data or "",
            "school_or_gp": (self.school_or_gp.data or "").strip(),
            "languages": (self.languages.data or "").strip(),
            "interpreter": self.interpreter.data,
            "risks_to_workers": self.risks_to_workers.data or "",
            "referrer_phone": (self.referrer_phone.data or "").strip(),
        }
