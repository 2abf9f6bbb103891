"""Email through SMTP from the outbox: the front door's decisions reach referrers as a link only.

Messages are written to the outbox in the same transaction as the decision (store.frontdoor),
so a decision is never lost for want of an email, and sending happens after the commit:
after the response, and again by `flask --app wsgi mail send-pending` (run it from cron).
A failed send is retried later with a growing wait; it never undoes or blocks the decision.
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

log = logging.getLogger(__name__)


def smtp_configured(config=None) -> bool:
    config = config if config is not None else current_app.config
    return bool(config.get("SMTP_HOST"))


def _connect(config) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config["SMTP_SSL"]:
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if config["SMTP_STARTTLS"]:
            server.starttls(context=ssl.create_default_context())
    if config.get("SMTP_USERNAME"):
        server.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
    return server


def _message(config, outbox) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = outbox.to_address
    message["Subject"] = outbox.subject
    message.set_content(outbox.body)
    return message


def send_pending(limit: int = 100) -> tuple[int, int]:
    """Send what is due in the outbox; returns (sent, failed). Safe to run in several places at once."""
    from sqlalchemy import select

    from .extensions import db
    from .models import OutboxMessage, utcnow
    from .store import frontdoor as fd_store

    config = current_app.config
    if not smtp_configured(config):
        return 0, 0
    due = list(db.session.execute(
        select(OutboxMessage.id, OutboxMessage.next_attempt_at)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.gave_up_at.is_(None),
               OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at).limit(limit)))
    sent = failed = 0
    lease = dt.timedelta(seconds=config["SMTP_TIMEOUT"] * 3 + 60)
    server = None
    try:
        for message_id, seen in due:
            if not fd_store.claim_email(message_id, seen, lease):
                continue  # another worker or cron run has it
            message = db.session.get(OutboxMessage, message_id)
            try:
                if server is None:
                    server = _connect(config)
                server.send_message(_message(config, message))
            except (OSError, smtplib.SMTPException) as exc:
                failed += 1
                server = _quit(server)
                attempts = message.attempts
                retry = None if attempts >= config["SMTP_MAX_ATTEMPTS"] else retry_after(attempts)
                # The class of error only: an SMTP reply may echo the address back.
                log.warning("email %s not sent (attempt %s): %s", message_id, attempts, type(exc).__name__)
                fd_store.email_failed(message, f"{type(exc).__name__}: {exc}", retry)
            else:
                sent += 1
                fd_store.email_sent(message)
    finally:
        _quit(server)
    return sent, failed


def retry_after(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8... minutes after each failure, at most 6 hours."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), dt.timedelta(hours=6))


def _quit(server):
    if server is not None:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return None


def send_after_response(response):
    """Send due email once the response has gone, so a slow mail server never delays the page."""
    from flask import copy_current_request_context

    if not smtp_configured():
        return response

    @copy_current_request_context
    def _send():
        try:
            send_pending(limit=20)
        except Exception:  # noqa: BLE001 - cron's send-pending will try again; never break a page
            log.exception("sending email after a decision failed; `flask mail send-pending` will retry")

    response.call_on_close(_send)
    return response
