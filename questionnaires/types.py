"""The kinds of question a questionnaire may ask, one small class per kind.

`QUESTION_TYPES` maps a type name (the `type:` of a question in a definition file) to an object
that says what the type needs (a scale? choices?) and turns what a web form posted into the value
that is stored. The registry is pure: the WTForms field for each type is chosen in the survey app,
so adding a type here never drags Flask into this package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .model import Label, Question, Scale, ScalePoint

#: Longest free-text answer accepted, in characters (after stripping).
MAX_TEXT_LENGTH = 4000

Raw = str | Sequence[str] | None
Value = int | str | tuple[str, ...] | None


class AnswerError(ValueError):
    """A posted answer that the question cannot take; `str(err)` is meant for the respondent."""


def _builtin_satisfaction5() -> Scale:
    words = [
        ("很不满意", "Very dissatisfied"),
        ("不满意", "Dissatisfied"),
        ("一般", "Neutral"),
        ("满意", "Satisfied"),
        ("很满意", "Very satisfied"),
    ]
    points = tuple(ScalePoint(i, Label(zh, en)) for i, (zh, en) in enumerate(words, start=1))
    return Scale("satisfaction5", points)


def _builtin_nps11() -> Scale:
    ends = {0: Label("完全不可能", "Not at all likely"), 10: Label("极有可能", "Extremely likely")}
    points = tuple(ScalePoint(v, ends.get(v, Label(str(v), str(v)))) for v in range(11))
    return Scale("nps11", points)


#: The default scale of a `rating` question: 1 = very dissatisfied .. 5 = very satisfied.
SATISFACTION5 = _builtin_satisfaction5()
#: The scale of every `nps` question: 0 = not at all likely .. 10 = extremely likely.
NPS11 = _builtin_nps11()
#: Scales every questionnaire may refer to without declaring them; their codes are reserved.
BUILTIN_SCALES: dict[str, Scale] = {s.code: s for s in (SATISFACTION5, NPS11)}

# ASCII digits only: int() would also accept "٣" or "３", which no form of ours ever posts.
_INTEGER = re.compile(r"-?[0-9]+")
# Posted text is echoed in error messages; a tampered form must not fill the page with it.
_ECHO_LIMIT = 20


class QuestionType:
    """What one kind of question needs in its definition and how its answers are parsed.

    Subclasses set the class attributes and implement `parse_present`; `parse` handles the
    empty answer (None, "", whitespace or an empty list), which is None for every type.
    """

    name: str = ""
    #: What the questionnaire editor calls the type, in both languages.
    label: Label = Label("", "")
    #: The kind of form field that asks it: "scale" (one point of a scale), "radio" (one of
    #: the choices), "checkboxes" (several), "textarea", "number" (a whole number) or "note"
    #: (no field: text shown between the questions). Kinds, not WTForms classes: the
    #: survey app maps each kind to a field, so this package stays free of web code.
    field: str = ""
    #: How its answers are tabulated: "satisfaction" (satisfaction rate, mean, distribution and
    #: the low-score rules), "score" (a 0..10 score, kept apart from satisfaction), "counts"
    #: (choices counted), "comments" (free text, read as comments), "numbers" (whole numbers:
    #: n, median, mean, min, max) or "nothing" (a note: never answered).
    tabulated_as: str = ""
    #: Whether the respondent answers it at all; a note is only read.
    answered: bool = True
    #: Whether a definition may set `min_value` and `max_value` (integer) or `max_length` (text).
    takes_range: bool = False
    takes_max_length: bool = False
    #: The stored value is a number on a scale.
    numeric: bool = False
    has_scale: bool = False
    has_choices: bool = False
    #: Whether a definition may pick the scale with `scale:`; nps always uses NPS11.
    scale_selectable: bool = False
    #: Whether a definition may add a `follow_up:` asked after a low answer.
    takes_follow_up: bool = False
    #: `required` when a definition does not say.
    default_required: bool = True
    #: The scale used when a definition names none (None for types without a scale).
    default_scale: Scale | None = None
    #: Whether a form posts several values for one question.
    multiple: bool = False

    def parse(self, question: Question, raw: Raw) -> Value:
        """Turn what a form posted into the stored value, None when nothing was given.

        Raises AnswerError with an English message when the answer is not acceptable.
        """
        values = _present_values(raw)
        if not values:
            return None
        if len(values) > 1 and not self.multiple:
            raise AnswerError("only one answer may be given")
        return self.parse_present(question, values)

    def parse_present(self, question: Question, values: list[str]) -> Value:
        raise NotImplementedError

    def scale_of(self, question: Question) -> Scale | None:
        """The question's scale, or this type's default for a question built without one."""
        return question.scale or self.default_scale

    def __repr__(self) -> str:
        return f"<QuestionType {self.name}>"


class RatingType(QuestionType):
    """A point on a labelled scale, by default 1..5 from very dissatisfied to very satisfied."""

    name = "rating"
    label = Label("量表评分", "Rating on a scale")
    field = "scale"
    tabulated_as = "satisfaction"
    numeric = True
    has_scale = True
    scale_selectable = True
    takes_follow_up = True
    default_scale = SATISFACTION5

    def parse_present(self, question: Question, values: list[str]) -> int:
        text = values[0]
        if not _INTEGER.fullmatch(text):
            raise AnswerError(f"{_cut(text)!r} is not a whole number")
        scale = self.scale_of(question)
        # Bounding the length first keeps int() away from huge digit strings.
        value = int(text) if len(text) <= 6 else None
        if scale is None or value not in scale.values:
            raise AnswerError(f"{_cut(text)} is not a point of this scale")
        return value


class NpsType(RatingType):
    """How likely the respondent is to recommend something, 0..10, always on nps11."""

    name = "nps"
    label = Label("推荐意愿（0–10）", "Likelihood to recommend (0–10)")
    tabulated_as = "score"
    scale_selectable = False
    takes_follow_up = False
    default_scale = NPS11


class ChoiceType(QuestionType):
    """One of the question's choices, stored as the choice's code."""

    name = "choice"
    label = Label("单选", "One choice")
    field = "radio"
    tabulated_as = "counts"
    has_choices = True

    def parse_present(self, question: Question, values: list[str]) -> str:
        return _known_choice(question, values[0])


class MultiType(QuestionType):
    """Any number of the question's choices, stored as codes in the order of the definition."""

    name = "multi"
    label = Label("多选", "Several choices")
    field = "checkboxes"
    tabulated_as = "counts"
    has_choices = True
    multiple = True

    def parse_present(self, question: Question, values: list[str]) -> tuple[str, ...]:
        picked = {_known_choice(question, v) for v in values}
        return tuple(c.code for c in question.choices if c.code in picked)


class TextType(QuestionType):
    """Free text, stripped, at most `max_length` characters (default and most MAX_TEXT_LENGTH);
    optional unless stated."""

    name = "text"
    label = Label("文字填写", "Free text")
    field = "textarea"
    tabulated_as = "comments"
    default_required = False
    takes_max_length = True

    def parse_present(self, question: Question, values: list[str]) -> str | None:
        # Browsers post textarea line breaks as CRLF; count what the respondent typed.
        # PostgreSQL text columns cannot hold NUL, and no respondent means to type one.
        text = values[0].replace("\r\n", "\n").replace("\x00", "").strip()
        most = max_length(question)
        if len(text) > most:
            raise AnswerError(
                f"the text is {len(text)} characters long; at most {most} are allowed"
            )
        return text or None


def max_length(question: Question) -> int:
    """The most characters a text answer to `question` may have."""
    return min(question.max_length or MAX_TEXT_LENGTH, MAX_TEXT_LENGTH)


#: The whole numbers an integer answer, and its `min_value` and `max_value`, may be: what any
#: database's 32-bit integer column holds, with room to spare.
INTEGER_LIMIT = 1_000_000_000


class IntegerType(QuestionType):
    """A whole number, within the question's `min_value` and `max_value` when it sets them.

    Not `numeric`: the number is on no scale, so the satisfaction analysis leaves it alone; it
    is tabulated as "numbers" (n, median, mean, min, max).
    """

    name = "integer"
    label = Label("整数", "Whole number")
    field = "number"
    tabulated_as = "numbers"
    takes_range = True

    def parse_present(self, question: Question, values: list[str]) -> int:
        text = values[0]
        if not _INTEGER.fullmatch(text):
            raise AnswerError(f"{_cut(text)!r} is not a whole number")
        # Bounding the length first keeps int() away from huge digit strings.
        value = int(text) if len(text) <= 11 else None
        if value is None or abs(value) > INTEGER_LIMIT:
            raise AnswerError(f"{_cut(text)} is too large")
        if question.min_value is not None and value < question.min_value:
            raise AnswerError(f"the number must be at least {question.min_value}")
        if question.max_value is not None and value > question.max_value:
            raise AnswerError(f"the number must be at most {question.max_value}")
        return value


class NoteType(QuestionType):
    """Text shown between the questions (an instruction, a heading): nothing is answered,
    required, stored or tabulated."""

    name = "note"
    label = Label("说明文字（无需作答）", "Note (text only, no answer)")
    field = "note"
    tabulated_as = "nothing"
    answered = False
    default_required = False

    def parse(self, question: Question, raw: Raw) -> Value:
        # Whatever a tampered form posts for a note is ignored: there is nothing to answer.
        return None


QUESTION_TYPES: dict[str, QuestionType] = {}


def register(question_type: QuestionType) -> QuestionType:
    """Add a question type to the registry under its name; a name can be registered once."""
    if question_type.name in QUESTION_TYPES:
        raise ValueError(f"question type {question_type.name!r} is already registered")
    QUESTION_TYPES[question_type.name] = question_type
    return question_type


for _type in (
    RatingType(),
    NpsType(),
    ChoiceType(),
    MultiType(),
    TextType(),
    IntegerType(),
    NoteType(),
):
    register(_type)


def tabulated_as(kind: str) -> tuple[str, ...]:
    """The names of the registered types tabulated as ``kind`` ("satisfaction", "score",
    "counts", "comments", "numbers", "nothing"), in the registry's order."""
    return tuple(name for name, t in QUESTION_TYPES.items() if t.tabulated_as == kind)


def parse_answer(question: Question, raw: Raw) -> Value:
    """Parse a posted answer with the question's type, and refuse an empty required answer.

    Raises AnswerError("an answer is required") when the question is required and nothing was
    given; otherwise the rules of the type's `parse` apply.
    """
    qtype = QUESTION_TYPES[question.type]
    value = qtype.parse(question, raw)
    if value is None and question.required and qtype.answered:
        raise AnswerError("an answer is required")
    return value


def _present_values(raw: Raw) -> list[str]:
    """The non-blank strings of a posted value; a lone string counts as a list of one."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    return [item.strip() for item in items if isinstance(item, str) and item.strip()]


def _known_choice(question: Question, code: str) -> str:
    if code not in {c.code for c in question.choices}:
        raise AnswerError(f"{_cut(code)!r} is not one of the choices")
    return code


def _cut(text: str) -> str:
    """`text` as echoed in an error message, cut short if a tampered form sent a long one."""
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "..."
