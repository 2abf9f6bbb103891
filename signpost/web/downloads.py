"""CSV downloads: every CSV the service offers is sent here, named by what it holds and how it was filtered."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Response

from ..spreadsheet import file_name, to_csv


def csv_download(header: Iterable[str], rows: Iterable[Iterable], *name_parts) -> Response:
    """The rows as a CSV attachment named from name_parts (see spreadsheet.file_name: slugs only, so
    nothing in them can end the header's quoted file name or start another header)."""
    return Response(to_csv(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{file_name(*name_parts)}"'})
