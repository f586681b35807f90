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
        points:
          - {value: 1, label: {zh: 很不同意, en: Strongly disagree}}
          - ...
    sections:                         # at least one
      - code: documents
        title: {zh: 公文处理, en: Document processing}
        description: {zh: ..., en: ...}            # optional
        questions:                                 # at least one
          - code: doc_timeliness                   # unique in the whole file
            type: rating                           # rating | choice | multi | text | nps
            text: {zh: 公文办理的及时性, en: Timeliness of document handling}
            category: services.documents           # optional, dotted lower-case
            served_unit: documents                 # optional, declared in served_units
            required: true                         # optional: default true, false for text
            audience: [mayors]                     # optional: default every group
            scale: agree5                          # optional, rating only
            follow_up: {zh: 请告诉我们原因, en: Please tell us why}  # optional, rating only
            help: {zh: ..., en: ...}               # optional
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
  Declared scales need at least two points with distinct whole-number values and a label each;
  the built-in codes are reserved.
- ``follow_up`` is asked when a rating falls in the bottom two points of its scale.
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
from .types import BUILTIN_SCALES, QUESTION_TYPES, QuestionType

CODE = re.compile(r"[a-z][a-z0-9_]*")
MAX_CODE_LENGTH = 40
QUESTIONNAIRE_ID = re.compile(r"[a-z][a-z0-9_-]*")
MAX_ID_LENGTH = 80
CATEGORY = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
MAX_CATEGORY_LENGTH = 80
SUFFIXES = (".yaml", ".yml")

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_KIND_OF_TAG = {
    _INT: "a number",
    "tag:yaml.org,2002:float": "a number",
    _BOOL: "true/false",
    _NULL: "empty",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:merge": "a merge key (<<)",
}


class QuestionnaireError(ValueError):
    """A definition that cannot be loaded: `filename`, `line` (1-based or None) and `reason`."""

    def __init__(self, filename: str, line: int | None, reason: str) -> None:
        super().__init__(filename, line, reason)
        self.filename = filename
        self.line = line
        self.reason = reason

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
        raise QuestionnaireError(str(path), None, f"cannot read the file: {err.strerror}") from None
    return loads(data, filename=str(path))


def loads(text: str | bytes, filename: str = "<string>") -> Questionnaire:
    """Load a questionnaire from YAML text (bytes must be UTF-8); `filename` is for messages.

    Raises QuestionnaireError, and nothing else, for any text that is not a valid definition.
    """
    try:
        root = _compose(_decoded(text))
        return _questionnaire(root)
    except _Invalid as err:
        raise QuestionnaireError(filename, err.line, err.reason) from None


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
            str(path), None, f"cannot read the folder: {err.strerror}"
        ) from None
    loaded: dict[str, Path] = {}
    result = []
    for file in files:
        questionnaire = load(file)
        if questionnaire.id in loaded:
            first = loaded[questionnaire.id]
            reason = f"questionnaire id {questionnaire.id!r} is already used by {first}"
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

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(line, reason)
        self.line = line
        self.reason = reason


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader's composer, refusing anchors and aliases (the "billion laughs" expansion)."""

    def compose_node(self, parent: Node | None, index: object) -> Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            reason = "anchors and aliases (& and *) are not allowed; write the text out instead"
            raise _Invalid(event.start_mark.line + 1, reason)
        return super().compose_node(parent, index)


def _decoded(text: str | bytes) -> str:
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as err:
        line = text[: err.start].count(b"\n") + 1
        raise _Invalid(line, f"the file is not UTF-8 text (byte 0x{text[err.start]:02x})") from None


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
        reason = f"invalid YAML: character #x{err.character:04x} is not allowed"
        raise _Invalid(line, reason) from None
    except yaml.YAMLError as err:  # pragma: no cover - every PyYAML error above has a position
        raise _Invalid(None, f"invalid YAML: {err}") from None
    except RecursionError:
        raise _Invalid(None, "invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise _Invalid(None, "the file is empty")
    return root


def _mark_line(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None


def _yaml_reason(err: yaml.MarkedYAMLError) -> str:
    reason = f"invalid YAML: {err.problem}"
    return f"{reason} ({err.context})" if err.context else reason


# ------------------------------------------------------------------------ reading single nodes


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _kind(node: Node) -> str:
    """How a node is named in an error message: 'a list', 'a number', ..."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return _KIND_OF_TAG.get(node.tag, "text" if node.tag == _STR else f"tagged {node.tag!r}")


def _shown(text: str, limit: int = 50) -> str:
    """`text` quoted for a message, shortened so that a pasted paragraph stays readable."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _text(node: Node, what: str) -> str:
    """The stripped string of a text scalar; numbers, dates and true/false must be quoted."""
    if not isinstance(node, ScalarNode) or node.tag != _STR:
        hint = "; put it in quotes if it is meant as text" if isinstance(node, ScalarNode) else ""
        raise _Invalid(_line(node), f"{what} must be text, not {_kind(node)}{hint}")
    return node.value.strip()


def _integer(node: Node, what: str) -> int:
    if not isinstance(node, ScalarNode) or node.tag != _INT:
        raise _Invalid(_line(node), f"{what} must be a whole number, not {_kind(node)}")
    try:
        # SafeConstructor knows YAML's integer spellings (1_000, 0x10, ...).
        return yaml.constructor.SafeConstructor().construct_yaml_int(node)
    except ValueError:  # an explicit !!int tag on text, or more digits than int() accepts
        raise _Invalid(_line(node), f"{what} must be a whole number") from None


def _boolean(node: Node, what: str) -> bool:
    # YAML 1.1 also reads yes/no/on/off as booleans; only true/false are unambiguous.
    if not isinstance(node, ScalarNode) or node.value.lower() not in ("true", "false"):
        shown = _shown(node.value) if isinstance(node, ScalarNode) else _kind(node)
        raise _Invalid(_line(node), f"{what} must be true or false, not {shown}")
    return node.value.lower() == "true"


def _code(node: Node, what: str) -> str:
    """A code: ``[a-z][a-z0-9_]*``, at most MAX_CODE_LENGTH characters."""
    code = _text(node, what)
    if not CODE.fullmatch(code):
        reason = f"{what} {_shown(code)} is not a valid code (a-z first, then a-z, 0-9 or _)"
        raise _Invalid(_line(node), reason)
    if len(code) > MAX_CODE_LENGTH:
        reason = f"{what} {_shown(code)} is longer than {MAX_CODE_LENGTH} characters"
        raise _Invalid(_line(node), reason)
    return code


def _label(node: Node, what: str) -> Label:
    """A label: ``{zh: ..., en: ...}`` with at least one language, or one string for both."""
    if isinstance(node, ScalarNode):
        text = _text(node, what)
        if not text:
            raise _Invalid(_line(node), f"{what} is empty")
        return Label(text, text)
    if not isinstance(node, MappingNode):
        reason = f"{what} must be text or {{zh: ..., en: ...}}, not {_kind(node)}"
        raise _Invalid(_line(node), reason)
    fields = _fields(node, what, _Keys(optional=("zh", "en")))
    zh, en = (_text(fields[k], f"{what} {k}") if k in fields else "" for k in ("zh", "en"))
    if not zh and not en:
        raise _Invalid(_line(node), f"{what} has no text in either language (zh or en)")
    return Label(zh, en)


@dataclass(frozen=True)
class _Keys:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.required + self.optional


def _fields(node: Node, what: str, keys: _Keys) -> dict[str, Node]:
    """The values of a mapping by key, refusing unknown, duplicate and missing keys.

    Optional keys whose value is empty (null) are left out, as if they were absent.
    """
    if not isinstance(node, MappingNode):
        reason = f"{what} must be a mapping of keys to values, not {_kind(node)}"
        raise _Invalid(_line(node), reason)
    found: dict[str, Node] = {}
    for key_node, value_node in node.value:
        key = _text(key_node, f"{what}: a key")
        if key in found:
            raise _Invalid(_line(key_node), f"{what}: duplicate key {_shown(key)}")
        if key not in keys.allowed:
            raise _Invalid(_line(key_node), f"{what}: unknown key {_shown(key)}{_hint(key, keys)}")
        found[key] = value_node
    for key in keys.required:
        if key not in found:
            raise _Invalid(_line(node), f"{what}: missing required key {key!r}")
        if _is_null(found[key]):
            raise _Invalid(_line(found[key]), f"{what}: {key!r} is empty")
    return {key: value for key, value in found.items() if not _is_null(value)}


def _hint(key: str, keys: _Keys) -> str:
    close = difflib.get_close_matches(key, keys.allowed, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of {', '.join(keys.allowed)})"


def _items(node: Node, what: str) -> list[Node]:
    if not isinstance(node, SequenceNode):
        raise _Invalid(_line(node), f"{what} must be a list, not {_kind(node)}")
    return list(node.value)


def _named(node: Node, kind: str, position: int) -> str:
    """What to call a coded item in messages: "question 'x'", or "question 3" before its code
    is known to be usable."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            is_code = key.value == "code" and isinstance(value, ScalarNode) and value.tag == _STR
            if is_code and CODE.fullmatch(value.value) and len(value.value) <= MAX_CODE_LENGTH:
                return f"{kind} {value.value!r}"
    return f"{kind} {position}"


T = TypeVar("T")


class _Unique:
    """Remembers the line where each value of one kind was first seen, to refuse repeats."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lines: dict[object, int] = {}

    def add(self, value: object, node: Node, context: str = "") -> None:
        if value in self.lines:
            first = self.lines[value]
            reason = f"duplicate {self.kind} {value!r} (first defined on line {first})"
            raise _Invalid(_line(node), f"{context}{reason}")
        self.lines[value] = _line(node)


def _coded_items(
    node: Node | None,
    kind: str,
    build: Callable[[Node, str], tuple[str, Node, T]],
    context: str = "",
) -> tuple[T, ...]:
    """Build each item of a list of coded mappings, refusing a code used twice."""
    if node is None:
        return ()
    seen = _Unique(f"{kind} code")
    result = []
    for position, item in enumerate(_items(node, f"{context}{kind}s"), start=1):
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
    question_codes: _Unique = field(default_factory=lambda: _Unique("question code"))


_QUESTIONNAIRE_KEYS = _Keys(
    required=("id", "title", "sections"),
    optional=("description", "groups", "served_units", "scales"),
)
_CODE_LABEL_KEYS = _Keys(required=("code", "label"))
_SCALE_KEYS = _Keys(required=("code", "points"))
_POINT_KEYS = _Keys(required=("value", "label"))
_SECTION_KEYS = _Keys(required=("code", "title", "questions"), optional=("description",))
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
    ),
)


def _questionnaire(root: Node) -> Questionnaire:
    fields = _fields(root, "questionnaire", _QUESTIONNAIRE_KEYS)
    # Read in the order of the file, so the first problem reported is the first one there.
    qid = _questionnaire_id(fields["id"])
    title = _label(fields["title"], "questionnaire title")
    description = _optional_label(fields, "description", "questionnaire description")
    groups = _coded_items(fields.get("groups"), "group", _code_label(Group))
    served_units = _coded_items(fields.get("served_units"), "served unit", _code_label(ServedUnit))
    scales = _coded_items(fields.get("scales"), "scale", _scale)
    declared = _Declared(
        groups=frozenset(g.code for g in groups),
        served_units=frozenset(u.code for u in served_units),
        scales={**BUILTIN_SCALES, **{s.code: s for s in scales}},
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


def _questionnaire_id(node: Node) -> str:
    qid = _text(node, "questionnaire id")
    if not QUESTIONNAIRE_ID.fullmatch(qid) or len(qid) > MAX_ID_LENGTH:
        rule = f"[a-z][a-z0-9_-]*, at most {MAX_ID_LENGTH} characters"
        reason = f"questionnaire id {_shown(qid)} must match {rule}"
        raise _Invalid(_line(node), reason)
    return qid


def _optional_label(fields: dict[str, Node], key: str, what: str) -> Label | None:
    return _label(fields[key], what) if key in fields else None


def _code_label(cls: Callable[[str, Label], T]) -> Callable[[Node, str], tuple[str, Node, T]]:
    """A builder for the ``{code, label}`` items of groups and served_units."""

    def build(node: Node, what: str) -> tuple[str, Node, T]:
        fields = _fields(node, what, _CODE_LABEL_KEYS)
        code = _code(fields["code"], f"{what} code")
        return code, fields["code"], cls(code, _label(fields["label"], f"{what} label"))

    return build


def _scale(node: Node, what: str) -> tuple[str, Node, Scale]:
    fields = _fields(node, what, _SCALE_KEYS)
    code = _code(fields["code"], f"{what} code")
    if code in BUILTIN_SCALES:
        reason = f"scale code {code!r} is built in; give the declared scale another code"
        raise _Invalid(_line(fields["code"]), reason)
    items = _items(fields["points"], f"{what} points")
    if len(items) < 2:
        reason = f"{what} has {len(items)} point(s); a scale needs at least 2"
        raise _Invalid(_line(fields["points"]), reason)
    values = _Unique("value")
    points = []
    for position, item in enumerate(items, start=1):
        point = _scale_point(item, f"{what} point {position}")
        values.add(point.value, item, f"{what}: ")
        points.append(point)
    return code, fields["code"], Scale(code, tuple(points))


def _scale_point(node: Node, what: str) -> ScalePoint:
    fields = _fields(node, what, _POINT_KEYS)
    value = _integer(fields["value"], f"{what} value")
    return ScalePoint(value, _label(fields["label"], f"{what} label"))


def _sections(node: Node, declared: _Declared) -> tuple[Section, ...]:
    def build(item: Node, what: str) -> tuple[str, Node, Section]:
        return _section(item, what, declared)

    sections = _coded_items(node, "section", build)
    if not sections:
        raise _Invalid(_line(node), "the questionnaire has no sections")
    return sections


def _section(node: Node, what: str, declared: _Declared) -> tuple[str, Node, Section]:
    fields = _fields(node, what, _SECTION_KEYS)
    code = _code(fields["code"], f"{what} code")
    items = _items(fields["questions"], f"{what} questions")
    if not items:
        raise _Invalid(_line(fields["questions"]), f"{what} has no questions")
    questions = []
    for position, item in enumerate(items, start=1):
        questions.append(_question(item, _named(item, "question", position), declared, what))
    section = Section(
        code=code,
        title=_label(fields["title"], f"{what} title"),
        questions=tuple(questions),
        description=_optional_label(fields, "description", f"{what} description"),
    )
    return code, fields["code"], section


def _question(node: Node, what: str, declared: _Declared, section: str) -> Question:
    if not what.startswith("question '"):  # no usable code yet: say where the item is
        what = f"{what} of {section}"
    fields = _fields(node, what, _QUESTION_KEYS)
    code = _code(fields["code"], f"{what} code")
    declared.question_codes.add(code, fields["code"])
    qtype = _question_type(fields["type"], what)
    _check_type_keys(fields, qtype, what)
    return Question(
        code=code,
        type=qtype.name,
        text=_label(fields["text"], f"{what} text"),
        category=_category(fields, what),
        served_unit=_declared_code(fields, "served_unit", declared.served_units, what),
        required=_required(fields, qtype, what),
        audience=_audience(fields, declared.groups, what),
        scale=_question_scale(fields, qtype, declared.scales, what),
        choices=_choices(fields, what),
        follow_up=_optional_label(fields, "follow_up", f"{what} follow_up"),
        help=_optional_label(fields, "help", f"{what} help"),
        line=_line(node),
    )


def _required(fields: dict[str, Node], qtype: QuestionType, what: str) -> bool:
    if "required" not in fields:
        return qtype.default_required
    return _boolean(fields["required"], f"{what}: required")


def _question_type(node: Node, what: str) -> QuestionType:
    name = _text(node, f"{what} type")
    if name not in QUESTION_TYPES:
        expected = ", ".join(sorted(QUESTION_TYPES))
        reason = f"{what}: unknown type {_shown(name)} (expected one of {expected})"
        raise _Invalid(_line(node), reason)
    return QUESTION_TYPES[name]


def _check_type_keys(fields: dict[str, Node], qtype: QuestionType, what: str) -> None:
    """Refuse keys the question's type has no use for, and require choices where needed."""
    name = qtype.name
    if "choices" in fields and not qtype.has_choices:
        raise _Invalid(_line(fields["choices"]), f"{what}: a {name} question takes no choices")
    if qtype.has_choices and "choices" not in fields:
        raise _Invalid(_line_of(fields), f"{what}: a {name} question needs choices")
    if "scale" in fields and not qtype.scale_selectable:
        fixed = f" (it always uses {qtype.default_scale.code})" if qtype.default_scale else ""
        raise _Invalid(_line(fields["scale"]), f"{what}: a {name} question takes no scale{fixed}")
    if "follow_up" in fields and not qtype.takes_follow_up:
        takers = " or ".join(sorted(t.name for t in QUESTION_TYPES.values() if t.takes_follow_up))
        reason = f"{what}: follow_up is only for {takers} questions, not {name}"
        raise _Invalid(_line(fields["follow_up"]), reason)


def _line_of(fields: dict[str, Node]) -> int:
    # `code` is required, so it is always there; its line is the question's first line.
    return _line(fields["code"])


def _category(fields: dict[str, Node], what: str) -> str | None:
    if "category" not in fields:
        return None
    category = _text(fields["category"], f"{what} category")
    if not CATEGORY.fullmatch(category) or len(category) > MAX_CATEGORY_LENGTH:
        example = "like services.documents"
        reason = f"{what}: category {_shown(category)} must be dotted lower-case, {example}"
        raise _Invalid(_line(fields["category"]), reason)
    return category


def _declared_code(
    fields: dict[str, Node], key: str, declared: frozenset[str], what: str
) -> str | None:
    if key not in fields:
        return None
    code = _code(fields[key], f"{what} {key}")
    if code not in declared:
        reason = f"{what}: {key.replace('_', ' ')} {code!r} is not declared in {key}s"
        raise _Invalid(_line(fields[key]), reason)
    return code


def _audience(fields: dict[str, Node], groups: frozenset[str], what: str) -> tuple[str, ...]:
    """The groups that see the question; absent means all. An empty list is refused, since it
    would read as "nobody" but mean "everybody"."""
    if "audience" not in fields:
        return ()
    items = _items(fields["audience"], f"{what} audience")
    if not items:
        reason = f"{what}: audience is empty; leave it out to ask every group"
        raise _Invalid(_line(fields["audience"]), reason)
    seen = _Unique("audience group")  # its lines keep the order of the file
    for item in items:
        group = _code(item, f"{what} audience group")
        if group not in groups:
            reason = f"{what}: audience group {group!r} is not declared in groups"
            raise _Invalid(_line(item), reason)
        seen.add(group, item, f"{what}: ")
    return tuple(seen.lines)


def _question_scale(
    fields: dict[str, Node], qtype: QuestionType, scales: dict[str, Scale], what: str
) -> Scale | None:
    if "scale" not in fields:
        return qtype.default_scale
    code = _code(fields["scale"], f"{what} scale")
    if code not in scales:
        reason = f"{what}: scale {code!r} is not declared in scales (nor built in)"
        raise _Invalid(_line(fields["scale"]), reason)
    return scales[code]


def _choices(fields: dict[str, Node], what: str) -> tuple[Choice, ...]:
    if "choices" not in fields:
        return ()
    choices = _coded_items(fields["choices"], "choice", _code_label(Choice), f"{what}: ")
    if not choices:
        raise _Invalid(_line(fields["choices"]), f"{what}: choices is an empty list")
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
    return {"code": scale.code, "points": points}


def _section_data(section: Section, declared: dict[str, Scale]) -> dict:
    data = {"code": section.code, "title": _label_data(section.title)}
    _put(data, "description", section.description)
    data["questions"] = [_question_data(q, declared) for q in section.questions]
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
    return data


def _scale_reference(q: Question, qtype: QuestionType, declared: dict[str, Scale]) -> str | None:
    """The `scale:` to write for a question: nothing for its type's default scale."""
    if q.scale is None or q.scale == qtype.default_scale:
        return None
    if declared.get(q.scale.code) != q.scale and BUILTIN_SCALES.get(q.scale.code) != q.scale:
        raise ValueError(f"question {q.code!r} uses scale {q.scale.code!r}, which is not declared")
    return q.scale.code
