"""A policy lead in a real browser: read the guide, edit a draft through the forms, simulate, publish.

Its own server, publishing into a copy of thresholds/ (never the repository's); axe on every page.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import threading

import pytest

from .conftest import demo_users
from .harness import ROOT, PageProblems, axe, screenshot, sign_in, submit
from signpost.values import uk_today


def follow(page, locator) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation():
        locator.click()


@pytest.fixture(scope="module")
def policy_server(tmp_path_factory, browser):
    from werkzeug.serving import make_server

    from signpost import create_app

    folder = tmp_path_factory.mktemp("policy-live")
    shutil.copytree(ROOT / "thresholds", folder / "thresholds")
    for path in (folder / "thresholds").glob("*.yaml"):  # no shipped version scheduled: the lead publishes one
        found = re.search(r"^effective_from: (\d{4}-\d{2}-\d{2})", path.read_text(), re.M)
        if found and dt.date.fromisoformat(found.group(1)) > uk_today():
            path.unlink()
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'signpost.db'}",
        "SECRET_KEY": "browser-tests-" + "x" * 40,
        "RATELIMIT_STORAGE_URI": "memory://",
        "THRESHOLDS_DIR": str(folder / "thresholds"),
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
    })
    runner = app.test_cli_runner()
    for args in (["db", "upgrade"], ["demo", "seed"]):
        result = runner.invoke(args=args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", demo_users(app), folder / "thresholds"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def lead(browser, policy_server):
    url, users, _ = policy_server
    context = browser.new_context(base_url=url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)  # the guide is a long page to screenshot on a busy machine
    page = context.new_page()
    page.problems = PageProblems(page)
    sign_in(page, *users["policy_lead"])
    yield page
    context.close()


def test_the_guide_filters_without_javascript_and_prints(browser, policy_server):
    url, users, _ = policy_server
    context = browser.new_context(base_url=url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    sign_in(page, *users["referrer"])
    page.goto("/guide/")
    all_concerns = page.locator(".signpost-guide__concern").count()
    page.get_by_label("Child's age").select_option("15")
    submit(page, "Filter")
    assert "age=15" in page.url
    assert 0 < page.locator(".signpost-guide__concern").count() < all_concerns
    page.emulate_media(media="print")
    assert not page.locator(".signpost-guide__filter").is_visible()
    screenshot(page, "policy-guide-print")
    context.close()


def untested_concern(thresholds_dir, level: int) -> str:
    """The wording of the first concern at this level, in the draft page's order, that no case ticks."""
    from signpost.thresholds import load_library
    from signpost.thresholds.cases import load_cases
    version = load_library(thresholds_dir).in_force(uk_today())
    tested = {i for case in load_cases(thresholds_dir / "tests") for i in case.case.answers.indicators}
    return next(i.text for d in version.document.domains for i in version.indicators_in(d.id)
                if i.level == level and i.id not in tested)


def test_edit_a_draft_simulate_and_publish(lead, policy_server):
    _, _, thresholds_dir = policy_server
    lead.goto("/guide/")
    assert lead.locator("svg[role=img] title").count() == 1
    axe(lead, "policy-guide")
    lead.goto("/policy/")
    axe(lead, "policy-index")
    lead.goto("/policy/versions")
    axe(lead, "policy-versions")
    submit(lead, "Compare")
    assert lead.locator(".signpost-diff__before").count() > 0
    axe(lead, "policy-diff")

    lead.goto("/policy/")
    submit(lead, "Start a draft from the version in force")
    draft_url = lead.url
    axe(lead, "policy-draft")

    # Move a level-3 concern down to level 2, through its form: one no test case ticks, as publishing
    # refuses a draft that fails any case that applies to it.
    row = lead.locator("tr", has=lead.locator("td:nth-child(2)", has_text=re.compile(r"^3$"))).filter(
        has=lead.locator("td:first-child", has_text=untested_concern(thresholds_dir, 3))).first
    concern = row.locator("td").first.inner_text().splitlines()[0]
    follow(lead, row.get_by_role("link", name=re.compile("^Change")))
    axe(lead, "policy-concern-form")
    lead.get_by_role("radio", name=re.compile(r"^Level 2 ")).check()
    submit(lead, "Save and check")
    assert lead.url.startswith(draft_url)
    assert "No problems" in lead.content()
    assert lead.get_by_role("link", name="Concerns moved level: 1").count() == 1

    # A mistake is refused with its line and key, and nothing is saved.
    follow(lead, lead.get_by_role("link", name=re.compile("^Change.*version details")))
    lead.get_by_label("Review by (YYYY-MM-DD)").fill("2001-01-01")
    submit(lead, "Save and check")
    assert re.search(r"Line \d+, review_by: must be after effective_from", lead.content())
    axe(lead, "policy-details-error")
    lead.get_by_label("Review by (YYYY-MM-DD)").fill("2030-01-01")
    lead.get_by_label("Summary of changes").fill(f"Moved '{concern}' to early help.")
    submit(lead, "Save and check")

    lead.goto(draft_url)
    follow(lead, lead.get_by_role("button", name="Simulate against past referrals"))
    assert "What this draft would have done" in lead.content()
    axe(lead, "policy-simulation")

    lead.goto(draft_url)
    follow(lead, lead.get_by_role("button", name="Publish", exact=True))
    axe(lead, "policy-publish")
    when = uk_today() + dt.timedelta(days=2)
    lead.get_by_label("Day").fill(str(when.day))
    lead.get_by_label("Month").fill(str(when.month))
    lead.get_by_label("Year").fill(str(when.year))
    lead.get_by_role("checkbox", name=re.compile("I have checked")).check()
    shipped = set(thresholds_dir.glob("*.yaml"))
    follow(lead, lead.get_by_role("button", name=re.compile("^Publish ")))
    assert lead.url.endswith("/policy/versions")
    assert "Scheduled" in lead.content()
    axe(lead, "policy-versions-after-publishing")
    assert len(set(thresholds_dir.glob("*.yaml")) - shipped) == 1  # the new version's file

    lead.goto("/policy/drafts")
    axe(lead, "policy-drafts")

    # A mistake found before the date: withdrawn, with a reason; the file goes, the version is listed as withdrawn.
    lead.goto("/policy/versions")
    follow(lead, lead.get_by_role("link", name=re.compile("^Withdraw")))
    axe(lead, "policy-withdraw")
    submit(lead, re.compile("^Withdraw "))
    assert "Enter why the version is being withdrawn" in lead.content()
    axe(lead, "policy-withdraw-error")
    lead.get_by_label("Why is it being withdrawn?").fill("The concern was moved by mistake.")
    submit(lead, re.compile("^Withdraw "))
    assert lead.url.endswith("/policy/versions")
    assert "Withdrawn before they took effect" in lead.content() and "Scheduled" not in lead.content()
    axe(lead, "policy-versions-after-withdrawing")
    assert set(thresholds_dir.glob("*.yaml")) == shipped  # its file is gone


def blank_and_save(page, button: str = "Save and check") -> None:
    """Empty every text field of the page's form and send it: the page again, with its errors."""
    form = page.locator("main form[method=post]").last
    for field in form.locator("input[type=text], input:not([type]), input[type=tel], input[type=email], textarea").all():
        if field.is_visible():
            field.fill("")
    submit(page, button)
    assert page.title().startswith("Error:"), page.title()
    link = page.locator(".govuk-error-summary__list a").first
    target = link.get_attribute("href")
    link.click()
    assert page.evaluate("document.activeElement.id") == target.lstrip("#")


def test_each_draft_form_and_its_errors(lead):
    """Adding a concern, a contact, a route's next steps, a rule and publishing, each sent without
    its words: an error summary leading to the field, and no axe violations."""
    lead.goto("/policy/")
    submit(lead, "Start a draft from the version in force")
    draft_url = lead.url
    for link, name in ((lead.get_by_role("link", name="Add a concern"), "concern-new"),
                       (lead.locator("main a[href*='/contacts/']").first, "contact"),
                       (lead.locator("main a[href*='/routes/']").first, "route"),
                       (lead.locator("main a[href*='/rules/']").first, "rule")):
        lead.goto(draft_url)
        follow(lead, link)
        axe(lead, f"policy-{name}")
        blank_and_save(lead)
        axe(lead, f"policy-{name}-errors")
    lead.goto(draft_url)
    follow(lead, lead.locator("main a[href$='/retire']").first)
    axe(lead, "policy-retire")
    lead.goto(draft_url)
    follow(lead, lead.get_by_role("button", name="Publish", exact=True))
    blank_and_save(lead, re.compile("^Publish "))
    axe(lead, "policy-publish-errors")
    lead.goto(draft_url)
    submit(lead, "Discard this draft")
