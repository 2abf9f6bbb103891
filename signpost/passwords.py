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
