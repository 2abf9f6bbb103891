"""CSV that a spreadsheet reads as written: cells it will not run as a formula (OWASP "CSV injection"),
and text it reads as UTF-8.

Every CSV Signpost writes passes its cells through neutralise(), and starts with a byte order mark:
without one, Excel reads the file in the computer's old code page, and "Zoë" or "£" in a note comes
out as "ZoÃ«" or "Â£". Excel, LibreOffice and Numbers all take the mark as UTF-8 and do not show it.

Every CSV is named by file_name(): what it holds, its period and the filters applied, as slugs.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
NOT_SLUG = re.compile(r"[^a-z0-9]+")
LONGEST_NAME = 200  # characters before the extension: well inside every file system's 255


def neutralise(value) -> str:
    """The cell as text; one that starts like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue()


def slug(value) -> str:
    """The value as lower case letters and digits, each run of anything else one hyphen: safe in a file
    name and in a quoted header, whatever it holds ("10 to 15" is 10-to-15, 'a"\\r\\nb' is a-b)."""
    return NOT_SLUG.sub("-", str(value).lower()).strip("-")


def file_name(*parts, extension: str = "csv") -> str:
    """A download's file name from its parts (what it holds, its period, each filter's name and value),
    slugged and joined by hyphens. Pass only values chosen from a list or parsed (dates), never text a user
    typed or anything about a child: the name is shown and kept on the user's computer. A name too long for
    a file system keeps its start and ends with a hash of the whole, so two downloads still differ."""
    name = "-".join(filter(None, map(slug, parts))) or "download"
    if len(name) > LONGEST_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:LONGEST_NAME - 9].rstrip('-')}-{digest}"
    return f"{name}.{extension}"
