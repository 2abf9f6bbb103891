"""The referral journey's writers: saving a page without losing a concurrent save.

Built on transaction() and _audit() from signpost.store, like every writer.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update

from ..extensions import db
from ..models import Draft, User, utcnow
from . import _audit, transaction

ATTEMPTS = 20  # each retry follows a save that did succeed, so this is never reached in practice


class DraftChanged(RuntimeError):
    """The draft kept changing under us (or was deleted) while saving."""


def save_page(draft: Draft, page: str, change: Callable[[dict], dict], *, actor: User | None = None) -> None:
    """Apply one page's answer to the draft's latest answers; never lose a concurrent save.

    `change` maps the stored answers to the new ones. The write is an UPDATE guarded by
    the draft's version number: when another request saved in between (two tabs, a
    double-click), the answers are read again and the change applied to them, so both
    saves are kept.
    """
    for _ in range(ATTEMPTS):
        seen_version = draft.version
        answers = change(dict(draft.answers or {}))
        with transaction() as session:
            done = session.execute(
                update(Draft).where(Draft.id == draft.id, Draft.version == seen_version)
                .values(answers=answers, updated_at=utcnow(), version=seen_version + 1)
                .execution_options(synchronize_session=False))
            if done.rowcount == 1:
                _audit("draft_answered", draft, actor=actor, page=page)
        db.session.refresh(draft)
        if done.rowcount == 1:
            return
    raise DraftChanged(f"draft {draft.id} kept changing while page {page} was saved")
