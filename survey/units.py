"""Respondent groups and units: the organisations that answer and the ones that are rated."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import select

from questionnaires.messages import N_, Message, message
from survey.extensions import db
from survey.models import RespondentGroup, Unit

CSV_COLUMNS = ("code", "kind", "group", "name_zh", "name_en")
# The code of a unit or group, as the unit form and the import both require it.
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
CODE_LENGTH = 40
# What a CSV file may be saved in: UTF-8 (with or without Excel's byte-order mark), or
# GB18030, which Excel on Chinese Windows saves and which contains GBK.
ENCODINGS = ("utf-8-sig", "gb18030")


class UnitImportError(ValueError):
    """A refused file: `line` and `message`, which the page shows in its reader's language;
    `reason` is the English text."""

    def __init__(self, line: int, reason: Message):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.message = reason
        self.reason = str(reason)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def decode_csv(raw: bytes) -> str:
    """The text of an uploaded CSV file in one of ``ENCODINGS``, tried in that order."""
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    reason = N_("the file is neither UTF-8 or GB18030 text; save it as CSV UTF-8")
    raise UnitImportError(1, message(reason))


def import_units_csv(text: str) -> ImportResult:
    """Create or update units from CSV with the columns code, kind, group, name_zh, name_en.

    `kind` is respondent or served; a respondent unit names an existing respondent group. Rows
    are matched on code, so importing the same file twice changes nothing. The whole file is
    checked before anything is written.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    groups = {g.code: g for g in db.session.scalars(select(RespondentGroup))}
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        _check_row(line, row, groups)
        code = row["code"].strip()
        if code in first_line:
            reason = N_("code %(code)s appears twice (first on line %(first)s)")
            raise UnitImportError(line, message(reason, code=repr(code), first=first_line[code]))
        first_line[code] = line
    existing = {u.code: u for u in db.session.scalars(select(Unit))}
    created = updated = 0
    for row in rows:
        unit = existing.get(row["code"].strip())
        if unit is None:
            unit = Unit(code=row["code"].strip())
            db.session.add(unit)
            created += 1
        else:
            updated += 1
        unit.kind = row["kind"].strip()
        unit.name_zh = row["name_zh"].strip()
        unit.name_en = row["name_en"].strip() or unit.name_zh
        unit.group = groups.get(row["group"].strip()) if unit.kind == "respondent" else None
    db.session.flush()
    return ImportResult(created, updated)


def _check_row(line: int, row: dict, groups: dict) -> None:
    missing = [c for c in CSV_COLUMNS if c not in row or row[c] is None]
    if missing:
        reason = message(N_("missing column(s): %(columns)s"), columns=", ".join(missing))
        raise UnitImportError(line, reason)
    if not row["code"].strip() or not row["name_zh"].strip():
        raise UnitImportError(line, message(N_("code and name_zh must not be empty")))
    code = row["code"].strip()
    if len(code) > CODE_LENGTH:
        reason = N_("code %(code)s… is longer than at most %(n)s characters")
        raise UnitImportError(line, message(reason, code=repr(code[:20]), n=CODE_LENGTH))
    if not CODE_PATTERN.fullmatch(code):
        reason = N_("code %(code)s: lower-case letters, digits and _ only, starting with a letter")
        raise UnitImportError(line, message(reason, code=repr(code)))
    if row["kind"].strip() not in ("respondent", "served"):
        reason = N_("kind must be respondent or served, not %(kind)s")
        raise UnitImportError(line, message(reason, kind=repr(row["kind"])))
    if row["kind"].strip() == "respondent" and row["group"].strip() not in groups:
        reason = N_("unknown respondent group %(group)s")
        raise UnitImportError(line, message(reason, group=repr(row["group"])))
