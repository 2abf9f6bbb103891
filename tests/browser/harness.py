"""Helpers for the browser tests: sign in, run axe-core, take screenshots, watch for CSP errors.

The fixtures that use them (a live server, one Chromium per session) are in conftest.py.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path(os.environ.get("SIGNPOST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROLES = ("referrer", "front_door", "policy_lead", "admin")


def sign_in(page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    submit(page, "Sign in")
    assert "/sign-in" not in page.url, f"sign-in as {email} failed: {page.url}"


def submit(page, button: str):
    """Click a form's button and wait for the page it leads to; returns that page's response."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    return navigation.value


class PageProblems:
    """What a page logged that it should not: CSP violations and uncaught script errors."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.messages.append(f"uncaught script error: {exc}"))

    def _console(self, message):
        if message.type == "error" and "Content Security Policy" in message.text:
            self.messages.append(f"CSP violation: {message.text}")

    def assert_none(self, where: str) -> None:
        found, self.messages[:] = list(self.messages), []
        if found:
            pytest.fail(f"{where}:\n" + "\n".join(found), pytrace=False)


# --- axe-core and screenshots -----------------------------------------------------------------------

_axe_source: list[str] = []


def axe_source() -> str:
    if not _axe_source:
        if not AXE_JS.exists():
            pytest.fail(f"axe-core is missing at {AXE_JS}: run `npm ci` (make test does)", pytrace=False)
        _axe_source.append(AXE_JS.read_text(encoding="utf-8"))
    return _axe_source[0]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}\n  {v.get('helpUrl', '')}")
        for node in v["nodes"]:
            lines.append(f"    target: {json.dumps(node['target'])}")
            lines.append(f"      html: {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n        ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def axe(page, name: str) -> list[dict]:
    """Run axe-core on the page as it is; fail listing every violation. Also a screenshot.

    axe is evaluated through the DevTools protocol, not a <script> tag, so the page keeps its
    real Content-Security-Policy (and a CSP violation of the page's own scripts still shows).
    """
    page.wait_for_load_state("load")
    screenshot(page, name)
    page.evaluate(axe_source())
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    if hasattr(page, "problems"):
        page.problems.assert_none(f"{name} ({page.url})")
    if violations:
        report = format_violations(violations)
        print(f"\naxe found {len(violations)} violation(s) on {name} ({page.url}):\n{report}")
        pytest.fail(f"axe: {len(violations)} violation(s) on {name} ({page.url}):\n{report}", pytrace=False)
    return violations


SCREENSHOT_TIMEOUT_MS = 120_000


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    # A full-page screenshot of a long page on a loaded 2-core machine can take well over the
    # context's 10-second default: a generous limit of its own, so it never fails for time.
    page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
    return path
