"""The store: each user action is one transaction with its audit event, or nothing at all.

A failure anywhere in the action rolls back both the change and its audit row.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from signpost import store
from signpost.extensions import db
from signpost.models import AuditEvent, User


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_user_writes_the_user_and_its_audit_event(app):
    user = store.create_user("A@Example.org", " Ann ", "referrer", "a long password here", "School",
                             actor="test")
    assert (user.email, user.name) == ("a@example.org", "Ann")
    (event,) = db.session.scalars(sa.select(AuditEvent)).all()
    assert (event.action, event.record_type, event.record_id, event.actor) == \
        ("user_created", "users", str(user.id), "test")
    assert event.detail == {"email": "a@example.org", "role": "referrer"}


def test_a_failing_audit_write_rolls_back_the_action(app, monkeypatch):
    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(store, "_audit", broken_audit)
    with pytest.raises(RuntimeError):
        store.create_user("b@example.org", "B", "referrer", "a long password here", actor="test")
    assert count(User) == 0 and count(AuditEvent) == 0


def test_a_failing_change_rolls_back_its_audit_event(app):
    user = store.create_user("c@example.org", "C", "referrer", "a long password here", actor="test")
    other = store.create_user("d@example.org", "D", "referrer", "a long password here", actor="test")
    before = count(AuditEvent)
    with pytest.raises(sa.exc.IntegrityError):
        with store.transaction():
            other.email = "c@example.org"  # duplicate: the UNIQUE constraint fails at commit
            store._audit("user_changed", other, actor="test", changes={"email": ["d", "c"]})
    assert count(AuditEvent) == before
    db.session.refresh(other)
    assert other.email == "d@example.org" and user.email == "c@example.org"


def test_update_user_rejects_unknown_fields_and_roles(app):
    user = store.create_user("e@example.org", "E", "referrer", "a long password here", actor="test")
    with pytest.raises(store.StoreError):
        store.update_user(user, password_hash="x", actor="test")
    with pytest.raises(store.StoreError):
        store.update_user(user, role="wizard", actor="test")
    with pytest.raises(store.StoreError):
        store.create_user("f@example.org", "F", "wizard", "a long password here", actor="test")


def test_disabling_and_password_change_end_sessions(app):
    user = store.create_user("g@example.org", "G", "referrer", "a long password here", actor="test")
    version = user.session_version
    store.update_user(user, active=False, actor="test")
    assert user.session_version == version + 1
    store.set_password(user, "another long password", actor="test")
    assert user.session_version == version + 2
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["user_created", "user_changed", "password_changed"]


def test_audit_outside_a_request_has_no_address(app):
    store.create_user("h@example.org", "H", "admin", "a long password here", actor="cli")
    event = db.session.scalars(sa.select(AuditEvent)).one()
    assert event.ip is None and event.user_id is None and event.actor == "cli"


def test_only_store_writes(app):
    """Nothing outside signpost/store/ calls session.add/commit/delete: the store is the one writer."""
    from pathlib import Path
    package = Path(__file__).resolve().parent.parent / "signpost"
    offenders = [f"{path.relative_to(package)}:{n}" for path in package.rglob("*.py")
                 if "store" not in path.relative_to(package).parts[:1]
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if any(call in line for call in ("session.add(", "session.commit(", "session.delete(",
                                                  "session.add_all(", ".execute(sa.insert", ".execute(insert"))]
    assert not offenders, offenders
