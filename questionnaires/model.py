"""The questionnaire as plain, frozen data.

These dataclasses are what the loader returns and what the survey app renders. They know
nothing of Flask or the database, so a definition can be checked, compared and exported
without a running app.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

LANGUAGES = ("zh", "en")
#: The `type:` of a grid in a definition file, and the type of each of its rows.
GRID_TYPE = "grid"
GRID_ROW_TYPE = "rating"
#: What a question's follow-up comment is posted and saved under, after the question's own
#: name: no question code may end in it (the loader refuses one), or it would take another
#: question's comment.
COMMENT_SUFFIX = "__comment"


@dataclass(frozen=True)
class Label:
    """A text in Simplified Chinese and English; a missing language falls back to the other."""

    zh: str
    en: str

    def get(self, lang: str = "zh") -> str:
        if lang.startswith("en"):
            return self.en or self.zh
        return self.zh or self.en

    def __str__(self) -> str:  # pragma: no cover - debugging aid only
        return self.get("zh")


@dataclass(frozen=True)
class ScalePoint:
    value: int
    label: Label


# How many points count as satisfied (the top ones) and as dissatisfied (the bottom ones) when
# a scale does not say: two each, one each on a scale of 3 points or fewer (a 3-point scale's
# top two would take in its middle point, and its bottom two would overlap them).
DEFAULT_BOXES = 2
SMALL_SCALE_POINTS = 3


def default_boxes(n_points: int) -> int:
    """How many top (and bottom) points a scale of ``n_points`` counts as satisfied (and
    dissatisfied) by default: 2, or 1 on a scale of 3 points or fewer."""
    return DEFAULT_BOXES if n_points > SMALL_SCALE_POINTS else 1


@dataclass(frozen=True)
class Scale:
    """An ordered, labelled rating scale such as 1..5 or 0..10; higher values are better.

    ``satisfied`` and ``dissatisfied`` are the point values the definition declared as such,
    empty when it left the default: the top two and bottom two points of the scale (one each
    on a scale of 3 points or fewer). ``satisfied_values`` and ``dissatisfied_values`` give the
    points that count either way; the loader makes sure they are the top and bottom points
    without a gap and never overlap.
    """

    code: str
    points: tuple[ScalePoint, ...]
    satisfied: tuple[int, ...] = ()
    dissatisfied: tuple[int, ...] = ()

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.points)

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)

    @property
    def satisfied_values(self) -> tuple[int, ...]:
        """The points counted as satisfied, ascending (default: the top two, or one)."""
        if self.satisfied:
            return tuple(sorted(self.satisfied))
        ordered = sorted(self.values)
        return tuple(ordered[len(ordered) - default_boxes(len(ordered)) :])

    @property
    def dissatisfied_values(self) -> tuple[int, ...]:
        """The points counted as dissatisfied, ascending (default: the bottom two, or one)."""
        if self.dissatisfied:
            return tuple(sorted(self.dissatisfied))
        ordered = sorted(self.values)
        return tuple(ordered[: default_boxes(len(ordered))])

    @property
    def satisfied_from(self) -> int:
        """The lowest satisfied value: a rating is satisfied when it is at least this."""
        return min(self.satisfied_values)

    @property
    def dissatisfied_to(self) -> int:
        """The highest dissatisfied value: a rating is dissatisfied when it is at most this."""
        return max(self.dissatisfied_values)

    def is_low(self, value: int) -> bool:
        """Dissatisfied (1 or 2 of 5 by default): such a rating asks for a follow-up."""
        return value <= self.dissatisfied_to

    def is_satisfied(self, value: int) -> bool:
        """Satisfied (4 or 5 of 5 by default)."""
        return value >= self.satisfied_from


@dataclass(frozen=True)
class Choice:
    code: str
    label: Label


@dataclass(frozen=True)
class Grid:
    """A grid (matrix) question: one text and one scale over several rows.

    Each row is a `rating` Question of its own, with its own code, that names its grid; the rows
    of a grid follow each other in their section. So everything that reads answers (storage,
    analysis, exports, the low-score rules) sees ordinary rating items, and only the form, the
    editor and the definition file know that the rows belong together.
    """

    code: str
    text: Label
    help: Label | None = None


@dataclass(frozen=True)
class Question:
    code: str
    type: str
    text: Label
    category: str | None = None
    served_unit: str | None = None
    required: bool = True
    # Empty means every respondent group of the questionnaire sees the question.
    audience: tuple[str, ...] = ()
    scale: Scale | None = None
    choices: tuple[Choice, ...] = ()
    follow_up: Label | None = None
    help: Label | None = None
    # Limits: the smallest and largest whole number an `integer` answer may be, and the most
    # characters a `text` answer may have (None: the type's own limit).
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None
    # When the question is shown (questionnaires.conditions), None for always.
    show_if: str | None = None
    # The grid this question is a row of (its type is then rating), None for a question alone.
    grid: Grid | None = None
    # Line of the question in its source file, for error messages; 0 when not from a file.
    line: int = field(default=0, compare=False)

    def shown_to(self, group: str | None) -> bool:
        return group is None or not self.audience or group in self.audience


@dataclass(frozen=True)
class GridRows:
    """A grid with its rows, as a form or the editor shows them: together, in one place."""

    grid: Grid
    rows: tuple[Question, ...]

    @property
    def code(self) -> str:
        return self.grid.code


def blocks(questions: tuple[Question, ...]) -> tuple[Question | GridRows, ...]:
    """`questions` as they are shown: a question alone, or the consecutive rows of one grid
    gathered into a GridRows (in the order of the section)."""
    result: list[Question | GridRows] = []
    for q in questions:
        last = result[-1] if result else None
        if q.grid is None:
            result.append(q)
        elif isinstance(last, GridRows) and last.grid.code == q.grid.code:
            result[-1] = GridRows(last.grid, (*last.rows, q))
        else:
            result.append(GridRows(q.grid, (q,)))
    return tuple(result)


@dataclass(frozen=True)
class Section:
    code: str
    title: Label
    questions: tuple[Question, ...]
    description: Label | None = None
    # When the section is shown (questionnaires.conditions), None for always.
    show_if: str | None = None

    def blocks(self) -> tuple[Question | GridRows, ...]:
        """The section's questions with each grid's rows gathered (see `blocks`)."""
        return blocks(self.questions)


@dataclass(frozen=True)
class Group:
    """A respondent group, such as the mayors' and vice-mayors' offices."""

    code: str
    label: Label


@dataclass(frozen=True)
class ServedUnit:
    """A division of the office whose service is rated, such as document processing."""

    code: str
    label: Label


@dataclass(frozen=True)
class Questionnaire:
    id: str
    title: Label
    sections: tuple[Section, ...]
    groups: tuple[Group, ...] = ()
    served_units: tuple[ServedUnit, ...] = ()
    scales: tuple[Scale, ...] = ()
    description: Label | None = None

    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    def question(self, code: str) -> Question:
        for q in self.questions():
            if q.code == code:
                return q
        raise KeyError(code)

    def for_group(self, group: str | None) -> Questionnaire:
        """The questionnaire as one respondent group sees it: other groups' items and the
        sections left empty by that are dropped."""
        sections = []
        for s in self.sections:
            shown = tuple(q for q in s.questions if q.shown_to(group))
            if shown:
                sections.append(replace(s, questions=shown))
        return replace(self, sections=tuple(sections))
