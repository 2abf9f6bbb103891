"""Retention and erasure: what is deleted or made anonymous, and when (UK GDPR storage limitation).

Erasing a referral removes the child's identifying details and every free-text answer but
keeps the coded record (dates, route, level, source, outcome), so the reports' counts hold.
Decisions and audit events are append-only for users; only this module removes them, with
bulk statements that say so, each run audited.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, func, select, update

from ..models import Assessment, AuditEvent, Decision, Draft, KeptDecision, OutboxMessage, Referral, User, utcnow
from . import _audit, transaction

KINDS = ("drafts", "kept_decisions", "referrals", "decisions", "assessments", "audit_events", "emails")


@dataclasses.dataclass(frozen=True)
class Periods:
    """How long each kind of record is kept (README "Retention and erasure" gives the defaults)."""

    drafts: dt.timedelta
    kept_decisions: dt.timedelta  # decision forms kept across an idle sign-out: unsent work, as drafts are
    referrals: dt.timedelta
    decisions: dt.timedelta
    assessments: dt.timedelta
    audit_events: dt.timedelta
    emails: dt.timedelta  # decision emails in the outbox, sent or not: a referrer's address, as the audit trail keeps

    @classmethod
    def from_config(cls, config) -> "Periods":
        days = {"drafts": "DRAFT_RETENTION_DAYS", "kept_decisions": "DRAFT_RETENTION_DAYS",
                "referrals": "REFERRAL_RETENTION_DAYS",
                "decisions": "DECISION_RETENTION_DAYS", "assessments": "ASSESSMENT_RETENTION_DAYS",
                "audit_events": "AUDIT_RETENTION_DAYS", "emails": "AUDIT_RETENTION_DAYS"}
        return cls(**{kind: dt.timedelta(days=int(config[key])) for kind, key in days.items()})


def _erase_referrals(session, referral_ids: list[int], now: dt.datetime) -> None:
    """Names, address, contacts and every free-text answer go; the coded record stays."""
    if not referral_ids:
        return
    # child_key too: an unkeyed hash of the name and date of birth, which anyone could test a name
    # against, and which would link the child's next referral back to this one. The re-referral and
    # follow-up facts the reports count are already stored on the row.
    session.execute(update(Referral).where(Referral.id.in_(referral_ids))
                    .values(details={}, consent_reason=None, child_key=None, erased_at=now))
    assessment_ids = select(Referral.assessment_id).where(Referral.id.in_(referral_ids))
    session.execute(update(Assessment).where(Assessment.id.in_(assessment_ids)).values(override_reason=None))
    # Decisions are append-only for users; erasing the note about a child is the one exception.
    session.execute(update(Decision).where(Decision.referral_id.in_(referral_ids), Decision.note != "")
                    .values(note=""))
    # A decision form kept across an idle sign-out holds a note about the child that was never sent.
    session.execute(delete(KeptDecision).where(KeptDecision.referral_id.in_(referral_ids)))
    # The item's draft, and a request for advice's follow-up draft (the answers it asked about).
    for column in (Referral.draft_id, Referral.follow_up_draft_id):
        draft_ids = select(column).where(Referral.id.in_(referral_ids), column.is_not(None))
        session.execute(delete(Draft).where(Draft.id.in_(draft_ids)))


def due(periods: Periods, now: dt.datetime | None = None) -> dict[str, list]:
    """The ids each step would act on: deleted drafts, erased referrals and notes, deleted rows."""
    now = now or utcnow()
    s = select
    old_assessments = list(_scalars(s(Assessment.id).where(Assessment.completed_at < now - periods.assessments)))
    return {
        "drafts": list(_scalars(s(Draft.id).where(Draft.updated_at < now - periods.drafts))),
        "kept_decisions": list(_scalars(s(KeptDecision.id).where(
            KeptDecision.kept_at < now - periods.kept_decisions))),
        "referrals": list(_scalars(s(Referral.id).where(Referral.created_at < now - periods.referrals,
                                                        Referral.erased_at.is_(None)))),
        "decisions": list(_scalars(s(Decision.id).where(Decision.created_at < now - periods.decisions,
                                                        Decision.note != ""))),
        "assessments": old_assessments,
        "audit_events": list(_scalars(s(AuditEvent.id).where(AuditEvent.at < now - periods.audit_events))),
        "emails": list(_scalars(s(OutboxMessage.id).where(OutboxMessage.created_at < now - periods.emails))),
    }


def _scalars(statement):
    from ..extensions import db
    return db.session.scalars(statement)


def purge(periods: Periods, *, now: dt.datetime | None = None, dry_run: bool = False,
          actor: str = "cli") -> dict[str, int]:
    """Apply every retention period in one transaction; returns how many of each were acted on."""
    now = now or utcnow()
    ids = due(periods, now)
    counts = {kind: len(ids[kind]) for kind in KINDS}
    if dry_run:
        return counts
    with transaction() as session:
        session.execute(delete(Draft).where(Draft.id.in_(ids["drafts"])))
        session.execute(delete(KeptDecision).where(KeptDecision.id.in_(ids["kept_decisions"])))
        _erase_referrals(session, ids["referrals"], now)
        session.execute(update(Decision).where(Decision.id.in_(ids["decisions"])).values(note=""))
        if ids["assessments"]:
            # The anonymous record itself, at the end of its period, with what hangs from it.
            referrals = select(Referral.id).where(Referral.assessment_id.in_(ids["assessments"]))
            session.execute(delete(Decision).where(Decision.referral_id.in_(referrals)))
            session.execute(delete(KeptDecision).where(KeptDecision.referral_id.in_(referrals)))
            session.execute(delete(Referral).where(Referral.assessment_id.in_(ids["assessments"])))
            # Each revision goes at the end of its own period, so a later revision of the same draft
            # may outlive the one it replaced: it stops naming it (the one change made to a kept
            # assessment) rather than keep the earlier one past its period, or fail the whole run.
            session.execute(update(Assessment).where(Assessment.replaces_id.in_(ids["assessments"]))
                            .values(replaces_id=None))
            session.execute(delete(Assessment).where(Assessment.id.in_(ids["assessments"])))
        session.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids["audit_events"])))
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids["emails"])))
        _audit("retention_purged", actor=actor, record_type="retention", **counts,
               periods_days={kind: getattr(periods, kind).days for kind in KINDS})
    return counts


def _same_child(first: Referral) -> list[Referral]:
    """This item and the child's others: the referrals with the same name and date of birth, those
    made from this request for advice, and the requests for advice they followed (a request for
    advice names no child: only consultation_id links it to the child)."""
    def key(referral: Referral):
        d = referral.details or {}
        return ((d.get("first_name") or "").strip().casefold(), (d.get("last_name") or "").strip().casefold(),
                d.get("date_of_birth"))
    found = {first.id: first}
    found.update((r.id, r) for r in _scalars(select(Referral).where(Referral.consultation_id == first.id)))
    wanted = {key(r) for r in found.values() if all(key(r))}
    if wanted:
        found.update((r.id, r) for r in _scalars(select(Referral).where(Referral.erased_at.is_(None))
                                                 .execution_options(yield_per=500)) if key(r) in wanted)
    followed = {r.consultation_id for r in found.values() if r.consultation_id} - found.keys()
    if followed:
        found.update((r.id, r) for r in _scalars(select(Referral).where(Referral.id.in_(followed))))
    return list(found.values())


def erase_child(reference: str, *, same_child: bool, reason: str, actor: User) -> list[str]:
    """Erase one child's referral (and, with same_child, their other referrals): the references erased.

    `actor` is the person who ran it, recorded in the audit event with the reason."""
    from ..extensions import db
    referral = db.session.scalar(select(Referral).where(Referral.reference == reference))
    if referral is None:
        raise LookupError(f"no referral {reference}")
    targets = _same_child(referral) if same_child else [referral]
    targets = [r for r in targets if r.erased_at is None]
    references = sorted(r.reference for r in targets)
    with transaction() as session:
        _erase_referrals(session, [r.id for r in targets], utcnow())
        _audit("referrals_erased", actor=actor, record_type="referrals", record_id=reference,
               references=references, reason=reason)
    db.session.expire_all()
    return references


def counts_by_outcome() -> dict[str, int]:
    """Referrals by latest-decision outcome (None: no decision): what erasure must leave unchanged."""
    latest = select(Decision.referral_id, func.max(Decision.id).label("id")).group_by(Decision.referral_id).subquery()
    rows = _scalars(select(Decision.outcome).join(latest, latest.c.id == Decision.id))
    out: dict[str, int] = {}
    for outcome in rows:
        out[outcome] = out.get(outcome, 0) + 1
    out["referrals"] = _scalars(select(func.count()).select_from(Referral)).one()
    return out
