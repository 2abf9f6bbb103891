"""The threshold library and service directory, loaded once when the app starts.

A broken file is logged (file, line, key) and skipped, never used and never fatal; but once
its effective date has come, the older version is not used in its place (see current_version):
pages that need a version answer 503 and /healthz says why, until the file is fixed.
gunicorn loads this once in the master before forking (preload), so every worker agrees.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from flask import Flask, current_app

from . import directory as directory_module
from .thresholds import ConfigError, Library, ThresholdVersion, load_library

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
            directory = directory_module.load_directory(directory_path, known_areas=areas,
                                                        known_indicators=indicators)
        except ConfigError as exc:
            for problem in exc.problems:
                log.warning("service directory not loaded: %s", problem)
        except OSError as exc:
            log.warning("service directory not loaded: %s", exc)
    return library, directory


def _failed_versions(library: Library) -> tuple[tuple[str, dt.date | None], ...]:
    """(file, effective_from or None when unreadable) of each threshold file that failed to load."""
    import yaml
    used = {v.path for v in library.versions}
    failed = []
    for file in sorted({p.file for p in library.problems} - used):
        effective = None
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
            raw = data.get("effective_from") if isinstance(data, dict) else None
            effective = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw)) if raw else None
        except (OSError, ValueError, yaml.YAMLError):
            pass
        failed.append((file, effective))
    return tuple(failed)


class VersionNotLoaded(LookupError):
    """A newer version should be in force but failed to load: the older one is not used instead."""


def blocking_failures(on_date: dt.date | None = None) -> list[tuple[str, dt.date]]:
    """Files that failed to load and whose effective date has come, after the newest good version's."""
    on_date = on_date or dt.date.today()
    try:
        version = current_library().in_force(on_date)
    except LookupError:
        return []
    return [(file, effective) for file, effective in current_app.extensions.get("signpost.failed_versions", ())
            if effective is not None and version.effective_from < effective <= on_date]


def current_library() -> Library:
    return current_app.extensions["signpost.library"]


def current_directory():
    """The service directory, or None when it failed to load (pages then show no services)."""
    return current_app.extensions.get("signpost.directory")


def current_version(on_date: dt.date | None = None) -> ThresholdVersion:
    """The threshold version in force today (or on a date); LookupError when there is none.

    Never an older version standing in for a newer one that failed to load (VersionNotLoaded).
    """
    on_date = on_date or dt.date.today()
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
        return current_library().in_force(on_date or dt.date.today()).document.contacts
    except LookupError:
        return None


def current_version_or_none(on_date: dt.date | None = None) -> ThresholdVersion | None:
    try:
        return current_version(on_date)
    except LookupError:
        return None
