"""Audit events as an Excel workbook, safe to open (SECURITY E5, ASVS 1.2.10).

A cell that starts with ``= + - @``, a tab or a carriage return is read by
spreadsheet programs as a formula (CSV/formula injection); such cells get a
leading ``'``. Characters XML cannot hold (NUL and other controls) are
replaced, since openpyxl refuses them.
"""

from __future__ import annotations

import io
import json

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value as it may go into a cell: numbers as they are, text defused."""
    if value is None or isinstance(value, (int, bool)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def payload_text(payload: str | None) -> str:
    """The stored payload as readable JSON (Chinese kept), or empty when redacted."""
    if payload is None:
        return ""
    try:
        return json.dumps(json.loads(payload), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return payload


def workbook(title: str, header: list, rows) -> bytes:
    """An ``.xlsx`` file with one sheet: ``header`` then ``rows`` (iterables of values)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
