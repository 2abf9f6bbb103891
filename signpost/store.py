"""The only module that writes to the database: one function per user action.

Each function is one transaction and writes its audit event in that same transaction,
so an action without its audit row (or the reverse) can never be committed.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import func, select, update

from . import passwords
from .extensions import client_address, db
from .models import ROLES, AuditEvent, User, utcnow


class StoreError(ValueError):
    """An action that breaks a rule (for example a duplicate email); nothing was written."""


@contextlib.contextmanager
def transaction() -> Iterator[Any]:
    """Commit everything done inside, or roll all of it back (audit row included)."""
    session = db.session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


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
        detail=detail,
    )
    db.session.add(event)
    return event


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


# Accounts ------------------------------------------------------------------------------

def create_user(email: str, name: str, role: str, password: str, organisation: str = "", *,
                actor: User | str | None = None) -> User:
    email = normalise_email(email)
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    if find_user(email) is not None:
        raise StoreError(f"there is already an account for {email}")
    with transaction() as session:
        user = User(email=email, name=name.strip(), role=role, organisation=(organisation or "").strip(),
                    password_hash=passwords.hash_password(password), active=True, session_version=1,
                    created_at=utcnow())
        session.add(user)
        session.flush()
        _audit("user_created", user, actor=actor, email=email, role=role)
    return user


def update_user(user: User, *, actor: User | str | None = None, **changes: Any) -> dict[str, list]:
    """Change name, organisation, role or active; returns {field: [old, new]} of what changed."""
    allowed = {"name", "organisation", "role", "active"}
    unknown = set(changes) - allowed
    if unknown:
        raise StoreError(f"cannot change {', '.join(sorted(unknown))}")
    if "role" in changes and changes["role"] not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}")
    changed = {k: [getattr(user, k), v] for k, v in changes.items() if getattr(user, k) != v}
    if not changed:
        return {}
    with transaction():
        for key, (_old, new) in changed.items():
            setattr(user, key, new)
        if changed.get("active") == [True, False]:
            user.session_version += 1  # a disabled user is signed out everywhere at once
        _audit("user_changed", user, actor=actor, changes=changed)
    return changed


def set_password(user: User, password: str, *, actor: User | str | None = None) -> None:
    with transaction():
        user.password_hash = passwords.hash_password(password)
        user.session_version += 1
        _audit("password_changed", user, actor=actor)


# Signing in and out ----------------------------------------------------------------------

def record_sign_in(user: User, password: str | None = None) -> None:
    """A successful sign-in; upgrades the password hash if the cost settings have grown."""
    with transaction():
        user.last_sign_in_at = utcnow()
        if password is not None and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        _audit("signed_in", user, actor=user)


def record_failed_sign_in(email: str, user: User | None, reason: str) -> None:
    with transaction():
        _audit("sign_in_failed", actor=user or "anonymous", record_type="users",
               record_id=user.id if user else None, email=normalise_email(email)[:254], reason=reason)


def record_sign_out(user: User, reason: str = "signed_out") -> None:
    """Sign-out ends every session of this user: older cookies stop matching session_version."""
    with transaction():
        # An UPDATE ... SET x = x + 1 so that two concurrent sign-outs both count.
        db.session.execute(update(User).where(User.id == user.id)
                           .values(session_version=User.session_version + 1))
        _audit("signed_out", user, actor=user, reason=reason)
    db.session.refresh(user)


# Reading helpers used by views (reads are fine outside this module) -------------------------

def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0
