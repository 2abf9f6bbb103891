"""Whole referral journeys in a real browser, clicked and typed like a person would.

One journey per route plus immediate danger, one without JavaScript; axe-core on every page
(error states included) and a screenshot of each recommendation in test-artifacts/.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from signpost import journey

from .harness import ARTIFACTS, PageProblems, axe, submit

pytestmark = pytest.mark.browser

CONTINUE = "Save and continue"
NINE_YEARS = {"years": 9, "months": 3}
BABY = {"years": 0, "months": 3}  # not yet mobile: the baby-only immediate indicators apply


@pytest.fixture(scope="module")
def version(live_server):
    """The threshold version in force in the live server: the questions come from it."""
    from signpost.content import current_version
    with live_server.app.app_context():
        return current_version()


def child_answers(age: dict) -> dict:
    return {"child": {"unborn": False, **age}}


def plain_items(version, age: dict, level: int, serious: bool):
    """(page id, item) for indicators at this level, without a severity question, not immediate."""
    pages = journey.concerns_pages(version, child_answers(age))
    return [(page.id, item) for page in (pages[:1] if serious else pages[1:]) for item in page.items
            if item.question is None and item.level == level and not version.indicators[item.id].immediate]


# What axe-core 4.x no longer checks: ids used twice (a label then names the wrong element) and
# form fields the browser itself finds no label for.
MARKUP_PROBLEMS = """() => {
  const ids = Array.from(document.querySelectorAll("[id]"), (el) => el.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i).map((id) => `id used twice: ${id}`);
  const fields = document.querySelectorAll("input:not([type=hidden]), textarea, select");
  const unlabelled = Array.from(fields).filter((el) => !el.labels.length && !el.getAttribute("aria-label"))
    .map((el) => `no label: ${el.outerHTML.slice(0, 120)}`);
  return twice.concat(unlabelled);
}"""


def check_page(page, name: str) -> None:
    """axe-core (zero violations, a screenshot) and the markup checks above."""
    axe(page, name)
    problems = page.evaluate(MARKUP_PROBLEMS)
    assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)


def axe_without_page_scripts(page, name: str) -> None:
    """axe on a page loaded with JavaScript off. Our own evaluations still run there, but timers
    never fire, and axe waits on setTimeout: so, in this page only, a timeout runs as a microtask."""
    page.wait_for_load_state("load")
    assert page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')") is False, \
        f"{name}: GOV.UK Frontend's scripts ran, so JavaScript was not off"
    page.evaluate("""() => {
      // A promise, not queueMicrotask: with scripts off only the promise's callbacks still run.
      window.setTimeout = (callback, _delay, ...args) => {
        Promise.resolve().then(() => callback(...args));
        return 0;
      };
      window.clearTimeout = () => {};
    }""")
    check_page(page, name)


def expected_recommendation(live_server, version, answers: dict):
    """What the engine recommends for these answers, to compare with what the page shows."""
    from signpost.content import current_directory
    from signpost.engine import assess
    with live_server.app.app_context():
        return assess(journey.engine_answers(version, answers), version, dt.date.today(), current_directory())


class Referrer:
    """A referrer going through the journey in the browser; every page they see is checked by axe."""

    def __init__(self, page, version, name: str, javascript: bool = True):
        self.page, self.version, self.name = page, version, name
        self.javascript = javascript
        self.age = NINE_YEARS
        self.checked: list[str] = []

    # -- what every page gets
    def path(self) -> str:
        return urlparse(self.page.url).path

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text().strip()

    def check(self, step: str, *, heading: str | None = None, screenshot: str | None = None) -> None:
        if heading is not None:
            assert self.heading() == heading, f"{self.name}/{step}: on {self.page.url}"
        name = screenshot or f"{self.name}-{len(self.checked) + 1:02d}-{step}"
        if self.javascript:
            check_page(self.page, name)
        else:
            axe_without_page_scripts(self.page, name)
        self.checked.append(step)

    def check_error(self, step: str, message: str) -> None:
        """The page came back with the GOV.UK error summary linking to the problem."""
        summary = self.page.locator(".govuk-error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text(message)
        assert self.page.title().startswith("Error:"), self.page.title()
        if self.javascript:  # GOV.UK Frontend moves focus to the summary, so it is read out first
            expect(summary).to_be_focused()
        for link in summary.get_by_role("link").all():  # each error links to a field on the page
            target = link.get_attribute("href")
            assert target.startswith("#"), target
            field = self.page.locator(f"[id='{target[1:]}']")
            assert field.count() == 1 and field.evaluate("el => el.matches('input, textarea, select')"), \
                f"{self.name}/{step}: the error link {target} does not lead to one form field"
        self.check(f"{step}-error")

    def radio(self, group: str, label: str) -> None:
        self.page.get_by_role("group", name=group).get_by_label(label, exact=True).check()

    # -- the pages, in order
    def start(self) -> None:
        self.page.goto("/")
        self.check("start", heading="Worried about a child?")
        submit(self.page, "Start now")
        assert self.path() == "/refer/danger"

    def danger(self, answer: str) -> None:
        self.check("danger", heading="Is the child in immediate danger?")
        self.radio("Is the child in immediate danger?", answer)
        submit(self.page, CONTINUE)

    def about_you(self) -> None:
        self.check("about-you", heading="About you")
        self.radio("What is your role?", "Designated safeguarding lead or deputy")
        self.radio("What type of organisation do you work for?", "School or college")
        submit(self.page, CONTINUE)

    def about_child(self, age: dict) -> None:
        self.age = age
        self.check("about-child", heading="About the child")
        due_day = self.page.get_by_role("group", name="Expected date of birth").get_by_label("Day", exact=True)
        if self.javascript:  # each answer's follow-up shows only once that answer is chosen
            expect(self.page.get_by_label("Years", exact=True)).to_be_hidden()
        self.radio("Has the child been born?", "Yes")
        if self.javascript:
            expect(due_day).to_be_hidden()
        else:
            expect(due_day).to_be_visible()
        self.page.get_by_label("Years", exact=True).fill(str(age["years"]))
        self.page.get_by_label("Months", exact=True).fill(str(age["months"]))
        submit(self.page, CONTINUE)
        assert self.path() == "/refer/concerns-serious"

    def concerns_pages(self) -> dict:
        return {p.id: p for p in journey.concerns_pages(self.version, child_answers(self.age))}

    def tick(self, item) -> None:
        self.page.get_by_label(item.text, exact=True).check()

    def concerns(self, ticks: dict | None = None, severity: dict | None = None,
                 back_from: str | None = None) -> None:
        """Answer each concerns page (ticks: page id -> items; else "None of these") until they end.

        back_from: a page id whose answer is then checked by following Back from the next page.
        """
        ticks, severity = ticks or {}, severity or {}
        pages = self.concerns_pages()
        while self.path().startswith(("/refer/concerns-", "/refer/severity-")):
            here = self.path()
            page_id = here.removeprefix("/refer/").replace("-", "_")
            if page_id.startswith("concerns_"):
                assert page_id in pages, f"{page_id} is not a concerns page for a child aged {self.age}"
                self.check(page_id.replace("_", "-"))
                for item in ticks.get(page_id, ()):
                    self.tick(item)
                if not ticks.get(page_id):
                    self.page.get_by_label("None of these", exact=True).check()
            else:
                question_id = page_id.removeprefix("severity_")
                self.check(page_id.replace("_", "-"), heading=self.question(question_id).question)
                option = self.version.indicators[severity[question_id]].option
                self.page.get_by_label(option, exact=True).check()
            submit(self.page, CONTINUE)
            if page_id == back_from:
                self.back_keeps(here, ticks.get(page_id, ()))

    def back_keeps(self, previous: str, items) -> None:
        """Back from this page returns to the previous one with its answer still selected."""
        self.page.get_by_role("link", name="Back", exact=True).click()
        assert self.path() == previous
        for item in items:
            expect(self.page.get_by_label(item.text, exact=True)).to_be_checked()
        expect(self.page.get_by_label("None of these", exact=True)).not_to_be_checked()
        submit(self.page, CONTINUE)

    def question(self, question_id: str):
        return next(q for q in self.version.document.severity_questions if q.id == question_id)

    def voice(self) -> None:
        self.check("voice", heading="The child's voice")
        self.radio("Have you seen and spoken to the child about your worries?",
                   "Yes, I have seen and spoken to the child")
        self.page.get_by_label("What does the child say, in their own words?").fill("I am hungry at school")
        self.page.get_by_label("What does the child want to happen?").fill("I want my mum to be well")
        submit(self.page, CONTINUE)

    def family(self) -> None:
        self.check("family", heading="What is working well and what has been tried")
        self.page.get_by_label("What is working well for the child and family?").fill("Comes to school every day")
        self.page.get_by_label("What has already been tried to help?").fill("Breakfast club")
        self.page.get_by_label("Who has been involved?").fill("School")
        submit(self.page, CONTINUE)

    def consent(self, choice: str = "Yes, the family agrees to this request for help") -> None:
        self.check("consent", heading="The family's consent")
        self.radio("Does the family know you are worried about the child?", "Yes")
        self.radio("Has the family agreed to you asking for help?", choice)
        submit(self.page, CONTINUE)

    def check_answers(self, expect_lines: tuple[str, ...] = ()) -> None:
        self.check("check-answers", heading="Check your answers")
        main = self.page.locator("main")
        for line in expect_lines:
            expect(main).to_contain_text(line)
        submit(self.page, "Get recommendation")
        assert self.path() == "/refer/recommendation"

    def recommendation(self, route: str, level: int, heading: str | None = None) -> list[str]:
        """Check the recommendation and save its screenshot; returns the deciding reason ids."""
        shown = self.page.locator("#recommendation")
        assert (shown.get_attribute("data-route"), shown.get_attribute("data-level")) == (route, str(level))
        assert shown.get_attribute("data-threshold-id") == self.version.id
        self.check("recommendation", heading=heading, screenshot=f"recommendation-{self.name}")
        return [r.get_attribute("data-reason-id") for r in self.page.locator("[data-reason-id]").all()]

    def whole_questions(self, age: dict, ticks: dict | None = None, severity: dict | None = None,
                        back_from: str | None = None) -> None:
        """From the start page to Check your answers, answering "No" to immediate danger."""
        self.start()
        self.danger("No")
        self.about_you()
        self.about_child(age)
        self.concerns(ticks, severity, back_from)
        self.voice()
        self.family()
        self.consent()
        assert self.path() == "/refer/check"


def phone_now_page(referrer: Referrer, version) -> None:
    """The phone-now page: 999, then the front door and its out-of-hours number."""
    page = referrer.page
    assert referrer.path() == "/refer/phone-now"
    info, contacts = version.document.immediate_danger, version.document.contacts
    main = page.locator("main")
    expect(main).to_contain_text("999")
    expect(main.get_by_role("link", name=contacts.front_door.phone)).to_be_visible()
    expect(main.get_by_role("link", name=contacts.out_of_hours.phone)).to_be_visible()
    assert page.locator("#recommendation").get_attribute("data-immediate") == "true"
    referrer.check("phone-now", heading=info.title, screenshot=f"recommendation-{referrer.name}")


# ------------------------------------------------------------------------------------------ routes

def test_no_concerns_universal_services(page_as, version):
    """Universal: every concerns page answered "None of these". Also: an empty question page shows
    the error summary, Back keeps an answer, and a draft can be left and picked up again."""
    page = page_as("referrer")
    referrer = Referrer(page, version, "universal")
    referrer.start()

    # An empty answer: the error summary, linked to the question.
    submit(page, CONTINUE)
    referrer.check_error("danger", "Select yes if the child is in immediate danger now")
    referrer.danger("No")
    referrer.about_you()

    # Back from "About the child" returns to "About you" with the answers still selected.
    page.get_by_role("link", name="Back", exact=True).click()
    assert referrer.path() == "/refer/about-you"
    expect(page.get_by_label("Designated safeguarding lead or deputy", exact=True)).to_be_checked()
    expect(page.get_by_label("School or college", exact=True)).to_be_checked()
    submit(page, CONTINUE)
    assert referrer.path() == "/refer/about-child"

    # Leave for "your saved drafts", then carry on from the start page where it was left.
    page.get_by_role("link", name="your saved drafts").click()
    referrer.check("drafts", heading="Your saved drafts")
    expect(page.get_by_role("table")).to_contain_text("question pages answered")
    page.get_by_role("link", name="Back", exact=True).click()
    referrer.check("start-with-draft", heading="Worried about a child?")
    submit(page, "Continue where you left off")
    assert referrer.path() == "/refer/about-child"

    referrer.about_child(NINE_YEARS)
    referrer.concerns()
    assert referrer.path() == "/refer/voice"
    referrer.voice()
    referrer.family()
    referrer.consent()
    referrer.check_answers(("None of these", "9 years and 3 months"))
    assert referrer.recommendation("universal", 1, heading=version.document.routes.universal.title) == []
    expect(page.locator("main")).to_contain_text("You did not select any of the concerns")
    assert page.locator("[data-service-id]").count() > 0, "universal services for a 9 year old are listed"

    submit(page, "Finish and keep a summary")
    assert referrer.path() == "/refer/summary"
    referrer.check("summary", heading=version.document.routes.universal.title)
    page.problems.assert_none("universal journey")


def test_one_additional_need_early_help(page_as, version):
    """Early help: one level-2 concern, consent given. Back keeps a ticked concern; the override
    page (and its error) is checked; finishing opens the printable summary."""
    page = page_as("referrer")
    referrer = Referrer(page, version, "early-help")
    page_id, item = plain_items(version, NINE_YEARS, level=2, serious=False)[0]
    referrer.whole_questions(NINE_YEARS, {page_id: [item]}, back_from=page_id)
    referrer.check_answers((item.text,))
    reasons = referrer.recommendation("early_help", 2, heading=version.document.routes.early_help.title)
    assert reasons == [item.id], "the one concern ticked is the reason given"
    expect(page.get_by_role("heading", name="Starting early help")).to_be_visible()

    # "I disagree": the override page, its error, and Back to the recommendation.
    page.get_by_role("link", name="I disagree with this recommendation").click()
    referrer.check("override", heading="I disagree with the recommendation")
    submit(page, "Continue")
    referrer.check_error("override", "Select what you want to do instead")
    page.get_by_role("link", name="Back", exact=True).click()
    assert referrer.path() == "/refer/recommendation"

    submit(page, "Finish and keep a summary")
    assert referrer.path() == "/refer/summary"
    referrer.check("summary", heading=version.document.routes.early_help.title)
    expect(page.locator("main")).to_contain_text(item.text)
    # The printable summary: on paper, no header, navigation or links back.
    page.emulate_media(media="print")
    expect(page.locator(".signpost-header")).to_be_hidden()
    expect(page.locator(".signpost-no-print")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "summary-early-help-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.problems.assert_none("early help journey")


def test_top_level_concern_social_care_referral(page_as, version, live_server):
    """Social care: a level-4 concern; the referral details (first empty, to see the errors), sent
    once; the confirmation shows the reference and "My referrals" lists it."""
    page = page_as("referrer")
    referrer = Referrer(page, version, "social-care")
    page_id, item = plain_items(version, NINE_YEARS, level=4, serious=True)[0]
    referrer.start()
    referrer.danger("No")
    referrer.about_you()
    referrer.about_child(NINE_YEARS)
    # Nothing ticked on the first concerns page: its error state.
    submit(page, CONTINUE)
    referrer.check_error("concerns-serious", "Select the concerns that apply")
    referrer.concerns({page_id: [item]})
    referrer.voice()
    referrer.family()
    referrer.consent()
    referrer.check_answers((item.text,))
    reasons = referrer.recommendation("social_care", 4, heading=version.document.routes.social_care.title)
    assert item.id in reasons

    page.get_by_role("link", name="Continue to the referral").click()
    assert referrer.path() == "/refer/referral"
    referrer.check("referral", heading="Details for the referral")
    submit(page, "Send referral to the front door")
    referrer.check_error("referral", "Enter the child's first name")

    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Example")
    born = page.get_by_role("group", name="Date of birth")
    birthday = dt.date.today() - dt.timedelta(days=9 * 365 + 100)  # fits the age given: 9 years 3 months
    born.get_by_label("Day").fill(str(birthday.day))
    born.get_by_label("Month").fill(str(birthday.month))
    born.get_by_label("Year").fill(str(birthday.year))
    page.get_by_label("Home address").fill("1 Fictional Row, Northmere")
    page.get_by_label("Postcode").fill("nm1 4ab")
    page.get_by_label("Parents or carers").fill("Sam Example (mother), 01632 960 555")
    referrer.radio("Does the family need an interpreter?", "No")
    page.get_by_label("Your phone number").fill("01632 960 777")
    submit(page, "Send referral to the front door")

    assert referrer.path() == "/refer/confirmation"
    panel = page.locator(".govuk-panel")
    expect(panel).to_contain_text("Referral sent")
    reference = panel.locator("strong").inner_text().strip()
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d+", reference), reference
    referrer.check("confirmation", heading="Referral sent")

    # Opening the form again (or refreshing the confirmation) never sends it twice.
    page.reload()
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    page.goto("/refer/referral")
    assert referrer.path() == "/refer/confirmation"
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    from signpost.models import Referral
    with live_server.app.app_context():
        from signpost.extensions import db
        made = db.session.scalars(db.select(Referral).where(Referral.reference == reference)).all()
        assert len(made) == 1 and made[0].assessment.route_taken == "social_care"
        assert made[0].details["postcode"] == "NM1 4AB"

    page.locator("main").get_by_role("link", name="My referrals").click()
    assert referrer.path() == "/refer/my-referrals"
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Ada Example")
    expect(row).to_contain_text("Waiting for a decision")
    referrer.check("my-referrals", heading="My referrals")
    row.get_by_role("link", name=reference).click()
    referrer.check("my-referral", heading="Ada Example")
    page.problems.assert_none("social care journey")


# ------------------------------------------------------------------------------------------ immediate danger

def test_yes_to_immediate_danger_goes_straight_to_phone_now(page_as, version):
    page = page_as("referrer")
    referrer = Referrer(page, version, "immediate-danger")
    referrer.start()
    referrer.danger("Yes")
    phone_now_page(referrer, version)
    page.problems.assert_none("immediate danger from the first question")


def test_ticking_an_immediate_indicator_says_phone_now_at_once(page_as, version):
    """A bruise on a baby who is not yet mobile: "Phone now" shows the moment it is ticked,
    before the page is sent; sending it goes straight to the phone-now page."""
    page = page_as("referrer")
    referrer = Referrer(page, version, "immediate-indicator")
    referrer.start()
    referrer.danger("No")
    referrer.about_you()
    referrer.about_child(BABY)
    serious = referrer.concerns_pages()["concerns_serious"]
    immediate = [item for item in serious.items
                 if item.id in version.indicators and version.indicators[item.id].immediate]
    # Prefer an indicator that only applies to babies, so the age really matters.
    baby_only = [i for i in immediate if version.indicators[i.id].max_age_months is not None
                 and version.indicators[i.id].max_age_months < 12]
    item = (baby_only or immediate)[0]
    referrer.check("concerns-serious", heading="Are any of these happening to the child?")
    warning = page.locator("[data-phone-now]")
    expect(warning).to_be_hidden()
    # The last immediate concern on the page is far below the warning: it still comes into view.
    lowest = immediate[-1]
    referrer.tick(lowest)
    expect(warning).to_be_visible()
    expect(warning).to_be_in_viewport()
    expect(warning).to_contain_text("Phone now")
    expect(page.get_by_label(lowest.text, exact=True)).to_be_focused()
    referrer.check("concerns-serious-phone-now-shown")
    page.get_by_label(lowest.text, exact=True).uncheck()
    expect(warning).to_be_hidden()
    referrer.tick(item)
    expect(warning).to_be_visible()
    submit(page, CONTINUE)
    phone_now_page(referrer, version)
    assert item.id in [r.get_attribute("data-reason-id") for r in page.locator("[data-reason-id]").all()]
    page.problems.assert_none("immediate danger from a ticked indicator")


# ------------------------------------------------------------------------------------------ without JavaScript

def test_whole_journey_without_javascript(browser, live_server, signed_in_states, version):
    """Progressive enhancement only: with JavaScript off, a journey with a severity question
    reaches its recommendation (the age fields show without the radios' script)."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900},
                                  storage_state=signed_in_states("referrer"))
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.problems = PageProblems(page)
        age = {"years": 14, "months": 0}
        pages = journey.concerns_pages(version, child_answers(age))
        concerns_page = next(p for p in pages if any(i.question for i in p.items))
        question = next(i for i in concerns_page.items if i.question)
        options = [o for o in version.severity_options(question.id)
                   if journey.applies(o, age["years"] * 12 + age["months"], False) and not o.immediate]
        lowest = min(options, key=lambda o: o.level)
        referrer = Referrer(page, version, "no-javascript", javascript=False)
        referrer.whole_questions(age, {concerns_page.id: [question]}, {question.id: lowest.id})
        referrer.check_answers((f"{question.text}: {lowest.option}",))
        expected = expected_recommendation(live_server, version, {
            **child_answers(age), "in_danger": "no", "concerns": {concerns_page.id: [question.id]},
            "severity": {question.id: lowest.id}, "consent": {"aware": "yes", "consent": "given"}})
        reasons = referrer.recommendation(expected.route, expected.level)
        assert lowest.id in reasons
        page.problems.assert_none("journey without JavaScript")
    finally:
        context.close()
