"""The reports pages in a real browser, on the demo history `make run` seeds: zero axe violations.

Screenshots of each state go to test-artifacts/.
"""
import re

import pytest

from .harness import axe, screenshot

pytestmark = pytest.mark.browser

# The reports page is long: a full-page screenshot on a loaded machine can take a while, so no
# short timeout around it (the harness's default is for ordinary actions).
PATIENT_MS = 180_000


def patient(page):
    page.set_default_timeout(PATIENT_MS)
    return page


def test_policy_lead_reads_the_reports(page_as):
    page = patient(page_as("policy_lead"))
    page.goto("/")
    page.get_by_role("link", name="Reports").click()
    assert page.get_by_role("heading", level=1).inner_text() == "What happens to referrals"
    headline = page.locator("#headline").inner_text()
    assert re.search(r"Of the [\d,]+ referrals received from .* that the front door has decided", headline)
    assert "baseline period" in headline
    chart = page.get_by_role("img", name="Share of referrals ending in No Further Action, month by month")
    assert chart.is_visible()
    # The table beneath the chart has one row per month, baseline and this period.
    assert page.locator("#table-monthly tbody tr").count() >= 24
    assert page.locator("#table-concerns tbody tr").count() > 3
    axe(page, "reports-policy-lead")


def test_filters_are_kept_in_the_address_and_the_csv(page_as):
    page = patient(page_as("front_door"))
    page.goto("/reports/")
    page.get_by_text("Change the period and filters").click()
    page.get_by_label("Organisation type", exact=True).select_option("education")
    page.get_by_label("From", exact=True).fill("2026-01")
    page.get_by_role("button", name="Show the report").click()
    assert "organisation=education" in page.url and "start=2026-01" in page.url
    assert "Showing only: Organisation type: Schools and education" in page.inner_text("main")
    axe(page, "reports-filtered")
    with page.expect_download() as download:
        page.locator("a[href^='/reports/monthly.csv']").click()
    path = download.value.path()
    text = open(path, encoding="utf-8-sig").read()
    assert text.startswith("Month,Days counted,Period,Referrals decided")


def test_bad_filters_show_an_error_summary(page_as):
    page = patient(page_as("admin"))
    page.goto("/reports/?start=soon&end=2026-01&baseline_start=2025-06&baseline_end=2025-01")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error:")
    axe(page, "reports-errors")


def test_reports_work_without_javascript(browser, live_server, signed_in_states):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900},
                                  storage_state=signed_in_states("policy_lead"))
    try:
        page = patient(context.new_page())
        page.goto("/reports/")
        assert page.locator("svg[role=img] title").first.text_content().strip()
        page.locator("summary", has_text="Change the period and filters").click()
        page.get_by_label("Child's age", exact=True).select_option("10 to 15")
        page.get_by_role("button", name="Show the report").click()
        assert "age_band=10+to+15" in page.url
        screenshot(page, "reports-no-javascript")
    finally:
        context.close()


def test_a_small_screen(browser, live_server, signed_in_states):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 375, "height": 812},
                                  storage_state=signed_in_states("policy_lead"))
    try:
        page = patient(context.new_page())
        page.goto("/reports/")
        # Wide tables scroll inside their box; the page itself does not scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        axe(page, "reports-375")
    finally:
        context.close()
