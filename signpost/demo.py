"""Fictional demo data for `flask demo seed`: one account per role, and some history.

Idempotent. Other parts of the service add their own seeders with @seeder.
"""
from __future__ import annotations

from collections.abc import Callable

from . import store
from .models import User

DEMO_PASSWORD = "northmere-demo-2026"
DEMO_ACCOUNTS = [
    # (email, name, role, organisation): all fictional
    ("referrer@northmere.example", "Riya Patel", "referrer", "Northmere Primary School (designated safeguarding lead)"),
    ("frontdoor@northmere.example", "Sam Okafor", "front_door", "Northmere Children's Front Door"),
    ("policy@northmere.example", "Jo Whitfield", "policy_lead", "Northmere Safeguarding Children Partnership"),
    ("admin@northmere.example", "Alex Morgan", "admin", "Northmere Council digital team"),
    # A second referrer from health, and a disabled account, so lists have some history.
    ("healthvisitor@northmere.example", "Chris Lee", "referrer", "Northmere Health Visiting Service"),
    ("former.teacher@northmere.example", "Pat Green", "referrer", "Northmere High School"),
]
DISABLED = {"former.teacher@northmere.example"}

SEEDERS: list[Callable[[Callable[[str], None]], None]] = []


def seeder(function: Callable[[Callable[[str], None]], None]):
    """Register a seeder: called with an `echo` function, after the accounts exist; must be idempotent."""
    SEEDERS.append(function)
    return function


def demo_user(role: str) -> User:
    """The demo account for a role (after seeding)."""
    email = next(e for e, _n, r, _o in DEMO_ACCOUNTS if r == role)
    user = store.find_user(email)
    if user is None:
        raise LookupError(f"no demo {role}: run `flask demo seed`")
    return user


@seeder
def seed_accounts(echo: Callable[[str], None]) -> None:
    admin = None
    for email, name, role, organisation in DEMO_ACCOUNTS:
        user = store.find_user(email)
        if user is None:
            user = store.create_user(email, name, role, DEMO_PASSWORD, organisation, actor=admin or "demo seed")
            echo(f"  added {email} ({role})")
            if email in DISABLED:
                store.update_user(user, active=False, actor=admin or "demo seed")
        if role == "admin" and admin is None:
            admin = user


def seed(echo: Callable[[str], None] = print) -> None:
    for function in SEEDERS:
        function(echo)
