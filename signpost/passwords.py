"""Password hashing with argon2id; the cost comes from settings (cheap in the tests).

verify() spends the same time whether or not the account exists, so timing reveals nothing.
"""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _state() -> dict:
    config = current_app.config
    key = (config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"])
    state = current_app.extensions.get("signpost.passwords")
    if state is None or state["key"] != key:
        ph = PasswordHasher(time_cost=key[0], memory_cost=key[1], parallelism=key[2], type=Type.ID)
        state = {"key": key, "hasher": ph, "dummy": ph.hash("no account: equalises sign-in timing")}
        current_app.extensions["signpost.passwords"] = state
    return state


# Every password field's maximum. Sign-in refuses a longer password, so no form or command may
# set one: it could never be used. Argon2 hashes any length; the cap only bounds the work.
MAX_LENGTH = 1024


def length_problem(password: str) -> str | None:
    """Why a new password is too short or too long, or None: one rule for the forms and the CLI."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Password must be {minimum} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    return None


def hash_password(password: str) -> str:
    return _state()["hasher"].hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True only for a real hash that matches; a missing account costs the same time."""
    state = _state()
    try:
        ok = state["hasher"].verify(password_hash or state["dummy"], password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    try:
        return _state()["hasher"].check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
