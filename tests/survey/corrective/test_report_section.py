"""The corrective-action register in the management-review PDF: the round's actions with
their status, owner, due date and verification, and a cached report that follows each change."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta

from survey import corrective
from survey.extensions import db
from survey.models import utcnow
from survey.results import report
from survey.results.report import styles
from tests.system import require


def _text(pdf: bytes, tmp_path) -> str:
    """The text of the PDF in the order it was drawn: a table cell by cell."""
    require(bool(shutil.which("pdftotext")), "poppler-utils")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_report_lists_the_rounds_actions_with_owner_and_due_date(app, assigned, tmp_path):
    with app.test_request_context():
        text = _text(report.build(assigned.round, "en"), tmp_path)
    # Numbered after the method, the analysis and the drivers (no trend: no earlier round).
    register = " ".join(text[text.index("4. Corrective actions (ISO 9001, 10.2)") :].split())
    assert f"#{assigned.id}" in register
    # Each cell's text in reading order ("-raw"); lines joined, so wrapping does not matter.
    for cell in (
        "Satisfaction rate below the threshold: 60.0% (n = 10)",
        "Open",
        "designer, due",
        assigned.due_date.isoformat(),
    ):
        assert cell in register
    assert "Open: 1; overdue: 0; closed as effective: 0; cancelled: 0" in register


def test_an_overdue_action_is_counted_and_marked(app, assigned, tmp_path):
    assigned.due_date = date.today() - timedelta(days=2)
    db.session.commit()
    with app.test_request_context():
        text = " ".join(_text(report.build(assigned.round, "en"), tmp_path).split())
    assert "overdue: 1" in text and "(overdue)" in text


def test_the_next_round_report_shows_the_verification(app, ready, lead, force, tmp_path):
    force(ready, "verification")
    corrective.move(ready, "close", lead, utcnow())
    db.session.commit()
    with app.test_request_context():
        text = " ".join(_text(report.build(ready.verification_round, "en"), tmp_path).split())
    assert f"#{ready.id}" in text
    for cell in ("60.0% → 90.0%", "(2005 spring)", "effective"):
        assert cell in text
    assert "closed as effective: 1" in text


def test_a_round_without_actions_says_so(app, known_round, tmp_path):
    with app.test_request_context():
        text = " ".join(_text(report.build(known_round, "en"), tmp_path).split())
    assert "No corrective action was opened from this round or verified by it." in text


def test_the_chinese_report_has_the_register_in_chinese(app, assigned, tmp_path):
    require(styles.cjk_font() is not None, "a CJK font")
    with app.test_request_context():
        text = _text(report.build(assigned.round, "zh"), tmp_path)
    assert "纠正措施" in text and f"#{assigned.id}" in text


def test_a_change_to_an_action_makes_a_new_cached_report(app, assigned, owner, tmp_path):
    with app.test_request_context():
        first, _name = report.pdf(assigned.round, "en")
        assert "Investigating" not in _text(first.read_bytes(), tmp_path)
        corrective.move(assigned, "start_investigation", owner, utcnow())
        db.session.commit()
        second, _name = report.pdf(assigned.round, "en")
        assert second != first and not first.exists()  # the stale report is gone
        assert "Investigating" in _text(second.read_bytes(), tmp_path)
        assert report.pdf(assigned.round, "en")[0] == second  # unchanged: served from cache


def test_an_earlier_action_that_fired_again_in_the_round_is_in_its_register(
    app, assigned, next_round, tmp_path
):
    # Still low in the next round: the rules add a note to the open action, not a second one.
    later = next_round(5)
    run = corrective.run_rules(later, utcnow())
    db.session.commit()
    assert run.created == [] and run.fired_again == [assigned]
    with app.test_request_context():
        text = " ".join(_text(report.build(later, "en"), tmp_path).split())
    register = text[text.index("Corrective actions (ISO 9001, 10.2)") :]
    assert f"#{assigned.id}" in register and "Open: 1;" in register


def test_a_round_that_found_an_action_not_effective_keeps_that_verdict_in_its_register(
    app, ready, owner, lead, make_round, rate, tmp_path
):
    # Found not effective against the next round, fixed again and verified by a later one.
    now = utcnow()
    for name in ("start_investigation", "plan", "implement", "request_verification"):
        corrective.move(ready, name, owner, now)
    first = corrective.verify(ready).round
    first.status = "closed"
    rate(first, 0, 6, at=now + timedelta(days=1))  # 9 of 16 after the fix: below 80%
    corrective.move(ready, "not_effective", lead, now, "Still slow.", against=first)
    second = now + timedelta(days=2)
    for name in ("plan", "implement", "request_verification"):
        corrective.move(ready, name, owner, second)
    later = rate(
        make_round(name="2006 spring", status="closed", opens_at=now + timedelta(days=3)),
        9,
        10,
        at=now + timedelta(days=4),
    )
    corrective.move(ready, "close", lead, now + timedelta(days=5), against=later)
    db.session.commit()
    assert ready.verification_round_id == later.id
    with app.test_request_context():
        failed = " ".join(_text(report.build(first, "en"), tmp_path).split())
        latest = " ".join(_text(report.build(later, "en"), tmp_path).split())
    # The round that found it not effective still lists it, with its own figures and verdict.
    assert f"#{ready.id}" in failed
    assert "60.0% → 56.2% (2005 spring) not effective" in failed
    # The round that verified the new fix shows that one.
    assert f"#{ready.id}" in latest
    assert "60.0% → 90.0% (2006 spring) effective" in latest
