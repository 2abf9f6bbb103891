"""`flask mail send-pending` (run it from cron) and `flask contacts import FILE` for the front door.

Thin wrappers over signpost.mail, signpost.contacts_csv and store.frontdoor; exit 1 on any problem.
"""
from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from .cli import CommandGroup

mail_cli = CommandGroup("mail", help="Email to referrers, sent from the outbox.")
contacts_cli = CommandGroup("contacts", help="Contacts that reached the front door outside Signpost.")


@mail_cli.command("send-pending")
@click.option("--limit", type=int, default=500, help="Send at most this many messages.")
def send_pending_command(limit):
    """Send the outbox's due messages; failures wait longer each time, and are never lost."""
    from . import mail
    if not mail.smtp_configured():
        click.echo("SIGNPOST_SMTP_HOST is not set: nothing sent (messages wait in the outbox).", err=True)
        sys.exit(1)
    sent, failed = mail.send_pending(limit=limit)
    click.echo(f"Sent {sent} message(s); {failed} failed and will be tried again later.")
    sys.exit(1 if failed else 0)


@contacts_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="The front door user the contacts are recorded by.")
def import_command(path, email):
    """Import a CSV of contacts (layout in the README): all rows or none; re-importing adds nothing."""
    from . import contacts_csv, store
    from .models import utcnow
    from .store import frontdoor as fd_store

    user = store.find_user(email)
    # As on the import page: a disabled account (someone who has left) records nothing.
    if user is None or not user.active or user.role != "front_door":
        click.echo(f"No active front door account {email}.", err=True)
        sys.exit(1)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        click.echo(f"{path}: not UTF-8 text; save it as CSV UTF-8.", err=True)
        sys.exit(1)
    rows, problems = contacts_csv.read_contacts(text, utcnow())
    if not problems:
        try:
            added, skipped = fd_store.import_external_contacts(
                rows, batch=f"{utcnow():%Y%m%d%H%M%S}-{secrets.token_hex(4)}", file_name=path.name, actor=user)
        except fd_store.ContactImportError as exc:
            problems = exc.problems
        else:
            click.echo(f"Imported {added} contact(s); {skipped} already recorded.")
            return
    for problem in problems:
        click.echo(f"{path}:{problem}", err=True)
    click.echo(f"Nothing imported: {len(problems)} problem(s).", err=True)
    sys.exit(1)
