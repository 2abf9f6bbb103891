"""The record: users, drafts, assessments, referrals, decisions and audit events.

SQLAlchemy 2.x typed models. Only signpost.store writes them. Times are naive UTC.
Decisions and audit events are append-only: updating or deleting one raises.
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (DDL, JSON, Boolean, CheckConstraint, Computed, Date, DateTime, ForeignKey, Index, Integer,
                        SmallInteger, String, Text, UniqueConstraint, event, false as sa_false, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

from .values import (CONSENT_VALUES as CONSENT, CONTACT_CHANNELS, ITEM_KINDS, OUTCOME_NAMES,  # noqa: F401
                     OUTCOMES, ROLE_NAMES, ROLES, ROUTES, URGENCIES, URGENCY_ORDER, kind_routes_sql)


def utcnow() -> dt.datetime:
    """Naive UTC, the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_draft_id() -> str:
    return secrets.token_urlsafe(24)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-case
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on sign-out, disabling and password change: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A front door manager allocates items to others and reads the audit trail (set by an admin).
    manager: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # The password was set by someone else (an administrator, an operator at the command line): until
    # its owner chooses their own, the only pages open to them are changing it and signing out.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # When the password was last set (None: before migration 0015, for a password its owner chose). A
    # temporary one stops working TEMPORARY_PASSWORD_DAYS after this (temporary_password_expired).
    password_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    def temporary_password_expired(self, days: int, now: dt.datetime | None = None) -> bool:
        """A password someone else set, older than `days`: sign-in refuses it. One with no date is taken
        as expired (migration 0015 dates every temporary one there was), so none lasts for ever."""
        if not self.must_change_password:
            return False
        return self.password_set_at is None or (now or utcnow()) - self.password_set_at > dt.timedelta(days=days)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return bool(self.active)

    def get_id(self) -> str:  # Flask-Login: the value kept in the session cookie
        return f"{self.id}:{self.session_version}"

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class Draft(db.Model):
    """A referral journey in progress: answers kept server-side, keyed by a random id."""

    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_draft_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    threshold_id: Mapped[str] = mapped_column(String(64))
    threshold_hash: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Bumped by every save of the answers: a save made from an older read is applied again to
    # the newer answers, never over them (store.drafts.save_page).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Forms posted just as the session went idle, by page: shown again once after sign-in.
    # Beside the answers, not in them: they were never checked.
    kept_forms: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User] = relationship()
    # Every recommendation recorded for this draft, oldest first: a changed answer adds a
    # revision, never edits one (the link is stored on the assessment).
    revisions: Mapped[list[Assessment]] = relationship(back_populates="draft", order_by="Assessment.revision")

    @property
    def assessment(self) -> Assessment | None:
        """The latest revision: the recommendation the referrer acts on."""
        return self.revisions[-1] if self.revisions else None

    @property
    def assessment_id(self) -> int | None:
        return self.assessment.id if self.assessment is not None else None


class Assessment(db.Model):
    """A completed recommendation, anonymous unless it becomes a referral."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(_in("recommended_route", ROUTES), name="recommended_route"),
        CheckConstraint(f"route_taken IS NULL OR {_in('route_taken', ROUTES)}", name="route_taken"),
        CheckConstraint(f"urgency IS NULL OR {_in('urgency', URGENCIES)}", name="urgency"),
        # One row per revision of a draft: two clicks recording the same revision make one row.
        UniqueConstraint("draft_id", "revision", name="uq_assessments_draft_revision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), index=True)
    # Append-only revisions: 1, 2, ... per draft, each linked to the one it replaces.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    # What the engine read (signpost.journey.answers_key): a revision is for the current
    # answers only while the draft's key matches.
    answers_key: Mapped[str | None] = mapped_column(String(64))
    # What the pages show, exactly as recorded: level name, reasons, next steps, services
    # shown (with the directory's content hash), the LADO steps.
    shown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    directory_hash: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    completed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    source_code: Mapped[str | None] = mapped_column(String(8))  # census referral source, e.g. "2A"
    referrer_role: Mapped[str | None] = mapped_column(String(64))
    age_band: Mapped[str | None] = mapped_column(String(20))
    # Whole months (not identifying on its own): lets a policy lead's simulation use the real age.
    age_months: Mapped[int | None] = mapped_column(Integer)
    unborn: Mapped[bool] = mapped_column(Boolean, default=False)
    indicator_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent: Mapped[str | None] = mapped_column(String(20))
    in_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    recommended_route: Mapped[str] = mapped_column(String(20))
    recommended_level: Mapped[int | None] = mapped_column(Integer)
    reason_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Null only for assessments made before urgency was recorded (it was then `immediate`).
    urgency: Mapped[str | None] = mapped_column(String(20))
    lado: Mapped[bool] = mapped_column(Boolean, default=False)  # a concern about an adult who works with children
    route_taken: Mapped[str | None] = mapped_column(String(20))
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    threshold_id: Mapped[str] = mapped_column(String(64), index=True)
    threshold_hash: Mapped[str] = mapped_column(String(64))

    draft: Mapped[Draft | None] = relationship(back_populates="revisions")
    user: Mapped[User] = relationship()
    referral: Mapped[Referral | None] = relationship(back_populates="assessment", uselist=False)


class Referral(db.Model):
    """An item sent to the front door (a referral, an early-help request or a consultation); one per draft.

    latest_outcome and latest_decided_at copy the newest decision (null: awaiting a decision), kept by
    a listener on Decision, so the queue filters on one indexed column; child_key (name and date of
    birth, normalised and hashed) finds the same child's earlier referrals.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),
        CheckConstraint(f"latest_outcome IS NULL OR {_in('latest_outcome', OUTCOMES)}", name="latest_outcome"),
        # The queue: awaiting (latest_outcome null), most urgent first, then oldest, read straight off one index.
        Index("ix_referrals_queue", "latest_outcome", "urgency_priority", "created_at", "id"),
        Index("ix_referrals_child", "child_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. "NM-2026-00042"
    kind: Mapped[str] = mapped_column(String(30), default="referral", server_default="referral")
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), unique=True)
    # Unique: a double-click or a refresh can never make a second referral from one draft.
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    family_aware: Mapped[str | None] = mapped_column(String(20))
    consent: Mapped[str | None] = mapped_column(String(20))
    consent_reason: Mapped[str | None] = mapped_column(Text)
    allocated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    allocated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    latest_outcome: Mapped[str | None] = mapped_column(String(20))
    latest_decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    child_key: Mapped[str | None] = mapped_column(String(64))
    # The assessment's urgency when sent, as the queue sorts it: 0 emergency, 1 same day, 2 standard.
    urgency_priority: Mapped[int] = mapped_column(Integer)
    # Set when the identifying details and free text were erased (retention or an erasure request).
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A request for advice (kind consultation): the draft its referrer started from the advice
    # ("Start a referral", store.start_draft). Whatever is sent from that draft records this item
    # in consultation_id, when it is made: a consultation is followed by a referral made from its
    # advice, never by another referral from the same professional.
    follow_up_draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"),
                                                           unique=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"),
                                                        index=True)

    # The reports' facts (signpost.store.facts writes them with the row and with each decision, in the
    # same transaction): the recommendation it was sent from, copied from its assessment, and what the
    # measures need, so the reports add up one table's columns and work nothing out when read.
    source_code: Mapped[str | None] = mapped_column(String(8))
    age_band: Mapped[str | None] = mapped_column(String(20))
    urgency: Mapped[str | None] = mapped_column(String(20))
    recommended_route: Mapped[str | None] = mapped_column(String(20))
    route_taken: Mapped[str | None] = mapped_column(String(20))
    overridden: Mapped[bool | None] = mapped_column(Boolean)
    threshold_id: Mapped[str | None] = mapped_column(String(64))
    reasons_key: Mapped[str | None] = mapped_column(Text)  # the assessment's reason_ids, as JSON text
    month: Mapped[str | None] = mapped_column(String(7))  # "YYYY-MM" of created_at: the month it counts in
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # one working day after created_at
    first_decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the decision with sequence 1
    # A referral whose child had another referral in the 12 months before it (the census's re-referral).
    re_referral: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # A consultation followed within 30 days by a referral for the same child (or made from its advice).
    followed_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # Kind, recommended route and route taken as one small number (values.kind_routes), worked out by the
    # database whenever they change: the reports group by one number instead of three strings.
    kind_routes: Mapped[int] = mapped_column(SmallInteger, Computed(kind_routes_sql(), persisted=True))

    assessment: Mapped[Assessment] = relationship(back_populates="referral")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    allocated_to: Mapped[User | None] = relationship(foreign_keys=[allocated_to_id])
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="referral", order_by="Decision.sequence, Decision.id")

    @property
    def latest_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


class Decision(db.Model):
    """What the front door decided. Append-only: a new decision never overwrites an old one."""

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        # Optimistic locking: decision n+1 names the n it supersedes; two at once cannot both be n+1.
        UniqueConstraint("referral_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sequence: Mapped[int] = mapped_column(Integer, default=1)  # 1 for the first decision, then 2, 3...
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # when decided (naive UTC)
    # Consultations only: whether the front door advised the referrer to refer.
    referral_advised: Mapped[bool | None] = mapped_column(Boolean)

    referral: Mapped[Referral] = relationship(back_populates="decisions")
    decider: Mapped[User] = relationship()

    @property
    def outcome_name(self) -> str:
        return OUTCOME_NAMES.get(self.outcome, self.outcome)


class KeptDecision(db.Model):
    """A front door decision form posted after its worker's session went idle: what they had typed,
    shown again once on the item's page when they sign in again. Never a decision: it was never sent.

    Only the form's own fields, size-capped (web.hygiene.keepable_form), for one worker and one item;
    deleted when shown, with the referral's free text on erasure, and after the drafts' retention period.
    """

    __tablename__ = "kept_decisions"
    __table_args__ = (Index("ix_kept_decisions_referral_user", "referral_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    form: Mapped[dict[str, Any]] = mapped_column(JSON)  # field name -> the values posted
    kept_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ExternalContact(db.Model):
    """A contact that reached the front door outside Signpost (phone, email, another council's form).

    No names: enough for the reports' baseline and comparisons. `reference` is the case management
    system's own id, unique, so importing the same CSV twice adds nothing.
    """

    __tablename__ = "external_contacts"
    __table_args__ = (
        CheckConstraint(_in("channel", CONTACT_CHANNELS), name="channel"),
        CheckConstraint(_in("urgency", URGENCIES), name="urgency"),
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    source_code: Mapped[str] = mapped_column(String(8))  # census referral source, e.g. "6" for police
    channel: Mapped[str] = mapped_column(String(30))
    age_band: Mapped[str] = mapped_column(String(20))
    urgency: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    import_batch: Mapped[str | None] = mapped_column(String(64), index=True)  # null: recorded by hand
    # The reports' facts (signpost.store.facts): the month it counts in and one working day after receipt.
    month: Mapped[str | None] = mapped_column(String(7))
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class OutboxMessage(db.Model):
    """An email waiting to be sent (or sent): written with the change it reports, sent after the commit."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int | None] = mapped_column(Integer)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    gave_up_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)


class AuditEvent(db.Model):
    """Who did what to which record, when, from where. Append-only."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_record", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254), index=True)  # email, "anonymous" or "cli"
    action: Mapped[str] = mapped_column(String(64), index=True)
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PublishedThreshold(db.Model):
    """A threshold version published from Signpost: the exact YAML text, never changed.

    Every host reads these (with a short cache) beside thresholds/*.yaml, so a version
    published on one host is in force on all of them from its effective date.
    """

    __tablename__ = "published_thresholds"
    # One version taking effect on any day, among those not withdrawn: a withdrawn version's day is free
    # again for its replacement.
    __table_args__ = (Index("uq_published_thresholds_effective_from_live", "effective_from", unique=True,
                            sqlite_where=text("withdrawn_at IS NULL"), postgresql_where=text("withdrawn_at IS NULL")),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    approved_by: Mapped[str] = mapped_column(String(200))
    summary_of_changes: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A version withdrawn before it took effect (a mistake found in time): its text stays, as published,
    # but no host uses it. Only a version not yet in force can be withdrawn, so no advice ever used one.
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)


class ThresholdDraft(db.Model):
    """A policy lead's draft of a new threshold version: YAML that referrers never see."""

    __tablename__ = "threshold_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    base_id: Mapped[str] = mapped_column(String(80))
    base_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_id: Mapped[str | None] = mapped_column(String(80))

    user: Mapped[User] = relationship()


class AppendOnlyError(RuntimeError):
    pass


def _refuse(kind: str):
    def listener(mapper, connection, target):
        raise AppendOnlyError(f"{kind} {target.id} is append-only: add a new row instead")
    return listener


for _model in (Decision, AuditEvent, PublishedThreshold):
    event.listen(_model, "before_update", _refuse(_model.__name__))
    event.listen(_model, "before_delete", _refuse(_model.__name__))


def urgency_priority(urgency: str) -> int:
    """0 for the most urgent (emergency), then same day, then standard: the queue's sort order."""
    return len(URGENCIES) - 1 - URGENCY_ORDER[urgency]


def child_key(details: dict | None) -> str | None:
    """Name and date of birth, normalised (case, spaces, accents, punctuation) and hashed: the key
    that matches a child's earlier referrals. None without a full name and date of birth."""
    import hashlib
    import unicodedata

    details = details or {}

    def norm(value) -> str:
        text = unicodedata.normalize("NFKD", str(value or "")).casefold()
        return "".join(ch for ch in text if ch.isalnum())

    first, last, dob = norm(details.get("first_name")), norm(details.get("last_name")), details.get("date_of_birth")
    if not (first and last and dob):
        return None
    return hashlib.sha256(f"child-v1|{last}|{first}|{dob}".encode()).hexdigest()


@event.listens_for(Referral, "before_insert")
def _referral_child_key(mapper, connection, target: Referral) -> None:
    # Whoever makes the row (the journey, a seeder), the re-referral key and the urgency the queue
    # sorts on are set the same way.
    target.child_key = child_key(target.details)
    if target.urgency_priority is None:
        table = Assessment.__table__
        row = connection.execute(table.select().with_only_columns(table.c.urgency, table.c.immediate)
                                 .where(table.c.id == target.assessment_id)).first()
        urgency = (row.urgency or ("emergency" if row.immediate else "standard")) if row else "standard"
        target.urgency_priority = urgency_priority(urgency)


@event.listens_for(Decision, "before_insert")
def _decision_time(mapper, connection, target: Decision) -> None:
    if target.decided_at is None:
        target.decided_at = target.created_at or utcnow()
    if target.sequence is None:
        target.sequence = 1


@event.listens_for(Decision, "after_insert")
def _referral_latest(mapper, connection, target: Decision) -> None:
    # The referral carries its newest decision, whoever wrote the decision.
    table = Referral.__table__
    connection.execute(table.update().where(table.c.id == target.referral_id).values(
        latest_outcome=target.outcome, latest_decided_at=target.decided_at))


# The reports' indexes (signpost.metrics): each carries every column its query reads, so the
# reports walk small indexes instead of the wide rows (a referral's details and free text).
REPORT_INDEXES = (
    # The overview's cells: the columns it groups by first, in its order, so SQLite reads the
    # groups off the index one after another (no sort); then what it counts.
    Index("ix_referrals_reports", Referral.kind_routes, Referral.source_code, Referral.threshold_id,
          Referral.latest_outcome, Referral.month, Referral.created_at, Referral.first_decided_at, Referral.due_at,
          Referral.re_referral, Referral.followed_up, Referral.age_band, Referral.urgency, Referral.recommended_route,
          Referral.overridden),
    Index("ix_external_contacts_reports", ExternalContact.outcome, ExternalContact.source_code, ExternalContact.month,
          ExternalContact.received_at, ExternalContact.decided_at, ExternalContact.due_at, ExternalContact.age_band,
          ExternalContact.urgency),
    # By deciding concern: referrals grouped by their list of reasons, read in that order (no sort)
    # on SQLite. PostgreSQL hashes the groups instead, and a long list of reasons could pass its
    # limit on the size of an index entry, so there the index is kept empty (WHERE false).
    Index("ix_referrals_concerns", Referral.kind, Referral.reasons_key, Referral.created_at, Referral.latest_outcome,
          Referral.source_code, Referral.age_band, Referral.urgency, Referral.threshold_id,
          Referral.recommended_route, Referral.overridden, postgresql_where=text("false")),
    # Items received in a period: what they are and how they ended.
    Index("ix_referrals_received", Referral.created_at, Referral.kind, Referral.latest_outcome, Referral.month),
    Index("ix_external_contacts_received", ExternalContact.received_at, ExternalContact.outcome,
          ExternalContact.month),
    # The same child's other referrals (re-referrals), and the referral after a consultation: what the
    # store reads when it writes those facts.
    Index("ix_referrals_child_kind", Referral.child_key, Referral.kind, Referral.created_at),
    Index("ix_referrals_user_kind", Referral.user_id, Referral.kind, Referral.created_at),
)

# PostgreSQL: how many groups the reports' GROUP BY makes, from statistics on those columns taken
# together. Without them it multiplies each column's number of values, expects about one group per
# row, and will not share the grouping out between parallel workers. (Made with the table here, and
# by migration 0009.)
REPORT_STATISTICS = {
    "st_referrals_reports": ("referrals", ("kind_routes", "source_code", "threshold_id", "latest_outcome", "month")),
    "st_external_contacts_reports": ("external_contacts", ("outcome", "source_code", "month")),
}


def report_statistics_sql(name: str) -> str:
    table, columns = REPORT_STATISTICS[name]
    return f"CREATE STATISTICS IF NOT EXISTS {name} (ndistinct) ON {', '.join(columns)} FROM {table}"


for _name, (_table, _columns) in REPORT_STATISTICS.items():
    event.listen(db.metadata.tables[_table], "after_create",
                 DDL(report_statistics_sql(_name)).execute_if(dialect="postgresql"))
