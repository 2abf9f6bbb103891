"""The front door in a real browser: a referral decided and the referrer told; a consultation asked
and answered; axe-core on the queue, item, decision and audit pages; screenshots in test-artifacts/.

The referrer's journey is walked with test_journey's Referrer, so it follows the journey's pages.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from .harness import submit
from .test_journey import NINE_YEARS, Referrer, check_page, plain
from signpost.values import uk_today

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def version(live_server):
    from signpost.content import current_version
    with live_server.app.app_context():
        return current_version()


def refer(page, version, name: str) -> str:
    """A referrer sends a social-care referral; returns its reference."""
    referrer = Referrer(page, version, name)
    item = plain(version, NINE_YEARS, 4)[0]
    referrer.questions(NINE_YEARS, [item])
    referrer.check_answers((version.indicators[item].text,))
    referrer.recommendation("social_care", 4)
    page.get_by_role("link", name="Continue to the referral").click()
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Front-Door")
    born = page.get_by_role("group", name="Date of birth")
    birthday = uk_today() - dt.timedelta(days=9 * 365 + 100)
    born.get_by_label("Day").fill(str(birthday.day))
    born.get_by_label("Month").fill(str(birthday.month))
    born.get_by_label("Year").fill(str(birthday.year))
    page.get_by_label("Home address").fill("2 Fictional Row, Northmere")
    page.get_by_label("Postcode").fill("NM1 4AB")
    page.get_by_label("Parents or carers").fill("Sam Example (mother), 01632 960 555")
    referrer.radio("Does the family need an interpreter?", "No")
    page.get_by_label("Your phone number").fill("01632 960 777")
    submit(page, "Continue")  # then Check before you send
    submit(page, "Send referral to the front door")
    return page.locator(".govuk-panel strong").inner_text().strip()


def find_in_queue(page, reference: str, query: str = "") -> None:
    """Page through the queue (most urgent first, then oldest) to the page listing the reference:
    other browser tests' referrals come before a new one, so it is not always on the first page."""
    separator = "&" if query else "?"
    for number in range(1, 41):
        page.goto(f"/front-door/{query}{separator if number > 1 else ''}{f'page={number}' if number > 1 else ''}")
        if page.get_by_role("link", name=reference, exact=True).count():
            return
        if not page.get_by_role("link", name="Next").count():
            break
    raise AssertionError(f"{reference} is not in the front door queue ({query or 'no filters'})")


def open_item(page, reference: str, query: str = "") -> None:
    find_in_queue(page, reference, query)
    page.get_by_role("link", name=reference, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(reference)


def test_a_referral_is_taken_decided_and_the_referrer_sees_the_decision(page_as, version):
    referrer_page = page_as("referrer")
    reference = refer(referrer_page, version, "front-door-referral")
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d+", reference), reference

    page = page_as("front_door")
    find_in_queue(page, reference)
    expect(page.locator("#queue")).to_contain_text(reference)
    page.goto("/front-door/")
    expect(page.locator("main")).to_contain_text("past the one-working-day target")  # the demo has overdue work
    check_page(page, "front-door-queue")
    page.goto("/front-door/?urgency=same_day&allocated=nobody")
    check_page(page, "front-door-queue-filtered")

    open_item(page, reference)
    main = page.locator("main")
    expect(main).to_contain_text("Ada Front-Door")
    expect(main).to_contain_text("I am hungry at school")  # the child's voice
    check_page(page, "front-door-item")
    submit(page, "Take this item")
    expect(page.locator("#allocated-to")).to_contain_text("Sam Okafor")

    # A decision without a note: the error summary, linked to the field.
    page.get_by_label("No further action: advice given or signposted to universal services").check()
    submit(page, "Record the decision")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write a note for the referrer")
    check_page(page, "front-door-decision-error")
    page.get_by_label("No further action: advice given or signposted to universal services").check()
    page.get_by_label("Note for the referrer").fill("No further action. The school's breakfast club and the "
                                                    "family hub can help; call us if anything changes.")
    submit(page, "Record the decision")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Decision recorded")
    expect(page.locator("#decisions")).to_be_visible()
    check_page(page, "front-door-decision")

    referrer_page.goto("/refer/my-referrals")
    row = referrer_page.locator(".govuk-summary-card").filter(has_text=reference)  # My referrals: a list of cards
    expect(row).to_contain_text("No further action: advice given")
    row.get_by_role("link", name=f"Details and decisions for {reference}").click()
    expect(referrer_page.locator("#decision-note")).to_contain_text("breakfast club and the family hub")
    expect(referrer_page.locator("main")).to_contain_text("The thresholds the front door saw")
    expect(referrer_page.locator("main")).to_contain_text("Services that could help now")
    check_page(referrer_page, "front-door-referrer-sees-decision")

    # The front door's manager reads who saw this record.
    page.goto(f"/front-door/audit?record={reference}")
    expect(page.locator("#audit")).to_contain_text("item_viewed")
    expect(page.locator("#audit")).to_contain_text("decision_recorded")
    check_page(page, "front-door-audit")


def test_a_consultation_is_asked_and_answered(page_as, version):
    referrer_page = page_as("referrer")
    referrer = Referrer(referrer_page, version, "front-door-consultation")
    item = plain(version, NINE_YEARS, 2)[0]
    referrer.questions(NINE_YEARS, [item])
    referrer.check_answers((version.indicators[item].text,))
    referrer.recommendation("early_help", 2)
    submit(referrer_page, "Ask the front door for advice instead")
    check_page(referrer_page, "front-door-ask-for-advice")
    referrer_page.get_by_label("What would you like advice about?").fill(
        "The family say no to early help. Should I refer anyway?")
    referrer_page.get_by_label("Your phone number").fill("01632 960 778")
    submit(referrer_page, "Send my request for advice")
    expect(referrer_page.locator("main")).to_contain_text("The family say no to early help")
    reference = referrer_page.locator(".govuk-caption-l").inner_text().split()[-1]

    page = page_as("front_door")
    open_item(page, reference, "?kind=consultation")
    expect(page.locator("main")).to_contain_text("Should I refer anyway?")
    expect(page.get_by_label("Advice given (consultation)")).to_be_checked()
    page.get_by_label("No referral is needed").check()
    page.get_by_label("Note for the referrer").fill("Keep offering early help; no referral is needed now.")
    submit(page, "Record the advice")
    check_page(page, "front-door-consultation-answered")

    referrer_page.reload()
    expect(referrer_page.locator("main")).to_contain_text("The front door does not think a referral is needed")
    expect(referrer_page.locator("#decision-note")).to_contain_text("Keep offering early help")
    expect(referrer_page.locator("main")).to_contain_text("If you are still worried about the child")
    check_page(referrer_page, "front-door-referrer-sees-advice")
    referrer_page.goto("/refer/my-referrals")
    card = referrer_page.locator(".govuk-summary-card").filter(has_text=reference)
    expect(card).to_contain_text("If a child is in immediate danger, call 999 now.")
    check_page(referrer_page, "front-door-referrer-sees-advice-listed")
    card.get_by_role("button", name=f"Start a new referral after the advice on {reference}").click()
    expect(referrer_page.locator("h1")).to_contain_text("immediate danger")  # a new referral, from its first question


def first_error_leads_to_its_field(page, name: str) -> None:
    """An error page: titled "Error: ...", and its summary's first link puts focus in the field."""
    assert page.title().startswith("Error:"), page.title()
    link = page.locator(".govuk-error-summary__list a").first
    target = link.get_attribute("href")
    link.click()
    expect(page.locator(f"{target}")).to_be_focused()
    check_page(page, name)


def test_the_front_doors_other_pages_and_their_errors(page_as):
    """Recorded contacts, a contact recorded by hand and a CSV import, each sent empty; the export;
    the administrator's team page."""
    page = page_as("front_door")
    page.goto("/front-door/contacts")
    check_page(page, "front-door-contacts")
    page.goto("/front-door/contacts/new")
    check_page(page, "front-door-new-contact")
    assert submit(page, "Record the contact").status == 400
    first_error_leads_to_its_field(page, "front-door-new-contact-errors")
    page.goto("/front-door/contacts/import")
    check_page(page, "front-door-import")
    assert submit(page, "Import").status == 400
    first_error_leads_to_its_field(page, "front-door-import-errors")
    page.goto("/front-door/export")
    check_page(page, "front-door-export")
    page.goto("/front-door/?from=2026-13-45")  # a filter date typed into the address
    first_error_leads_to_its_field(page, "front-door-queue-filter-error")

    admin = page_as("admin")
    admin.goto("/front-door/team")
    check_page(admin, "front-door-team")


def test_a_decision_is_recorded_without_javascript(page_as, version):
    """Progressive enhancement only: with JavaScript off the front door takes an item and records
    a decision, the refusal of an empty note on the way."""
    from .test_journey import axe_without_page_scripts
    reference = refer(page_as("referrer"), version, "front-door-no-javascript")
    page = page_as("front_door", javascript=False)
    open_item(page, reference, "?kind=referral&allocated=nobody")
    filtered = page.url.split("/front-door/items/", 1)[1].split("?", 1)[1]
    page.get_by_role("link", name="Back to the queue").click()  # the page it was opened from
    assert page.url.endswith(f"/front-door/?{filtered.removeprefix('status=awaiting&')}"), (page.url, filtered)
    page.get_by_role("link", name=reference, exact=True).first.click()
    axe_without_page_scripts(page, "front-door-item-no-javascript")
    submit(page, "Take this item")
    expect(page.locator("#allocated-to")).to_contain_text("Sam Okafor")
    page.get_by_label("No further action: advice given or signposted to universal services").check()
    assert submit(page, "Record the decision").status == 400
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write a note for the referrer")
    assert page.title().startswith("Error:")
    axe_without_page_scripts(page, "front-door-decision-error-no-javascript")
    page.get_by_label("No further action: advice given or signposted to universal services").check()
    page.get_by_label("Note for the referrer").fill("No further action; the family hub can help.")
    submit(page, "Record the decision")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Decision recorded")
