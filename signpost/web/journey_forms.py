"""The referral journey's forms: one WTForms class per page, messages in plain English.

Concerns and severity pages are built from the threshold version at request time.
"""
from __future__ import annotations

import datetime as dt
import re

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..journey import CONSENT_CHOICES, ORGANISATIONS, ROLES
from .forms import normalise_postcode, uk_phone, uk_postcode

LONG = 5000  # characters allowed in a free-text answer
YES_NO = [("yes", "Yes"), ("no", "No")]


def _text(label: str, required: str | None = None, description: str = "", max_length: int = LONG):
    validators = [Length(max=max_length, message=f"{label} must be {max_length} characters or fewer")]
    validators.insert(0, InputRequired(required) if required else Optional())
    return TextAreaField(label, validators=validators, description=description,
                         filters=[lambda v: v.strip() if isinstance(v, str) else v])


class DangerForm(FlaskForm):
    in_danger = RadioField("Is the child in immediate danger?", choices=YES_NO,
                           validators=[InputRequired("Select yes if the child is in immediate danger now")],
                           description="For example, the child has been seriously hurt, is being threatened, "
                                       "or is about to be left alone somewhere unsafe.")


class AboutYouForm(FlaskForm):
    role = RadioField("What is your role?", choices=list(ROLES),
                      validators=[InputRequired("Select your role")])
    organisation = RadioField("What type of organisation do you work for?",
                              choices=[(key, label) for key, label, _ in ORGANISATIONS],
                              validators=[InputRequired("Select the type of organisation you work for")])


DIGITS = re.compile(r"[0-9]{1,4}")  # ASCII digits only ("²".isdigit() is true), and short


def _number(field, name: str, low: int, high: int) -> int | None:
    """A whole number typed into a text box, or an error in plain English on the field."""
    raw = (field.data or "").strip()
    if not raw:
        return None
    if not DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        field.errors = list(field.errors) + [f"{name} must be a whole number from {low} to {high}"]
        return None
    return int(raw)


def read_date(day, month, year, what: str) -> tuple[dt.date | None, str | None]:
    """A date from three GOV.UK date-input boxes; (date, None) or (None, the error message)."""
    raw = [(f.data or "").strip() for f in (day, month, year)]
    missing = [n for n, v in zip(("a day", "a month", "a year"), raw) if not v]
    if len(missing) == 3:
        return None, f"Enter the {what}"
    if missing:
        return None, f"The {what} must include {' and '.join(missing)}"
    if not all(DIGITS.fullmatch(v) for v in raw) or len(raw[2]) != 4:
        return None, f"The {what} must be a real date, written with numbers, such as 27 3 2027"
    try:
        return dt.date(int(raw[2]), int(raw[1]), int(raw[0])), None
    except (ValueError, OverflowError):
        return None, f"The {what} must be a real date"


class AboutChildForm(FlaskForm):
    born = RadioField("Has the child been born?",
                      choices=[("born", "Yes"), ("unborn", "No, the baby is not born yet")],
                      validators=[InputRequired("Select yes if the child has been born")])
    # Text boxes read by validate_extra, so that only the boxes under the chosen answer count.
    years = StringField("Years")
    months = StringField("Months")
    due_day = StringField("Day")
    due_month = StringField("Month")
    due_year = StringField("Year")

    def validate_extra(self, today: dt.date) -> bool:
        self.age_years = self.age_months = self.due = None
        if self.born.data == "born":
            self.age_years = _number(self.years, "Years", 0, 17)
            self.age_months = _number(self.months, "Months", 0, 11)
            if self.age_years is None and not self.years.errors:
                self.years.errors = ["Enter the child's age in years (0 if under 1)"]
            if self.age_months is None and not self.months.errors:
                self.months.errors = ["Enter the months (0 to 11)"]
            return self.age_years is not None and self.age_months is not None
        if self.born.data == "unborn":
            self.due, problem = read_date(self.due_day, self.due_month, self.due_year, "expected date of birth")
            if problem is None and not today <= self.due <= today + dt.timedelta(days=300):
                problem = "The expected date of birth must be between today and 10 months from now"
            if problem:
                self.due_day.errors = [problem]
                return False
            return True
        return False


NONE = "none"


class TicksForm(FlaskForm):
    """A page of checkboxes with an exclusive "None of these"."""

    concerns = SelectMultipleField("Concerns", choices=[], validate_choice=True)
    required_message = "Select the concerns that apply, or select 'None of these'"

    def validate_concerns(self, field):
        chosen = field.data or []
        if not chosen:
            raise ValidationError(self.required_message)
        if NONE in chosen and len(chosen) > 1:
            raise ValidationError("Select 'None of these' only if none of them apply")

    @property
    def ticked(self) -> tuple[str, ...]:
        return tuple(c for c in self.concerns.data or () if c != NONE)


class AreasForm(TicksForm):
    required_message = "Select the areas that worry you, or select 'None of these'"


def ticks_form(items, data=None, formdata=None, form_class=TicksForm) -> TicksForm:
    form = form_class(formdata=formdata, data=data)
    form.concerns.choices = [(item.id, item.text) for item in items] + [(NONE, "None of these")]
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
            field.errors = [f"Select an answer: {item.question.question.rstrip('?').lower()}"]
            ok = False
        else:
            out[item.id] = field.data
    return out if ok else None


class WhatHappenedForm(FlaskForm):
    # On the immediate-danger path only (choices set then): concerns for the LADO.
    lado = SelectMultipleField("Is your worry about an adult who works with children?", choices=[],
                               validate_choice=True,
                               description="A member of staff, a volunteer or a carer. Select any that apply.")
    what_happened = _text("What has happened, and what are you worried about?",
                          "Enter what has happened and what you are worried about",
                          description="In your own words: what you saw or were told, when, and by whom.")


class VoiceForm(WhatHappenedForm):
    seen = RadioField("Have you seen and spoken to the child about your worries?", choices=[
        ("yes", "Yes, I have seen and spoken to the child"),
        ("seen_not_spoken", "I have seen the child, but they cannot tell me (for example a baby, or a child "
                            "who does not speak)"),
        ("no", "No, I have not seen the child"),
    ], validators=[InputRequired("Select whether you have seen and spoken to the child")])
    says = _text("What does the child say, in their own words?")
    wants = _text("What does the child want to happen?")
    observed = _text("What have you observed?",
                     description="How the child looks, behaves and responds, and how they are with their parents or carers.")
    not_seen_reason = _text("Why have you not seen the child?")

    def validate_extra(self) -> bool:
        needs = {"yes": [("says", "Enter what the child says, in their own words"),
                         ("wants", "Enter what the child wants to happen, or that they did not say")],
                 "seen_not_spoken": [("observed", "Enter what you have observed")],
                 "no": [("not_seen_reason", "Enter why you have not seen the child")]}.get(self.seen.data, [])
        ok = True
        for name, message in needs:
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors = list(field.errors) + [message]
                ok = False
        return ok


class FamilyForm(FlaskForm):
    """What is working well, what has been tried, and the family's consent: one page."""

    working_well = _text("What is working well for the child and family?",
                         "Enter what is working well, even if it is small",
                         description="For example, a parent who always brings the child to school, or a "
                                     "grandparent who helps.")
    tried = _text("What has already been tried to help?",
                  description="Include support from your own setting and from other services.")
    tried_by = _text("Who has been involved?", max_length=1000,
                     description="Services or people who have worked with the family, if you know.")

    aware = RadioField("Does the family know you are worried about the child?", choices=YES_NO,
                       validators=[InputRequired("Select yes if the family knows you are worried")])
    consent = RadioField("Has the family agreed to you asking for help?", choices=list(CONSENT_CHOICES),
                         validators=[InputRequired("Select whether the family has agreed")],
                         description="Early help is voluntary and needs the family's consent. A referral "
                                     "because a child may be at risk of significant harm does not.")
    reason = _text("Explain why", description="What the family said, or why telling them would increase the risk.")

    def validate_extra(self) -> bool:
        if self.consent.data in ("refused", "not_needed") and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [
                "Enter why the family did not agree" if self.consent.data == "refused"
                else "Enter why telling the family would increase the risk to the child"]
            return False
        return True


ROUTE_CHOICES = {
    "social_care": "Refer to children's social care through the front door",
    "early_help": "Arrange early help",
    "universal": "Support the child through universal services",
}


class OverrideForm(FlaskForm):
    route = RadioField("What do you want to do instead?", choices=[],
                       validators=[InputRequired("Select what you want to do instead")])
    reason = _text("Why do you disagree with the recommendation?",
                   "Enter why you disagree with the recommendation",
                   description="The front door and your safeguarding partnership use this to improve the "
                               "threshold document.")


def override_form(recommended: str, formdata=None) -> OverrideForm:
    form = OverrideForm(formdata=formdata)
    form.route.choices = [(k, v) for k, v in ROUTE_CHOICES.items() if k != recommended]
    return form


class ReferralForm(FlaskForm):
    first_name = StringField("First name", validators=[Optional(), Length(max=100)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=100)])
    dob_day = StringField("Day")
    dob_month = StringField("Month")
    dob_year = StringField("Year")
    gender = StringField("Gender (optional)", validators=[Optional(), Length(max=50)])
    address = _text("Home address", "Enter the child's home address", max_length=500)
    postcode = StringField("Postcode", validators=[InputRequired("Enter the postcode"), Length(max=10), uk_postcode()],
                           filters=[normalise_postcode])
    parents = _text("Parents or carers",
                    "Enter the names of the child's parents or carers and how to contact them",
                    description="Names, relationship to the child, phone numbers.")
    other_children = _text("Other children in the household (optional)",
                           description="Names and ages, if you know them.")
    school_or_gp = StringField("School, nursery or GP (optional)", validators=[Optional(), Length(max=200)])
    languages = StringField("Languages spoken at home (optional)", validators=[Optional(), Length(max=200)])
    interpreter = RadioField("Does the family need an interpreter?", choices=YES_NO + [("unknown", "I do not know")],
                             validators=[InputRequired("Select whether the family needs an interpreter")])
    risks_to_workers = _text("Any risks to workers visiting the home (optional)",
                             description="For example, a dangerous dog or a person known to be violent.")
    referrer_phone = StringField("Your phone number", validators=[
        InputRequired("Enter a phone number the front door can call you on"), Length(max=40), uk_phone()],
        description="The front door may call you today to talk about this referral.")

    def validate_extra(self, unborn: bool, today: dt.date, age_months: int | None = None) -> bool:
        """Name and date of birth for a born child; the date must fit the age given earlier."""
        ok = True
        self.dob = None
        if unborn:
            return True
        for field, what in ((self.first_name, "first name"), (self.last_name, "last name")):
            if not (field.data or "").strip():
                field.errors = list(field.errors) + [f"Enter the child's {what}"]
                ok = False
        dob, problem = read_date(self.dob_day, self.dob_month, self.dob_year, "child's date of birth")
        if problem is None and not today - dt.timedelta(days=18 * 366) <= dob <= today:
            problem = "The date of birth must be in the past, and the child must be under 18"
        if problem is None and age_months is not None:
            months = (today.year - dob.year) * 12 + today.month - dob.month - (today.day < dob.day)
            if abs(months - age_months) > 1:
                problem = (f"The date of birth makes the child {months // 12} years and {months % 12} months "
                           f"old, but you said {age_months // 12} years and {age_months % 12} months. "
                           "Check the date, or change the child's age on Check your answers")
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
        dob = self.dob.isoformat() if getattr(self, "dob", None) else None
        return {
            "first_name": (self.first_name.data or "").strip(),
            "last_name": (self.last_name.data or "").strip(),
            "date_of_birth": dob,
            "gender": (self.gender.data or "").strip(),
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
