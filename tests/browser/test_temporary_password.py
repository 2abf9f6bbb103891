"""An account an administrator adds, signed in to for the first time in a real browser: the
temporary password must be changed first, on a page that says why (zero axe violations).
"""
from urllib.parse import urlsplit

import pytest

from .harness import axe, submit

pytestmark = pytest.mark.browser

TEMPORARY = "a temporary password for the browser"


def add_referrer(admin, email, name):
    admin.goto("/admin/users/new")
    admin.get_by_label("Email address").fill(email)
    admin.get_by_label("Full name").fill(name)
    admin.get_by_label("Referrer (school or health staff)").check()
    admin.get_by_label("Temporary password").fill(TEMPORARY)
    submit(admin, "Add user")


def test_an_administrators_new_account_changes_its_temporary_password_first(page_as, page):
    admin = page_as("admin")
    add_referrer(admin, "first.sign-in@school.example", "First Sign-in")
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


def test_an_administrator_resets_a_password_and_re_enables_an_account_with_a_new_one(page_as):
    admin = page_as("admin")
    add_referrer(admin, "reset.me@school.example", "Reset Me")

    admin.locator("tr", has_text="reset.me@school.example").get_by_role("link", name="Change").click()
    admin.get_by_role("link", name="Reset the password").click()
    assert admin.get_by_role("heading", name="Reset the password for Reset Me").is_visible()
    axe(admin, "admin-reset-password")
    assert submit(admin, "Reset password").status == 400  # empty: refused, with the error summary
    admin.get_by_role("link", name="Enter a temporary password").click()
    assert admin.evaluate("document.activeElement.id") == "password"
    axe(admin, "admin-reset-password-errors")
    admin.get_by_label("Temporary password").fill("another temporary password")
    submit(admin, "Reset password")
    assert admin.get_by_text("reset.me@school.example has a new temporary password").is_visible()

    # Disabled, it is re-enabled only with a new temporary password, on a page of its own.
    admin.locator("tr", has_text="reset.me@school.example").get_by_role("link", name="Change").click()
    admin.get_by_label("Disabled: cannot sign in").check()
    submit(admin, "Save changes")
    admin.locator("tr", has_text="reset.me@school.example").get_by_role("link", name="Change").click()
    assert admin.get_by_label("Active: can sign in").count() == 0
    axe(admin, "admin-edit-disabled-user")
    admin.get_by_role("link", name="Re-enable this account").click()
    axe(admin, "admin-enable-user")
    admin.get_by_label("Temporary password").fill("a third temporary password")
    submit(admin, "Re-enable account")
    row = admin.locator("tr", has_text="reset.me@school.example")
    assert row.get_by_text("Active").is_visible() and row.get_by_text("Temporary password").is_visible()
