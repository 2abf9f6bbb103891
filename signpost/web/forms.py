"""WTForms fields to GOV.UK Frontend macro parameters, and the shared field types.

Our own small mapping instead of govuk-frontend-wtf, whose widgets target Frontend 5.7 and
point aria-describedby at hints that are not rendered (see README "Front-end").
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask, current_app, g, session
from flask_wtf import FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF, generate_csrf
from markupsafe import Markup
from wtforms import PasswordField, SelectChoice, StringField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import TextArea

from ..hygiene import bad_character, problem_message, strip_text
from ..workdays import uk_local


# ---- Input hygiene for every form ------------------------------------------------------------
# Every FlaskForm (ours and any added later) gets these through its Meta: a refused character
# in any field is an error beside that field, and text fields are stripped, so a required one
# holding only spaces is empty. Nothing else to remember when adding a form.

def no_hidden_characters(form, field) -> None:
    """Refuse NUL, control and format characters and lone surrogates in what was sent; a line break
    or tab only in a typed answer (a textarea), never in a one-line field (a name, a phone number)."""
    typed = isinstance(field.widget, TextArea)
    for value in getattr(field, "raw_data", None) or ():
        char = bad_character(value, allow_newlines=typed) if isinstance(value, str) else None
        if char:
            field.errors[:] = []
            raise StopValidation(problem_message(char))


def not_blank(form, field) -> None:
    """A required text field must hold more than spaces (InputRequired only sees that something came)."""
    if field.flags.required and isinstance(field.data, str) and not field.data.strip():
        message = next((getattr(v, "message", None) for v in field.validators
                        if "required" in getattr(v, "field_flags", {})), None)
        raise StopValidation(message or "This field is required")


# ---- CSRF tokens ---------------------------------------------------------------------------------
# Flask-WTF signs the session's CSRF token afresh, with the time in it, for every page with a form
# (every signed-in page has one: Sign out). With no time limit on the token (settings.py: it lives as
# long as the session, which the idle timeout ends) the time is never checked, so the token signed
# once for a session is as good as a new one: it is kept and given again, saving an HMAC per page.
SIGNED_TOKENS_KEPT = 10_000


def csrf_token() -> str:
    """This session's signed CSRF token (Flask-WTF's generate_csrf, signed once per session)."""
    if "csrf_token" not in g and current_app.config.get("WTF_CSRF_TIME_LIMIT") is None \
            and current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") == "csrf_token":
        raw = session.get("csrf_token")
        signed = current_app.extensions.setdefault("signpost_signed_csrf", {})
        token = signed.get(raw) if isinstance(raw, str) else None
        if token is not None:
            g.csrf_token = token
        else:
            token = generate_csrf()
            if len(signed) >= SIGNED_TOKENS_KEPT:
                signed.clear()
            signed[session["csrf_token"]] = token
    return generate_csrf()


class KeptTokenCSRF(_FlaskFormCSRF):
    def generate_csrf_token(self, csrf_token_field):
        config = current_app.config
        if (self.meta.csrf_secret == config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)
                and self.meta.csrf_time_limit is None
                and self.meta.csrf_field_name == config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
            return csrf_token()  # a form with its own secret, time limit or field is signed as Flask-WTF does
        return super().generate_csrf_token(csrf_token_field)


class SafeMeta(FlaskForm.Meta):
    csrf_class = KeptTokenCSRF

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [no_hidden_characters, *field.validators]
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            field.filters = (*field.filters, strip_text)
            field.validators.append(not_blank)
        return field


FlaskForm.Meta = SafeMeta  # every form, including those in blueprints written later


# ---- Shapes of UK postcodes and phone numbers ----------------------------------------------------

POSTCODE = re.compile(r"(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKPSTUW]? ?[0-9][ABD-HJLNP-UW-Z]{2})")


def normalise_postcode(value):
    """A WTForms filter: upper case, one space before the last three characters."""
    if not isinstance(value, str):
        return value
    compact = re.sub(r"\s+", "", value).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def uk_postcode(message: str = "Enter a real postcode, like SW1A 1AA"):
    def check(form, field) -> None:
        if field.data and not POSTCODE.fullmatch(field.data):
            raise ValidationError(message)
    return check


PHONE_PUNCTUATION = re.compile(r"[\s()\-.]")


def uk_phone(message: str = "Enter a UK phone number, like 01632 960 001 or 07700 900 982"):
    """A UK number: 0 and 9 or 10 more digits, or +44 and the same without the 0; spaces allowed."""
    def check(form, field) -> None:
        if not field.data:
            return
        digits = PHONE_PUNCTUATION.sub("", field.data)
        if digits.startswith("+44"):
            digits = "0" + digits[3:].removeprefix("(0)").removeprefix("0")
        if not re.fullmatch(r"0[1-9][0-9]{8,9}", digits):
            raise ValidationError(message)
    return check


# ---- Words from templates ----------------------------------------------------------------------
# A form whose words live in its page's template (the journey's) raises errors as codes
# (Problem) and leaves labels empty; the template says them in a `words` dict, by field name:
#   {"field": {"label": ..., "hint": ..., "options": {value: text}, "errors": {code: text}}}
# where an error's text may use {label}, the field's other words and the Problem's params.

class Problem(str):
    """A form error as a code, with what its words need (say, the most characters allowed)."""

    params: dict

    def __new__(cls, code: str, **params: Any) -> "Problem":
        problem = super().__new__(cls, code)
        problem.params = params
        return problem


def max_length(limit: int):
    """A validator: at most `limit` characters, else the code too_long (with max)."""
    def check(form, field) -> None:
        if isinstance(field.data, str) and len(field.data) > limit:
            raise ValidationError(Problem("too_long", max=limit))
    return check


def say(problem: str, words: dict, shared: dict | None = None) -> str:
    """The words of one error: a Problem's text from the field's words, else the shared ones;
    an error that is not a Problem (a shared check's, such as a refused character) as it is."""
    if not isinstance(problem, Problem):
        return problem
    text = words.get("errors", {}).get(problem) or (shared or {}).get(problem)
    if text is None:
        raise LookupError(f"no words for the error {problem!r} of {words.get('label')!r}")
    return text.format(**{k: v for k, v in words.items() if isinstance(v, str)}, **problem.params)


def use_words(form, words: dict, shared_errors: dict | None = None) -> str:
    """Give a form the words of its page's template (labels, hints, option text, errors), in
    place, before anything of it is rendered; the error summary and the message beside each
    field then read the same text. Returns "" so that a template can call it."""
    for field in form:
        found = words.get(field.name, {})
        if "label" in found:
            field.label.text = found["label"]
        if "hint" in found:
            field.description = found["hint"]
        if "options" in found:
            field.choices = [(value, found["options"][value]) for value, *_ in field.choices]
        field.errors = [say(e, {"label": field.label.text, **found}, shared_errors) for e in field.errors]
    return ""


DIGITS = re.compile(r"[0-9]{1,4}")  # a short number typed in a box: ASCII digits only ("²".isdigit() is true)


def read_date(day, month, year) -> tuple[dt.date | None, Problem | None]:
    """A date from three GOV.UK date-input boxes: (date, None), or (None, the problem):
    date_empty, date_missing_<parts> (say date_missing_day_month), date_not_numbers or
    date_not_real. templates/_words.html says them, with the field's `what`."""
    raw = [(f.data or "").strip() for f in (day, month, year)]
    missing = [part for part, value in zip(("day", "month", "year"), raw) if not value]
    if len(missing) == 3:
        return None, Problem("date_empty")
    if missing:
        return None, Problem("date_missing_" + "_".join(missing))
    if not all(DIGITS.fullmatch(v) for v in raw) or len(raw[2]) != 4:
        return None, Problem("date_not_numbers")
    try:
        return dt.date(int(raw[2]), int(raw[1]), int(raw[0])), None
    except (ValueError, OverflowError):
        return None, Problem("date_not_real")


def date_words(problem: Problem, what: str) -> str:
    """A date problem in words for a form whose words are in Python (the front door's): the
    same words the journey's pages use, from templates/_words.html."""
    return say(problem, {"what": what}, current_app.jinja_env.get_template("_words.html").module.date_errors)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _words_for(field, text: str) -> str:
    if not text:  # a field whose words are in its template, rendered without them
        raise LookupError(f"no words for the field {field.name!r}: give them in the page's template")
    return text


def _common(field, label: str | None, label_classes: str | None, is_page_heading: bool) -> dict:
    params: dict[str, Any] = {
        "id": field.id,
        "name": field.name,
        "label": {"text": _words_for(field, label or field.label.text)},
    }
    if label_classes or is_page_heading:
        params["label"]["classes"] = label_classes or "govuk-label--l"
        params["label"]["isPageHeading"] = is_page_heading
    if field.description:
        params["hint"] = {"text": field.description}
    if field.errors:
        params["errorMessage"] = {"text": field.errors[0]}
    return params


def input_params(field, label: str | None = None, *, label_classes: str | None = None,
                 is_page_heading: bool = False, **extra: Any) -> dict:
    """Parameters for govukInput / govukPasswordInput / govukTextarea from a WTForms field."""
    params = _common(field, label, label_classes, is_page_heading)
    kind = getattr(field, "type", "")
    if kind != "PasswordField":  # never echo a password back into the page
        value = field._value() if hasattr(field, "_value") else field.data
        if value not in (None, ""):
            params["value"] = value
    if kind == "EmailField":
        params["type"] = "email"
    if field.flags.required:
        params.setdefault("attributes", {})["required"] = "required"
    return _merge(params, extra)


def choice_params(field, legend: str | None = None, *, legend_classes: str | None = None,
                  is_page_heading: bool = False, hints: dict | None = None, **extra: Any) -> dict:
    """Parameters for govukRadios / govukCheckboxes from a RadioField or SelectMultipleField."""
    selected = field.data if isinstance(field.data, (list, tuple, set)) else [field.data]
    selected = {str(v) for v in selected if v is not None}
    items = []
    for choice in field.choices:
        value, label = (choice.value, choice.label) if isinstance(choice, SelectChoice) else tuple(choice)[:2]
        item = {"value": value, "text": _words_for(field, label), "checked": str(value) in selected}
        if hints and value in hints:
            item["hint"] = {"text": hints[value]}
        items.append(item)
    params: dict[str, Any] = {
        "idPrefix": field.id,
        "name": field.name,
        "fieldset": {"legend": {"text": _words_for(field, legend or field.label.text),
                                "classes": legend_classes or ("govuk-fieldset__legend--l" if is_page_heading
                                                              else "govuk-fieldset__legend--s"),
                                "isPageHeading": is_page_heading}},
        "items": items,
    }
    if field.description:
        params["hint"] = {"text": field.description}
    if field.errors:
        params["errorMessage"] = {"text": field.errors[0]}
    return _merge(params, extra)


def checkbox_params(field, label: str | None = None, **extra: Any) -> dict:
    """A single BooleanField as a one-item govukCheckboxes."""
    params: dict[str, Any] = {
        "idPrefix": field.id,
        "name": field.name,
        "items": [{"value": "y", "text": label or field.label.text, "checked": bool(field.data)}],
    }
    if field.description:
        params["hint"] = {"text": field.description}
    if field.errors:
        params["errorMessage"] = {"text": field.errors[0]}
    return _merge(params, extra)


def date_params(form, prefix: str, legend: str, hint: str, autocomplete: str | None = None) -> dict:
    """govukDateInput parameters for the text boxes <prefix>_day, _month, _year (errors on _day).

    `autocomplete="off"` for a child's dates, as for their other details: a shared computer's browser
    must not keep them to offer to the next person."""
    fields = [getattr(form, f"{prefix}_{part}") for part in ("day", "month", "year")]
    errors = fields[0].errors
    params: dict[str, Any] = {
        "id": prefix,
        "fieldset": {"legend": {"text": legend, "classes": "govuk-fieldset__legend--s"}},
        "hint": {"text": hint},
        "items": [{"id": field.id, "name": field.name, "label": label, "value": field._value(),
                   "classes": width + (" govuk-input--error" if errors else "")}
                  for field, label, width in zip(fields, ("Day", "Month", "Year"),
                                                 ("govuk-input--width-2", "govuk-input--width-2",
                                                  "govuk-input--width-4"))],
    }
    if autocomplete:
        for item in params["items"]:
            item["autocomplete"] = autocomplete
    if errors:
        params["errorMessage"] = {"text": errors[0]}
    return params


def error_summary(form, extra_errors: list[dict] | None = None) -> dict | None:
    """govukErrorSummary parameters, each error linking to its field (first item for choices)."""
    errors = []
    for field in form:
        if field.errors and field.type != "CSRFTokenField":
            errors.append({"text": field.errors[0], "href": f"#{field.id}"})
    errors.extend(extra_errors or [])
    if not errors:
        return None
    return {"titleText": "There is a problem", "errorList": errors}


def csrf_field() -> Markup:
    return Markup(f'<input type="hidden" name="csrf_token" value="{csrf_token()}">')


def draft_field(draft) -> Markup:
    """The hidden fields that tie a journey form to its draft (checked against the user) and to the
    threshold version the page was shown under (a form from before the draft moved is not saved)."""
    if draft is None:
        return Markup("")
    return Markup('<input type="hidden" name="draft_id" value="%s">'
                  '<input type="hidden" name="shown_under" value="%s">') % (draft.id, draft.threshold_id)


def long_date(value) -> str:
    """A date as people write it, "29 February 2016", from a date or a stored "2016-02-29"
    (anything else as it is)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.date):
        return f"{value.day} {value.strftime('%B %Y')}"
    return "" if value is None else str(value)


def uk_time(value: dt.datetime | None, fmt: str = "%-d %B %Y at %H:%M") -> str:
    """A stored time (naive UTC) as the clock on the wall in the UK shows it, GMT or BST: the time
    staff type into the forms is UK time too."""
    return "" if value is None else uk_local(value).strftime(fmt)


def init_app(app: Flask) -> None:
    app.add_template_filter(long_date)
    app.add_template_filter(uk_time)
    app.add_template_global(input_params)
    app.add_template_global(choice_params)
    app.add_template_global(checkbox_params)
    app.add_template_global(error_summary)
    app.add_template_global(date_params)
    app.add_template_global(csrf_field)
    app.add_template_global(draft_field)
    app.add_template_global(use_words)
