"""The referral journey for school and health staff: question pages to a recommendation.

Thin views: routing comes from signpost.journey, the decision from the engine, writes from
store. Answers live in a server-side draft whose random id is kept in the session only.
"""
from __future__ import annotations

import datetime as dt

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .. import journey, store
from ..content import current_directory, current_library, current_version_or_none
from ..engine import AnswerError, assess
from ..extensions import db
from ..models import Draft, Referral
from . import journey_forms as jf
from .security import abort_not_yours, role_required

bp = Blueprint("journey", __name__, url_prefix="/refer")
REFERRERS = ("referrer",)
FIXED_PAGES = {"danger", "about_you", "about_child", "voice", "family", "consent"}
ROUTE_WORDS = {"universal": "universal services", "early_help": "early help",
               "social_care": "children's social care"}


# ------------------------------------------------------------------------------ helpers

def today() -> dt.date:
    return dt.date.today()


def page_url(page: str, change: bool = False) -> str:
    special = {"check": "journey.check", "recommendation": "journey.recommendation",
               "danger_call": "journey.danger_call"}
    if page in special:
        return url_for(special[page])
    return url_for("journey.question", slug=page.replace("_", "-"), **({"change": 1} if change else {}))


def _user():
    return current_user._get_current_object()


def current_draft(include_submitted: bool = False, adopt: bool = False) -> Draft | None:
    """The draft in this session; with adopt, else the user's latest unfinished one.

    Adopting is what lets a referrer signed out for being idle (which clears the session)
    sign back in and land on the page they were on, with every answer still there.
    """
    draft_id = session.get("draft_id")
    if not draft_id and adopt:
        latest = db.session.scalar(
            select(Draft).where(Draft.user_id == current_user.id, Draft.submitted_at.is_(None))
            .order_by(Draft.updated_at.desc()).limit(1))
        if latest is not None:
            session["draft_id"] = latest.id
            carry_on_under_version_in_force(latest)
        return latest
    if not draft_id:
        return None
    draft = db.session.get(Draft, draft_id)
    if draft is None or draft.user_id != current_user.id:
        session.pop("draft_id", None)
        return None
    if draft.submitted_at is not None and not include_submitted:
        return None
    return draft


def version_for(draft: Draft):
    """The version the draft was started under, while it is loaded; else the one in force."""
    library = current_library()
    try:
        return library.get(draft.threshold_id)
    except KeyError:
        version = current_version_or_none()
        if version is None:
            abort(503)
        return version


def recommendation_for(draft: Draft, version, answers: dict | None = None):
    engine_answers = journey.engine_answers(version, draft.answers or {} if answers is None else answers)
    return assess(engine_answers, version, today(), current_directory())


def record(draft: Draft, version, answers: dict | None = None, page: str | None = None) -> None:
    """Log the recommendation for the draft's answers (or for new answers, saved with it)."""
    saved = answers is not None
    answers = answers if saved else (draft.answers or {})
    rec = recommendation_for(draft, version, answers)
    about = answers.get("about_you") or {}
    engine_answers = journey.engine_answers(version, answers)
    store.record_assessment(
        draft, rec, source_code=journey.source_code(answers), referrer_role=about.get("role"),
        age_band=journey.age_band(answers), age_months=engine_answers.age_months, unborn=engine_answers.unborn,
        indicator_ids=engine_answers.indicators, consent=(answers.get("consent") or {}).get("consent"),
        in_danger=engine_answers.in_danger, actor=_user(), answers=answers if saved else None, page=page)


KEPT_PAGES = {"journey.question", "journey.referral", "journey.override"}
KEPT_MESSAGE = ("You were signed out before this page was sent. We kept what you entered: "
                "check it, then continue.")


def unsent_form(user) -> tuple | None:
    """Just before an idle sign-out: (draft, page, data) for what a journey page was sending."""
    from flask_wtf.csrf import ValidationError as CSRFError, validate_csrf
    if request.endpoint not in KEPT_PAGES:
        return None
    draft = db.session.get(Draft, session.get("draft_id") or "")
    if draft is None or draft.user_id != user.id or draft.submitted_at is not None:
        return None
    try:
        validate_csrf(request.form.get("csrf_token"))
    except CSRFError:
        return None
    page = kept_key()
    try:  # only a real page of this draft, and only that page's own fields
        version = version_for(draft)
        if request.endpoint == "journey.question":
            name = page.replace("-", "_")
            form, _ = build_form(name, version, draft.answers or {}, None)
        else:
            form = jf.ReferralForm() if request.endpoint == "journey.referral" else jf.override_form("")
    except HTTPException:
        return None
    from .hygiene import keepable_form
    data = keepable_form({field.name for field in form if field.type != "CSRFTokenField"})
    return (draft, page, data) if data is not None else None


def kept_key() -> str:
    return (request.view_args or {}).get("slug") or request.endpoint.split(".", 1)[1]


def formdata_for(draft: Draft):
    """The posted form; or, on GET, a form kept across an idle sign-out (shown once)."""
    if request.method == "POST":
        return request.form
    if request.method != "GET":  # a HEAD request must not use up the kept form
        return None
    kept = store.take_unsent_form(draft, kept_key(), actor=_user())
    if kept is None:
        return None
    flash(KEPT_MESSAGE, "info")
    return MultiDict([(key, value) for key, values in kept.items() for value in values])


def needs_draft(view):
    """Load the referrer's draft or send them to the start page."""
    import functools

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        draft = current_draft(adopt=True)
        if draft is None:
            return redirect(url_for("refer.start"))
        return view(draft, *args, **kwargs)
    return wrapped


# ------------------------------------------------------------------------------ starting

@bp.post("/new")
@role_required(*REFERRERS)
def new():
    version = current_version_or_none()
    if version is None:
        abort(503)
    try:
        draft = store.start_draft(_user(), version)
    except store.TooManyDrafts as exc:
        flash(str(exc).capitalize() + ".", "info")
        return redirect(url_for("journey.drafts"))
    session["draft_id"] = draft.id
    return redirect(page_url("danger"))


@bp.post("/start-again")
@role_required(*REFERRERS)
def start_again():
    draft = current_draft()
    if draft is not None:
        store.discard_draft(draft, actor=_user())
    session.pop("draft_id", None)
    return redirect(url_for("refer.start"))


@bp.get("/drafts")
@role_required(*REFERRERS)
def drafts():
    return render_template("journey/drafts.html", drafts=saved_drafts(), describe=describe_draft)


def saved_drafts() -> list[Draft]:
    return list(db.session.scalars(
        select(Draft).where(Draft.user_id == current_user.id, Draft.submitted_at.is_(None))
        .order_by(Draft.updated_at.desc())))


def describe_draft(draft: Draft) -> str:
    """A non-identifying description: the child's age band and how far the journey got."""
    answers = draft.answers or {}
    if not answers:
        return "Not started"
    band = journey.age_band(answers)
    who = {"unborn": "An unborn baby", "unknown": "A child"}.get(band, f"A child aged {band}")
    version = version_for(draft)
    answered = sum(journey.is_answered(p, answers) for p in journey.sequence(version, answers))
    return f"{who}: {answered} question {'page' if answered == 1 else 'pages'} answered"


def posted_draft() -> Draft:
    """The unfinished draft named in the form, if it is this user's; else 404."""
    draft = db.session.get(Draft, request.form.get("draft_id", ""))
    if draft is not None and draft.user_id != current_user.id:
        abort_not_yours(draft)
    if draft is None or draft.submitted_at is not None:
        abort(404)
    return draft


@bp.post("/drafts/resume")
@role_required(*REFERRERS)
def resume():
    draft = posted_draft()
    session["draft_id"] = draft.id
    carry_on_under_version_in_force(draft)
    version = version_for(draft)
    return redirect(page_url(journey.first_unanswered(version, draft.answers or {})))


def carry_on_under_version_in_force(draft: Draft) -> None:
    """A draft picked up again moves to the version in force, dropping what no longer applies."""
    version = current_version_or_none()
    if version is not None and version.id != draft.threshold_id:
        answers = draft.answers or {}
        carried = journey.prune(version, answers)
        if journey.UNSENT in answers:  # a form kept across an idle sign-out is still to be shown
            carried[journey.UNSENT] = answers[journey.UNSENT]
        store.save_answers(draft, "resumed_under_new_version", carried, actor=_user(), version=version)


@bp.post("/drafts/delete")
@role_required(*REFERRERS)
def delete_draft():
    draft = posted_draft()
    if session.get("draft_id") == draft.id:
        session.pop("draft_id", None)
    store.discard_draft(draft, actor=_user())
    return redirect(url_for("journey.drafts"))


# ------------------------------------------------------------------------------ question pages

def build_form(page: str, version, answers: dict, formdata):
    """The form for a page, filled from saved answers on GET, and what the template needs."""
    saved = answers
    if page == "danger":
        return jf.DangerForm(formdata=formdata, data={"in_danger": saved.get("in_danger")}), {}
    if page == "about_you":
        return jf.AboutYouForm(formdata=formdata, data=saved.get("about_you") or {}), {}
    if page == "about_child":
        child = saved.get("child") or {}
        data = {}
        if child:
            data["born"] = "unborn" if child.get("unborn") else "born"
            if child.get("unborn") and child.get("expected_date"):
                due = dt.date.fromisoformat(child["expected_date"])
                data.update(due_day=due.day, due_month=due.month, due_year=due.year)
            else:
                data.update(years=child.get("years"), months=child.get("months"))
        return jf.AboutChildForm(formdata=formdata, data=data), {}
    if page.startswith("concerns_"):
        pages = {p.id: p for p in journey.concerns_pages(version, saved)}
        concerns_page = pages.get(page)
        if concerns_page is None:
            abort(404)
        ticked = saved.get("concerns", {}).get(page)
        data = {"concerns": (ticked or [jf.NONE]) if ticked is not None else []}
        immediate_ids = {i.id for i in concerns_page.items
                         if i.id in version.indicators and version.indicators[i.id].immediate}
        return jf.concerns_form(concerns_page, data=data, formdata=formdata), {
            "concerns_page": concerns_page, "immediate_ids": immediate_ids,
            "position": _concerns_position(version, saved, page)}
    if page.startswith("severity_"):
        qid = page.removeprefix("severity_")
        question = next((q for q in version.document.severity_questions if q.id == qid), None)
        if question is None:
            abort(404)
        months, unborn = journey.child_age(saved)
        options = [o for o in version.severity_options(qid) if journey.applies(o, months, unborn)]
        form = jf.severity_form(question, options, formdata=formdata,
                                data={"severity": saved.get("severity", {}).get(qid)})
        return form, {"question": question,
                      "immediate_ids": {o.id for o in options if o.immediate}}
    if page == "voice":
        return jf.VoiceForm(formdata=formdata, data=saved.get("voice") or {}), {}
    if page == "family":
        return jf.FamilyForm(formdata=formdata, data=saved.get("family") or {}), {}
    if page == "consent":
        return jf.ConsentForm(formdata=formdata, data=saved.get("consent") or {}), {}
    abort(404)


def _concerns_position(version, answers, page_id) -> tuple[int, int]:
    ids = [p.id for p in journey.concerns_pages(version, answers)]
    return ids.index(page_id) + 1, len(ids)


def apply_answer(page: str, form, answers: dict) -> dict | None:
    """New answers with this page's answer in, or None if the form's own checks failed."""
    out = dict(answers)
    if page == "danger":
        out["in_danger"] = form.in_danger.data
    elif page == "about_you":
        out["about_you"] = {"role": form.role.data, "organisation": form.organisation.data}
    elif page == "about_child":
        if not form.validate_extra(today()):
            return None
        if form.born.data == "unborn":
            out["child"] = {"unborn": True, "expected_date": form.due.isoformat()}
        else:
            out["child"] = {"unborn": False, "years": form.age_years, "months": form.age_months}
    elif page.startswith("concerns_"):
        chosen = [c for c in form.concerns.data if c != jf.NONE]
        out["concerns"] = dict(out.get("concerns", {}), **{page: chosen})
    elif page.startswith("severity_"):
        out["severity"] = dict(out.get("severity", {}), **{page.removeprefix("severity_"): form.severity.data})
    elif page == "voice":
        if not form.validate_extra():
            return None
        keep = {"yes": ("says", "wants", "observed"), "seen_not_spoken": ("observed",),
                "no": ("not_seen_reason",)}[form.seen.data]
        out["voice"] = {"seen": form.seen.data, **{k: getattr(form, k).data or "" for k in keep}}
    elif page == "family":
        out["family"] = {k: getattr(form, k).data or "" for k in ("working_well", "tried", "tried_by")}
    elif page == "consent":
        if not form.validate_extra():
            return None
        out["consent"] = {"aware": form.aware.data, "consent": form.consent.data,
                          "reason": form.reason.data or ""}
    return out


@bp.route("/<slug>", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def question(draft: Draft, slug: str):
    page = slug.replace("-", "_")
    if "_" in slug or not (page in FIXED_PAGES or page.startswith(("concerns_", "severity_"))):
        abort(404)  # one address per page: /refer/about-child, never /refer/about_child
    version = version_for(draft)
    answers = draft.answers or {}
    if not journey.can_visit(version, answers, page):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    change = bool(request.args.get("change"))
    form, extra = build_form(page, version, answers, formdata_for(draft))
    if request.method == "POST" and form.validate():
        new_answers = apply_answer(page, form, answers)
        if new_answers is not None:
            new_answers = journey.prune(version, new_answers)
            following = journey.next_page(version, new_answers, page, returning_to_check=change)
            if following == "danger_call":  # saved and logged at once: the referrer is about to phone
                record(draft, version, new_answers, page)
            else:
                store.save_answers(draft, page, new_answers, actor=_user())
            return redirect(page_url(following, change=change and following not in (
                "check", "danger_call", "recommendation")))
    back = url_for("journey.check") if change else (
        page_url(journey.previous_page(version, answers, page))
        if journey.previous_page(version, answers, page) else url_for("refer.start"))
    return render_template(f"journey/{_template(page)}.html", form=form, page=page, back=back,
                           version=version, answers=answers, change=change, **extra)


def _template(page: str) -> str:
    if page.startswith("concerns_"):
        return "concerns"
    if page.startswith("severity_"):
        return "severity"
    return page


# ------------------------------------------------------------------------------ check and result

@bp.route("/check", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def check(draft: Draft):
    version = version_for(draft)
    answers = draft.answers or {}
    if not journey.can_visit(version, answers, "check"):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    if request.method == "POST":  # CSRFProtect has checked the token
        try:
            record(draft, version)
        except AnswerError:
            return redirect(page_url(journey.first_unanswered(version, answers)))
        return redirect(url_for("journey.recommendation"))
    return render_template("journey/check.html", rows=check_rows(version, answers), version=version,
                           back=page_url(journey.previous_page(version, answers, "check")))


def check_rows(version, answers: dict) -> list[dict]:
    """(section, rows) for Check your answers, each row with its change link."""
    sections = []
    about = answers.get("about_you") or {}
    roles, orgs = dict(journey.ROLES), {k: label for k, label, _ in journey.ORGANISATIONS}
    sections.append({"title": "About you", "rows": [
        _row("Immediate danger", "Yes" if answers.get("in_danger") == "yes" else "No", "danger"),
        _row("Your role", roles.get(about.get("role"), ""), "about_you"),
        _row("Organisation", orgs.get(about.get("organisation"), ""), "about_you"),
    ]})
    sections.append({"title": "About the child", "rows": [_row("Age", describe_age(answers), "about_child")]})
    concern_rows = []
    severity = answers.get("severity", {})
    for page in journey.concerns_pages(version, answers):
        ticked = answers.get("concerns", {}).get(page.id, [])
        items = {i.id: i for i in page.items}
        lines = []
        for item_id in ticked:
            item = items.get(item_id)
            if item is None:
                continue
            if item.question is not None and severity.get(item_id) in version.indicators:
                lines.append(f"{item.text}: {version.indicators[severity[item_id]].option}")
            else:
                lines.append(item.text)
        concern_rows.append(_row(page.title, lines or ["None of these"], page.id))
    sections.append({"title": "Your concerns", "rows": concern_rows})
    voice = answers.get("voice")
    if voice is not None:
        seen = {"yes": "Yes, seen and spoken to", "seen_not_spoken": "Seen, but cannot say",
                "no": "Not seen"}.get(voice.get("seen"), "")
        rows = [_row("Seen and spoken to", seen, "voice")]
        for key, label in (("says", "What the child says"), ("wants", "What the child wants"),
                           ("observed", "What you observed"), ("not_seen_reason", "Why not seen")):
            if voice.get(key):
                rows.append(_row(label, voice[key], "voice"))
        sections.append({"title": "The child's voice", "rows": rows})
    family = answers.get("family") or {}
    consent = answers.get("consent") or {}
    sections.append({"title": "The family", "rows": [
        _row("What is working well", family.get("working_well", ""), "family"),
        _row("What has been tried", family.get("tried") or "Nothing given", "family"),
        _row("Who has been involved", family.get("tried_by") or "Nothing given", "family"),
        _row("Family knows you are worried", {"yes": "Yes", "no": "No"}.get(consent.get("aware"), ""), "consent"),
        _row("Consent", dict(journey.CONSENT_CHOICES).get(consent.get("consent"), ""), "consent"),
    ] + ([_row("Why", consent["reason"], "consent")] if consent.get("reason") else [])})
    return sections


def _row(key: str, value, page: str) -> dict:
    lines = value if isinstance(value, list) else [value]
    return {"key": key, "lines": lines, "href": page_url(page, change=True), "page": page}


def describe_age(answers: dict) -> str:
    child = answers.get("child") or {}
    if child.get("unborn"):
        due = child.get("expected_date")
        return "Not born yet" + (f", due {dt.date.fromisoformat(due).strftime('%-d %B %Y')}" if due else "")
    if not child:
        return "Not known"
    years, months = child.get("years", 0), child.get("months", 0)
    parts = []
    if years:
        parts.append(f"{years} year{'s' if years != 1 else ''}")
    if months or not years:
        parts.append(f"{months} month{'s' if months != 1 else ''}")
    return " and ".join(parts)


@bp.get("/recommendation")
@role_required(*REFERRERS)
@needs_draft
def recommendation(draft: Draft):
    version = version_for(draft)
    if draft.assessment is None:
        return redirect(url_for("journey.check"))
    rec = recommendation_for(draft, version)
    if rec.immediate:
        return redirect(url_for("journey.danger_call"))
    return render_template("journey/recommendation.html", rec=rec, version=version,
                           route=getattr(version.document.routes, rec.route),
                           answers=draft.answers or {}, back=url_for("journey.check"),
                           route_words=ROUTE_WORDS, draft_id=draft.id)


@bp.get("/phone-now")
@role_required(*REFERRERS)
@needs_draft
def danger_call(draft: Draft):
    version = version_for(draft)
    answers = draft.answers or {}
    if "danger_call" not in journey.sequence(version, answers):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    rec = recommendation_for(draft, version)
    if draft.assessment is None or draft.assessment.recommended_route != rec.route \
            or not draft.assessment.immediate:
        record(draft, version)
    return render_template("journey/danger_call.html", rec=rec, version=version,
                           back=page_url(journey.previous_page(version, answers, "danger_call")))


@bp.post("/finish")
@role_required(*REFERRERS)
@needs_draft
def finish(draft: Draft):
    if draft.assessment is None:
        return redirect(url_for("journey.check"))
    route = draft.assessment.recommended_route
    if route == "social_care":
        return redirect(url_for("journey.referral"))
    store.choose_route(draft, route, finished=True, actor=_user())
    session["finished_draft"] = draft.id
    session.pop("draft_id", None)
    return redirect(url_for("journey.summary"))


@bp.route("/disagree", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def override(draft: Draft):
    if draft.assessment is None:
        return redirect(url_for("journey.check"))
    if draft.assessment.immediate:  # immediate danger is never softened: phone, then refer
        return redirect(url_for("journey.danger_call"))
    recommended = draft.assessment.recommended_route
    form = jf.override_form(recommended, formdata=formdata_for(draft))
    if request.method == "POST" and form.validate():
        if form.route.data == "social_care":
            store.choose_route(draft, "social_care", override_reason=form.reason.data, finished=False,
                               actor=_user())
            return redirect(url_for("journey.referral"))
        store.choose_route(draft, form.route.data, override_reason=form.reason.data, finished=True,
                           actor=_user())
        session["finished_draft"] = draft.id
        session.pop("draft_id", None)
        return redirect(url_for("journey.summary"))
    back = url_for("journey.recommendation")
    return render_template("journey/override.html", form=form, recommended=recommended, back=back,
                           route_words=ROUTE_WORDS)


# ------------------------------------------------------------------------------ referral

@bp.route("/referral", methods=["GET", "POST"])
@role_required(*REFERRERS)
def referral():
    draft = current_draft(include_submitted=True, adopt=True)
    if draft is None:
        return redirect(url_for("refer.start"))
    existing = draft.submitted_at and db.session.scalar(select(Referral).where(Referral.draft_id == draft.id))
    if existing:
        session["confirmation"] = existing.id
        return redirect(url_for("journey.confirmation"))
    assessment = draft.assessment
    if assessment is None:
        return redirect(url_for("journey.check"))
    if assessment.recommended_route != "social_care" and assessment.route_taken != "social_care":
        return redirect(url_for("journey.override"))
    version = version_for(draft)
    answers = draft.answers or {}
    age_months, unborn = journey.child_age(answers)
    form = jf.ReferralForm(formdata=formdata_for(draft))
    if request.method == "POST" and form.validate() & form.validate_extra(unborn, today(), age_months):
        consent = answers.get("consent") or {}
        made, _created = store.submit_referral(
            draft, {**form.details(unborn), "answers": journey.prune(version, answers)},
            family_aware=consent.get("aware"),
            consent=consent.get("consent") or ("not_needed" if assessment.immediate else None),
            consent_reason=consent.get("reason"),
            reference_prefix=current_app.config.get("REFERENCE_PREFIX", "NM"), actor=_user())
        session["confirmation"] = made.id
        # draft_id stays in the session: a second click finds the submitted draft and its referral.
        return redirect(url_for("journey.confirmation"))
    back = url_for("journey.danger_call") if assessment.immediate else url_for("journey.recommendation")
    return render_template("journey/referral.html", form=form, unborn=unborn, back=back,
                           immediate=assessment.immediate, version=version)


@bp.get("/confirmation")
@role_required(*REFERRERS)
def confirmation():
    made = db.session.get(Referral, session.get("confirmation") or 0)
    if made is None or made.user_id != current_user.id:
        return redirect(url_for("refer.start"))
    version = current_library().by_hash(made.assessment.threshold_hash) or current_version_or_none()
    return render_template("journey/confirmation.html", referral=made, version=version)


@bp.get("/summary")
@role_required(*REFERRERS)
def summary():
    """A printable summary of the recommendation and the answers, for the referrer's records."""
    draft = current_draft()
    if draft is None:
        finished = db.session.get(Draft, session.get("finished_draft") or "")
        draft = finished if finished is not None and finished.user_id == current_user.id else None
    if draft is None or draft.assessment is None:
        return redirect(url_for("refer.start"))
    version = version_for(draft)
    rec = recommendation_for(draft, version)
    info = version.document.immediate_danger if rec.immediate else getattr(version.document.routes, rec.route)
    return render_template("journey/summary.html", rec=rec, version=version, info=info,
                           assessment=draft.assessment, rows=check_rows(version, draft.answers or {}),
                           finished=draft.submitted_at is not None, route_words=ROUTE_WORDS)


# ------------------------------------------------------------------------------ my referrals

@bp.get("/my-referrals")
@role_required(*REFERRERS)
def my_referrals():
    """The referrer's referrals and what the front door decided (reading names: audited)."""
    made = list(db.session.scalars(select(Referral).where(Referral.user_id == current_user.id)
                                   .order_by(Referral.created_at.desc()).limit(200)))
    if made:
        store.record_view("referrals_listed", actor=_user(), record_type="referrals",
                          record_id=None, references=[r.reference for r in made])
    return render_template("journey/my_referrals.html", referrals=made, route_words=ROUTE_WORDS)


@bp.get("/my-referrals/<reference>")
@role_required(*REFERRERS)
def my_referral(reference: str):
    made = db.session.scalar(select(Referral).where(Referral.reference == reference))
    if made is None:
        abort(404)
    if made.user_id != current_user.id:
        abort_not_yours(made)
    store.record_view("referral_viewed", made, actor=_user())
    version = current_library().by_hash(made.assessment.threshold_hash)
    return render_template("journey/my_referral.html", referral=made, version=version, route_words=ROUTE_WORDS)
