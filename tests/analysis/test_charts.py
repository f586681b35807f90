import io
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

from analysis import by_group_category, charts, driver_table, item_table, trend_table
from tests.system import require

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LABELS = {"q1": "公文办理的及时性", "q2": "会议纪要", "mayors": "市长、副市长"}


@pytest.fixture
def items(answers, frame_of):
    """q1: counts 1,1,2,3,3 of points 1..5 (n=10, 60%); q2: 9 of 10 satisfied."""
    return item_table(frame_of(answers([1, 2, 3, 3, 4, 4, 4, 5, 5, 5], "q1"),
                               answers([5] * 9 + [1], "q2")))  # fmt: skip


def _ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def _contrast(colour: str) -> float:
    def luminance(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (luminance(c) for c in to_rgb(colour))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_a_cjk_font_is_found_when_one_is_installed():
    require(WQY.exists(), "fonts-wqy-microhei")
    assert charts.cjk_font_name() == "WenQuanYi Micro Hei"


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch):
    require(WQY.exists(), "fonts-wqy-microhei")
    stale = [f for f in charts.font_manager.fontManager.ttflist if "WenQuanYi" not in f.name]
    monkeypatch.setattr(charts.font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(charts, "_looked_for_installed_fonts", False)
    assert charts.cjk_font_name() == "WenQuanYi Micro Hei"


def test_diverging_bars_put_dissatisfied_left_and_neutral_centred(items):
    ax = charts.distribution_chart(items.iloc[:1], lang="en").axes[0]
    spans = [(bar.get_x(), bar.get_width()) for container in ax.containers for bar in container]
    expected = [(-30, 10), (-20, 10), (-10, 20), (10, 30), (40, 30)]
    assert spans == [pytest.approx(s) for s in expected]


def test_rate_chart_colours_items_below_the_threshold(items):
    ax = charts.rate_chart(items, lang="en").axes[0]
    colours = [bar.get_facecolor() for bar in ax.containers[0]]
    assert colours[0] == pytest.approx((*to_rgb(charts.BELOW_COLOUR), 1))
    assert colours[1] == pytest.approx((*to_rgb(charts.MEETS_COLOUR), 1))
    assert [bar.get_width() for bar in ax.containers[0]] == pytest.approx([60, 90])


def test_rate_chart_draws_the_threshold_as_a_dashed_line(items):
    ax = charts.rate_chart(items, threshold=0.85, lang="en").axes[0]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [tuple(line.get_xdata()) for line in dashed] == [(85, 85)]


def test_rate_chart_error_bars_are_the_wilson_interval(items):
    ax = charts.rate_chart(items, lang="en").axes[0]
    segments = ax.containers[1].lines[2][0].get_segments()
    first = items.iloc[0]
    assert segments[0][:, 0] == pytest.approx([first["ci_low"] * 100, first["ci_high"] * 100])


def test_callers_labels_replace_codes_and_titles_follow_the_language(items):
    fig = charts.rate_chart(items, lang="zh", labels=LABELS)
    require(charts.cjk_font_name() is not None, "a CJK font")
    assert _ticks(fig.axes[0]) == ["公文办理的及时性", "会议纪要"]
    assert fig.axes[0].get_title() == "各项目满意率"
    assert charts.rate_chart(items, lang="en").axes[0].get_title() == "Satisfaction rate by item"


def test_caller_title_is_used(items):
    assert charts.rate_chart(items, title="2004 autumn").axes[0].get_title() == "2004 autumn"


def test_chinese_text_is_set_in_the_cjk_font_per_figure(items):
    require(charts.cjk_font_name() is not None, "a CJK font")
    fig = charts.rate_chart(items, lang="zh", labels=LABELS)
    assert fig.axes[0].get_yticklabels()[0].get_fontfamily()[0] == "WenQuanYi Micro Hei"
    assert charts.to_png(fig)  # would raise on a "Glyph missing" warning


def test_without_a_cjk_font_charts_fall_back_to_english(items, monkeypatch):
    monkeypatch.setattr(charts, "cjk_font_name", lambda: None)
    fig = charts.rate_chart(items, lang="zh", labels=LABELS)
    assert fig.axes[0].get_title() == "Satisfaction rate by item"
    assert _ticks(fig.axes[0]) == ["q1", "q2"]  # labels the fonts cannot draw fall back
    assert charts.to_png(fig)


def test_heat_map_hides_suppressed_cells(answers, frame_of):
    # The 4 mayors are hidden with the next smallest group (6 congress offices): the round
    # total minus the departments would otherwise give the mayors' figures.
    table = by_group_category(frame_of(answers([5] * 4, group="mayors", start=50),
                                       answers([5] * 6, group="congress", start=80),
                                       answers([5] * 9 + [1])))  # fmt: skip
    ax = charts.heatmap_chart(table, lang="en").axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["hidden", "90%", "hidden"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["congress", "departments", "mayors"]


def test_heat_map_cells_are_quads_not_an_image(answers, frame_of):
    """The cells are drawn as vector quads: an image was resampled to the output's pixels in
    float arrays (70 MB for the report's print resolution), whatever the few cells. The first
    row stays on top, each cell centred on its tick."""
    table = by_group_category(frame_of(answers([5] * 6, group="congress", start=80),
                                       answers([5] * 9 + [1])), 1)  # fmt: skip
    ax = charts.heatmap_chart(table, lang="en").axes[0]
    assert not ax.images and len(ax.collections) == 1
    assert ax.get_ylim() == (1.5, -0.5) and ax.get_xlim() == (-0.5, 0.5)
    assert charts.to_png(ax.figure, dpi=200)


def test_trend_chart_plots_each_category_per_round(answers, frame_of):
    frame = frame_of(answers([5, 5, 1, 1], round_id=1), answers([5, 5, 5, 1], round_id=2))
    ax = charts.trend_chart(trend_table(frame, [1, 2]), round_labels={1: "2003", 2: "2004"},
                            lang="en").axes[0]  # fmt: skip
    assert list(ax.get_lines()[0].get_ydata()) == pytest.approx([50, 75])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2003", "2004"]


def test_quadrant_chart_places_items_at_performance_and_importance(answers, frame_of):
    # Ten respondents and more: fewer pairs place no item (analysis.drivers.MIN_PAIRS_PLACED).
    frame = frame_of(answers([5, 4, 2, 1, 3] * 2, "q1"), answers([1, 5, 4, 2, 2] * 2, "q2"),
                     answers([4, 5, 1, 2, 3] * 2, "overall", category="overall"),
                     answers([5, 1, 4], "q3"))  # fmt: skip
    drivers = driver_table(frame)
    ax = charts.quadrant_chart(drivers, lang="en").axes[0]
    points = ax.collections[0].get_offsets()
    placed = drivers[drivers["question"].isin(["q1", "q2"])]
    assert list(points[:, 0]) == pytest.approx(list(placed["rate"] * 100))
    assert list(points[:, 1]) == pytest.approx(list(placed["importance"]))
    assert "Concentrate here" in [t.get_text() for t in ax.texts]
    # q3 has an importance over its three pairs, but no place in the chart.
    assert drivers.set_index("question").loc["q3", "pairs"] == 3


def test_to_png_gives_a_png_of_figure_size_times_dpi(items):
    fig = charts.rate_chart(items, lang="en")
    png = charts.to_png(fig, dpi=50)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == tuple(round(s * 50) for s in fig.get_size_inches())


def test_to_svg_gives_svg_text(items):
    svg = charts.to_svg(charts.distribution_chart(items, lang="zh", labels=LABELS))
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("chart", [charts.distribution_chart, charts.rate_chart,
                                   charts.heatmap_chart, charts.quadrant_chart,
                                   charts.trend_chart])  # fmt: skip
def test_empty_tables_give_a_no_data_chart(chart, items):
    fig = chart(items.iloc[0:0].assign(importance=[], suppressed=[], round_index=[]), lang="en")
    assert isinstance(fig, Figure)
    assert "No answers" in [t.get_text() for t in fig.findobj(Text)]


def test_all_text_contrasts_with_white(items):
    for fig in (charts.rate_chart(items), charts.distribution_chart(items)):
        for text in fig.findobj(Text):
            if text.get_text().strip():
                assert _contrast(text.get_color()) >= 4.5, text.get_text()


def test_alt_text_describes_the_lowest_item(items):
    names = {"q1": "Meeting minutes"}
    assert charts.alt_text("rates", items, "en", names) == (
        "Satisfaction rate by item, 2 items; lowest: Meeting minutes 60% (n=10). "
        "1 below the 80% threshold."
    )
    assert charts.alt_text("rates", items, "zh", LABELS).startswith(
        "各项目满意率，共2项；最低：公文"
    )


def test_alt_text_of_an_empty_table_says_so(items):
    assert charts.alt_text("rates", items.iloc[0:0], "en") == "No answers to show."


def test_quadrant_chart_labels_of_clustered_items_do_not_overlap():
    # Five items of nearly the same rate and importance: right of each point, every label
    # would run into the next one.
    drivers = pd.DataFrame(
        {
            "question": [f"q{i}" for i in range(5)],
            "rate": [0.85, 0.852, 0.86, 0.855, 0.6],
            "importance": [0.58, 0.585, 0.59, 0.57, 0.3],
            "quadrant": ["keep_up_the_good_work"] * 4 + ["low_priority"],
        }
    )
    labels = {f"q{i}": f"A long item label number {i}" for i in range(5)}
    fig = charts.quadrant_chart(drivers, lang="en", labels=labels)
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    # The text's own box (an annotation's extent would include its leader line).
    boxes = [
        Text.get_window_extent(t, renderer) for t in ax.texts if t.get_text().startswith("A long")
    ]
    assert len(boxes) == 5
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    frame = ax.get_window_extent(renderer)
    assert all(frame.contains(b.x0, b.y0) and frame.contains(b.x1, b.y1) for b in boxes)


MATHS = {"q1": r"$\frac{$ documents", "q2": "$5 fee $", "mayors": r"$\frac{$", "overall": "$x$"}


def test_labels_and_titles_with_dollars_are_drawn_as_typed(items, answers, frame_of):
    # A pair of "$" starts matplotlib's math mode: "$\frac{$" would not draw at all.
    frame = frame_of(answers([5, 1], "q1", group="mayors", round_id=1), answers([4, 2], "q2"))
    figures = [
        charts.rate_chart(items, labels=MATHS, title="$2004$", lang="en"),
        charts.distribution_chart(items, labels=MATHS, lang="en"),
        charts.heatmap_chart(by_group_category(frame, 1), labels=MATHS, lang="en"),
        charts.trend_chart(trend_table(frame, [1]), round_labels={1: "$1$ $2$"}, lang="en"),
    ]
    for fig in figures:
        assert charts.to_png(fig).startswith(b"\x89PNG")
    assert r"\$\frac{\$ documents" in _ticks(figures[0].axes[0])
    assert figures[0].axes[0].get_title() == r"\$2004\$"


def test_distribution_classes_follow_each_scales_satisfied_and_dissatisfied_points(
    answers, frame_of
):
    table = item_table(frame_of(
        answers([1, 2, 3, 3], "three", scale_min=1, scale_max=3),
        answers([1, 3, 5, 7, 9, 9, 7, 3], "odd", scale_min=1, scale_max=9,
                satisfied_from=7, dissatisfied_to=3, start=10),
        answers([0, 1, 2, 5, 8, 9, 10, 10], "nps_like", scale_min=0, scale_max=10, start=20),
    ))  # fmt: skip
    shares = charts.class_shares(table).set_axis(table["question"].astype(str))
    assert shares.loc["three"].tolist() == [0.25, 0.0, 0.25, 0.0, 0.5]
    assert shares.loc["odd"].tolist() == [1 / 8, 2 / 8, 1 / 8, 2 / 8, 2 / 8]
    assert shares.loc["nps_like"].tolist() == [1 / 8, 1 / 8, 3 / 8, 1 / 8, 2 / 8]


def test_a_png_chart_is_rgb_at_its_size_in_pixels(answers, frame_of):
    """No alpha channel (a white chart is opaque: the PDF report decoded the alpha into a soft
    mask of every chart), figsize x dpi pixels as matplotlib's own PNG had."""
    from PIL import Image

    fig = charts.heatmap_chart(by_group_category(frame_of(answers([5, 1, 4]))), lang="en")
    for dpi in (100, 200, 37):
        image = Image.open(io.BytesIO(charts.to_png(fig, dpi=dpi)))
        assert image.mode == "RGB"
        assert image.size == tuple(int(side) for side in fig.get_size_inches() * dpi)
        drawn = io.BytesIO()  # matplotlib's own drawing of it, on white
        fig.savefig(drawn, format="rgba", dpi=dpi, facecolor="white")
        pixels = np.frombuffer(drawn.getvalue(), np.uint8).reshape(image.size[1], -1, 4)
        np.testing.assert_array_equal(np.asarray(image), pixels[:, :, :3])
    assert fig.dpi == 100 and fig.get_facecolor() == (1, 1, 1, 1)  # left as it was
