"""What the respondent's pages build from a questionnaire version, kept while the version is
frozen (a version a round has used can no longer change).

Profiling the submission burst (bench/profile_submission.py) put most of a respondent's page
and submit into work that is the same for every invitation of one version and group: the
questionnaire built from its database rows, the generated WTForms class, the HTML of the
unanswered questions (twenty radio groups through Jinja macros), the group's "you said,
we did" summary of the previous round, and the questions' database ids. It is built once per
(version, group) and kept for TTL seconds in the application (one cache per app, so that two
apps in one process, as in the tests, never share a version id's entry). The TTL bounds how
long a renamed group or served unit keeps its old label, or a newly published summary stays
unseen; the version's own text never changes.
Each gunicorn worker keeps its own: nothing here needs to agree across processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from markupsafe import Markup

from questionnaires.model import Questionnaire
from survey.questionnaire_form import SurveyForm, form_for

TTL_SECONDS = 60.0
EXTENSION = "survey.respond.built"


@dataclass
class Built:
    """One version as one respondent group sees it, and what is derived from it."""

    questionnaire: Questionnaire
    made_at: float
    _forms: dict[tuple[str, bool], type[SurveyForm]] = field(default_factory=dict)
    _blank: dict[str, Markup] = field(default_factory=dict)
    _summaries: dict[int, object] = field(default_factory=dict)
    _question_ids: dict[str, int] | None = None
    _pages: dict[tuple, list[str]] = field(default_factory=dict)

    def form_class(self, lang: str, enforce_required: bool = True) -> type[SurveyForm]:
        key = (lang, enforce_required)
        if key not in self._forms:
            self._forms[key] = form_for(self.questionnaire, lang, enforce_required)
        return self._forms[key]

    def blank_questions(self, lang: str, render: Callable[[], str]) -> Markup:
        """The questions of an unanswered form without errors, rendered once per language."""
        if lang not in self._blank:
            self._blank[lang] = Markup(render())
        return self._blank[lang]

    def summary(self, round_id: int, find: Callable[[], object]) -> object:
        """The group's "you said, we did" shown in this round (None kept too): published
        between rounds, so showing a new one up to TTL seconds late is of no consequence."""
        if round_id not in self._summaries:
            self._summaries[round_id] = find()
        return self._summaries[round_id]

    def blank_page(self, key: tuple, render: Callable[[], list[str]]) -> list[str]:
        """The whole survey page of an unanswered form, rendered once per ``key`` (the
        language and everything of the round the page shows) with slots for what differs
        between invitations: the text between the slots, and each slot's name, alternately
        (see survey.respond.views._blank_page)."""
        parts = self._pages.get(key)
        if parts is None:
            parts = self._pages[key] = render()
        return parts

    def question_ids(self, read: Callable[[], dict[str, int]]) -> dict[str, int]:
        """The version's question ids by code, which the answers are stored under: fixed once
        the version is frozen, and only a frozen version's entry is kept."""
        if self._question_ids is None:
            self._question_ids = read()
        return self._question_ids


class BuiltVersions:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[int, str], Built] = {}
        self._lock = threading.Lock()

    def get(
        self, version_id: int, group: str, frozen: bool, build: Callable[[], Questionnaire]
    ) -> Built:
        """The entry for (version, group); built anew when missing, stale or not frozen (a
        draft under preview changes between requests, so it is never kept)."""
        now = time.monotonic()
        key = (version_id, group)
        entry = self._entries.get(key)
        if frozen and entry is not None and now - entry.made_at < self.ttl:
            return entry
        entry = Built(build(), now)
        if frozen:
            with self._lock:
                self._entries[key] = entry
        return entry


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = BuiltVersions(
        float(app.config.get("RESPONDENT_CACHE_SECONDS", TTL_SECONDS))
    )


def built_versions() -> BuiltVersions:
    return current_app.extensions[EXTENSION]
