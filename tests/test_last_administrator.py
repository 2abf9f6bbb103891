"""The service is never left without an active administrator: not by the command line, not by a
page that was out of date, not by two administrators demoting or disabling each other at once.
"""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from conftest import submit
from signpost import store
from signpost.extensions import db
from signpost.models import AuditEvent, User


def active_administrators() -> list[str]:
    return db.session.scalars(sa.select(User.email).where(User.role == "admin", User.active.is_(True))
                              .order_by(User.email)).all()


def second_administrator() -> User:
    return store.create_user("second.admin@example.org", "Second", "admin", "a long enough password", actor="test")


def committed_elsewhere(**values) -> None:
    """Another administrator's change, committed on another connection a moment ago."""
    email = values.pop("email")
    with db.engine.begin() as connection:
        connection.execute(sa.update(User).where(User.email == email).values(**values))


@pytest.mark.parametrize("change", [{"role": "referrer"}, {"active": False}])
def test_the_last_active_administrator_cannot_be_demoted_or_disabled(app, users, change):
    other = second_administrator()
    store.update_user(other, actor="test", **change)  # two, so one can go
    with pytest.raises(store.LastAdministrator):
        store.update_user(users["admin"], actor="test", **change)
    db.session.refresh(users["admin"])
    assert active_administrators() == ["admin@example.org"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user_changed")) == 1


def test_other_accounts_change_as_before_with_no_administrator_at_all(app):
    user = store.create_user("r@example.org", "R", "referrer", "a long enough password", actor="test")
    assert store.update_user(user, role="front_door", actor="test") == {"role": ["referrer", "front_door"]}
    assert store.update_user(user, active=False, actor="test") == {"active": [True, False]}


@pytest.mark.parametrize("command", [["users", "set-role", "admin@example.org", "referrer"],
                                     ["users", "disable", "admin@example.org"]])
def test_the_command_line_cannot_remove_the_last_administrator(app, users, command):
    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 1 and "at least one active administrator" in result.output
    assert active_administrators() == ["admin@example.org"]


def test_the_check_reads_the_database_not_the_pages_copy(app, users):
    # Two administrators, each with the other's page open. The second demotes the first; then the
    # first's change to the second arrives, from objects loaded before the other change committed.
    first, second = users["admin"], second_administrator()
    assert (first.role, second.role) == ("admin", "admin")
    committed_elsewhere(email=first.email, role="referrer")
    with pytest.raises(store.LastAdministrator):
        store.update_user(second, role="referrer", actor="test")
    assert active_administrators() == ["second.admin@example.org"]


def test_someone_who_has_just_stopped_being_an_administrator_cannot_change_roles(app, users):
    # Demoted while their page was open: no promoting a friend on the way out.
    first, second = users["admin"], second_administrator()
    committed_elsewhere(email=second.email, active=False)
    with pytest.raises(store.LastAdministrator, match="no longer an administrator"):
        store.update_user(users["referrer"], role="admin", actor=second)
    assert active_administrators() == [first.email]


def test_the_admin_page_says_why_when_the_other_administrator_got_there_first(app, admin, users, monkeypatch):
    first, second = users["admin"], second_administrator()
    real = store.update_user

    def other_admin_first(user, **changes):
        committed_elsewhere(email=first.email, role="referrer")  # the second demoted the first a moment ago
        return real(user, **changes)

    monkeypatch.setattr(store, "update_user", other_admin_first)
    response = submit(admin, f"/admin/users/{second.id}", {"name": second.name, "organisation": "",
                                                           "role": "referrer", "active": "active"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There must always be at least one active administrator" in page and 'href="#role"' in page
    assert active_administrators() == [second.email]


def test_two_administrators_demoting_each_other_at_once_leave_one(app, users, monkeypatch):
    """Two real attempts on two connections, each held just before it commits until the other has
    either caught up with it or is waiting for it (PostgreSQL: for the rows it has locked)."""
    first, second = users["admin"], second_administrator()
    ids = {"first": (first.id, second.id), "second": (second.id, first.id)}
    postgres = db.engine.dialect.name == "postgresql"
    arrived, pids, outcomes = set(), {}, {}
    real_audit = store._audit

    def another_is_waiting_for_a_lock(mine: str) -> bool:
        if not postgres:
            return False  # SQLite says nothing while a writer waits: the deadline below lets it on
        others = [pid for name, pid in pids.items() if name != mine]
        with db.engine.connect() as connection:
            return bool(connection.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids) AND wait_event_type = 'Lock'"),
                {"pids": others}))

    def held_audit(action, *args, **kwargs):
        if action == "user_changed":
            mine = threading.current_thread().name
            arrived.add(mine)
            deadline = time.monotonic() + (10 if postgres else 0.5)
            while len(arrived) < 2 and not another_is_waiting_for_a_lock(mine) and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_audit(action, *args, **kwargs)

    monkeypatch.setattr(store, "_audit", held_audit)
    start = threading.Barrier(2)

    def attempt():
        name = threading.current_thread().name
        me_id, other_id = ids[name]
        with app.app_context():
            if postgres:
                pids[name] = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
                db.session.commit()
            me, other = db.session.get(User, me_id), db.session.get(User, other_id)
            start.wait(timeout=10)
            try:
                store.update_user(other, role="referrer", actor=me)
                outcomes[name] = "demoted the other"
            except store.LastAdministrator:
                outcomes[name] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, name=name) for name in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["demoted the other", "refused"]
    db.session.expire_all()
    assert len(active_administrators()) == 1
