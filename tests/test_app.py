"""The app factory, settings, threshold loading, layout, error pages and /healthz.

Settings come from the environment once; production refuses to start without a real SECRET_KEY.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, make_app, submit
from signpost import create_app, settings
from signpost.content import current_version
from signpost.values import uk_today

# ---- settings ---------------------------------------------------------------------------------


def test_defaults_are_safe_for_make_run():
    config = settings.from_environment({})
    assert config["ENVIRONMENT"] == "development"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance' / 'signpost.db'}"
    assert config["SESSION_IDLE_MINUTES"] == 30
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["THRESHOLDS_DIR"] == str(ROOT / "thresholds")


def test_every_setting_is_read_from_the_environment():
    config = settings.from_environment({
        "SECRET_KEY": "k" * 40, "DATABASE_URL": "postgres://u:p@db.example:5432/signpost",
        "SIGNPOST_COUNCIL_NAME": "Elsewhere Council", "SIGNPOST_SESSION_IDLE_MINUTES": "15",
        "RATELIMIT_STORAGE_URI": "redis://cache:6379/2", "SIGNPOST_ENV": "production",
        "SIGNPOST_DRAFT_RETENTION_DAYS": "7", "SIGNPOST_THRESHOLDS_DIR": "/srv/thresholds",
        "SIGNPOST_DIRECTORY_PATH": "/srv/directory.yaml", "SIGNPOST_SECURE_COOKIES": "false",
        "SIGNPOST_TRUSTED_PROXIES": "1", "SIGNPOST_SESSION_MAX_HOURS": "8",
    })
    assert config["SECRET_KEY"] == "k" * 40
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example:5432/signpost"
    assert config["COUNCIL_NAME"] == "Elsewhere Council"
    assert config["SESSION_IDLE_MINUTES"] == 15 and config["SESSION_MAX_HOURS"] == 8
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"
    assert config["ENVIRONMENT"] == "production" and config["DRAFT_RETENTION_DAYS"] == 7
    assert config["THRESHOLDS_DIR"] == "/srv/thresholds" and config["DIRECTORY_PATH"] == "/srv/directory.yaml"
    assert config["SESSION_COOKIE_SECURE"] is False  # explicitly turned off (e.g. TLS ends elsewhere)
    assert config["TRUSTED_PROXIES"] == 1


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("storage,workers,threads", [
    ("", 1, 4), ("memory://", 1, 4), ("redis://127.0.0.1:6379/0", 2 * os.cpu_count() + 1, 1)])
def test_make_run_serves_with_the_workers_the_readme_gives(monkeypatch, storage, workers, threads):
    """README: `make run` is one process of 4 threads, or 2 x cores + 1 processes of one thread with
    Redis: the Makefile leaves the choice to gunicorn.conf.py (it once started 2 x 4 with Redis)."""
    import runpy
    import subprocess
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", storage)
    for name in ("WORKERS", "THREADS", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    dry_run = subprocess.run(["make", "-n", "-s", "run"], cwd=ROOT, capture_output=True, text=True, check=True)
    command = [line for line in dry_run.stdout.splitlines() if "gunicorn -c gunicorn.conf.py" in line][-1]
    for name, value in re.findall(r"\b(GUNICORN_WORKERS|GUNICORN_THREADS)=(\S*)", command):
        monkeypatch.setenv(name, value)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (conf["workers"], conf["threads"]) == (workers, threads), command


@pytest.mark.parametrize("env,message", [
    ({"SIGNPOST_ENV": "staging"}, "SIGNPOST_ENV must be one of"),
    ({"SIGNPOST_SESSION_IDLE_MINUTES": "half an hour"}, "must be a whole number"),
    ({"SIGNPOST_SESSION_IDLE_MINUTES": "0"}, "must be at least 1"),
    ({"SIGNPOST_SECURE_COOKIES": "perhaps"}, "SIGNPOST_SECURE_COOKIES must be true or false, got 'perhaps'"),
    # Each names its variable: an operator with several true/false settings knows which to fix.
    ({"SIGNPOST_SMTP_STARTTLS": "maybe"}, "SIGNPOST_SMTP_STARTTLS must be true or false"),
    ({"SIGNPOST_SMTP_SSL": "tls"}, "SIGNPOST_SMTP_SSL must be true or false"),
])
def test_bad_settings_say_what_is_wrong(env, message):
    with pytest.raises(settings.SettingsError, match=message):
        settings.from_environment(env)


@pytest.mark.parametrize("secret", ["", "change-me", "short-but-random-1234"])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, secret):
    with pytest.raises(settings.SettingsError, match="SECRET_KEY"):
        create_app({"ENVIRONMENT": "production", "SECRET_KEY": secret,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}"})


def test_production_starts_with_a_real_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNPOST_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a" * 20 + "Zk3-9vQ" * 4)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("SIGNPOST_BASE_URL", "https://signpost.northmere.example/")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["ENVIRONMENT"] == "production"
    assert app.config["BASE_URL"] == "https://signpost.northmere.example"


@pytest.mark.parametrize("base_url", [None, "", "http://127.0.0.1:8000", "https://localhost",
                                      "http://signpost.northmere.example", "signpost.northmere.example"])
def test_production_refuses_to_start_without_its_public_address(tmp_path, monkeypatch, base_url):
    """Each decision's email to the referrer carries a link made from SIGNPOST_BASE_URL when the decision
    is recorded: left at its default, every link would point at the referrer's own machine."""
    monkeypatch.setenv("SIGNPOST_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a" * 20 + "Zk3-9vQ" * 4)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    if base_url is None:
        monkeypatch.delenv("SIGNPOST_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("SIGNPOST_BASE_URL", base_url)
    with pytest.raises(settings.SettingsError, match="needs SIGNPOST_BASE_URL, the service's public https address"):
        create_app()


def test_development_keeps_a_random_secret_key_in_instance(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "INSTANCE", tmp_path / "instance")
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"})
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]  # shared by workers and restarts
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0


# ---- threshold library and directory ------------------------------------------------------------


def test_library_and_directory_are_loaded_once_into_extensions(app):
    library = app.extensions["signpost.library"]
    assert library.versions and not library.problems
    assert app.extensions["signpost.directory"] is not None
    assert current_version() == library.in_force(uk_today())


def test_current_version_picks_by_date(app):
    library = app.extensions["signpost.library"]
    oldest = library.versions[0]
    assert current_version(oldest.effective_from) is oldest
    with pytest.raises(LookupError):
        current_version(oldest.effective_from - dt.timedelta(days=1))


def test_a_broken_new_file_never_replaces_the_valid_one(tmp_path, caplog):
    folder = tmp_path / "thresholds"
    folder.mkdir()
    good = sorted((ROOT / "thresholds").glob("*.yaml"))[0]
    shutil.copy(good, folder / good.name)
    broken = folder / "northmere-2099-01.yaml"
    broken.write_text(good.read_text().replace(good.stem, "northmere-2099-01")
                      .replace("effective_from:", "effective_from: 2099-01-01\nunknown_key: 1\nxeffective_from:", 1))
    with caplog.at_level(logging.WARNING):
        app = make_app(f"sqlite:///{tmp_path / 'b.db'}", THRESHOLDS_DIR=str(folder))
    library = app.extensions["signpost.library"]
    assert [v.id for v in library.versions] == [good.stem]
    messages = [r.getMessage() for r in caplog.records if "threshold file not loaded" in r.getMessage()]
    assert messages and all("northmere-2099-01.yaml" in m for m in messages)
    assert any(":" in m.split("northmere-2099-01.yaml", 1)[1][:3] for m in messages)  # file:line
    with app.app_context():
        assert current_version(dt.date(2098, 12, 31)).id == good.stem
        # Once the broken version's date has come, the older one never stands in for it.
        with pytest.raises(LookupError, match="northmere-2099-01.yaml"):
            current_version(dt.date(2100, 1, 1))


def test_no_valid_version_starts_and_answers_503(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'e.db'}", THRESHOLDS_DIR=str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    with app.app_context():
        from conftest import sign_in_as
        from signpost import store
        from signpost.extensions import db
        db.create_all()
        user = store.create_user("r@example.org", "R", "referrer", "a long password here", actor="test")
        client = app.test_client()
        sign_in_as(client, user)
        response = client.get("/thresholds")
        assert response.status_code == 503
        html = response.get_data(as_text=True)
        assert "Sorry, the service is unavailable" in html and "call 999" in html
        html = app.test_client().get("/sign-in").get_data(as_text=True)  # the layout copes without contacts
        assert "If a child is in immediate danger, call 999." in html
        db.engine.dispose()


# ---- layout --------------------------------------------------------------------------------------


def test_layout_has_our_header_banner_and_footer_not_govuk_branding(app, client, referrer):
    version = current_version()
    contacts = version.document.contacts
    for response in (client.get("/sign-in"), referrer.get("/"), client.get("/nowhere")):
        html = response.get_data(as_text=True)
        assert "If a child is in immediate danger, call 999." in html
        assert contacts.front_door.phone in html and contacts.out_of_hours.phone in html
        assert version.document.council in html
        assert "govuk-header__logotype" not in html and "govuk-logo" not in html and "crown" not in html.lower()
        assert "govuk-footer__copyright" not in html and "Crown copyright" not in html
        assert "GOV.UK" not in html
        assert '<html lang="en-GB"' in html


def test_council_name_setting_overrides_the_document(database_url):
    app = make_app(database_url, COUNCIL_NAME="Elsewhere Borough Council")
    with app.app_context():
        html = app.test_client().get("/sign-in").get_data(as_text=True)
        assert "Elsewhere Borough Council" in html
        from signpost.extensions import db
        db.engine.dispose()


def test_our_css_replaces_the_gds_font():
    import re
    css = re.sub(r"/\*.*?\*/", "", (ROOT / "signpost" / "static" / "signpost.css").read_text(), flags=re.S)
    rule = re.search(r"([^{}]*)\{\s*font-family: Helvetica, Arial, sans-serif !important;", css)
    assert rule and ".govuk-template *" in rule.group(1)
    assert "GDS Transport" not in css


def test_navigation_by_role(referrer, front_door, policy_lead, admin):
    def nav(client):
        html = client.get("/").get_data(as_text=True)
        return html.split('aria-label="Main menu"', 1)[1].split("</nav>", 1)[0]
    assert "Admin" in nav(admin) and "Admin" not in nav(referrer)
    for client in (referrer, front_door, policy_lead, admin):
        assert "Start" in nav(client) and "Sign out" in nav(client)
    assert "Sign out" not in referrer.application.test_client().get("/sign-in").get_data(as_text=True)


def test_thresholds_page_lists_the_document_in_force(referrer):
    version = current_version()
    html = referrer.get("/thresholds").get_data(as_text=True)
    assert version.id in html and version.document.effective_from.strftime("%-d %B %Y") in html
    for level in version.document.levels:
        assert level.name in html
    for domain in version.document.domains:
        assert domain.name.replace("'", "&#39;") in html
    sample = version.document.indicators[0]
    assert sample.text.replace("'", "&#39;").replace('"', "&#34;") in html


# ---- errors and health ----------------------------------------------------------------------------


@pytest.mark.parametrize("code,title", [(400, "There is a problem with your request"),
                                        (403, "You do not have permission"), (404, "Page not found"),
                                        (405, "There is a problem with your request"),
                                        (429, "Too many attempts"), (500, "Sorry, there is a problem"),
                                        (503, "Sorry, the service is unavailable")])
def test_error_pages_in_our_style(app, referrer, code, title):
    from flask import abort

    @app.get(f"/test-error-{code}")
    def _raise():
        abort(code)

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = referrer.get(f"/test-error-{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert title in html and "If a child is in immediate danger, call 999" in html
    assert f"<title>{title}" in html and response.headers["Cache-Control"] == "no-store"


def test_unhandled_exception_is_a_500_page(app, referrer):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    response = referrer.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in html and "a bug" not in html
    assert response.headers["Cache-Control"] == "no-store"


def test_405_page(client):
    response = client.put("/sign-in")
    assert response.status_code == 405 and "Allow" in response.headers
    assert "There is a problem with your request" in response.get_data(as_text=True)


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {
        "database": "ok", "rate_limit_store": "ok", "thresholds": {"status": "ok", "files_not_loaded": 0}}}


def test_healthz_503_when_the_database_is_unreachable(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'x' / 'no.db'}")
    shutil.rmtree(tmp_path / "missing-dir")  # the factory made the folder; take it away again
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["status"] == "unavailable"
    assert response.get_json()["checks"]["database"] == "unavailable"


def test_healthz_503_when_postgresql_is_down(tmp_path):
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503


def test_warm_compiles_every_template_so_no_page_compiles_one(app, client, referrer, monkeypatch):
    """What gunicorn's master does before forking: afterwards a worker serves pages without compiling."""
    import jinja2

    from signpost.web.templating import Remembered, warm
    env = app.jinja_env
    env.cache.clear()
    assert warm(env) == len(env.list_templates()) == len(env.cache)
    button = env.get_template("govuk_frontend_jinja/components/button/macro.html")
    assert isinstance(button.module.govukButton, Remembered)  # the module is built, components remembered

    def compiling(*args, **kwargs):
        raise AssertionError("a template was compiled after warm()")
    monkeypatch.setattr(jinja2.loaders.BaseLoader, "load", compiling)
    for response in (client.get("/sign-in"), client.get("/nowhere"), referrer.get("/"), referrer.get("/thresholds"),
                     referrer.get("/guide/")):
        assert response.status_code in (200, 404) and "call 999" in response.get_data(as_text=True)


def test_gunicorn_warms_the_preloaded_app_in_the_master(app):
    import runpy
    from types import SimpleNamespace
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    logged = []
    for preload in (False, True):
        app.jinja_env.cache.clear()
        server = SimpleNamespace(cfg=SimpleNamespace(preload_app=preload), app=SimpleNamespace(wsgi=lambda: app),
                                 log=SimpleNamespace(info=lambda *args: logged.append(args)))
        conf["when_ready"](server)
        assert len(app.jinja_env.cache) == (len(app.jinja_env.list_templates()) if preload else 0)
    assert len(logged) == 1 and logged[0][0].startswith("Compiled %d templates before forking")
    assert conf["preload_app"] is True


def test_the_http_benchmarks_bare_flask_baseline_starts_under_the_same_gunicorn_settings():
    """benchmarks/http.py serves it with gunicorn.conf.py, which compiles every template in the folder
    first: a filter only Signpost registers would stop the baseline starting (and the benchmark)."""
    import runpy
    from types import SimpleNamespace
    from benchmarks.bare_flask import app as bare
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda: bare),
                             log=SimpleNamespace(info=lambda *args: None))
    conf["when_ready"](server)
    assert len(bare.jinja_env.cache) == len(bare.jinja_env.list_templates())
    assert bare.test_client().get("/page").status_code == 200


def test_the_http_benchmark_counts_the_cpu_of_every_worker_living_or_recycled():
    """benchmarks/http.py's server CPU per request: a worker recycled by max_requests during a round
    is counted (in its master's children's time), as is a worker still running."""
    import importlib.util
    import subprocess
    import sys
    import time
    spec = importlib.util.spec_from_file_location("http_benchmark", ROOT / "benchmarks" / "http.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    master = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"  # a worker that ended and was waited for
        f"live = subprocess.Popen([sys.executable, '-c', {burn!r} + 'time.sleep(60)'])\n"  # one still running
        "print('ready', flush=True)\ntime.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert master.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 20
        while bench.server_cpu_seconds(master) < 0.55 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 0.55 <= bench.server_cpu_seconds(master) < 5
    finally:
        for child in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
            os.kill(int(child), 9)
        master.kill()
        master.wait()


def test_the_request_floor_benchmark_times_both_floors_and_the_journey_pages():
    """benchmarks/request_floor.py, one short round: both floor pages and the journey's pages answer
    200 (a floor page that redirected would time the sign-in page instead, and be left out)."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "request_floor.py"), "--rounds", "1",
                          "--calls", "2"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True).stdout
    assert "signed in, empty page" in out and "signed in, the layout" in out and "/refer/check" in out
    assert re.search(r"^layout_floor_vs_bare_flask: \d+\.\d\d$", out.splitlines()[-1])


def test_the_ceiling_benchmark_takes_away_only_the_costs_it_names(app, referrer, monkeypatch):
    """benchmarks/ceiling.py (http.py --ceiling): on a page's GET the user and the draft come from the
    worker's memory after the first, the layout's own parts are fixed text and no limiter hook runs,
    while the page itself is still rendered; a form sent with POST loads them from the database."""
    from sqlalchemy import event

    from benchmarks import ceiling
    from conftest import CSRF_RE
    from signpost import database
    from signpost.extensions import db, limiter
    monkeypatch.setattr(database, "user_with_draft", database.user_with_draft)  # put back afterwards
    ceiling.without_costs(app)
    token = CSRF_RE.search(referrer.get("/").text).group(1)
    assert referrer.post("/refer/new", data={"csrf_token": token}).status_code == 302
    assert referrer.get("/refer/danger").status_code == 200
    statements = []

    def seen(connection, cursor, statement, *args):
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = referrer.get("/refer/danger")
        after_get = len(statements)
        sent = referrer.post("/refer/danger", data={"csrf_token": token, "draft_id": "x"})
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert page.status_code == 200 and sent.status_code == 404
    assert after_get == 0 and "FROM users" in statements[0]  # none for the GET; the POST loads the user
    assert "<!-- layout -->" in page.text and "Signpost: right help" not in page.text
    assert "in immediate danger" in page.text  # the page's own question
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None], *app.teardown_request_funcs[None]]
    assert not [f for f in hooks if limiter in (getattr(f, "__self__", None), *getattr(f, "args", ()))]


def test_wsgi_module_exposes_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    import importlib
    import wsgi
    importlib.reload(wsgi)
    assert wsgi.app.name == "signpost"
    assert Path(wsgi.__file__).parent == ROOT


def test_a_wrong_setting_stops_the_command_line_with_its_message_not_a_traceback(monkeypatch):
    """An operator's `flask --app wsgi ...` with a wrong setting: one line naming it, status 1."""
    import subprocess
    import sys
    monkeypatch.setenv("SIGNPOST_SMTP_STARTTLS", "maybe")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "users", "list"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: SIGNPOST_SMTP_STARTTLS must be true or false, got 'maybe'"


def test_form_fields_describe_only_what_is_on_the_page(client, admin, users):
    """Every aria-describedby names elements that exist (govuk-frontend-wtf pointed at missing hints)."""
    import re
    pages = [client.get("/sign-in"), admin.get("/admin/users/new"), admin.get(f"/admin/users/{users['referrer'].id}"),
             submit(admin, "/admin/users/new", {"email": "", "name": "", "role": "", "password": ""})]
    for response in pages:
        html = response.get_data(as_text=True)
        ids = set(re.findall(r'\sid="([^"]+)"', html))
        for described in re.findall(r'aria-describedby="([^"]+)"', html):
            for target in described.split():
                assert target in ids, (response.request.path, target)
        for hint in re.findall(r'<div id="[^"]+-hint" class="govuk-hint">\s*</div>', html):
            raise AssertionError(f"empty hint rendered: {hint}")
