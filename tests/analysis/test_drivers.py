import math

import numpy as np
import pandas as pd
import pytest

from analysis import answer_frame, driver_table, drivers, empty_frame, rating_counts
from analysis.drivers import QUADRANTS, quadrants, unplaced
from tests.analysis.conftest import SCALES, satisfied_sets


def test_importance_is_the_pearson_correlation_with_overall(answers, frame_of):
    item, overall = [5, 4, 2, 1, 3], [4, 5, 1, 2, 3]
    frame = frame_of(answers(item, "q1"), answers(overall, "overall", category="overall"))
    row = driver_table(frame).iloc[0]
    assert row["question"] == "q1"
    assert row["importance"] == pytest.approx(np.corrcoef(item, overall)[0, 1])
    assert (row["pairs"], row["n"], row["rate"]) == (5, 5, 0.4)


def test_pairs_are_matched_by_respondent(answers, frame_of):
    frame = frame_of(
        answers([5, 4, 1, None, 3], "q1"),  # respondent 4 skipped q1
        answers([5, 4, 1, 5], "overall", category="overall", start=2),  # 1 skipped overall
    )
    row = driver_table(frame).iloc[0]
    # pairs: respondent 2 (4, 5), 3 (1, 4), 5 (3, 5)
    assert row["pairs"] == 3
    assert row["importance"] == pytest.approx(np.corrcoef([4, 1, 3], [5, 4, 5])[0, 1])


def test_fewer_than_three_pairs_give_no_importance(answers, frame_of):
    frame = frame_of(answers([5, 1], "q1"), answers([5, 1], "overall", category="overall"))
    row = driver_table(frame).iloc[0]
    assert row["pairs"] == 2 and math.isnan(row["importance"]) and pd.isna(row["quadrant"])


def test_quadrants_split_at_the_medians():
    importance = pd.Series([0.9, 0.8, 0.1, 0.2])
    performance = pd.Series([0.5, 0.95, 0.4, 0.99])
    assert list(quadrants(importance, performance)) == [
        "concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill",
    ]  # fmt: skip


def test_an_item_at_the_median_counts_as_high():
    labels = quadrants(pd.Series([0.1, 0.5, 0.9]), pd.Series([0.6, 0.7, 0.8]))
    assert labels[1] == "keep_up_the_good_work"


def test_items_without_importance_get_no_quadrant_and_do_not_move_the_medians():
    labels = quadrants(pd.Series([0.9, np.nan, 0.1]), pd.Series([0.9, 0.0, 0.5]))
    assert pd.isna(labels[1])
    assert list(labels[[0, 2]]) == ["keep_up_the_good_work", "low_priority"]


def test_without_an_overall_item_every_importance_is_nan(answers, frame_of):
    table = driver_table(frame_of(answers([5, 4, 1], "q1"), answers([2, 4, 5], "q2")))
    assert len(table) == 2 and table["importance"].isna().all()


def test_overall_item_code_is_configurable(answers, frame_of):
    frame = frame_of(answers([5, 4, 1], "q1"), answers([5, 4, 2], "general"))
    table = driver_table(frame, overall="general")
    assert table["question"].tolist() == ["q1"] and table["importance"].iloc[0] > 0.9


def test_a_round_without_responses_gives_an_empty_table():
    assert driver_table(empty_frame()).empty


def _brute_force(frame: pd.DataFrame, overall: str = "overall") -> pd.DataFrame:
    """The driver figures the slow way: each respondent's last rating of each item, pandas corr."""
    rated = frame[(frame["type"] == "rating") & frame["value"].notna()].astype({"question": str})
    last = rated.groupby(["response_id", "question"])[["value", "satisfied_from"]].last()
    values = last["value"].unstack()
    top = last["satisfied_from"].groupby("question").last()
    rows = []
    for question in values.columns.drop(overall, errors="ignore"):
        x = values[question]
        y = values[overall] if overall in values else pd.Series(np.nan, index=x.index)
        both = x.notna() & y.notna()
        r = x[both].corr(y[both]) if both.sum() >= 3 else np.nan
        rows.append((question, x.count(), (x >= top[question]).sum() / x.count(), r, both.sum()))
    return pd.DataFrame(rows, columns=["question", "n", "rate", "importance", "pairs"])


@pytest.fixture
def odd_round(answers, frame_of):
    """Duplicates (last answer wins), a 1..7 item, unanswered items, a respondent in two groups."""
    return lambda *extra: frame_of(
        answers([5, 4, 2, 1, 3, None], "q1"), answers([3], "q1", start=2),
        answers([7, 6, 2, 5, 1, 4], "q2", scale_min=1, scale_max=7),
        answers([None, 2, 4], "q3", start=3), answers([1, 5], "q3", start=4, group="cppcc"),
        *extra,
    )  # fmt: skip


@pytest.mark.parametrize("with_overall", [True, False])
@pytest.mark.parametrize("presence_limit", [None, 0])
def test_driver_table_from_counts_matches_the_answers(
    answers, odd_round, with_overall, presence_limit
):
    overall = answers([5, 4, 1, 2, 4, 3], "overall", category="overall")
    frame = odd_round(overall) if with_overall else odd_round()
    kwargs = {} if presence_limit is None else {"presence_limit": presence_limit}
    table = driver_table(rating_counts(frame, **kwargs))
    assert table.equals(driver_table(frame))
    expected = _brute_force(frame)
    assert table["question"].astype(str).tolist() == expected["question"].tolist()
    assert table["n"].tolist() == expected["n"].tolist()
    assert table["pairs"].tolist() == expected["pairs"].tolist()
    np.testing.assert_allclose(table["rate"], expected["rate"])
    importance = expected["importance"].astype(float)
    np.testing.assert_allclose(table["importance"], importance, atol=1e-12)


@pytest.mark.parametrize("values", [[], [None, None]])
def test_driver_table_from_counts_of_a_round_without_ratings(answers, frame_of, values):
    frame = frame_of(answers(values)) if values else empty_frame()
    table = driver_table(rating_counts(frame))
    assert table.empty and table.equals(driver_table(frame))


def test_respondents_who_skipped_an_item_are_not_satisfied_on_a_scale_ending_at_1(
    answers, frame_of
):
    # Top two boxes of -2..1 are 0 and 1; respondent 3 never rated q1.
    frame = frame_of(answers([1, -2], "q1", scale_min=-2, scale_max=1), answers([5, 4, 3], "q2"))
    row = driver_table(frame).iloc[0]
    assert (row["question"], row["n"], row["rate"]) == ("q1", 2, 0.5)


def test_an_item_with_fewer_than_ten_pairs_keeps_its_importance_but_no_quadrant(answers, frame_of):
    # q_small: asked of one small group (nine respondents), strongly correlated there; it must
    # neither get a quadrant nor move the medians the well-answered items are split at.
    overall = [5, 4, 2, 1, 3, 4, 5, 2, 3, 4, 5, 1]
    frame = frame_of(
        answers(overall, "overall", category="overall"),
        answers([5, 4, 2, 1, 3, 4, 5, 2, 3, 4, 5, 1], "q_strong"),
        answers([3, 4, 4, 3, 4, 3, 4, 4, 3, 4, 4, 3], "q_weak"),
        answers(overall[:9], "q_small"),
    )
    table = driver_table(frame).set_index("question")
    assert table.loc["q_small", "pairs"] == 9
    assert table.loc["q_small", "importance"] == pytest.approx(1.0)
    assert pd.isna(table.loc["q_small", "quadrant"])
    assert pd.isna(table.loc["q_small", "point_quadrant"])
    assert table.loc["q_small", "reason"] == "too_few_pairs"
    # The medians of the two others' quadrants leave q_small out (whether 12 respondents
    # place them stably is the bootstrap's business: see the stability tests).
    others = table.drop(index="q_small")
    expected = quadrants(others["importance"], others["rate"])
    assert list(others["point_quadrant"]) == list(expected)
    assert others["point_quadrant"].notna().all()


# --- bootstrap: intervals of importance and stable quadrants ---------------------------------


def driver_round(respondents: int, loadings, rates, *, seed: int = 5) -> pd.DataFrame:
    """Respondents rating an overall item and one item per loading on 1..5: an item's rating
    is its loading times the respondent's mood plus noise, shifted so that about ``rates`` of
    it are 4 or 5."""
    rng = np.random.default_rng(seed)
    mood = rng.normal(size=respondents)
    columns = {"overall": mood + 0.5 * rng.normal(size=respondents)}
    for k, loading in enumerate(loadings):
        latent = loading * mood + np.sqrt(1 - loading**2) * rng.normal(size=respondents)
        columns[f"q{k}"] = latent
    rows = []
    for question, latent in columns.items():
        rate = 0.6 if question == "overall" else rates[int(question[1:])]
        cut = np.quantile(latent, 1 - rate)
        value = np.clip(np.where(latent >= cut, 4 + (latent > np.quantile(latent, 0.9)),
                                 3 - (latent < np.quantile(latent, 0.15))), 1, 5)  # fmt: skip
        for i, v in enumerate(value):
            rows.append({
                "round_id": 1, "response_id": i + 1, "group": "departments",
                "served_unit": "documents", "question": question, "type": "rating",
                "category": "overall" if question == "overall" else "services",
                "value": float(v), "comment": None,
            })  # fmt: skip
    return answer_frame(rows)


def brute_force_interval(frame: pd.DataFrame, question: str, resamples: int = 1000):
    """The 95% percentile interval of the item's correlation with overall, resampling
    respondents with pandas (an independent random stream)."""
    wide = frame.pivot(index="response_id", columns="question", values="value")
    rng = np.random.default_rng(99)
    x, y = wide[question].to_numpy(), wide["overall"].to_numpy()
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, len(wide), len(wide))
        draws.append(np.corrcoef(x[pick], y[pick])[0, 1])
    return np.percentile(draws, [2.5, 97.5])


def test_the_bootstrap_is_reproducible(answers, frame_of):
    frame = driver_round(60, [0.8, 0.5, 0.2, 0.0], [0.5, 0.8, 0.6, 0.9])
    pd.testing.assert_frame_equal(driver_table(frame), driver_table(frame))


def test_importance_interval_agrees_with_a_brute_force_bootstrap():
    frame = driver_round(200, [0.8, 0.5, 0.2, 0.0], [0.5, 0.8, 0.6, 0.9])
    table = driver_table(frame).set_index("question")
    for question in ("q0", "q1", "q2", "q3"):
        row = table.loc[question]
        low, high = brute_force_interval(frame, question)
        assert row["importance_low"] < row["importance"] < row["importance_high"]
        # two bootstraps of 1,000 resamples: their percentiles differ by sampling noise only
        assert (row["importance_low"], row["importance_high"]) == pytest.approx(
            (low, high), abs=0.04
        )


def test_clear_drivers_are_placed_with_a_stable_quadrant():
    frame = driver_round(300, [0.9, 0.85, 0.1, 0.05], [0.5, 0.9, 0.45, 0.95])
    table = driver_table(frame).set_index("question")
    assert table["reason"].isna().all()
    assert (table["stability"] >= 0.8).all()
    assert list(table["quadrant"]) == [
        "concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill",
    ]  # fmt: skip
    assert (table["quadrant"] == table["point_quadrant"]).all()


def test_a_weak_correlation_from_25_respondents_is_never_concentrate_here():
    # Nothing relates to overall: whichever item the point estimates put in "concentrate
    # here" has an interval reaching 0, or a quadrant the resamples do not keep.
    for seed in range(8):
        frame = driver_round(25, [0.0] * 6, [0.5, 0.6, 0.7, 0.5, 0.8, 0.6], seed=seed)
        table = driver_table(frame)
        focus = table[table["point_quadrant"] == "concentrate_here"]
        assert len(focus) and table["quadrant"].isin(QUADRANTS[:2]).sum() == 0
        assert focus["reason"].isin(["may_not_matter", "unstable"]).all()
        assert (focus["importance_low"] <= 0).any()


def test_an_unstable_quadrant_is_not_placed_and_says_why():
    # Two items with nearly the same rate and importance: each resample may swap them.
    frame = driver_round(80, [0.6, 0.58, 0.2, 0.18], [0.7, 0.71, 0.7, 0.69], seed=2)
    table = driver_table(frame)
    unstable = table[table["reason"] == "unstable"]
    assert len(unstable) and (unstable["stability"] < 0.8).all()
    assert unstable["quadrant"].isna().all() and unstable["point_quadrant"].notna().all()
    placed = table[table["quadrant"].notna()]
    assert (placed["stability"] >= 0.8).all() and placed["reason"].isna().all()
    assert unplaced(table)["unstable"] == len(unstable)


def test_reasons_for_no_correlation_and_too_few_pairs(answers, frame_of):
    overall = [5, 4, 2, 1, 3, 4, 5, 2, 3, 4, 5, 1]
    frame = frame_of(
        answers(overall, "overall", category="overall"),
        answers([4] * 12, "q_flat"),  # no variation: no correlation
        answers(overall[:9], "q_small"),
        answers([5, 1], "q_two"),
    )
    table = driver_table(frame).set_index("question")
    assert table.loc["q_flat", "reason"] == "no_correlation"
    assert table.loc["q_two", "reason"] == "no_correlation"
    assert table.loc["q_small", "reason"] == "too_few_pairs"
    assert unplaced(table.reset_index()) == {"too_few_pairs": 1}


def test_large_rounds_resample_random_groups_of_respondents_alike(monkeypatch):
    frame = driver_round(2000, [0.7, 0.4, 0.1], [0.5, 0.8, 0.6], seed=11)
    counts = rating_counts(frame)
    grouped = driver_table(counts)
    monkeypatch.setattr(drivers, "MAX_CLUSTERS", 10_000)
    single = driver_table(counts)
    for column in ("importance_low", "importance_high"):
        assert grouped[column].to_numpy() == pytest.approx(single[column].to_numpy(), abs=0.02)
    assert list(grouped["quadrant"]) == list(single["quadrant"])


@pytest.mark.parametrize("mixed", [False, True], ids=["one_scale", "two_scales"])
@pytest.mark.parametrize("name", list(SCALES))
def test_driver_rates_count_the_scales_own_satisfied_points(scale_round, name, mixed):
    frame = scale_round(name, mixed=mixed)
    rated = satisfied_sets(name, frame)
    table = driver_table(frame)
    items = rated[rated["question"] != "overall"]
    assert table["question"].astype(str).tolist() == sorted(items["question"].unique())
    per_item = items.groupby("question")["is_satisfied"]
    np.testing.assert_allclose(table["rate"], per_item.mean())
    assert table["n"].tolist() == per_item.size().tolist()
    values = rated.pivot(index="response_id", columns="question", values="value")
    expected = [values[q].corr(values["overall"]) for q in sorted(items["question"].unique())]
    np.testing.assert_allclose(table["importance"], expected, atol=1e-12)


def _with_nans(rng, shape, share):
    values = rng.choice([0.1, 0.25, 0.5, 0.7, 0.9], size=shape) + rng.normal(0, 0.2, size=shape)
    values[rng.random(shape) < share] = np.nan
    return values


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.95, 1.0])
def test_the_bootstrap_medians_are_numpys_nanmedian_bit_for_bit(share):
    rng = np.random.default_rng(int(share * 100))
    for rows, columns in [(1000, 20), (7, 1), (50, 2), (3, 600)]:
        values = _with_nans(rng, (rows, columns), share)
        values[0] = np.nan  # a resample with no candidate known
        with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
            expected = np.nanmedian(values, axis=1)
        assert np.array_equal(drivers.nan_median_of_rows(values), expected, equal_nan=True)


@pytest.mark.parametrize("share", [0.0, 0.01, 0.3, 0.9])
def test_the_importance_intervals_are_numpys_nanpercentile_bit_for_bit(share):
    rng = np.random.default_rng(7 + int(share * 100))
    for rows, columns in [(1000, 20), (5, 3), (1000, 1)]:
        values = _with_nans(rng, (rows, columns), share)
        values[0, :] = rng.random(columns)  # each column holds a number
        expected = np.nanpercentile(values, [2.5, 97.5], axis=0)
        got = drivers.nan_percentiles_of_columns(values, (2.5, 97.5))
        assert np.array_equal(got, expected)
