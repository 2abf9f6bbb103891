"""The pages every user meets (sign-in, start, error pages): real sign-ins, zero axe violations.

Each page is also saved as a screenshot in test-artifacts/.
"""
import re

import pytest

from .harness import ROLES, axe, sign_in, submit

pytestmark = pytest.mark.browser


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text().strip()


def test_sign_in_page(page):
    response = page.goto("/sign-in")
    assert response.status == 200
    assert heading(page) == "Sign in"
    assert "If a child is in immediate danger, call 999" in page.inner_text("body")
    axe(page, "sign-in")


def test_sign_in_with_errors(page):
    page.goto("/sign-in")
    assert submit(page, "Sign in").status == 200
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert page.title().startswith("Error:")
    axe(page, "sign-in-errors")


@pytest.mark.parametrize("role", ROLES)
def test_each_demo_role_signs_in_to_the_start_page(page, live_server, role):
    sign_in(page, *live_server.users[role])
    assert page.url.rstrip("/") == live_server.url, "signing in lands on the start page"
    assert page.get_by_role("button", name="Sign out").is_visible()
    axe(page, f"start-{role}")

    response = page.goto("/no-such-page")
    assert response.status == 404
    assert heading(page) == "Page not found"
    axe(page, f"404-{role}")


def test_404_page_signed_out(page):
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert heading(page) == "Page not found"
    axe(page, "404-signed-out")


def test_403_page(page_as):
    page = page_as("referrer")
    response = page.goto("/admin/users")
    assert response.status == 403
    assert heading(page) == "You do not have permission to see this page"
    axe(page, "403-referrer")


def test_csrf_failure_is_a_400_page(page, live_server):
    """A sign-in form whose CSRF token was tampered with: the 400 page, not a crash."""
    page.goto("/sign-in")
    email, password = live_server.users["referrer"]
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'tampered' }")
    assert submit(page, "Sign in").status == 400
    assert heading(page) == "There is a problem with your request"
    assert re.search(r"form had expired", page.inner_text("main"))
    axe(page, "400-csrf")


def test_too_many_sign_in_attempts_is_a_429_page(page, live_server):
    """Failed sign-ins for one (unknown) account are throttled; the 429 page is accessible too."""
    # signpost.extensions.limiter is one object shared by every app in this process, and an
    # app made by another test with RATELIMIT_ENABLED=False switches it off for all of them:
    # bind it to the live app again (fresh counters) so this test sees the real throttle.
    from signpost.extensions import limiter
    limiter.init_app(live_server.app)
    page.goto("/sign-in")
    for _ in range(20):
        page.get_by_label("Email address").fill("nobody.at.all@northmere.example")
        page.get_by_label("Password", exact=True).fill("not the password")
        if submit(page, "Sign in").status == 429:
            break
    else:
        pytest.fail("20 failed sign-ins for one account were never throttled")
    assert heading(page) == "Too many attempts"
    axe(page, "429-sign-in")


def test_the_harness_sees_axe_violations_and_csp_errors(page):
    """The checks above could fail: an image without alt text and an inline script are caught."""
    page.goto("/sign-in")
    page.evaluate("""() => {
        const img = document.createElement('img');
        img.src = '/static/favicon.svg';
        document.querySelector('main').append(img);
    }""")
    with pytest.raises(pytest.fail.Exception, match="image-alt"):
        axe(page, "harness-self-check-axe")
    page.goto("/sign-in")
    page.evaluate("""() => {
        const script = document.createElement('script');
        script.textContent = 'document.title = "inline"';
        document.body.append(script);
    }""")
    with pytest.raises(pytest.fail.Exception, match="CSP violation"):
        axe(page, "harness-self-check-csp")


def test_admin_pages(page_as):
    page = page_as("admin")
    assert page.goto("/admin/users").status == 200
    axe(page, "admin-users")
    page.get_by_role("button", name="Add a user").click()
    axe(page, "admin-add-user")
    assert submit(page, "Add user").status == 400  # empty: refused, with the error summary
    axe(page, "admin-add-user-errors")
    page.goto("/admin/users")
    page.locator("table a").first.click()
    axe(page, "admin-edit-user")
    page.get_by_label("Full name").fill("")
    assert submit(page, "Save changes").status == 400
    assert page.title().startswith("Error:")
    page.locator(".govuk-error-summary__list a").first.click()
    assert page.evaluate("document.activeElement.id") == "name"
    axe(page, "admin-edit-user-errors")


def test_change_password_page(page_as):
    page = page_as("referrer")
    page.goto("/")
    page.get_by_role("link", name="Change your password").click()
    assert heading(page) == "Change your password"
    axe(page, "change-password")
    assert submit(page, "Change password").status == 400  # empty: refused, with the error summary
    assert page.title().startswith("Error:")
    axe(page, "change-password-errors")


def test_thresholds_page(page_as):
    page = page_as("policy_lead")
    assert page.goto("/thresholds").status == 200
    axe(page, "thresholds")


def test_the_guides_side_column_never_hides_the_focused_control(page_as):
    """On a laptop screen (1366 by 768 less the browser's own bars, or 1280 by 900 zoomed to 150%)
    the guide's side column (contents and filter) is taller than the window. Kept stuck to the top,
    its lower links could be tabbed to but never seen (WCAG 2.4.11, focus not obscured)."""
    page = page_as("referrer")
    page.set_viewport_size({"width": 853, "height": 600})
    page.goto("/guide/?q=school")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    page.get_by_label("Words").focus()
    for name in ("Filter", "Clear filters"):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
            return {text: e.innerText.trim(), top: r.top, bottom: r.bottom, height: innerHeight}; }""")
        assert focused["text"] == name
        assert 0 <= focused["top"] and focused["bottom"] <= focused["height"], f"{name} is out of sight: {focused}"
