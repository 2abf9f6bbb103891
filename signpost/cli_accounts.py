"""`flask users ...` for operators and `flask demo seed` for the fictional demo council.

A password is read from standard input when it is not a terminal, so scripts can pipe it in.
"""
from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from . import demo, passwords, store
from .extensions import db
from .cli import CommandGroup
from .models import ROLES, User

users_cli = CommandGroup("users", help="Add and manage user accounts.")
demo_cli = CommandGroup("demo", help="Fictional demo data.")


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _check_length(password: str) -> None:
    problem = passwords.length_problem(password)
    if problem:
        click.echo(f"The {problem[0].lower()}{problem[1:]}.", err=True)
        sys.exit(1)


@users_cli.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="Full name (default: the part of the email before @).")
@click.option("--organisation", default="", help="School, practice or team.")
@click.option("--own-account", is_flag=True,
              help="The first administrator only, when it is yours and you chose its password: "
                   "it is not temporary. Without it the owner must change the password at first sign-in.")
def add_user_command(email, role, name, organisation, own_account):
    """Add an account; the password comes from standard input (or is prompted for twice).

    The password is temporary (its owner must change it at first sign-in), as one an administrator
    sets is: whoever typed it here knows it. The exception is the operator's own first administrator
    account (--own-account), which only they know and which has nobody yet to set it for them.
    """
    if own_account and (role != "admin" or store.active_administrator_ids()):
        click.echo("--own-account is only for the first administrator, when there is no active one: "
                   "an administrator adds everyone else, with a temporary password.", err=True)
        sys.exit(1)
    password = _read_password()
    _check_length(password)
    try:
        user = store.create_user(email, name or email.split("@")[0], role, password, organisation, actor="cli",
                                 must_change_password=not own_account)
    except store.StoreError as exc:
        click.echo(str(exc).capitalize() + ".", err=True)
        sys.exit(1)
    click.echo(f"Added {user.email} ({user.role})" + ("." if own_account else
               ", with a temporary password to change at first sign-in."))


@users_cli.command("list")
def list_users_command():
    """One line per account."""
    days = current_app.config["TEMPORARY_PASSWORD_DAYS"]
    for user in db.session.scalars(select(User).order_by(User.email)):
        status = "active" if user.active else "disabled"
        temporary = (", temporary password (expired)" if user.temporary_password_expired(days)
                     else ", temporary password" if user.must_change_password else "")
        click.echo(f"{user.email:<40} {user.role:<12} {status}" + (temporary if user.active else ""))


def _existing_user(email: str) -> User:
    user = store.find_user(email)
    if user is None:
        click.echo(f"No account for {email}.", err=True)
        sys.exit(1)
    return user


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(email, role):
    """Change an account's role."""
    user = _existing_user(email)
    _update(user, role=role)
    click.echo(f"{user.email} is now {role}.")


def _update(user: User, **changes) -> None:
    try:
        store.update_user(user, actor="cli", **changes)
    except store.LastAdministrator as exc:
        click.echo(str(exc).capitalize() + ".", err=True)
        sys.exit(1)


@users_cli.command("disable")
@click.argument("email")
def disable_command(email):
    """Stop an account from signing in (and end its sessions)."""
    user = _existing_user(email)
    _update(user, active=False)
    click.echo(f"{user.email} is disabled.")


@users_cli.command("set-password")
@click.argument("email")
def set_password_command(email):
    """Give an account a temporary password (from standard input, or prompted for twice), to be changed at
    its next sign-in; ends its sessions."""
    user = _existing_user(email)
    password = _read_password()
    _check_length(password)
    store.set_password(user, password, actor="cli")
    click.echo(f"{user.email} has a new temporary password, to change at their next sign-in.")


@users_cli.command("enable")
@click.argument("email")
def enable_command(email):
    """Let a disabled account sign in again, with a new temporary password (from standard input, or
    prompted for twice; to be changed at its next sign-in): the old one may be why it was disabled."""
    user = _existing_user(email)
    if user.active:
        click.echo(f"{user.email} is already active (users set-password gives it a new password).", err=True)
        sys.exit(1)
    password = _read_password()
    _check_length(password)
    try:
        store.enable_user(user, password, actor="cli")
    except store.StoreError as exc:
        click.echo(str(exc).capitalize() + ".", err=True)
        sys.exit(1)
    click.echo(f"{user.email} is enabled, with a new temporary password to change at their next sign-in.")


@demo_cli.command("history")
@click.option("--months", type=click.IntRange(2, 120), default=24, show_default=True,
              help="How many months back: the first half is the baseline before Signpost.")
@click.option("--per-month", type=click.IntRange(1, 100_000), default=240, show_default=True,
              help="Contacts a month, before seasonal and random variation.")
def history_command(months, per_month):
    """Add fictional front-door history for the reports (once; running it again adds nothing)."""
    from .demo_history import seed_history
    if current_app.config["ENVIRONMENT"] == "production":
        click.echo("Refusing to add fictional history in production.", err=True)
        sys.exit(1)
    demo.seed_accounts(click.echo)
    seed_history(months, click.echo, per_month=per_month)


@demo_cli.command("seed")
@click.option("--force", is_flag=True, help="Seed even when SIGNPOST_ENV=production (never do this for real).")
def seed_command(force):
    """Add the fictional demo accounts and history; running it again changes nothing."""
    if current_app.config["ENVIRONMENT"] == "production" and not force:
        click.echo("Refusing to add demo accounts with a published password in production.", err=True)
        sys.exit(1)
    click.echo("Seeding the fictional Northmere demo:")
    demo.seed(click.echo)
    click.echo("Demo sign-ins (all fictional; password for each: " + demo.DEMO_PASSWORD + "):")
    for email, _name, role, _org in demo.DEMO_ACCOUNTS:
        if email not in demo.DISABLED:
            click.echo(f"  {role:<12} {email}")
