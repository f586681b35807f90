"""Read and write questionnaire definition files (YAML), with errors that name file, line, reason.

A definition file holds one questionnaire::

    id: office-services               # [a-z][a-z0-9_-]*, at most 80 characters
    title: {zh: 市政府办公室服务满意度调查, en: Municipal Government Office client-satisfaction survey}
    description: {zh: ..., en: ...}   # optional
    groups:                           # respondent groups the questionnaire addresses (optional)
      - code: mayors
        label: {zh: 市长、副市长, en: Mayors and vice-mayors}
    served_units:                     # divisions whose service is rated (optional)
      - code: documents
        label: {zh: 文书处理, en: Document processing}
    scales:                           # optional; rating questions default to satisfaction5
      - code: agree5
        points:                       # 2 to 11 points, values -100..100, higher is better
          - {value: 1, label: {zh: 很不同意, en: Strongly disagree}}
          - ...
        satisfied: [5]                # optional: default the top two points (one of 3 or fewer)
        dissatisfied: [1, 2]          # optional: default the bottom two points (likewise)
    sections:                         # at least one
      - code: documents
        title: {zh: 公文处理, en: Document processing}
        description: {zh: ..., en: ...}            # optional
        show_if: "${doc_timeliness} <= 2"          # optional: only earlier sections' questions
        questions:                                 # at least one
          - code: doc_timeliness                   # unique in the whole file
            type: rating                           # rating | choice | multi | text | nps | integer | note | grid
            text: {zh: 公文办理的及时性, en: Timeliness of document handling}
            category: services.documents           # optional, dotted lower-case
            served_unit: documents                 # optional, declared in served_units
            required: true                         # optional: default true, false for text
            audience: [mayors]                     # optional: default every group
            scale: agree5                          # optional, rating only
            follow_up: {zh: 请告诉我们原因, en: Please tell us why}  # optional, rating only
            help: {zh: ..., en: ...}               # optional
            show_if: "${used_meetings} = 'yes'"    # optional: see questionnaires.conditions
          - code: staff_count
            type: integer                          # a whole number
            text: {zh: 贵单位有多少工作人员？, en: How many staff does your unit have?}
            min_value: 0                           # optional, integer only
            max_value: 5000                        # optional, integer only
          - code: intro
            type: note                             # text only: no answer, never required
            text: {zh: 以下问题关于会议服务。, en: The next questions are about meetings.}
          - code: contact_channel
            type: choice                           # choice and multi need choices
            text: {zh: 您主要通过何种方式联系我办？, en: How do you mostly contact the office?}
            choices:
              - {code: phone, label: {zh: 电话, en: Phone}}

Rules:

- Codes (groups, served units, scales, sections, questions, choices) match ``[a-z][a-z0-9_]*``
  and have at most 40 characters. Question codes are unique in the file; section, group,
  served-unit, scale and choice codes are unique among their kind.
- A label (title, text, follow_up, ...) is ``{zh: ..., en: ...}`` with at least one of the two,
  or a plain string used for both languages. Text is stripped of surrounding white space.
- A rating question without ``scale`` uses the built-in ``satisfaction5`` scale (1 很不满意 /
  Very dissatisfied .. 5 很满意 / Very satisfied); an nps question always uses ``nps11`` (0..10).
  Declared scales need 2 to 11 points with distinct whole-number values from -100 to 100 and a
  label each (the analysis counts every whole number between a round's lowest and highest
  value); the built-in codes are reserved.
- A rating is *satisfied* when it is one of the top two points of its scale and *dissatisfied*
  when one of the bottom two, whatever their values (7 or 9 of 1, 3, 5, 7, 9); the top and the
  bottom point only on a scale of 3 points or fewer. A scale may list its ``satisfied`` and
  ``dissatisfied`` values instead: at least one each, the highest (lowest) points without a gap,
  since the analysis counts from a value up (down), and never the same point in both.
- ``follow_up`` is asked when a rating is one of its scale's dissatisfied points.
- ``min_value`` and ``max_value`` (integer only) are whole numbers within ±1,000,000,000, the
  first not above the second; ``max_length`` (text only) is 1..4000 characters (default 4000).
  A ``note`` shows its text only: it cannot be ``required``.
- An optional key left empty (``help:`` with nothing after it) counts as absent.
- Unknown keys are refused (typo protection), and so are YAML anchors and aliases, which a
  definition never needs and which would let a small file expand into a huge one.

Every problem raises `QuestionnaireError`, whose text is ``FILE:LINE: REASON``; no other
exception escapes `load` or `loads`, whatever the input.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .conditions import ConditionError
from .conditions import check as check_condition
from .messages import N_, Message, message
from .model import (
    COMMENT_SUFFIX,
    GRID_ROW_TYPE,
    GRID_TYPE,
    Choice,
    Grid,
    GridRows,
    Group,
    Label,
    Question,
    Questionnaire,
    Scale,
    ScalePoint,
    Section,
    ServedUnit,
)
from .types import BUILTIN_SCALES, INTEGER_LIMIT, MAX_TEXT_LENGTH, QUESTION_TYPES, QuestionType

CODE = re.compile(r"[a-z][a-z0-9_]*")
MAX_CODE_LENGTH = 40
QUESTIONNAIRE_ID = re.compile(r"[a-z][a-z0-9_-]*")
MAX_ID_LENGTH = 80
CATEGORY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
MAX_CATEGORY_LENGTH = 80
SUFFIXES = (".yaml", ".yml")
# Scales the analysis can treat: it keeps a count of every whole number between a round's
# lowest and highest rating value, per cell (values far apart would make millions of counts),
# so values stay within -100..100; more than 11 points (nps11's) do not fit a phone's width.
MAX_SCALE_POINTS = 11
SCALE_VALUE_LIMIT = 100

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_KIND_OF_TAG = {
    _INT: N_("a number"),
    "tag:yaml.org,2002:float": N_("a number"),
    _BOOL: N_("true/false"),
    _NULL: N_("empty"),
    "tag:yaml.org,2002:timestamp": N_("a date"),
    "tag:yaml.org,2002:merge": N_("a merge key (<<)"),
}
# The message of a repeated code; the editor, which shows no line numbers, uses the second.
DUPLICATE = N_("%(context)sduplicate %(kind)s %(value)s (first defined on line %(first)s)")
DUPLICATE_WITHOUT_LINE = N_("%(context)sduplicate %(kind)s %(value)s")


class QuestionnaireError(ValueError):
    """A definition that cannot be loaded: `filename`, `line` (1-based or None) and `reason`.

    `reason` is English text; `message` is the same reason as a Message the app translates.
    """

    def __init__(self, filename: str, line: int | None, reason: Message) -> None:
        super().__init__(filename, line, str(reason))
        self.filename = filename
        self.line = line
        self.message = reason
        self.reason = str(reason)

    def __str__(self) -> str:
        where = self.filename if self.line is None else f"{self.filename}:{self.line}"
        return f"{where}: {self.reason}"


# ----------------------------------------------------------------------------- public functions


def load(path: str | Path) -> Questionnaire:
    """Load the questionnaire defined in the YAML file at `path` (UTF-8).

    An unreadable file raises QuestionnaireError with line None, like every other problem, so
    a caller such as the CLI needs to handle one exception type only.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise QuestionnaireError(
            str(path), None, message(N_("cannot read the file: %(error)s"), error=err.strerror)
        ) from None
    return loads(data, filename=str(path))


def loads(text: str | bytes, filename: str = "<string>") -> Questionnaire:
    """Load a questionnaire from YAML text (bytes must be UTF-8); `filename` is for messages.

    Raises QuestionnaireError, and nothing else, for any text that is not a valid definition.
    """
    try:
        root = _compose(_decoded(text))
        return _questionnaire(root)
    except _Invalid as err:
        raise QuestionnaireError(filename, err.line, err.message) from None


def load_dir(path: str | Path) -> list[Questionnaire]:
    """Load every ``*.yaml`` and ``*.yml`` file directly inside `path`, sorted by file name.

    Two files with the same questionnaire id are refused (QuestionnaireError on the second),
    because the id is how the app tells questionnaires apart. A folder that cannot be listed
    raises QuestionnaireError too.
    """
    try:
        files = sorted(p for p in Path(path).iterdir() if p.suffix in SUFFIXES and p.is_file())
    except OSError as err:
        raise QuestionnaireError(
            str(path), None, message(N_("cannot read the folder: %(error)s"), error=err.strerror)
        ) from None
    loaded: dict[str, Path] = {}
    result = []
    for file in files:
        questionnaire = load(file)
        if questionnaire.id in loaded:
            first = loaded[questionnaire.id]
            reason = message(
                N_("questionnaire id %(id)s is already used by %(file)s"),
                id=repr(questionnaire.id),
                file=str(first),
            )
            raise QuestionnaireError(str(file), None, reason)
        loaded[questionnaire.id] = file
        result.append(questionnaire)
    return result


def dump(questionnaire: Questionnaire) -> str:
    """The questionnaire as definition-file YAML that `loads` reads back to an equal object.

    Keys follow the order of the format; defaults (required, the built-in scale of a rating,
    an empty audience) are left out. A label whose two languages are equal is written as a
    plain string. Raises ValueError if a question uses a scale that is neither built in nor
    declared in `questionnaire.scales`, since such a file could not be loaded back.
    """
    return yaml.dump(
        _questionnaire_data(questionnaire),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        # Never fold long texts over several lines: one label per line is easier to read and grep.
        width=1_000_000,
    )


# ---------------------------------------------------------------------------- reading the YAML


class _Invalid(Exception):
    """A problem found while reading; `loads` adds the file name and re-raises it."""

    def __init__(self, line: int | None, reason: Message) -> None:
        super().__init__(line, reason)
        self.line = line
        self.message = reason


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader's composer, refusing anchors and aliases (the "billion laughs" expansion)."""

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            reason = message(
                N_("anchors and aliases (& and *) are not allowed; write the text out instead")
            )
            raise _Invalid(event.start_mark.line + 1, reason)
        return super().compose_node(parent, index)


def _decoded(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as err:
        line = text[: err.start].count(b"\n") + 1
        reason = message(
            N_("the file is not UTF-8 text (byte %(byte)s)"), byte=f"0x{text[err.start]:02x}"
        )
        raise _Invalid(line, reason) from None


def _compose(text: str) -> Node:
    """The YAML node tree of `text`, whose nodes carry the line they start on."""
    loader = None
    try:
        loader = _StrictLoader(text)  # its reader already refuses control characters
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        raise _Invalid(_mark_line(err), _yaml_reason(err)) from None
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1
        reason = message(
            N_("invalid YAML: character %(character)s is not allowed"),
            character=f"#x{err.character:04x}",
        )
        raise _Invalid(line, reason) from None
    except yaml.YAMLError as err:  # pragma: no cover - every PyYAML error above has a position
        raise _Invalid(None, message(N_("invalid YAML: %(problem)s"), problem=str(err))) from None
    except RecursionError:
        raise _Invalid(None, message(N_("invalid YAML: nested too deeply"))) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise _Invalid(None, message(N_("the file is empty")))
    return root


def _mark_line(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None


def _yaml_reason(err: yaml.MarkedYAMLError) -> Message:
    # PyYAML's own wording stays English: it is quoted, not translated.
    if err.context:
        template = N_("invalid YAML: %(problem)s (%(context)s)")
        return message(template, problem=err.problem, context=err.context)
    return message(N_("invalid YAML: %(problem)s"), problem=err.problem)


# ------------------------------------------------------------------------ reading single nodes


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _part(what: Message, key: str) -> Message:
    """A key of the thing `what` names: "question 'a' text". The key is the file's own word."""
    return message(N_("%(what)s %(key)s"), what=what, key=key)


_QUESTIONNAIRE = message(N_("questionnaire"))


def _kind(node: Node) -> Message:
    """How a node is named in an error message: 'a list', 'a number', ..."""
    if isinstance(node, MappingNode):
        return message(N_("a mapping"))
    if isinstance(node, SequenceNode):
        return message(N_("a list"))
    if node.tag in _KIND_OF_TAG:
        return message(_KIND_OF_TAG[node.tag])
    if node.tag == _STR:
        return message(N_("text"))
    return message(N_("tagged %(tag)s"), tag=repr(node.tag))


def _shown(text: str, limit: int = 50) -> str:
    """`text` quoted for a message, shortened so that a pasted paragraph stays readable."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _text(node: Node, what: Message) -> str:
    """The stripped string of a text scalar; numbers, dates and true/false must be quoted."""
    if not isinstance(node, ScalarNode) or node.tag != _STR:
        if isinstance(node, ScalarNode):
            template = N_(
                "%(what)s must be text, not %(kind)s; put it in quotes if it is meant as text"
            )
        else:
            template = N_("%(what)s must be text, not %(kind)s")
        raise _Invalid(_line(node), message(template, what=what, kind=_kind(node)))
    return node.value.strip()


def _integer(node: Node, what: Message) -> int:
    if not isinstance(node, ScalarNode) or node.tag != _INT:
        reason = message(
            N_("%(what)s must be a whole number, not %(kind)s"), what=what, kind=_kind(node)
        )
        raise _Invalid(_line(node), reason)
    try:
        # SafeConstructor knows YAML's integer spellings (1_000, 0x10, ...).
        return yaml.constructor.SafeConstructor().construct_yaml_int(node)
    except ValueError:  # an explicit !!int tag on text, or more digits than int() accepts
        raise _Invalid(
            _line(node), message(N_("%(what)s must be a whole number"), what=what)
        ) from None


def _boolean(node: Node, what: Message) -> bool:
    # YAML 1.1 also reads yes/no/on/off as booleans; only true/false are unambiguous.
    if not isinstance(node, ScalarNode) or node.value.lower() not in ("true", "false"):
        shown = _shown(node.value) if isinstance(node, ScalarNode) else _kind(node)
        reason = message(
            N_("%(what)s must be true or false, not %(value)s"), what=what, value=shown
        )
        raise _Invalid(_line(node), reason)
    return node.value.lower() == "true"


def _code(node: Node, what: Message) -> str:
    """A code: ``[a-z][a-z0-9_]*``, at most MAX_CODE_LENGTH characters."""
    code = _text(node, what)
    if not CODE.fullmatch(code):
        template = N_("%(what)s %(code)s is not a valid code (a-z first, then a-z, 0-9 or _)")
        reason = message(template, what=what, code=_shown(code))
        raise _Invalid(_line(node), reason)
    if len(code) > MAX_CODE_LENGTH:
        template = N_("%(what)s %(code)s is longer than %(n)s characters")
        reason = message(template, what=what, code=_shown(code), n=MAX_CODE_LENGTH)
        raise _Invalid(_line(node), reason)
    return code


def _label(node: Node, what: Message) -> Label:
    """A label: ``{zh: ..., en: ...}`` with at least one language, or one string for both."""
    if isinstance(node, ScalarNode):
        text = _text(node, what)
        if not text:
            raise _Invalid(_line(node), message(N_("%(what)s is empty"), what=what))
        return Label(text, text)
    if not isinstance(node, MappingNode):
        template = N_("%(what)s must be text or {zh: ..., en: ...}, not %(kind)s")
        reason = message(template, what=what, kind=_kind(node))
        raise _Invalid(_line(node), reason)
    fields = _fields(node, what, _Keys(optional=("zh", "en")))
    zh, en = (_text(fields[k], _part(what, k)) if k in fields else "" for k in ("zh", "en"))
    if not zh and not en:
        template = N_("%(what)s has no text in either language (zh or en)")
        raise _Invalid(_line(node), message(template, what=what))
    return Label(zh, en)


@dataclass(frozen=True)
class _Keys:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional


def _fields(node: Node, what: Message, keys: _Keys) -> dict[str, Node]:
    """The values of a mapping by key, refusing unknown, duplicate and missing keys.

    Optional keys whose value is empty (null) are left out, as if they were absent.
    """
    if not isinstance(node, MappingNode):
        template = N_("%(what)s must be a mapping of keys to values, not %(kind)s")
        reason = message(template, what=what, kind=_kind(node))
        raise _Invalid(_line(node), reason)
    found: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key = _text(key_node, message(N_("%(what)s: a key"), what=what))
        if key in found:
            reason = message(N_("%(what)s: duplicate key %(key)s"), what=what, key=_shown(key))
            raise _Invalid(_line(key_node), reason)
        if key not in keys.allowed:
            reason = message(
                N_("%(what)s: unknown key %(key)s %(hint)s"),
                what=what,
                key=_shown(key),
                hint=_hint(key, keys),
            )
            raise _Invalid(_line(key_node), reason)
        found[key] = value_node
    for key in keys.required:
        if key not in found:
            reason = message(N_("%(what)s: missing required key %(key)s"), what=what, key=repr(key))
            raise _Invalid(_line(node), reason)
        if _is_null(found[key]):
            reason = message(N_("%(what)s: %(key)s is empty"), what=what, key=repr(key))
            raise _Invalid(_line(found[key]), reason)
    return {key: value for key, value in found.items() if not _is_null(value)}


def _hint(key: str, keys: _Keys) -> Message:
    close = difflib.get_close_matches(key, keys.allowed, n=1)
    if close:
        return message(N_("(did you mean %(key)s?)"), key=repr(close[0]))
    return message(N_("(expected one of %(keys)s)"), keys=", ".join(keys.allowed))


def _items(node: Node, what: Message) -> list[Node]:
    if not isinstance(node, SequenceNode):
        reason = message(N_("%(what)s must be a list, not %(kind)s"), what=what, kind=_kind(node))
        raise _Invalid(_line(node), reason)
    return list(node.value)


def _named(node: Node, kind: str, position: int) -> Message:
    """What to call a coded item in messages: "question 'x'", or "question 3" before its code
    is known to be usable."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            is_code = key.value == "code" and isinstance(value, ScalarNode) and value.tag == _STR
            if is_code and CODE.fullmatch(value.value) and len(value.value) <= MAX_CODE_LENGTH:
                return message(N_("%(kind)s %(code)s"), kind=message(kind), code=repr(value.value))
    return message(N_("%(kind)s %(position)s"), kind=message(kind), position=position)


T = TypeVar("T")


class _Unique:
    """Remembers the line where each value of one kind was first seen, to refuse repeats."""

    def __init__(self, kind: str) -> None:
        self.kind = message(kind)
        self.lines: dict[object, int] = {}

    def add(self, value: object, node: Node, context: Message | str = "") -> None:
        if value in self.lines:
            reason = message(
                DUPLICATE,
                context=context,
                kind=self.kind,
                value=repr(value),
                first=self.lines[value],
            )
            raise _Invalid(_line(node), reason)
        self.lines[value] = _line(node)


def _coded_items(
    node: Node | None,
    kinds: tuple[str, str, str],
    build: Callable[[Node, Message], tuple[str, Node, T]],
    context: Message | str = "",
) -> tuple[T, ...]:
    """Build each item of a list of coded mappings, refusing a code used twice. `kinds` names
    one item, the list and the code (three templates, since languages differ in plurals)."""
    if node is None:
        return ()
    kind, plural, code_kind = kinds
    seen = _Unique(code_kind)
    result = []
    listed = message(N_("%(context)s%(items)s"), context=context, items=message(plural))
    for position, item in enumerate(_items(node, listed), start=1):
        code, code_node, built = build(item, _named(item, kind, position))
        seen.add(code, code_node, context)
        result.append(built)
    return tuple(result)


# ------------------------------------------------------------------------- building the model


@dataclass
class _Declared:
    """What the questionnaire declares before its sections, and the question codes seen so far."""

    groups: frozenset[str]
    served_units: frozenset[str]
    scales: dict[str, Scale]
    question_codes: _Unique = field(default_factory=lambda: _Unique(N_("question code")))
    # Every question code of the file (read ahead), to tell a later question from an unknown
    # one in a condition, and the questions built so far, which a condition may refer to.
    all_codes: frozenset[str] = frozenset()
    earlier: dict[str, Question] = field(default_factory=dict)


_QUESTIONNAIRE_KEYS = _Keys(
    required=("id", "title", "sections"),
    optional=("description", "groups", "served_units", "scales"),
)
_CODE_LABEL_KEYS = _Keys(required=("code", "label"))
_SCALE_KEYS = _Keys(required=("code", "points"), optional=("satisfied", "dissatisfied"))
_POINT_KEYS = _Keys(required=("value", "label"))
_SECTION_KEYS = _Keys(required=("code", "title", "questions"), optional=("description", "show_if"))
# What a row of a grid says for itself; the grid's category, served_unit and follow_up are its
# rows' unless a row gives its own.
_ROW_OWN_KEYS = ("category", "served_unit", "follow_up")
_ROW_KEYS = _Keys(required=("code", "text"), optional=_ROW_OWN_KEYS)
_QUESTION_KEYS = _Keys(
    required=("code", "type", "text"),
    optional=(
        "category",
        "served_unit",
        "required",
        "audience",
        "scale",
        "choices",
        "follow_up",
        "help",
        "min_value",
        "max_value",
        "max_length",
        "show_if",
    ),
)


# The limits of integer and text answers, which a grid's rating rows never have.
_LIMIT_KEYS = ("min_value", "max_value", "max_length")
# A grid takes every key a question takes but choices and limits, so that a key added for all questions
# (such as a condition) applies to each of its rows; its help is said once, above the rows.
_GRID_KEYS = _Keys(
    required=("code", "type", "text", "rows"),
    optional=tuple(k for k in _QUESTION_KEYS.optional if k not in ("choices", *_LIMIT_KEYS)),
)
# The grid's own keys; every other key it gives is given to each of its rows.
_GRID_OWN_KEYS = ("code", "type", "text", "help", "rows")


def _questionnaire(root: Node) -> Questionnaire:
    fields = _fields(root, _QUESTIONNAIRE, _QUESTIONNAIRE_KEYS)
    # Read in the order of the file, so the first problem reported is the first one there.
    qid = _questionnaire_id(fields["id"])
    title = _label(fields["title"], _part(_QUESTIONNAIRE, "title"))
    description = _optional_label(fields, "description", _part(_QUESTIONNAIRE, "description"))
    groups = _coded_items(fields.get("groups"), _GROUPS, _code_label(Group))
    served_units = _coded_items(fields.get("served_units"), _SERVED_UNITS, _code_label(ServedUnit))
    scales = _coded_items(fields.get("scales"), _SCALES, _scale)
    declared = _Declared(
        groups=frozenset(g.code for g in groups),
        served_units=frozenset(u.code for u in served_units),
        scales={**BUILTIN_SCALES, **{s.code: s for s in scales}},
        all_codes=_codes_ahead(fields["sections"]),
    )
    return Questionnaire(
        id=qid,
        title=title,
        description=description,
        groups=groups,
        served_units=served_units,
        scales=scales,
        sections=_sections(fields["sections"], declared),
    )


_GROUPS = (N_("group"), N_("groups"), N_("group code"))
_SERVED_UNITS = (N_("served unit"), N_("served units"), N_("served unit code"))
_SCALES = (N_("scale"), N_("scales"), N_("scale code"))
_SECTIONS = (N_("section"), N_("sections"), N_("section code"))
_CHOICES = (N_("choice"), N_("choices"), N_("choice code"))


def _questionnaire_id(node: Node) -> str:
    qid = _text(node, _part(_QUESTIONNAIRE, "id"))
    if not QUESTIONNAIRE_ID.fullmatch(qid) or len(qid) > MAX_ID_LENGTH:
        template = N_("questionnaire id %(id)s must match %(rule)s, at most %(n)s characters")
        reason = message(template, id=_shown(qid), rule="[a-z][a-z0-9_-]*", n=MAX_ID_LENGTH)
        raise _Invalid(_line(node), reason)
    return qid


def _optional_label(fields: dict[str, Node], key: str, what: Message) -> Label | None:
    return _label(fields[key], what) if key in fields else None


def _code_label(
    cls: Callable[[str, Label], T],
) -> Callable[[Node, Message], tuple[str, Node, T]]:
    """A builder for the ``{code, label}`` items of groups and served_units."""

    def build(node: Node, what: Message) -> tuple[str, Node, T]:
        fields = _fields(node, what, _CODE_LABEL_KEYS)
        code = _code(fields["code"], _part(what, "code"))
        return code, fields["code"], cls(code, _label(fields["label"], _part(what, "label")))

    return build


def _scale(node: Node, what: Message) -> tuple[str, Node, Scale]:
    fields = _fields(node, what, _SCALE_KEYS)
    code = _code(fields["code"], _part(what, "code"))
    if code in BUILTIN_SCALES:
        template = N_("scale code %(code)s is built in; give the declared scale another code")
        raise _Invalid(_line(fields["code"]), message(template, code=repr(code)))
    items = _items(fields["points"], _part(what, "points"))
    if len(items) < 2:
        template = N_("%(what)s has %(n)s point(s); a scale needs at least 2")
        raise _Invalid(_line(fields["points"]), message(template, what=what, n=len(items)))
    if len(items) > MAX_SCALE_POINTS:
        template = N_("%(what)s has %(n)s points; a scale has at most %(most)s")
        reason = message(template, what=what, n=len(items), most=MAX_SCALE_POINTS)
        raise _Invalid(_line(fields["points"]), reason)
    values = _Unique(N_("value"))
    points = []
    for position, item in enumerate(items, start=1):
        point = _scale_point(item, message(N_("%(what)s point %(n)s"), what=what, n=position))
        values.add(point.value, item, _context(what))
        points.append(point)
    scale = Scale(code, tuple(points))
    satisfied = _boxes(fields, "satisfied", scale, what)
    dissatisfied = _boxes(fields, "dissatisfied", scale, what)
    scale = Scale(code, tuple(points), satisfied, dissatisfied)
    both = sorted(set(scale.satisfied_values) & set(scale.dissatisfied_values))
    if both:
        # Said on the line of the set declared last, or of the points when both are defaults.
        declared = [fields[k] for k in ("satisfied", "dissatisfied") if k in fields]
        line = max(_line(n) for n in declared) if declared else _line(fields["points"])
        template = N_("%(what)s: point %(value)s is both satisfied and dissatisfied")
        raise _Invalid(line, message(template, what=what, value=both[0]))
    return code, fields["code"], scale


def _boxes(fields: dict[str, Node], key: str, scale: Scale, what: Message) -> tuple[int, ...]:
    """The declared ``satisfied`` (top) or ``dissatisfied`` (bottom) points of `scale`: points
    of the scale, at least one, and the highest (lowest) ones without a gap, since the analysis
    counts a rating as satisfied from a value up (dissatisfied up to a value). Empty when the
    key is absent (the default)."""
    if key not in fields:
        return ()
    named = _part(what, key)
    items = _items(fields[key], named)
    if not items:
        template = N_("%(what)s is an empty list; leave it out for the default")
        raise _Invalid(_line(fields[key]), message(template, what=named))
    seen = _Unique(N_("value"))
    for item in items:
        value = _integer(item, _part(named, "value"))
        if value not in scale.values:
            template = N_("%(what)s: %(value)s is not a point of the scale")
            raise _Invalid(_line(item), message(template, what=named, value=value))
        seen.add(value, item, _context(named))
    chosen = tuple(seen.lines)
    ordered = sorted(scale.values)
    expected = ordered[-len(chosen) :] if key == "satisfied" else ordered[: len(chosen)]
    if set(chosen) != set(expected):
        if key == "satisfied":
            template = N_("%(what)s must be the top %(n)s point(s) of the scale: %(points)s")
        else:
            template = N_("%(what)s must be the bottom %(n)s point(s) of the scale: %(points)s")
        points = ", ".join(str(v) for v in expected)
        reason = message(template, what=named, n=len(chosen), points=points)
        raise _Invalid(_line(fields[key]), reason)
    return chosen


def _scale_point(node: Node, what: Message) -> ScalePoint:
    fields = _fields(node, what, _POINT_KEYS)
    value = _integer(fields["value"], _part(what, "value"))
    if not -SCALE_VALUE_LIMIT <= value <= SCALE_VALUE_LIMIT:
        template = N_("%(what)s %(value)s is outside %(low)s..%(high)s")
        shown = str(value) if len(str(value)) <= 20 else str(value)[:20] + "..."
        limit = SCALE_VALUE_LIMIT
        reason = message(template, what=_part(what, "value"), value=shown, low=-limit, high=limit)
        raise _Invalid(_line(fields["value"]), reason)
    return ScalePoint(value, _label(fields["label"], _part(what, "label")))


def _context(what: Message) -> Message:
    """`what` as the start of a message about one of its parts: "question 'a': "."""
    return message(N_("%(what)s: "), what=what)


def _sections(node: Node, declared: _Declared) -> tuple[Section, ...]:
    def build(item: Node, what: Message) -> tuple[str, Node, Section]:
        return _section(item, what, declared)

    sections = _coded_items(node, _SECTIONS, build)
    if not sections:
        raise _Invalid(_line(node), message(N_("the questionnaire has no sections")))
    return sections


def _section(node: Node, what: Message, declared: _Declared) -> tuple[str, Node, Section]:
    fields = _fields(node, what, _SECTION_KEYS)
    code = _code(fields["code"], _part(what, "code"))
    items = _items(fields["questions"], _part(what, "questions"))
    if not items:
        reason = message(N_("%(what)s has no questions"), what=what)
        raise _Invalid(_line(fields["questions"]), reason)
    show_if = _show_if(fields, what, declared, own=_codes_of(items))
    questions: list[Question] = []
    for position, item in enumerate(items, start=1):
        named = _named(item, N_("question"), position)
        if _is_grid(item):
            questions.extend(_grid(item, named, declared, what))
        else:
            questions.append(_question(item, named, declared, what))
    section = Section(
        code=code,
        title=_label(fields["title"], _part(what, "title")),
        questions=tuple(questions),
        description=_optional_label(fields, "description", _part(what, "description")),
        show_if=show_if,
    )
    return code, fields["code"], section


@dataclass(frozen=True)
class _RowOf:
    """The grid a row belongs to, and the grid's keys that every row takes (by node)."""

    grid: Grid
    shared: dict[str, Node]


def _question(
    node: Node, what: Message, declared: _Declared, section: Message, row_of: _RowOf | None = None
) -> Question:
    if "position" in what.params:  # no usable code yet: say where the item is
        what = message(N_("%(what)s of %(section)s"), what=what, section=section)
    if row_of is None:
        fields = _fields(node, what, _QUESTION_KEYS)
    else:
        fields = {**row_of.shared, **_fields(node, what, _ROW_KEYS)}
    code = _code(fields["code"], _part(what, "code"))
    if code.endswith(COMMENT_SUFFIX):
        template = N_(
            "%(what)s: a code ending in %(suffix)s names the follow-up comment of another "
            "question; choose another code"
        )
        reason = message(template, what=what, suffix=COMMENT_SUFFIX)
        raise _Invalid(_line(fields["code"]), reason)
    declared.question_codes.add(code, fields["code"])
    if row_of is None:
        qtype = _question_type(fields["type"], what)
    else:
        qtype = QUESTION_TYPES[GRID_ROW_TYPE]
    _check_type_keys(fields, qtype, what)
    show_if = _show_if(fields, what, declared, itself=code)
    question = Question(
        code=code,
        type=qtype.name,
        text=_label(fields["text"], _part(what, "text")),
        category=_category(fields, what),
        served_unit=_declared_code(fields, "served_unit", declared.served_units, what),
        required=_required(fields, qtype, what),
        audience=_audience(fields, declared.groups, what),
        scale=_question_scale(fields, qtype, declared.scales, what),
        choices=_choices(fields, what),
        follow_up=_optional_label(fields, "follow_up", _part(what, "follow_up")),
        help=_optional_label(fields, "help", _part(what, "help")),
        **_limits(fields, what),
        show_if=show_if,
        grid=row_of.grid if row_of is not None else None,
        line=_line(node),
    )
    declared.earlier[code] = question
    return question


def _show_if(
    fields: dict[str, Node],
    what: Message,
    declared: _Declared,
    own: frozenset[str] = frozenset(),
    itself: str | None = None,
) -> str | None:
    """A question's or section's condition (questionnaires.conditions), checked against the
    questions before it: only those can decide whether it is shown."""
    if "show_if" not in fields:
        return None
    named = _part(what, "show_if")
    text = _text(fields["show_if"], named)
    if not text:
        return None
    try:
        check_condition(text, declared.earlier, declared.all_codes, own=own, itself=itself)
    except ConditionError as err:
        reason = message(N_("%(what)s: %(reason)s"), what=named, reason=err.message)
        raise _Invalid(_line(fields["show_if"]), reason) from None
    return text


def _codes_of(items: list[Node]) -> frozenset[str]:
    """The question codes written in a list of question mappings, read ahead of checking."""
    codes = set()
    for item in items:
        if isinstance(item, MappingNode):
            for key, value in item.value:
                if key.value == "code" and isinstance(value, ScalarNode):
                    codes.add(value.value.strip())
                elif key.value == "rows" and isinstance(value, SequenceNode):
                    codes |= _codes_of(value.value)  # a grid's rows are questions too
    return frozenset(codes)


def _codes_ahead(sections: Node) -> frozenset[str]:
    """Every question code of the file's sections, read ahead (malformed parts are skipped:
    they are reported when their turn comes)."""
    codes: set[str] = set()
    for section in sections.value if isinstance(sections, SequenceNode) else ():
        if not isinstance(section, MappingNode):
            continue
        for key, value in section.value:
            if key.value == "questions" and isinstance(value, SequenceNode):
                codes |= _codes_of(value.value)
    return frozenset(codes)


def _is_grid(node: Node) -> bool:
    if not isinstance(node, MappingNode):
        return False
    return any(
        isinstance(k, ScalarNode)
        and k.value == "type"
        and isinstance(v, ScalarNode)
        and v.tag == _STR
        and v.value.strip() == GRID_TYPE
        for k, v in node.value
    )


def _grid(node: Node, what: Message, declared: _Declared, section: Message) -> list[Question]:
    """The rows of a grid, each a rating question that names the grid. The grid's code is a
    question code too (unique in the file); its keys but its own are checked here, in its name,
    and then given to every row."""
    if "position" in what.params:
        what = message(N_("%(what)s of %(section)s"), what=what, section=section)
    fields = _fields(node, what, _GRID_KEYS)
    code = _code(fields["code"], _part(what, "code"))
    declared.question_codes.add(code, fields["code"])
    grid = Grid(
        code=code,
        text=_label(fields["text"], _part(what, "text")),
        help=_optional_label(fields, "help", _part(what, "help")),
    )
    shared = {key: value for key, value in fields.items() if key not in _GRID_OWN_KEYS}
    _check_grid_keys(shared, declared, what)
    items = _items(fields["rows"], _part(what, "rows"))
    if not items:
        reason = message(N_("%(what)s has no rows; a grid needs at least one"), what=what)
        raise _Invalid(_line(fields["rows"]), reason)
    row_of = _RowOf(grid, shared)
    return [
        _question(item, _named(item, N_("row"), position), declared, what, row_of)
        for position, item in enumerate(items, start=1)
    ]


def _check_grid_keys(shared: dict[str, Node], declared: _Declared, what: Message) -> None:
    """Check the keys a grid gives its rows in the grid's name, before any row repeats them."""
    qtype = QUESTION_TYPES[GRID_ROW_TYPE]
    _check_type_keys(shared, qtype, what)
    _category(shared, what)
    _declared_code(shared, "served_unit", declared.served_units, what)
    _required(shared, qtype, what)
    _audience(shared, declared.groups, what)
    _question_scale(shared, qtype, declared.scales, what)
    _optional_label(shared, "follow_up", _part(what, "follow_up"))


def _required(fields: dict[str, Node], qtype: QuestionType, what: Message) -> bool:
    if "required" not in fields:
        return qtype.default_required
    required = _boolean(fields["required"], message(N_("%(what)s: required"), what=what))
    if required and not qtype.answered:
        template = N_("%(what)s: a %(type)s question has no answer, so it cannot be required")
        raise _Invalid(_line(fields["required"]), message(template, what=what, type=qtype.name))
    return required


def _question_type(node: Node, what: Message) -> QuestionType:
    name = _text(node, _part(what, "type"))
    if name not in QUESTION_TYPES:
        template = N_("%(what)s: unknown type %(type)s (expected one of %(types)s)")
        types = ", ".join(sorted([*QUESTION_TYPES, GRID_TYPE]))
        reason = message(template, what=what, type=_shown(name), types=types)
        raise _Invalid(_line(node), reason)
    return QUESTION_TYPES[name]


def _check_type_keys(fields: dict[str, Node], qtype: QuestionType, what: Message) -> None:
    """Refuse keys the question's type has no use for, and require choices where needed."""
    name = qtype.name
    if "choices" in fields and not qtype.has_choices:
        template = N_("%(what)s: a %(type)s question takes no choices")
        raise _Invalid(_line(fields["choices"]), message(template, what=what, type=name))
    if qtype.has_choices and "choices" not in fields:
        template = N_("%(what)s: a %(type)s question needs choices")
        raise _Invalid(_line_of(fields), message(template, what=what, type=name))
    if "scale" in fields and not qtype.scale_selectable:
        if qtype.default_scale:
            template = N_("%(what)s: a %(type)s question takes no scale (it always uses %(scale)s)")
            reason = message(template, what=what, type=name, scale=qtype.default_scale.code)
        else:
            template = N_("%(what)s: a %(type)s question takes no scale")
            reason = message(template, what=what, type=name)
        raise _Invalid(_line(fields["scale"]), reason)
    for key in ("min_value", "max_value", "max_length"):
        allowed = qtype.takes_range if key != "max_length" else qtype.takes_max_length
        if key in fields and not allowed:
            takers = [
                t.name
                for t in QUESTION_TYPES.values()
                if (t.takes_range if key != "max_length" else t.takes_max_length)
            ]
            template = N_("%(what)s: %(key)s is only for %(types)s questions, not %(type)s")
            reason = message(template, what=what, key=key, types=" or ".join(takers), type=name)
            raise _Invalid(_line(fields[key]), reason)
    if "follow_up" in fields and not qtype.takes_follow_up:
        takers = " or ".join(sorted(t.name for t in QUESTION_TYPES.values() if t.takes_follow_up))
        template = N_("%(what)s: follow_up is only for %(types)s questions, not %(type)s")
        reason = message(template, what=what, types=takers, type=name)
        raise _Invalid(_line(fields["follow_up"]), reason)


def _limits(fields: dict[str, Node], what: Message) -> dict[str, int | None]:
    """`min_value` and `max_value` (whole numbers within ±INTEGER_LIMIT, the first not above
    the second) and `max_length` (1..MAX_TEXT_LENGTH); the type's keys were checked before."""
    found: dict[str, int | None] = {}
    for key in ("min_value", "max_value"):
        found[key] = None
        if key in fields:
            value = _integer(fields[key], _part(what, key))
            if abs(value) > INTEGER_LIMIT:
                template = N_("%(what)s is outside %(low)s..%(high)s")
                reason = message(
                    template, what=_part(what, key), low=-INTEGER_LIMIT, high=INTEGER_LIMIT
                )
                raise _Invalid(_line(fields[key]), reason)
            found[key] = value
    low, high = found["min_value"], found["max_value"]
    if low is not None and high is not None and low > high:
        template = N_("%(what)s: min_value %(low)s is greater than max_value %(high)s")
        reason = message(template, what=what, low=low, high=high)
        raise _Invalid(_line(fields["max_value"]), reason)
    found["max_length"] = None
    if "max_length" in fields:
        length = _integer(fields["max_length"], _part(what, "max_length"))
        if not 1 <= length <= MAX_TEXT_LENGTH:
            template = N_("%(what)s must be from 1 to %(most)s")
            reason = message(template, what=_part(what, "max_length"), most=MAX_TEXT_LENGTH)
            raise _Invalid(_line(fields["max_length"]), reason)
        found["max_length"] = length
    return found


def _line_of(fields: dict[str, Node]) -> int:
    # `code` is required, so it is always there; its line is the question's first line.
    return _line(fields["code"])


def _category(fields: dict[str, Node], what: Message) -> str | None:
    if "category" not in fields:
        return None
    category = _text(fields["category"], _part(what, "category"))
    if not CATEGORY.fullmatch(category) or len(category) > MAX_CATEGORY_LENGTH:
        template = N_("%(what)s: category %(category)s must be dotted lower-case, like %(example)s")
        reason = message(
            template, what=what, category=_shown(category), example="services.documents"
        )
        raise _Invalid(_line(fields["category"]), reason)
    return category


def _declared_code(
    fields: dict[str, Node], key: str, declared: frozenset[str], what: Message
) -> str | None:
    if key not in fields:
        return None
    code = _code(fields[key], _part(what, key))
    if code not in declared:
        template = N_("%(what)s: %(kind)s %(code)s is not declared in %(key)s")
        kind = key.replace("_", " ")
        reason = message(template, what=what, kind=kind, code=repr(code), key=f"{key}s")
        raise _Invalid(_line(fields[key]), reason)
    return code


def _audience(fields: dict[str, Node], groups: frozenset[str], what: Message) -> tuple[str, ...]:
    """The groups that see the question; absent means all. An empty list is refused, since it
    would read as "nobody" but mean "everybody"."""
    if "audience" not in fields:
        return ()
    items = _items(fields["audience"], _part(what, "audience"))
    if not items:
        template = N_("%(what)s: audience is empty; leave it out to ask every group")
        raise _Invalid(_line(fields["audience"]), message(template, what=what))
    seen = _Unique(N_("audience group"))  # its lines keep the order of the file
    for item in items:
        group = _code(item, message(N_("%(what)s audience group"), what=what))
        if group not in groups:
            template = N_("%(what)s: audience group %(group)s is not declared in groups")
            raise _Invalid(_line(item), message(template, what=what, group=repr(group)))
        seen.add(group, item, _context(what))
    return tuple(seen.lines)


def _question_scale(
    fields: dict[str, Node], qtype: QuestionType, scales: dict[str, Scale], what: Message
) -> Scale | None:
    if "scale" not in fields:
        return qtype.default_scale
    code = _code(fields["scale"], _part(what, "scale"))
    if code not in scales:
        template = N_("%(what)s: scale %(code)s is not declared in scales (nor built in)")
        reason = message(template, what=what, code=repr(code))
        raise _Invalid(_line(fields["scale"]), reason)
    return scales[code]


def _choices(fields: dict[str, Node], what: Message) -> tuple[Choice, ...]:
    if "choices" not in fields:
        return ()
    choices = _coded_items(fields["choices"], _CHOICES, _code_label(Choice), _context(what))
    if not choices:
        reason = message(N_("%(what)s: choices is an empty list"), what=what)
        raise _Invalid(_line(fields["choices"]), reason)
    return choices


# ------------------------------------------------------------------------------------ dumping


class _FlowMap(dict):
    """A mapping written on one line, like ``{zh: 电话, en: Phone}``."""


class _FlowList(list):
    """A list written on one line, like ``[mayors, departments]``."""


class _Dumper(yaml.SafeDumper):
    # Equal labels must not become anchors and aliases, which `loads` refuses.
    def ignore_aliases(self, data: object) -> bool:
        return True

    # Indent list items under their key, as the format documentation and hand-written files do.
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


# YAML reads these as line breaks too, and PyYAML writes them unescaped except in double quotes.
_OTHER_BREAKS = frozenset("\r\x85\u2028\u2029")


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if _OTHER_BREAKS.intersection(text):
        style = '"'
    else:
        # Multi-line text reads best as a literal block; PyYAML falls back to quotes where it can't.
        style = "|" if "\n" in text else None
    return dumper.represent_scalar(_STR, text, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _FlowMap, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)

# A label whose two texts fit in about this many columns is written on one line.
_SHORT_LABEL = 64


def _label_data(label: Label) -> str | dict:
    if label.zh == label.en:
        return label.zh
    texts = {lang: text for lang, text in (("zh", label.zh), ("en", label.en)) if text}
    # Chinese characters take two columns.
    columns = sum(len(text) for text in texts.values()) + sum(not c.isascii() for c in label.zh)
    if columns <= _SHORT_LABEL and "\n" not in label.zh + label.en:
        return _FlowMap(texts)
    return texts


def _put(data: dict, key: str, value: object) -> None:
    """Set an optional key, leaving it out when there is nothing to say."""
    if isinstance(value, Label):
        value = _label_data(value)
    if value not in (None, (), []):
        data[key] = value


def _questionnaire_data(q: Questionnaire) -> dict:
    data = {"id": q.id, "title": _label_data(q.title)}
    _put(data, "description", q.description)
    _put(data, "groups", [_code_label_data(g) for g in q.groups])
    _put(data, "served_units", [_code_label_data(u) for u in q.served_units])
    _put(data, "scales", [_scale_data(s) for s in q.scales])
    declared = {s.code: s for s in q.scales}
    data["sections"] = [_section_data(s, declared) for s in q.sections]
    return data


def _code_label_data(item: Group | ServedUnit | Choice) -> dict:
    return {"code": item.code, "label": _label_data(item.label)}


def _scale_data(scale: Scale) -> dict:
    points = [_FlowMap(value=p.value, label=_label_data(p.label)) for p in scale.points]
    data = {"code": scale.code, "points": points}
    _put(data, "satisfied", _FlowList(scale.satisfied))
    _put(data, "dissatisfied", _FlowList(scale.dissatisfied))
    return data


def _section_data(section: Section, declared: dict[str, Scale]) -> dict:
    data = {"code": section.code, "title": _label_data(section.title)}
    _put(data, "description", section.description)
    _put(data, "show_if", section.show_if)
    data["questions"] = [
        _grid_data(block, declared)
        if isinstance(block, GridRows)
        else _question_data(block, declared)
        for block in section.blocks()
    ]
    return data


def _grid_data(block: GridRows, declared: dict[str, Scale]) -> dict:
    """A grid as the file writes it: the keys its rows share said once, on the grid; a row's
    category, served_unit or follow_up on the grid when every row has the same one."""
    if any(q.type != GRID_ROW_TYPE for q in block.rows):
        raise ValueError(f"a row of grid {block.code!r} is not a {GRID_ROW_TYPE} question")
    rows = [_question_data(q, declared) for q in block.rows]
    keys = list(dict.fromkeys(key for row in rows for key in row))
    data = {"code": block.grid.code, "type": GRID_TYPE, "text": _label_data(block.grid.text)}
    for key in keys:
        values = [row.get(key) for row in rows]
        if key in ("code", "type", "text"):
            continue
        if key == "help":
            raise ValueError(f"row {block.rows[0].code!r} of grid {block.code!r} has its own help")
        if key in _ROW_OWN_KEYS:
            if len(rows) > 1 and None not in values and all(v == values[0] for v in values):
                data[key] = values[0]
                for row in rows:
                    del row[key]
        elif any(v != values[0] for v in values):
            raise ValueError(f"the rows of grid {block.code!r} differ in {key}")
        else:
            data[key] = values[0]
    _put(data, "help", block.grid.help)
    row_keys = _ROW_KEYS.allowed
    data["rows"] = [{key: value for key, value in row.items() if key in row_keys} for row in rows]
    return data


def _question_data(q: Question, declared: dict[str, Scale]) -> dict:
    qtype = QUESTION_TYPES[q.type]
    data = {"code": q.code, "type": q.type, "text": _label_data(q.text)}
    _put(data, "category", q.category)
    _put(data, "served_unit", q.served_unit)
    if q.required != qtype.default_required:
        data["required"] = q.required
    _put(data, "audience", _FlowList(q.audience))
    _put(data, "scale", _scale_reference(q, qtype, declared))
    _put(data, "choices", [_FlowMap(_code_label_data(c)) for c in q.choices])
    _put(data, "follow_up", q.follow_up)
    _put(data, "help", q.help)
    _put(data, "min_value", q.min_value)
    _put(data, "max_value", q.max_value)
    _put(data, "max_length", q.max_length)
    _put(data, "show_if", q.show_if)
    return data


def _scale_reference(q: Question, qtype: QuestionType, declared: dict[str, Scale]) -> str | None:
    """The `scale:` to write for a question: nothing for its type's default scale."""
    if q.scale is None or q.scale == qtype.default_scale:
        return None
    if declared.get(q.scale.code) != q.scale and BUILTIN_SCALES.get(q.scale.code) != q.scale:
        raise ValueError(f"question {q.code!r} uses scale {q.scale.code!r}, which is not declared")
    return q.scale.code
