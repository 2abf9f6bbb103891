"""The referral journey's writers: pages saved without losing a concurrent save, and
recommendations recorded as append-only revisions.

Built on transaction() and _audit() from signpost.store, like every writer.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Assessment, Draft, User, utcnow
from . import DROPPED, _audit, transaction

T = TypeVar("T")
ATTEMPTS = 20  # each retry follows a save that did succeed, so this is never reached in practice


class DraftChanged(RuntimeError):
    """The draft kept changing under us (or was deleted) while saving."""


def save_page(draft: Draft, page: str, change: Callable[[dict], dict], *, actor: User | None = None,
              then: Callable[[Session, dict], T] | None = None, dropped: list[str] | None = None,
              version=None, keep_dropped: bool = False) -> T | None:
    """Apply one page's answer to the draft's latest answers; never lose a concurrent save.

    `change` maps the stored answers to the new ones. The write is an UPDATE guarded by
    the draft's version number: when another request saved in between (two tabs, a
    double-click), the answers are read again and the change applied to them, so both
    saves are kept.
    `then(session, answers)`, if given, runs in the same transaction on the answers saved,
    and what it returns is returned (a revision recorded with the page, see record_revision).
    `dropped`: the concerns this answer made no longer apply, kept for the next page (DROPPED).
    `version`: a threshold version the draft moves to with these answers (a draft carried on under
    the version in force, its answers pruned to that version's questions by `change`); forms kept
    across an idle sign-out stay, and with `keep_dropped` a notice not yet shown too.
    """
    moved = {} if version is None or version.id == draft.threshold_id else {
        "threshold_id": version.id, "threshold_hash": version.content_hash}
    detail = {"from_threshold": draft.threshold_id, "to_threshold": version.id} if moved else {}
    for _ in range(ATTEMPTS):
        seen_version = draft.version
        answers = change(dict(draft.answers or {}))
        # An answer replaces any form kept across an idle sign-out; a move to a new version does not
        # (the form is shown again after sign-in, which is when a draft is moved).
        kept = dict(draft.kept_forms or {}) if moved else {}
        if not keep_dropped:
            kept.pop(DROPPED, None)
        if dropped:  # added to any not yet shown (a move just after an answer that dropped some)
            kept[DROPPED] = list(dict.fromkeys([*(kept.get(DROPPED) or []), *dropped]))
        with transaction() as session:
            done = session.execute(
                update(Draft).where(Draft.id == draft.id, Draft.version == seen_version)
                .values(answers=answers, updated_at=utcnow(), version=seen_version + 1,
                        kept_forms=kept or None, **moved)
                .execution_options(synchronize_session=False))
            if done.rowcount == 1:
                _audit("draft_answered", draft, actor=actor, page=page, **detail)
                result = then(session, answers) if then is not None else None
        db.session.refresh(draft)
        if done.rowcount == 1:
            return result
    raise DraftChanged(f"draft {draft.id} kept changing while page {page} was saved")


class Finding(NamedTuple):
    """What a revision records about one set of answers, worked out by the caller (who
    knows the engine and the pages) from the answers it is given."""
    rec: Any
    answers_key: str
    shown: dict
    directory_hash: str | None
    facts: dict


def record_revision(draft: Draft, finding: Callable[[dict], Finding], *, actor: User | None = None,
                    change: Callable[[dict], dict] | None = None, page: str | None = None,
                    dropped: list[str] | None = None) -> Assessment:
    """Record the recommendation for the draft's answers, as a new revision.

    Never changes a recorded one: when the answers changed since the latest revision, a new
    row (revision n + 1) links to the one it replaces. The same answers again (a double
    click, a refresh) return the latest revision.

    With `change`, the page that led here is saved in the same transaction (a ticked
    emergency concern is saved and logged as one action), through save_page: applied to
    the latest answers, again after a concurrent save, so another tab's save is never
    overwritten; the revision is for the answers saved, whatever was read before.
    """
    if change is not None:
        return save_page(draft, page or "", change, actor=actor, dropped=dropped,
                         then=lambda session, answers: _add_revision(session, draft, finding(answers),
                                                                     actor=actor, page=page))
    found = finding(dict(draft.answers or {}))
    latest = draft.assessment
    if latest is not None and latest.answers_key == found.answers_key:
        return latest
    with transaction() as session:
        assessment = _add_revision(session, draft, found, actor=actor, page=page)
    db.session.refresh(draft)
    return assessment


def _add_revision(session: Session, draft: Draft, found: Finding, *, actor: User | None,
                  page: str | None) -> Assessment:
    """Add (not commit) the next revision for these answers, or find it already recorded.

    Two recordings of one draft at once (a double click, two tabs) are taken in turn: this
    first updates the draft's row, which waits for the other's transaction to end, and only
    then reads the latest revision. So the second never takes the first's revision number
    (a unique-constraint error, a server error for the referrer): it finds its answers
    already recorded, or records the next revision for the answers it was made from.
    """
    rec = found.rec
    session.execute(update(Draft).where(Draft.id == draft.id)
                    .values(threshold_id=rec.version_id, threshold_hash=rec.version_hash)
                    .execution_options(synchronize_session=False))
    latest = session.scalar(select(Assessment).where(Assessment.draft_id == draft.id)
                            .order_by(Assessment.revision.desc()).limit(1))
    if latest is not None and latest.answers_key == found.answers_key:
        return latest
    number = latest.revision + 1 if latest is not None else 1
    assessment = Assessment(
        draft_id=draft.id, user_id=draft.user_id, started_at=draft.created_at, completed_at=utcnow(),
        revision=number, replaces_id=latest.id if latest is not None else None,
        answers_key=found.answers_key, shown=found.shown, directory_hash=found.directory_hash,
        immediate=rec.immediate, urgency=rec.urgency, lado=rec.lado,
        recommended_route=rec.route, recommended_level=rec.level, reason_ids=rec.reason_ids,
        threshold_id=rec.version_id, threshold_hash=rec.version_hash, **found.facts)
    session.add(assessment)
    session.flush()
    _audit("assessment_revised" if latest is not None else "assessment_recorded", assessment,
           actor=actor, route=rec.route, level=rec.level, urgency=rec.urgency, page=page,
           revision=number, replaces=latest.id if latest is not None else None,
           threshold_id=rec.version_id, threshold_hash=rec.version_hash)
    return assessment
