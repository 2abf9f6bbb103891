"""Closing the loop by email, against a real SMTP server (aiosmtpd) started by the test.

The decision and its email are written in one transaction; sending happens after the response
and again by `flask mail send-pending`; a failed send is retried later and never loses the decision.
"""
from __future__ import annotations

import datetime as dt
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from signpost import mail
from signpost.extensions import db
from signpost.models import AuditEvent, OutboxMessage, utcnow
from test_frontdoor import decide, make_item


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def app_settings(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port, "SMTP_STARTTLS": False, "SMTP_TIMEOUT": 5,
            "SMTP_FROM": "signpost@northmere.example", "BASE_URL": "https://signpost.northmere.example"}


@pytest.fixture
def smtp_server(smtp_port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield inbox
    controller.stop()


def test_a_decision_emails_the_referrer_a_link_and_nothing_about_the_child(front_door, users, smtp_server):
    item = make_item(users["referrer"])
    response = decide(front_door, item, "nfa_advice", "(test) Signposted to the family hub.")
    assert response.status_code == 302
    response.close()  # the response has gone: sending runs now, never before
    assert len(smtp_server.messages) == 1
    recipients, message = smtp_server.messages[0]
    assert recipients == [users["referrer"].email]
    body = message.get_payload()
    assert f"https://signpost.northmere.example/refer/my-referrals/{item.reference}" in body
    for secret in ("Ada", "Fenwick", "hungry", "2016-05-04", "family hub", "No further action"):
        assert secret not in body and secret not in message["Subject"]
    sent = db.session.scalar(select(OutboxMessage))
    db.session.refresh(sent)
    assert sent.sent_at is not None and sent.attempts == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email_sent")) is not None


def test_a_mail_server_that_is_down_loses_nothing_and_cron_sends_it_later(app, front_door, users, smtp_port):
    item = make_item(users["referrer"])
    response = decide(front_door, item)
    assert response.status_code == 302  # the decision is made whatever the mail server does
    response.close()
    message = db.session.scalar(select(OutboxMessage))
    db.session.refresh(message)
    assert message.sent_at is None and message.attempts == 1 and "ConnectionRefused" in message.last_error
    assert message.next_attempt_at > utcnow()
    assert item.decisions and item.latest_outcome == "nfa_advice"

    runner = app.test_cli_runner()
    assert "Sent 0" in runner.invoke(args=["mail", "send-pending"]).output  # not due yet: no hammering

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with db.session.begin_nested():
            message.next_attempt_at = utcnow() - dt.timedelta(seconds=1)  # the retry wait has passed
        db.session.commit()
        result = runner.invoke(args=["mail", "send-pending"])
        assert result.exit_code == 0 and "Sent 1" in result.output
        result = runner.invoke(args=["mail", "send-pending"])
        assert "Sent 0" in result.output  # sent once, never twice
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    db.session.refresh(message)
    assert message.sent_at is not None and message.attempts == 2


def test_retries_wait_longer_each_time_and_then_give_up(app, users, smtp_port):
    app.config["SMTP_MAX_ATTEMPTS"] = 2
    item = make_item(users["referrer"])
    from signpost.store import frontdoor as fd_store
    fd_store.record_decision(item, "nfa", "x", supersedes=0, actor=users["front_door"], link="https://x/y")
    message = db.session.scalar(select(OutboxMessage))
    assert mail.send_pending() == (0, 1)
    db.session.refresh(message)
    assert message.gave_up_at is None and message.next_attempt_at >= utcnow() + dt.timedelta(seconds=50)
    with db.session.begin_nested():
        message.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert mail.send_pending() == (0, 1)
    db.session.refresh(message)
    assert message.gave_up_at is not None and message.attempts == 2
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "email_gave_up")) is not None
    assert mail.retry_after(1) < mail.retry_after(2) < mail.retry_after(5) <= dt.timedelta(hours=6)
