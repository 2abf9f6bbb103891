"""The front door (MASH): the queue, an item, allocation, decisions, consultations, outside contacts,
the audit viewer and the decisions export. Thin views over frontdoor_queue (reads) and store.frontdoor.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_file,
                   session, url_for)
from flask_login import current_user
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import contacts_csv, frontdoor_queue as fq, journey, mail, store, workdays
from ..content import current_directory, current_library, current_version_or_none
from ..extensions import db
from ..journey import JourneyAnswers
from ..models import Assessment, AuditEvent, Decision, Draft, ExternalContact, Referral, User, utcnow
from ..settings import ROOT
from ..thresholds.schema import ConsentRule
from ..store import frontdoor as fd_store
from ..values import (AGE_BANDS, CONTACT_CHANNEL_NAMES, CONTACT_CHANNELS, ITEM_KIND_NAMES, NFA_OUTCOMES,
                      MAX_ID, OUTCOME_NAMES, REFERRAL_SOURCES, ROUTES, URGENCIES, child_age_sent)
from . import frontdoor_forms as ff
from .downloads import csv_download
from .journey import current_revision, superseded, tell, tell_dropped, unsent_draft, version_for
from .kept import keeps, take_kept_form
from .security import abort_not_yours, audited_not_found, role_required

bp = Blueprint("frontdoor", __name__, url_prefix="/front-door")
TEAM = ("front_door",)
EXAMPLE_CSV = ROOT / "docs" / "external-contacts-example.csv"
URGENCY_WORDS = {"emergency": "Emergency", "same_day": "Same day", "standard": "Standard"}
ROUTE_WORDS = {"universal": "Universal services", "early_help": "Early help", "social_care": "Social care"}
# The queue's filters as the form names them, in its order (fields' ids are these keys).
FILTER_LABELS = {"status": "Status", "kind": "Kind", "route": "Recommended route", "urgency": "Urgency",
                 "source": "Referral source", "from": "Received from", "to": "Received to",
                 "allocated": "Allocated to"}


def _user() -> User:
    return current_user._get_current_object()


def is_manager(user) -> bool:
    return user.is_authenticated and user.role == "front_door" and bool(user.manager)


def _item(reference: str) -> Referral:
    item = db.session.scalar(select(Referral).where(Referral.reference == reference[:64]))
    if item is None:
        audited_not_found("referrals", reference, "no such item")
    return item


@bp.context_processor
def _words():
    return {"urgency_words": URGENCY_WORDS, "route_words": ROUTE_WORDS, "kind_names": ITEM_KIND_NAMES,
            "outcome_names": OUTCOME_NAMES, "source_names": REFERRAL_SOURCES, "is_manager": is_manager(current_user),
            "channel_names": CONTACT_CHANNEL_NAMES}


# ------------------------------------------------------------------------------ the queue

@bp.get("/")
@role_required("front_door", "admin")
def index():
    if current_user.role == "admin":  # administrators manage the team and read the audit, never the children
        return render_template("frontdoor/admin_index.html")
    filters, problems = fq.Filters.from_args(request.args)
    page = fq.queue_page(filters, current_user.id)
    html = render_template("frontdoor/queue.html", page=page, filters=filters, labels=FILTER_LABELS,
                           problems=filter_problems(problems),
                           team=fq.front_door_team(), routes=ROUTES, urgencies=URGENCIES,
                           sources=REFERRAL_SOURCES, now=utcnow())
    # The queue links re-referrals by name: reading it is audited like any identifying view. (After
    # rendering, as the commit expires every loaded row; nothing is sent unless the audit is written.)
    store.record_view("queue_viewed", actor=_user(), record_type="referrals",
                      references=[row.referral.reference for row in page.rows][:100], status=filters.status)
    return html


def filter_problems(problems: dict[str, str]) -> dict[str, str]:
    """What is wrong with each filter left out of the queue, in the form's order: named, and saying
    what a value it takes looks like (a filter typed into the address, or a browser's own date box)."""
    words = {fq.NOT_A_CHOICE: "{label} must be one of the options in the list",
             fq.NOT_A_DATE: ff.unreadable_day("{label}"),
             fq.OUTSIDE_YEARS: f"{{label}} must be a date in a year {workdays.YEARS_ALLOWED}",
             fq.BEFORE_FROM: "{label} must be the same as or after received from"}
    return {name: words[problems[name]].format(label=label) for name, label in FILTER_LABELS.items()
            if name in problems}


def _queue_args() -> dict:
    """The queue page an item was opened from (its filters and page, from this request's address, read
    as the queue reads them): for the item's way back, never a URL taken from the request."""
    return fq.Filters.from_args(request.args)[0].carried()


# ------------------------------------------------------------------------------ an item

def _thresholds_seen(assessment: Assessment):
    """The concerns and deciding reasons, from the version the recommendation was made with.

    The reasons are those the referrer was shown, as recorded with the revision (kind, level, text):
    a reason's words depend on more than its id (a consent rule says one thing when early help cannot
    go ahead and another when the referral goes anyway; "in immediate danger" has no id in the file).
    A revision recorded without them is described from its reason ids."""
    version = current_library().by_hash(assessment.threshold_hash)
    if version is None:
        return None, [], []
    concerns = [version.indicators[i] for i in assessment.indicator_ids if i in version.indicators]
    concerns.sort(key=lambda i: -i.level)
    shown = (assessment.shown or {}).get("reasons")
    if shown:
        return version, concerns, [(r.get("kind"), r.get("level"), r.get("text")) for r in shown]
    reasons = []
    rules = {r.id: r for r in version.document.rules}
    for rid in assessment.reason_ids:
        if rid in version.indicators:
            reasons.append(("indicator", version.indicators[rid].level, version.indicators[rid].text))
        elif isinstance(rules.get(rid), ConsentRule):
            text = rules[rid].referral_reason if assessment.recommended_route == "social_care" else rules[rid].reason
            if text:
                reasons.append(("consent", None, text))
        elif rid in rules:
            reasons.append(("rule", None, rules[rid].reason))
    return version, concerns, reasons


def services_that_fit(referral: Referral, route: str):
    """Services for the route the front door chose (NFA: universal; early help), for the child's age."""
    version, concerns, _ = _thresholds_seen(referral.assessment)
    directory = current_directory()
    if version is None or directory is None:
        return []
    info = getattr(version.document.routes, route)
    months, unborn = child_age_sent(referral.details or {})
    return list(directory.signpost(tuple(info.services.tiers), months, unborn,
                                   frozenset(i.area for i in concerns), info.services.limit,
                                   frozenset(referral.assessment.indicator_ids)))


def route_for_outcome(outcome: str | None) -> str | None:
    if outcome in NFA_OUTCOMES:
        return "universal"
    if outcome == "early_help":
        return "early_help"
    return None


bp.add_app_template_global(fq.advice_links, "advice_links")


@bp.app_template_global("front_door_feedback")
def front_door_feedback(referral: Referral) -> dict:
    """What the referrer's item page shows of the front door's work: the decisions (newest first) and,
    after NFA or early help, the thresholds the front door saw and the services that fit."""
    history = fq.decision_history(referral.id)
    latest = history[-1] if history else None
    route = route_for_outcome(latest.outcome if latest else None)
    version, concerns, reasons = _thresholds_seen(referral.assessment) if route else (None, [], [])
    return {"history": list(reversed(history)), "latest": latest, "route": route, "concerns": concerns,
            "reasons": reasons, "version": version, "services": services_that_fit(referral, route) if route else [],
            "outcome_names": OUTCOME_NAMES, "kind_names": ITEM_KIND_NAMES}


@bp.get("/items/<reference>")
@role_required(*TEAM)
def item(reference: str):
    referral = _item(reference)
    if request.method == "GET":  # a HEAD request must not use up a kept decision
        kept = take_kept_form(referral, "decide", _user())
        if kept is not None:
            return _kept_decision(referral, kept)
    return _render_item(referral)


@keeps("frontdoor.decide")
def _decision_to_keep(user: User):
    """A decision posted after an idle sign-out: kept for this worker and this item (kept.unsent_form)."""
    if user.role not in TEAM:
        return None
    reference = str((request.view_args or {}).get("reference", ""))[:64]
    referral = db.session.scalar(select(Referral).where(Referral.reference == reference))
    if referral is None or referral.erased_at is not None:
        return None
    return referral, "decide", ff.decision_form(referral)


def _kept_decision(referral: Referral, kept):
    """Signed in again after an idle sign-out while recording a decision: the item, with the decision
    form as they sent it and a notice that it is not recorded yet. If a decision was recorded since
    the page they wrote it on, it is shown as a conflict is: sent again, theirs supersedes it."""
    form = ff.decision_form(referral, formdata=kept)
    latest = fd_store.latest_decision(referral.id)
    seen = form.supersedes.data if isinstance(form.supersedes.data, int) else None
    since = latest if latest is not None and latest.sequence != seen else None
    form.supersedes.data = latest.sequence if latest is not None else 0
    return _render_item(referral, form=form, conflict=since, kept=True)


def _render_item(referral: Referral, form=None, conflict: Decision | None = None, status: int = 200,
                 kept: bool = False):
    """The item page, with the child's details: every render of it is audited (a GET, and a decision
    sent back with its errors or a conflict)."""
    referral_id, reference = referral.id, referral.reference
    assessment = referral.assessment
    version, concerns, reasons = _thresholds_seen(assessment)
    history = fq.decision_history(referral.id)
    earlier = fq.earlier_referrals([referral]).get(referral.id, [])
    if form is None:
        form = ff.decision_form(referral, supersedes=history[-1].sequence if history else 0)
    allocate_form = ff.AllocateForm()
    allocate_form.worker.choices = [("", "Nobody")] + [(str(u.id), u.name) for u in fq.front_door_team()]
    allocate_form.worker.data = str(referral.allocated_to_id or "")
    allocated_to = db.session.get(User, referral.allocated_to_id) if referral.allocated_to_id else None
    html = render_template(
        "frontdoor/item.html", referral=referral, assessment=assessment, version=version, concerns=concerns,
        reasons=reasons, history=history, earlier=earlier, form=form, conflict=conflict, kept=kept,
        allocate_form=allocate_form, allocated_to=allocated_to, urgency=fq.urgency_of(assessment),
        answers=(referral.details or {}).get("answers") or {}, details=referral.details or {},
        due_by=workdays.due_by(referral.created_at),
        hours_left=workdays.working_hours_left(referral.created_at, utcnow()),
        referrer=db.session.get(User, referral.user_id), queue_args=_queue_args())
    store.record_view("item_viewed", actor=_user(), record_type="referrals", record_id=referral_id,
                      reference=reference)  # after rendering: see index()
    return html, status


@bp.post("/items/<reference>/take")
@role_required(*TEAM)
def take(reference: str):
    referral = _item(reference)
    seen = request.form.get("allocated_to", "").strip()  # who had it on the worker's page ("" for nobody)
    try:
        fd_store.allocate(referral, _user(), actor=_user(),
                          seen=int(seen) if seen.isascii() and seen.isdigit() else None)
    except fd_store.AllocationChanged as changed:
        holder = db.session.get(User, changed.holder_id) if changed.holder_id else None
        flash(f"{holder.name} took this item while you were reading it, so it is still theirs. Take it again "
              "if you mean to." if holder else
              "The item's allocation changed while you were reading it. Take it again if you mean to.", "info")
    else:
        flash(f"{referral.reference} is now yours.", "success")
    return redirect(url_for("frontdoor.item", reference=referral.reference, **_queue_args()))


@bp.post("/items/<reference>/allocate")
@role_required(*TEAM)
def allocate(reference: str):
    if not is_manager(current_user):
        abort(403)
    referral = _item(reference)
    form = ff.AllocateForm()
    team = {str(u.id): u for u in fq.front_door_team()}
    form.worker.choices = [("", "Nobody")] + [(k, u.name) for k, u in team.items()]
    if form.validate():
        fd_store.allocate(referral, team.get(form.worker.data), actor=_user())
        flash(f"Allocation of {referral.reference} saved.", "success")
    else:
        flash("Choose someone from the front door team.", "error")
    return redirect(url_for("frontdoor.item", reference=referral.reference, **_queue_args()))


@bp.post("/items/<reference>/decide")
@role_required(*TEAM)
def decide(reference: str):
    referral = _item(reference)
    form = ff.decision_form(referral, formdata=request.form)
    if not form.validate():
        return _render_item(referral, form=form, status=400)
    advised = {"yes": True, "no": False}.get(form.referral_advised.data) if referral.kind == "consultation" else None
    link = current_app.config["BASE_URL"] + url_for("journey.my_referral", reference=referral.reference)
    try:
        fd_store.record_decision(referral, form.outcome.data, form.note.data, supersedes=form.supersedes.data,
                                 actor=_user(), decided_at=form.decided_at, referral_advised=advised, link=link)
    except fd_store.DecisionConflict as conflict:
        db.session.expire_all()
        referral = _item(reference)
        # What they wrote stays on the page: sent again, knowingly, it supersedes the winner's.
        form.supersedes.data = conflict.winner.sequence if conflict.winner else 0
        return _render_item(referral, form=form, conflict=conflict.winner, status=409)
    except store.StoreError as exc:
        form.outcome.errors = [str(exc).capitalize()]
        return _render_item(referral, form=form, status=400)
    flash(f"{'Advice' if referral.kind == 'consultation' else 'Decision'} recorded for {referral.reference}. "
          "The referrer will see it, and is emailed a link.", "success")
    return mail.send_after_response(redirect(url_for("frontdoor.item", reference=referral.reference,
                                                     **_queue_args())))


# ------------------------------------------------------------------------------ consultations (referrers)

@bp.route("/ask-for-advice", methods=["GET", "POST"])
@role_required("referrer")
def ask_for_advice():
    """A referrer asks the front door for advice instead of referring, about the revision of the
    recommendation they were shown (posted with the draft's id and that revision's id)."""
    if request.method in ("GET", "HEAD"):  # HEAD as GET (Flask's own rule), never as a request sent
        return _kept_request_for_advice() or redirect(url_for("journey.my_referrals"))
    draft = db.session.get(Draft, (request.form.get("draft_id") or "")[:64])
    if draft is None:
        audited_not_found("drafts", request.form.get("draft_id") or "-", "no such draft")
    if draft.user_id != current_user.id:
        abort_not_yours(draft)
    existing = store.item_made_from(draft)
    if existing is not None:  # a double-click, or sent already: show what was made
        return redirect(url_for("journey.my_referral", reference=existing.reference))
    if draft.assessment is None or draft.submitted_at is not None:
        return redirect(url_for("refer.start"))
    revision = _revision_shown(draft)
    if revision is None:  # answers or recommendation changed since that page: check them again
        return _back_to_check(draft)
    if revision.immediate or revision.urgency == "emergency":
        return redirect(url_for("journey.danger_call"))  # never softened: phone, then refer
    form = ff.ConsultationForm(formdata=request.form if request.form.get("step") == "send" else None)
    if request.form.get("step") == "send" and form.validate():
        try:
            made, _created = fd_store.request_consultation(
                draft, revision, question=form.question.data, phone=form.phone.data,
                answers=dict(draft.answers or {}), reference_prefix=current_app.config.get("REFERENCE_PREFIX", "NM"),
                actor=_user())
        except fd_store.RevisionNotCurrent:  # a newer revision was recorded in between
            return _back_to_check(draft)
        flash("Your request for advice has been sent to the front door. They will call you, and their advice "
              "will be shown here.", "success")
        return redirect(url_for("journey.my_referral", reference=made.reference))
    return _advice_page(form, draft, revision), (400 if form.errors else 200)


def _advice_page(form, draft: Draft, revision: Assessment, kept: bool = False) -> str:
    return render_template("frontdoor/ask_for_advice.html", form=form, draft=draft, assessment=revision, kept=kept,
                           version=current_library().by_hash(revision.threshold_hash))


@keeps("frontdoor.ask_for_advice")
def _advice_to_keep(user: User):
    """A request for advice posted after an idle sign-out: kept with its draft (kept.unsent_form)."""
    draft = unsent_draft(user)
    return (draft, "ask_for_advice", ff.ConsultationForm()) if draft is not None else None


def _kept_request_for_advice():
    """Signed in again after an idle sign-out while sending a request for advice: the page again, with
    what the referrer had typed, if the recommendation it was about is still the draft's."""
    if request.method != "GET":  # a HEAD request must not use up the kept form
        return None
    draft = db.session.get(Draft, session.get("draft_id") or "")
    if draft is None or draft.user_id != current_user.id or draft.submitted_at is not None:
        return None
    revision = None if superseded(draft) else current_revision(draft, version_for(draft))
    if revision is None or revision.immediate or revision.urgency == "emergency":
        return None  # the answers changed since: Check your answers, where the kept form waits no longer
    kept = take_kept_form(draft, "ask_for_advice", _user())
    if kept is None:
        return None
    return _advice_page(ff.ConsultationForm(formdata=kept), draft, revision, kept=True)


@bp.post("/ask-for-advice/<reference>/refer")
@role_required("referrer")
def refer_after_advice(reference: str):
    """Start a referral from the front door's advice: a new draft with the answers asked about, which
    the referral made from it records (so it counts as following this request, see store.frontdoor)."""
    consultation = _item(reference)
    if consultation.user_id != current_user.id:
        abort_not_yours(consultation)
    if consultation.kind != "consultation":
        audited_not_found("referrals", reference, "not a request for advice")
    version = current_version_or_none() or abort(503)
    try:  # the answers asked about (none if erased), without what no longer applies
        asked = JourneyAnswers.load((consultation.details or {}).get("answers"))
    except ValueError:
        asked = JourneyAnswers()
    assessment = consultation.assessment
    asked_under = current_library().by_hash(assessment.threshold_hash) if assessment else None
    if assessment is not None and (asked_under is None or asked_under.effective_from > version.effective_from):
        abort(503)  # asked under a version this host has not loaded (yet): never pruned to an older one
    answers, dropped = journey.prune(version, asked, moved_from=asked_under if asked_under != version else None)
    try:
        draft = fd_store.start_referral_after_advice(consultation, version, answers.dump(), actor=_user(),
                                                     dropped=dropped)
    except store.TooManyDrafts as exc:
        flash(str(exc).capitalize() + ".", "info")
        return redirect(url_for("journey.drafts"))
    except fd_store.AdviceFollowed as followed:  # sent already, perhaps from another tab: show it
        flash(f"You have already sent {followed.made.reference} from this advice.", "info")
        return redirect(url_for("journey.my_referral", reference=followed.made.reference))
    session["draft_id"] = draft.id
    tell_dropped(draft, dropped)
    return redirect(url_for("journey.check"))


def _revision_shown(draft: Draft) -> Assessment | None:
    """The posted revision, if it is this draft's and recorded for its answers as they are now."""
    current = None if superseded(draft) else current_revision(draft, version_for(draft))
    posted = (request.form.get("revision_id") or "").strip()
    return current if current is not None and posted == str(current.id) else None


def _back_to_check(draft: Draft):
    """Nothing sent: the recommendation shown is no longer the record for the draft's answers."""
    session["draft_id"] = draft.id
    if superseded(draft):
        tell("threshold_changed")
    else:
        flash("Your answers have changed since the recommendation you asked about was shown. Check your answers, "
              "then ask for advice about the recommendation for them.", "info")
    return redirect(url_for("journey.check"))


# ------------------------------------------------------------------------------ contacts outside Signpost

@bp.get("/contacts")
@role_required(*TEAM)
def contacts():
    page = fq.page_number(request.args.get("page"))
    rows = list(db.session.scalars(select(ExternalContact).order_by(ExternalContact.received_at.desc(),
                                                                    ExternalContact.id.desc())
                                   .offset((page - 1) * fq.PAGE_SIZE).limit(fq.PAGE_SIZE + 1)))
    total = db.session.scalar(select(func.count()).select_from(ExternalContact))
    return render_template("frontdoor/contacts.html", recorded=rows[:fq.PAGE_SIZE], has_next=len(rows) > fq.PAGE_SIZE,
                           page=page, total=total)


@bp.route("/contacts/new", methods=["GET", "POST"])
@role_required(*TEAM)
def new_contact():
    form = ff.ExternalContactForm()
    if form.validate_on_submit():
        fields = form.fields()
        try:
            contact = fd_store.record_external_contact(fields, actor=_user())
        except store.StoreError as exc:
            form.reference.errors = [str(exc).capitalize()]
        else:
            flash(f"Contact {contact.reference} recorded.", "success")
            return redirect(url_for("frontdoor.contacts"))
    return render_template("frontdoor/new_contact.html", form=form), (400 if form.errors else 200)


@bp.route("/contacts/import", methods=["GET", "POST"])
@role_required(*TEAM)
def import_contacts():
    form = ff.ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = [contacts_csv.RowProblem(1, None, "the file is not UTF-8 text: save it as CSV UTF-8")]
        else:
            rows, problems = contacts_csv.read_contacts(text, utcnow())
        if not problems:
            batch = f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
            try:
                added, skipped = fd_store.import_external_contacts(rows, batch=batch,
                                                                   file_name=upload.filename or "upload.csv",
                                                                   actor=_user())
            except fd_store.ContactImportError as exc:
                problems = exc.problems
            except IntegrityError:
                db.session.rollback()
                problems = [contacts_csv.RowProblem(1, None, "the same contacts were being imported at the same "
                                                             "moment by someone else: try again")]
            else:
                flash(f"Imported {added} contact{'s' if added != 1 else ''}"
                      + (f"; {skipped} were already recorded and were left as they are." if skipped else "."),
                      "success")
                return redirect(url_for("frontdoor.contacts"))
    status = 400 if (problems or form.errors) else 200
    return render_template("frontdoor/import_contacts.html", form=form, problems=problems,
                           columns=contacts_csv.COLUMNS, channels=CONTACT_CHANNELS, age_bands=AGE_BANDS,
                           urgencies=URGENCIES), status


@bp.get("/contacts/example.csv")
@role_required(*TEAM)
def example_csv():
    return send_file(EXAMPLE_CSV, mimetype="text/csv", as_attachment=True,
                     download_name="external-contacts-example.csv")


# ------------------------------------------------------------------------------ audit viewer

@bp.route("/audit", methods=["GET", "POST"])
@role_required("admin", "front_door")
def audit():
    """The search form is POSTed, so what is typed (often someone's email address) is never in a URL, a
    proxy's log or the browser's history; its pages are buttons that POST it again. Links here carry
    only an account's number (`account`: an account's page links to its events), a reference, an
    action, dates and a page."""
    if current_user.role == "front_door" and not is_manager(current_user):
        abort(403)
    sent = request.form if request.method == "POST" else request.args
    form = ff.AuditSearchForm() if request.method == "POST" else ff.AuditSearchForm(sent, meta={"csrf": False})
    form.validate()
    for field in (form.date_from, form.date_to):
        if field.errors:  # shown beside the field; the search goes on without it
            field.data = None
    account_id = _account_id(sent.get("account"))
    query = select(AuditEvent)
    if account_id is not None:
        query = query.where(_account_events(account_id))
    if form.person.data:
        query = query.where(AuditEvent.actor.ilike(f"%{_like(form.person.data.strip().lower())}%", escape="\\"))
    if form.record.data:
        record = form.record.data.strip()
        found = store.find_user(record) if "@" in record else None
        query = query.where(or_(AuditEvent.record_id == record[:64], AuditEvent.record_id == _referral_id(record),
                                _account_events(found.id) if found else false()))
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    # UK days, as each row shows its time (stored as UTC: a UK day starts at 23:00 the day before in summer).
    if form.date_from.data:
        query = query.where(AuditEvent.at >= workdays.uk_day_start(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.at < workdays.uk_day_start(form.date_to.data + dt.timedelta(days=1)))
    page = fq.page_number(sent.get("page"))
    events = list(db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                     .offset((page - 1) * 50).limit(51)))
    searched = {k: v for k, v in sent.items() if k not in ("page", "csrf_token") and v}
    store.record_view("audit_searched", actor=_user(), record_type="audit_events", search=searched)
    account = None if account_id is None else (db.session.get(User, account_id) or account_id)
    return render_template("frontdoor/audit.html", form=form, events=events[:50], has_next=len(events) > 50,
                           page=page, searched=searched, posted=request.method == "POST", account=account)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _account_id(value: str | None) -> int | None:
    """The account whose events a link asks for, by its number; anything else is no such page."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID):
        abort(404)
    return int(value)


def _account_events(user_id: int):
    """The events stored under an account's number (its creation, changes and password resets). An
    account's page links to them by number; a search by its email address finds them too, as an
    administrator does not otherwise know the number."""
    return and_(AuditEvent.record_type == "users", AuditEvent.record_id == str(user_id))


def _referral_id(record: str) -> str:
    """A reference (NM-2026-00042) also finds the events stored under the referral's numeric id."""
    found = db.session.scalar(select(Referral.id).where(Referral.reference == record[:64]))
    return str(found) if found is not None else record[:64]


# ------------------------------------------------------------------------------ decisions export

@bp.get("/export")
@role_required("front_door", "policy_lead")
def export():
    form = ff.ExportForm(request.args, meta={"csrf": False})
    if not request.args or not form.validate():
        return render_template("frontdoor/export.html", form=form), (400 if request.args else 200)
    # UK days and times, as staff read and type them everywhere else (stored as UTC).
    start = workdays.uk_day_start(form.date_from.data)
    end = workdays.uk_day_start(form.date_to.data + dt.timedelta(days=1))
    rows = db.session.execute(
        select(Decision, Referral, Assessment, User.email)
        .join(Referral, Decision.referral_id == Referral.id)
        .join(Assessment, Referral.assessment_id == Assessment.id)
        .join(User, Decision.decided_by == User.id)
        .where(Decision.decided_at >= start, Decision.decided_at < end)
        .order_by(Decision.decided_at, Decision.id))
    header = ("reference", "kind", "received_at", "source_code", "age_band", "recommended_route",
              "recommended_level", "urgency", "overridden", "consent", "threshold_id", "decision_sequence",
              "outcome", "decided_at", "within_one_working_day", "decided_by", "referral_advised", "note")
    body = []
    for decision, referral, assessment, email in rows:
        body.append((referral.reference, referral.kind, f"{workdays.uk_local(referral.created_at):%Y-%m-%d %H:%M}",
                     assessment.source_code, assessment.age_band, assessment.recommended_route,
                     assessment.recommended_level, fq.urgency_of(assessment), assessment.overridden,
                     assessment.consent, assessment.threshold_id, decision.sequence, decision.outcome,
                     f"{workdays.uk_local(decision.decided_at):%Y-%m-%d %H:%M}",
                     workdays.within_one_working_day(referral.created_at, decision.decided_at), email,
                     "" if decision.referral_advised is None else decision.referral_advised, decision.note))
    store.record_view("decisions_exported", actor=_user(), record_type="decisions",
                      date_from=form.date_from.data.isoformat(), date_to=form.date_to.data.isoformat(),
                      rows=len(body))
    return csv_download(header, body, "signpost-decisions", form.date_from.data, "to", form.date_to.data)


# ------------------------------------------------------------------------------ the team (administrators)

@bp.get("/team")
@role_required("admin")
def team():
    people = list(db.session.scalars(select(User).where(User.role == "front_door").order_by(User.name)))
    return render_template("frontdoor/team.html", people=people)


@bp.post("/team/<int:user_id>")
@role_required("admin")
def set_manager(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or person.role != "front_door":
        abort(404)
    manager = request.form.get("manager") == "yes"
    fd_store.set_manager(person, manager, actor=_user())
    flash(f"{person.name} is {'now' if manager else 'no longer'} a front door manager.", "success")
    return redirect(url_for("frontdoor.team"))
