"""An account an administrator adds, signed in to for the first time in a real browser: the
temporary password must be changed first, on a page that says why (zero axe violations).
"""
from urllib.parse import urlsplit

import pytest

from .harness import axe, submit

pytestmark = pytest.mark.browser

TEMPORARY = "a temporary password for the browser"


def test_an_administrators_new_account_changes_its_temporary_password_first(page_as, page):
    admin = page_as("admin")
    admin.goto("/admin/users/new")
    admin.get_by_label("Email address").fill("first.sign-in@school.example")
    admin.get_by_label("Full name").fill("First Sign-in")
    admin.get_by_label("Referrer (school or health staff)").check()
    admin.get_by_label("Temporary password").fill(TEMPORARY)
    submit(admin, "Add user")
    assert admin.locator("tr", has_text="first.sign-in@school.example").get_by_text("Temporary password").is_visible()
    axe(admin, "admin-users-temporary-password")

    page.goto("/sign-in")
    page.get_by_label("Email address").fill("first.sign-in@school.example")
    page.get_by_label("Password", exact=True).fill(TEMPORARY)
    submit(page, "Sign in")
    assert page.url.endswith("/account/password")
    assert page.get_by_text("Your password was set by an administrator").is_visible()
    assert page.get_by_role("link", name="Start").count() == 0  # no menu to pages that are shut
    axe(page, "change-temporary-password")

    page.get_by_label("Current password").fill(TEMPORARY)
    page.get_by_label("New password", exact=True).fill(TEMPORARY)
    page.get_by_label("Confirm new password").fill(TEMPORARY)
    assert submit(page, "Change password").status == 400
    assert page.get_by_role("link", name="Your new password must be different from your current password").is_visible()
    axe(page, "change-temporary-password-errors")

    page.get_by_label("Current password").fill(TEMPORARY)
    page.get_by_label("New password", exact=True).fill("a password only I know")
    page.get_by_label("Confirm new password").fill("a password only I know")
    submit(page, "Change password")
    assert urlsplit(page.url).path == "/"  # the start page, open now
    assert page.get_by_text("Your password has been changed").is_visible()
