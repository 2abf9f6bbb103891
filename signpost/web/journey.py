"""The referral journey for school and health staff: generic views over the page registry.

Routing comes from signpost.journey, pages from signpost.web.pages, the decision from the
engine, writes from store. Every form carries its draft's id, checked against the user, so a
post for one child can never change another's answers (two tabs, two children).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for)
from flask_login import current_user
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from .. import journey, store
from ..store import drafts as drafts_store
from ..content import blocking_failures, current_directory, current_library, current_version_or_none
from ..engine import AnswerError, assess
from ..extensions import db
from ..journey import JourneyAnswers
from ..models import Assessment, Draft, Referral
from . import fixed_url
from . import journey_forms as jf
from .kept import keeps, take_kept_form
from .pages import BY_SLUG, PAGES, Context, summary_rows
from .security import abort_not_yours, audited_not_found, role_required
from .. import values

bp = Blueprint("journey", __name__, url_prefix="/refer")
REFERRERS = ("referrer",)
SPECIAL = {"check": "journey.check", "recommendation": "journey.recommendation",
           "danger_call": "journey.danger_call", "referral": "journey.referral"}


# ------------------------------------------------------------------------------ helpers

def today() -> dt.date:
    return values.uk_today()


def page_url(page: str, change: bool | str = False) -> str:
    """A journey page's address (Check your answers links to every page it shows: built once each).
    `change`: asked from Check your answers (True), or from Check before you send (the kind's slug,
    CHANGE_FROM_SENDING), where Back and Continue then return."""
    if page in SPECIAL:
        return fixed_url(SPECIAL[page])
    return fixed_url("journey.question", slug=PAGES[page].slug,
                     **({"change": 1 if change is True else change} if change else {}))


def _user():
    return current_user._get_current_object()


def answers_of(draft: Draft) -> JourneyAnswers:
    return JourneyAnswers.load(draft.answers)


def _own_unfinished(draft_id: str | None) -> Draft | None:
    draft = db.session.get(Draft, (draft_id or "")[:64])
    if draft is not None and draft.user_id != current_user.id:
        abort_not_yours(draft)  # audited
    if draft is None or draft.submitted_at is not None:
        return None
    return draft


def current_draft(include_submitted: bool = False) -> Draft | None:
    """The draft this session is on, and only that one.

    Never the user's latest draft in its place: a page with no draft in the session (Back after
    finishing, a bookmark) would then show, and act on, another child's answers. A draft the
    session is not on is picked only by asking: resuming it, or signing in again after an idle
    sign-out (carry_on_with).
    """
    draft_id = session.get("draft_id")
    if not draft_id:
        return None
    draft = db.session.get(Draft, draft_id[:64])  # loaded with the user (database.user_with_draft)
    if draft is None or draft.user_id != current_user.id:
        session.pop("draft_id", None)
        return None
    if draft.submitted_at is not None and not include_submitted:
        return None
    return draft


def needs_draft(view=None, *, include_submitted: bool = False):
    """Load the draft the page is about, or send the referrer to the start page.

    A POST names its draft (the form's draft_id field) and acts on that one only, whatever
    the session opened last; it becomes the session's draft, so the next page follows it.
    """
    if view is None:
        return functools.partial(needs_draft, include_submitted=include_submitted)

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if request.method == "POST":
            posted = request.form.get("draft_id")
            if not posted:
                return redirect(url_for("refer.start"))
            draft = db.session.get(Draft, posted[:64])  # loaded with the user, if theirs
            if draft is not None and draft.user_id != current_user.id:
                abort_not_yours(draft)  # audited
            if draft is None:
                abort(404)
            if draft.submitted_at is not None and not include_submitted:
                return redirect(url_for("journey.my_referrals"))
            session["draft_id"] = draft.id
        else:
            draft = current_draft(include_submitted=include_submitted)
        if draft is None:
            return redirect(url_for("refer.start"))
        return view(draft, *args, **kwargs)
    return wrapped


def version_for(draft: Draft):
    """The version the draft was started under (a sent draft: else the one in force).

    Never for a draft still being answered while a newer version failed to load, nor one whose own
    version this host has not loaded (it may be newer: one published a moment ago, or a file still
    being deployed): 503, with the phone numbers, so nothing is worked out from an older version.
    Journey pages use journey_version, which first moves a draft a later version has superseded."""
    if draft.submitted_at is None:
        if blocking_failures():
            abort(503)
        own = current_library().by_id(draft.threshold_id)
        if own is None:
            current_app.logger.error("draft on threshold version %s, which is not loaded here: 503",
                                     draft.threshold_id)
            abort(503)
        return own
    version = current_library().by_id(draft.threshold_id) or current_version_or_none()
    if version is None:
        abort(503)
    return version


def superseded(draft: Draft) -> bool:
    """A draft still being answered whose version a later one has replaced (it came into force, or was
    published, while the referrer was answering). Only a later one: hosts that have not yet read a
    version just published never move a draft back."""
    if draft.submitted_at is not None:
        return False
    in_force, own = current_version_or_none(), current_library().by_id(draft.threshold_id)
    return in_force is not None and own is not None and in_force.effective_from > own.effective_from


def move_if_superseded(draft: Draft) -> bool:
    """Move a draft a later version has superseded onto it (dropping what no longer applies and
    saying so, as resuming does); whether it moved. Never on a HEAD request."""
    if request.method not in ("GET", "POST") or not superseded(draft):
        return False
    carry_on_under_version_in_force(draft)
    return True


def journey_version(draft: Draft):
    """The version for a journey page: the draft's own, once a draft that a later version has
    superseded (it came into force, or was published, while the referrer was answering) has moved to
    it, on showing a page (GET). A recommendation recorded before the move no longer matches the
    answers' key, so every page that shows, records or sends advice works it out again first.

    A form sent (POST) was built for the draft's own version and is handled under it, so nothing typed
    is lost and nothing new counts as seen; the next page shown moves the draft. A POST that acts on
    advice (finish, disagree, send, ask for advice) goes to Check your answers instead (superseded)."""
    if request.method == "GET":
        move_if_superseded(draft)
    return version_for(draft)


def record(draft: Draft, version, change: Callable[[dict], dict] | None = None,
           page: str | None = None, dropped: list[str] | None = None) -> Assessment:
    """Record the recommendation for the draft's answers as a revision, storing exactly what
    its pages will show. With `change` (a page's answer, as for save_page), the page is saved
    with it, and the revision is for the answers saved."""
    def finding(stored: dict) -> drafts_store.Finding:
        answers = JourneyAnswers.load(stored)
        engine_answers = journey.engine_answers(version, answers)
        directory = current_directory()
        rec = assess(engine_answers, version, today(), directory)
        facts = {"source_code": journey.source_code(answers),
                 "referrer_role": answers.about_you.role if answers.about_you else None,
                 "age_band": journey.age_band(answers), "age_months": engine_answers.age_months,
                 "unborn": engine_answers.unborn,
                 "indicator_ids": sorted(engine_answers.indicators),
                 "consent": engine_answers.consent if engine_answers.consent != "not_asked" else None,
                 "in_danger": engine_answers.in_danger}
        return drafts_store.Finding(rec, journey.engine_key(version, engine_answers), journey.shown(rec),
                                    directory.content_hash if directory is not None else None, facts)
    return drafts_store.record_revision(draft, finding, actor=_user(), change=change, page=page, dropped=dropped)


class Recorded:
    """A stored revision, read the way the templates read a fresh Recommendation."""

    def __init__(self, assessment: Assessment):
        shown = assessment.shown or {}
        self.assessment = assessment
        self.route, self.level, self.urgency = (assessment.recommended_route, assessment.recommended_level,
                                                assessment.urgency or "standard")
        self.immediate, self.lado = assessment.immediate, assessment.lado
        self.level_name = shown.get("level_name", "")
        self.reasons = shown.get("reasons", [])
        self.next_steps = shown.get("next_steps", [])
        self.lado_steps = shown.get("lado_steps", [])
        self.urgent_reasons = shown.get("urgent_reasons", [])  # none on revisions recorded before they were
        self.services = shown.get("services", [])
        self.overdue_for_review = shown.get("overdue_for_review", False)
        self.version_id, self.version_hash = assessment.threshold_id, assessment.threshold_hash


def current_revision(draft: Draft, version) -> Assessment | None:
    """The latest revision, if it was recorded for the draft's answers as they are now.

    Anything that acts on a recommendation uses this: a revision made before an answer
    changed is never shown or acted on as if it were for the new answers.
    """
    latest = draft.assessment
    if latest is None or latest.answers_key != journey.answers_key(version, answers_of(draft)):
        return None
    return latest


def version_of(assessment: Assessment, fallback):
    return current_library().by_hash(assessment.threshold_hash) or fallback


def unsent_draft(user) -> Draft | None:
    """The draft a form posted as the session went idle names, if it is the user's and unfinished."""
    draft = db.session.get(Draft, (request.form.get("draft_id") or "")[:64])
    if draft is None or draft.user_id != user.id or draft.submitted_at is not None:
        return None
    return draft


@keeps("journey.question", "journey.referral", "journey.early_help_request", "journey.override")
def _journey_form_to_keep(user) -> tuple | None:
    """A journey page posted after an idle sign-out: its draft, its page and its form (kept.unsent_form)."""
    draft = unsent_draft(user)
    if draft is None:
        return None
    page = kept_key()
    if request.endpoint == "journey.question":
        defined = BY_SLUG.get(page) or abort(404)
        form = defined.form(Context(version_for(draft), answers_of(draft), today()), None)
    elif request.endpoint in ("journey.referral", "journey.early_help_request"):
        form = jf.ReferralForm()
    else:
        form = jf.override_form("")
    return draft, page, form


def kept_key() -> str:
    return (request.view_args or {}).get("slug") or request.endpoint.split(".", 1)[1]


def formdata_for(draft: Draft):
    """The posted form; or, on GET, a form kept across an idle sign-out (shown once)."""
    if request.method == "POST":
        return request.form
    if request.method != "GET":  # a HEAD request must not use up the kept form
        return None
    kept = take_kept_form(draft, kept_key(), _user())
    if kept is not None:
        tell("kept")
    return kept


def kept_call_for_help(draft: Draft) -> MultiDict | None:
    """"Yes, the child is in immediate danger", sent as the session went idle and kept with the draft:
    on the first GET after signing in again it is saved as that Save and continue would have been (the
    saving removes it), never shown again to be sent once more, for a child in danger is never slowed
    down. Only a form kept from a post with this user's valid CSRF token, naming this user's draft
    (kept.unsent_form, keep_sent_form); only "yes": anything else is shown again to check, as on every
    page. Never on a HEAD request (a link checker, a prefetch)."""
    if request.method != "GET":
        return None
    kept = (draft.kept_forms or {}).get(PAGES["danger"].slug)
    if not isinstance(kept, dict) or kept.get("in_danger") != ["yes"]:
        return None
    return MultiDict([("in_danger", "yes")])


def tell(key: str, **values) -> None:
    """A message for the next page: its words are `flashes[key]` in templates/journey/_words.html."""
    flash([key, values], "journey")


def tell_dropped(draft: Draft, dropped: list[str]) -> None:
    """The next page names the concerns that a change made no longer apply: their words are kept with
    the draft (store.DROPPED, saved by the caller with the change); the session holds only the draft's
    id (a random key), to say which draft's notice to show."""
    if dropped and not dropped_notice_pending(draft):
        flash(draft.id, "dropped")  # once: the draft holds every concern dropped since its last answer


def dropped_notice_pending(draft: Draft) -> bool:
    """The next page is still to name concerns dropped from this draft (tell_dropped)."""
    return ("dropped", draft.id) in [tuple(f) for f in session.get("_flashes", [])]


@bp.app_template_global("dropped_concerns")
def dropped_concerns(draft_id: str) -> list[str]:
    """The words of the concerns a change of this draft (the user's own) made no longer apply."""
    draft = db.session.get(Draft, str(draft_id)[:64]) if current_user.is_authenticated else None
    if draft is None or draft.user_id != current_user.id:
        return []
    return list((draft.kept_forms or {}).get(store.DROPPED) or [])


# ------------------------------------------------------------------------------ starting

@bp.post("/new")
@role_required(*REFERRERS)
def new():
    version = current_version_or_none()
    if version is None:
        abort(503)
    try:
        draft = store.start_draft(_user(), version, JourneyAnswers(about_you=known_about_you()).dump())
    except store.TooManyDrafts as exc:
        tell("too_many_drafts", limit=exc.limit)
        return redirect(url_for("journey.drafts"))
    session["draft_id"] = draft.id
    return redirect(page_url("danger"))


def known_about_you() -> journey.AboutYou | None:
    """Role and organisation are asked once per account: from the referrer's last assessment."""
    last = db.session.execute(
        select(Assessment.referrer_role, Assessment.source_code)
        .where(Assessment.user_id == current_user.id, Assessment.referrer_role.is_not(None))
        .order_by(Assessment.id.desc()).limit(1)).first()
    if last is None or last.source_code not in journey.ORGANISATION_FOR_CODE:
        return None
    return journey.AboutYou(role=last.referrer_role, organisation=journey.ORGANISATION_FOR_CODE[last.source_code])


@bp.route("/start-again", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def start_again(draft: Draft):
    """Asks first; then deletes this draft and starts a fresh one (never another old draft)."""
    if request.method == "POST" and request.form.get("confirm") == "yes":
        store.discard_draft(draft, actor=_user())
        session.pop("draft_id", None)
        return new()
    back = page_url(journey.first_unanswered(version_for(draft), answers_of(draft)))
    return render_template("journey/confirm_delete.html", draft=draft, describe=describe_draft,
                           action=url_for("journey.start_again"), again=True, back=back)


@bp.get("/drafts")
@role_required(*REFERRERS)
def drafts():
    return render_template("journey/drafts.html", drafts=saved_drafts(), describe=describe_draft)


def saved_drafts() -> list[Draft]:
    return list(db.session.scalars(
        select(Draft).where(Draft.user_id == current_user.id, Draft.submitted_at.is_(None))
        .order_by(Draft.updated_at.desc())))


@dataclasses.dataclass(frozen=True)
class DraftFacts:
    """What tells drafts apart without identifying anyone; describe_draft in
    templates/journey/_words.html says it."""

    started: dt.datetime
    band: str | None  # values.AGE_BANDS; None before the child's age is given
    concerns: tuple[str, ...]  # the threshold file's words for the first two concerns chosen
    more: int  # how many other concerns were chosen


def describe_draft(draft: Draft) -> DraftFacts:
    answers = answers_of(draft)
    if answers.child is None:
        return DraftFacts(draft.created_at, None, (), 0)
    version = current_library().by_id(draft.threshold_id) or current_version_or_none()  # a list: never a 503
    if version is None:
        return DraftFacts(draft.created_at, journey.age_band(answers), (), 0)
    chosen = [version.indicators[i].text for i in sorted(journey.chosen_indicators(version, answers))
              if i in version.indicators]
    return DraftFacts(draft.created_at, journey.age_band(answers), tuple(chosen[:2]), max(0, len(chosen) - 2))


@bp.post("/drafts/resume")
@role_required(*REFERRERS)
def resume():
    draft = _own_unfinished(request.form.get("draft_id")) or abort(404)
    session["draft_id"] = draft.id
    carry_on_under_version_in_force(draft)
    version = version_for(draft)
    return redirect(page_url(journey.first_unanswered(version, answers_of(draft))))


def carry_on_with(draft_id: str | None) -> None:
    """Just after signing in: back on the draft the referrer was on when they were signed out.

    Only the user's own unfinished draft. Another user's (someone else signing in on the same
    computer) is left out without an audit event: they did not ask for it.
    """
    if not draft_id or current_user.role not in REFERRERS:
        return
    draft = db.session.get(Draft, str(draft_id)[:64])
    if draft is None or draft.user_id != current_user.id or draft.submitted_at is not None:
        return
    session["draft_id"] = draft.id
    carry_on_under_version_in_force(draft)


def thresholds_changed_under(draft: Draft) -> bool:
    """Advice about to be acted on (finish, disagree, send) may not be the draft's now: a later version
    superseded the draft's, or the page was shown under another version than the draft is on."""
    return superseded(draft) or sent_under_another_version(draft)


def sent_under_another_version(draft: Draft) -> bool:
    """A form sent from a page shown under another threshold version than the draft's (another tab moved
    the draft since): not saved, for what it offered is not what the draft now asks."""
    shown_under = request.form.get("shown_under") if request.method == "POST" else None
    return bool(shown_under) and shown_under != draft.threshold_id


def back_to_check_as_the_thresholds_changed(draft: Draft, form=None):
    """The threshold document changed under the page just sent: nothing is sent or saved from it; what
    was typed is kept for its page (shown again there, filled in), and Check your answers comes first."""
    keep_sent_form(draft, form)
    return redirect(url_for("journey.check"))


def keep_sent_form(draft: Draft, form=None) -> None:
    from .hygiene import keepable_form
    data = keepable_form({f.name for f in form if f.type != "CSRFTokenField"}) if form is not None else None
    if data:
        store.keep_form(draft, kept_key(), data, actor=_user())
    tell("threshold_changed")


def carry_on_under_version_in_force(draft: Draft) -> None:
    """A draft picked up again moves to the version in force if that is later than its own, dropping
    what no longer applies (never back: a host that has not yet read a newer version leaves it be).

    Saved as any page is (drafts.save_page: never over another tab's save), with the concerns it
    dropped named in the words of the version they were ticked under."""
    if not superseded(draft):
        return
    version = current_version_or_none()
    was = current_library().by_id(draft.threshold_id)
    _, dropped = journey.prune(version, answers_of(draft), moved_from=was)

    def move(stored: dict) -> dict:
        return journey.prune(version, JourneyAnswers.load(stored), moved_from=was)[0].dump()
    # A notice the last answer left and the next page has not yet shown is kept, with this move's added.
    drafts_store.save_page(draft, "resumed_under_new_version", move, actor=_user(), dropped=dropped,
                           version=version, keep_dropped=dropped_notice_pending(draft))
    tell_dropped(draft, dropped)


@bp.post("/drafts/delete")
@role_required(*REFERRERS)
def delete_draft():
    """Asks first (a page that describes the draft), then deletes it."""
    draft = _own_unfinished(request.form.get("draft_id")) or abort(404)
    if request.form.get("confirm") != "yes":
        return render_template("journey/confirm_delete.html", draft=draft, describe=describe_draft,
                               action=url_for("journey.delete_draft"), again=False,
                               back=url_for("journey.drafts"))
    if session.get("draft_id") == draft.id:
        session.pop("draft_id", None)
    store.discard_draft(draft, actor=_user())
    tell("draft_deleted")
    return redirect(url_for("journey.drafts"))


# ------------------------------------------------------------------------------ question pages

@bp.route("/<slug>", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def question(draft: Draft, slug: str):
    page = BY_SLUG.get(slug) or abort(404)  # one address per page: /refer/about-child, never about_child
    version = journey_version(draft)
    answers = answers_of(draft)
    if not journey.can_visit(version, answers, page.id):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    asked = request.args.get("change")
    from_sending = asked if asked in CHANGE_FROM_SENDING else None  # from Check before you send
    change: bool | str = from_sending or bool(asked)  # never the address's own text (page_url keeps each)
    ctx = Context(version, answers, today())
    sent_before_sign_out = kept_call_for_help(draft) if page.id == "danger" else None
    form = page.form(ctx, sent_before_sign_out or formdata_for(draft))
    # Kept, and shown again as the draft's version asks it; but never "yes, in immediate danger": every
    # version asks that alike, and the referrer goes on to Call 999, not back to the question to send again.
    if sent_under_another_version(draft) and not (page.id == "danger" and form.in_danger.data == "yes"):
        keep_sent_form(draft, form)
        return redirect(page_url(page.id, change=change))
    if (request.method == "POST" and form.validate()) or sent_before_sign_out:
        new_answers = page.write(ctx, form)
        if new_answers is not None:
            new_answers, dropped = journey.prune(version, new_answers)
            tell_dropped(draft, dropped)
            following = journey.next_page(version, new_answers, page.id, returning_to_check=change)
            after_phoning = page.id == "what_happened" and journey.on_emergency_path(version, new_answers)

            def apply(stored: dict) -> dict:  # re-applied to fresh answers after a concurrent save
                fresh = page.write(Context(version, JourneyAnswers.load(stored), today()), form)
                return journey.prune(version, fresh or new_answers)[0].dump()
            lado_first = False
            if (following == "danger_call" or after_phoning) and not superseded(draft):  # saved and recorded at once
                revision = record(draft, version, apply, page.id, dropped=dropped)
                if after_phoning and revision.lado:
                    following, lado_first = "danger_call", True  # the LADO outcome, first, before the referral
            else:
                drafts_store.save_page(draft, page.id, apply, actor=_user(), dropped=dropped)
            if page.id == "family" and journey.not_warned(version, answers_of(draft)):
                # A concern the family must not hear of was chosen in another tab as this page was
                # answered: its warning was not on the page sent, so the page is shown again with it.
                tell("not_warned")
                return redirect(page_url("family", change=from_sending or bool(change)))
            if from_sending and following in SPECIAL and not lado_first:
                # Nothing new to ask: back to Check before you send, which goes to Check your answers
                # first if the advice recorded is not for the answers now.
                return redirect(url_for("journey.send", kind=from_sending))
            return redirect(page_url(following, change=bool(change) and following not in SPECIAL))
    previous = journey.previous_page(version, answers, page.id)
    back = (url_for("journey.send", kind=from_sending) if from_sending else url_for("journey.check") if change
            else page_url(previous) if previous else url_for("refer.start"))
    return render_template(f"journey/{page.template}.html", form=form, page=page.id, back=back,
                           version=version, answers=answers, change=change, draft=draft,
                           phone_today=journey.phone_today(version, answers), **page.extra(ctx))


# ------------------------------------------------------------------------------ check and result

@bp.route("/check", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft
def check(draft: Draft):
    moved = move_if_superseded(draft)
    version = version_for(draft)
    answers = answers_of(draft)
    if not journey.can_visit(version, answers, "check"):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    if (moved or sent_under_another_version(draft)) and request.method == "POST":
        tell("threshold_changed")  # the answers under the new version, seen before any advice
        return redirect(url_for("journey.check"))
    if request.method == "POST":  # CSRFProtect has checked the token
        try:
            record(draft, version)
        except AnswerError as exc:  # the engine says which answer: send the referrer to its page
            for problem in exc.problems:
                flash(problem.message, "info")
            page = PROBLEM_PAGES.get(exc.problems[0].field) if exc.problems else None
            return redirect(page_url(page, change=True) if page else
                            page_url(journey.first_unanswered(version, answers)))
        return redirect(url_for("journey.recommendation"))
    return render_template("journey/check.html", version=version, answers=answers, draft=draft,
                           **check_context(version, answers),
                           back=page_url(journey.previous_page(version, answers, "check")))


# Where each answer the engine may refuse is given.
PROBLEM_PAGES = {"age_months": "about_child", "unborn": "about_child", "expected_date": "about_child",
                 "indicators": "serious", "consent": "family"}


def check_context(version, answers: JourneyAnswers, changeable: bool = True, sending: str | None = None) -> dict:
    """What Check your answers and the summaries show: the answers' rows (pages.summary_rows),
    each with its "Change" link while they can be changed (from Check before you send when
    `sending` names the kind, so that the change returns there), and whether to phone today."""
    words = current_app.jinja_env.get_template("journey/_words.html").module
    change = sending.replace("_", "-") if sending else True
    return {"rows": summary_rows(version, answers, words,
                                 (lambda page: page_url(page, change=change)) if changeable else None),
            "phone_today": journey.phone_today(version, answers)}


@bp.get("/recommendation")
@role_required(*REFERRERS)
@needs_draft
def recommendation(draft: Draft):
    """The recorded revision, never a fresh working-out that could differ from the record."""
    version = journey_version(draft)
    revision = current_revision(draft, version)
    if revision is None:
        return redirect(url_for("journey.check"))
    if revision.immediate:
        return redirect(url_for("journey.danger_call"))
    shown_with = version_of(revision, version)
    return render_template("journey/recommendation.html", rec=Recorded(revision), version=shown_with,
                           draft=draft, route=getattr(shown_with.document.routes, revision.recommended_route),
                           back=url_for("journey.check"),
                           can_request=may_send(revision, "early_help_request", answers_of(draft)),
                           draft_id=draft.id)


@bp.get("/phone-now")
@role_required(*REFERRERS)
@needs_draft
def danger_call(draft: Draft):
    version = journey_version(draft)
    answers = answers_of(draft)
    if "danger_call" not in journey.sequence(version, answers):
        return redirect(page_url(journey.first_unanswered(version, answers)))
    revision = current_revision(draft, version) or (record(draft, version) if request.method == "GET" else None)
    if revision is None:  # a HEAD request: nothing recorded under a version it did not move from
        return "", 204
    return render_template("journey/danger_call.html", rec=Recorded(revision), version=version, draft=draft,
                           words_given=PAGES["what_happened"].is_answered(version, answers),
                           back=page_url(journey.previous_page(version, answers, "danger_call")))


@bp.post("/finish")
@role_required(*REFERRERS)
@needs_draft(include_submitted=True)
def finish(draft: Draft):
    if draft.submitted_at is not None:  # a second click: the same result as the first
        return finished_summary(draft)
    if thresholds_changed_under(draft):
        return back_to_check_as_the_thresholds_changed(draft)
    revision = current_revision(draft, version_for(draft))
    if revision is None:
        return redirect(url_for("journey.check"))
    route = revision.recommended_route
    if route == "social_care":
        return redirect(url_for("journey.referral"))
    store.choose_route(draft, route, finished=True, actor=_user())
    return finished_summary(draft)


def finished_summary(draft: Draft):
    """The printable summary of a draft just finished (the session leaves it), also for a second click."""
    session["finished_draft"] = draft.id
    session.pop("draft_id", None)
    return redirect(url_for("journey.summary"))


@bp.route("/disagree", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft(include_submitted=True)
def override(draft: Draft):
    if draft.submitted_at is not None:  # a second click on Continue: the same result as the first
        return finished_summary(draft)
    if request.method == "POST" and thresholds_changed_under(draft):
        return back_to_check_as_the_thresholds_changed(draft, jf.override_form("", formdata=request.form))
    version = journey_version(draft)
    revision = current_revision(draft, version)
    if revision is None:
        return redirect(url_for("journey.check"))
    if revision.immediate:  # immediate danger is never softened: phone, then refer
        return redirect(url_for("journey.danger_call"))
    recommended = revision.recommended_route
    form = jf.override_form(recommended, formdata=formdata_for(draft))
    if request.method == "POST" and form.validate():
        if form.route.data == "social_care":
            store.choose_route(draft, "social_care", override_reason=form.reason.data, finished=False,
                               actor=_user())
            return redirect(url_for("journey.referral"))
        store.choose_route(draft, form.route.data, override_reason=form.reason.data, finished=True,
                           actor=_user())
        return finished_summary(draft)
    back = url_for("journey.recommendation")
    # Taking another route does not make a same-day concern wait: the page still says phone today.
    return render_template("journey/override.html", form=form, recommended=recommended, back=back, draft=draft,
                           version=version, phone_today=revision.urgency == "same_day")


# ------------------------------------------------------------------------------ referral

SENDING = {"referral": "journey.referral", "early_help_request": "journey.early_help_request"}
CHANGE_FROM_SENDING = {kind.replace("_", "-") for kind in SENDING}  # ?change=<this> on a question page


def may_send(assessment: Assessment, kind: str, answers: JourneyAnswers) -> bool:
    """A referral for social care (recommended, or chosen against the recommendation); an
    early-help request when early help was recommended and the family agreed."""
    if kind == "referral":
        return assessment.recommended_route == "social_care" or assessment.route_taken == "social_care"
    return (assessment.recommended_route == "early_help" and answers.consent is not None
            and answers.consent.consent == "given")


def _sending_draft(draft: Draft, kind: str):
    """(version, answers, revision) for a draft that may send this kind now, or a redirect."""
    existing = draft.submitted_at and db.session.scalar(select(Referral).where(Referral.draft_id == draft.id))
    if existing:  # sent already (a second click, a refresh): the same result as the first
        session["confirmation"] = existing.id
        return redirect(url_for("journey.confirmation"))
    if thresholds_changed_under(draft):  # advice worked out again first
        if request.method == "POST":
            return back_to_check_as_the_thresholds_changed(
                draft, jf.ReferralForm(formdata=request.form) if request.endpoint != "journey.send" else None)
        return redirect(url_for("journey.check"))
    version = journey_version(draft)
    answers = answers_of(draft)
    revision = current_revision(draft, version)
    if revision is None:
        return redirect(page_url(journey.first_unanswered(version, answers)))
    if not may_send(revision, kind, answers):
        return redirect(url_for("journey.override" if kind == "referral" else "journey.recommendation"))
    if not PAGES["what_happened"].is_answered(version, answers):
        return redirect(page_url("what_happened"))  # the front door needs the referrer's own words
    return version, answers, revision


@bp.route("/referral", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft(include_submitted=True)
def referral(draft: Draft):
    return send_details(draft, "referral")


@bp.route("/early-help-request", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft(include_submitted=True)
def early_help_request(draft: Draft):
    return send_details(draft, "early_help_request")


def send_details(draft: Draft, kind: str):
    """The identifying details the front door or the Family Help Hub needs; then Check."""
    found = _sending_draft(draft, kind)
    if not isinstance(found, tuple):
        return found
    version, answers, revision = found
    age_months, unborn = journey.child_age(answers)
    saved = answers.sending.details if answers.sending and answers.sending.kind == kind else None
    formdata = formdata_for(draft)
    form = jf.ReferralForm(formdata=formdata, data=jf.ReferralForm.data_from(saved) if formdata is None else None)
    ask_unborn = answers.child is None  # the immediate-danger path: About the child was not asked
    if request.method == "POST" and form.validate() & form.validate_extra(unborn, today(), age_months, ask_unborn):
        details = form.details(form.is_unborn)

        def apply(stored: dict) -> dict:
            return JourneyAnswers.load(stored).but(sending=journey.Sending(kind=kind, details=details)).dump()
        drafts_store.save_page(draft, kind, apply, actor=_user())
        return redirect(url_for("journey.send", kind=kind.replace("_", "-")))
    back = url_for("journey.danger_call") if revision.immediate else url_for("journey.recommendation")
    return render_template("journey/referral.html", form=form, unborn=unborn, ask_unborn=ask_unborn, back=back, draft=draft,
                           immediate=revision.immediate, version=version, kind=kind,
                           # A same-day concern is phoned through before it is written down: the form
                           # says so, as every page after the concern was ticked did.
                           phone_today=revision.urgency == "same_day")


def details_fit_the_child(answers: JourneyAnswers) -> bool:
    """The details saved for sending were checked against the child's age when they were given; a
    later change (of age, or to or from unborn) sends the referrer back to them, never sends them."""
    age_months, unborn = journey.child_age(answers)
    details = answers.sending.details
    if unborn or (answers.child is None and details.get("unborn")):  # or said on the referral (the danger path)
        return not details.get("date_of_birth")
    form = jf.ReferralForm(formdata=None, data=jf.ReferralForm.data_from(details), meta={"csrf": False})
    return form.validate_extra(unborn, today(), age_months)


@bp.route("/send/<kind>", methods=["GET", "POST"])
@role_required(*REFERRERS)
@needs_draft(include_submitted=True)
def send(draft: Draft, kind: str):
    """Check your answers before sending: the details and what the front door will read."""
    kind = kind.replace("-", "_")
    if kind not in SENDING:
        abort(404)
    found = _sending_draft(draft, kind)
    if not isinstance(found, tuple):
        return found
    version, answers, revision = found
    if answers.sending is None or answers.sending.kind != kind:
        return redirect(url_for(SENDING[kind]))
    if not details_fit_the_child(answers):
        tell("details_no_longer_fit")
        return redirect(url_for(SENDING[kind]))
    if request.method == "POST":
        counted = journey.in_journey(version, answers)  # not the answers of pages the journey has left
        consent = counted.consent
        details = {**answers.sending.details, "answers": counted.but(sending=None).dump()}
        made, _created = store.submit_referral(
            draft, details, kind=kind, family_aware=consent.aware if consent else None,
            consent=consent.consent if consent else None,  # not asked on the immediate-danger path
            consent_reason=consent.reason if consent else None,
            reference_prefix=current_app.config.get("REFERENCE_PREFIX", "NM"), actor=_user())
        session["confirmation"] = made.id
        return redirect(url_for("journey.confirmation"))
    return render_template("journey/send_check.html", draft=draft, kind=kind, details=answers.sending.details,
                           rec=Recorded(revision), version=version, answers=answers,
                           **check_context(version, answers, changeable=True, sending=kind),
                           back=url_for(SENDING[kind]))


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
    if draft.submitted_at is None and current_revision(draft, journey_version(draft)) is None:
        return redirect(url_for("journey.check"))  # answers changed since: not this record's summary
    version = version_of(draft.assessment, version_for(draft))
    answers = answers_of(draft)
    store.record_view("summary_viewed", draft.assessment, actor=_user())  # what was written about the child
    rec = Recorded(draft.assessment)
    info = version.document.immediate_danger if rec.immediate else getattr(version.document.routes, rec.route)
    return render_template("journey/summary.html", rec=rec, version=version, info=info,
                           assessment=draft.assessment, answers=answers, **check_context(version, answers, changeable=False),
                           finished=draft.submitted_at is not None)


# ------------------------------------------------------------------------------ my referrals

@bp.get("/my-referrals")
@role_required(*REFERRERS)
def my_referrals():
    """Every finished assessment (universal, early help, referral), newest first, with what the
    front door decided. Names of referred children are shown, so reading it is audited."""
    finished = list(db.session.scalars(
        select(Assessment).where(Assessment.user_id == current_user.id,
                                 or_(Assessment.route_taken.is_not(None), Assessment.referral.has()))
        .order_by(Assessment.completed_at.desc(), Assessment.id.desc()).limit(200)))
    references = [a.referral.reference for a in finished if a.referral is not None]
    if references:
        store.record_view("referrals_listed", actor=_user(), record_type="referrals",
                          record_id=None, references=references)
    return render_template("journey/my_referrals.html", finished=finished)


@bp.get("/my-referrals/summary/<int:assessment_id>")
@role_required(*REFERRERS)
def history_summary(assessment_id: int):
    """The printable summary of a finished assessment, as it was recorded: no names, but what the referrer
    wrote about the child, so reading it is audited."""
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None:
        audited_not_found("assessments", assessment_id, "no such record")
    if assessment.user_id != current_user.id:
        abort_not_yours(assessment)  # audited
    if assessment.route_taken is None and assessment.referral is None:
        abort(404)
    version = version_of(assessment, current_version_or_none())
    draft = assessment.draft  # gone after the retention period: the record itself stays
    answers = answers_of(draft) if draft is not None else None
    store.record_view("summary_viewed", assessment, actor=_user())
    rec = Recorded(assessment)
    info = version.document.immediate_danger if rec.immediate else getattr(version.document.routes, rec.route)
    extra = check_context(version, answers, changeable=False) if answers is not None else {"rows": []}
    return render_template("journey/summary.html", rec=rec, version=version, info=info, assessment=assessment,
                           answers=answers, finished=True, **extra)


@bp.get("/my-referrals/<reference>")
@role_required(*REFERRERS)
def my_referral(reference: str):
    made = db.session.scalar(select(Referral).where(Referral.reference == reference[:64]))
    if made is None:  # audited like someone else's: guessing references leaves a trace
        audited_not_found("referrals", reference, "no such item")
    if made.user_id != current_user.id:
        abort_not_yours(made)
    store.record_view("referral_viewed", made, actor=_user())
    version = current_library().by_hash(made.assessment.threshold_hash)
    return render_template("journey/my_referral.html", referral=made, version=version,
                           answers=(made.details or {}).get("answers") or {})
