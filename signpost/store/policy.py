"""Policy leads' writers: threshold drafts, simulations and publishing, each audited.

A published version is one row (the exact YAML, append-only) and one file in thresholds/.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import PublishedThreshold, ThresholdDraft, User, utcnow
from ..policy import DateProblem, PublishError, ready_to_publish, text_hash
from ..thresholds import ConfigError
from ..thresholds.cases import load_cases
from . import StoreError, _audit, transaction

log = logging.getLogger("signpost.store.policy")


class DraftChanged(StoreError):
    """The draft is no longer the one the page showed: someone else changed (or published) it."""


class CannotWithdraw(StoreError):
    """A version that cannot be withdrawn; the message says why, in plain English. Nothing changed."""


def start_draft(user: User | None, base, text: str, *, actor=None) -> ThresholdDraft:
    with transaction() as session:
        draft = ThresholdDraft(user_id=user.id, base_id=base.id, base_hash=base.content_hash, content=text,
                               created_at=utcnow(), updated_at=utcnow())
        session.add(draft)
        session.flush()
        _audit("threshold_draft_started", draft, actor=actor or user, base_id=base.id)
    return draft


def save_draft(draft: ThresholdDraft, text: str, change: str, *, seen: str | None, actor=None, **detail) -> None:
    """A checked change to a draft (through a form, or an uploaded file), made from a page that showed
    the draft with hash `seen`; DraftChanged, and nothing saved, when the draft is no longer that."""
    if draft.published_id:
        raise PublishError(["This draft has been published: start a new draft to change it."])
    with transaction() as session:
        _replace_content(session, draft, seen, content=text)
        _audit("threshold_draft_changed", draft, actor=actor, change=change, **detail)


def _replace_content(session, draft: ThresholdDraft, seen: str | None, **values) -> None:
    """Change the draft only while its content is still what the page showed (checked by the database
    in the same statement, so a save by someone else between reading and writing is never lost)."""
    shown = draft.content
    if seen != text_hash(shown):
        raise DraftChanged("the draft changed after the page was shown")
    changed = session.execute(update(ThresholdDraft)
                              .where(ThresholdDraft.id == draft.id, ThresholdDraft.content == shown,
                                     ThresholdDraft.published_id.is_(None))
                              .values(updated_at=utcnow(), **values)
                              .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise DraftChanged("the draft changed after the page was shown")
    session.expire(draft)


def refuse_upload(draft: ThresholdDraft, problems: int, *, actor=None) -> None:
    """An upload with problems changes nothing, but is recorded."""
    with transaction():
        _audit("threshold_draft_upload_refused", draft, actor=actor, problems=problems)


def discard_draft(draft: ThresholdDraft, *, actor=None) -> None:
    with transaction() as session:
        _audit("threshold_draft_discarded", draft, actor=actor, base_id=draft.base_id)
        session.delete(draft)


def record_simulation(draft: ThresholdDraft | None, version_id: str, start: dt.date, end: dt.date,
                      summary: dict, *, actor=None) -> None:
    with transaction():
        _audit("threshold_simulated", draft, actor=actor, record_type="threshold_drafts",
               version_id=version_id, start=start.isoformat(), end=end.isoformat(), **summary)


def publish(text: str, effective: dt.date, *, library, thresholds_dir: Path | str, today: dt.date,
            draft: ThresholdDraft | None = None, seen: str | None = None, actor=None) -> PublishedThreshold:
    """Store the version and write its file, or raise PublishError and change nothing; a draft's text is
    published only while it is still what the confirmation page showed (`seen`), else DraftChanged."""
    if draft is not None and (text != draft.content or seen != text_hash(text)):
        raise DraftChanged("the draft changed after the page was shown")
    try:
        cases = load_cases(Path(thresholds_dir) / "tests")
    except ConfigError as exc:
        raise PublishError(["The test cases in thresholds/tests cannot be read, so the version cannot be "
                            "checked against them: " + "; ".join(str(p) for p in exc.problems)]) from None
    final, version = ready_to_publish(text, effective, library, today, cases=cases)
    path = Path(thresholds_dir) / f"{version.id}.yaml"
    if path.exists() and path.read_text(encoding="utf-8") != final:
        raise PublishError([f"A different file {path.name} already exists: give this draft a new id."])
    earlier = db.session.get(PublishedThreshold, version.id)
    if earlier is not None and earlier.withdrawn_at is not None:
        raise PublishError([f"'{version.id}' was published and then withdrawn, and a version's id is never used twice: "
                            "give this draft a new id on its version details page."])
    if earlier is not None or db.session.scalar(
            select(PublishedThreshold.id).where(PublishedThreshold.effective_from == effective,
                                                PublishedThreshold.withdrawn_at.is_(None))):
        raise PublishError([DateProblem(f"'{version.id}' or another version taking effect that day is already "
                                        "published.")])
    doc = version.document
    wrote = False
    try:
        with transaction() as session:
            row = PublishedThreshold(id=version.id, content_hash=version.content_hash, content=final,
                                     effective_from=effective, approved_by=doc.approved_by,
                                     summary_of_changes=doc.summary_of_changes, published_at=utcnow(),
                                     published_by=actor.id if isinstance(actor, User) else None)
            session.add(row)
            if draft is not None:
                _replace_content(session, draft, seen, published_id=version.id, content=final)
            _audit("threshold_published", row, actor=actor, effective_from=effective.isoformat(),
                   content_hash=version.content_hash, draft_id=draft.id if draft is not None else None)
            session.flush()  # a clash with another host's publication fails here, before the file
            # The version it supersedes, withdrawn on another host since the checks read the versions: it
            # would carry the withdrawn changes. Locked, so a withdrawal waits for this and then sees it.
            if session.scalar(select(PublishedThreshold.withdrawn_at).where(PublishedThreshold.id == doc.supersedes)
                              .with_for_update()) is not None:
                raise PublishError([f"'{doc.supersedes}', the version this draft was started from, was withdrawn a "
                                    "moment ago: start a new draft from the version in force."])
            if not path.exists():
                _write_atomically(path, final)
                wrote = True
    except IntegrityError:  # published on another host a moment ago, with this id or on this date
        if wrote:
            path.unlink(missing_ok=True)
        raise PublishError([DateProblem(f"'{version.id}' or another version taking effect that day was published "
                                        "a moment ago: check the versions, then choose another date.")]) from None
    except BaseException:
        if wrote:
            path.unlink(missing_ok=True)
        raise
    return row


def withdraw(version_id: str, reason: str, *, library, thresholds_dir: Path | str, today: dt.date,
             actor=None) -> PublishedThreshold:
    """Withdraw a version published from Signpost before it takes effect: from then on no host uses it,
    its day is free for a replacement, and the draft it was published from can be changed again. Its text
    stays in published_thresholds as it was published; its file here is removed.

    CannotWithdraw, and nothing changed, for a version already in force (advice has been given under it:
    publish a new version instead), one shipped as a file rather than published here, one withdrawn
    already, or while a later version is scheduled (withdraw that first: it may build on this one).
    `library` is what is published now (content.forget_published first), for the later versions."""
    row = db.session.get(PublishedThreshold, version_id)
    if row is None and all(v.id != version_id for v in library.versions):
        raise CannotWithdraw(f"There is no threshold version {version_id}.")
    if row is None:
        raise CannotWithdraw(f"{version_id} was not published in Signpost, so it cannot be withdrawn here. A version "
                             "that came as a file is withdrawn by removing its file from thresholds/ before its date.")
    if row.withdrawn_at is not None:
        raise CannotWithdraw(f"{version_id} was withdrawn on {row.withdrawn_at:%-d %B %Y}.")
    if row.effective_from <= today:
        raise CannotWithdraw(f"{version_id} took effect on {row.effective_from:%-d %B %Y}, and advice may have been "
                             "given under it, so it cannot be withdrawn. Publish a new version to change it.")
    later = [v for v in library.versions if v.effective_from > row.effective_from]
    if later:
        raise CannotWithdraw(f"{later[0].id} is scheduled to take effect after it, on "
                             f"{later[0].effective_from:%-d %B %Y}, and may build on it: withdraw {later[0].id} first.")
    with transaction() as session:
        # Checked again by the database in the same statement: never a version that came into force (or was
        # withdrawn on another host) since the page was shown.
        changed = session.execute(update(PublishedThreshold)
                                  .where(PublishedThreshold.id == version_id, PublishedThreshold.withdrawn_at.is_(None),
                                         PublishedThreshold.effective_from > today)
                                  .values(withdrawn_at=utcnow(), withdrawal_reason=reason,
                                          withdrawn_by=actor.id if isinstance(actor, User) else None)
                                  .execution_options(synchronize_session=False))
        if changed.rowcount != 1:
            raise CannotWithdraw(f"{version_id} was withdrawn, or took effect, a moment ago: nothing was changed.")
        # A later version published on another host since `library` was read (it may build on this one); read
        # after the update, which waits for a publication that locked this row, so it is seen.
        later_id = session.scalar(select(PublishedThreshold.id)
                                  .where(PublishedThreshold.withdrawn_at.is_(None),
                                         PublishedThreshold.effective_from > row.effective_from)
                                  .order_by(PublishedThreshold.effective_from).limit(1))
        if later_id is not None:
            raise CannotWithdraw(f"{later_id} was published a moment ago to take effect after it, and may build on "
                                 f"it: withdraw {later_id} first. Nothing was changed.")
        reopened = session.execute(update(ThresholdDraft).where(ThresholdDraft.published_id == version_id)
                                   .values(published_id=None, updated_at=utcnow())
                                   .execution_options(synchronize_session=False)).rowcount
        _audit("threshold_withdrawn", row, actor=actor, effective_from=row.effective_from.isoformat(),
               content_hash=row.content_hash, reason=reason[:500], drafts_reopened=reopened)
    session.expire(row)
    path = Path(thresholds_dir) / f"{version_id}.yaml"
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == row.content:
            path.unlink()
    except OSError as exc:  # withdrawn all the same: every host leaves a withdrawn version out, file or not
        log.warning("withdrawn threshold version's file %s not removed: %s", path.name, exc.__class__.__name__)
    return row


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
