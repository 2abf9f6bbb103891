"""A password someone else set (an administrator, an operator at the command line) is temporary:
its owner must change it at their next sign-in before they can do anything else.

The demo accounts `make run` prints, and the operator's own first administrator, are not.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from conftest import sign_in_as, submit
from signpost import demo, passwords, store
from signpost.extensions import db
from signpost.models import AuditEvent

TEMPORARY = "a temporary password from the admin"
MINE = "a password only I know now"


def events(action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def sign_in(client, email, password):
    return submit(client, "/sign-in", {"email": email, "password": password})


def change_password(client, current, new, confirm=None):
    return submit(client, "/account/password", {"current_password": current, "new_password": new,
                                                "confirm_password": new if confirm is None else confirm})


def add_by_admin(admin, email="new.teacher@school.example", role="referrer"):
    response = submit(admin, "/admin/users/new", {"email": email, "name": "New Teacher", "organisation": "",
                                                  "role": role, "password": TEMPORARY})
    assert response.status_code == 302
    return store.find_user(email)


def test_an_account_an_administrator_adds_must_change_its_password_before_anything_else(app, admin):
    user = add_by_admin(admin, role="admin")  # even an administrator's own pages stay closed
    assert user.must_change_password
    assert events("user_created")[-1].detail["temporary"] is True
    assert "Temporary password" in admin.get("/admin/users").get_data(as_text=True)

    client = app.test_client()
    response = sign_in(client, user.email, TEMPORARY)
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "Your password was set by an administrator" in page
    assert "must be different from the one you were given" in page
    assert 'href="/admin/users"' not in page and 'href="/front-door' not in page  # no menu to pages that are shut
    assert "call 999" in page  # the immediate danger banner is still on it
    for path in ("/", "/admin/users", "/guide/", "/front-door", "/reports", "/no-such-page"):
        response = client.get(path)
        assert (response.status_code, response.headers.get("Location")) == (302, "/account/password"), path
    refused = client.post("/admin/users/new", data={"email": "sneaky@example.org", "name": "S", "role": "admin",
                                                    "password": "a long enough password"})
    assert refused.headers["Location"] == "/account/password"
    assert store.find_user("sneaky@example.org") is None

    # The new password must differ from the temporary one.
    same = change_password(client, TEMPORARY, TEMPORARY)
    assert same.status_code == 400
    assert "Your new password must be different from your current password" in same.get_data(as_text=True)
    db.session.refresh(user)
    assert user.must_change_password and passwords.verify(user.password_hash, TEMPORARY)

    response = change_password(client, TEMPORARY, MINE)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    db.session.refresh(user)
    assert not user.must_change_password
    assert client.get("/admin/users").status_code == 200
    event = events("password_changed")[-1]
    assert (event.user_id, event.detail) == (user.id, {"temporary": False, "replaced_temporary": True})
    # Next time, straight in.
    again = sign_in(app.test_client(), user.email, MINE)
    assert again.headers["Location"] == "/"


def test_sign_out_still_works_and_the_temporary_password_still_must_be_changed_next_time(app, admin):
    user = add_by_admin(admin)
    client = app.test_client()
    sign_in(client, user.email, TEMPORARY)
    response = submit(client, "/sign-out", {}, form_page="/account/password")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get("/account/password").headers["Location"] == "/sign-in"  # signed out
    assert sign_in(app.test_client(), user.email, TEMPORARY).headers["Location"] == "/account/password"


def test_after_changing_it_the_user_goes_where_they_were_going(app, admin):
    user = add_by_admin(admin)
    client = app.test_client()
    assert client.get("/guide/").headers["Location"] == "/sign-in"
    assert sign_in(client, user.email, TEMPORARY).headers["Location"] == "/account/password"
    assert change_password(client, TEMPORARY, MINE).headers["Location"] == "/guide/"


def test_a_session_already_open_when_the_flag_is_set_is_shut_too(app, users):
    # set_password ends every session; this is the backstop if the flag is ever set another way.
    user = users["front_door"]
    client = app.test_client()
    store.set_password(user, TEMPORARY, actor=users["admin"])
    sign_in_as(client, user)
    assert client.get("/front-door").headers["Location"] == "/account/password"


def test_an_administrators_reset_is_temporary_and_a_users_own_change_is_not(app, users):
    user = users["referrer"]
    store.set_password(user, TEMPORARY, actor=users["admin"])
    assert user.must_change_password
    assert events("password_changed")[-1].detail == {"temporary": True}
    store.set_password(user, MINE, actor=user)
    assert not user.must_change_password


def test_accounts_from_the_command_line_have_temporary_passwords(app, users):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "someone@example.org", "--role", "referrer"], input=TEMPORARY + "\n")
    assert result.exit_code == 0 and "temporary password" in result.output
    assert store.find_user("someone@example.org").must_change_password

    assert not users["policy_lead"].must_change_password
    result = runner.invoke(args=["users", "set-password", "policy.lead@example.org"], input=TEMPORARY + "\n")
    assert result.exit_code == 0 and "temporary password" in result.output
    assert store.find_user("policy.lead@example.org").must_change_password
    listed = runner.invoke(args=["users", "list"]).output
    assert [line for line in listed.splitlines() if "temporary password" in line] == [
        line for line in listed.splitlines() if line.startswith(("someone@", "policy.lead@"))]
    assert sign_in(app.test_client(), "someone@example.org", TEMPORARY).headers["Location"] == "/account/password"


def test_the_operators_own_first_administrator_is_not_temporary(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "me@council.example", "--role", "admin", "--own-account"],
                           input=MINE + "\n")
    assert result.exit_code == 0, result.output
    assert not store.find_user("me@council.example").must_change_password
    assert sign_in(app.test_client(), "me@council.example", MINE).headers["Location"] == "/"


@pytest.mark.parametrize("role", ["admin", "referrer"])
def test_own_account_is_only_for_the_first_administrator(app, users, role):
    # With an administrator already there (users), --own-account is refused, whatever the role: a
    # second operator account is added like anyone else's.
    result = app.test_cli_runner().invoke(args=["users", "add", "second@council.example", "--role", role,
                                                "--own-account"], input=MINE + "\n")
    assert result.exit_code == 1 and "only for the first administrator" in result.output
    assert store.find_user("second@council.example") is None


def test_own_account_is_refused_for_a_first_account_that_is_not_an_administrator(app):
    result = app.test_cli_runner().invoke(args=["users", "add", "someone@council.example", "--role", "referrer",
                                                "--own-account"], input=MINE + "\n")
    assert result.exit_code == 1 and store.find_user("someone@council.example") is None


def test_the_demo_accounts_sign_in_as_printed(app):
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    for role in ("referrer", "front_door", "policy_lead", "admin"):
        response = sign_in(app.test_client(), demo.demo_user(role).email, demo.DEMO_PASSWORD)
        assert response.headers["Location"] == "/", role

