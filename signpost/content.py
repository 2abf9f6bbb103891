"""The threshold library and service directory: files loaded when the app starts, plus the
versions published from Signpost, read from the database with a short cache.

A broken file is logged (file, line, key) and skipped, never used and never fatal; but once
its effective date has come, the older version is not used in its place (see current_version):
pages that need a version answer 503 and /healthz says why, until the file is fixed.
gunicorn loads this once in the master before forking (preload), so every worker agrees.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import time
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import directory as directory_module
from .thresholds import ConfigError, Library, ThresholdVersion, load_library, load_text
from . import values

log = logging.getLogger("signpost.content")
_cache: dict = {}


def _fingerprint(path: Path) -> tuple:
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.exists())


def load_content(app: Flask) -> None:
    """Load the library and directory into app.extensions (cached by file times, for tests)."""
    thresholds_dir = Path(app.config["THRESHOLDS_DIR"])
    directory_path = Path(app.config["DIRECTORY_PATH"])
    key = (str(thresholds_dir), _fingerprint(thresholds_dir), str(directory_path), _fingerprint(directory_path))
    if key not in _cache:
        _cache.clear()
        _cache[key] = _load(thresholds_dir, directory_path)
    library, directory = _cache[key]
    for problem in library.problems:
        app.logger.warning("threshold file not loaded: %s", problem)
    for file, effective in _failed_versions(library):
        if effective is None:
            app.logger.error("threshold file %s did not load and its effective_from cannot be read: it can never "
                             "come into force; fix it or remove it", file)
    if not library.versions:
        app.logger.error("no valid threshold version under %s: pages that need one answer 503", thresholds_dir)
    app.extensions["signpost.library"] = library
    app.extensions["signpost.directory"] = directory
    app.extensions["signpost.failed_versions"] = _failed_versions(library)


def _load(thresholds_dir: Path, directory_path: Path):
    library = load_library(thresholds_dir)
    directory = None
    if library.versions:
        areas = {a for v in library.versions for a in v.areas}
        try:
            indicators = {i for v in library.versions for i in v.indicators}
            warnings: list = []
            directory = directory_module.load_directory(directory_path, known_areas=areas,
                                                        known_indicators=indicators, warnings=warnings)
            for warning in warnings:
                log.warning("service directory: %s", warning)
        except ConfigError as exc:
            for problem in exc.problems:
                log.warning("service directory not loaded: %s", problem)
        except OSError as exc:
            log.warning("service directory not loaded: %s", exc)
    return library, directory


def _failed_versions(library: Library) -> tuple[tuple[str, dt.date | None], ...]:
    """(file, effective_from or None when unreadable) of each threshold file that failed to load."""
    used = {v.path for v in library.versions}
    failed = []
    for file in sorted({p.file for p in library.problems} - used):
        try:
            effective = effective_date_of(Path(file).read_text(encoding="utf-8"))
        except OSError:
            effective = None
        failed.append((file, effective))
    return tuple(failed)


_EFFECTIVE = re.compile(r"""^effective_from:[ \t]*["']?(\d{4}-\d{2}-\d{2})["']?[ \t]*(?:#.*)?$""", re.M)


def effective_date_of(text: str) -> dt.date | None:
    """The effective_from of a threshold file that failed to load, if it can be read at all: from
    the YAML, or, when the YAML itself is broken (a tab, a bad indent), from its own top-level line."""
    import yaml
    try:
        data = yaml.safe_load(text)
        raw = data.get("effective_from") if isinstance(data, dict) else None
        if isinstance(raw, dt.date):
            return raw
        if raw:
            return dt.date.fromisoformat(str(raw))
    except (ValueError, yaml.YAMLError):
        pass
    found = _EFFECTIVE.search(text)
    try:
        return dt.date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        return None


class VersionNotLoaded(LookupError):
    """A newer version should be in force but failed to load: the older one is not used instead."""


def blocking_failures(on_date: dt.date | None = None) -> list[tuple[str, dt.date]]:
    """Threshold files (and published versions) that failed to load and whose effective date has
    come, after the newest good version's. A file whose date cannot be read at all (a skeleton, a
    stray file) blocks nothing: it could never be scheduled, and /healthz counts it as not loaded."""
    on_date = on_date or values.uk_today()
    library = current_library()
    try:
        version = library.in_force(on_date)
    except LookupError:
        return []
    failed = (*current_app.extensions.get("signpost.failed_versions", ()), *library.unloaded)
    return [(file, effective) for file, effective in failed
            if effective is not None and version.effective_from < effective <= on_date]


def current_library() -> Library:
    """The file library merged with the versions published from Signpost (see published_library)."""
    return published_library(current_app._get_current_object())


# Published versions ------------------------------------------------------------------------
# A version published on any host is a row in published_thresholds (and a file on the host
# that published it). Each process asks the database at most every THRESHOLDS_CACHE_SECONDS
# which versions exist (ids and hashes only), and parses a version's text once.

_published: dict = {}  # (app id, database url) -> (checked at, fingerprint, merged Library, day checked)
_parsed: dict = {}  # content hash -> ThresholdVersion


def published_library(app: Flask) -> Library:
    files: Library = app.extensions["signpost.library"]
    key = (id(app), app.config.get("SQLALCHEMY_DATABASE_URI"))
    now, today = time.monotonic(), values.uk_today()
    cached = _published.get(key)
    # Never a list read on an earlier day: at midnight a version withdrawn (or published) on another host in
    # the last seconds before its date would otherwise be used, or missed, from that date.
    if cached and now - cached[0] < app.config.get("THRESHOLDS_CACHE_SECONDS", 5) and cached[2][0] is files \
            and cached[3] == today:
        return cached[2][1]
    try:
        rows = _published_rows(app)
    except SQLAlchemyError as exc:
        log.warning("published threshold versions not read: %s", exc.__class__.__name__)
        if cached and cached[2][0] is files:
            # The database did not answer this time: the versions last read stay in force (a version
            # published from Signpost must not give way to an older file while the database is away).
            return cached[2][1]
        return files  # never read (no database yet, or no table): the files alone
    fingerprint = tuple((r[0], r[1], r[3:]) for r in rows)  # a withdrawal changes it too
    if cached and cached[1] == fingerprint and cached[2][0] is files:
        merged = cached[2][1]
    else:
        merged = merge_published(files, rows)
    _published[key] = (now, fingerprint, (files, merged), today)
    return merged


def forget_published(app: Flask) -> None:
    """After this process publishes, look again at once rather than after the cache time."""
    app = getattr(app, "_get_current_object", lambda: app)()  # the app itself, never the proxy
    _published.pop((id(app), app.config.get("SQLALCHEMY_DATABASE_URI")), None)


def _published_rows(app: Flask) -> list[tuple]:
    from .extensions import db
    from .models import PublishedThreshold
    table = PublishedThreshold.__table__
    # Its own connection: a request's session (and any transaction it is in) is left alone.
    with db.engine.connect() as conn:
        hashes = conn.execute(select(table.c.id, table.c.content_hash, table.c.withdrawn_at.is_not(None))
                              .order_by(table.c.id)).all()
        missing = [h for _, h, withdrawn in hashes if h not in _parsed and not withdrawn]
        texts = dict(conn.execute(select(table.c.content_hash, table.c.content)
                                  .where(table.c.content_hash.in_(missing))).all()) if missing else {}
    return [(vid, h, texts.get(h)) if not withdrawn else (vid, h, None, True) for vid, h, withdrawn in hashes]


def merge_published(files: Library, rows: list[tuple]) -> Library:
    """The file versions plus every published one (the stored text wins over a differing file), less
    every withdrawn one: rows are (id, hash, text), or (id, hash, text, True) for a withdrawn version,
    which no host uses even where its file is still on disk.

    A stored version that does not load (it cannot happen for one published through Signpost, but a
    row can be edited by hand) is a problem, and a failure that blocks older versions once its date
    has come, as a broken file is."""
    withdrawn = {row[0] for row in rows if row[3:] == (True,)}
    versions = {v.id: v for v in files.versions if v.id not in withdrawn}
    problems = list(files.problems)
    failed = []
    for version_id, content_hash, text, *_ in rows:
        if version_id in withdrawn:
            continue
        version = _parsed.get(content_hash)
        if version is None:
            name = f"{version_id}.yaml (published)"
            try:
                version = load_text(text or "", name, expected_id=version_id)
            except ConfigError as exc:
                problems.extend(exc.problems)
                failed.append((name, effective_date_of(text or "")))
                continue
            _parsed[content_hash] = version
        versions[version_id] = version
    by_date: dict = {}
    for version in sorted(versions.values(), key=lambda v: v.effective_from):
        by_date.setdefault(version.effective_from, version)
    return Library(versions=tuple(sorted(by_date.values(), key=lambda v: v.effective_from)),
                   problems=tuple(sorted(problems)), unloaded=(*files.unloaded, *failed),
                   withdrawn=frozenset(withdrawn))


def current_directory():
    """The service directory, or None when it failed to load (pages then show no services)."""
    return current_app.extensions.get("signpost.directory")


def current_version(on_date: dt.date | None = None) -> ThresholdVersion:
    """The threshold version in force today (or on a date); LookupError when there is none.

    Never an older version standing in for a newer one that failed to load (VersionNotLoaded).
    """
    on_date = on_date or values.uk_today()
    version = current_library().in_force(on_date)
    blocked = blocking_failures(on_date)
    if blocked:
        file, effective = blocked[-1]
        raise VersionNotLoaded(f"the threshold version in {Path(file).name}, in force from {effective}, "
                               f"failed to load; {version.id} is not used in its place")
    return version


def current_contacts(on_date: dt.date | None = None):
    """The front door's numbers for every page, even while the version in force cannot be used."""
    try:
        return current_library().in_force(on_date or values.uk_today()).document.contacts
    except LookupError:
        return None


def current_version_or_none(on_date: dt.date | None = None) -> ThresholdVersion | None:
    try:
        return current_version(on_date)
    except LookupError:
        return None
