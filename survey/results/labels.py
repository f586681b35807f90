"""Display texts of a questionnaire version's codes, and short labels for chart axes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from questionnaires import Questionnaire, Scale, tabulated_as
from survey.models import (
    QuestionnaireVersion,
)
from survey.questionnaire_store import to_model


@dataclass(frozen=True)
class Labels:
    """Display texts of one language for the codes in a round's tables, and the
    questionnaire's order of questions and categories.

    A category has no label of its own in a questionnaire file: it takes the title of the
    section that holds all its rating questions and no other category's, else the text of its
    only question, else its code.
    """

    lang: str
    questions: dict[str, str]
    categories: dict[str, str]
    groups: dict[str, str]
    served_units: dict[str, str]
    question_order: tuple[str, ...]
    category_order: tuple[str, ...]

    def of(self, *kinds: str) -> dict[str, str]:
        """One mapping, e.g. ``of("groups", "categories")``."""
        merged: dict[str, str] = {}
        for kind in kinds:
            merged.update(getattr(self, kind))
        return merged

    def short(self, *kinds: str) -> dict[str, str]:
        """``of(*kinds)`` shortened for chart axes (see ``short_label``)."""
        return {code: short_label(text) for code, text in self.of(*kinds).items()}


SHORT_LABEL = 56
PARENTHESIS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def short_label(text: str, width: int = SHORT_LABEL) -> str:
    """A label for a chart axis: a closing parenthesis dropped ("The city's environment (air,
    water and green space)" -> "The city's environment"), then at most ``width`` characters
    (a Chinese character counts two), cut at a word and marked with "…"."""
    text = PARENTHESIS.sub("", text).strip() or text
    used, cut = 0, len(text)
    for index, ch in enumerate(text):
        used += 2 if "\u2e80" <= ch <= "\uffef" else 1
        if used > width:
            cut = index
            break
    if cut == len(text):
        return text
    head = text[:cut]
    if " " in head and not ("\u2e80" <= head[-1] <= "\uffef"):
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "…"


def labels_for(
    version: QuestionnaireVersion, lang: str, definition: Questionnaire | None = None
) -> Labels:
    """The labels of a questionnaire version in ``lang`` (see ``Labels``); ``definition`` is
    the version's (``to_model``), when the caller has it already."""
    definition = definition or to_model(version)
    rated = tabulated_as("satisfaction")
    ratings = [q for q in definition.questions() if q.type in rated]
    categories: dict[str, str] = {}
    for code in dict.fromkeys(q.category for q in ratings if q.category):
        mine = [q for q in ratings if q.category == code]
        sections = [s for s in definition.sections if any(q.category == code for q in s.questions)]
        only = [
            s
            for s in sections
            if all(q.category in (code, None) for q in s.questions if q.type in rated)
        ]
        if len(sections) == 1 and only:
            categories[code] = only[0].title.get(lang)
        elif len(mine) == 1:
            categories[code] = mine[0].text.get(lang)
        else:
            categories[code] = code
    return Labels(
        lang=lang,
        questions={q.code: q.text.get(lang) for q in definition.questions()},
        categories=categories,
        groups={g.code: g.label.get(lang) for g in definition.groups},
        served_units={u.code: u.label.get(lang) for u in definition.served_units},
        question_order=tuple(q.code for q in definition.questions()),
        category_order=tuple(categories),
    )


def rating_scale(
    version: QuestionnaireVersion, definition: Questionnaire | None = None
) -> Scale | None:
    """The one scale every rating question of the version uses (points, satisfied and
    dissatisfied points alike), for texts such as "satisfied (4 or 5)"; None when they use
    different ones, or the version rates nothing. ``definition`` is the version's
    (``to_model``), when the caller has it already."""
    rated = tabulated_as("satisfaction")
    scales = {
        (q.scale.values, q.scale.satisfied_values, q.scale.dissatisfied_values): q.scale
        for q in (definition or to_model(version)).questions()
        if q.type in rated and q.scale is not None
    }
    return next(iter(scales.values())) if len(scales) == 1 else None
