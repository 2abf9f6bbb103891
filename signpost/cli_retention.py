"""`flask --app wsgi retention purge [--dry-run]` and `retention erase REFERENCE` for operators.

Periods come from the settings (README "Retention and erasure"); every run is audited.
"""
from __future__ import annotations

import sys

import click
from flask import current_app

from .cli import CommandGroup

retention_cli = CommandGroup("retention", help="Delete or anonymise records past their retention period.")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted or erased.")
def purge_command(dry_run):
    """Apply every retention period (run daily, e.g. from cron)."""
    from .store import retention
    periods = retention.Periods.from_config(current_app.config)
    counts = retention.purge(periods, dry_run=dry_run)
    # (what is done, to what, when it is past its period), read as "Deleted 3 draft(s) not changed ..."
    words = {"drafts": ("delete", "{} draft(s) not changed for more than {} days"),
             "kept_decisions": ("delete", "{} unsent decision form(s), kept at an idle sign-out, older than {} days"),
             "referrals": ("erase", "the identifying details of {} referral(s) older than {} days"),
             "decisions": ("erase", "the notes of {} decision(s) older than {} days"),
             "assessments": ("delete", "{} assessment(s) older than {} days, with their referrals and decisions"),
             "audit_events": ("delete", "{} audit event(s) older than {} days"),
             "emails": ("delete", "{} decision email(s) to referrers, sent or not, older than {} days")}
    if dry_run:
        click.echo("Dry run: nothing is changed.")
    for kind in retention.KINDS:
        verb, what = words[kind]
        verb = f"Would {verb}" if dry_run else f"{verb.capitalize()}d"
        click.echo(f"{verb} {what.format(counts[kind], getattr(periods, kind).days)}")


@retention_cli.command("erase", short_help="Erase a child's referral records; the anonymous counts stay.")
@click.argument("reference")
@click.option("--same-child", is_flag=True,
              help="Also erase the child's other referrals (same name and date of birth), and the "
                   "requests for advice they were made from.")
@click.option("--reason", required=True, help="Why, for the audit trail (e.g. the request's reference).")
@click.option("--as", "email", required=True,
              help="The administrator running the erasure: the audit trail records their account.")
def erase_command(reference, same_child, reason, email):
    """Erase the referral REFERENCE (such as NM-2026-00042): the child's details, free text and notes.

    The anonymous counts the reports use are kept."""
    from . import store
    from .store import retention
    if not reason.strip():
        click.echo("--reason must say why (e.g. the request's reference): the audit trail records it.", err=True)
        sys.exit(1)
    user = store.find_user(email)
    if user is None or not user.active or user.role != "admin":
        click.echo(f"No active administrator account {email}.", err=True)
        sys.exit(1)
    reference = reference.strip().upper()  # references are capitals (NM-2026-00042), however typed
    try:
        erased = retention.erase_child(reference, same_child=same_child, reason=reason, actor=user)
    except LookupError as exc:
        message = str(exc)
        click.echo(f"{message[:1].upper()}{message[1:]}.", err=True)  # the reference kept in capitals
        sys.exit(1)
    if not erased:
        click.echo(f"{reference} was already erased.")
        if same_child:
            # Its name and date of birth went with it, so nothing left on it finds the child's others.
            click.echo("Its name and date of birth were erased with it, so the child's other referrals cannot "
                       "be found from it: erase each of them by its own reference.", err=True)
        return
    click.echo(f"Erased {len(erased)} referral(s): {', '.join(erased)}")
