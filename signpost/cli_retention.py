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
    verb = "Would act on" if dry_run else "Acted on"
    words = {"drafts": "draft(s) deleted", "referrals": "referral(s) with identifying details erased",
             "decisions": "decision note(s) erased", "assessments": "assessment(s) deleted with their referral "
             "and decisions", "audit_events": "audit event(s) deleted"}
    for kind in retention.KINDS:
        click.echo(f"{verb} {counts[kind]:>6} {words[kind]} (older than {getattr(periods, kind).days} days)")


@retention_cli.command("erase")
@click.argument("reference")
@click.option("--same-child", is_flag=True,
              help="Also erase the child's other referrals (same name and date of birth), and the "
                   "requests for advice they were made from.")
@click.option("--reason", required=True, help="Why, for the audit trail (e.g. the request's reference).")
@click.option("--as", "email", required=True,
              help="The administrator running the erasure: the audit trail records their account.")
def erase_command(reference, same_child, reason, email):
    """Erase one child's referral records; the anonymous counts the reports use are kept."""
    from . import store
    from .store import retention
    if not reason.strip():
        click.echo("--reason must say why (e.g. the request's reference): the audit trail records it.", err=True)
        sys.exit(1)
    user = store.find_user(email)
    if user is None or not user.active or user.role != "admin":
        click.echo(f"No active administrator account {email}.", err=True)
        sys.exit(1)
    try:
        erased = retention.erase_child(reference, same_child=same_child, reason=reason, actor=user)
    except LookupError as exc:
        message = str(exc)
        click.echo(message[:1].upper() + message[1:], err=True)  # the reference as typed, not lowercased
        sys.exit(1)
    if not erased:
        click.echo(f"{reference} was already erased.")
        if same_child:
            # Its name and date of birth went with it, so nothing left on it finds the child's others.
            click.echo("Its name and date of birth were erased with it, so the child's other referrals cannot "
                       "be found from it: erase each of them by its own reference.", err=True)
        return
    click.echo(f"Erased {len(erased)} referral(s): {', '.join(erased)}")
