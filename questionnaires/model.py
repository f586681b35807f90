"""The questionnaire as plain, frozen data.

These dataclasses are what the loader returns and what the survey app renders. They know
nothing of Flask or the database, so a definition can be checked, compared and exported
without a running app.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

LANGUAGES = ("zh", "en")


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


@dataclass(frozen=True)
class Scale:
    """An ordered, labelled rating scale such as 1..5 or 0..10."""

    code: str
    points: tuple[ScalePoint, ...]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(p.value for p in self.points)

    @property
    def minimum(self) -> int:
        return min(self.values)

    @property
    def maximum(self) -> int:
        return max(self.values)

    def is_low(self, value: int) -> bool:
        """The bottom two points (1 or 2 of 5) are "dissatisfied" and ask for a follow-up."""
        return value <= self.minimum + 1


@dataclass(frozen=True)
class Choice:
    code: str
    label: Label


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
    # Line of the question in its source file, for error messages; 0 when not from a file.
    line: int = field(default=0, compare=False)

    def shown_to(self, group: str | None) -> bool:
        return group is None or not self.audience or group in self.audience


@dataclass(frozen=True)
class Section:
    code: str
    title: Label
    questions: tuple[Question, ...]
    description: Label | None = None


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
