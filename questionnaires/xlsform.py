"""Read and write questionnaires as XLSForm workbooks (.xlsx), the format of ODK, KoboToolbox and
SurveyCTO, with errors that name file, sheet, row and reason.

`loads` reads the ``survey``, ``choices`` and ``settings`` sheets and maps what the questionnaire
format can hold (questionnaires/FORMAT.md, section *XLSForm*); everything else is refused, never
dropped in silence: a repeat group, a calculation or a GPS point would change what the form asks.
The questionnaire it builds then goes through the YAML loader (`dump` and `loads`), so every rule
of a definition file applies to an imported workbook too.

`dump` writes a workbook that pyxform converts and that `loads` reads back to an equal
questionnaire. What plain XLSForm has no column for (a rating's scale and its satisfied points, a
follow-up question, categories, served units, respondent groups) is kept in columns of the
``survey`` namespace (``bind::survey:type``, ``survey:box``, ...), which XLSForm tools carry along
and ignore.

The workbook is read with openpyxl rather than pyxform's reader, which skips blank rows: an
error must name the row the clerk sees in the spreadsheet.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from . import model as _model
from .loader import CODE, MAX_CODE_LENGTH, QUESTIONNAIRE_ID, QuestionnaireError
from .loader import dump as dump_yaml
from .loader import loads as loads_yaml
from .messages import N_, Message, message
from .model import (
    Choice,
    Group,
    Label,
    Question,
    Questionnaire,
    Scale,
    ScalePoint,
    Section,
    ServedUnit,
)
from .types import BUILTIN_SCALES, MAX_TEXT_LENGTH, NPS11, QUESTION_TYPES

#: The namespace of our own columns, declared in the settings sheet as XLSForm asks.
NAMESPACE = "urn:shaoxing-survey:xlsform"
#: The language columns we write; `loads` also reads ``label::zh``, ``label::en`` and ``label``.
LANGUAGE_NAMES = {"zh": "中文 (zh)", "en": "English (en)"}
#: The choice lists that hold the respondent groups and the served units (a code of ours never
#: starts with "_", so they cannot meet a question's or a scale's list).
GROUPS_LIST = "_groups"
SERVED_UNITS_LIST = "_served_units"
#: Types that record how the form was filled in (time, device), not an answer: skipped.
METADATA_TYPES = frozenset(
    [
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
    ]
)
#: A workbook larger than this is not a questionnaire (and reading it would take long).
MAX_ROWS = 5000
#: Columns read from each sheet; an XLSForm has a few dozen at most.
MAX_COLUMNS = 200
#: What the archive's members may inflate to, together. An .xlsx is a zip of XML: an upload is
#: at most 2 MB (MAX_CONTENT_LENGTH) and a questionnaire's workbook unpacks to well under 1 MB,
#: while a crafted one of a few kB can unpack to gigabytes that openpyxl would parse, for minutes
#: and with as much memory. Checked from the archive's directory before anything is inflated
#: (zipfile never inflates a member past the size its directory declares).
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
#: A member larger than MAX_RATIO_FROM bytes may be at most this many times its compressed size:
#: genuine sheet XML compresses 5 to 30 times, a bomb's runs of one byte a thousand times.
MAX_RATIO = 200
MAX_RATIO_FROM = 1024 * 1024
#: The longest text a cell may hold: no label, hint, choice or setting of the format needs more
#: than the longest answer a text question takes (the format sets no length of its own on a
#: label); a longer cell is a mistake or an attack.
MAX_CELL_LENGTH = MAX_TEXT_LENGTH

# Our columns: the kind of question where XLSForm has none (rating, nps, follow_up), and the
# properties of the questionnaire format that XLSForm lacks.
TYPE_COLUMN = "bind::survey:type"
CATEGORY_COLUMN = "bind::survey:category"
SERVED_UNIT_COLUMN = "bind::survey:served_unit"
AUDIENCE_COLUMN = "bind::survey:audience"
BOX_COLUMN = "survey:box"
SCALES_SETTING = "survey:scales"
# A section's code when the group cannot be named after it: XLSForm names are unique across the
# sheet, groups included, while a section may share its code with one of its questions.
CODE_COLUMN = "bind::survey:code"

# Survey columns that change nothing a respondent is asked: messages of our own replace
# constraint_message and required_message; appearance is the look of a field on ODK Collect.
_IGNORED_SURVEY = frozenset({"constraint_message", "required_message", "appearance"})
_TRANSLATED = ("label", "hint", "constraint_message", "required_message", "guidance_hint")
_MARKERS = ("rating", "nps", "follow_up", "grid")
_TRUE = frozenset({"yes", "true", "true()", "1"})
_FALSE = frozenset({"", "no", "false", "false()", "0"})
_INTEGER = re.compile(r"-?[0-9]{1,6}")
_BOUND = r"\s*\.\s*(>=|<=)\s*(-?[0-9]{1,9})\s*"
_RANGE = re.compile(rf"{_BOUND}(?:and{_BOUND})?")
_LENGTH = re.compile(r"\s*string-length\(\s*\.\s*\)\s*<=\s*([0-9]{1,9})\s*")
# The code in a line of the YAML that `dump_yaml` writes: a section's at two spaces, a
# question's (or grid's) at six, a grid row's at ten.
_YAML_CODE = re.compile(r"^( {2}| {6}| {10})- code: '?([^'\s]+)'?$")

_QUESTION_FIELDS = frozenset(f.name for f in dataclasses.fields(Question))
# Grids (a rating question's `grid`), once part of the model.
_GRID = getattr(_model, "Grid", None)
_SECTION_FIELDS = frozenset(f.name for f in dataclasses.fields(Section))


class XLSFormError(QuestionnaireError):
    """A workbook that cannot be imported: `filename`, `sheet` and `row` (1-based, as the
    spreadsheet numbers it; either may be None) and `reason`. Its text is
    ``FILE: sheet 'survey', row 7: REASON``. A QuestionnaireError, so callers of the YAML
    loader handle both alike; `line` is always None."""

    def __init__(self, filename: str, sheet: str | None, row: int | None, reason: Message) -> None:
        super().__init__(filename, None, reason)
        self.sheet = sheet
        self.row = row

    def __str__(self) -> str:
        where = self.filename
        if self.sheet is not None:
            where += f": sheet {self.sheet!r}"
            if self.row is not None:
                where += f", row {self.row}"
        return f"{where}: {self.reason}"


class _Refused(Exception):
    def __init__(self, sheet: str | None, row: int | None, reason: Message) -> None:
        super().__init__(sheet, row, reason)
        self.sheet, self.row, self.reason = sheet, row, reason


# ----------------------------------------------------------------------------- public functions


def is_workbook(data: str | bytes) -> bool:
    """Whether `data` looks like an .xlsx file (a zip archive) rather than YAML text."""
    return isinstance(data, bytes) and data.startswith(b"PK\x03\x04")


def load(path: str | Path) -> Questionnaire:
    """Read the XLSForm workbook at `path`; raises XLSFormError for anything it cannot map."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        reason = message(N_("cannot read the file: %(error)s"), error=err.strerror)
        raise XLSFormError(str(path), None, None, reason) from None
    return loads(data, filename=str(path))


def loads(data: bytes, filename: str = "<workbook>") -> Questionnaire:
    """The questionnaire of an XLSForm workbook's bytes; `filename` is for messages (and gives
    the id when the settings sheet names none, as in pyxform).

    Raises XLSFormError, and nothing else, for any data that is not a workbook we can map.
    """
    try:
        sheets = _read_workbook(data)
        questionnaire, rows = _Reader(sheets, filename).questionnaire()
    except _Refused as err:
        raise XLSFormError(filename, err.sheet, err.row, err.reason) from None
    # The rules of a definition file apply to a workbook too; a refusal points at the row of
    # the question or group it is about.
    try:
        text = dump_yaml(questionnaire)
    except ValueError as err:  # a combination the format cannot write; the checks above should
        reason = message(N_("the form cannot be written as a questionnaire: %(error)s"), error=err)
        raise XLSFormError(filename, None, None, reason) from None
    try:
        return loads_yaml(text, filename=filename)
    except QuestionnaireError as err:
        sheet, row = _row_of(text, err.line, rows)
        raise XLSFormError(filename, sheet, row, err.message) from None


def dump(questionnaire: Questionnaire) -> bytes:
    """The questionnaire as an .xlsx XLSForm that pyxform converts and `loads` reads back to an
    equal questionnaire."""
    import openpyxl
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in _Writer(questionnaire).sheets().items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            try:
                sheet.append(row)
            except IllegalCharacterError:
                raise ValueError(f"sheet {name!r}: a text holds a control character") from None
            for cell in sheet[sheet.max_row]:
                # openpyxl would write a text starting with "=" as a formula.
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ------------------------------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class _Row:
    sheet: str
    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclasses.dataclass
class _Sheet:
    name: str
    columns: list[str]
    rows: list[_Row]


def _check_archive(data: bytes) -> None:
    """Refuse an archive that would inflate far beyond any questionnaire (see
    MAX_UNPACKED_BYTES) before openpyxl reads it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        reason = message(N_("not an .xlsx workbook (%(error)s)"), error=str(err)[:80])
        raise _Refused(None, None, reason) from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        template = N_(
            "the workbook unpacks to %(size)s MB, more than the %(most)s MB a questionnaire"
            " can need: it is not a questionnaire, or holds something else"
        )
        reason = message(template, size=total // 2**20, most=MAX_UNPACKED_BYTES // 2**20)
        raise _Refused(None, None, reason)
    for member in members:
        if member.file_size > MAX_RATIO_FROM and (
            member.file_size > MAX_RATIO * max(member.compress_size, 1)
        ):
            template = N_(
                "part %(part)s of the workbook unpacks to %(ratio)s times its size, as no"
                " spreadsheet does: it is refused unread"
            )
            ratio = member.file_size // max(member.compress_size, 1)
            reason = message(template, part=repr(member.filename[:80]), ratio=ratio)
            raise _Refused(None, None, reason)


def _read_workbook(data: bytes) -> dict[str, _Sheet]:
    import openpyxl

    _check_archive(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as err:
        reason = message(N_("not an .xlsx workbook (%(error)s)"), error=str(err)[:80])
        raise _Refused(None, None, reason) from None
    except Exception as err:  # openpyxl and defusedxml raise their own kinds on damaged files
        reason = message(N_("not an .xlsx workbook (%(error)s)"), error=type(err).__name__)
        raise _Refused(None, None, reason) from None
    try:
        return {
            ws.title.strip().lower(): _sheet(
                ws.title.strip().lower(),
                ws.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True),
            )
            for ws in workbook.worksheets
            if ws.title.strip().lower() in ("survey", "choices", "settings")
        }
    except _Refused:
        raise
    except Exception as err:  # a damaged sheet inside a readable archive
        reason = message(N_("not an .xlsx workbook (%(error)s)"), error=type(err).__name__)
        raise _Refused(None, None, reason) from None
    finally:
        workbook.close()


def _sheet(name: str, rows: Iterable[tuple]) -> _Sheet:
    columns: list[str] = []
    read: list[_Row] = []
    for number, values in enumerate(rows, start=1):
        if number > MAX_ROWS:
            reason = message(N_("the sheet has more than %(n)s rows"), n=MAX_ROWS)
            raise _Refused(name, number, reason)
        texts = [_cell(v) for v in values]
        longest = max((len(t) for t in texts), default=0)
        if longest > MAX_CELL_LENGTH:
            template = N_("a cell holds %(n)s characters; at most %(most)s are allowed")
            raise _Refused(name, number, message(template, n=longest, most=MAX_CELL_LENGTH))
        if number == 1:
            columns = [_header(t) for t in texts]
            continue
        cells = {c: t for c, t in zip(columns, texts) if c and t}
        if cells:
            read.append(_Row(name, number, cells))
    return _Sheet(name, [c for c in columns if c], read)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(text: str) -> str:
    """A column name as we compare it: the part before ``::`` in lower case (XLSForm's own
    names are), the language after it as written. Older forms (pyxform's own test forms among
    them) write one colon: ``label:English`` is read as ``label::English``."""
    base, sep, rest = text.partition("::")
    if not sep and ":" in text and text.split(":")[0].strip().lower() in _TRANSLATED:
        base, sep, rest = text.partition(":")
    return f"{base.strip().lower()}::{rest.strip()}" if sep else base.strip().lower()


_TYPE_ALIASES = {"int": "integer", "string": "text", "select1": "select_one"}


def _supported_types() -> tuple[str, ...]:
    """The XLSForm question types we map; integer and note once the registry has them."""
    kinds = ("select_one", "select_multiple", "text", "integer", "note")
    return tuple(k for k in kinds if k not in ("integer", "note") or k in QUESTION_TYPES)


def _split_type(text: str) -> tuple[str, list[str]]:
    """A type cell as its kind and the rest: ``select one  yes_no`` -> ("select_one", ["yes_no"]).
    XLSForm writes the kind with ``_`` or a space (older forms ``select one from LIST`` and
    ``... or specify other``); list names keep their case."""
    words = text.split()
    if len(words) >= 2 and words[0].lower() in ("select", "begin", "end"):
        rest = words[2:]
        if rest[:1] == ["from"]:
            rest = rest[1:]
        if [w.lower() for w in rest[-3:]] == ["or", "specify", "other"]:
            rest = [*rest[:-3], "or_other"]
        return f"{words[0]}_{words[1]}".lower(), rest
    kind = words[0].lower() if words else ""
    return _TYPE_ALIASES.get(kind, kind), words[1:]


def _language(suffix: str) -> str | None:
    """ "zh" or "en" for a column's language (``中文 (zh)``, ``zh``, ``English (en)``, ``en-GB``),
    None for any other."""
    found = re.search(r"\(([^()]*)\)\s*$", suffix)
    tag = (found.group(1) if found else suffix).strip().lower().replace("_", "-")
    for lang in ("zh", "en"):
        if tag == lang or tag.startswith(lang + "-"):
            return lang
    return {"chinese": "zh", "中文": "zh", "english": "en"}.get(tag)


class _Reader:
    def __init__(self, sheets: dict[str, _Sheet], filename: str) -> None:
        if "survey" not in sheets:
            raise _Refused(None, None, message(N_("the workbook has no sheet named 'survey'")))
        self.survey = sheets["survey"]
        self.choices = sheets.get("choices", _Sheet("choices", [], []))
        self.settings = sheets.get("settings", _Sheet("settings", [], []))
        self.filename = filename
        self.lists: dict[str, list[_Row]] = {}
        self.rows: dict[tuple[str, str], int] = {}  # ("section"|"question", code) -> row
        self.used_scales: list[str] = []

    # -- the whole form

    def questionnaire(self) -> tuple[Questionnaire, dict[tuple[str, str], int]]:
        self._check_columns(self.survey, survey=True)
        self._check_columns(self.choices, survey=False)
        self._read_lists()
        setting = self.settings.rows[0] if self.settings.rows else _Row("settings", 2, {})
        title = self._title(setting)
        sections = self._sections(title)
        questionnaire = Questionnaire(
            id=self._id(setting),
            title=title,
            sections=tuple(sections),
            groups=tuple(Group(c.code, c.label) for c in self._coded(GROUPS_LIST)),
            served_units=tuple(ServedUnit(c.code, c.label) for c in self._coded(SERVED_UNITS_LIST)),
            scales=self._declared_scales(setting),
            description=self._setting_label(setting, "survey:description"),
        )
        return questionnaire, self.rows

    def _check_columns(self, sheet: _Sheet, survey: bool) -> None:
        """Refuse a column that would change the form and that we cannot map, at the first
        row that uses it; empty columns and tools' bookkeeping (``$kuid``) do not matter."""
        for column in sheet.columns:
            base, _, suffix = column.partition("::")
            if base.startswith("$") or column.startswith("bind::survey:"):
                continue
            reason = None
            if base in _TRANSLATED or (not survey and base == "label"):
                if suffix and _language(suffix) is None:
                    template = N_(
                        "column %(column)s: language %(language)s is not supported; "
                        "only Chinese (zh) and English (en) are"
                    )
                    reason = message(template, column=repr(column), language=repr(suffix))
            elif base.startswith("media") or base in ("image", "audio", "video"):
                template = N_("column %(column)s cannot be mapped: the format has no media")
                reason = message(template, column=repr(column))
            elif survey and base not in (
                {"type", "name", "required", "relevant", "constraint"} | _IGNORED_SURVEY
            ):
                template = N_("column %(column)s cannot be mapped to the questionnaire format")
                reason = message(template, column=repr(column))
            if reason is not None:
                for row in sheet.rows:
                    if row.get(column):
                        raise _Refused(sheet.name, row.number, reason)

    def _id(self, setting: _Row) -> str:
        form_id = setting.get("form_id") or Path(self.filename).stem.lower()
        if not QUESTIONNAIRE_ID.fullmatch(form_id) or len(form_id) > 80:
            template = N_(
                "form_id %(id)s must be lower-case letters, digits, _ and -, starting with a "
                "letter, at most 80 characters"
            )
            raise _Refused("settings", setting.number, message(template, id=repr(form_id)))
        return form_id

    def _title(self, setting: _Row) -> Label:
        title = self._setting_label(setting, "survey:title")
        if title is not None:
            return title
        text = setting.get("form_title") or setting.get("form_id") or Path(self.filename).stem
        return Label(text, text)

    def _setting_label(self, setting: _Row, base: str) -> Label | None:
        texts = {"zh": "", "en": ""}
        for column, value in setting.cells.items():
            name, _, suffix = column.partition("::")
            if name == base and _language(suffix):
                texts[_language(suffix)] = value
        return Label(texts["zh"], texts["en"]) if texts["zh"] or texts["en"] else None

    def _declared_scales(self, setting: _Row) -> tuple[Scale, ...]:
        if SCALES_SETTING in setting.cells:
            codes = setting.get(SCALES_SETTING).split()
            for code in codes:
                if code not in self.lists:
                    template = N_("%(setting)s names list %(list)s, which is not in 'choices'")
                    reason = message(template, setting=SCALES_SETTING, list=repr(code))
                    raise _Refused("settings", setting.number, reason)
        else:
            codes = []
        # A scale a rating uses is declared even if the setting forgot it.
        codes += [c for c in self.used_scales if c not in BUILTIN_SCALES and c not in codes]
        return tuple(self._scale(code, setting) for code in codes)

    # -- sections and questions

    def _sections(self, title: Label) -> list[Section]:
        sections: list[Section] = []
        group: _Row | None = None  # the open begin_group row
        grid: tuple[_Row, object] | None = None  # the open grid's row and its Grid
        questions: list[Question] = []

        def close(row: _Row | None) -> None:
            if not questions:
                if row is not None:
                    reason = message(
                        N_("group %(name)s has no questions"), name=repr(row.get("name"))
                    )
                    raise _Refused("survey", row.number, reason)
                return
            if row is None:
                code = f"section_{len(sections) + 1}"
                sections.append(Section(code, title, tuple(questions)))
            else:
                sections.append(self._section(row, tuple(questions)))
            questions.clear()

        for row in self.survey.rows:
            if not row.get("type"):
                raise _Refused("survey", row.number, message(N_("the row has no type")))
            kind, rest = _split_type(row.get("type"))
            if kind in METADATA_TYPES:
                continue
            if kind == "begin_group" and row.get(TYPE_COLUMN) == "grid":
                if grid is not None:
                    self._nested(row, grid[0])
                grid = (row, self._grid(row))
                first_row = len(questions)
            elif kind == "end_group" and grid is not None:
                if len(questions) == first_row:
                    reason = message(
                        N_("group %(name)s has no questions"), name=repr(grid[0].get("name"))
                    )
                    raise _Refused("survey", grid[0].number, reason)
                grid = None
            elif kind == "begin_group":
                if group is not None:
                    self._nested(row, group)
                close(None)
                group = row
            elif kind == "end_group":
                if group is None:
                    reason = message(N_("end_group without a begin_group"))
                    raise _Refused("survey", row.number, reason)
                close(group)
                group = None
            elif row.get(TYPE_COLUMN) == "follow_up":
                self._follow_up(row, questions)
            elif grid is not None:
                first = questions[first_row] if len(questions) > first_row else None
                questions.append(self._grid_row(row, kind, rest, grid, first))
            else:
                questions.append(self._question(row, kind, rest))
        if grid is not None:
            group = grid[0]
        if group is not None:
            reason = message(
                N_("group %(name)s is not closed by an end_group"), name=repr(group.get("name"))
            )
            raise _Refused("survey", group.number, reason)
        close(None)
        if not sections:
            raise _Refused("survey", None, message(N_("the form asks no questions")))
        return sections

    def _nested(self, row: _Row, outer: _Row) -> None:
        template = N_(
            "group %(name)s is inside group %(outer)s: groups within groups "
            "cannot be mapped (a section holds questions only)"
        )
        reason = message(template, name=repr(row.get("name")), outer=repr(outer.get("name")))
        raise _Refused("survey", row.number, reason)

    def _grid(self, row: _Row) -> object:
        """The Grid of a ``begin_group`` row marked ``grid``: its rows are the ratings inside."""
        if _GRID is None:  # until grids are part of the format
            self._cannot(row, TYPE_COLUMN)
        code = self._code(row)
        self.rows[("question", code)] = row.number
        text = self._label(row, "label")
        if text is None:
            raise _Refused("survey", row.number, message(N_("the question has no label")))
        for column in ("constraint", "required"):
            if row.get(column):
                self._cannot(row, column)
        return _GRID(code=code, text=text, help=self._label(row, "hint"))

    def _grid_row(
        self,
        row: _Row,
        kind: str,
        rest: list[str],
        grid: tuple[_Row, object],
        first: Question | None,
    ) -> Question:
        """A row of a grid: a rating whose scale, required, audience and condition are the
        grid's, so equal to its first row's; the grid group's `relevant` is its rows'."""
        code = grid[1].code
        if row.get(TYPE_COLUMN) != "rating":
            template = N_("a row of grid %(grid)s must be a select_one marked rating")
            raise _Refused("survey", row.number, message(template, grid=repr(code)))
        if self._label(row, "hint") is not None:
            template = N_("a row of grid %(grid)s takes no hint: the grid's group has it")
            raise _Refused("survey", row.number, message(template, grid=repr(code)))
        question = self._question(row, kind, rest)
        shared = {"grid": grid[1]}
        if grid[0].get("relevant"):
            if row.get("relevant") and row.get("relevant") != grid[0].get("relevant"):
                self._cannot(row, "relevant")
            shared["show_if"] = grid[0].get("relevant")
        question = dataclasses.replace(question, **shared)
        for key in ("scale", "required", "audience", "show_if"):
            if first is not None and getattr(question, key, None) != getattr(first, key, None):
                template = N_("the rows of grid %(grid)s must share %(key)s; this row differs")
                reason = message(template, grid=repr(code), key=key)
                raise _Refused("survey", row.number, reason)
        return question

    def _section(self, row: _Row, questions: tuple[Question, ...]) -> Section:
        code = self._code(row, CODE_COLUMN if row.get(CODE_COLUMN) else "name")
        self.rows[("section", code)] = row.number
        fields: dict = {
            "code": code,
            "title": self._label(row, "label") or Label(code, code),
            "questions": questions,
            "description": self._label(row, "hint"),
        }
        self._conditions(row, fields, _SECTION_FIELDS)
        for column in (TYPE_COLUMN, "constraint"):
            if row.get(column):
                self._cannot(row, column)
        if self._required(row):
            self._cannot(row, "required")
        return Section(**fields)

    def _question(self, row: _Row, kind: str, rest: list[str]) -> Question:
        if kind not in _supported_types() or (
            rest and kind not in ("select_one", "select_multiple")
        ):
            self._unsupported(row, kind, rest)
        code = self._code(row)
        self.rows[("question", code)] = row.number
        text = self._label(row, "label")
        if text is None:
            raise _Refused("survey", row.number, message(N_("the question has no label")))
        marker = row.get(TYPE_COLUMN)
        if marker and marker not in _MARKERS:
            template = N_("%(column)s %(value)s is not one of %(values)s")
            reason = message(
                template, column=TYPE_COLUMN, value=repr(marker), values=", ".join(_MARKERS)
            )
            raise _Refused("survey", row.number, reason)
        fields: dict = {
            "code": code,
            "text": text,
            "required": self._required(row),
            "help": self._label(row, "hint"),
            "category": row.get(CATEGORY_COLUMN) or None,
            "served_unit": row.get(SERVED_UNIT_COLUMN) or None,
            "audience": tuple(row.get(AUDIENCE_COLUMN).split()),
            "line": row.number,
        }
        self._conditions(row, fields, _QUESTION_FIELDS)
        listname = rest[0] if len(rest) == 1 else ""
        if len(rest) > 1:
            self._unsupported(row, kind, rest)
        if marker in ("rating", "nps"):
            if kind != "select_one":
                template = N_("%(column)s %(value)s needs a select_one question")
                raise _Refused(
                    "survey", row.number, message(template, column=TYPE_COLUMN, value=repr(marker))
                )
            fields["type"] = marker
            fields["scale"] = self._scale(self._list_name(row, listname), row)
            if marker == "nps" and fields["scale"] != NPS11:
                template = N_("an nps question uses list %(list)s, with the points 0 to 10")
                raise _Refused("survey", row.number, message(template, list=repr(NPS11.code)))
            self._no_constraint(row)
        elif kind in ("select_one", "select_multiple") and listname:
            fields["type"] = "choice" if kind == "select_one" else "multi"
            fields["choices"] = self._coded(self._list_name(row, listname))
            self._no_constraint(row)
        elif kind == "text":
            fields["type"] = "text"
            self._text_limit(row, fields)
        elif kind == "integer" and "integer" in QUESTION_TYPES:
            fields["type"] = "integer"
            self._integer_limits(row, fields)
        elif kind == "note" and "note" in QUESTION_TYPES:
            fields["type"] = "note"
            self._no_constraint(row)
            if fields["required"]:
                reason = message(N_("a note cannot be required: it takes no answer"))
                raise _Refused("survey", row.number, reason)
        else:
            self._unsupported(row, kind, rest)
        return Question(**fields)

    def _unsupported(self, row: _Row, kind: str, rest: list[str]) -> None:
        if kind in ("begin_repeat", "end_repeat"):
            reason = message(
                N_("repeat groups cannot be mapped: a questionnaire asks each question once")
            )
        elif rest[-1:] == ["or_other"]:
            template = N_(
                "%(type)s cannot be mapped: add an 'other' choice and a text question instead"
            )
            reason = message(template, type=repr(row.get("type")))
        elif kind in ("select_one", "select_multiple"):
            template = N_("%(type)s needs the name of one list of the sheet 'choices'")
            reason = message(template, type=repr(row.get("type")))
        else:
            names = [*_supported_types(), "begin_group", "end_group"]
            template = N_("type %(type)s cannot be mapped (supported: %(types)s)")
            shown = " ".join(row.get("type").split())
            reason = message(template, type=repr(shown[:50]), types=", ".join(names))
        raise _Refused("survey", row.number, reason)

    def _follow_up(self, row: _Row, questions: list[Question]) -> None:
        """A ``follow_up`` text row belongs to the rating just before it."""
        if _split_type(row.get("type")) != ("text", []):
            template = N_("%(column)s follow_up needs a text question")
            raise _Refused("survey", row.number, message(template, column=TYPE_COLUMN))
        if not questions or questions[-1].type != "rating" or questions[-1].follow_up:
            template = N_("a follow_up row must come right after the rating question it follows")
            raise _Refused("survey", row.number, message(template))
        label = self._label(row, "label")
        if label is None:
            raise _Refused("survey", row.number, message(N_("the question has no label")))
        questions[-1] = dataclasses.replace(questions[-1], follow_up=label)

    # -- cells

    def _code(self, row: _Row, column: str = "name") -> str:
        code = row.get(column)
        if not code:
            reason = message(N_("the row has no %(column)s"), column=column)
            raise _Refused(row.sheet, row.number, reason)
        if not CODE.fullmatch(code) or len(code) > MAX_CODE_LENGTH:
            template = N_(
                "%(column)s %(code)s is not a code: lower-case letters, digits and _, "
                "starting with a letter, at most %(n)s characters"
            )
            reason = message(template, column=column, code=repr(code[:50]), n=MAX_CODE_LENGTH)
            raise _Refused(row.sheet, row.number, reason)
        return code

    def _label(self, row: _Row, base: str) -> Label | None:
        texts = {"zh": "", "en": ""}
        plain = ""
        for column, value in row.cells.items():
            name, sep, suffix = column.partition("::")
            if name != base:
                continue
            if not sep:
                plain = value
            elif _language(suffix):
                texts[_language(suffix)] = value
        # A plain column is the form's default language: it stands in for a missing one.
        zh, en = texts["zh"] or plain, texts["en"] or plain
        return Label(zh, en) if zh or en else None

    def _required(self, row: _Row) -> bool:
        value = row.get("required").lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        template = N_("required %(value)s cannot be mapped: only yes or no")
        raise _Refused("survey", row.number, message(template, value=repr(value[:50])))

    def _conditions(self, row: _Row, fields: dict, known: frozenset[str]) -> None:
        if row.get("relevant"):
            if "show_if" not in known:  # until conditions are part of the format
                self._cannot(row, "relevant")
            fields["show_if"] = row.get("relevant")

    def _cannot(self, row: _Row, column: str) -> None:
        template = N_("column %(column)s cannot be mapped on a %(type)s row")
        reason = message(template, column=repr(column), type=repr(row.get("type")))
        raise _Refused("survey", row.number, reason)

    def _no_constraint(self, row: _Row) -> None:
        if row.get("constraint"):
            self._cannot(row, "constraint")

    def _text_limit(self, row: _Row, fields: dict) -> None:
        constraint = row.get("constraint")
        if not constraint:
            return
        found = _LENGTH.fullmatch(constraint)
        if not found or "max_length" not in _QUESTION_FIELDS:
            template = N_("constraint %(constraint)s cannot be mapped (a text takes only %(form)s)")
            form = "string-length(.) <= n"
            raise _Refused(
                "survey", row.number, message(template, constraint=repr(constraint[:80]), form=form)
            )
        fields["max_length"] = int(found.group(1))

    def _integer_limits(self, row: _Row, fields: dict) -> None:
        constraint = row.get("constraint")
        if not constraint:
            return
        found = _RANGE.fullmatch(constraint)
        bounds: dict[str, int] = {}
        if found:
            for operator, number in (
                (found.group(1), found.group(2)),
                (found.group(3), found.group(4)),
            ):
                if operator is None:
                    continue
                key = "min_value" if operator == ">=" else "max_value"
                if key in bounds:
                    found = None
                bounds[key] = int(number)
        if not found:
            template = N_(
                "constraint %(constraint)s cannot be mapped (an integer takes only %(form)s)"
            )
            form = ". >= a and . <= b"
            raise _Refused(
                "survey", row.number, message(template, constraint=repr(constraint[:80]), form=form)
            )
        fields.update(bounds)

    # -- choice lists

    def _read_lists(self) -> None:
        for row in self.choices.rows:
            name = row.get("list_name") or row.get("list name")
            if not name:
                raise _Refused("choices", row.number, message(N_("the row has no list_name")))
            self.lists.setdefault(name, []).append(row)

    def _list_name(self, row: _Row, name: str) -> str:
        if name not in self.lists:
            template = N_("list %(list)s is not in the sheet 'choices'")
            raise _Refused("survey", row.number, message(template, list=repr(name)))
        return name

    def _coded(self, name: str) -> tuple[Choice, ...]:
        choices: dict[str, int] = {}
        result = []
        for row in self.lists.get(name, []):
            code = self._code(row)
            if code in choices:
                template = N_("choice %(code)s is twice in list %(list)s (first on row %(row)s)")
                reason = message(template, code=repr(code), list=repr(name), row=choices[code])
                raise _Refused("choices", row.number, reason)
            choices[code] = row.number
            label = self._label(row, "label")
            if label is None:
                raise _Refused("choices", row.number, message(N_("the choice has no label")))
            result.append(Choice(code, label))
        return tuple(result)

    def _scale(self, name: str, where: _Row) -> Scale:
        """The scale a choice list holds: its names are the points' values (whole numbers)."""
        if name not in self.lists:
            template = N_("list %(list)s is not in the sheet 'choices'")
            raise _Refused(where.sheet, where.number, message(template, list=repr(name)))
        points, satisfied, dissatisfied = [], [], []
        for row in self.lists[name]:
            value = row.get("name")
            if not _INTEGER.fullmatch(value):
                template = N_("the points of scale %(list)s must be whole numbers, not %(value)s")
                reason = message(template, list=repr(name), value=repr(value[:20]))
                raise _Refused("choices", row.number, reason)
            label = self._label(row, "label")
            if label is None:
                raise _Refused("choices", row.number, message(N_("the choice has no label")))
            points.append(ScalePoint(int(value), label))
            box = row.get(BOX_COLUMN)
            if box not in ("", "satisfied", "dissatisfied"):
                template = N_("%(column)s must be satisfied or dissatisfied, not %(value)s")
                reason = message(template, column=BOX_COLUMN, value=repr(box[:20]))
                raise _Refused("choices", row.number, reason)
            (satisfied if box == "satisfied" else dissatisfied if box else []).append(int(value))
        if name not in self.used_scales:
            self.used_scales.append(name)
        builtin = BUILTIN_SCALES.get(name)
        if builtin is not None:
            if tuple(p.value for p in points) != builtin.values or satisfied or dissatisfied:
                template = N_(
                    "list %(list)s is the name of a built-in scale but holds other points; "
                    "rename the list"
                )
                raise _Refused(
                    "choices", self.lists[name][0].number, message(template, list=repr(name))
                )
            return builtin
        if not CODE.fullmatch(name) or len(name) > MAX_CODE_LENGTH:
            template = N_(
                "the name of scale list %(list)s is not a code (lower-case letters, digits and _)"
            )
            raise _Refused(
                "choices", self.lists[name][0].number, message(template, list=repr(name))
            )
        return Scale(name, tuple(points), tuple(satisfied), tuple(dissatisfied))


def _row_of(
    text: str, line: int | None, rows: dict[tuple[str, str], int]
) -> tuple[str | None, int | None]:
    """The sheet and row of the question or group that line `line` of the YAML dump is about."""
    if line is None:
        return None, None
    for source in reversed(text.splitlines()[:line]):
        found = _YAML_CODE.match(source)
        if found:
            kind = "section" if len(found.group(1)) == 2 else "question"
            row = rows.get((kind, found.group(2)))
            if row is not None:
                return "survey", row
            break
    return None, None


# ------------------------------------------------------------------------------------- writing

_SURVEY_COLUMNS = [
    "type",
    "name",
    *(f"label::{LANGUAGE_NAMES[lang]}" for lang in ("zh", "en")),
    *(f"hint::{LANGUAGE_NAMES[lang]}" for lang in ("zh", "en")),
    "required",
    "relevant",
    "constraint",
    "appearance",
    TYPE_COLUMN,
    CODE_COLUMN,
    CATEGORY_COLUMN,
    SERVED_UNIT_COLUMN,
    AUDIENCE_COLUMN,
]
_CHOICE_COLUMNS = [
    "list_name",
    "name",
    *(f"label::{LANGUAGE_NAMES[lang]}" for lang in ("zh", "en")),
    BOX_COLUMN,
]


class _Writer:
    def __init__(self, questionnaire: Questionnaire) -> None:
        self.q = questionnaire
        self.survey: list[list] = [list(_SURVEY_COLUMNS)]
        self.choices: list[list] = [list(_CHOICE_COLUMNS)]
        self.written: set[str] = set()
        self.names = {q.code for q in questionnaire.questions()}
        self.names |= {q.grid.code for q in questionnaire.questions() if _grid_of(q)}

    def sheets(self) -> dict[str, list[list]]:
        q = self.q
        for scale in q.scales:
            self._scale(scale)
        for section in q.sections:
            self._section(section)
        self._list(GROUPS_LIST, q.groups)
        self._list(SERVED_UNITS_LIST, q.served_units)
        return {"survey": self.survey, "choices": self.choices, "settings": self._settings()}

    def _settings(self) -> list[list]:
        q = self.q
        settings = {
            "form_id": q.id,
            "form_title": q.title.get("zh"),
            "default_language": LANGUAGE_NAMES["zh"],
            "namespaces": f'survey="{NAMESPACE}"',
            **_label_cells("survey:title", q.title),
            **_label_cells("survey:description", q.description),
            SCALES_SETTING: " ".join(s.code for s in q.scales),
        }
        return [list(settings), list(settings.values())]

    def _row(self, cells: dict[str, object]) -> None:
        self.survey.append([_blank(cells.get(c)) for c in _SURVEY_COLUMNS])

    def _section(self, section: Section) -> None:
        name = section.code
        while name in self.names:
            name += "_section"
        self.names.add(name)
        self._row(
            {
                "type": "begin_group",
                "name": name,
                CODE_COLUMN: section.code if name != section.code else None,
                **_label_cells("label", section.title),
                **_label_cells("hint", section.description),
                "relevant": getattr(section, "show_if", None),
            }
        )
        grid = None
        for question in section.questions:
            if _grid_of(question) != grid:
                if grid is not None:
                    self._row({"type": "end_group", "name": grid.code})
                grid = _grid_of(question)
                if grid is not None:
                    self._row(
                        {
                            "type": "begin_group",
                            "name": grid.code,
                            **_label_cells("label", grid.text),
                            **_label_cells("hint", grid.help),
                            # One screen for the rows on ODK Collect; ignored when read back.
                            "appearance": "field-list",
                            # The rows' shared condition, said once as XLSForm would.
                            "relevant": getattr(question, "show_if", None),
                            TYPE_COLUMN: "grid",
                        }
                    )
            self._question(question)
        if grid is not None:
            self._row({"type": "end_group", "name": grid.code})
        self._row({"type": "end_group", "name": name})

    def _question(self, q: Question) -> None:
        qtype = QUESTION_TYPES[q.type]
        cells: dict[str, object] = {
            "name": q.code,
            **_label_cells("label", q.text),
            **_label_cells("hint", q.help),
            "required": "yes" if q.required else "",
            "relevant": None if _grid_of(q) else getattr(q, "show_if", None),
            CATEGORY_COLUMN: q.category,
            SERVED_UNIT_COLUMN: q.served_unit,
            AUDIENCE_COLUMN: " ".join(q.audience),
        }
        if q.type in ("rating", "nps"):
            scale = qtype.scale_of(q)
            self._scale(scale)
            cells.update({"type": f"select_one {scale.code}", TYPE_COLUMN: q.type})
        elif q.type in ("choice", "multi"):
            head = "select_multiple" if q.type == "multi" else "select_one"
            cells["type"] = f"{head} {self._choice_list(q)}"
        elif q.type == "integer":
            cells.update({"type": "integer", "constraint": _range(q)})
        elif q.type == "text":
            length = getattr(q, "max_length", None)
            limit = f"string-length(.) <= {length}" if length else None
            cells.update({"type": "text", "constraint": limit})
        elif q.type == "note":
            cells.update({"type": "note", "required": ""})
        else:  # a type this module does not know yet: refuse rather than write a wrong form
            raise ValueError(f"question {q.code!r}: type {q.type!r} has no XLSForm mapping")
        self._row(cells)
        if q.follow_up is not None:
            scale = qtype.scale_of(q)
            self._row(
                {
                    "type": "text",
                    # Our codes never start with "_", so the name cannot meet a question's.
                    "name": f"_{q.code}_follow_up",
                    **_label_cells("label", q.follow_up),
                    "relevant": f"${{{q.code}}} <= {scale.dissatisfied_to}",
                    TYPE_COLUMN: "follow_up",
                }
            )

    def _choice_list(self, q: Question) -> str:
        name = q.code
        taken = {s.code for s in self.q.scales} | set(BUILTIN_SCALES)
        while name in taken or name in self.written:
            name += "_choices"
        self._list(name, q.choices)
        return name

    def _list(self, name: str, items: Iterable[Choice | Group | ServedUnit]) -> None:
        for item in items:
            self.choices.append([name, item.code, item.label.zh, item.label.en, ""])
        self.written.add(name)

    def _scale(self, scale: Scale) -> None:
        if scale.code in self.written:
            return
        for point in scale.points:
            if point.value in scale.satisfied:
                box = "satisfied"
            elif point.value in scale.dissatisfied:
                box = "dissatisfied"
            else:
                box = ""
            self.choices.append([scale.code, point.value, point.label.zh, point.label.en, box])
        self.written.add(scale.code)


def _grid_of(q: Question) -> object:
    return getattr(q, "grid", None)


def _label_cells(base: str, label: Label | None) -> dict[str, str]:
    """The cells of `label` in the columns ``BASE::中文 (zh)`` and ``BASE::English (en)``."""
    if label is None:
        return {}
    return {f"{base}::{LANGUAGE_NAMES[lang]}": getattr(label, lang) for lang in ("zh", "en")}


def _blank(value: object) -> object:
    return "" if value is None else value


def _range(q: Question) -> str | None:
    low, high = getattr(q, "min_value", None), getattr(q, "max_value", None)
    parts = [f". >= {low}" if low is not None else "", f". <= {high}" if high is not None else ""]
    return " and ".join(p for p in parts if p) or None
