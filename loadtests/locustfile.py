"""Locust: referrers walking the whole journey to a social-care referral, as fast as they can.

Run through loadtests/run.py (it seeds the accounts, starts gunicorn and checks the database);
LOAD_JOURNEYS stops the run after that many referrals were acknowledged, and every acknowledged
reference is written to LOAD_ACKS (one per line) for run.py to find in the database.
"""
from __future__ import annotations

import itertools
import os
import re
import threading
import time
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, events, task

from journey_plan import DRAFT_ID, PLAN

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
REFERENCE = re.compile(r"\b([A-Z]{2,4}-\d{4}-\d{5})\b")
TARGET = int(os.environ.get("LOAD_JOURNEYS", "100"))
ACKS = os.environ.get("LOAD_ACKS", "acks.txt")
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password-1")
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "50"))
# How long one draft's submission is retried after its reply was lost (a killed worker, the
# database restarting): far longer than any fault lasts, so a submission is never given up.
SUBMIT_RETRY_S = float(os.environ.get("LOAD_SUBMIT_RETRY_S", "120"))

_accounts = itertools.cycle(range(ACCOUNTS))
_lock = threading.Lock()
_in_flight = 0
_acknowledged = 0
_acks_file = open(ACKS, "a", buffering=1)


def reserve() -> bool:
    """A slot for one more journey: never more started than are still needed, so the run
    ends with exactly TARGET referrals unless a fault loses a reply."""
    global _in_flight
    with _lock:
        if _acknowledged + _in_flight >= TARGET:
            return False
        _in_flight += 1
        return True


def release(reference: str | None, environment) -> None:
    global _in_flight, _acknowledged
    with _lock:
        _in_flight -= 1
        if reference:
            _acks_file.write(reference + "\n")
            _acknowledged += 1
        done = _acknowledged >= TARGET
    if done and environment.runner is not None:
        gevent.spawn(environment.runner.quit)  # not from this user's own greenlet, which quit() stops


class Referrer(FastHttpUser):
    """A school's safeguarding lead: signs in once, then refers one child after another.

    FastHttpUser (geventhttpclient): the load generator shares the service's 2 cores, and
    costs a fraction of requests' CPU per request."""

    wait_time = between(0, 0.2)

    def on_start(self):
        self.email = f"load-referrer-{next(_accounts)}@example.org"
        self.token = None
        self.sign_in()

    def sign_in(self):
        page = self.client.get("/sign-in", name="/sign-in")
        self.token = self._token(page.text)
        self.client.post("/sign-in", data=urlencode({"csrf_token": self.token, "email": self.email,
                                                     "password": PASSWORD}),
                         headers=FORM, name="/sign-in [POST]", allow_redirects=False)
        self.token = self._token(self.client.get("/", name="/").text)

    @staticmethod
    def _token(html: str):
        match = CSRF.search(html or "")
        return (match.group(1) or match.group(2)) if match else None

    def post(self, path: str, data: dict, name: str | None = None):
        # Encoded here: FastHttpSession would send a list (several ticked boxes) as its repr.
        body = urlencode({"csrf_token": self.token, **data}, doseq=True)
        with self.client.post(path, data=body, headers=FORM, name=name or path,
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"{path}: {response.status_code}")
                return None
            return response.headers.get("Location", "")

    @task
    def refer_a_child(self):
        if not reserve():
            self.wait()
            return
        reference = None
        try:
            reference = self.journey()
        finally:
            release(reference, self.environment)

    def journey(self) -> str | None:
        """One journey to a referral; its reference once the confirmation page showed it."""
        if self.token is None:
            self.sign_in()
            return None
        location = self.post("/refer/new", {})
        if location is None or location.startswith("/sign-in"):
            self.token = None
            return None
        draft_id = None
        while location in PLAN:  # follow the journey's own redirects, answering each page
            path = location
            if draft_id is None:
                found = DRAFT_ID.search(self.client.get(path, name=path).text or "")
                draft_id = found.group(1) if found else None
            location = self.post(path, {**PLAN[path], "draft_id": draft_id or ""}, name=path)
            if location is None:
                return None
        if location != "/refer/recommendation":
            self._fail_journey(f"expected the recommendation, went to {location}")
            if location and location.startswith("/sign-in"):
                self.token = None
            return None
        self.client.get("/refer/referral", name="/refer/referral")
        return self.submit(draft_id)

    def submit(self, draft_id: str) -> str | None:
        """Send the draft's referral and read its reference, retrying while replies are lost.

        Sending is idempotent per draft (a second send of a sent draft leads to the same
        referral's confirmation), so a submission whose reply was lost is sent again on the
        same draft, never by starting another journey: N journeys make exactly N referrals.
        """
        deadline = time.monotonic() + SUBMIT_RETRY_S
        attempt = 0
        while time.monotonic() < deadline:
            location = self.post("/refer/referral", {**PLAN.referral, "draft_id": draft_id},
                                 name="/refer/referral [POST]")
            if location == "/refer/send/referral":
                location = self.post("/refer/send/referral", {"draft_id": draft_id}, name="/refer/send [POST]")
            if location == "/refer/confirmation":
                with self.client.get("/refer/confirmation", name="/refer/confirmation",
                                     catch_response=True) as page:
                    match = REFERENCE.search(page.text or "") if page.status_code == 200 else None
                    if match:
                        return match.group(1)
                    page.failure(f"confirmation without a reference: {page.status_code}")
            attempt += 1
            gevent.sleep(min(0.25 * attempt, 2.0))
        self._fail_journey(f"draft {draft_id}: no confirmation within {SUBMIT_RETRY_S:.0f} s")
        return None

    def _fail_journey(self, why: str):
        events.request.fire(request_type="JOURNEY", name="journey", response_time=0, response_length=0,
                            exception=RuntimeError(why))
