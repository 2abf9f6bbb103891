"""`flask thresholds simulate`, `thresholds publish` and `thresholds withdraw`: a policy lead's draft from a script.

The same checks, simulation and audited publishing as the policy pages.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import current_app

from .cli import thresholds_cli
from .content import current_library, forget_published
from . import values


def _read_draft(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"{path}: cannot be read: {exc}", err=True)
        sys.exit(1)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        click.echo(f"{name} must be a date written as YYYY-MM-DD, not '{value}'.", err=True)
        sys.exit(1)


def _checked(path: str, text: str):
    from . import policy
    version, problems = policy.check(text, current_library())
    for problem in problems:  # a concern's or rule's key names its id, as the upload page does
        click.echo(policy.in_file(path, policy.plain(problem, text)), err=True)
    if problems:
        sys.exit(1)
    return version


@thresholds_cli.command("simulate")
@click.argument("draft", type=click.Path())
@click.option("--from", "start", help="First day (YYYY-MM-DD); default a year before --to.")
@click.option("--to", "end", help="Last day (YYYY-MM-DD); default today.")
def simulate_command(draft, start, end):
    """What a draft version would have recommended for the stored assessments of a period."""
    from .extensions import db
    from .simulate import simulate
    from .store import policy as store
    version = _checked(draft, _read_draft(draft))
    end_date = _date(end, "--to") or values.uk_today()
    start_date = _date(start, "--from") or end_date - dt.timedelta(days=365)
    # Compared with the version the draft says it supersedes, for the same answers, when it is loaded.
    library = current_library()
    base = library.by_id(version.document.supersedes)
    result = simulate(db.session.connection(), version, start_date, end_date, on_date=values.uk_today(),
                      cases_dir=Path(current_app.config["THRESHOLDS_DIR"]) / "tests", baseline=base,
                      library=library)
    db.session.rollback()
    store.record_simulation(None, version.id, start_date, end_date,
                            {"assessments": result.total, "changed": result.changed, "less_urgent": result.less_urgent,
                             "sent_away": result.sent_away, "cases_failed": len(result.cases_failed)}, actor="cli")
    if result.less_urgent:
        click.echo(f"WARNING: {result.less_urgent} assessment(s) would be told to act less urgently under this draft:")
        for example, old, new in result.less_urgent_examples[:10]:
            click.echo(f"  - {example.count} x {example.age}: {'; '.join(example.concerns)}: {old} -> {new}")
    if result.sent_away:
        click.echo(f"WARNING: {result.sent_away} referral(s) the front door took to assessment or section 47 "
                   "would not be referred under this draft:")
        for example, route in result.sent_away_examples[:10]:
            click.echo(f"  - {example.count} x {example.age}: {'; '.join(example.concerns)} -> {route}")
    click.echo(f"{start_date} to {end_date}: {result.changed} of {result.total} recommendations would change"
               + (f" from what {base.id} recommends for the same answers." if base else " from those made then."))
    for name, counts in (("route", result.routes), ("level", result.levels), ("urgency", result.urgencies)):
        for (old, new), count in counts.most_common():
            click.echo(f"  {name} {old} -> {new}: {count}")
    if result.lado_changed:
        click.echo(f"  LADO steps given or no longer given: {result.lado_changed}")
    for reason_id, count in result.by_reason.most_common(10):
        click.echo(f"  decided by {result.reason_text[reason_id]}: {count}")
    if result.decided:
        click.echo(f"Decided referrals: {result.decided}; agreement of {result.judged} (passed to another council or "
                   f"the LADO: not counted): {result.agree_recorded} at the time (as in the reports)"
                   + (f", {result.agree_before} under {base.id}" if base else "")
                   + f", {result.agree_after} under this draft; "
                   f"NFA kept away: {result.nfa_kept_away}")
    if result.band_ages:
        click.echo(f"{result.band_ages} assessment(s) had only an age band: a typical age for the band was used.")
    click.echo(f"Test cases: {len(result.cases) - len(result.cases_failed)} of {len(result.cases)} that apply pass "
               f"({result.cases_skipped} skipped as naming other versions or concerns).")
    for outcome in result.cases_failed:
        click.echo(f"  FAIL {outcome.case.name}: {'; '.join(outcome.failures)}")


@thresholds_cli.command("publish")
@click.argument("draft", type=click.Path())
@click.option("--effective", required=True, help="The day it takes effect (YYYY-MM-DD), today or later.")
def publish_command(draft, effective):
    """Publish a draft as a new version: stored in the database and written to thresholds/."""
    from .policy import PublishError, in_file
    from .store import policy as store
    text = _read_draft(draft)
    _checked(draft, text)
    try:
        forget_published(current_app._get_current_object())  # what is published now, not a cached list
        row = store.publish(text, _date(effective, "--effective"), library=current_library(),
                            thresholds_dir=current_app.config["THRESHOLDS_DIR"], today=values.uk_today(), actor="cli")
    except PublishError as exc:
        for problem in exc.problems:
            click.echo(in_file(draft, problem), err=True)
        sys.exit(1)
    forget_published(current_app._get_current_object())
    click.echo(f"Published {row.id} (hash {row.content_hash[:12]}), in force from {row.effective_from}.")


@thresholds_cli.command("withdraw")
@click.argument("version_id")
@click.option("--reason", required=True, help="Why it is withdrawn, for the record.")
def withdraw_command(version_id, reason):
    """Withdraw a version published in Signpost before it takes effect: no host uses it after this."""
    from .store import policy as store
    if not reason.strip():
        click.echo("--reason must say why the version is withdrawn.", err=True)
        sys.exit(1)
    forget_published(current_app._get_current_object())  # what is published now, not a cached list
    try:
        store.withdraw(version_id, reason.strip(), library=current_library(),
                       thresholds_dir=current_app.config["THRESHOLDS_DIR"], today=values.uk_today(), actor="cli")
    except store.CannotWithdraw as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    forget_published(current_app._get_current_object())
    click.echo(f"Withdrawn {version_id}: no one will use it. Its draft can be changed and published again with a "
               "new version id.")
