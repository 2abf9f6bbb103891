"""The front door's writers: allocation, decisions, consultations, outside contacts, the outbox.

One function per user action, one transaction each, the audit event in the same transaction
(see signpost.store). Nothing about a child goes into an audit event's detail or an email.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (Assessment, Decision, Draft, ExternalContact, KeptDecision, OutboxMessage, Referral, User,
                      utcnow)
from ..values import OUTCOMES
from . import FollowUpTaken, StoreError, _audit, _file_item, one_item_per_draft, start_draft, transaction


class DecisionConflict(StoreError):
    """Someone else recorded a decision first; `winner` is theirs, and nothing of ours was written."""

    def __init__(self, winner: Decision | None):
        super().__init__("another decision was recorded first")
        self.winner = winner


# Allocation -----------------------------------------------------------------------------------

class AllocationChanged(StoreError):
    """Someone changed who has the item since the worker's page showed it; nothing was written."""

    def __init__(self, holder_id: int | None):
        super().__init__("the item's allocation changed")
        self.holder_id = holder_id


def allocate(referral: Referral, to: User | None, *, actor: User, seen=...) -> None:
    """Give an item to a front door worker (or take it back: to=None); the queue shows who has what.

    With `seen` (the holder's id the worker's page showed, None for nobody), nothing is written if
    someone else has changed it since: two workers taking one item are never both told it is theirs.
    """
    if to is not None and to.role != "front_door":
        raise StoreError("items can only be allocated to the front door team")
    before = referral.allocated_to_id if seen is ... else seen
    values = {"allocated_to_id": to.id if to is not None else None, "allocated_at": utcnow() if to is not None else None}
    with transaction() as session:
        held = [] if seen is ... else [Referral.allocated_to_id.is_(None) if seen is None
                                       else Referral.allocated_to_id == seen]
        # One conditional write, so a take at the same moment as another cannot both succeed.
        if session.execute(update(Referral).where(Referral.id == referral.id, *held).values(**values)).rowcount != 1:
            raise AllocationChanged(session.scalar(select(Referral.allocated_to_id).where(Referral.id == referral.id)))
        _audit("item_allocated" if to is not None else "item_unallocated", referral, actor=actor,
               reference=referral.reference, from_user_id=before, to_user_id=to.id if to else None)


def set_manager(user: User, manager: bool, *, actor: User) -> None:
    """An administrator marks a front door worker as a manager (allocates to others, reads the audit)."""
    if manager and user.role != "front_door":
        raise StoreError("only front door team members can be front door managers")
    with transaction():
        before = user.manager
        user.manager = manager
        _audit("user_changed", user, actor=actor, changes={"manager": [before, manager]})


# Decisions ------------------------------------------------------------------------------------

def latest_decision(referral_id: int) -> Decision | None:
    return db.session.scalar(select(Decision).where(Decision.referral_id == referral_id)
                             .order_by(Decision.sequence.desc()).limit(1))


def record_decision(referral: Referral, outcome: str, note: str, *, supersedes: int, actor: User,
                    decided_at: dt.datetime | None = None, referral_advised: bool | None = None,
                    link: str | None = None) -> Decision:
    """Record the front door's decision; a change is a new decision that supersedes the last.

    `supersedes` is the sequence of the decision the worker saw (0 for none). If another
    decision was recorded since, nothing is written and DecisionConflict carries the winner:
    the unique (referral_id, sequence) makes this hold even for two commits at the same moment.
    With `link`, an email telling the referrer (a link only, no child data) is queued in the same
    transaction, so the decision and its notice are committed together or not at all. The same
    worker sending the same decision again gets the one already recorded, and nothing is written.
    """
    if outcome not in OUTCOMES:
        raise StoreError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if (referral.kind == "consultation") != (outcome == "advice_given"):
        raise StoreError("a consultation is answered with advice; other items with a decision")
    if referral.kind == "consultation" and referral_advised is None:
        raise StoreError("say whether a referral should follow the advice")
    now = utcnow()
    asked_at, decided_at = decided_at, decided_at or now
    if decided_at > now + dt.timedelta(minutes=5):
        raise StoreError("a decision cannot be dated in the future")
    if decided_at < referral.created_at - dt.timedelta(minutes=5):
        raise StoreError("a decision cannot be dated before the item was received")

    def repeated(decision: Decision | None) -> bool:
        # The same worker's same decision sent again (a double-click, a resend after a slow response):
        # it was made the first time, so it is neither a conflict nor a second decision.
        return (decision is not None and decision.sequence == supersedes + 1 and decision.decided_by == actor.id
                and decision.outcome == outcome and decision.note == (note or "").strip()
                and decision.referral_advised == referral_advised
                and (asked_at is None or decision.decided_at == asked_at))

    current = latest_decision(referral.id)
    if repeated(current):
        return current
    if (current.sequence if current else 0) != supersedes:
        raise DecisionConflict(current)
    try:
        with transaction() as session:
            decision = Decision(referral_id=referral.id, sequence=supersedes + 1, outcome=outcome,
                                decided_on=decided_at.date(), decided_at=decided_at, decided_by=actor.id,
                                note=(note or "").strip(), referral_advised=referral_advised, created_at=now)
            session.add(decision)
            session.flush()  # models' listener copies the outcome onto the referral, for the queue
            # A form of theirs kept across an idle sign-out is done with: this is what they decided.
            session.execute(delete(KeptDecision).where(KeptDecision.referral_id == referral.id,
                                                       KeptDecision.user_id == actor.id))
            # Filed under the referral, so the audit trail of one item shows its decisions too.
            _audit("decision_recorded" if supersedes == 0 else "decision_superseded", actor=actor,
                   record_type="referrals", record_id=referral.id, decision_id=decision.id,
                   reference=referral.reference, outcome=outcome, sequence=decision.sequence,
                   **({} if referral_advised is None else {"referral_advised": referral_advised}))
            if link is not None:
                _queue_decision_email(referral, link)
    except IntegrityError:
        db.session.rollback()
        current = latest_decision(referral.id)
        if repeated(current):
            return current
        raise DecisionConflict(current) from None
    return decision


def _queue_decision_email(referral: Referral, link: str) -> None:
    """Add (not commit) the referrer's notice: the item's reference and a link, nothing about the child."""
    referrer = db.session.get(User, referral.user_id)
    if referrer is None or not referrer.active:
        return
    # Each kind in its own words: a request for advice is answered with advice, not decided, and a
    # request for early help went to the Family Help Hub, so its decision is not called the front door's.
    what, news, see = {
        "consultation": ("advice", "The front door has answered your request for advice", "their advice and note"),
        "early_help_request": ("a decision", "A decision has been recorded on your request for early help",
                               "the decision and its note"),
    }.get(referral.kind, ("a decision", "The front door has recorded a decision on your referral",
                          "the decision and the front door's note"))
    body = (f"{news}, reference {referral.reference}.\n\n"
            f"Sign in to Signpost to see {see}:\n{link}\n\n"
            "This email does not contain any details about the child. Do not reply to it.")
    db.session.add(OutboxMessage(to_address=referrer.email, subject=f"Signpost: {what} on {referral.reference}",
                                 body=body, kind="decision_made", record_id=referral.id,
                                 created_at=utcnow(), next_attempt_at=utcnow()))


# Consultations ---------------------------------------------------------------------------------

class RevisionNotCurrent(StoreError):
    """The revision asked about is not the draft's latest recommendation; nothing was written."""


def request_consultation(draft, revision: Assessment, *, question: str, phone: str, answers: dict,
                         reference_prefix: str, actor: User) -> tuple[Referral, bool]:
    """A referrer asks the front door for advice instead of referring: a queue item of kind consultation,
    about `revision`, the recommendation they were shown (which must be the draft's latest).

    One per draft (the unique draft_id), so a double-click returns the first.
    """
    def make() -> Referral:
        latest = db.session.scalar(select(Assessment.id).where(Assessment.draft_id == draft.id)
                                   .order_by(Assessment.revision.desc()).limit(1))
        if revision.draft_id != draft.id or revision.id != latest:
            raise RevisionNotCurrent("the recommendation asked about is not the draft's latest")
        if revision.immediate or revision.urgency == "emergency":
            raise StoreError("a child in immediate danger is referred after phoning, never a request for advice")
        if not question.strip() or not phone.strip():
            raise StoreError("a question and a phone number are needed")
        consent = answers.get("consent") or {}
        with transaction():
            item = _file_item(draft, Referral(kind="consultation", assessment_id=revision.id,
                                              details={"question": question.strip(), "referrer_phone": phone.strip(),
                                                       "answers": answers},
                                              consent=consent.get("consent"), family_aware=consent.get("aware")),
                              reference_prefix)
            _audit("consultation_requested", item, actor=actor, reference=item.reference,
                   assessment_id=revision.id, revision=revision.revision)
        return item
    return one_item_per_draft(draft, make)


class AdviceFollowed(StoreError):
    """A referral was already sent from this request for advice (`made`); no second draft was started."""

    def __init__(self, made: Referral):
        super().__init__("a referral was already sent from this advice")
        self.made = made


def start_referral_after_advice(consultation: Referral, version, answers: dict, *, actor: User,
                                dropped: list[str] | None = None) -> Draft:
    """The referrer starts a referral from the front door's advice: a new draft with the answers they
    asked about, the request's follow-up draft. While that draft is unfinished, it is returned again;
    once a referral is sent from it, AdviceFollowed names it (a second tab's button must not make another).
    A request for early help sent from it does not: the referral advised can still be made."""
    if consultation.kind != "consultation":
        raise StoreError("only a request for advice is followed up this way")
    if consultation.user_id != actor.id:
        raise StoreError("only the referrer who asked can follow the advice up")
    # Only a referral: a request for early help sent from the advice must not stop the referral it advised.
    made = db.session.scalar(select(Referral).where(Referral.consultation_id == consultation.id,
                                                    Referral.kind == "referral")
                             .order_by(Referral.created_at).limit(1))
    if made is not None:
        raise AdviceFollowed(made)
    earlier = follow_up_draft(consultation)
    if earlier is not None and earlier.submitted_at is None:
        return earlier
    try:
        return start_draft(actor, version, answers, follows=consultation, dropped=dropped)
    except FollowUpTaken:  # a double-click: the other request's draft is the one to carry on with
        db.session.refresh(consultation)
        winner = follow_up_draft(consultation)
        if winner is None or winner.submitted_at is not None:
            raise
        return winner


def follow_up_draft(consultation: Referral) -> Draft | None:
    """The draft last started from this request for advice, if it still exists."""
    key = consultation.follow_up_draft_id
    return db.session.get(Draft, key) if key else None


# Contacts that did not come through Signpost -------------------------------------------------------

def record_external_contact(fields: dict, *, actor: User) -> ExternalContact:
    """One contact recorded by hand (phone, email, another council's form)."""
    try:
        with transaction() as session:
            contact = ExternalContact(**fields, recorded_by=actor.id, recorded_at=utcnow())
            session.add(contact)
            session.flush()
            _audit("external_contact_recorded", contact, actor=actor, channel=contact.channel,
                   outcome=contact.outcome)
    except IntegrityError:
        raise StoreError("a contact with this reference is already recorded") from None
    return contact


class ContactImportError(StoreError):
    """Rows that clash with contacts already recorded; nothing was imported."""

    def __init__(self, problems: list):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def import_external_contacts(rows: Iterable[dict], *, batch: str, file_name: str, actor: User) -> tuple[int, int]:
    """All the rows of one checked CSV file, or none: returns (added, already there).

    A row whose reference is already recorded with the same details is skipped, so the same
    file imported twice adds nothing; one recorded with other details stops the whole import.
    """
    from ..contacts_csv import RowProblem, same_contact

    rows = list(rows)
    stored = {c.reference: c for c in db.session.scalars(
        select(ExternalContact).where(ExternalContact.reference.in_([r["reference"] for r in rows])))} if rows else {}
    clashes = [RowProblem(r["_line"], "reference", f"{r['reference']} is already recorded with other details")
               for r in rows if r["reference"] in stored and not same_contact(stored[r["reference"]], r)]
    if clashes:
        raise ContactImportError(clashes)
    added = 0
    with transaction() as session:
        now = utcnow()
        for row in rows:
            if row["reference"] in stored:
                continue
            fields = {k: v for k, v in row.items() if not k.startswith("_")}
            session.add(ExternalContact(**fields, import_batch=batch, recorded_by=actor.id, recorded_at=now))
            added += 1
        _audit("external_contacts_imported", actor=actor, record_type="external_contacts", record_id=batch,
               file_name=file_name[:200], added=added, already_there=len(rows) - added)
    return added, len(rows) - added


# The outbox ---------------------------------------------------------------------------------------

def claim_email(message_id: int, seen_next_attempt: dt.datetime, lease: dt.timedelta) -> bool:
    """Take one due message for sending; False if another sender took it first."""
    with transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None),
                   OutboxMessage.next_attempt_at == seen_next_attempt)
            .values(next_attempt_at=utcnow() + lease, attempts=OutboxMessage.attempts + 1))
    return result.rowcount == 1


def email_sent(message: OutboxMessage) -> None:
    with transaction():
        message.sent_at = utcnow()
        message.last_error = None
        _audit("email_sent", message, actor="mail", kind=message.kind, about_record=message.record_id,
               attempts=message.attempts)


def email_failed(message: OutboxMessage, error: str, retry_in: dt.timedelta | None) -> None:
    """A failed send: tried again after `retry_in`, or given up (None) after too many attempts."""
    with transaction():
        message.last_error = error[:500]
        if retry_in is None:
            message.gave_up_at = utcnow()
            _audit("email_gave_up", message, actor="mail", kind=message.kind, attempts=message.attempts,
                   error=error[:200])
        else:
            message.next_attempt_at = utcnow() + retry_in


# The demo (`flask demo seed`) ---------------------------------------------------------------------

def seed_demo_item(user: User, rec, *, kind: str, at: dt.datetime, assessment_fields: dict, details: dict,
                   reference_prefix: str, allocated_to: User | None = None,
                   decision: tuple[str, str, User] | None = None) -> Referral:
    """Demo only: one queue item (assessment and item, allocation, perhaps a decision), dated in the past."""
    with transaction() as session:
        assessment = Assessment(
            user_id=user.id, started_at=at - dt.timedelta(minutes=11), completed_at=at, immediate=rec.immediate,
            recommended_route=rec.route, recommended_level=rec.level, reason_ids=rec.reason_ids,
            urgency=rec.urgency, route_taken="social_care" if kind == "referral" else rec.route,
            overridden=kind == "referral" and rec.route != "social_care",
            override_reason=("Demo: the referrer knows the family has refused help before"
                             if kind == "referral" and rec.route != "social_care" else None),
            threshold_id=rec.version_id, threshold_hash=rec.version_hash, **assessment_fields)
        session.add(assessment)
        session.flush()
        item = Referral(reference=f"demo-{assessment.id}", kind=kind, assessment_id=assessment.id, user_id=user.id,
                        created_at=at, details=details, consent=assessment.consent,
                        family_aware=(details.get("answers", {}).get("consent") or {}).get("aware"),
                        allocated_to_id=allocated_to.id if allocated_to else None,
                        allocated_at=at + dt.timedelta(minutes=20) if allocated_to else None)
        session.add(item)
        session.flush()
        item.reference = f"{reference_prefix}-{at.year}-{item.id:05d}"
        if decision is not None:
            outcome, note, decider = decision
            decided = at + dt.timedelta(hours=5)
            session.add(Decision(referral_id=item.id, sequence=1, outcome=outcome, decided_on=decided.date(),
                                 decided_at=decided, decided_by=decider.id, note=note, created_at=decided))
        _audit("demo_item_seeded", item, actor="demo seed", reference=item.reference, kind=kind)
    return item
