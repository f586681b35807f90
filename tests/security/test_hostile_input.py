"""Hostile input: XSS payloads in every text a user can type reach no page, chart or export
unescaped; spreadsheet cells never start a formula, while numbers stay numbers."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from html.parser import HTMLParser

import openpyxl
import pytest
import yaml
from sqlalchemy import select

from questionnaires import DEFINITIONS_DIR, loads
from survey import corrective
from survey.extensions import db
from survey.models import Invitation, Round, Unit, utcnow
from survey.questionnaire_store import save_version
from survey.responses import submit
from survey.spreadsheets import FORMULA_STARTS, safe_cell

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "{{7*7}}",
    "＜script＞alert(1)＜/script＞",
    "'><a href=javascript:alert(1) onmouseover=alert(1)>x</a>",
    '=HYPERLINK("http://evil","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\tleading tab",
    "\rleading CR",
    "\0leading NUL",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
]
SCRIPT_PAYLOADS = [p for p in PAYLOADS if "<" in p]


def hostile(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


def _poison(node, counter):
    """Every zh/en text of the definition becomes a payload (with the language kept apart)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("zh", "en") and isinstance(value, str):
                node[key] = f"{hostile(next(counter))} {key}"
            else:
                _poison(value, counter)
    elif isinstance(node, list):
        for item in node:
            _poison(item, counter)


@pytest.fixture
def hostile_round(office_version, rate):
    data = yaml.safe_load((DEFINITIONS_DIR / "office-services.yaml").read_text("utf-8"))
    _poison(data, iter(range(10_000)))
    version = save_version(loads(yaml.safe_dump(data, allow_unicode=True)))
    for i, unit in enumerate(db.session.scalars(select(Unit))):
        unit.name_zh, unit.name_en = hostile(i), hostile(i + 1)
    now = utcnow()
    version.frozen_at = now
    round_ = Round(
        name=PAYLOADS[1],
        version=version,
        status="open",
        anonymous=False,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    db.session.add(round_)
    db.session.commit()
    return rate(round_, 6, 10, comments=tuple(PAYLOADS[:4]))


@pytest.fixture
def hostile_world(hostile_round, lead, owner):
    unit = db.session.scalar(select(Unit).join(Unit.group).order_by(Unit.id))
    invitations = [
        Invitation(round=hostile_round, unit=unit, group_id=unit.group_id)
        for _ in range(len(PAYLOADS) + 1)
    ]
    db.session.add_all(invitations)
    db.session.commit()
    for i, invitation in enumerate(invitations[1:]):
        answers = {"doc_timeliness": 1, "comment": PAYLOADS[i]}
        submit(invitation, answers, {"doc_timeliness": PAYLOADS[-i - 1]}, f"k{i}", utcnow())
    (action,) = corrective.run_rules(hostile_round, utcnow()).created
    corrective.assign(action, owner, date.today() + timedelta(days=9), lead, utcnow())
    corrective.record(
        action,
        "investigation",
        lead,
        utcnow(),
        containment=PAYLOADS[0],
        cause_method="five_whys",
        root_cause=PAYLOADS[1],
    )
    corrective.add_step(action, "corrective", PAYLOADS[3], owner, date.today(), lead, utcnow())
    db.session.commit()
    return hostile_round, invitations[0], action


class Inspector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems, self._in_script = [], False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action") and (value or "").startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in ("svg", "img") and any(n.startswith("on") for n, _ in attrs):
            self.problems.append(tag)

    def handle_data(self, data):
        if self._in_script and "alert(1)" in data:
            self.problems.append(f"script: {data[:60]}")

    def handle_endtag(self, tag):
        self._in_script = False


def problems(text: str) -> list[str]:
    inspector = Inspector()
    inspector.feed(text)
    raw = [p for p in SCRIPT_PAYLOADS if p in text]
    return inspector.problems + [f"raw {p!r}" for p in raw]


def pages(round_, invitation, action):
    r, v, q = round_.id, round_.version_id, "doc_timeliness"
    return [
        f"/design/versions/{v}",
        f"/design/versions/{v}/preview",
        f"/design/versions/{v}/preview?group=departments",
        "/design/units",
        "/design/rounds",
        f"/design/rounds/{r}",
        "/review/",
        f"/review/rounds/{r}",
        f"/review/rounds/{r}/comments",
        f"/review/rounds/{r}/items/{q}",
        f"/review/rounds/{r}/categories/{action.category}",
        f"/review/rounds/{r}/groups/departments",
        f"/review/rounds/{r}/units/{action.served_unit}",
        "/actions/",
        f"/actions/{action.id}",
        f"/actions/summaries/{r}",
        "/",
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_payload_reaches_a_page_unescaped(client, hostile_world, make_user, login_as, lang):
    round_, invitation, action = hostile_world
    client.get(f"/r/{invitation.token}")
    found = {
        f"/r/i/{invitation.id}": problems(
            client.get(f"/r/i/{invitation.id}", headers={"Accept-Language": lang}).text
        )
    }
    login_as(make_user(role="admin"))
    shown = 0
    for path in pages(round_, invitation, action):
        response = client.get(path, headers={"Accept-Language": lang})
        assert response.status_code == 200, path
        found[path] = problems(response.text)
        shown += "&lt;script&gt;alert(1)" in response.text
    assert {p: f for p, f in found.items() if f} == {}
    assert shown >= 3  # the payloads are there, escaped


def test_charts_carry_no_script(client, hostile_world, make_user, login_as):
    round_, _, _ = hostile_world
    login_as(make_user(role="quality_lead"))
    for kind in ("rates", "distribution", "heatmap", "trend", "quadrant"):
        response = client.get(f"/review/rounds/{round_.id}/charts/{kind}.svg")
        if response.status_code == 404:
            continue  # a chart the round has no data for
        assert response.status_code == 200, kind
        assert "<script" not in response.text.lower() and "onload=" not in response.text


def unsafe(cell) -> bool:
    return isinstance(cell, str) and cell.startswith(FORMULA_STARTS)


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_safe_cell_neutralises_every_formula_start(start):
    assert safe_cell(start + "1+1") == "'" + start + "1+1"
    assert safe_cell(3) == 3 and safe_cell(4.5) == 4.5


@pytest.mark.parametrize("start", ["\0", "＝", "＋", "－", "＠", "\t", "\r"])
def test_the_formula_starts_include_nul_tab_cr_and_full_width(start):
    assert start in FORMULA_STARTS


def csv_paths(round_):
    r = round_.id
    return [
        f"/review/rounds/{r}/answers.csv",
        f"/review/rounds/{r}/tables/items.csv",
        f"/review/rounds/{r}/tables/categories.csv",
        f"/design/rounds/{r}/invitations.csv",
        "/actions/register.csv",
    ]


def test_csv_exports_neutralise_formulas(client, hostile_world, make_user, login_as):
    round_, _, _ = hostile_world
    login_as(make_user(role="admin"))
    bad = []
    for path in csv_paths(round_):
        response = client.get(path)
        assert response.status_code == 200, path
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        bad += [(path, cell) for row in rows for cell in row if unsafe(cell)]
    assert bad == []


@pytest.mark.parametrize("path", ["/review/rounds/{r}/results.xlsx", "/actions/register.xlsx"])
def test_workbooks_hold_no_formula_and_numbers_stay_numbers(
    client, hostile_world, make_user, login_as, path
):
    round_, _, _ = hostile_world
    login_as(make_user(role="admin"))
    response = client.get(path.format(r=round_.id))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [(c.coordinate, c.value) for c in cells if unsafe(c.value)] == []
    assert any(c.data_type == "n" for c in cells)
