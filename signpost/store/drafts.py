"""The referral journey's writers: pages saved without losing a concurrent save, and
recommendations recorded as append-only revisions.

Built on transaction() and _audit() from signpost.store, like every writer.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update

from ..extensions import db
from ..models import Assessment, Draft, User, utcnow
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
                .values(answers=answers, updated_at=utcnow(), version=seen_version + 1, kept_forms=None)
                .execution_options(synchronize_session=False))
            if done.rowcount == 1:
                _audit("draft_answered", draft, actor=actor, page=page)
        db.session.refresh(draft)
        if done.rowcount == 1:
            return
    raise DraftChanged(f"draft {draft.id} kept changing while page {page} was saved")


def record_revision(draft: Draft, rec, *, answers_key: str, shown: dict, directory_hash: str | None,
                    facts: dict, actor: User | None = None, answers: dict | None = None,
                    page: str | None = None) -> Assessment:
    """Record the recommendation for the draft's current answers, as a new revision.

    Never changes a recorded one: when the answers changed since the latest revision, a new
    row (revision n + 1) links to the one it replaces. The same answers again (a double
    click, a refresh) return the latest revision.
    With answers, the page that led here is saved in the same transaction (a ticked
    emergency concern is saved and logged as one action).

    Two recordings of one draft at once (a double click, two tabs) are taken in turn: each
    first updates the draft's row, which waits for the other's transaction to end, and only
    then reads the latest revision. So the second never takes the first's revision number
    (a unique-constraint error, a server error for the referrer): it finds its answers
    already recorded, or records the next revision for the answers it was made from.
    """
    latest = draft.assessment
    if latest is not None and latest.answers_key == answers_key and answers is None:
        return latest
    saved = {} if answers is None else {"answers": answers, "updated_at": utcnow(), "version": Draft.version + 1}
    with transaction() as session:
        session.execute(update(Draft).where(Draft.id == draft.id)
                        .values(threshold_id=rec.version_id, threshold_hash=rec.version_hash, **saved)
                        .execution_options(synchronize_session=False))
        latest = session.scalar(select(Assessment).where(Assessment.draft_id == draft.id)
                                .order_by(Assessment.revision.desc()).limit(1))
        if latest is not None and latest.answers_key == answers_key:
            assessment = latest
        else:
            number = latest.revision + 1 if latest is not None else 1
            assessment = Assessment(
                draft_id=draft.id, user_id=draft.user_id, started_at=draft.created_at, completed_at=utcnow(),
                revision=number, replaces_id=latest.id if latest is not None else None,
                answers_key=answers_key, shown=shown, directory_hash=directory_hash,
                immediate=rec.immediate, urgency=rec.urgency, lado=rec.lado,
                recommended_route=rec.route, recommended_level=rec.level, reason_ids=rec.reason_ids,
                threshold_id=rec.version_id, threshold_hash=rec.version_hash, **facts)
            session.add(assessment)
            session.flush()
            _audit("assessment_revised" if latest is not None else "assessment_recorded", assessment,
                   actor=actor, route=rec.route, level=rec.level, urgency=rec.urgency, page=page,
                   revision=number, replaces=latest.id if latest is not None else None,
                   threshold_id=rec.version_id, threshold_hash=rec.version_hash)
    db.session.refresh(draft)
    return assessment
