"""Demo history only: many past items written at once, for the reports (`flask demo history`).

One transaction and one audit event for the whole batch; bulk inserts so 24 months seed in seconds.
"""
from __future__ import annotations

from sqlalchemy import insert, select, update

from ..extensions import db
from ..models import Assessment, AuditEvent, Decision, ExternalContact, Referral, urgency_priority, utcnow
from . import _audit, facts, transaction

SEEDED = "demo_history_seeded"


def has_demo_history() -> bool:
    """Whether `flask demo history` has run on this database (its audit event says so)."""
    return db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == SEEDED).limit(1)) is not None


def record_demo_history(contacts: list[dict], journeys: list[dict], *, months: int, recorded_by: int
                        ) -> dict[str, int]:
    """Insert fictional history: front-door contacts, and Signpost journeys with referrals and decisions.

    Each journey is {"assessment": {...}, "referral": {...} or None, "decisions": [{...}, ...]};
    referral and decision rows get their foreign keys here (a referral's "follows": the reference of
    the consultation, earlier in the batch, whose advice it was made from). Bulk inserts fire no model events, so
    rows carry what the listeners would set (a referral's child_key and latest outcome; its
    urgency_priority is set here from the assessment), and the reports' facts are filled in for the
    new rows by the same code the listeners use (store.facts.fill).
    """
    counts = {"contacts": len(contacts), "assessments": 0, "referrals": 0, "decisions": 0}
    with transaction() as session:
        contact_ids, referral_ids = [], []
        if contacts:
            now = utcnow()
            contact_ids = session.scalars(
                insert(ExternalContact).returning(ExternalContact.id, sort_by_parameter_order=True),
                [{"recorded_by": recorded_by, "recorded_at": now, **c} for c in contacts]).all()
        if journeys:
            ids = session.scalars(insert(Assessment).returning(Assessment.id, sort_by_parameter_order=True),
                                  [j["assessment"] for j in journeys]).all()
            referred = [(assessment_id, j) for assessment_id, j in zip(ids, journeys, strict=True) if j["referral"]]
            counts["assessments"] = len(ids)
            if referred:
                referral_ids = session.scalars(
                    insert(Referral).returning(Referral.id, sort_by_parameter_order=True),
                    [{"urgency_priority": urgency_priority(j["assessment"].get("urgency") or "standard"),
                      **{k: v for k, v in j["referral"].items() if k != "follows"}, "assessment_id": assessment_id}
                     for assessment_id, j in referred]).all()
                # A referral made from a consultation's advice records it, as store._file_item does.
                by_reference = {j["referral"]["reference"]: rid for rid, (_a, j) in zip(referral_ids, referred)}
                links = [{"id": rid, "consultation_id": by_reference[j["referral"]["follows"]]}
                         for rid, (_a, j) in zip(referral_ids, referred) if j["referral"].get("follows")]
                if links:
                    session.execute(update(Referral), links)
                decisions = [{**d, "referral_id": referral_id}
                             for referral_id, (_a, j) in zip(referral_ids, referred, strict=True)
                             for d in j["decisions"]]
                if decisions:
                    session.execute(insert(Decision), decisions)
                counts["referrals"], counts["decisions"] = len(referral_ids), len(decisions)
        facts.fill(session.connection(), referral_ids=referral_ids, contact_ids=contact_ids)
        _audit(SEEDED, actor="demo seed", record_type="demo", months=months, **counts)
    return counts
