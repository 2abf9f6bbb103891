"""Shared pure helpers for the threshold, engine, directory and CLI tests (no Flask, no DB).

Fixture paths, cached loads of the fixture and shipped versions, and the `# BROKEN` markers.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path

from signpost.directory import Directory, load_directory
from signpost.engine import Answers
from signpost.thresholds import Library, ThresholdVersion, load_library

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_THRESHOLDS = ROOT / "thresholds"
SHIPPED_DIRECTORY = ROOT / "directory" / "services.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "thresholds"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
FIXTURE_DIRECTORY = FIXTURES / "directory" / "services.yaml"

ROUTE_RANK = {"universal": 0, "early_help": 1, "social_care": 2}


@functools.lru_cache(maxsize=None)
def fixture_library() -> Library:
    return load_library(GOOD, strict=True)


def fixture_version(version_id: str = "fixture-2024-01") -> ThresholdVersion:
    return fixture_library().get(version_id)


@functools.lru_cache(maxsize=None)
def fixture_directory() -> Directory:
    areas = {a for v in fixture_library().versions for a in v.areas}
    return load_directory(FIXTURE_DIRECTORY, known_areas=areas)


@functools.lru_cache(maxsize=None)
def shipped_library() -> Library:
    return load_library(SHIPPED_THRESHOLDS)


def shipped_versions() -> list[ThresholdVersion]:
    return list(shipped_library().versions)


@functools.lru_cache(maxsize=None)
def shipped_directory() -> Directory | None:
    """The shipped directory, or None while it does not load (test_directory says why)."""
    areas = {a for v in shipped_library().versions for a in v.areas}
    try:
        return load_directory(SHIPPED_DIRECTORY, known_areas=areas)
    except Exception:  # noqa: BLE001 - reported by test_directory, not here
        return None


def answers(*indicators: str, **kwargs) -> Answers:
    """Answers for a born child of 100 months with consent given, unless told otherwise."""
    if not kwargs.get("unborn"):
        kwargs.setdefault("age_months", 100)
    kwargs.setdefault("consent", "given")
    return Answers(indicators=frozenset(indicators), **kwargs)


@dataclasses.dataclass(frozen=True)
class Marker:
    """A `# BROKEN key | message` comment: the loader must report `key` on this line."""

    line: int
    key: str
    message: str


_MARKER = re.compile(r"#\s*BROKEN\s+(?P<key>\S*)\s*\|\s*(?P<message>.+?)\s*$")


def broken_markers(path: Path) -> list[Marker]:
    found = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.lstrip().startswith("#"):
            continue  # the header explains the markers; it is not one
        match = _MARKER.search(text)
        if match:
            found.append(Marker(number, match["key"], match["message"]))
    return found


def line_containing(path: Path, snippet: str) -> int:
    """The 1-based line of the only line in the file containing `snippet`."""
    lines = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if snippet in text]
    assert len(lines) == 1, f"{snippet!r} is on lines {lines} of {path}"
    return lines[0]


def applicable_indicators(version: ThresholdVersion, age_months: int | None, unborn: bool = False):
    """Indicators of a version that apply to this child (same test as the engine's)."""
    from signpost.engine import applies_to_age

    return [i for i in version.document.indicators if applies_to_age(i, age_months, unborn)]
