"""The idle-timeout warning (static/timeout.js, WCAG 2.2.1): shown before the session would end for
want of use, with a way to stay signed in; told plainly when it has ended; waiting for the latest page
opened in any tab. The browser's clock is Playwright's fake one, moved on by the test: no waiting.
The live server's idle limit is the default, 30 minutes: the warning opens 2 minutes before."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .harness import axe

pytestmark = pytest.mark.browser

WARNING = "You are about to be signed out"
ENDED = "You have been signed out"


def opened(page, path="/"):
    """The page, on a fake clock that moves only when the test moves it; its timeout dialog."""
    page.clock.install()
    page.goto(path)
    pause(page)
    return page.locator("dialog[data-timeout]")


def opened_near_the_end(page, path, seconds):
    """As opened(), as if signed in long ago: the session ends (SESSION_MAX_HOURS) `seconds` after the page
    loads. The page's own copy says so; the server's session is not changed, nor asked."""
    def near_the_end(route):
        response = route.fetch()
        body = re.sub(r'data-session-left-seconds="\d+"', f'data-session-left-seconds="{seconds}"', response.text())
        route.fulfill(response=response, body=body)
    page.route(lambda url: urlsplit(url).path == path, near_the_end)
    return opened(page, path)


def notice(page):
    """What the warning told them, kept at the top of the page once its dialog is closed."""
    return page.locator("[data-timeout-notice]")


def pause(page):
    page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # in seconds


def axe_as_it_is(page, name):
    """axe and its screenshot, which waits for the page to paint: the clock runs meanwhile."""
    page.clock.resume()
    axe(page, name)
    pause(page)


def test_the_warning_comes_two_minutes_before_and_stay_signed_in_starts_the_clock_again(page_as):
    page = page_as("referrer")
    dialog = opened(page)
    page.clock.run_for("27:45")
    expect(dialog).to_be_hidden()
    page.clock.run_for("00:20")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name=WARNING)).to_be_visible()
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    expect(dialog.locator("[data-timeout-left]")).to_have_text("2 minutes")
    assert "12 hours" not in dialog.locator("#signpost-timeout-text").inner_text()
    expect(dialog.get_by_role("button", name="Continue")).to_be_hidden()
    axe_as_it_is(page, "timeout-warning")
    with page.expect_response("**/account/stay-signed-in") as sent:
        dialog.get_by_role("button", name="Stay signed in").click()
    assert sent.value.status == 204
    expect(dialog).to_be_hidden()
    page.clock.run_for("27:00")  # a new 30 minutes from now: no warning yet
    expect(dialog).to_be_hidden()
    page.clock.run_for("01:30")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")  # Escape keeps them signed in, too
    expect(dialog).to_be_hidden()
    page.problems.assert_none("timeout warning")


def test_when_the_time_is_up_the_warning_says_they_were_signed_out_and_how_to_carry_on(page_as):
    page = page_as("front_door")
    dialog = opened(page, "/front-door")
    page.clock.run_for("28:01")
    expect(dialog.locator("[data-timeout-left]")).to_have_text("2 minutes")
    page.clock.run_for("01:20")
    # 40 seconds, less the moment the page took to load before the clock was paused
    expect(dialog.locator("[data-timeout-left]")).to_have_text(re.compile(r"^(3\d|40) seconds$"))
    page.clock.run_for("00:45")
    ended = dialog.get_by_role("heading", name=ENDED)
    expect(ended).to_be_visible()
    expect(ended).to_be_focused()
    expect(dialog.get_by_role("heading", name=WARNING)).to_be_hidden()
    expect(dialog.get_by_role("link", name="Sign in again")).to_have_attribute("href", urlsplit(page.url).path)
    expect(dialog).to_contain_text("had not done anything for 30 minutes")
    axe_as_it_is(page, "timeout-ended")


def test_stay_signed_in_after_the_session_ended_elsewhere_says_so(page_as):
    page = page_as("policy_lead")
    dialog = opened(page)
    # The server signed the session out (another tab signed out, say): it sends the request to sign in.
    page.route("**/account/stay-signed-in", lambda route: route.fulfill(status=302, headers={"Location": "/sign-in"}))
    page.clock.run_for("28:05")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_visible()
    # Neither limit was reached: not told it was for doing nothing for 30 minutes
    expect(dialog.locator("#signpost-timeout-why")).to_be_hidden()
    expect(dialog.locator("#signpost-timeout-other")).to_contain_text("before the time was up")


def test_a_page_opened_in_another_tab_puts_the_warning_off(browser, live_server, signed_in_states):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", storage_state=signed_in_states("admin"))
    context.set_default_timeout(10_000)
    try:
        context.clock.install()
        first = context.new_page()
        first.goto("/admin/users")
        dialog = first.locator("dialog[data-timeout]")
        first.clock.run_for("20:00")
        second = context.new_page()
        second.goto("/")  # a request 20 minutes on: the session's clock starts again
        first.clock.run_for("09:00")  # 29 minutes after the first page, 9 after the second
        expect(dialog).to_be_hidden()
        first.clock.run_for("19:30")  # less than 2 minutes before the second page's 30
        expect(dialog).to_be_visible()
        expect(second.locator("dialog[data-timeout]")).to_be_visible()
    finally:
        context.close()


def test_without_javascript_there_is_no_warning_and_nothing_hidden_is_in_the_way(page_as):
    page = page_as("referrer", javascript=False)
    page.goto("/")
    expect(page.locator("dialog[data-timeout]")).to_be_hidden()
    expect(page.get_by_role("button", name="Stay signed in")).to_be_hidden()
    expect(notice(page)).to_be_hidden()
    for words in ("sign you out", "signed out"):  # nothing of it shows
        expect(page.get_by_text(words).filter(visible=True)).to_have_count(0)


def writing_a_note(page):
    """A front door item's page, opened(), with its decision note part written: (dialog, note, its path)."""
    page.goto("/front-door/")
    item = page.locator("a[href*='/front-door/items/']").first.get_attribute("href")
    dialog = opened(page, item)
    note = page.get_by_label("Note for the referrer")
    note.fill("(test) Spoke to the school nurse.")
    return dialog, note, item


def test_signed_out_while_writing_they_can_go_back_to_the_form_to_send_it(page_as):
    """The ended message says to send a half-written form as usual (it is kept across the sign-in): the
    modal dialog must let them back to it, since Sign in again leaves the page and what they typed."""
    page = page_as("front_door")
    dialog, note, item = writing_a_note(page)
    page.clock.run_for("30:35")
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_focused()
    dialog.get_by_role("button", name="Go back to the page").click()
    expect(dialog).to_be_hidden()
    expect(note).to_be_focused()
    expect(note).to_have_value("(test) Spoke to the school nurse.")
    expect(notice(page).get_by_role("heading", name=ENDED)).to_be_visible()  # the page does not look signed in
    page.clock.run_for("10:00")  # signed out it stays: no warning again
    expect(dialog).to_be_hidden()
    expect(notice(page)).to_be_visible()
    page.problems.assert_none("timeout ended, back to the page")


def test_the_end_of_a_session_however_busy_is_warned_of_too(page_as):
    """A session ends SESSION_MAX_HOURS (12) after signing in, however often Stay signed in is used: that
    limit is warned of as well, saying why and with nothing to stay signed in for, and told when it comes."""
    page = page_as("policy_lead")
    dialog = opened(page)
    left = int(dialog.get_attribute("data-session-left-seconds"))
    assert 11 * 3600 < left <= 12 * 3600
    stay = dialog.get_by_role("button", name="Stay signed in")
    carry_on = dialog.get_by_role("button", name="Continue")
    elapsed = 0
    while elapsed + 30 * 60 < left - 2 * 60:  # busy all day: every warning of the idle limit answered
        page.clock.run_for(28 * 60 * 1000 + 5000)
        elapsed += 28 * 60 + 5
        expect(stay).to_be_visible()
        stay.click()
        expect(dialog).to_be_hidden()
    page.clock.run_for((left - 2 * 60 - elapsed - 5) * 1000)
    expect(dialog).to_be_hidden()
    page.clock.run_for(10_000)  # two minutes before the end
    expect(carry_on).to_be_visible()
    said = dialog.locator("#signpost-timeout-text").inner_text()  # what is shown, not what is hidden
    assert "because you will have been signed in for 12 hours" in said and "do not do anything" not in said
    expect(stay).to_be_hidden()
    expect(carry_on).to_be_focused()
    axe_as_it_is(page, "timeout-session-end")
    carry_on.click()
    expect(dialog).to_be_hidden()
    page.clock.run_for("01:00")  # read once: not shown again before the end
    expect(dialog).to_be_hidden()
    page.clock.run_for("01:30")
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_focused()
    said = dialog.locator("#signpost-timeout-why").inner_text()
    assert "because you had been signed in for 12 hours" in said and "not done anything" not in said
    page.problems.assert_none("timeout at the session's end")


def test_signing_out_in_another_tab_says_so_in_this_one(browser, live_server):
    """Not 'you were signed out because you had not done anything': this browser signed out elsewhere.
    Its own sign-in (not the shared one): signing out ends every session of the account."""
    from .harness import sign_in, submit
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        first = context.new_page()
        sign_in(first, *live_server.users["policy_lead"])
        dialog = first.locator("dialog[data-timeout]")
        second = context.new_page()
        second.goto("/")
        submit(second, "Sign out")
        expect(dialog.get_by_role("heading", name=ENDED)).to_be_visible()
        expect(dialog).to_contain_text("You signed out in another tab or window")
        expect(dialog.locator("#signpost-timeout-why")).to_be_hidden()
    finally:
        context.close()


def test_stay_signed_in_when_signpost_cannot_answer_keeps_the_warning_to_try_again(page_as):
    page = page_as("front_door")
    dialog = opened(page, "/front-door")
    page.route("**/account/stay-signed-in", lambda route: route.fulfill(status=503, body="Service unavailable"))
    page.clock.run_for("28:05")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Signpost could not be reached")
    expect(dialog.get_by_role("heading", name=WARNING)).to_be_visible()
    page.unroute("**/account/stay-signed-in")
    with page.expect_response("**/account/stay-signed-in"):
        dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()


def test_a_failed_stay_signed_in_is_not_reported_again_at_the_next_warning(page_as):
    """Stay signed in failed (a 503), then another tab's page put the warning off: the next warning, a
    half hour on, does not open saying that Signpost could not be reached."""
    page = page_as("front_door")
    dialog = opened(page, "/front-door")
    page.route("**/account/stay-signed-in", lambda route: route.fulfill(status=503, body="Service unavailable"))
    page.clock.run_for("28:05")
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog.locator("[data-timeout-error]")).to_be_visible()
    page.evaluate("localStorage.setItem('signpost-last-request', String(Date.now()))")  # another tab's page
    page.clock.run_for("00:02")
    expect(dialog).to_be_hidden()
    page.clock.run_for("28:05")
    expect(dialog.get_by_role("heading", name=WARNING)).to_be_visible()
    expect(dialog.locator("[data-timeout-error]")).to_be_hidden()


def test_escape_on_the_signed_out_message_goes_back_to_the_page_which_still_says_so(page_as):
    """Escape does what Go back to the page does, and the page keeps the message at its top (a page that
    looked signed in would lose what they send next); said to a screen reader; axe-clean on a phone."""
    page = page_as("front_door")
    page.set_viewport_size({"width": 320, "height": 640})
    dialog, note, item = writing_a_note(page)
    page.clock.run_for("28:05")
    expect(dialog.get_by_role("heading", name=WARNING)).to_be_visible()
    axe_as_it_is(page, "timeout-warning-320")
    page.clock.run_for("02:30")
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_focused()
    axe_as_it_is(page, "timeout-ended-320")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(note).to_be_focused()
    expect(note).to_have_value("(test) Spoke to the school nurse.")
    kept = notice(page)
    expect(kept.get_by_role("heading", name=ENDED)).to_be_visible()
    expect(kept).to_contain_text("had not done anything for 30 minutes")
    expect(kept.get_by_role("link", name="Sign in again")).to_have_attribute("href", item)
    expect(kept.get_by_role("button", name="Go back to the page")).to_be_hidden()
    expect(page.get_by_role("status")).to_have_text(re.compile("You have been signed out"))
    axe_as_it_is(page, "timeout-ended-notice-320")
    page.clock.run_for("10:00")
    expect(dialog).to_be_hidden()
    expect(kept).to_be_visible()
    page.problems.assert_none("timeout ended, Escape")


def test_after_continue_the_page_says_when_the_session_ends_and_the_end_says_why(page_as):
    """Continue at the warning of the session's end: not shown again, so the page keeps saying when."""
    page = page_as("admin")  # not policy_lead: a test here signs out every session of that account
    dialog = opened_near_the_end(page, "/", 10 * 60)
    page.clock.run_for("08:05")
    carry_on = dialog.get_by_role("button", name="Continue")
    expect(carry_on).to_be_focused()
    ends = page.evaluate("[100, 115].map((s) => { const at = new Date(Date.now() + s * 1000);"
                         " return [at.getHours(), at.getMinutes()]; })")
    times = {f"{h % 12 or 12}:{m:02d}{'am' if h < 12 else 'pm'}" for h, m in ends}
    carry_on.click()
    expect(dialog).to_be_hidden()
    said = notice(page).inner_text()
    assert re.search(r"We will sign you out at \S+ because you will have been signed in for 12 hours", said), said
    assert any(f"at {time} because" in said for time in times), (said, times)
    axe_as_it_is(page, "timeout-session-end-notice")
    page.clock.run_for("02:00")
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_focused()
    said = dialog.locator("#signpost-timeout-why").inner_text()  # what is shown, not what is hidden
    assert "because you had been signed in for 12 hours" in said and "not done anything" not in said
    expect(notice(page).get_by_text("We will sign you out")).to_be_hidden()
    page.problems.assert_none("timeout, Continue")


def test_when_another_tab_puts_the_idle_end_past_the_sessions_the_open_warning_speaks_of_the_session(page_as):
    """The warning of the idle end is open; a page opened in another tab puts that end past the session's
    (SESSION_MAX_HOURS): Stay signed in can no longer help, so the warning is now of the session's end."""
    page = page_as("referrer")
    dialog = opened_near_the_end(page, "/", 30 * 60 + 5)
    stay = dialog.get_by_role("button", name="Stay signed in")
    carry_on = dialog.get_by_role("button", name="Continue")
    page.clock.run_for("28:05")
    expect(stay).to_be_focused()
    assert "if you do not do anything" in dialog.locator("#signpost-timeout-text").inner_text()
    page.evaluate("localStorage.setItem('signpost-last-request', String(Date.now()))")  # another tab's page
    page.clock.run_for("00:02")
    expect(stay).to_be_hidden()
    expect(carry_on).to_be_focused()
    said = dialog.locator("#signpost-timeout-text").inner_text()
    assert "because you will have been signed in for 12 hours" in said and "do not do anything" not in said
    announced = dialog.locator("[data-timeout-announce]")
    expect(announced).to_contain_text("because you will have been signed in for 12 hours")
    assert "do not do anything" not in announced.inner_text()
    page.clock.run_for("02:00")
    expect(dialog.get_by_role("heading", name=ENDED)).to_be_focused()
    said = dialog.locator("#signpost-timeout-why").inner_text()
    assert "because you had been signed in for 12 hours" in said and "not done anything" not in said
    page.problems.assert_none("timeout, the idle end put past the session's")
