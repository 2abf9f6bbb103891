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

import gevent
from locust import HttpUser, between, events, task

from journey_plan import DRAFT_ID, PLAN

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
REFERENCE = re.compile(r"\b([A-Z]{2,4}-\d{4}-\d{5})\b")
TARGET = int(os.environ.get("LOAD_JOURNEYS", "100"))
ACKS = os.environ.get("LOAD_ACKS", "acks.txt")
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-password-1")
ACCOUNTS = int(os.environ.get("LOAD_ACCOUNTS", "50"))

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


class Referrer(HttpUser):
    """A school's safeguarding lead: signs in once, then refers one child after another."""

    wait_time = between(0, 0.2)

    def on_start(self):
        self.email = f"load-referrer-{next(_accounts)}@example.org"
        self.token = None
        self.sign_in()

    def sign_in(self):
        page = self.client.get("/sign-in", name="/sign-in")
        self.token = self._token(page.text)
        self.client.post("/sign-in", data={"csrf_token": self.token, "email": self.email, "password": PASSWORD},
                         name="/sign-in [POST]", allow_redirects=False)
        self.token = self._token(self.client.get("/", name="/").text)

    @staticmethod
    def _token(html: str):
        match = CSRF.search(html)
        return (match.group(1) or match.group(2)) if match else None

    def post(self, path: str, data: dict, name: str | None = None):
        with self.client.post(path, data={"csrf_token": self.token, **data}, name=name or path,
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
                found = DRAFT_ID.search(self.client.get(path, name=path).text)
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
        # A lost reply is sent again, as a browser's retry would: one referral per draft, whatever.
        for attempt in range(4):
            location = self.post("/refer/referral", {**PLAN.referral, "draft_id": draft_id},
                                 name="/refer/referral [POST]")
            if location == "/refer/send/referral":
                location = self.post("/refer/send/referral", {"draft_id": draft_id}, name="/refer/send [POST]")
            if location == "/refer/confirmation":
                break
            gevent.sleep(0.5 * (attempt + 1))
        else:
            return None
        page = self.client.get("/refer/confirmation", name="/refer/confirmation")
        match = REFERENCE.search(page.text)
        return match.group(1) if page.status_code == 200 and match else None

    def _fail_journey(self, why: str):
        events.request.fire(request_type="JOURNEY", name="journey", response_time=0, response_length=0,
                            exception=RuntimeError(why))
