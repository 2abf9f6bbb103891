"""The only package that writes to the database: one function per user action.

Each function is one transaction and writes its audit event in that same transaction,
so an action without its audit row (or the reverse) can never be committed.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context
from flask_login import current_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import passwords, values
from ..hygiene import escape
from ..extensions import client_address, db
from ..models import ROLES, Assessment, AuditEvent, Decision, Draft, KeptDecision, Referral, User, utcnow


class StoreError(ValueError):
    """An action that breaks a rule (for example a duplicate email); nothing was written."""


@contextlib.contextmanager
def transaction() -> Iterator[Any]:
    """Commit everything done inside, or roll all of it back (audit row included)."""
    session = db.session
    try:
        yield session
        _refuse_unsafe_request(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise


class UnsafeInput(StoreError):
    """A request carrying refused characters tried to store something; nothing was written."""


def _refuse_unsafe_request(session) -> None:
    """Backstop to the edge screen: from a request with refused characters only audit rows are kept."""
    if not has_request_context():
        return
    from ..web.hygiene import request_is_unsafe
    if request_is_unsafe() and any(not isinstance(obj, AuditEvent)
                                   for obj in (*session.new, *session.dirty, *session.deleted)):
        raise UnsafeInput("the request contains characters that are not allowed; nothing was saved")


SECRET_KEYS = ("password", "secret", "token", "csrf")
DETAIL_TEXT_LIMIT = 500


def _clean_detail(value: Any, key: str = "") -> Any:
    """Audit detail as stored: no secrets, no control characters, no unbounded text."""
    if any(word in key.lower() for word in SECRET_KEYS):
        return "[removed]"
    if isinstance(value, str):
        return escape(value)[:DETAIL_TEXT_LIMIT]
    if isinstance(value, dict):
        return {escape(str(k))[:80]: _clean_detail(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_detail(v, key) for v in value]
    return value


def _actor(actor: User | str | None) -> tuple[int | None, str]:
    if isinstance(actor, User):
        return actor.id, actor.email
    if isinstance(actor, str):
        return None, actor
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.email
    return None, "anonymous"


def _audit(action: str, record: Any = None, *, actor: User | str | None = None,
           record_type: str | None = None, record_id: Any = None, **detail: Any) -> AuditEvent:
    """Add (not commit) an audit event; call inside transaction() with the change it records."""
    user_id, actor_name = _actor(actor)
    if record is not None:
        record_type = record_type or record.__tablename__
        record_id = record_id if record_id is not None else getattr(record, "id", None)
    event = AuditEvent(
        at=utcnow(), user_id=user_id, actor=actor_name[:254], action=action,
        record_type=record_type, record_id=None if record_id is None else str(record_id),
        ip=client_address()[:45] if has_request_context() else None,
        detail=_clean_detail(detail),
    )
    db.session.add(event)
    return event


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# Accounts ------------------------------------------------------------------------------

def create_user(email: str, name: str, role: str, password: str, organisation: str = "", *,
                actor: User | str | None = None, must_change_password: bool = False) -> User:
    """A new active account. must_change_password: the password was chosen by someone other than its
    owner (an administrator, an operator for someone else), so the owner must replace it first."""
    email = normalise_email(email)
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    try:  # as the admin form's check: `flask users add` (or any other caller) must not add 'notanemail'
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise StoreError("enter an email address in the correct format, like name@example.org") from None
    taken = StoreError(f"there is already an account for {email}")
    if find_user(email) is not None:
        raise taken
    from sqlalchemy.exc import IntegrityError
    try:
        with transaction() as session:
            user = User(email=email, name=name.strip(), role=role, organisation=(organisation or "").strip(),
                        password_hash=passwords.hash_password(password), active=True, session_version=1,
                        created_at=utcnow(), must_change_password=must_change_password, password_set_at=utcnow())
            session.add(user)
            session.flush()
            _audit("user_created", user, actor=actor, email=email, role=role,
                   **({"temporary": True} if must_change_password else {}))
    except IntegrityError:  # added a moment ago by someone else (two administrators, a double submit)
        if find_user(email) is None:
            raise
        raise taken from None
    return user


class ReenableNeedsPassword(StoreError):
    """Making a disabled account active again without a new temporary password; nothing was written."""


class LastAdministrator(StoreError):
    """The change would leave no active administrator, or its maker is no longer one; nothing was written."""


def active_administrator_ids(*, lock: bool = False) -> list[int]:
    """The ids of the active administrators (lock: inside update_user's transaction)."""
    statement = select(User.id).where(User.role == "admin", User.active.is_(True)).order_by(User.id)
    # PostgreSQL: every other change to an administrator's role or status waits here until this one
    # commits, then sees it. SQLite has no row locks: there, the check after the write (below) runs
    # while this transaction holds the database's one write lock, which does the same.
    return list(db.session.scalars(statement.with_for_update() if lock else statement))


def update_user(user: User, *, actor: User | str | None = None, **changes: Any) -> dict[str, list]:
    """Change name, organisation, role or active; returns {field: [old, new]} of what changed.

    A change of role or status never leaves the service without an active administrator, even when
    two administrators demote or disable each other at the same moment (LastAdministrator); and one
    made by a user who has just stopped being an administrator is refused the same way. A disabled
    account is made active again only with a new password (enable_user): ReenableNeedsPassword.
    """
    allowed = {"name", "organisation", "role", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise StoreError(f"cannot change {', '.join(sorted(unknown))}")
    if "role" in changes and changes["role"] not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    guarded = "role" in changes or "active" in changes
    with transaction() as session:
        if guarded:
            active_administrator_ids(lock=True)
            session.refresh(user)  # as it is now, not as the page that asked for the change saw it
        was_administrator = _is_administrator(user)
        changed = {k: [getattr(user, k), v] for k, v in changes.items() if getattr(user, k) != v}
        if user.manager and changes.get("role", "front_door") != "front_door":
            # Only the front door team can be managers, and the team page (the one place to clear it) lists
            # only them: leaving the team ends it, so coming back later does not quietly restore it.
            changed["manager"] = [True, False]
        if not changed:
            return {}
        if changed.get("active") == [False, True]:
            # It may have been disabled because it was compromised: whoever knew the old password must not
            # be let back in with it (the page that asked may have seen it active, before another's change).
            raise ReenableNeedsPassword("this account has been disabled; re-enable it with a new temporary password")
        for key, (_old, new) in changed.items():
            setattr(user, key, new)
        if changed.get("active") == [True, False]:
            user.session_version += 1  # a disabled user is signed out everywhere at once
        if guarded:
            session.flush()  # the write first: on SQLite it takes the write lock the check relies on
            _check_administrators(actor, removed_one=was_administrator and not _is_administrator(user))
        _audit("user_changed", user, actor=actor, changes=changed)
    return changed


def _is_administrator(user: User) -> bool:
    return user.role == "admin" and bool(user.active)


def _check_administrators(actor: User | str | None, *, removed_one: bool) -> None:
    remaining = active_administrator_ids()
    if removed_one and not remaining:
        raise LastAdministrator("there must always be at least one active administrator")
    acting_id, _name = _actor(actor)
    if acting_id is not None and acting_id not in remaining:
        raise LastAdministrator("you are no longer an administrator, so this change was not made")


def set_password(user: User, password: str, *, actor: User | str | None = None) -> None:
    """A new password. Set by anyone but its owner (an administrator's reset, the command line), it is
    temporary: the owner must change it at their next sign-in. Either way every session ends."""
    with transaction():
        _new_password(user, password, actor=actor)


def _new_password(user: User, password: str, *, actor: User | str | None) -> None:
    """set_password's change and audit event, inside a caller's transaction."""
    own = isinstance(actor, User) and actor.id == user.id
    was_temporary = user.must_change_password
    user.password_hash = passwords.hash_password(password)
    user.password_set_at = utcnow()  # a temporary one expires from here (User.temporary_password_expired)
    user.session_version += 1
    user.must_change_password = not own
    # Not "must_change_password": audit detail keys that name a password are blanked (SECRET_KEYS).
    _audit("password_changed", user, actor=actor, temporary=not own,
           **({"replaced_temporary": True} if own and was_temporary else {}))


class AlreadyActive(StoreError):
    """enable_user on an account that is active (another administrator re-enabled it); nothing was written."""


def enable_user(user: User, password: str, *, actor: User | str | None = None) -> None:
    """Make a disabled account active again with a new temporary password, in one transaction: if it was
    disabled because it was compromised, the old password must not open it again. Audited as the status
    change and the password change (never the password)."""
    with transaction() as session:
        active_administrator_ids(lock=True)  # as update_user: a maker who stopped being an administrator
        session.refresh(user)
        if user.active:
            raise AlreadyActive("this account is already active")
        user.active = True
        _new_password(user, password, actor=actor)
        session.flush()
        _check_administrators(actor, removed_one=False)
        _audit("user_changed", user, actor=actor, changes={"active": [False, True]})


def record_failed_password_change(user: User, reason: str) -> None:
    """A signed-in user's try at changing their password that gave the wrong current one."""
    with transaction():
        _audit("password_change_failed", user, actor=user, reason=reason)


# Signing in and out ----------------------------------------------------------------------

def record_sign_in(user: User, password: str | None = None) -> None:
    """A successful sign-in; upgrades the password hash if the cost settings have grown."""
    with transaction():
        user.last_sign_in_at = utcnow()
        if password is not None and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        _audit("signed_in", user, actor=user)


def record_failed_sign_in(email: str, user: User | None, reason: str) -> None:
    """A failed sign-in. What was typed as an email is kept only when it names an account:
    an unknown one may be a password typed in the wrong box, so only a keyed hash is kept
    (enough to see the same attempt repeated, never the text)."""
    with transaction():
        _audit("sign_in_failed", actor=user or "anonymous", record_type="users",
               record_id=user.id if user else None, reason=reason, **_typed_email(email, user))


def record_sign_in_throttled(email: str, user: User | None, limit: str, *, page: str = "sign_in") -> None:
    """An attempt the sign-in limit refused (limit: "account" or "address"), kept as failed sign-ins keep
    what was typed. The caller writes at most one per account or address per limit window, so an attacker
    cannot fill the table with them."""
    with transaction():
        _audit("sign_in_throttled", actor=user or "anonymous", record_type="users",
               record_id=user.id if user else None, limit=limit, page=page, **_typed_email(email, user))


def _typed_email(email: str, user: User | None) -> dict:
    if user is not None:
        return {"email": user.email}
    return {"typed_email_hash": _keyed_hash(email)} if normalise_email(email) else {}


def _keyed_hash(value: str) -> str:
    import hashlib
    import hmac

    from flask import current_app
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, normalise_email(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def record_sign_out(user: User, reason: str = "signed_out", kept_form: tuple | None = None) -> None:
    """Sign-out ends every session of this user: older cookies stop matching session_version.

    kept_form, (draft or referral, page, data): a form posted as the session went idle, kept in the
    same transaction to be shown again after sign-in (_keep_form).
    """
    with transaction():
        if kept_form is not None:
            _keep_form(*kept_form, actor=user)
        # An UPDATE ... SET x = x + 1 so that two concurrent sign-outs both count.
        db.session.execute(update(User).where(User.id == user.id)
                           .values(session_version=User.session_version + 1))
        _audit("signed_out", user, actor=user, reason=reason)
    db.session.refresh(user)


# Reading helpers used by views (reads are fine outside this module) -------------------------

def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


# The referral journey: drafts, assessments, referrals -----------------------------------------

# Where a draft holds, until its next save, the concerns a change made no longer apply (the threshold
# file's words), for the next page to name: on the server, never in the session cookie. Beside the
# forms kept across an idle sign-out (kept_forms), under a key no page has.
DROPPED = "_dropped"

# Nothing about the child is ever put in an audit event's detail: ids, pages and routes only.

class FollowUpTaken(StoreError):
    """Another request started the follow-up draft of this request for advice first; nothing was written."""


class TooManyDrafts(StoreError):
    """The user already has as many unfinished drafts as allowed (setting MAX_OPEN_DRAFTS)."""

    def __init__(self, message: str, limit: int):
        super().__init__(message)
        self.limit = limit


def open_draft_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Draft).where(
        Draft.user_id == user.id, Draft.submitted_at.is_(None))) or 0


def start_draft(user: User, version, answers: dict | None = None, *, follows: Referral | None = None,
                dropped: list[str] | None = None) -> Draft:
    """A new draft; `answers` carries what is asked once per account (the referrer's role).

    With `follows`, a request for advice: the draft is started from its advice, and is that
    request's follow-up draft (what is sent from it records the request, see _file_item).
    """
    from flask import current_app
    if follows is None:  # a follow-up draft has its own guard against a double-click
        repeated = just_started(user, version, answers or {})
        if repeated is not None:
            return repeated
    limit = current_app.config.get("MAX_OPEN_DRAFTS", 25)
    if open_draft_count(user) >= limit:
        raise TooManyDrafts(f"{limit} unfinished drafts already", limit)
    seen = follows.follow_up_draft_id if follows is not None else None
    with transaction() as session:
        draft = Draft(user_id=user.id, answers=answers or {}, threshold_id=version.id,
                      threshold_hash=version.content_hash, created_at=utcnow(), updated_at=utcnow(),
                      kept_forms={DROPPED: dropped} if dropped else None)
        session.add(draft)
        session.flush()
        if follows is not None:
            # Compare and set: only while the follow-up is still the one read above. Two requests
            # that both read it (a double-click) both get here; the second finds it changed, and
            # its draft is rolled back, so a request for advice never has two follow-up drafts.
            still = Referral.follow_up_draft_id.is_(None) if seen is None else Referral.follow_up_draft_id == seen
            claimed = session.execute(update(Referral).where(Referral.id == follows.id, still)
                                      .values(follow_up_draft_id=draft.id)
                                      .execution_options(synchronize_session=False)).rowcount
            if claimed != 1:
                raise FollowUpTaken("another draft already follows this request for advice")
            set_committed_value(follows, "follow_up_draft_id", draft.id)
        _audit("draft_started", draft, actor=user, threshold_id=version.id,
               **({"follows": follows.reference} if follows is not None else {}))
    return draft


DOUBLE_CLICK_SECONDS = 5


def just_started(user: User, version, answers: dict) -> Draft | None:
    """The user's newest draft, if it was started moments ago and nothing has been answered in it.

    A double-click on "Start a new referral" sends two requests: the second carries on with the
    first's draft rather than making an empty one that counts against the open-draft limit.
    Nothing is written, so there is nothing to audit.
    """
    newest = db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.submitted_at.is_(None))
                               .order_by(Draft.created_at.desc()).limit(1))
    if newest is None or (utcnow() - newest.created_at).total_seconds() > DOUBLE_CLICK_SECONDS:
        return None
    if newest.threshold_id != version.id or (newest.answers or {}) != answers:
        return None
    return newest


def keep_form(draft, page: str, data: dict, *, actor: User | None = None) -> None:
    """Keep a form that could not be saved as it was sent (the threshold document changed under it),
    to show it again on its page, filled in, as a form kept across an idle sign-out is."""
    with transaction():
        _keep_form(draft, page, data, actor=actor)


def _keep_form(holder: Draft | Referral, page: str, data: dict, *, actor: User) -> None:
    """Add (not commit) a form posted after the session went idle, to show it again after sign-in.

    A journey page's is kept beside its draft's answers (drafts.kept_forms), never in them: it was
    never checked. A front door decision's is kept for the worker and the item (kept_decisions),
    replacing one they kept there before; it is never a decision.
    """
    if isinstance(holder, Referral):
        db.session.execute(delete(KeptDecision).where(KeptDecision.referral_id == holder.id,
                                                      KeptDecision.user_id == actor.id))
        db.session.add(KeptDecision(referral_id=holder.id, user_id=actor.id, form=data, kept_at=utcnow()))
        _audit("decision_form_kept", actor=actor, record_type="referrals", record_id=holder.id,
               reference=holder.reference)
        return
    holder.kept_forms = {**(holder.kept_forms or {}), page: data}
    holder.version = (holder.version or 1) + 1
    _audit("draft_form_kept", holder, actor=actor, page=page)


def take_unsent_form(holder: Draft | Referral, page: str, *, actor: User) -> dict | None:
    """The form kept for a page (of this draft, or this worker's for this item), removed as it is
    shown again: shown once."""
    if isinstance(holder, Referral):
        mine = (KeptDecision.referral_id == holder.id, KeptDecision.user_id == actor.id)
        newest = db.session.scalar(select(KeptDecision).where(*mine)
                                   .order_by(KeptDecision.kept_at.desc(), KeptDecision.id.desc()).limit(1))
        if newest is None:
            return None
        kept = newest.form
        with transaction() as session:
            # Every one of theirs goes (two sent at the same moment, a double-click, may both be kept).
            session.execute(delete(KeptDecision).where(*mine))
            _audit("decision_form_restored", actor=actor, record_type="referrals", record_id=holder.id,
                   reference=holder.reference)
        return kept
    kept = holder.kept_forms or {}
    if page not in kept:
        return None
    with transaction():
        holder.kept_forms = {k: v for k, v in kept.items() if k != page} or None
        _audit("draft_form_restored", holder, actor=actor, page=page)
    return kept[page]


def discard_draft(draft, *, actor: User | None = None) -> None:
    """Start again: the draft and its answers are deleted (an assessment made from it stays)."""
    with transaction() as session:
        _audit("draft_discarded", draft, actor=actor)
        session.delete(draft)


def purge_drafts(older_than, *, actor: str = "cli") -> int:
    """Delete drafts not touched for longer than the retention period (a timedelta).

    Finished ones go too: what must be kept is in the assessment (anonymous) and the referral.
    """
    cutoff = utcnow() - older_than
    with transaction() as session:
        ids = list(session.scalars(select(Draft.id).where(Draft.updated_at < cutoff)))
        if ids:
            session.execute(delete(Draft).where(Draft.id.in_(ids)))
        _audit("drafts_purged", actor=actor, record_type="drafts", count=len(ids),
               cutoff=cutoff.isoformat(timespec="seconds"))
    return len(ids)


def choose_route(draft, route: str, *, override_reason: str | None = None, finished: bool,
                 actor: User | None = None) -> None:
    """The referrer acts on the recommendation, or overrides it (with a reason) for another route."""
    assessment = draft.assessment
    if assessment is None:
        raise StoreError("there is no recommendation to act on yet")
    overridden = route != assessment.recommended_route
    if assessment.immediate and route != "social_care":
        raise StoreError("a child in immediate danger is always referred to children's social care")
    if overridden and not (override_reason or "").strip():
        raise StoreError("a reason is needed to take a different route")
    with transaction():
        assessment.route_taken = route
        assessment.overridden = overridden
        assessment.override_reason = override_reason.strip() if overridden else None
        if finished:
            draft.submitted_at = utcnow()
        _audit("route_overridden" if overridden else "route_chosen", assessment, actor=actor,
               recommended=assessment.recommended_route, taken=route)


def submit_referral(draft, details: dict, *, family_aware: str | None, consent: str | None,
                    consent_reason: str | None, reference_prefix: str, actor: User | None = None,
                    kind: str = "referral"):
    """Send the draft to the front door. One referral per draft: a second submit returns the first.

    kind "early_help_request" sends it to the Family Help Hub instead (route early help).
    """
    def make() -> Referral:
        assessment = draft.assessment
        if assessment is None:
            raise StoreError("there is no recommendation to refer from yet")
        with transaction():
            route = "early_help" if kind == "early_help_request" else "social_care"
            if assessment.route_taken != route:
                overridden = assessment.recommended_route != route
                assessment.route_taken = route
                assessment.overridden = overridden
            if assessment.age_band == "unknown":
                # The immediate-danger path goes to the referral without About the child: the child's age is
                # what the referral gives (a date of birth, or not born yet), so the reports count it by age,
                # and Preview a change reads an unborn baby as the reports do.
                months, unborn = values.child_age_sent(details)
                if unborn or months is not None:
                    assessment.age_band = values.age_band_for(months, unborn=unborn)
                    assessment.unborn = unborn
            referral = _file_item(draft, Referral(kind=kind, assessment_id=assessment.id, details=details,
                                                  family_aware=family_aware, consent=consent,
                                                  consent_reason=consent_reason), reference_prefix)
            # Sent from the front door's advice: the trail of either item shows the other.
            follows = ({"follows": db.session.get(Referral, referral.consultation_id).reference}
                       if referral.consultation_id else {})
            _audit("referral_submitted", referral, actor=actor, reference=referral.reference, kind=kind,
                   assessment_id=assessment.id, overridden=assessment.overridden, **follows)
        return referral
    return one_item_per_draft(draft, make)


def item_made_from(draft) -> Referral | None:
    """The item (referral, early-help request or request for advice) already made from this draft."""
    return db.session.scalar(select(Referral).where(Referral.draft_id == draft.id))


def one_item_per_draft(draft, make: Callable[[], Referral]) -> tuple[Referral, bool]:
    """(item, True) when make() wrote the draft's one item; (the item made before, False) otherwise.

    make() writes in one transaction. A double-click finds the first item here; when two requests
    race, both pass that check, the unique draft_id keeps one, and the loser returns it.
    """
    from sqlalchemy.exc import IntegrityError
    existing = item_made_from(draft)
    if existing is not None:
        return existing, False
    try:
        return make(), True
    except IntegrityError:
        existing = item_made_from(draft)
        if existing is None:
            raise
        return existing, False


def _file_item(draft, item: Referral, reference_prefix: str) -> Referral:
    """Add (not commit) the draft's item, numbered like NM-2026-00042, and mark the draft as sent.

    A draft started from the front door's advice records that request for advice on the item.
    """
    now = utcnow()
    item.reference, item.draft_id, item.user_id, item.created_at = f"pending-{draft.id}", draft.id, draft.user_id, now
    item.consultation_id = db.session.scalar(select(Referral.id).where(Referral.follow_up_draft_id == draft.id))
    db.session.add(item)
    db.session.flush()
    item.reference = f"{reference_prefix}-{now.year}-{item.id:05d}"
    draft.submitted_at = now
    return item


def record_view(action: str, record=None, *, actor: User | None = None, record_type: str | None = None,
                record_id=None, **detail) -> None:
    """Every read of identifying data leaves an audit event."""
    with transaction():
        _audit(action, record, actor=actor, record_type=record_type, record_id=record_id, **detail)


def record_demo_journey(user: User, answers: dict, rec, *, at, assessment_fields: dict,
                        referral_details: dict | None = None, decision: tuple | None = None,
                        decided_by: User | None = None, reference_prefix: str = "NM"):
    """Demo history only (`flask demo seed`): one finished journey, dated in the past.

    Draft, assessment, optional referral and front-door decision, and the audit event, in
    one transaction, through the same models as the real journey.
    """
    import datetime as dt

    with transaction() as session:
        draft = Draft(user_id=user.id, answers=answers, threshold_id=rec.version_id,
                      threshold_hash=rec.version_hash, created_at=at - dt.timedelta(minutes=9),
                      updated_at=at, submitted_at=at)
        session.add(draft)
        session.flush()
        route_taken = "social_care" if referral_details is not None else rec.route
        assessment = Assessment(
            draft_id=draft.id, user_id=user.id, started_at=draft.created_at, completed_at=at,
            immediate=rec.immediate, urgency=rec.urgency, lado=rec.lado,
            recommended_route=rec.route, recommended_level=rec.level,
            reason_ids=rec.reason_ids, route_taken=route_taken, overridden=route_taken != rec.route,
            override_reason=None if route_taken == rec.route else "Demo: the referrer knew more about the family",
            threshold_id=rec.version_id, threshold_hash=rec.version_hash, **assessment_fields)
        session.add(assessment)
        session.flush()
        referral = None
        if referral_details is not None:
            referral = Referral(reference=f"demo-{draft.id}", assessment_id=assessment.id, draft_id=draft.id,
                                user_id=user.id, created_at=at, details=referral_details,
                                family_aware=(answers.get("consent") or {}).get("aware"),
                                consent=assessment.consent, consent_reason=None)
            session.add(referral)
            session.flush()
            referral.reference = f"{reference_prefix}-{at.year}-{referral.id:05d}"
            if decision is not None and decided_by is not None:
                outcome, note = decision
                session.add(Decision(referral_id=referral.id, outcome=outcome, decided_on=(at + dt.timedelta(hours=20)).date(),
                                     decided_by=decided_by.id, note=note, created_at=at + dt.timedelta(hours=20)))
        _audit("demo_journey_seeded", assessment, actor="demo seed",
               referral=referral.reference if referral else None)
    return assessment

# Each kind of user's writers live in a submodule of this package (store.frontdoor,
# store.policy, ...), built on transaction() and _audit() above.

from . import facts  # noqa: E402,F401  (registers the listeners that write the reports' facts with each row)
