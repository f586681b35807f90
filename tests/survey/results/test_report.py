"""The management-review report: a valid PDF with the ISO 9001 sections, in Chinese or English,
its sections a registry that other modules extend."""

from __future__ import annotations

import base64
import gc
import re
import shutil
import subprocess
import weakref
import zlib

import pytest

import analysis.charts
from survey import memory
from survey.results import report, round_results
from survey.results.cache import RESULTS, TALLIES
from survey.results.report import document, registry, styles, tables
from tests.system import require

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.

POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pages(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )


def _streams(pdf: bytes) -> list[bytes]:
    return re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, flags=re.S)


def _inflated(stream: bytes) -> bytes:
    """A page's drawing operators (ReportLab compresses them with zlib, some in ASCII85)."""
    for attempt in (lambda s: s, lambda s: base64.a85decode(s.strip(), adobe=True)):
        try:
            return zlib.decompress(attempt(stream))
        except Exception:  # not this encoding, or not a zlib stream at all (a font)
            continue
    return b""


def test_the_report_is_a_pdf(client, auth, known_round):
    auth.login(role="quality_lead")
    response = client.get(f"/review/rounds/{known_round.id}/report.pdf?lang=en")
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and response.data.rstrip().endswith(b"%%EOF")


def test_the_report_has_the_method_the_analysis_and_the_figures(app, known_round, tmp_path):
    require(bool(POPPLER), "poppler-utils")
    with app.test_request_context():
        text = _text(report.build(known_round, "en"), tmp_path)
    for words in (
        "Method of monitoring (ISO 9001, 9.1.2)",
        "Analysis and evaluation",
        "Response rate by respondent group",
        "Items below the threshold of 80%",
        "Document processing",
        "70.0%",
        "Figure 1.",
    ):
        assert words in text
    assert "fewer than 5 respondents" in text  # the mayors, never with figures


def test_the_chinese_report_embeds_a_cjk_font(app, known_round, tmp_path):
    require(bool(POPPLER), "poppler-utils")
    require(styles.cjk_font() is not None, "a CJK font")
    with app.test_request_context():
        pdf = report.build(known_round, "zh")
    text = _text(pdf, tmp_path)
    assert "监测方法" in text and "公文处理" in text and _pages(pdf, tmp_path) >= 2


def test_without_a_cjk_font_the_report_is_english(app, known_round, tmp_path, monkeypatch):
    require(bool(POPPLER), "poppler-utils")
    monkeypatch.setattr(document, "cjk_font", lambda: None)
    with app.test_request_context():
        text = _text(report.build(known_round, "zh"), tmp_path)
    assert "Method of monitoring" in text


def test_the_trend_tests_the_change_since_the_previous_round(app, two_rounds, tmp_path):
    require(bool(POPPLER), "poppler-utils")
    with app.test_request_context():
        text = _text(report.build(two_rounds[1], "en"), tmp_path)
    assert "Trend since the previous round" in text and "2003 autumn" in text
    assert "p-value" in text


def test_a_round_without_responses_says_so(app, empty_round, tmp_path):
    require(bool(POPPLER), "poppler-utils")
    with app.test_request_context():
        text = _text(report.build(empty_round, "en"), tmp_path)
    assert "No responses yet" in text


def test_a_registered_section_appears_in_its_place(app, known_round, tmp_path, monkeypatch):
    require(bool(POPPLER), "poppler-utils")
    monkeypatch.setattr(registry, "SECTIONS", list(registry.SECTIONS))
    report.section(45)(lambda context: [context.styles.para("Register of corrective actions")])
    with app.test_request_context():
        text = _text(report.build(known_round, "en"), tmp_path)
    assert (
        text.index("Trend since") < text.index("Register of corrective") < text.index("What drives")
    )


def test_the_report_is_made_once_per_data_version(app, known_round, monkeypatch):
    calls = []
    real = document.build
    monkeypatch.setattr(document, "build", lambda *a: calls.append(1) or real(*a))
    with app.test_request_context():
        first, _ = report.pdf(known_round, "en")
        second, name = report.pdf(known_round, "en")
    assert first == second and len(calls) == 1 and name.endswith("-report.pdf")


def test_table_headers_keep_their_words_whole(app, two_rounds, tmp_path):
    # A column too narrow for its header's longest word had it split: "Satisfie" / "d".
    require(bool(POPPLER), "poppler-utils")
    with app.test_request_context():
        text = _text(report.build(two_rounds[1], "en"), tmp_path)
    words = set(text.split())
    for header in ("Satisfied", "Significant", "Items"):
        assert header in words
        assert not [
            w for w in words if header.startswith(w) and 4 <= len(w) < len(header) and w != "Item"
        ], header


def test_items_with_too_few_pairs_are_named_as_unplaced(app, make_round, answer, tmp_path):
    require(bool(POPPLER), "poppler-utils")
    round_ = make_round()
    for k in range(12):
        rating = 5 - k % 4
        answers = {"doc_timeliness": rating, "overall": rating}
        # 6 respondents: enough to publish the item (5), too few to place it (10).
        if k < 6:
            answers["mtg_minutes"] = rating
        answer(round_, "departments", answers)
    with app.test_request_context():
        text = " ".join(_text(report.build(round_, "en"), tmp_path).split())
    assert (
        "1 item was rated together with the overall item by fewer than 10 respondents: "
        "it has no quadrant"
    ) in text


def test_a_chinese_round_name_in_an_english_header_takes_no_room_from_other_columns():
    from types import SimpleNamespace

    from reportlab.lib.styles import ParagraphStyle

    context = SimpleNamespace(
        lang="en",
        styles=SimpleNamespace(head=ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=8)),
    )
    widths = [140.0, 30.0, 30.0]
    # Chinese wraps between characters: only the Latin words need their whole width.
    assert (
        tables._fit_header_words(
            context, ["Category", "2025年度机关服务工作满意度测评 (n)", "n"], widths
        )
        == widths
    )
    # A Latin word too wide for its column gets room from the widest column.
    fitted = tables._fit_header_words(context, ["Category", "Significant", "n"], widths)
    assert fitted[1] > 30 and fitted[0] < 140 and sum(fitted) == pytest.approx(sum(widths))


def test_the_charts_are_drawn_as_vectors_not_pictures(app, known_round):
    """Each chart is the SVG the review page offers, drawn into the PDF as lines and shapes:
    sharp at any zoom and on paper, and no picture of millions of pixels decoded to embed it
    (a 200-dpi picture per chart took 15 MB to draw and as much to embed)."""
    with app.test_request_context():
        pdf = report.build(known_round, "en")
    assert b"/Subtype /Image" not in pdf
    # The charts' words are drawn as outlines (so no font is needed for them): curves, which
    # the report's text and tables never draw.
    curves = sum(len(re.findall(rb"\d c\s", _inflated(stream))) for stream in _streams(pdf))
    assert curves > 500


def test_a_report_drawn_from_the_tables_alone_is_the_same_report(app, known_round, tmp_path):
    """The worker's report (``forget_answers``) lets the round's answers go before drawing:
    the tables it draws are those the answers gave, so the report reads the same."""
    require(bool(POPPLER), "poppler-utils")
    with app.test_request_context():
        kept = _text(report.build(known_round, "en"), tmp_path)
        assert RESULTS.get(known_round.id) is not None
        alone = _text(report.build(known_round, "en", forget_answers=True), tmp_path)
        assert RESULTS.get(known_round.id) is None and TALLIES.get(known_round.id) is None
    assert alone == kept and "Figure 1." in alone


def test_the_worker_s_report_gives_the_answers_memory_back(app, known_round, monkeypatch):
    # Once the answers are let go (the caches hold nothing of the round): glibc may keep the
    # pages of the freed arrays otherwise (survey.memory). A page's report keeps the answers.
    given = []
    monkeypatch.setattr(memory, "give_back", lambda: given.append(RESULTS.get(known_round.id)))
    with app.test_request_context():
        report.build(known_round, "en")
        assert given == []
        report.build(known_round, "en", forget_answers=True)
    assert given == [None]


def test_the_tables_only_copy_holds_no_answers_and_computes_nothing_more(app, known_round):
    with app.test_request_context():
        results = round_results(known_round)
        scorecards = results.scorecards  # computed on first use, before the copy
        tables = results.tables_only()
    assert tables.counts is None and tables.disclosure is None
    assert tables.scorecards is scorecards and tables.items is results.items
    assert results.counts is not None  # the cached results keep theirs
    with pytest.raises(AttributeError):
        _ = tables.unit_categories  # not computed before: not computed from nothing either


def test_each_chart_s_figure_is_freed_before_the_next_is_drawn(app, known_round, monkeypatch):
    """A figure is a web of reference cycles: the report frees each chart's before drawing
    the next, not when the collector next runs."""
    figures, alive = [], []
    real = analysis.charts.to_svg

    def keeping(fig):
        alive.append(sum(1 for figure in figures if figure() is not None))
        figures.append(weakref.ref(fig))
        return real(fig)

    monkeypatch.setattr(analysis.charts, "to_svg", keeping)
    gc.disable()  # only the collections the report asks for count
    try:
        with app.test_request_context():
            report.build(known_round, "en")
    finally:
        gc.enable()
    assert len(figures) >= 3 and alive == [0] * len(figures)


@pytest.mark.parametrize("frozen_before", [False, True])
def test_a_report_leaves_the_collector_as_it_found_it(app, known_round, frozen_before):
    """The report sets the objects it found aside from the collector while its sections run,
    then gives them back; a process frozen already (gunicorn.conf.py) stays frozen."""
    if frozen_before:
        gc.freeze()
    before = gc.get_freeze_count()
    try:
        with app.test_request_context():
            report.build(known_round, "en")
        # Frozen objects freed meanwhile leave the count: frozen or not is what matters.
        assert (gc.get_freeze_count() > 0) == frozen_before
    finally:
        gc.unfreeze()
    assert (before > 0) == frozen_before
