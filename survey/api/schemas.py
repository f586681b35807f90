"""The pydantic models of the API's query strings, bodies and answers: the schemas of the
OpenAPI document (``survey.api.spec``), and the validation of what a request sends.

Answers are built as plain dicts by the views (the same figures as the pages); these models
describe them, and the schemathesis test checks every answer against them. Rows of the
results tables list their known columns and allow more, so that a new column of ``analysis``
is an addition to the API, not a breaking change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from survey.converters import MAX_ID

Number = float | int | None
Lang = Literal["zh", "en"]


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(Open):
    """Every error under /api/: the HTTP status, its name, and for most a sentence."""

    error: str = Field(description="The status's name, e.g. 'Not Found'.")
    status: int = Field(ge=400, le=599)
    message: str | None = Field(None, description="What went wrong, in a sentence.")
    login: str | None = Field(None, description="401: where a browser logs in.")
    incident: str | None = Field(None, description="500, 503: the id to quote to the office.")
    known: list[str] | None = Field(None, description="400 on transitions: the known ones.")


# --- rounds and results --------------------------------------------------------------------


class RoundsQuery(Closed):
    archived: Literal["0", "1"] | None = Field(
        None, description="1: only the archived rounds (left out otherwise)."
    )


class ResultsQuery(Closed):
    lang: Lang | None = Field(None, description="The language of the labels.")


class CommentsQuery(Closed):
    lang: Lang | None = Field(None, description="The language of the labels.")
    question: str | None = Field(None, max_length=40, description="A question code.")
    group: str | None = Field(
        None,
        max_length=40,
        description="A respondent group code; a group the anonymity rule hides gives nothing.",
    )
    rating: int | None = Field(None, ge=0, le=100, description="Comments of this rating only.")
    page: int = Field(1, ge=1, le=1_000_000)


class RoundOut(Closed):
    id: int
    name: str
    status: str
    questionnaire: str
    version: int
    opens_at: str | None
    closes_at: str | None
    anonymous: bool
    archived_at: str | None
    invited: int
    submitted: int
    response_rate: Number
    responses: int
    # True while the round's figures are kept from the caller until it closes (its results
    # and comments answer 403): see "Open rounds" in the README.
    sealed: bool
    results_url: str
    dashboard_url: str


class RoundsOut(Closed):
    rounds: list[RoundOut]


class Row(Open):
    """A row of a results table: codes, their labels (``<code>_label``) and figures
    (null where a figure is hidden or undefined)."""


class ItemRow(Row):
    question: str
    question_label: str | None = None
    category: str | None = None
    served_unit: str | None = None
    n: Number = None
    respondents: Number = None
    satisfied: Number = None
    rate: Number = None
    ci_low: Number = None
    ci_high: Number = None
    mean: Number = None


class GroupRow(Row):
    group: str | None
    suppressed: bool | None = None
    rate: Number = None
    n: Number = None


class ChoiceCount(Closed):
    choice: str
    label: str
    count: int
    share: Number


class ChoiceQuestion(Closed):
    question: str
    question_label: str
    type: Literal["choice", "multi"]
    respondents: int | None = Field(description="null when withheld.")
    withheld: bool = Field(
        description="Answered by fewer respondents than the anonymity threshold: no counts."
    )
    choices: list[ChoiceCount]


class DriverRow(Row):
    question: str
    question_label: str | None = None
    importance: Number = None
    importance_low: Number = None
    importance_high: Number = None
    pairs: Number = None
    quadrant: str | None = None
    reason: str | None = None


class Thresholds(Closed):
    rate: float
    anonymity: int


class Previous(Closed):
    id: int
    name: str
    categories: list[Row]
    items: list[Row]


class Weighted(Closed):
    round: Row
    categories: list[Row]
    items: list[Row]


class ResultsOut(Closed):
    data_version: str
    language: Lang
    thresholds: Thresholds
    summary: Row
    categories: list[Row]
    items: list[ItemRow]
    below_threshold: list[Row]
    groups: list[GroupRow]
    group_categories: list[Row]
    served_units: list[Row]
    withheld_items: list[Row]
    other_groups: list[str]
    weighted: Weighted | None
    previous_round: Previous | None
    choice_questions: list[ChoiceQuestion]
    drivers: list[DriverRow]
    comments_url: str
    round: RoundOut


class Comment(Closed):
    question: str
    question_label: str
    group: str | None = Field(description="null: 'other groups' (the anonymity rule).")
    group_label: str
    rating: int | None
    text: str
    kind: Literal["follow_up", "free_text"]
    source: str


class CommentsOut(Closed):
    round_id: int
    language: Lang
    total: int
    page: int
    pages: int
    per_page: int
    comments: list[Comment]


# --- corrective actions --------------------------------------------------------------------


class ActionsQuery(Closed):
    status: str | None = Field(
        None, max_length=40, description="One status, `active` (default) or `all`."
    )
    owner: int | None = Field(None, ge=0, le=MAX_ID)
    served_unit: str | None = Field(None, max_length=40)
    category: str | None = Field(None, max_length=80)
    round: int | None = Field(None, ge=0, le=MAX_ID)
    overdue: Literal["y", "false", ""] | None = None


class ActionBrief(Open):
    id: int
    status: str
    round_id: int | None
    question_code: str | None
    served_unit: str | None
    rule: str | None
    observed: Number
    rate: Number
    n: Number
    threshold: Number
    owner_id: int | None
    due_date: str | None
    overdue: bool
    url: str


class ActionsOut(Closed):
    count: int
    actions: list[ActionBrief]


class ActionEventOut(Open):
    at: str
    actor_id: int | None
    actor: str | None
    kind: str
    text: str | None


class ActionOut(ActionBrief):
    steps: list[Open]
    history: list[ActionEventOut]
    transitions: list[str]


class TransitionIn(Closed):
    transition: str = Field(max_length=60, description="e.g. start_investigation, close.")
    text: str | None = Field(None, max_length=10_000)
    round: int | None = Field(
        None, ge=1, le=MAX_ID, description="A verdict's round (close, not_effective)."
    )
