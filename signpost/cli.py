"""Command line: `flask --app wsgi thresholds ...` for policy leads and operators.

Thin wrappers over signpost.thresholds and signpost.engine; exit 1 on any problem.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import directory as directory_module
from .engine import AnswerError, Answers, assess
from .thresholds import ConfigError, Problem, load_file, load_library
from .thresholds.cases import load_cases, run_all
from .thresholds.diff import diff as diff_versions
from . import values


class CommandGroup(AppGroup):
    """Signpost's command groups: a database that cannot be reached, or one `flask db upgrade` has not
    brought up to this release, is one plain sentence and exit status 1, never a traceback."""

    def invoke(self, ctx):
        from sqlalchemy.exc import OperationalError, ProgrammingError
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            problem = database_problem(exc, _database_address(ctx))
            if problem is None:
                raise
            raise click.ClickException(problem) from None


def _database_address(ctx) -> str:
    from flask.cli import ScriptInfo
    from sqlalchemy.engine import make_url
    try:
        uri = ctx.ensure_object(ScriptInfo).load_app().config["SQLALCHEMY_DATABASE_URI"]
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # only for the message: never hide the problem behind another
        return "DATABASE_URL"


# PostgreSQL's SQLSTATE classes for "cannot connect": connection exception, invalid authorisation,
# no such database, the server shutting down; and for a schema older than the code: no such table or column.
_UNREACHABLE = ("08", "28", "3D", "57P")
_NOT_UPGRADED = ("42P01", "42703")


def database_problem(exc, address: str) -> str | None:
    """What to tell an operator about a database error, or None for any other error (raised as it is)."""
    from sqlalchemy.exc import OperationalError
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or ""
    detail = " ".join((str(orig or exc).strip().splitlines() or [""])[0].split())
    if code in _NOT_UPGRADED or detail.startswith(("no such table", "no such column")):
        return (f"The database at {address} is not set up for this release of Signpost ({detail}). "
                "Run `flask --app wsgi db upgrade` first.")
    sqlite_unreachable = detail.startswith("unable to open database file")
    postgres_unreachable = type(orig).__module__.startswith("psycopg") and (not code or code.startswith(_UNREACHABLE))
    if isinstance(exc, OperationalError) and (sqlite_unreachable or postgres_unreachable):
        return (f"Cannot use the database at {address}: {detail}. Check DATABASE_URL (load the service's "
                "environment first, as the README says) and that the database is running.")
    return None


FORMAT_HELP = "Text to read, or JSON as the API gives it."
thresholds_cli = CommandGroup("thresholds", help="Validate, list, show, compare and test threshold versions.")


def _dir() -> Path:
    return Path(current_app.config["THRESHOLDS_DIR"])


def _library(strict_exit: bool = True, published: bool = False):
    library = load_library(_dir())
    if published:
        library = _with_published(library)
    if library.problems:
        for problem in library.problems:
            click.echo(str(problem), err=True)
        click.echo("Some threshold files have problems and were not loaded (see above).", err=True)
    if not library.versions:
        click.echo(f"No valid threshold versions under {_dir()}.", err=True)
        sys.exit(1)
    return library


def _with_published(files):
    """The files plus the versions published from Signpost (and less those withdrawn), as the service
    and the API see them: on a host other than the one that published, a version is only in the
    database. Without a database (or before `db upgrade`), the files alone."""
    from sqlalchemy.exc import SQLAlchemyError
    from .content import _published_rows, merge_published
    try:
        rows = _published_rows(current_app)
    except SQLAlchemyError:
        return files
    return merge_published(files, rows)


def _version(library, version_id: str):
    try:
        return library.get(version_id, values.uk_today())
    except KeyError:
        known = ", ".join(v.id for v in library.versions)
        click.echo(f"No threshold version '{version_id}'. Known versions: {known}, or 'current'.", err=True)
        sys.exit(1)
    except LookupError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def load_directory_for(library, warnings: list | None = None):
    areas = {a for v in library.versions for a in v.areas}
    indicators = {i for v in library.versions for i in v.indicators}
    return directory_module.load_directory(current_app.config["DIRECTORY_PATH"], known_areas=areas,
                                           known_indicators=indicators, warnings=warnings)


@thresholds_cli.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
def validate_command(paths):
    """Check threshold files (default: everything under thresholds/, its tests and the directory)."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    checked = 0
    if paths:
        for raw in paths:
            path = Path(raw)
            files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
            for file in files:
                checked += 1
                if not file.exists():
                    problems.append(Problem(str(file), 1, "", "file not found"))
                    continue
                try:
                    load_file(file)
                except ConfigError as exc:
                    problems.extend(exc.problems)
    else:
        library = load_library(_dir())
        checked = len(library.versions) + len({p.file for p in library.problems})
        problems.extend(library.problems)
        try:
            load_cases(_dir() / "tests")
        except ConfigError as exc:
            problems.extend(exc.problems)
        if library.versions:
            try:
                load_directory_for(library, warnings)
            except ConfigError as exc:
                problems.extend(exc.problems)
    for warning in _named(warnings):
        click.echo(f"Warning: {warning}")
    for problem in _named(problems):
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(f"All valid ({checked} threshold file(s) checked).")


def _named(problems: list[Problem]):
    """Each problem as "FILE:LINE: key: message", a concern's or rule's key naming its id as the policy
    pages do ("indicators[3] (missing_now).level"), read from the file's text where it can be read."""
    from .policy import plain
    texts: dict[str, str | None] = {}
    for problem in problems:
        if problem.file not in texts:
            try:
                texts[problem.file] = Path(problem.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                texts[problem.file] = None
        yield plain(problem, texts[problem.file]).in_file(problem.file)


@thresholds_cli.command("list")
def list_command():
    """One line per version: id, effective date, indicators, hash, and which is in force."""
    library = _library(published=True)
    today = values.uk_today()
    try:
        current = library.in_force(today).id
    except LookupError:
        current = None
    click.echo(f"{'id':<24} {'effective':<10} {'indicators':>10}  {'hash':<12}  status")
    for version in library.versions:
        status = "in force" if version.id == current else (
            "scheduled" if version.effective_from > today else "superseded")
        if version.id == current and version.overdue_for_review(today):
            status += " (overdue for review)"
        click.echo(f"{version.id:<24} {version.effective_from.isoformat():<10} "
                   f"{len(version.indicators):>10}  {version.short_hash:<12}  {status}")


@thresholds_cli.command("show")
@click.argument("version_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help=FORMAT_HELP)
def show_command(version_id, fmt):
    """Show a version (ID or 'current'), as readable text or as JSON."""
    version = _version(_library(published=True), version_id)
    if fmt == "json":
        data = version.document.model_dump(mode="json")
        data["content_hash"] = version.content_hash
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    doc = version.document
    click.echo(f"{doc.title}\n{doc.council}: version {doc.id} (hash {version.short_hash})")
    click.echo(f"In force from {doc.effective_from}; review by {doc.review_by}; approved by {doc.approved_by}")
    click.echo(f"Changes: {doc.summary_of_changes}\n")
    for level in doc.levels:
        click.echo(f"{level.name} -> {level.route}: {level.description}")
    for domain in doc.domains:
        click.echo(f"\n{domain.name}")
        for area in domain.areas:
            items = [i for i in doc.indicators if i.area == area.id]
            click.echo(f"  {area.name}")
            for ind in sorted(items, key=lambda i: -i.level):
                flag = " [IMMEDIATE]" if ind.immediate else ""
                click.echo(f"    L{ind.level} {ind.id}: {ind.text}{flag}")
    click.echo("\nRules")
    for rule in doc.rules:
        click.echo(f"  {rule.id} ({rule.type}): {rule.reason}")


@thresholds_cli.command("diff")
@click.argument("old_id")
@click.argument("new_id")
def diff_command(old_id, new_id):
    """What changed from OLD_ID to NEW_ID: indicators, levels, rules, routes, contacts."""
    library = _library(published=True)
    old, new = _version(library, old_id), _version(library, new_id)
    changes = diff_versions(old, new)
    click.echo(f"Changes from {old.id} to {new.id}: {len(changes)}")
    for change in changes:
        click.echo(f"  {change}")


@thresholds_cli.command("test")
def test_command():
    """Run the YAML cases in thresholds/tests against every version they apply to."""
    library = _library()
    try:
        cases = load_cases(_dir() / "tests")
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if not cases:
        click.echo(f"No test cases found under {_dir() / 'tests'}: nothing checks these thresholds.", err=True)
        sys.exit(1)
    outcomes = run_all(cases, library)
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        click.echo(f"FAIL {outcome.case.name} [{outcome.version_id}] ({outcome.case.file}:{outcome.case.line})")
        for failure in outcome.failures:
            click.echo(f"     {failure}")
    unused = [c.name for c in cases if not any(c.applies_to(v) for v in library.versions)]
    for name in unused:
        click.echo(f"FAIL {name}: applies to no threshold version")
    click.echo(f"{len(outcomes) - len(failed)} passed, {len(failed) + len(unused)} failed "
               f"({len(cases)} cases, {len(library.versions)} versions)")
    if failed or unused:
        sys.exit(1)


@thresholds_cli.command("assess")
@click.argument("version_id")
@click.option("--age-months", type=int, help="The child's age in whole months.")
@click.option("--unborn", is_flag=True, help="The baby is not born yet.")
@click.option("--indicator", "indicators", multiple=True, help="An indicator id; repeat for more.")
@click.option("--consent", type=click.Choice(["given", "refused", "not_asked", "not_needed"]),
              default="not_asked", show_default=True,
              help="The family's consent (the engine and the API assume not_asked when it is not given).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help=FORMAT_HELP)
def assess_command(version_id, age_months, unborn, indicators, consent, fmt):
    """The recommendation and its reasons for these answers under VERSION_ID (or 'current')."""
    library = _library(published=True)
    version = _version(library, version_id)
    try:
        directory = load_directory_for(library, warnings=[])  # as the service loads it
    except ConfigError as exc:
        click.echo(f"The service directory has problems; no services shown.\n{exc}", err=True)
        directory = None
    answers = Answers(indicators=frozenset(indicators), age_months=age_months, unborn=unborn, consent=consent)
    try:
        rec = assess(answers, version, values.uk_today(), directory)
    except AnswerError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False))
        return
    info = version.document.immediate_danger if rec.immediate else getattr(version.document.routes, rec.route)
    click.echo(f"Recommendation: {info.title} (route: {rec.route}{', IMMEDIATE DANGER' if rec.immediate else ''})")
    click.echo(f"Level: {rec.level_name}")
    click.echo(f"Urgency: {rec.urgency}")
    if rec.lado:
        click.echo("About an adult who works with children (tell the LADO):")
        for step in rec.lado_steps:
            click.echo(f"  - {step}")
    click.echo(f"Threshold version: {rec.version_id} (hash {rec.version_hash[:12]})")
    click.echo("Why:")
    for reason in rec.reasons:
        click.echo(f"  - [{reason.kind}] {reason.id}: {reason.text}")
    click.echo("Next steps:")
    for step in rec.next_steps:
        click.echo(f"  - {step}")
    if not rec.next_steps:  # only a concern about an adult who works with children
        click.echo("  (none for the child: follow the LADO steps above)")
    if rec.services:
        click.echo("Services:")
        for service in rec.services:
            how = service.contact.phone or service.contact.email or service.contact.url
            click.echo(f"  - {service.name} ({service.organization}): {how}")


def register_cli(app: Flask) -> None:
    from . import cli_policy  # noqa: F401  (adds `thresholds simulate` and `thresholds publish`)
    from .cli_accounts import demo_cli, users_cli
    from .cli_frontdoor import contacts_cli, mail_cli
    app.cli.add_command(mail_cli)
    app.cli.add_command(contacts_cli)
    app.cli.add_command(thresholds_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(drafts_cli)
    from .cli_retention import retention_cli
    app.cli.add_command(retention_cli)
    # Flask-Migrate's `db` group, under the same plain messages: `flask db upgrade` is the first command
    # an operator runs against a new DATABASE_URL. Its commands are its own; only the group is ours.
    migrations = app.cli.commands.get("db")
    if migrations is not None and not isinstance(migrations, CommandGroup):
        app.cli.add_command(CommandGroup("db", callback=migrations.callback, params=migrations.params,
                                         help=migrations.help, commands=migrations.commands))


drafts_cli = CommandGroup("drafts", help="Referral drafts kept server-side while referrers answer.")


@drafts_cli.command("purge")
@click.option("--days", type=int, default=None,
              help="Delete drafts not changed for this many days (default: the setting).")
def purge_drafts_command(days):
    """Delete drafts older than the retention period (run daily, e.g. from cron).

    Assessments and referrals made from them are kept; only the draft answers go.
    """
    import datetime as dt

    from . import store
    days = days if days is not None else current_app.config["DRAFT_RETENTION_DAYS"]
    count = store.purge_drafts(dt.timedelta(days=days))
    click.echo(f"Deleted {count} draft(s) not changed for more than {days} day(s).")
