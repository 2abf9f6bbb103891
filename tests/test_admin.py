"""The admin pages: list, add, disable and re-role users; every change audited.

An administrator cannot disable themselves or remove their own admin role.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from conftest import PASSWORD, sign_in_as, submit
from signpost import passwords, store
from signpost.extensions import db
from signpost.models import AuditEvent, User


def last_event():
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def test_lists_users(admin, users):
    store.update_user(users["front_door"], active=False, actor="test")
    html = admin.get("/admin/users").get_data(as_text=True)
    for user in users.values():
        assert user.email in html
    assert "Disabled" in html and "Active" in html and "Front door team" in html
    assert "Add a user" in html


def test_add_user(admin, users):
    response = submit(admin, "/admin/users/new", {
        "email": " New.Teacher@School.example ", "name": "New Teacher", "organisation": "Northmere High",
        "role": "referrer", "password": "a long temporary password"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    user = store.find_user("new.teacher@school.example")
    assert (user.name, user.role, user.organisation, user.active) == ("New Teacher", "referrer", "Northmere High", True)
    assert passwords.verify(user.password_hash, "a long temporary password")
    event = last_event()
    assert (event.action, event.user_id, event.record_id) == ("user_created", users["admin"].id, str(user.id))
    assert "a long temporary password" not in str(event.detail)
    assert "Account added for new.teacher@school.example" in admin.get("/admin/users").get_data(as_text=True)


def test_add_user_validation(admin, users):
    response = submit(admin, "/admin/users/new", {"email": "REFERRER@example.org", "name": "", "role": "",
                                                  "password": "short"}, form_page="/admin/users/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and "Error: Add a user" in html
    for message in ("There is already an account with this email address", "Enter the person&#39;s full name",
                    "Select a role", "Password must be 12 characters or more"):
        assert message in html, message
    assert 'href="#role"' in html and 'id="role"' in html  # the summary links to the first radio
    summary = html.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    order = [summary.index(f'href="#{field}"') for field in ("email", "name", "role", "password")]
    assert order == sorted(order)  # in the order the fields are on the page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 4


def test_a_password_longer_than_sign_in_accepts_is_refused(admin, client):
    # Sign-in caps passwords at passwords.MAX_LENGTH: a longer one could never be used.
    from signpost.passwords import MAX_LENGTH
    data = {"email": "long@example.org", "name": "N", "role": "referrer", "password": "p" * (MAX_LENGTH + 1)}
    html = submit(admin, "/admin/users/new", data).get_data(as_text=True)
    assert f"Password must be {MAX_LENGTH} characters or fewer" in html
    assert db.session.scalar(sa.select(User).where(User.email == "long@example.org")) is None
    submit(admin, "/admin/users/new", {**data, "password": "p" * MAX_LENGTH})
    response = submit(client, "/sign-in", {"email": "long@example.org", "password": "p" * MAX_LENGTH})
    assert response.status_code == 302  # the longest password that can be set can be used


def test_add_user_rejects_bad_email(admin):
    html = submit(admin, "/admin/users/new", {"email": "not-an-email", "name": "X", "role": "referrer",
                                              "password": "a long temporary password"}).get_data(as_text=True)
    assert "Enter an email address in the correct format" in html


def test_change_role_and_disable(app, admin, users):
    target = users["referrer"]
    victim_client = app.test_client()
    sign_in_as(victim_client, target)
    assert victim_client.get("/").status_code == 200

    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'value="referrer" checked' in page and 'value="active" checked' in page
    response = submit(admin, f"/admin/users/{target.id}", {"name": "Renamed", "organisation": "Elsewhere",
                                                            "role": "front_door", "active": "disabled"})
    assert response.status_code == 302
    db.session.refresh(target)
    assert (target.name, target.role, target.active) == ("Renamed", "front_door", False)
    event = last_event()
    assert event.action == "user_changed" and event.user_id == users["admin"].id
    assert event.detail["changes"]["role"] == ["referrer", "front_door"]
    assert event.detail["changes"]["active"] == [True, False]
    # Disabled: signed out at once, and cannot sign in again; the administrator is told both.
    assert victim_client.get("/").status_code == 302
    told = " ".join(admin.get(response.location).get_data(as_text=True).split())
    assert f"{target.email} has been disabled and signed out everywhere" in told
    assert "Also saved: the name, the organisation, the role." in told  # changed at the same time, and said so
    fresh = app.test_client()
    assert submit(fresh, "/sign-in", {"email": target.email, "password": PASSWORD}).status_code == 200


def test_re_enable(admin, users):
    # The change page cannot re-enable: that needs a new temporary password (tests/test_admin_accounts.py).
    target = users["policy_lead"]
    store.update_user(target, active=False, actor="test")
    submit(admin, f"/admin/users/{target.id}", {"name": target.name, "organisation": "", "role": "policy_lead",
                                                 "active": "active"})
    db.session.refresh(target)
    assert not target.active
    submit(admin, f"/admin/users/{target.id}/enable", {"password": "a new temporary password"})
    db.session.refresh(target)
    assert target.active and target.must_change_password


def test_role_change_applies_to_a_signed_in_user_at_once(app, admin, users):
    target = users["referrer"]
    client = app.test_client()
    sign_in_as(client, target)
    assert client.get("/admin/users").status_code == 403
    submit(admin, f"/admin/users/{target.id}", {"name": target.name, "organisation": "", "role": "admin",
                                                 "active": "active"})
    assert client.get("/admin/users").status_code == 200


def test_no_change_writes_no_audit_event(admin, users):
    target = users["front_door"]
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    submit(admin, f"/admin/users/{target.id}", {"name": target.name, "organisation": target.organisation,
                                                 "role": target.role, "active": "active"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def test_admin_cannot_lock_themselves_out(admin, users):
    me = users["admin"]
    for change, field, message in (({"role": "referrer", "active": "active"}, "role",
                                    "You cannot remove your own administrator role"),
                                   ({"role": "admin", "active": "disabled"}, "active",
                                    "You cannot disable your own account")):
        response = submit(admin, f"/admin/users/{me.id}", {"name": me.name, "organisation": "", **change})
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert message in page and f'href="#{field}"' in page  # the summary links to the field that asked
    db.session.refresh(me)
    assert me.role == "admin" and me.active


def test_unknown_user_is_404(admin):
    assert admin.get("/admin/users/424242").status_code == 404


def test_a_manager_moved_out_of_the_front_door_is_no_longer_a_manager(app, admin, users):
    # The team page, the only place to clear the flag, lists only the front door team: a manager
    # moved to another role, then back (cover, a secondment ending), must not quietly regain the
    # audit trail and allocating to others.
    from signpost.store import frontdoor as fd_store
    person = users["front_door"]
    fd_store.set_manager(person, True, actor=users["admin"])
    submit(admin, f"/admin/users/{person.id}", {"name": person.name, "organisation": "", "role": "referrer",
                                                 "active": "active"})
    db.session.refresh(person)
    assert person.role == "referrer" and not person.manager
    assert last_event().detail["changes"]["manager"] == [True, False]  # audited with the role change
    submit(admin, f"/admin/users/{person.id}", {"name": person.name, "organisation": "", "role": "front_door",
                                                 "active": "active"})
    client = app.test_client()
    db.session.refresh(person)
    sign_in_as(client, person)
    assert client.get("/front-door/audit").status_code == 403


def test_an_account_added_twice_at_once_is_refused_not_an_error_page(app, admin, users, monkeypatch):
    # Two administrators adding the same person: both pass the form's check, the unique email keeps one.
    real = store.find_user
    checks = []

    def not_there_yet(email):
        checks.append(email)
        return None if len(checks) <= 2 else real(email)  # the form's check and the store's, before the other's commit

    store.create_user("new.teacher@school.example", "Added a moment ago", "referrer", "a long temporary password", actor="test")
    monkeypatch.setattr(store, "find_user", not_there_yet)
    response = submit(admin, "/admin/users/new", {"email": "new.teacher@school.example", "name": "New Teacher",
                                                  "organisation": "", "role": "referrer", "password": "a long temporary password"})
    assert response.status_code == 400
    assert "There is already an account for new.teacher@school.example" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user_created")) == len(users) + 1  # no second


def test_an_accounts_page_links_to_its_events_by_number_not_email_address(admin, users):
    """The link put the account's email address in the URL (proxy logs, browser history): it carries the
    account's number, and the audit trail says whose events it shows."""
    target, other = users["referrer"], users["policy_lead"]
    submit(admin, f"/admin/users/{target.id}/password", {"password": "a new temporary password"})
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert f'href="/front-door/audit?account={target.id}"' in page
    assert not [href for href in re.findall(r'href="([^"]*)"', page) if target.email.split("@")[0] in href]
    html = " ".join(admin.get(f"/front-door/audit?account={target.id}").get_data(as_text=True).split())
    assert "Showing the changes made to the account of Test referrer" in html and target.email in html
    assert "password_changed" in html and "user_created" in html
    assert set(re.findall(r'data-label="Record">([^<]*)<', html)) == {f"users {target.id}"}  # this account's only
    assert f'<input type="hidden" name="account" value="{target.id}">' in html  # a search within them keeps it
    assert "password_changed" not in admin.get(f"/front-door/audit?account={other.id}").get_data(as_text=True)
    # Narrowed further by the form (POSTed), still only this account's.
    narrowed = submit(admin, "/front-door/audit", {"account": str(target.id), "action": "password_changed"},
                      form_page=f"/front-door/audit?account={target.id}").get_data(as_text=True)
    assert "password_changed" in narrowed and "Test referrer" in narrowed
    audited = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "audit_searched")
                                 .order_by(AuditEvent.id)).all()
    assert audited[-1].detail["search"] == {"account": str(target.id), "action": "password_changed"}
    gone = " ".join(admin.get("/front-door/audit?account=2147483000").get_data(as_text=True).split())
    assert "account number 2147483000, which no longer exists" in gone and "No events match" in gone
    for bad in ("abc", "-1", "0", "1.5", "2147483648", "99999999999999999999", "%C2%B2"):
        assert admin.get(f"/front-door/audit?account={bad}").status_code == 404, bad
