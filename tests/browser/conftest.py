"""Browser test harness: the real app on 127.0.0.1, Debian's Chromium through Playwright, axe-core.

One server and one browser per test session (per xdist worker); a new context per test.
Skipped only when /usr/bin/chromium is missing and CI is not set; under CI it must run.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from .harness import CHROMIUM, CHROMIUM_ARGS, ROLES, PageProblems, sign_in


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


# --- the app, served for real ----------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    app: object
    users: dict  # role -> (email, password)

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """create_app on a fresh SQLite file, migrated and seeded like `make run`, in a thread."""
    from werkzeug.serving import make_server

    from signpost import create_app

    folder = tmp_path_factory.mktemp("live")
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'signpost.db'}",
        "SECRET_KEY": "browser-tests-" + "x" * 40,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": True,
        # Cheap password hashing: the cost is tested elsewhere, not here.
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
    })
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["demo", "seed"]):
        result = runner.invoke(args=args, catch_exceptions=False)
        assert result.exit_code == 0, f"flask {' '.join(args)} failed:\n{result.output}"
    users = demo_users(app)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, users=users)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def demo_users(app) -> dict:
    """role -> (email, password): the first active demo account of each role."""
    from signpost import demo
    users: dict = {}
    for email, _name, role, _organisation in demo.DEMO_ACCOUNTS:
        if email not in demo.DISABLED:
            users.setdefault(role, (email, demo.DEMO_PASSWORD))
    assert set(users) == set(ROLES), f"the demo seed has no account for {set(ROLES) - set(users)}"
    return users


# --- the browser ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if in_ci():
            pytest.fail(message + "; CI=true, so browser tests must run", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    page.close()


@pytest.fixture(scope="session")
def signed_in_states(browser, live_server, tmp_path_factory):
    """Sign in once per role through the real form and keep the cookies, for speed."""
    folder = tmp_path_factory.mktemp("states")
    states: dict[str, str] = {}

    def state_for(role: str) -> str:
        if role not in states:
            context = browser.new_context(base_url=live_server.url)
            page = context.new_page()
            sign_in(page, *live_server.users[role])
            path = folder / f"{role}.json"
            context.storage_state(path=str(path))
            context.close()
            states[role] = str(path)
        return states[role]
    return state_for


@pytest.fixture
def page_as(browser, live_server, signed_in_states):
    """page_as("front_door"): a new page in a new context already signed in as that demo role
    (page_as("front_door", javascript=False): with JavaScript off)."""
    contexts = []

    def open_page(role: str, javascript: bool = True):
        context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=javascript,
                                      viewport={"width": 1280, "height": 900},
                                      storage_state=signed_in_states(role))
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = PageProblems(page)
        return page
    yield open_page
    for context in contexts:
        context.close()
