"""Whole referral journeys in a real browser, clicked and typed like a person would.

An early-help request sent to the hub, a social-care referral with the referrer's words, an age
change that asks the new questions, a draft deleted with confirmation, the journey on a phone,
immediate danger and a journey without JavaScript; axe-core on every page (error states
included) and a screenshot of each in test-artifacts/. Waits are for pages, never fixed times.
"""
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from signpost import journey

from .harness import PageProblems, axe, submit
from signpost.values import uk_today

pytestmark = pytest.mark.browser

CONTINUE = "Save and continue"
NINE_YEARS = {"years": 9, "months": 3}


@pytest.fixture(scope="module")
def version(live_server):
    """The threshold version in force in the live server: the questions come from it."""
    from signpost.content import current_version
    with live_server.app.app_context():
        return current_version()


def born(age: dict) -> journey.JourneyAnswers:
    return journey.JourneyAnswers(child=journey.Child(unborn=False, **age))


def plain(version, age: dict, level: int) -> list[str]:
    """Indicators at this level, without a severity question, not an emergency, at this age."""
    months = age["years"] * 12 + age["months"]
    return [i.id for i in version.document.indicators if i.level == level and not i.asks_for and not i.lado
            and not journey.is_emergency(i) and journey.applies(i, months, False)]


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
        """Asked once per account: only if this account has not said before."""
        if self.path() != "/refer/about-you":
            return
        self.check("about-you", heading="About you")
        self.radio("What is your role?", "Designated safeguarding lead or deputy")
        self.radio("What type of organisation do you work for?", "School or college")
        submit(self.page, CONTINUE)

    def about_child(self, age: dict, then: str | None = "/refer/serious") -> None:
        self.age = age
        self.check("about-child", heading="About the child")
        self.radio("Has the child been born?", "Yes")
        self.page.get_by_label("Years", exact=True).fill(str(age["years"]))
        self.page.get_by_label("Months", exact=True).fill(str(age["months"]))
        submit(self.page, CONTINUE)
        if then is not None:
            assert self.path() == then, self.path()

    def tick_in_group(self, label: str) -> None:
        """Open the heading the box is under (a <details>), then tick it."""
        box = self.page.get_by_label(label, exact=True)
        group = self.page.locator("details").filter(has=box)
        if group.count() and group.get_attribute("open") is None:
            group.locator("summary").click()
        box.check()

    def concerns(self, indicators=(), screenshots: bool = True) -> None:
        """The serious page, the areas page and the concerns page: exactly these indicators."""
        j = journey
        target = j.with_concerns(self.version, born(self.age), indicators)
        while self.path() in ("/refer/serious", "/refer/areas", "/refer/concerns"):
            key = self.path().removeprefix("/refer/")
            if screenshots:
                self.check(key)
            ticks = getattr(target, key)
            plan = j.layout(self.version, target)
            if key == "areas":
                labels = [i.text for g in plan.areas for i in g.items if i.id in (ticks.ticked if ticks else ())]
            elif key == "serious":
                labels = [i.text for i in plan.serious_items if i.id in (ticks.ticked if ticks else ())]
            else:
                labels = [i.text for i in j.concern_items(self.version, target) if i.id in ticks.ticked]
            answers = [self.page.get_by_label(self.version.indicators[answer].option, exact=True)
                       for answer in (target.severity.values() if key == "concerns" else ())]
            if self.javascript:  # a severity question shows under its concern only once that is ticked
                for answer in answers:
                    expect(answer).to_be_hidden()
            for label in labels:
                self.tick_in_group(label)
            for answer in answers:
                if self.javascript:
                    expect(answer).to_be_visible()
                answer.check()
            if not labels:
                self.page.get_by_label("None of these", exact=True).check()
            submit(self.page, CONTINUE)

    def what_happened(self, words: str = "She came in without a coat and said there was no food at home",
                      voice: bool = True) -> None:
        self.check("what-happened", heading="What has happened?")
        self.page.get_by_label("What has happened, and what are you worried about?").fill(words)
        if voice:
            self.radio("Have you seen and spoken to the child about your worries?",
                       "Yes, I have seen and spoken to the child")
            self.page.get_by_label("What does the child say, in their own words?").fill("I am hungry at school")
            self.page.get_by_label("What does the child want to happen?").fill("I want my mum to be well")
        submit(self.page, CONTINUE)

    def family(self, choice: str = "Yes, the family agrees to this request for help") -> None:
        self.check("family", heading="The family")
        self.page.get_by_label("What is working well for the child and family?").fill("Comes to school every day")
        self.page.get_by_label("What has already been tried to help?").fill("Breakfast club")
        self.radio("Does the family know you are worried about the child?", "Yes")
        self.radio("Has the family agreed to you asking for help?", choice)
        submit(self.page, CONTINUE)
        assert self.path() == "/refer/check"

    def check_answers(self, expect_lines: tuple[str, ...] = ()) -> None:
        self.check("check-answers", heading="Check your answers")
        main = self.page.locator("main")
        for line in expect_lines:
            expect(main).to_contain_text(line)
        submit(self.page, "Get recommendation")
        assert self.path() == "/refer/recommendation"

    def recommendation(self, route: str, level: int) -> list[str]:
        """Check the recommendation and save its screenshot; returns the deciding reason ids."""
        shown = self.page.locator("#recommendation")
        assert (shown.get_attribute("data-route"), shown.get_attribute("data-level")) == (route, str(level))
        assert shown.get_attribute("data-threshold-id") == self.version.id
        self.check("recommendation", screenshot=f"recommendation-{self.name}")
        return [r.get_attribute("data-reason-id") for r in self.page.locator("[data-reason-id]").all()]

    def questions(self, age: dict, indicators=(), consent: str = "Yes, the family agrees to this request for help"):
        """From the start page to Check your answers, answering "No" to immediate danger."""
        self.start()
        self.danger("No")
        self.about_you()
        self.about_child(age)
        self.concerns(indicators)
        self.what_happened()
        self.family(consent)

    def details(self, heading: str, button: str) -> None:
        """The identifying details (first empty, to see the errors), then Check before sending."""
        self.check("details", heading=heading)
        submit(self.page, "Continue")
        self.check_error("details", "Enter the child's first name")
        page = self.page
        page.get_by_label("First name").fill("Ada")
        page.get_by_label("Last name").fill("Example")
        group = page.get_by_role("group", name="Date of birth")
        birthday = uk_today() - dt.timedelta(days=9 * 365 + 100)  # fits the age given: 9 years 3 months
        group.get_by_label("Day").fill(str(birthday.day))
        group.get_by_label("Month").fill(str(birthday.month))
        group.get_by_label("Year").fill(str(birthday.year))
        page.get_by_label("Home address").fill("1 Fictional Row, Northmere")
        page.get_by_label("Postcode").fill("nm1 4ab")
        page.get_by_label("Parents or carers").fill("Sam Example (mother), 01632 960 555")
        self.radio("Does the family need an interpreter?", "No")
        page.get_by_label("Your phone number").fill("01632 960 777")
        submit(page, "Continue")
        assert self.path().startswith("/refer/send/")
        self.check("send-check")
        expect(page.locator("#details")).to_contain_text("1 Fictional Row, Northmere")
        submit(page, button)
        assert self.path() == "/refer/confirmation"
        self.check("confirmation")

    def sent(self, live_server, kind: str):
        from signpost.extensions import db
        from signpost.models import Referral
        reference = self.page.locator(".govuk-panel strong").inner_text().strip()
        assert re.fullmatch(r"[A-Z]+-\d{4}-\d+", reference), reference
        with live_server.app.app_context():
            made = db.session.scalars(db.select(Referral).where(Referral.reference == reference)).all()
            assert len(made) == 1 and made[0].kind == kind
            return reference, made[0].details


def phone_now_page(referrer: Referrer, version) -> None:
    """The phone-now page: 999, then the front door and its out-of-hours number."""
    page = referrer.page
    assert referrer.path() == "/refer/phone-now"
    contacts = version.document.contacts
    main = page.locator("main")
    expect(main).to_contain_text("999")
    expect(main.get_by_role("link", name=contacts.front_door.phone)).to_be_visible()
    assert page.locator("#recommendation").get_attribute("data-immediate") == "true"
    referrer.check("phone-now", screenshot=f"recommendation-{referrer.name}")


# ------------------------------------------------------------------------------------------ journeys

def test_an_early_help_journey_sent_to_the_family_help_hub(page_as, version, live_server):
    page = page_as("referrer")
    referrer = Referrer(page, version, "early-help-hub")
    item = plain(version, NINE_YEARS, 2)[0]
    referrer.questions(NINE_YEARS, [item])
    referrer.check_answers((version.indicators[item].text,))
    assert referrer.recommendation("early_help", 2) == [item]
    page.get_by_role("link", name="Send a request to the Family Help Hub").click()
    referrer.details("Details for the request for early help", "Send the request to the Family Help Hub")
    reference, details = referrer.sent(live_server, "early_help_request")
    assert details["answers"]["what_happened"].startswith("She came in without a coat")
    page.goto("/refer/my-referrals")
    card = page.locator(".govuk-summary-card").filter(has_text=reference)
    expect(card).to_contain_text("Asked the Family Help Hub for early help")
    referrer.check("my-referrals", heading="My referrals")
    card.get_by_role("link", name="Printable summary").click()
    expect(page.get_by_role("button", name="Print this summary")).to_be_visible()
    referrer.check("summary")
    page.problems.assert_none("early help journey to the hub")


def test_a_social_care_referral_carries_the_referrers_own_words(page_as, version, live_server):
    page = page_as("referrer")
    referrer = Referrer(page, version, "social-care")
    item = plain(version, NINE_YEARS, 4)[0]
    referrer.start()
    referrer.danger("No")
    referrer.about_you()
    referrer.about_child(NINE_YEARS)
    submit(page, CONTINUE)  # nothing ticked on the first concerns page: its error state
    referrer.check_error("serious", "Select the concerns that apply")
    referrer.concerns([item])
    referrer.what_happened("Her father hit her with a belt this morning; she showed me the marks")
    referrer.family()
    referrer.check_answers((version.indicators[item].text, "Her father hit her with a belt"))
    assert item in referrer.recommendation("social_care", 4)
    page.get_by_role("link", name="Continue to the referral").click()
    referrer.details("Details for the referral", "Send referral to the front door")
    reference, details = referrer.sent(live_server, "referral")
    assert details["answers"]["what_happened"].startswith("Her father hit her with a belt")
    page.reload()  # a refresh never sends it twice
    expect(page.locator(".govuk-panel strong")).to_have_text(reference)
    page.problems.assert_none("social care referral")


def test_changing_the_age_asks_the_questions_that_now_apply(page_as, version):
    """9 to 15 on Check your answers: the pages with concerns that apply at 15 are asked again
    before Check your answers, and the new concerns are on them."""
    page = page_as("referrer")
    referrer = Referrer(page, version, "age-change")
    teen = next(i for i in version.document.indicators
                if (i.min_age_months or 0) > 111 and not journey.is_serious(version, i) and not i.lado)
    nine_item = next(i for i in plain(version, NINE_YEARS, 2) if version.indicators[i].area == teen.area)
    referrer.questions(NINE_YEARS, [nine_item])
    referrer.check("check-answers", heading="Check your answers")
    page.locator(".govuk-summary-list__row").filter(has_text="Age").get_by_role("link", name="Change").click()
    referrer.age = {"years": 15, "months": 0}
    referrer.about_child(referrer.age, then=None)
    assert referrer.path() in ("/refer/serious", "/refer/areas", "/refer/concerns")
    asked = []
    while referrer.path() != "/refer/check":
        asked.append(referrer.path())
        referrer.check(f"asked-again-{len(asked)}")
        if referrer.path() == "/refer/concerns":
            label = teen.text if not teen.asks_for else next(
                q.text for q in version.document.severity_questions if q.id == teen.asks_for)
            expect(page.get_by_label(label, exact=True)).to_be_visible()
        submit(page, CONTINUE)
    assert "/refer/concerns" in asked
    referrer.check("check-answers-after-change", heading="Check your answers")
    expect(page.locator("main")).to_contain_text("15 years")
    page.problems.assert_none("age change")


def test_a_draft_is_deleted_only_after_confirmation(page_as, version):
    page = page_as("referrer")
    referrer = Referrer(page, version, "delete-draft")
    referrer.start()
    referrer.danger("No")
    referrer.about_you()
    referrer.about_child({"years": 6, "months": 0})
    page.get_by_role("link", name="your saved drafts").click()
    referrer.check("drafts", heading="Your saved drafts")
    card = page.locator(".govuk-summary-card").filter(has_text="a child aged 5 to 9").first
    expect(card).to_contain_text("Started")
    before = page.locator(".govuk-summary-card").count()
    with page.expect_navigation():
        card.get_by_role("button", name=re.compile("^Delete")).click()
    referrer.check("confirm-delete", heading="Are you sure you want to delete this draft?")
    page.get_by_role("link", name="No, go back").click()
    assert page.locator(".govuk-summary-card").count() == before  # nothing deleted
    with page.expect_navigation():
        page.locator(".govuk-summary-card").filter(has_text="a child aged 5 to 9").first \
            .get_by_role("button", name=re.compile("^Delete")).click()
    submit(page, "Yes, delete this draft")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The draft was deleted")
    assert page.locator(".govuk-summary-card").count() == before - 1
    referrer.check("drafts-after-delete", heading="Your saved drafts")
    page.problems.assert_none("deleting a draft")


FITS_375 = """() => {
  const top = ["header.signpost-header", ".govuk-service-navigation", ".signpost-danger"]
    .map((s) => document.querySelector(s)).filter(Boolean)
    .reduce((sum, el) => sum + el.getBoundingClientRect().height, 0);
  return {top, height: window.innerHeight,
          sideways: document.documentElement.scrollWidth > document.documentElement.clientWidth};
}"""


def test_the_journey_at_375_pixels_wide(browser, live_server, signed_in_states, version):
    """A phone: header, menu and danger banner within a quarter of the height; nothing scrolls sideways."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 375, "height": 812},
                                  storage_state=signed_in_states("referrer"), is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.problems = PageProblems(page)
        referrer = Referrer(page, version, "phone")
        seen = []
        original = referrer.check

        def check_and_measure(step, **kwargs):
            original(step, **kwargs)
            fits = page.evaluate(FITS_375)
            assert fits["top"] <= fits["height"] / 4, (step, fits)
            assert not fits["sideways"], (step, "scrolls sideways")
            seen.append(step)
        referrer.check = check_and_measure
        referrer.questions(NINE_YEARS, [plain(version, NINE_YEARS, 2)[0]])
        referrer.check_answers()
        referrer.recommendation("early_help", 2)
        page.goto("/refer/my-referrals")
        referrer.check("my-referrals")
        page.goto("/refer/drafts")
        referrer.check("drafts")
        assert len(seen) >= 9
        page.problems.assert_none("journey at 375 pixels")
    finally:
        context.close()


def test_a_severity_question_shows_the_moment_its_concern_is_ticked(page_as, version, live_server):
    """With JavaScript, ticking a concern that asks how often or how serious shows that question
    under it at once: the referrer answers it on the same visit, never meets it first as an error."""
    page = page_as("referrer")
    age = {"years": 14, "months": 0}
    plan = journey.layout(version, born(age))
    question = next(i for a in plan.area_ids for i in plan.by_area[a] if i.question)
    lowest = min(question.options, key=lambda o: o.level)
    referrer = Referrer(page, version, "severity")
    referrer.questions(age, [lowest.id])  # Referrer.concerns: hidden before the tick, visible after
    referrer.check_answers((lowest.text,))
    assert lowest.id in referrer.recommendation(*expected(live_server, version, age, lowest.id))


def test_immediate_danger_phone_numbers_then_the_referrers_words(page_as, version):
    page = page_as("referrer")
    referrer = Referrer(page, version, "immediate-danger")
    referrer.start()
    referrer.danger("Yes")
    phone_now_page(referrer, version)
    page.get_by_role("link", name="I have phoned: say what has happened").click()
    referrer.what_happened("He said his stepfather has a knife and is waiting outside", voice=False)
    assert referrer.path() == "/refer/referral"
    referrer.check("details", heading="Details for the referral")
    page.problems.assert_none("immediate danger")


def test_a_same_day_concern_says_phone_the_front_door_today_from_the_next_page(page_as, version):
    page = page_as("referrer")
    referrer = Referrer(page, version, "same-day")
    months = NINE_YEARS["years"] * 12 + NINE_YEARS["months"]
    same_day = next(i.id for i in version.document.indicators if i.urgency == "same_day" and not i.asks_for
                    and journey.applies(i, months, False) and journey.is_serious(version, i))
    referrer.start()
    referrer.danger("No")
    referrer.about_you()
    referrer.about_child(NINE_YEARS)
    referrer.concerns([same_day])  # axe on the areas page, with the banner
    banner = page.locator("#phone-today")
    expect(banner).to_contain_text(version.document.same_day.title)
    expect(banner.get_by_role("link", name=version.document.contacts.front_door.phone)).to_be_visible()
    referrer.what_happened()
    expect(page.locator("#phone-today")).to_be_visible()
    page.problems.assert_none("same day")


def test_whole_journey_without_javascript(browser, live_server, signed_in_states, version):
    """Progressive enhancement only: with JavaScript off, a journey with a severity question
    beside its concern reaches its recommendation."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900},
                                  storage_state=signed_in_states("referrer"))
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.problems = PageProblems(page)
        age = {"years": 14, "months": 0}
        plan = journey.layout(version, born(age))
        question = next(i for a in plan.area_ids for i in plan.by_area[a] if i.question)
        lowest = min(question.options, key=lambda o: o.level)
        referrer = Referrer(page, version, "no-javascript", javascript=False)
        referrer.questions(age, [lowest.id])
        referrer.check_answers((lowest.text,))
        assert lowest.id in referrer.recommendation(*expected(live_server, version, age, lowest.id))
        page.problems.assert_none("journey without JavaScript")
    finally:
        context.close()


def expected(live_server, version, age, indicator):
    from signpost.content import current_directory
    from signpost.engine import Answers, assess
    with live_server.app.app_context():
        rec = assess(Answers(frozenset([indicator]), age["years"] * 12 + age["months"]), version,
                     uk_today(), current_directory())
    return rec.route, rec.level


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_error_summary_on_a_page_of_boxes_leads_to_its_first_box(browser, live_server, signed_in_states,
                                                                       version, javascript):
    """Following "Select the concerns that apply" puts focus on the page's first box, as GOV.UK's
    checkboxes do: not on the block around every group, which leaves focus on the page itself."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=javascript,
                                  viewport={"width": 1280, "height": 900}, storage_state=signed_in_states("referrer"))
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.problems = PageProblems(page)
        referrer = Referrer(page, version, "error-link", javascript=javascript)
        referrer.start()
        referrer.danger("No")
        referrer.about_you()
        referrer.about_child(NINE_YEARS)
        for step in ("serious", "areas"):
            assert referrer.path() == f"/refer/{step}"
            submit(page, CONTINUE)  # nothing ticked
            link = page.locator(".govuk-error-summary__list a").first
            link.click()
            first = page.locator("input[name=concerns]").first
            expect(first).to_be_focused()
            first.check() if step == "areas" else page.get_by_label("None of these", exact=True).check()
            submit(page, CONTINUE)
        page.problems.assert_none("error summary on pages of boxes")
    finally:
        context.close()
