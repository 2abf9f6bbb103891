"""The record: users, drafts, assessments, referrals, decisions and audit events.

SQLAlchemy 2.x typed models. Only signpost.store writes them. Times are naive UTC.
Decisions and audit events are append-only: updating or deleting one raises.
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint, event)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

from .values import (CONSENT_VALUES as CONSENT, ITEM_KINDS, OUTCOME_NAMES, OUTCOMES, ROLE_NAMES,  # noqa: F401
                     ROLES, ROUTES, URGENCIES)


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
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
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
    """An assessment sent to the front door, with identifying details; one per draft."""

    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint(_in("kind", ITEM_KINDS), name="kind"),)

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

    assessment: Mapped[Assessment] = relationship(back_populates="referral")
    user: Mapped[User] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="referral", order_by="Decision.created_at, Decision.id")

    @property
    def latest_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None


class Decision(db.Model):
    """What the front door decided. Append-only: a new decision never overwrites an old one."""

    __tablename__ = "decisions"
    __table_args__ = (CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="decisions")
    decider: Mapped[User] = relationship()

    @property
    def outcome_name(self) -> str:
        return OUTCOME_NAMES.get(self.outcome, self.outcome)


class AuditEvent(db.Model):
    """Who did what to which record, when, from where. Append-only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254))  # email, "anonymous" or "cli"
    action: Mapped[str] = mapped_column(String(64), index=True)
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppendOnlyError(RuntimeError):
    pass


def _refuse(kind: str):
    def listener(mapper, connection, target):
        raise AppendOnlyError(f"{kind} {target.id} is append-only: add a new row instead")
    return listener


for _model in (Decision, AuditEvent):
    event.listen(_model, "before_update", _refuse(_model.__name__))
    event.listen(_model, "before_delete", _refuse(_model.__name__))
