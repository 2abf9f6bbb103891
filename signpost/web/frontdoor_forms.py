"""The front door's forms: a decision, allocation, a consultation request, an outside contact, CSV
import, audit search and the export's dates. Choices come from signpost.values, never typed again here.
"""
from __future__ import annotations

import datetime as dt
import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.widgets import HiddenInput
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from .. import contacts_csv, workdays
from ..values import (AGE_BANDS, CONTACT_CHANNEL_NAMES, CONTACT_CHANNELS, OUTCOME_NAMES, OUTCOMES,
                      REFERRAL_SOURCES, URGENCIES)
from ..workdays import LONDON
from .forms import date_words, read_date, uk_phone

TIME = re.compile(r"^([01]?[0-9]|2[0-3])[:.]([0-5][0-9])$")
URGENCY_LABELS = {"emergency": "Emergency", "same_day": "Same day", "standard": "Standard"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def london_now() -> dt.datetime:
    return dt.datetime.now(LONDON).replace(tzinfo=None)


class DecisionForm(FlaskForm):
    outcome = RadioField("What did the front door decide?", validators=[InputRequired("Select the decision")])
    referral_advised = RadioField("Should a referral follow?", choices=[("yes", "Yes, the referrer should refer"),
                                                                        ("no", "No referral is needed")],
                                   validate_choice=False)  # checked in validate(), for consultations only
    note = TextAreaField("Note for the referrer", filters=[_strip],
                         validators=[InputRequired("Write a note for the referrer: what was decided and why, "
                                                   "and what they should do now"),
                                     Length(max=5000, message="The note must be 5000 characters or fewer")],
                         description="The referrer reads this. Say what was decided and why, and what they "
                                     "should do now. Do not add anything the referrer should not know.")
    decided_day = StringField("Day")
    decided_month = StringField("Month")
    decided_year = StringField("Year")
    decided_time = StringField("Time", filters=[_strip], description="24-hour clock, UK time, for example 14:05")
    supersedes = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0)])

    decided_at: dt.datetime | None = None
    received_at: dt.datetime | None = None  # the item's (naive UTC): no decision before it

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.kind == "consultation" and self.referral_advised.data not in ("yes", "no"):
            self.referral_advised.errors = ["Select whether a referral should follow"]
            ok = False
        day, problem = read_date(self.decided_day, self.decided_month, self.decided_year)
        problem = problem and date_words(problem, "date decided")
        match = TIME.match(self.decided_time.data or "")
        if problem is None and not match:
            problem = "Enter the time decided, such as 14:05"
        if problem is None:
            local = dt.datetime.combine(day, dt.time(int(match.group(1)), int(match.group(2))))
            self.decided_at = local.replace(tzinfo=LONDON).astimezone(dt.UTC).replace(tzinfo=None)
            if local > london_now() + dt.timedelta(minutes=5):
                problem = "The date and time decided cannot be in the future"
            elif self.received_at is not None and self.decided_at < self.received_at - dt.timedelta(minutes=5):
                problem = (f"The date and time decided cannot be before the item was received, "
                           f"{workdays.uk_local(self.received_at):%-d %B %Y at %H:%M}")
        if problem:
            self.decided_day.errors = [problem]
            ok = False
        return ok


def decision_form(referral, supersedes: int | None = None, formdata=None) -> DecisionForm:
    now = london_now()
    data = None if formdata is not None else {
        "supersedes": supersedes, "decided_day": str(now.day), "decided_month": str(now.month),
        "decided_year": str(now.year), "decided_time": now.strftime("%H:%M"),
        "outcome": "advice_given" if referral.kind == "consultation" else None}
    form = DecisionForm(formdata=formdata, data=data)
    form.kind = referral.kind
    form.received_at = referral.created_at
    allowed = ("advice_given",) if referral.kind == "consultation" else tuple(o for o in OUTCOMES
                                                                             if o != "advice_given")
    form.outcome.choices = [(o, OUTCOME_NAMES[o]) for o in allowed]
    return form


class AllocateForm(FlaskForm):
    worker = SelectField("Allocate to", choices=[], validate_choice=True)


class ConsultationForm(FlaskForm):
    question = TextAreaField("What would you like advice about?", filters=[_strip],
                             validators=[InputRequired("Say what you would like advice about"),
                                         Length(max=5000, message="This must be 5000 characters or fewer")],
                             description="For example, whether this needs a referral, what to do if the family "
                                         "refuses consent, or why you disagree with the recommendation.")
    phone = StringField("Your phone number", filters=[_strip],
                        validators=[InputRequired("Enter a phone number the front door can call you on"),
                                    Length(max=40, message="The phone number must be 40 characters or fewer"),
                                    uk_phone()],
                        description="Someone from the front door will call you, normally within one working day.")


class ExternalContactForm(FlaskForm):
    reference = StringField("Reference", filters=[_strip], validators=[
        InputRequired("Enter the contact's reference from your case management system"), Length(max=64)],
        description="The contact's reference in your case management system, so it is never counted twice.")
    received_day = StringField("Day")
    received_month = StringField("Month")
    received_year = StringField("Year")
    received_time = StringField("Time received", filters=[_strip], description="24-hour clock, for example 09:30")
    channel = RadioField("How did it arrive?", choices=[(c, CONTACT_CHANNEL_NAMES[c]) for c in CONTACT_CHANNELS],
                         validators=[InputRequired("Select how the contact arrived")])
    source_code = SelectField("Who made the contact?", validators=[InputRequired("Select who made the contact")],
                              choices=[("", "Select a referral source")] +
                                      [(code, f"{code}: {name}") for code, name in REFERRAL_SOURCES.items()])
    age_band = RadioField("The child's age", choices=[(b, b.capitalize()) for b in AGE_BANDS],
                          validators=[InputRequired("Select the child's age")])
    urgency = RadioField("Urgency", choices=[(u, URGENCY_LABELS[u]) for u in URGENCIES],
                         validators=[InputRequired("Select the urgency")])
    outcome = RadioField("What did the front door decide?", choices=[(o, OUTCOME_NAMES[o]) for o in OUTCOMES],
                         validators=[InputRequired("Select the decision")])

    _row: dict | None = None

    def validate_reference(self, field):
        if field.data and not contacts_csv.REFERENCE.match(field.data):
            raise ValidationError("The reference must be letters, digits, '-', '_', '.' or '/'")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        day, problem = read_date(self.received_day, self.received_month, self.received_year)
        problem = problem and date_words(problem, "date received")
        if problem is None and not TIME.match(self.received_time.data or ""):
            problem = "Enter the time received, such as 09:30"
        if problem is None:
            raw = {"received_at": f"{day.isoformat()} {self.received_time.data.replace('.', ':').zfill(5)}",
                   **{k: getattr(self, k).data for k in ("reference", "source_code", "channel", "age_band",
                                                         "urgency", "outcome")}}
            from ..models import utcnow
            row, problems = contacts_csv.check_contact(raw, utcnow())
            for column, message in problems:
                if column == "received_at":
                    problem = f"The date received {message}"
            self._row = row
        if problem:
            self.received_day.errors = [problem]
            ok = False
        return ok

    def fields(self) -> dict:
        """The contact to store; recorded by hand once decided, so it is decided as of now."""
        from ..models import utcnow
        return {**self._row, "decided_at": utcnow()}


class ImportForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import"),
                                             FileAllowed(["csv"], "The file must be a CSV file (.csv)")])


def in_accepted_years(form, field):
    if field.data and not workdays.in_range(field.data):
        raise ValidationError(f"Enter a date in a year {workdays.YEARS_ALLOWED}")


def unreadable_day(named: str) -> str:
    """The words for a date that cannot be read as year-month-day: these forms' and the queue's filters'."""
    return f"{named} must be a real date, written as year-month-day, for example 2026-03-31"


class DayField(DateField):
    """A date typed as year-month-day (a browser's date box sends it so), refused in the service's own words,
    naming the field, rather than WTForms' "Not a valid date value"."""

    def __init__(self, label: str, *args, named: str, **kwargs):
        super().__init__(label, *args, **kwargs)
        self.named = named

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(unreadable_day(self.named)) from None


class AuditSearchForm(FlaskForm):
    person = StringField("Person (email address, or part of it)", validators=[Optional(), Length(max=254)])
    record = StringField("Record (a reference such as NM-2026-00042, an account's email address, or a record "
                         "number)",
                         validators=[Optional(), Length(max=254)])  # an email address can be 254 characters
    action = StringField("Action (for example item_viewed or decision_recorded)",
                         validators=[Optional(), Length(max=64)])
    date_from = DayField("From", named="From", validators=[Optional(), in_accepted_years])
    date_to = DayField("To", named="To", validators=[Optional(), in_accepted_years])


class ExportForm(FlaskForm):
    date_from = DayField("Decisions made from", named="The first date",
                         validators=[InputRequired("Enter the first date"), in_accepted_years])
    date_to = DayField("to", named="The last date", validators=[InputRequired("Enter the last date"), in_accepted_years])

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError("The last date must be the same as or after the first date")

