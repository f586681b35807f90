"""Offices compared on a shared template's items: the provincial view (offices side by side,
for a person who leads each of them) and an office against the others' anonymised
distribution.

Each office's figures are computed while working for that office (``tenancy.office``), by the
same ``round_results`` its own pages use, so they pass its own suppression: an item withheld
on its page is withheld here. Only rounds whose results are final count (closed and released,
``Round.results_final``): an open round's figures move with each answer, and a comparison that
moved with them would tell another office about one answer. Rounds count when their version was
adopted from the template or shared as it (any revision of its code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from analysis import benchmarks
from survey import offices, tenancy
from survey import questionnaire_templates as templates
from survey.extensions import db
from survey.models import (
    ACTIVE_STATUSES,
    LEAD_ROLES,
    CorrectiveAction,
    Office,
    QuestionnaireTemplate,
    QuestionnaireVersion,
    Round,
    User,
)
from survey.results.tables import round_progress, round_results


@dataclass(frozen=True)
class ItemFigure:
    rate: float
    ci_low: float
    ci_high: float
    n: int
    # Against the office's previous final round of the questionnaire (None: none to compare).
    change: float | None = None
    significant: bool = False


@dataclass(frozen=True)
class Actions:
    """The office's corrective actions on the round's items: opened, still open past their
    due date, closed as effective."""

    opened: int = 0
    overdue: int = 0
    effective: int = 0


@dataclass(frozen=True)
class OfficeColumn:
    office_id: int
    name: str
    round_name: str | None = None
    responses: int = 0
    response_rate: float | None = None
    items: dict[str, ItemFigure] = field(default_factory=dict)
    actions: Actions = field(default_factory=Actions)


@dataclass(frozen=True)
class SharedItem:
    code: str
    text: str


def shared_items(code: str, lang: str) -> list[SharedItem]:
    """The rated items of every revision of the template ``code``, in the latest one's order
    (items only earlier revisions had come last)."""
    found: dict[str, str] = {}
    for template in reversed(templates.revisions(code)):
        for question in templates.definition(template).questions():
            if question.scale is not None and question.code not in found:
                found[question.code] = question.text.get(lang)
    return [SharedItem(c, t) for c, t in found.items()]


def led_offices(user: User) -> list[Office]:
    """The offices whose results ``user`` may read: those where they lead quality or
    administer, in the offices' order."""
    ids = [m.office_id for m in user.memberships if m.role in LEAD_ROLES]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Office).where(Office.id.in_(ids)).order_by(Office.position, Office.id)
        )
    )


def _final_rounds(code: str) -> list[Round]:
    """This office's rounds with final results on a version of the template ``code``, the
    latest first."""
    rounds = db.session.scalars(
        select(Round)
        .join(QuestionnaireVersion, Round.version_id == QuestionnaireVersion.id)
        .join(QuestionnaireTemplate, QuestionnaireVersion.template_id == QuestionnaireTemplate.id)
        .where(QuestionnaireTemplate.code == code, Round.status == "closed")
        .order_by(func.coalesce(Round.opens_at, Round.created_at).desc(), Round.id.desc())
    )
    return [r for r in rounds if r.results_final]


def _on_template(round_id: int, code: str) -> bool:
    round_ = db.session.get(Round, round_id)
    template = round_.version.template if round_ is not None else None
    return template is not None and template.code == code


def office_column(code: str, codes: list[str], lang: str, today: date) -> OfficeColumn:
    """The current office's figures on the template's items ``codes``, from its latest final
    round with responses."""
    office_id = tenancy.current_office_id()
    name = offices.name_of(office_id, lang)
    found = ((r, round_results(r)) for r in _final_rounds(code))
    round_, results = next(((r, res) for r, res in found if not res.empty), (None, None))
    if round_ is None:
        return OfficeColumn(office_id, name)
    rates = benchmarks.by_question(results.items, codes)
    changes = {}
    # A change only against a round on the template too: the office's own questionnaire before
    # it adopted the template may have asked another question under the same id.
    comparison = results.comparison
    if comparison is not None and _on_template(comparison.round_id, code):
        table = benchmarks.change_by_question(comparison.items, codes)
        changes = {r.question: r for r in table.itertuples()}
    items = {}
    for row in rates.itertuples():
        change = changes.get(row.question)
        items[row.question] = ItemFigure(
            float(row.rate),
            float(row.ci_low),
            float(row.ci_high),
            int(row.n),
            float(change.difference) if change is not None else None,
            bool(change.significant) if change is not None else False,
        )
    progress, _ = round_progress(round_, results)
    return OfficeColumn(
        office_id,
        name,
        round_.name,
        results.responses,
        progress.rate,
        items,
        _actions(round_, codes, today),
    )


def _actions(round_: Round, codes: list[str], today: date) -> Actions:
    """Actions opened on the round's shared items, how many are overdue, how many closed
    effective."""
    actions = db.session.scalars(
        select(CorrectiveAction).where(
            CorrectiveAction.round_id == round_.id, CorrectiveAction.question_code.in_(codes)
        )
    ).all()
    overdue = [
        a for a in actions if a.status in ACTIVE_STATUSES and a.due_date and a.due_date < today
    ]
    effective = [a for a in actions if a.status == "closed" and a.result == "effective"]
    return Actions(len(actions), len(overdue), len(effective))


def side_by_side(code: str, office_ids: list[int], lang: str, today: date) -> list[OfficeColumn]:
    """Each office's column, computed while working for it."""
    codes = [i.code for i in shared_items(code, lang)]
    here, columns = tenancy.current_office_id(), []
    for office_id in office_ids:
        with tenancy.office(office_id):
            columns.append(office_column(code, codes, lang, today))
        tenancy.forget_other_offices(here)  # a later Session.get must not find its rows
    return columns


@dataclass(frozen=True)
class BenchmarkRow:
    item: SharedItem
    own: ItemFigure | None
    others: benchmarks.Distribution | None
    standing: str | None


@dataclass(frozen=True)
class Benchmark:
    rows: list[BenchmarkRow]
    # Whether this office has a final round on the template: an office that does not take part
    # sees nothing of the others'.
    takes_part: bool
    # The offices left out of the distribution because the visitor sees them named side by
    # side (else one of them could be worked out by subtraction).
    left_out: int


def benchmark(code: str, lang: str, today: date, min_offices: int, visible: set[int]) -> Benchmark:
    """The current office's rates on the template's items against the distribution of the
    other offices' (none named, none shown with fewer than ``min_offices``). ``visible``: the
    offices the visitor sees named anyway (those they lead), left out of the distribution."""
    here = tenancy.current_office_id()
    items = shared_items(code, lang)
    codes = [i.code for i in items]
    own = office_column(code, codes, lang, today)
    if own.round_name is None:
        return Benchmark([BenchmarkRow(i, None, None, None) for i in items], False, 0)
    with tenancy.unscoped():
        others = db.session.scalars(select(Office.id).where(Office.id != here)).all()
    counted = [o for o in others if o not in visible]
    rates: dict[str, list[float]] = {c: [] for c in codes}
    for office_id in counted:
        with tenancy.office(office_id):
            column = office_column(code, codes, lang, today)
        tenancy.forget_other_offices(here)
        for c, figure in column.items.items():
            rates[c].append(figure.rate)
    rows = []
    for item in items:
        mine = own.items.get(item.code)
        spread = benchmarks.distribution(rates[item.code], min_offices)
        standing = benchmarks.standing(mine.rate, spread) if mine and spread else None
        rows.append(BenchmarkRow(item, mine, spread, standing))
    return Benchmark(rows, True, len(others) - len(counted))
