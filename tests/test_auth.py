"""Signing in and out, argon2id, throttling per account and address, idle timeout, users CLI.

Failed and successful sign-ins each leave an audit event; nothing tells an attacker which part was wrong.
"""
from __future__ import annotations

import time
import uuid

import pytest
import redis as redis_lib
import sqlalchemy as sa

from conftest import PASSWORD, csrf_token, make_app, sign_in_as, submit
from signpost import store
from signpost.extensions import db
from signpost.models import AuditEvent, User

BAD = "Enter a correct email address and password"


def events(action=None):
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.scalars(query).all()


def sign_in(client, email, password, path="/sign-in"):
    return submit(client, "/sign-in", {"email": email, "password": password}, form_page=path)


def test_sign_in_page(client):
    response = client.get("/sign-in")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrf_token"' in html


def test_sign_in_success_audited_and_goes_to_start(client, users):
    response = sign_in(client, "REFERRER@example.org ", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    (event,) = events("signed_in")
    assert event.user_id == users["referrer"].id and event.actor == "referrer@example.org"
    assert event.ip == "127.0.0.1"
    assert db.session.get(User, users["referrer"].id).last_sign_in_at is not None


@pytest.mark.parametrize("email,password,reason", [
    ("referrer@example.org", "wrong password", "wrong_password"),
    ("nobody@example.org", PASSWORD, "unknown_email"),
])
def test_failed_sign_in_same_message_and_audited(client, users, email, password, reason):
    response = sign_in(client, email, password)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert BAD in html and "govuk-error-summary" in html and "Error: Sign in" in html
    assert client.get("/").status_code == 302  # still signed out
    (event,) = events("sign_in_failed")
    if reason == "unknown_email":  # what was typed may be a password: only a keyed hash is kept
        assert set(event.detail) == {"typed_email_hash", "reason"} and email not in str(event.detail)
    else:
        assert event.detail == {"email": email, "reason": reason}
    assert event.actor == ("referrer@example.org" if reason == "wrong_password" else "anonymous")


def test_disabled_user_cannot_sign_in(client, users):
    store.update_user(users["referrer"], active=False, actor="test")
    response = sign_in(client, "referrer@example.org", PASSWORD)
    assert response.status_code == 200 and BAD in response.get_data(as_text=True)
    assert events("sign_in_failed")[0].detail["reason"] == "disabled"


def test_empty_form_shows_each_error(client):
    response = submit(client, "/sign-in", {"email": "", "password": ""})
    html = response.get_data(as_text=True)
    assert "Enter your email address" in html and "Enter your password" in html
    assert 'href="#email"' in html and 'href="#password"' in html


def test_passwords_are_argon2id_with_production_cost_by_default(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'cost.db'}", ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536,
                   ARGON2_PARALLELISM=4)
    from signpost import passwords, settings
    defaults = settings.from_environment({})
    assert (defaults["ARGON2_TIME_COST"], defaults["ARGON2_MEMORY_COST"]) == (3, 65536)
    with app.app_context():
        hashed = passwords.hash_password("a password")
        assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert passwords.verify(hashed, "a password")
        assert not passwords.verify(hashed, "another")
        assert not passwords.verify(None, "a password")
        assert not passwords.verify("not a hash", "a password")


def test_hash_is_upgraded_at_sign_in_when_the_cost_grows(client, users, app):
    old = users["referrer"].password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert sign_in(client, "referrer@example.org", PASSWORD).status_code == 302
    new = db.session.get(User, users["referrer"].id).password_hash
    assert new != old and ",t=2," in new


def test_session_is_new_after_sign_in(client, users):
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, "referrer@example.org", PASSWORD)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == users["referrer"].get_id()


def test_sign_out_needs_post_with_csrf_and_ends_every_session(app, users):
    one, two = app.test_client(), app.test_client()
    sign_in_as(one, users["referrer"])
    sign_in_as(two, users["referrer"])
    assert one.get("/sign-out").status_code == 405
    assert one.post("/sign-out").status_code == 400  # no CSRF token
    assert one.get("/").status_code == 200

    response = submit(one, "/sign-out", {}, form_page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "You have signed out" in one.get("/sign-in").get_data(as_text=True)
    assert one.get("/").status_code == 302
    assert two.get("/").status_code == 302  # the other browser's cookie no longer matches
    assert [e.action for e in events()][-1] == "signed_out"


def test_stolen_cookie_stops_working_after_sign_out(app, users):
    client = app.test_client()
    sign_in_as(client, users["admin"])
    cookie = client.get_cookie("signpost_session").value
    submit(client, "/sign-out", {}, form_page="/")
    thief = app.test_client()
    thief.set_cookie("signpost_session", cookie)
    assert thief.get("/admin/users").status_code == 302


def test_idle_timeout_signs_out_and_returns_where_they_were(app, users, admin):
    assert admin.get("/admin/users/new").status_code == 200
    with admin.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 31 * 60
    response = admin.get("/admin/users/new")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = admin.get("/sign-in").get_data(as_text=True)
    assert "You were signed out because you had not done anything for 30 minutes" in page
    assert events("signed_out")[-1].detail == {"reason": "idle"}

    response = sign_in(admin, "admin@example.org", PASSWORD)
    assert response.headers["Location"] == "/admin/users/new"


def test_a_session_longer_than_the_maximum_ends_however_busy_and_says_so(app, users, admin):
    # Someone working all day is signed out after SESSION_MAX_HOURS: told it was inactivity, they
    # would not understand why, having just clicked something.
    with admin.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 12 * 3600 - 60
    response = admin.get("/admin/users/new")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = admin.get("/sign-in").get_data(as_text=True)
    assert "You were signed out because you had been signed in for 12 hours" in page
    assert "had not done anything" not in page
    assert events("signed_out")[-1].detail == {"reason": "session_too_old"}
    assert sign_in(admin, "admin@example.org", PASSWORD).headers["Location"] == "/admin/users/new"


def test_a_page_soon_after_another_leaves_the_session_cookie_alone(app, users, referrer):
    """The time of last activity is refreshed at most every LAST_SEEN_EVERY seconds: most pages
    send no Set-Cookie (nothing re-signed), and the idle limit allows for the difference."""
    from signpost.web.security import LAST_SEEN_EVERY
    referrer.get("/")  # the first page may set the session's CSRF secret
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 2
    assert "Set-Cookie" not in referrer.get("/").headers
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - LAST_SEEN_EVERY - 1
    assert "signpost_session=" in referrer.get("/").headers["Set-Cookie"]
    with referrer.session_transaction() as session:
        # Idle for the limit plus less than the refresh interval: still signed in.
        session["last_seen"] = int(time.time()) - 30 * 60 - LAST_SEEN_EVERY + 5
    assert referrer.get("/").status_code == 200


def test_stay_signed_in_starts_the_idle_clock_again_and_needs_the_csrf_token(app, users, referrer):
    """The idle-timeout warning's button (static/timeout.js): a request with nothing to show."""
    token = csrf_token(referrer, "/")
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 28 * 60
    assert referrer.post("/account/stay-signed-in").status_code == 400  # no token: refused (CSRF)
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 28 * 60
    response = referrer.post("/account/stay-signed-in", headers={"X-CSRFToken": token})
    assert response.status_code == 204 and response.get_data() == b""
    with referrer.session_transaction() as session:
        assert session["last_seen"] >= int(time.time()) - 5
    # Too late: signed out like any request after the timeout, and the script is told so (not 204).
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 31 * 60
    response = referrer.post("/account/stay-signed-in", headers={"X-CSRFToken": token})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert events("signed_out")[-1].detail == {"reason": "idle"}


def test_every_signed_in_page_carries_the_timeout_warning_and_no_page_before_sign_in_does(app, users, client,
                                                                                        referrer):
    page = referrer.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="1800"' in page and 'data-stay-url="/account/stay-signed-in"' in page
    assert "/static/timeout.js?v=" in page and "You are about to be signed out" in page
    assert "data-timeout" not in client.get("/sign-in").get_data(as_text=True)


def test_activity_keeps_the_session_alive(app, users, referrer):
    with referrer.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 29 * 60
    assert referrer.get("/").status_code == 200
    with referrer.session_transaction() as session:
        assert session["last_seen"] >= int(time.time()) - 5



def test_anonymous_is_returned_to_the_page_asked_for(client, users):
    assert client.get("/admin/users?x=1").headers["Location"] == "/sign-in"
    assert sign_in(client, "admin@example.org", PASSWORD).headers["Location"] == "/admin/users?x=1"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_return_path_never_leaves_the_site(client, users, target):
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["return_to"] = target
    assert sign_in(client, "admin@example.org", PASSWORD).headers["Location"] == "/"


def test_signed_in_user_visiting_sign_in_goes_to_start(referrer):
    assert referrer.get("/sign-in").headers["Location"] == "/"


# ---- throttling ---------------------------------------------------------------------------------

@pytest.fixture
def app_settings(request):
    return getattr(request, "param", {})


LIMITS = {"SIGN_IN_LIMIT_PER_ACCOUNT": "3 per minute", "SIGN_IN_LIMIT_PER_ADDRESS": "5 per minute"}


@pytest.mark.parametrize("app_settings", [LIMITS], indirect=True)
def test_sign_in_throttled_per_account(client, users):
    token = csrf_token(client, "/sign-in")
    for _ in range(3):
        response = client.post("/sign-in", data={"csrf_token": token, "email": "admin@example.org",
                                                 "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/sign-in", data={"csrf_token": token, "email": "ADMIN@example.org",
                                             "password": PASSWORD})
    assert response.status_code == 429  # even the right password, until the window passes
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html and "If a child is in immediate danger, call 999" in html
    assert response.headers.get("Retry-After")
    # Another account from the same address is not locked out by this one.
    response = client.post("/sign-in", data={"csrf_token": token, "email": "referrer@example.org",
                                             "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("app_settings", [LIMITS], indirect=True)
def test_sign_in_throttled_per_address(client, users):
    token = csrf_token(client, "/sign-in")
    for n in range(5):
        response = client.post("/sign-in", data={"csrf_token": token, "email": f"guess{n}@example.org",
                                                 "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/sign-in", data={"csrf_token": token, "email": "admin@example.org",
                                             "password": PASSWORD})
    assert response.status_code == 429
    # A different address is unaffected.
    other = client.post("/sign-in", data={"csrf_token": token, "email": "admin@example.org", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 302


@pytest.mark.parametrize("app_settings", [LIMITS], indirect=True)
def test_successful_sign_ins_do_not_count(app, users):
    for _ in range(8):
        client = app.test_client()
        assert sign_in(client, "admin@example.org", PASSWORD).status_code == 302


def test_limits_are_shared_through_redis(app):
    url = "redis://127.0.0.1:6379/0"
    server = redis_lib.Redis.from_url(url, socket_connect_timeout=1)
    try:
        server.ping()
    except redis_lib.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    email = f"redis-{uuid.uuid4().hex[:10]}@example.org"  # a key no other run shares
    store.create_user(email, "Redis test", "referrer", PASSWORD, actor="test")
    settings = dict(RATELIMIT_STORAGE_URI=url, SIGN_IN_LIMIT_PER_ACCOUNT="2 per minute")
    database = db.engine.url.render_as_string(hide_password=False)
    # Attempts are counted in Redis, so every worker and host sees the same counts.
    first, second = make_app(database, **settings), make_app(database, **settings)
    try:
        for worker in (first, second):
            with worker.app_context():
                assert sign_in(worker.test_client(), email, "wrong").status_code == 200
        with first.app_context():
            assert sign_in(first.test_client(), email, PASSWORD).status_code == 429
        assert server.keys(f"LIMITS:*account:{email}*"), "no rate-limit keys were written to Redis"
    finally:
        for key in server.keys(f"LIMITS:*{email}*"):
            server.delete(key)
        for worker in (first, second):
            with worker.app_context():
                db.engine.dispose()


# ---- the users CLI ------------------------------------------------------------------------------

def test_cli_users_add_reads_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "New.Person@Example.org", "--role", "front_door",
                                 "--name", "New Person"], input="a very long password\n")
    assert result.exit_code == 0, result.output
    user = store.find_user("new.person@example.org")
    assert user.role == "front_door" and user.name == "New Person"
    from signpost import passwords
    assert passwords.verify(user.password_hash, "a very long password")
    event = events("user_created")[-1]
    assert event.actor == "cli" and event.record_id == str(user.id)


@pytest.mark.parametrize("args,stdin,message", [
    (["users", "add", "x@example.org", "--role", "admin"], "short\n", "12 characters or more"),
    (["users", "add", "x@example.org", "--role", "admin"], "p" * 1025 + "\n", "1024 characters or fewer"),
    (["users", "add", "x@example.org", "--role", "wizard"], "a very long password\n", "Invalid value"),
])
def test_cli_users_add_rejects_bad_input(app, args, stdin, message):
    result = app.test_cli_runner().invoke(args=args, input=stdin)
    assert result.exit_code != 0 and message in result.output
    assert store.find_user("x@example.org") is None


@pytest.mark.parametrize("email", ["notanemail", "x@example", "x@@example.org"])
def test_cli_users_add_refuses_what_is_not_an_email_address(app, email):
    result = app.test_cli_runner().invoke(args=["users", "add", email, "--role", "referrer"],
                                          input="a very long password\n")
    assert result.exit_code == 1
    assert "Enter an email address in the correct format, like name@example.org." in result.output
    assert not db.session.scalars(sa.select(User)).all() and not events("user_created")


def test_cli_users_add_duplicate(app, users):
    result = app.test_cli_runner().invoke(args=["users", "add", "ADMIN@example.org", "--role", "admin"],
                                          input="a very long password\n")
    assert result.exit_code == 1 and "already an account" in result.output


def test_cli_set_role_and_disable(app, users):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "set-role", "referrer@example.org", "policy_lead"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", "referrer@example.org"]).exit_code == 0
    user = store.find_user("referrer@example.org")
    assert (user.role, user.active) == ("policy_lead", False)
    assert "referrer@example.org" in runner.invoke(args=["users", "list"]).output


def test_cli_set_password_and_unknown_account(app, users):
    from signpost import passwords
    runner = app.test_cli_runner()
    before = store.find_user("admin@example.org").session_version
    result = runner.invoke(args=["users", "set-password", "admin@example.org"], input="a brand new long password\n")
    assert result.exit_code == 0, result.output
    user = store.find_user("admin@example.org")
    assert passwords.verify(user.password_hash, "a brand new long password")
    assert user.session_version == before + 1  # old sessions end
    short = runner.invoke(args=["users", "set-password", "admin@example.org"], input="short\n")
    assert short.exit_code == 1 and "characters or more" in short.output
    missing = runner.invoke(args=["users", "disable", "nobody@example.org"])
    assert missing.exit_code == 1 and "No account for nobody@example.org" in missing.output


def test_demo_seed_is_idempotent_and_the_printed_sign_ins_work(app):
    from signpost import demo
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count
    assert demo.DEMO_PASSWORD in second.output
    for role in ("referrer", "front_door", "policy_lead", "admin"):
        email = demo.demo_user(role).email
        assert email in second.output and email.endswith(".example")
        client = app.test_client()
        assert sign_in(client, email, demo.DEMO_PASSWORD).status_code == 302



def test_every_demo_recommendation_reads_as_a_real_one_under_the_version_of_its_day(app):
    """A demo referrer's "My referrals" summaries showed "Level of need: ." and nothing else, and
    items from months ago were recorded under the version in force today."""
    from signpost.content import current_library
    from signpost.models import Assessment
    from signpost.workdays import uk_local
    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    library = current_library()
    assessments = db.session.scalars(sa.select(Assessment)).all()
    assert len(assessments) > 100
    for assessment in assessments:
        version = library.in_force(uk_local(assessment.completed_at).date())
        assert assessment.threshold_id == version.id, (assessment.id, assessment.completed_at)
        assert assessment.shown["level_name"] and assessment.shown["next_steps"], assessment.id
        assert {r["id"] for r in assessment.shown["reasons"]} <= set(assessment.reason_ids) | set(
            assessment.indicator_ids), assessment.id

def test_demo_seed_refuses_production(app):
    app.config["ENVIRONMENT"] = "production"
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 1 and "Refusing" in result.output
    assert store.count_users() == 0


def test_an_app_with_limits_off_does_not_switch_them_off_for_the_next_app(tmp_path):
    from conftest import make_app
    make_app(f"sqlite:///{tmp_path / 'a.db'}", RATELIMIT_ENABLED=False)
    later = make_app(f"sqlite:///{tmp_path / 'b.db'}")
    from signpost.extensions import limiter
    assert later.config["RATELIMIT_ENABLED"] is True and limiter.enabled is True


def test_the_limiter_skips_only_requests_that_have_no_limits(app):
    """extensions.LIMITED_* let every other request skip the limiter: each limit declared must be
    on an endpoint it names (Flask-Limiter keeps them in its manager; there is no public list)."""
    from flask_limiter.util import get_qualified_name

    from signpost.extensions import LIMITED_BLUEPRINT, LIMITED_ENDPOINTS, limiter
    manager = limiter.limit_manager
    assert set(manager._blueprint_limits) == {LIMITED_BLUEPRINT}
    endpoints = {get_qualified_name(view): endpoint for endpoint, view in app.view_functions.items()}
    assert {endpoints[name] for name in manager._decorated_limits} == LIMITED_ENDPOINTS


NEW_PASSWORD = "a new password of my own"


def change_password(client, current, new, confirm=None, form_page="/account/password"):
    return submit(client, "/account/password", {"current_password": current, "new_password": new,
                                                "confirm_password": new if confirm is None else confirm},
                  form_page=form_page)


@pytest.mark.parametrize("role", ["referrer", "front_door", "policy_lead", "admin"])
def test_anyone_signed_in_changes_their_own_password_and_ends_their_other_sessions(app, users, role):
    # An administrator gives a temporary password: without this page it would never change, and the
    # administrator could sign in as that person with it.
    here, elsewhere = app.test_client(), app.test_client()
    sign_in_as(here, users[role])
    sign_in_as(elsewhere, users[role])
    page = here.get("/").get_data(as_text=True)
    assert 'href="/account/password"' in page  # found from every page
    response = change_password(here, PASSWORD, NEW_PASSWORD, form_page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Your password has been changed" in here.get("/").get_data(as_text=True)
    assert here.get("/account/password").status_code == 200  # this session carries on
    assert elsewhere.get("/").status_code == 302  # every other one has ended
    event = events("password_changed")[-1]
    assert (event.user_id, event.record_id) == (users[role].id, str(users[role].id))
    assert NEW_PASSWORD not in str(event.detail) and PASSWORD not in str(event.detail)
    assert sign_in(app.test_client(), users[role].email, PASSWORD).status_code == 200
    assert sign_in(app.test_client(), users[role].email, NEW_PASSWORD).status_code == 302


def test_changing_a_password_says_what_is_wrong_beside_each_field(referrer, users):
    before = users["referrer"].password_hash
    for current, new, confirm, field, message in (
            ("", "", "", "current_password", "Enter your current password"),
            (PASSWORD, "", "", "new_password", "Enter a new password"),
            (PASSWORD, "short", "short", "new_password", "Password must be 12 characters or more"),
            (PASSWORD, PASSWORD, PASSWORD, "new_password", "must be different from your current password"),
            (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "confirm_password", "Enter the same new password twice"),
            ("not my password", NEW_PASSWORD, NEW_PASSWORD, "current_password", "Your current password is not correct")):
        response = change_password(referrer, current, new, confirm)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, message
        assert "There is a problem" in html and message in html and f'href="#{field}"' in html, message
        assert "Error: Change your password" in html
    db.session.refresh(users["referrer"])
    assert users["referrer"].password_hash == before
    failed = events("password_change_failed")
    assert len(failed) == 1 and failed[0].user_id == users["referrer"].id
    assert "not my password" not in str(failed[0].detail)


@pytest.mark.parametrize("app_settings", [LIMITS], indirect=True)
def test_guessing_the_current_password_counts_with_failed_sign_ins(app, users):
    # Someone at an unlocked, signed-in screen cannot try passwords here faster than at sign-in.
    client = app.test_client()
    sign_in_as(client, users["referrer"])
    for n in range(3):
        assert change_password(client, f"guess {n}", NEW_PASSWORD).status_code == 400
    assert change_password(client, PASSWORD, NEW_PASSWORD).status_code == 429
    assert sign_in(app.test_client(), "referrer@example.org", PASSWORD).status_code == 429
