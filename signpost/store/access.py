"""Audit events for access that was refused: a role without permission, another user's record.

Written through the store's one transaction helper, like every other audit event.
"""
from __future__ import annotations

from . import _audit, transaction


def record_denial(user, status: int, *, method: str, path: str, endpoint: str | None,
                  record=None, **detail) -> None:
    """One audit event for a 403, or a 404 for a record that exists but is not the user's."""
    with transaction():
        _audit("access_denied", record, actor=user or "anonymous", status=status, method=method,
               path=path, endpoint=endpoint, role=getattr(user, "role", None), **detail)
