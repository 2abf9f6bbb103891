"""CSV that a spreadsheet reads as written: cells it will not run as a formula (OWASP "CSV injection"),
and text it reads as UTF-8.

Every CSV Signpost writes passes its cells through neutralise(), and starts with a byte order mark:
without one, Excel reads the file in the computer's old code page, and "Zoë" or "£" in a note comes
out as "ZoÃ«" or "Â£". Excel, LibreOffice and Numbers all take the mark as UTF-8 and do not show it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


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
