"""Accounts an administrator looks after from the web: resetting a password, re-enabling a disabled account
(with a new temporary password, as `flask users enable` does), temporary passwords that expire, and
sign-ins the limit refused, audited once per window.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from conftest import PASSWORD, csrf_token, sign_in_as, submit
from signpost import passwords, store
from signpost.extensions import db
from signpost.models import AuditEvent, utcnow
from signpost.settings import from_environment
from test_temporary_passwords import MINE, TEMPORARY, change_password, events, sign_in

EXPIRED = "Your temporary password has expired. Ask an administrator for a new one"
BAD = "Enter a correct email address and password"


def no_password_in_the_audit_trail(*secrets):
    every = str([(e.action, e.detail) for e in db.session.scalars(sa.select(AuditEvent))])
    assert not any(secret in every for secret in secrets)


# ---- resetting someone's password ------------------------------------------------------------------

def test_an_administrator_resets_someone_elses_password(app, admin, users):
    target = users["front_door"]
    their_session = app.test_client()
    sign_in_as(their_session, target)
    assert their_session.get("/front-door/").status_code == 200

    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert f'href="/admin/users/{target.id}/password"' in page
    form = admin.get(f"/admin/users/{target.id}/password").get_data(as_text=True)
    assert "Reset the password for Test front_door" in form and 'autocomplete="new-password"' in form
    assert "stops working after 7 days" in form and 'href="/admin/users/%d"' % target.id in form  # back link

    response = submit(admin, f"/admin/users/{target.id}/password", {"password": TEMPORARY})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert "has a new temporary password and has been signed out" in admin.get("/admin/users").get_data(as_text=True)
    db.session.refresh(target)
    assert target.must_change_password and passwords.verify(target.password_hash, TEMPORARY)
    assert their_session.get("/front-door/").headers["Location"] == "/sign-in"  # their session has ended
    assert sign_in(app.test_client(), target.email, PASSWORD).status_code == 200  # the old one is gone
    assert sign_in(app.test_client(), target.email, TEMPORARY).headers["Location"] == "/account/password"

    (event,) = events("password_changed")
    assert (event.user_id, event.record_type, event.record_id) == (users["admin"].id, "users", str(target.id))
    assert event.detail == {"temporary": True}
    no_password_in_the_audit_trail(TEMPORARY, PASSWORD)
    assert admin.get("/admin/users/999999/password").status_code == 404


def test_a_reset_password_is_checked_beside_the_field(admin, users):
    target = users["referrer"]
    before = target.password_hash
    for typed, message in (("", "Enter a temporary password"), ("short", "Password must be 12 characters or more")):
        response = submit(admin, f"/admin/users/{target.id}/password", {"password": typed})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "There is a problem" in html and 'href="#password"' in html and message in html
        assert "<title>Error: Reset the password" in html
    db.session.refresh(target)
    assert target.password_hash == before and not events("password_changed")


def test_an_administrator_cannot_reset_their_own_password_here(admin, users):
    me = users["admin"]
    page = admin.get(f"/admin/users/{me.id}").get_data(as_text=True)
    assert f"/admin/users/{me.id}/password" not in page and 'href="/account/password"' in page
    assert admin.get(f"/admin/users/{me.id}/password").headers["Location"] == "/account/password"
    response = submit(admin, f"/admin/users/{me.id}/password", {"password": TEMPORARY},
                      form_page=f"/admin/users/{users['referrer'].id}/password")
    assert response.headers["Location"] == "/account/password"
    db.session.refresh(me)
    assert passwords.verify(me.password_hash, PASSWORD) and not me.must_change_password
    assert not events("password_changed")


# ---- re-enabling a disabled account ----------------------------------------------------------------

def test_a_disabled_account_is_re_enabled_only_with_a_new_temporary_password(app, admin, users):
    target = users["policy_lead"]
    store.update_user(target, active=False, actor="test")
    page = admin.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert 'name="active"' not in page and f'href="/admin/users/{target.id}/enable"' in page
    # The change page saves the rest, but cannot make it active: that needs the password too.
    submit(admin, f"/admin/users/{target.id}", {"name": "Renamed", "organisation": "", "role": "policy_lead",
                                                 "active": "active"})
    db.session.refresh(target)
    assert target.name == "Renamed" and not target.active
    # A password reset of a disabled account is the re-enabling page.
    assert admin.get(f"/admin/users/{target.id}/password").headers["Location"] == f"/admin/users/{target.id}/enable"

    refused = submit(admin, f"/admin/users/{target.id}/enable", {"password": ""})
    assert refused.status_code == 400 and "Enter a temporary password" in refused.get_data(as_text=True)
    db.session.refresh(target)
    assert not target.active

    response = submit(admin, f"/admin/users/{target.id}/enable", {"password": TEMPORARY})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    db.session.refresh(target)
    assert target.active and target.must_change_password
    assert sign_in(app.test_client(), target.email, PASSWORD).status_code == 200  # not the old password
    assert sign_in(app.test_client(), target.email, TEMPORARY).headers["Location"] == "/account/password"
    changed = events("user_changed")[-1]
    assert (changed.user_id, changed.detail) == (users["admin"].id, {"changes": {"active": [False, True]}})
    assert events("password_changed")[-1].detail == {"temporary": True}
    no_password_in_the_audit_trail(TEMPORARY)
    # Active now: its re-enabling page goes back to its own page.
    assert admin.get(f"/admin/users/{target.id}/enable").headers["Location"] == f"/admin/users/{target.id}"
    assert admin.get("/admin/users/999999/enable").status_code == 404


def test_the_store_never_re_enables_without_a_new_password(app, users):
    target = users["referrer"]
    store.update_user(target, active=False, actor="test")
    with pytest.raises(store.ReenableNeedsPassword):
        store.update_user(target, active=True, actor=users["admin"])
    db.session.refresh(target)
    assert not target.active
    store.enable_user(target, TEMPORARY, actor=users["admin"])
    with pytest.raises(store.AlreadyActive):
        store.enable_user(target, "another temporary password", actor=users["admin"])
    assert passwords.verify(target.password_hash, TEMPORARY)


def test_users_enable_on_the_command_line(app, users):
    runner = app.test_cli_runner()
    target = users["front_door"]
    assert runner.invoke(args=["users", "enable", target.email], input=TEMPORARY + "\n").exit_code == 1  # active
    runner.invoke(args=["users", "disable", target.email])
    short = runner.invoke(args=["users", "enable", target.email], input="short\n")
    assert short.exit_code == 1 and "12 characters or more" in short.output
    db.session.refresh(target)
    assert not target.active
    result = runner.invoke(args=["users", "enable", target.email], input=TEMPORARY + "\n")
    assert result.exit_code == 0 and "temporary password" in result.output
    db.session.refresh(target)
    assert target.active and target.must_change_password and passwords.verify(target.password_hash, TEMPORARY)
    assert events("user_changed")[-1].actor == "cli"
    assert runner.invoke(args=["users", "enable", "nobody@example.org"], input=TEMPORARY + "\n").exit_code == 1


# ---- temporary passwords expire ----------------------------------------------------------------------

def age_password(user, days):
    with store.transaction():
        user.password_set_at = utcnow() - dt.timedelta(days=days)


def test_an_expired_temporary_password_is_refused_and_says_so_only_when_it_is_right(app, admin, users):
    target = users["referrer"]
    store.set_password(target, TEMPORARY, actor=users["admin"])
    age_password(target, 6.9)  # still in time
    assert sign_in(app.test_client(), target.email, TEMPORARY).headers["Location"] == "/account/password"
    age_password(target, 7.1)

    wrong = sign_in(app.test_client(), target.email, "not the password")
    assert BAD in wrong.get_data(as_text=True) and "expired" not in wrong.get_data(as_text=True)
    response = sign_in(client := app.test_client(), target.email, TEMPORARY)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and EXPIRED in html and BAD not in html
    assert 'href="#password"' in html  # in the error summary, beside the password
    assert client.get("/account/password").headers["Location"] == "/sign-in"  # not signed in
    assert [e.detail["reason"] for e in events("sign_in_failed")] == ["wrong_password", "temporary_password_expired"]
    assert "Temporary password expired" in admin.get("/admin/users").get_data(as_text=True)
    listed = app.test_cli_runner().invoke(args=["users", "list"]).output
    assert "temporary password (expired)" in next(line for line in listed.splitlines() if target.email in line)

    # A new one from an administrator works again.
    submit(admin, f"/admin/users/{target.id}/password", {"password": "a second temporary password"})
    assert sign_in(app.test_client(), target.email, "a second temporary password").headers["Location"] == \
        "/account/password"


def test_a_session_begun_with_a_temporary_password_ends_when_it_expires(app, users):
    """Signed in with it in time but not yet changed, the session could go on after the expiry (up to
    SESSION_MAX_HOURS), and the expired password still changed itself for one of the person's choosing."""
    target = users["referrer"]
    store.set_password(target, TEMPORARY, actor=users["admin"])
    age_password(target, 6.9)
    assert sign_in(client := app.test_client(), target.email, TEMPORARY).headers["Location"] == "/account/password"
    token = csrf_token(client, "/account/password")  # the form open on their screen
    age_password(target, 7.1)

    refused = client.post("/account/password", data={"csrf_token": token, "current_password": TEMPORARY,
                                                      "new_password": MINE, "confirm_password": MINE})
    assert refused.status_code == 302 and refused.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Your temporary password has expired, so you have been signed out" in page
    db.session.refresh(target)
    assert target.must_change_password and passwords.verify(target.password_hash, TEMPORARY)
    assert events("signed_out")[-1].detail["reason"] == "temporary_password_expired"
    for path in ("/account/password", "/"):  # signed out, not merely sent to the form
        assert client.get(path).headers["Location"].startswith("/sign-in"), path
    assert EXPIRED in sign_in(client, target.email, TEMPORARY).get_data(as_text=True)


def test_a_changed_password_or_one_still_in_time_keeps_its_session(app, users):
    target = users["referrer"]
    store.set_password(target, TEMPORARY, actor=users["admin"])
    age_password(target, 6.9)
    sign_in(client := app.test_client(), target.email, TEMPORARY)
    assert client.get("/account/password").status_code == 200
    assert change_password(client, TEMPORARY, MINE).headers["Location"] == "/"
    age_password(target, 30)  # their own password never expires
    assert client.get("/guide/").status_code == 200


def test_only_a_temporary_password_expires_and_a_disabled_account_is_told_nothing_more(app, users):
    target, other = users["referrer"], users["front_door"]
    store.set_password(target, TEMPORARY, actor="cli")
    store.set_password(other, TEMPORARY, actor="cli")
    age_password(other, 30)
    store.update_user(other, active=False, actor="test")
    html = sign_in(app.test_client(), other.email, TEMPORARY).get_data(as_text=True)
    assert BAD in html and "expired" not in html
    age_password(target, 8)
    assert EXPIRED in sign_in(app.test_client(), target.email, TEMPORARY).get_data(as_text=True)
    store.set_password(target, MINE, actor=target)  # their own, however old, never expires
    age_password(target, 400)
    assert sign_in(app.test_client(), target.email, MINE).headers["Location"] == "/"


class TestThePeriodIsASetting:
    @pytest.fixture
    def app_settings(self):
        return {"TEMPORARY_PASSWORD_DAYS": 2}

    def test_it_is_read_from_the_environment(self):
        assert from_environment({})["TEMPORARY_PASSWORD_DAYS"] == 7
        assert from_environment({"SIGNPOST_TEMPORARY_PASSWORD_DAYS": "2"})["TEMPORARY_PASSWORD_DAYS"] == 2

    def test_it_decides_when_a_temporary_password_expires(self, app, admin, users):
        target = users["referrer"]
        store.set_password(target, TEMPORARY, actor="cli")
        age_password(target, 1.9)
        assert sign_in(app.test_client(), target.email, TEMPORARY).status_code == 302
        age_password(target, 2.1)
        assert EXPIRED in sign_in(app.test_client(), target.email, TEMPORARY).get_data(as_text=True)
        assert "stops working after 2 days" in admin.get("/admin/users/new").get_data(as_text=True)


# ---- sign-ins the limit refused are audited, once per account or address per window -----------------

LIMITS = {"SIGN_IN_LIMIT_PER_ACCOUNT": "3 per minute", "SIGN_IN_LIMIT_PER_ADDRESS": "5 per minute"}


class TestThrottledSignIns:
    @pytest.fixture
    def app_settings(self):
        return LIMITS

    def post(self, client, token, email, password="wrong", **kwargs):
        return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password}, **kwargs)

    def test_one_event_per_account_per_window(self, client, users):
        token = csrf_token(client, "/sign-in")
        for _ in range(3):
            assert self.post(client, token, "admin@example.org").status_code == 200
        assert not events("sign_in_throttled")
        for password in ("wrong", PASSWORD, "wrong again"):
            assert self.post(client, token, "ADMIN@example.org", password).status_code == 429
        (event,) = events("sign_in_throttled")
        assert event.detail == {"email": "admin@example.org", "limit": "account", "page": "sign_in"}
        assert (event.record_id, event.ip) == (str(users["admin"].id), "127.0.0.1")
        no_password_in_the_audit_trail(PASSWORD, "wrong again")
        # Another account refused in the same window is its own event.
        for _ in range(4):
            self.post(client, token, "referrer@example.org", environ_base={"REMOTE_ADDR": "192.0.2.9"})
        assert [e.detail["email"] for e in events("sign_in_throttled")] == ["admin@example.org", "referrer@example.org"]

    def test_one_event_per_address_per_window_keeping_only_a_hash_of_an_unknown_email(self, client, users):
        token = csrf_token(client, "/sign-in")
        for n in range(5):
            self.post(client, token, f"guess{n}@example.org")
        for n in range(5, 9):
            assert self.post(client, token, f"guess{n}@example.org").status_code == 429
        (event,) = events("sign_in_throttled")
        assert event.detail["limit"] == "address" and event.ip == "127.0.0.1" and event.actor == "anonymous"
        assert set(event.detail) == {"typed_email_hash", "limit", "page"} and "guess5" not in str(event.detail)

    def test_the_change_password_page_counts_and_is_audited_the_same_way(self, app, users):
        client = app.test_client()
        sign_in_as(client, users["referrer"])
        for n in range(4):
            submit(client, "/account/password", {"current_password": f"guess {n}", "new_password": MINE,
                                                 "confirm_password": MINE})
        (event,) = events("sign_in_throttled")
        assert event.detail == {"email": "referrer@example.org", "limit": "account", "page": "change_password"}
        assert event.user_id == users["referrer"].id
