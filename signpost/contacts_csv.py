"""Contacts that did not come through Signpost, read from CSV: the column layout and every check.

Pure (no Flask, no database): read_contacts() returns the rows or every problem with its line
number; the store then adds all of them or none. The layout is in the README and docs/.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

from .values import AGE_BANDS, CONTACT_CHANNELS, LONDON, OUTCOMES, REFERRAL_SOURCES, URGENCIES
from .workdays import YEARS_ALLOWED, in_range

COLUMNS = ("reference", "received_at", "source_code", "channel", "age_band", "urgency", "outcome", "decided_at")
REQUIRED = ("reference", "received_at", "source_code", "channel", "age_band", "urgency", "outcome")
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$")
MAX_ROWS = 50_000
UNREADABLE = "cannot be read as CSV: a cell may be far too long, or a quote not closed"


@dataclasses.dataclass(frozen=True)
class RowProblem:
    line: int          # the line in the file (the header is line 1)
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


def parse_local_time(value: str) -> dt.datetime:
    """'2026-10-14 09:30' (or with a T, or a date alone) in UK time, to naive UTC as stored."""
    value = value.strip()
    if len(value) == 10:
        local = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
    else:
        local = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    if local.tzinfo is None:
        local = local.replace(tzinfo=LONDON)
    if not in_range(local):  # before converting: a time zone could take year 1 or 9999 past the calendar
        raise ValueError(f"not in a year {YEARS_ALLOWED}")
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def check_contact(raw: dict, now: dt.datetime) -> tuple[dict | None, list[tuple[str, str]]]:
    """One contact's fields, checked: (the values to store, or None; [(column, problem)])."""
    problems: list[tuple[str, str]] = []
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for column in REQUIRED:
        if not get[column]:
            problems.append((column, "is empty"))
    out: dict = {}
    if get["reference"]:
        if REFERENCE.match(get["reference"]):
            out["reference"] = get["reference"]
        else:
            problems.append(("reference", "must be up to 64 letters, digits, '-', '_', '.' or '/', "
                                          "starting with a letter or digit"))
    for column in ("received_at", "decided_at"):
        if get[column]:
            try:
                out[column] = parse_local_time(get[column])
            except ValueError:
                problems.append((column, f"{get[column][:40]!r} is not a date and time like 2026-10-14 09:30, "
                                         f"in a year {YEARS_ALLOWED}"))
    for column in ("received_at", "decided_at"):
        if out.get(column) and out[column] > now:
            problems.append((column, "is in the future"))
    if out.get("received_at") and out.get("decided_at") and out["decided_at"] < out["received_at"]:
        problems.append(("decided_at", "is before received_at"))
    for column, allowed in (("source_code", tuple(REFERRAL_SOURCES)), ("channel", CONTACT_CHANNELS),
                            ("age_band", AGE_BANDS), ("urgency", URGENCIES), ("outcome", OUTCOMES)):
        value = get[column]
        if column == "source_code":
            value = value.upper()
        if value and value not in allowed:
            problems.append((column, f"{get[column]!r} is not one of: {', '.join(allowed)}"))
        elif value:
            out[column] = value
    out.setdefault("decided_at", None)
    return (None if problems else out), problems


def read_contacts(text: str, now: dt.datetime) -> tuple[list[dict], list[RowProblem]]:
    """Every row, checked; with any problem at all, no rows (nothing is half-imported)."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error:
        return [], [RowProblem(1, None, UNREADABLE)]
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    unnamed = "" in header  # often a comma at the end of the first line, from a spreadsheet
    named = [h for h in header if h]
    if not header:
        return [], [RowProblem(1, None, "the file is empty: the first line must be the column names")]
    if missing or unknown or unnamed or len(set(named)) != len(named):
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        if unnamed:
            parts.append("a column has no name: delete the empty column, or the comma at the end of the first line")
        if len(set(named)) != len(named):
            parts.append("a column is named twice")
        return [], [RowProblem(1, None, "; ".join(parts) + f" (expected: {', '.join(COLUMNS)})")]
    reader.fieldnames = header
    rows: list[dict] = []
    seen: dict[str, int] = {}
    records = iter(reader)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error:  # a cell past the csv module's size limit, or an unreadable line
            problems.append(RowProblem(reader.line_num, None, UNREADABLE))
            break
        line = reader.line_num
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(RowProblem(line, None, f"more than {MAX_ROWS} rows: split the file"))
            break
        if None in record:
            problems.append(RowProblem(line, None, "has more cells than there are columns"))
            continue
        if not any((v or "").strip() for v in record.values()):
            continue  # a blank line
        row, found = check_contact(record, now)
        problems.extend(RowProblem(line, column, message) for column, message in found)
        if row is None:
            continue
        if row["reference"] in seen:
            problems.append(RowProblem(line, "reference",
                                       f"{row['reference']} is also on line {seen[row['reference']]}"))
            continue
        seen[row["reference"]] = line
        rows.append({**row, "_line": line})
    if not rows and not problems:
        problems.append(RowProblem(2, None, "the file has no contacts under the column names"))
    return ([] if problems else rows), problems


def same_contact(stored, row: dict) -> bool:
    """Whether a stored contact has the same details as a row (so re-importing it is harmless)."""
    return all(getattr(stored, k) == row[k] for k in COLUMNS)
