"""Hostile input, faults and audit: refused characters, a database or Redis that is down,
thresholds that fail to load, denials audited, no secrets in the audit log, drafts capped.
"""
from __future__ import annotations

import logging
import re
import shutil
import time

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD, ROLES, ROOT, csrf_token, make_app, sign_in_as, submit
from signpost import store
from signpost.extensions import db
from signpost.hygiene import bad_character, escape
from signpost.models import Assessment, AuditEvent, Draft, ExternalContact, Referral, User

from test_journey_web import started_a_while_ago, walker  # noqa: F401  (the fixture)
from signpost.values import uk_today

HIDDEN = ["\x00", "\x07", "\u200b", "\u202e", "\ufeff", "\x1b[31m"]


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------- the characters

@pytest.mark.parametrize("char", ["\x00", "\x1f", "\x7f", "\x85", "\u200b", "\u200e", "\u2066", "\ufeff", "\ud800"])
def test_refused_characters(char):
    assert bad_character(f"abc{char}def") == char


@pytest.mark.parametrize("text", ["plain", "Zoë's café — 😀", "line one\nline two\r\n\tindented", "NM1 4AB"])
def test_ordinary_text_is_accepted(text):
    assert bad_character(text) is None


def test_newlines_are_refused_where_text_is_not_typed():
    assert bad_character("a\nb", allow_newlines=False) == "\n"


def test_escape_makes_one_printable_line():
    assert escape("GET /x\nFORGED 200\x00\u202e") == "GET /x\\x0aFORGED 200\\x00\\u202e"


# ---------------------------------------------------------------------------- at the edge

@pytest.mark.parametrize("char", HIDDEN)
def test_sign_in_with_a_hidden_character_is_an_error_beside_the_field(client, users, char):
    response = submit(client, "/sign-in", {"email": f"referrer@example.org{char}", "password": PASSWORD})
    assert response.status_code == 200
    assert "hidden or control character" in response.text and 'href="#email"' in response.text
    assert audit("signed_in") == []


def test_a_hidden_character_in_a_password_is_refused_too(client, users):
    response = submit(client, "/sign-in", {"email": "referrer@example.org", "password": PASSWORD + "\x00"})
    assert response.status_code == 200 and "hidden or control character" in response.text


@pytest.mark.parametrize("path", ["/refer/my-referrals/NM%00-1", "/refer/%E2%80%AEabout-you", "/x%0aFORGED"])
def test_a_hidden_character_in_the_address_is_a_400(referrer, path):
    response = referrer.get(path)
    assert response.status_code == 400 and "not allowed" in response.text
    assert response.headers["Content-Security-Policy"]


def test_a_hidden_character_in_a_query_is_a_400(referrer):
    assert referrer.get("/?x=%00").status_code == 400


def test_a_url_cannot_forge_a_log_line(client, caplog):
    from signpost.hygiene import EscapingFilter
    record = logging.LogRecord("signpost", logging.ERROR, __file__, 1, "Exception on %s [%s]",
                               ("/x\n2026-01-01 INFO forged", "GET"), None)
    EscapingFilter().filter(record)
    assert "\n" not in record.getMessage() and "\\x0a" in record.getMessage()
    handlers = logging.getLogger().handlers
    assert handlers and all(any(isinstance(f, EscapingFilter) for f in h.filters) for h in handlers)


def test_draft_ids_with_a_nul_never_reach_the_database(referrer):
    token = csrf_token(referrer, "/refer/drafts")
    for path in ("/refer/drafts/resume", "/refer/drafts/delete"):
        response = referrer.post(path, data={"csrf_token": token, "draft_id": "abc\x00def"})
        assert response.status_code in (400, 404), path


def test_admin_forms_refuse_hidden_characters_and_blank_names(admin):
    before = count(User)
    response = submit(admin, "/admin/users/new", {"email": "new@example.org", "name": "Ann\u200b",
                                                  "role": "referrer", "password": "a long password 123"})
    assert response.status_code == 400 and "hidden or control character" in response.text
    response = submit(admin, "/admin/users/new", {"email": "new@example.org", "name": "   ",
                                                  "role": "referrer", "password": "a long password 123"})
    assert response.status_code == 400 and "Enter the person" in response.text
    assert count(User) == before


def test_a_line_break_or_tab_in_a_one_line_field_is_refused_but_kept_in_a_typed_answer(walker):
    """A name or phone number holding a line break would be stored and shown as two lines (or a forged
    one); a textarea (the address, what happened) keeps the referrer's line breaks."""
    from test_journey_web import level_items, referral_details
    walker.concerns([level_items(4)[0]], location=walker.to_concerns())
    walker.finish_questions()
    for field, value in (("first_name", "Jane\nIGNORE"), ("referrer_phone", "01632\n960777"),
                         ("last_name", "Example\t")):
        response = walker.post("/refer/referral", referral_details(**{field: value}))
        assert response.status_code == 200 and "hidden or control character" in response.text, field
        assert f'href="#{field}"' in response.text
    assert walker.post("/refer/referral", referral_details(address="1 Fictional Row\nNorthmere")).status_code == 302
    assert walker.answers().sending.details["address"] == "1 Fictional Row\nNorthmere"


@pytest.mark.parametrize("path", ["/sign-in", "/admin/users/new"])
def test_a_json_body_to_a_form_page_is_a_400_not_a_server_error(client, admin, path):
    """Flask-WTF would read a JSON body as the form's data, giving numbers and objects to text fields."""
    for who in (client, admin):
        token = csrf_token(who, "/sign-in" if who is client else "/admin/users/new")
        response = who.post(path, json={"csrf_token": token, "email": {"a": 1}, "password": 5, "name": True},
                            headers={"X-CSRFToken": token})
        assert response.status_code == 400 and "takes a form, not JSON" in response.text
    assert count(User) == len(ROLES)


def test_api_lone_surrogate_is_a_json_400_naming_the_field(client):
    body = '{"age_months": 60, "indicators": ["a", "\\ud800"]}'
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400 and response.is_json
    (problem,) = response.get_json()["errors"]
    assert problem["field"] == "indicators[1]" and "U+D800" in problem["message"]


def test_api_nul_in_a_key_is_a_json_400(client):
    response = client.post("/api/v1/assess", data='{"indicators": [], "age\\u0000": 1}',
                           content_type="application/json")
    assert response.status_code == 400 and response.is_json


def test_nothing_is_stored_from_a_request_with_refused_characters(app, users):
    """The store's backstop: even a view that skipped its form's checks cannot save."""
    from flask import g
    with app.test_request_context("/refer/x", method="POST"):
        g.unsafe_fields = {"reason": "\x00"}
        with pytest.raises(store.UnsafeInput):
            store.update_user(users["admin"], name="Changed", actor="test")
    db.session.rollback()
    assert db.session.get(User, users["admin"].id).name != "Changed"


# ---------------------------------------------------------------------------- form validators

@pytest.mark.parametrize("postcode,ok", [("SW1A 1AA", True), ("nm1 4ab", True), ("M1 1AE", True),
                                         ("B33 8TH", True), ("CR2 6XH", True), ("DN55 1PT", True),
                                         ("12345", False), ("NM1", False), ("QQ1 1AA", False), ("", True)])
def test_uk_postcode_shape(app, postcode, ok):
    from wtforms import Form, StringField

    from signpost.web.forms import normalise_postcode, uk_postcode

    class F(Form):
        postcode = StringField(validators=[uk_postcode()], filters=[normalise_postcode])
    from werkzeug.datastructures import MultiDict
    form = F(MultiDict({"postcode": postcode}))
    assert form.validate() is ok, form.errors


@pytest.mark.parametrize("phone,ok", [("01632 960 001", True), ("07700 900982", True), ("+44 7700 900982", True),
                                      ("+44 (0)1632 960001", True), ("020 7946 0000", True),
                                      ("999", False), ("12345678901", False), ("phone me", False)])
def test_uk_phone_shape(app, phone, ok):
    from werkzeug.datastructures import MultiDict
    from wtforms import Form, StringField

    from signpost.web.forms import uk_phone

    class F(Form):
        phone = StringField(validators=[uk_phone()])
    assert F(MultiDict({"phone": phone})).validate() is ok


# ---------------------------------------------------------------------------- faults

def test_database_down_is_a_styled_503_with_the_numbers_for_a_signed_in_user(tmp_path, caplog):
    app = make_app(f"sqlite:///{tmp_path / 'db' / 'x.db'}")
    with app.app_context():
        db.create_all()
        user = store.create_user("r@example.org", "R", "referrer", "a long password here", actor="test")
        client = app.test_client()
        sign_in_as(client, user)
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp_path / "db")
    (tmp_path / "db").write_text("not a folder")  # SQLite can no longer open it
    response = client.get("/refer/drafts")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Sorry, the service is unavailable" in html and "call 999" in html
    contacts = app.extensions["signpost.library"].versions[-1].document.contacts
    assert contacts.front_door.phone in html and contacts.out_of_hours.phone in html
    assert "Content-Security-Policy" in response.headers and response.headers["Cache-Control"] == "no-store"


def test_redis_down_still_signs_in_with_in_memory_limits(tmp_path, caplog):
    app = make_app(f"sqlite:///{tmp_path / 'r.db'}", RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                   RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.2, "socket_timeout": 0.2})
    with app.app_context():
        db.create_all()
        store.create_user("r@example.org", "R", "referrer", "a long password here", actor="test")
        client = app.test_client()
        with caplog.at_level(logging.WARNING):
            response = submit(client, "/sign-in", {"email": "r@example.org", "password": "a long password here"})
        assert response.status_code == 302
        assert any("falling back to in-memory" in r.getMessage() for r in caplog.records)
        assert client.post("/api/v1/assess", json={"indicators": [], "age_months": 60}).status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["checks"]["rate_limit_store"] == "unavailable"
        assert health.get_json()["checks"]["database"] == "ok"
        assert client.get("/healthz?only=database,thresholds").status_code == 200
        # The in-memory counts still throttle: the per-account limit is 5 failures.
        fresh = app.test_client()
        codes = [submit(fresh, "/sign-in", {"email": "r@example.org", "password": "wrong"}).status_code
                 for _ in range(7)]
        assert codes[-1] == 429
    from signpost.extensions import limiter
    limiter._storage_dead = False  # the limiter is one object for every app in this process


def _good_version_long_ago(tmp_path):
    """A thresholds folder with one good version, in force since 2020; (folder, its file, yesterday)."""
    import datetime as dt
    folder = tmp_path / "thresholds"
    folder.mkdir()
    good = sorted((ROOT / "thresholds").glob("*.yaml"))[-1]
    (folder / good.name).write_text(re.sub(r"(?m)^effective_from: .*$", "effective_from: 2020-01-01",
                                           good.read_text(), count=1))
    return folder, good, uk_today() - dt.timedelta(days=1)


def _broken_newer_version(folder, good, effective):
    """A copy of the good version that fails to load (an unknown key), in force from `effective`."""
    (folder / "northmere-2099-99.yaml").write_text(
        good.read_text().replace(good.stem, "northmere-2099-99").replace(
            "effective_from:", f"effective_from: {effective.isoformat()}\nunknown_key: 1\nxeffective_from:", 1))


def test_a_newer_version_that_failed_to_load_is_never_replaced_by_an_older_one(tmp_path):
    # The good version took effect long ago; the broken one's date (yesterday) is newer.
    folder, good, yesterday = _good_version_long_ago(tmp_path)
    _broken_newer_version(folder, good, yesterday)
    app = make_app(f"sqlite:///{tmp_path / 't.db'}", THRESHOLDS_DIR=str(folder))
    with app.app_context():
        db.create_all()
        client = app.test_client()
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["checks"]["thresholds"]["status"] == "unavailable"
        assert health.get_json()["checks"]["thresholds"]["files_not_loaded"] == 1
        response = client.post("/api/v1/assess", json={"indicators": [], "age_months": 60})
        assert response.status_code == 503
        page = client.get("/sign-in").get_data(as_text=True)
        contacts = app.extensions["signpost.library"].versions[-1].document.contacts
        assert contacts.front_door.phone in page  # the numbers are still on every page


def test_healthz_reports_files_that_failed_to_load_but_stays_up_when_the_version_in_force_is_fine(tmp_path):
    folder = tmp_path / "thresholds"
    folder.mkdir()
    for f in (ROOT / "thresholds").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    # Broken, but dated before the version in force: it could never be in force now.
    (folder / "broken.yaml").write_text("id: [unclosed\neffective_from: 2001-01-01\n")
    app = make_app(f"sqlite:///{tmp_path / 'h.db'}", THRESHOLDS_DIR=str(folder))
    with app.app_context():
        db.create_all()
        health = app.test_client().get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["checks"]["thresholds"] == {"status": "ok", "files_not_loaded": 1}


@pytest.mark.parametrize("broken", ["syntax", "no_date"])
def test_a_newer_file_whose_yaml_is_broken_is_not_replaced_by_an_older_version(tmp_path, broken, caplog):
    """A tab on line 201 makes the whole file unreadable as YAML: its date is still read from its own
    line, and once it has come the older version is not used. A file whose date cannot be read at
    all (a skeleton, a stray file) could never come into force: it blocks nothing, and is logged."""
    folder, good, yesterday = _good_version_long_ago(tmp_path)
    text = good.read_text().replace(good.stem, "northmere-new")
    text = re.sub(r"(?m)^effective_from: .*$", f"effective_from: {yesterday.isoformat()}", text, count=1)
    lines = text.splitlines()
    lines[200] = "\t" + lines[200]
    if broken == "no_date":
        lines = [line for line in lines if not line.startswith("effective_from:")]
    (folder / "northmere-new.yaml").write_text("\n".join(lines) + "\n")
    with caplog.at_level(logging.ERROR):
        app = make_app(f"sqlite:///{tmp_path / 't.db'}", THRESHOLDS_DIR=str(folder))
    with app.app_context():
        db.create_all()
        client = app.test_client()
        health = client.get("/healthz")
        thresholds = health.get_json()["checks"]["thresholds"]
        assert thresholds["files_not_loaded"] == 1
        assessed = client.post("/api/v1/assess", json={"indicators": [], "age_months": 60})
        if broken == "syntax":
            assert health.status_code == 503 and thresholds["status"] == "unavailable"
            assert assessed.status_code == 503
        else:
            assert health.status_code == 200 and thresholds["status"] == "ok" and assessed.status_code == 200
            assert any("effective_from cannot be read" in r.getMessage() for r in caplog.records)


def test_a_draft_being_answered_gets_no_advice_while_a_newer_version_failed_to_load(tmp_path):
    """Mid-journey when a newer version that failed to load comes into force: the draft's own
    (older) version is not used for its pages or its recommendation either."""
    folder, good, yesterday = _good_version_long_ago(tmp_path)
    app = make_app(f"sqlite:///{tmp_path / 'd.db'}", THRESHOLDS_DIR=str(folder))
    with app.app_context():
        db.create_all()
        user = store.create_user("d@example.org", "D", "referrer", PASSWORD, actor="test")
        client = app.test_client()
        sign_in_as(client, user)
        token = csrf_token(client, "/")
        assert client.post("/refer/new", data={"csrf_token": token}).status_code == 302
        assert client.get("/refer/danger").status_code == 200
        _broken_newer_version(folder, good, yesterday)
        from signpost.content import load_content
        load_content(app)
        for path in ("/refer/danger", "/refer/check", "/refer/recommendation"):
            page = client.get(path)
            assert page.status_code == 503, path
            assert "999" in page.text
        assert db.session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_published_versions_stay_in_force_while_the_database_does_not_answer(app, monkeypatch):
    """A version published from Signpost exists only in the database: a failed read (a pool timeout,
    a restart) keeps the versions last read, rather than the older files taking over."""
    from sqlalchemy.exc import OperationalError

    import datetime as dt

    from signpost import content
    files = app.extensions["signpost.library"]
    last = files.in_force(uk_today())
    newer = last.id
    app.config["THRESHOLDS_CACHE_SECONDS"] = 0
    without = content.Library(versions=tuple(v for v in files.versions if v is not last), problems=files.problems)
    app.extensions["signpost.library"] = without  # the version in force is only "published"
    monkeypatch.setattr(content, "_published_rows", lambda app: [(last.id, last.content_hash, None)])
    content._parsed[last.content_hash] = last
    assert content.current_library().by_id(newer) is not None

    def down(app):
        raise OperationalError("SELECT", {}, Exception("database is away"))
    monkeypatch.setattr(content, "_published_rows", down)
    assert content.current_library().by_id(newer) is not None
    assert content.current_version_or_none() == last


def test_a_published_version_that_does_not_load_blocks_older_ones_from_its_date(app, monkeypatch):
    """A stored version that does not load (edited by hand in the database, say) is treated as a
    broken file is: from its date, the older version is not used in its place."""
    import datetime as dt

    from signpost import content
    files = app.extensions["signpost.library"]
    today = uk_today()
    app.extensions["signpost.library"] = content.Library(
        versions=tuple(v for v in files.versions if v.effective_from < today), problems=files.problems)
    assert content.current_library().in_force(today).effective_from < today
    row = ("northmere-hand-edited", "0" * 64, f"id: northmere-hand-edited\neffective_from: {today}\nbroken: [\n")
    assert content.merge_published(files, [row]).unloaded == (("northmere-hand-edited.yaml (published)", today),)
    app.config["THRESHOLDS_CACHE_SECONDS"] = 0
    monkeypatch.setattr(content, "_published_rows", lambda app: [row])
    assert content.blocking_failures() and content.current_version_or_none() is None


def test_healthz_refuses_an_unknown_check_name(client):
    response = client.get("/healthz?only=databse,thresholds")
    assert response.status_code == 400
    assert response.get_json()["error"] == ("only: unknown check databse; use database, rate_limit_store, "
                                            "thresholds")


# ---------------------------------------------------------------------------- audit

def test_a_referrer_on_an_admin_page_is_audited(referrer, users):
    assert referrer.get("/admin/users").status_code == 403
    (event,) = audit("access_denied")
    assert event.user_id == users["referrer"].id
    assert event.detail["status"] == 403 and event.detail["path"] == "/admin/users"
    assert event.detail["endpoint"] == "admin.users" and event.detail["role"] == "referrer"


def test_another_users_draft_is_a_404_and_audited(app, users, referrer):
    other = store.create_user("other@example.org", "Other", "referrer", PASSWORD, actor="test")
    from signpost.content import current_version
    theirs = store.start_draft(other, current_version())
    token = csrf_token(referrer, "/refer/drafts")
    for path in ("/refer/drafts/resume", "/refer/drafts/delete"):
        assert referrer.post(path, data={"csrf_token": token, "draft_id": theirs.id}).status_code == 404
    events = audit("access_denied")
    assert len(events) == 2 and {e.record_id for e in events} == {theirs.id}
    assert all(e.record_type == "drafts" and e.detail["status"] == 404 for e in events)
    assert db.session.get(Draft, theirs.id) is not None
    # A draft id that does not exist is a 404 too, and nothing to audit as a denial.
    assert referrer.post("/refer/drafts/resume", data={"csrf_token": token, "draft_id": "nope"}).status_code == 404
    assert len(audit("access_denied")) == 2


def test_a_password_typed_into_the_email_box_is_not_in_the_audit_log(client, users):
    secret = "Hunter2-correct-horse"
    submit(client, "/sign-in", {"email": secret, "password": "x"})
    submit(client, "/sign-in", {"email": secret + "@example.org", "password": "x"})
    stored = " ".join(str(e.detail) + e.actor for e in db.session.scalars(select(AuditEvent)))
    assert secret not in stored


def test_audit_detail_never_keeps_secrets_or_control_characters(app):
    with app.test_request_context("/"):
        store.record_view("test_event", actor="test", record_type="x", password="p4ss", note="a\nb\x00",
                          long="y" * 5000)
    (event,) = audit("test_event")
    assert event.detail["password"] == "[removed]"
    assert event.detail["note"] == "a\\x0ab\\x00" and len(event.detail["long"]) <= 500


def test_open_drafts_are_capped(app, users, referrer):
    app.config["MAX_OPEN_DRAFTS"] = 3
    token = csrf_token(referrer, "/")
    for _ in range(3):
        assert referrer.post("/refer/new", data={"csrf_token": token}).location == "/refer/danger"
        started_a_while_ago()  # so that the next Start is not taken for a double-click
    response = referrer.post("/refer/new", data={"csrf_token": token})
    assert response.location == "/refer/drafts"
    assert count(Draft) == 3
    page = referrer.get("/refer/drafts").text
    assert "3 unfinished drafts" in page
    # A referrer who pressed Start for a child in danger cannot reach the danger question: told first what to do.
    notice = page.index("If a child is in immediate danger, call 999 now.", page.index("govuk-notification-banner"))
    assert notice < page.index("3 unfinished drafts")


def test_the_idle_kept_form_keeps_only_the_pages_fields_and_has_a_size_cap(app, users, referrer):
    token = csrf_token(referrer, "/")
    referrer.post("/refer/new", data={"csrf_token": token})
    with referrer.session_transaction() as session:
        draft_id = session["draft_id"]
    referrer.post("/refer/danger", data={"csrf_token": token, "draft_id": draft_id, "in_danger": "no"})

    def idle_post(path, data):
        with referrer.session_transaction() as session:
            session["last_seen"] = int(time.time()) - 31 * 60
        response = referrer.post(path, data={"csrf_token": token, "draft_id": draft_id, **data})
        sign_in_as(referrer, db.session.get(User, users["referrer"].id))
        return response

    idle_post("/refer/about-you", {"role": "dsl", "organisation": "school", "evil": "x" * 100})
    draft = db.session.scalar(select(Draft))
    db.session.refresh(draft)
    assert draft.kept_forms == {"about-you": {"role": ["dsl"], "organisation": ["school"]}}
    idle_post("/refer/about-you", {"role": "x" * 40000})
    db.session.refresh(draft)
    assert "x" * 100 not in str(draft.kept_forms)
    idle_post("/refer/not-a-page", {"role": "dsl"})
    db.session.refresh(draft)
    assert "not-a-page" not in (draft.kept_forms or {})


# ---------------------------------------------------------------------------- the causes found before

def walk(client, upto: str | None = None) -> str:
    """Post the load test's journey (loadtests/journey_plan.py) up to a page; the CSRF token.

    Every post names its draft, as the pages' forms do."""
    import sys
    sys.path.insert(0, str(ROOT / "loadtests"))
    from journey_plan import PLAN
    token = csrf_token(client, "/")
    location = client.post("/refer/new", data={"csrf_token": token}).location
    with client.session_transaction() as session:
        draft_id = session["draft_id"]
    client.draft_id = draft_id
    while location in PLAN and location != upto:
        response = client.post(location, data={"csrf_token": token, "draft_id": draft_id, **PLAN[location]})
        assert response.status_code == 302, location
        location = response.location
    return token


def referral_details(**overrides):
    from journey_plan import PLAN
    return {**PLAN.referral, **overrides}


@pytest.fixture
def at_referral(referrer):
    """A referrer whose journey reached the referral page (a top-level concern); posts with a token."""
    token = walk(referrer)

    class Poster:
        def post(self, path, data):
            return referrer.post(path, data={"csrf_token": token, "draft_id": referrer.draft_id, **data})
    return Poster()


def test_about_the_child_with_fields_missing_is_an_error_not_a_500(referrer):
    token = walk(referrer, upto="/refer/about-child")
    for data in ({"born": "born"}, {"born": "unborn"}, {"born": "born", "years": "3"}, {}):
        response = referrer.post("/refer/about-child", data={"csrf_token": token, "draft_id": referrer.draft_id,
                                                             **data})
        assert response.status_code == 200 and "govuk-error-summary" in response.text, data


@pytest.mark.parametrize("value", ["   ", "\u200b", "\t\n", "\u00a0\u00a0"])
def test_required_referral_fields_holding_nothing_are_errors(at_referral, value):
    for field in ("address", "postcode", "parents", "referrer_phone", "first_name", "last_name"):
        response = at_referral.post("/refer/referral", referral_details(**{field: value}))
        assert response.status_code == 200 and "govuk-error-summary" in response.text, field
    assert count(Referral) == 0


@pytest.mark.parametrize("field,value", [("postcode", "12345"), ("referrer_phone", "call me")])
def test_referral_postcode_and_phone_must_look_british(at_referral, field, value):
    response = at_referral.post("/refer/referral", referral_details(**{field: value}))
    assert response.status_code == 200 and "govuk-error-message" in response.text
    assert count(Referral) == 0


def test_an_override_reason_of_only_spaces_is_an_error(at_referral):
    response = at_referral.post("/refer/disagree", {"route": "early_help", "reason": "    "})
    assert response.status_code == 200 and "Enter why you disagree" in response.text


# ---------------------------------------------------------------------------- the calendar's and the database's edges

YEAR_MESSAGE = "in a year from 1900 to 2999"


@pytest.mark.parametrize("query", ["start=0001-01-01", "start=0001-01&end=0001-01", "end=9999-12-31", "end=9999-12",
                                   "start=9999-12-31&end=9999-12-31", "baseline_end=9999-12-31",
                                   "start=0001-01-01&end=0001-01-01&baseline_start=0001-01-01&baseline_end=0001-01-01"])
def test_reports_refuse_a_year_out_of_range_with_a_message(policy_lead, query):
    """Year 1 and year 9999 have no year before or after them to work out a baseline or a period's end."""
    for path in ("/reports/", "/reports/monthly.csv"):
        response = policy_lead.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
    page = policy_lead.get(f"/reports/?{query}").text
    assert YEAR_MESSAGE in page and "govuk-error-summary" in page


@pytest.mark.parametrize("query", ["to=0001-01-01", "to=9999-12-31", "from=9999-12-31&to=9999-12-31",
                                   "from=0001-01-01"])
def test_a_simulation_refuses_a_year_out_of_range_with_a_message(app, users, query):
    from test_policy import start_draft
    client = app.test_client()
    sign_in_as(client, users["policy_lead"])
    draft_id = start_draft(client)
    response = client.get(f"/policy/drafts/{draft_id}/simulate?{query}")
    assert response.status_code == 200 and YEAR_MESSAGE in response.text


@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01", "allocated=%C2%B2", "allocated=2147483648",
                                   "allocated=9223372036854775808", "page=99999999999999999999"])
def test_the_queue_answers_any_filter_or_page_number_without_an_error(front_door, query):
    response = front_door.get(f"/front-door/?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/front-door/contacts?page=9223372036854775807",
                                  "/front-door/audit?page=99999999999999999999",
                                  "/front-door/audit?date_to=9999-12-31", "/front-door/audit?date_from=0001-01-01"])
def test_the_front_doors_lists_take_any_page_or_date(app, users, path):
    client = app.test_client()
    sign_in_as(client, users["admin" if "/audit" in path else "front_door"])
    response = client.get(path)
    assert response.status_code == 200
    if "date_" in path:
        assert YEAR_MESSAGE.replace("in a year", "Enter a date in a year") in response.text


def test_an_export_beyond_the_calendar_is_a_form_error(front_door):
    response = front_door.get("/front-door/export?date_from=2026-01-01&date_to=9999-12-31")
    assert response.status_code == 400 and "Enter a date in a year from 1900 to 2999" in response.text


@pytest.mark.parametrize("path", ["/admin/users/2147483648", "/admin/users/9223372036854775808",
                                  "/policy/drafts/2147483648", "/policy/drafts/99999999999999999999/publish"])
def test_an_id_too_long_for_any_record_is_not_found(app, users, path):
    client = app.test_client()
    sign_in_as(client, users["admin" if path.startswith("/admin") else "policy_lead"])
    assert client.get(path).status_code == 404
    client = app.test_client()
    sign_in_as(client, users["admin"])
    token = csrf_token(client, "/admin/users")
    assert client.post("/front-door/team/2147483648", data={"csrf_token": token, "manager": "yes"}).status_code == 404


@pytest.mark.parametrize("cell,problem", [
    ("received_at=0001-01-01T00:00+01:00", "in a year from 1900 to 2999"),
    ("decided_at=9999-12-31T23:59-01:00", "in a year from 1900 to 2999"),
    ("decided_at=2999-12-31 23:59", "decided_at: is in the future"),
    ("reference=" + '"' + "x" * 140_000 + '"', "cannot be read as CSV"),
])
def test_a_contacts_file_beyond_the_calendar_or_the_csv_limits_is_refused_line_by_line(front_door, cell, problem):
    from test_frontdoor import EXAMPLE, upload
    header, first, *_rest = EXAMPLE.splitlines()
    columns = header.split(",")
    column, value = cell.split("=", 1)
    row = first.split(",")
    row[columns.index(column)] = value
    response = upload(front_door, "\n".join([header, ",".join(row)]) + "\n")
    assert response.status_code == 400 and problem in html_text(response.text)
    assert count(ExternalContact) == 0


def html_text(page: str) -> str:
    import html
    return html.unescape(re.sub(r"\s+", " ", page))
