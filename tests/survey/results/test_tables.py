"""The database-to-DataFrame seam and the `analyse` command built on it."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

from survey import responses
from survey.extensions import db
from survey.models import utcnow
from survey.results import (
    answers_frame,
    comments_query,
    data_versions,
    labels_for,
    round_results,
    satisfaction_table,
    short_label,
)
from survey.results import tally as tally_module

# The results fixtures: a round with known answers, an empty, a weighted and a previous round.


@pytest.fixture
def two_responses(make_invitation):
    # Threshold 2: two respondents are enough to publish an item here.
    first = make_invitation(group="mayors", anonymity_threshold=2)
    second = make_invitation(group="departments", round_=first.round)
    responses.submit(
        first,
        {"doc_timeliness": 5, "city_environment": 2, "comment": "好"},
        {"city_environment": "河道脏"},
        "k1",
        utcnow(),
    )
    responses.submit(
        second,
        {"doc_timeliness": 3, "city_environment": 4, "contact_channel": "phone"},
        {},
        "k2",
        utcnow(),
    )
    return first.round


def test_frame_has_one_row_per_stored_answer(two_responses):
    frame = answers_frame(two_responses)
    assert len(frame) == 6
    env = frame[frame["question"] == "city_environment"].sort_values("value")
    assert list(env["value"]) == [2.0, 4.0]
    assert list(env["group"].astype(str)) == ["mayors", "departments"]
    assert env["comment"].iloc[0] == "河道脏"
    assert set(env["category"].astype(str)) == {"city.environment"}
    assert (env["scale_min"].tolist(), env["scale_max"].tolist()) == ([1, 1], [5, 5])


def test_frame_of_an_anonymous_round_has_no_units(make_invitation):
    invitation = make_invitation(anonymous=True)
    responses.submit(invitation, {"doc_timeliness": 4}, {}, "k", utcnow())
    frame = answers_frame(invitation.round)
    assert frame["unit"].isna().all() and (frame["group"] == "departments").all()


def test_frame_of_a_round_without_responses_is_empty(make_round):
    assert answers_frame(make_round()).empty


def test_satisfaction_table_lists_the_lowest_item_first(two_responses):
    table = satisfaction_table(two_responses)
    first = table.iloc[0]
    assert first["n"] == 2 and first["satisfied"] == 1 and first["rate"] == 0.5
    assert set(table["question"].astype(str)) == {"doc_timeliness", "city_environment"}


def test_analyse_leaves_out_the_items_too_few_answered_to_publish(make_invitation, runner):
    # Found by review: the command printed every item, one answered by a single office too.
    invitation = make_invitation(group="cppcc")
    responses.submit(invitation, {"liaison_contact": 1}, {}, "k-one", utcnow())
    text = runner.invoke(args=["analyse", str(invitation.round_id)])
    assert text.exit_code == 0, text.output
    assert "liaison_contact" not in text.output


def test_analyse_prints_the_table_and_json(two_responses, runner):
    text = runner.invoke(args=["analyse", str(two_responses.id)])
    assert text.exit_code == 0, text.output
    assert "doc_timeliness" in text.output and "50.0" in text.output
    data = json.loads(runner.invoke(args=["analyse", str(two_responses.id), "--json"]).output)
    assert {row["question"]: row["rate"] for row in data} == {
        "doc_timeliness": 0.5,
        "city_environment": 0.5,
    }


@pytest.mark.parametrize("scale", ["three_points", "odd_values", "top_box", "seven_points"])
def test_analyse_a_round_on_another_scale_counts_its_own_satisfied_points(
    runner, scaled_round, scale
):
    round_, expected = scaled_round(scale)
    text = runner.invoke(args=["analyse", str(round_.id)])
    assert text.exit_code == 0, text.output
    data = json.loads(runner.invoke(args=["analyse", str(round_.id), "--json"]).output)
    assert {row["question"]: (row["n"], row["satisfied"]) for row in data} == {
        code: (n, satisfied) for code, (n, satisfied, _) in expected.items()
    }


def test_the_frame_carries_each_questions_satisfied_and_dissatisfied_points(scaled_round):
    round_, _ = scaled_round("odd_values")
    frame = answers_frame(round_)
    rated = frame[frame["type"] == "rating"]
    assert set(rated["satisfied_from"]) == {7} and set(rated["dissatisfied_to"]) == {3}


def test_analyse_an_unknown_round_fails_clearly(runner, app):
    result = runner.invoke(args=["analyse", "999"])
    assert result.exit_code != 0 and "no round 999" in result.output


# --- cached round results ------------------------------------------------------------------


def test_round_results_are_cached_until_a_new_response(known_round, answer, monkeypatch):
    # A new response is read on its own (its answers only: the responses above the last id
    # already counted) and folded into the kept tally (survey.results.tally).
    loads = []
    real = tally_module.answers_frame

    def recorded(round_, after_id=0, through_id=None):
        loads.append(after_id)
        return real(round_, after_id, through_id)

    monkeypatch.setattr(tally_module, "answers_frame", recorded)
    first = round_results(known_round)
    assert round_results(known_round) is first and loads == [0]
    answer(known_round, "departments", {"doc_timeliness": 1})
    again = round_results(known_round)
    assert again is not first and again.responses == 11
    assert loads == [0, first.key[1][1]]  # after the highest id of the first ten


def test_changing_the_threshold_recomputes(known_round):
    first = round_results(known_round)
    known_round.thresholds = {"rate": 0.6}
    assert round_results(known_round).threshold == 0.6 and first.threshold == 0.8


def test_cached_tables_equal_a_fresh_analysis(known_round):
    import analysis
    from survey.results import lowest_first

    cached = round_results(known_round)
    counts = analysis.rating_counts(answers_frame(known_round))
    fresh = lowest_first(analysis.item_table(analysis.disclose(counts, 5).counts))
    assert list(cached.items["question"].astype(str)) == list(fresh["question"].astype(str))
    assert list(cached.items["rate"]) == list(fresh["rate"])


def test_data_versions_count_responses_and_the_latest_id(known_round, make_round):
    empty = make_round(name="empty")
    versions = data_versions([known_round.id, empty.id])
    assert versions[known_round.id][0] == 10 and versions[empty.id] == (0, 0)


def test_a_category_is_labelled_by_its_section_or_its_only_question(office_version):
    labels = labels_for(office_version, "en")
    assert labels.categories["services.documents"] == "Document processing"
    assert labels.categories["city.environment"].startswith("The city's environment")
    assert labels.category_order[0] == "services.documents"


def test_short_labels_drop_a_closing_parenthesis_and_cut_at_a_word():
    assert short_label("The city's environment (air, water and green space)") == (
        "The city's environment"
    )

    assert short_label("城市生态环境（空气、水体、绿化）") == "城市生态环境"
    assert short_label("one two three four", width=10) == "one two…"


def test_comments_of_a_small_group_are_not_selected_by_that_group(known_round):
    query = comments_query(known_round, group="mayors", hidden_groups={"mayors"})
    assert db.session.scalars(query).all() == []
    everything = db.session.scalars(comments_query(known_round)).all()
    assert {a.response.group.code for a in everything} == {"departments", "mayors"}


@pytest.mark.parametrize(
    "change",
    [
        {"status": "closed"},
        {"anonymous": True},
        {"opens_at": datetime(2004, 9, 1)},
        {"closes_at": datetime(2004, 12, 1)},
        {"anonymity_threshold": 7},
        {"weights": {"departments": 1.0}},
        {"thresholds": {"rate": 0.9, "mean": 3.5}},
    ],
)
def test_every_setting_the_files_show_gives_a_new_cache_tag(known_round, change):
    """Charts, the workbook and the PDF are stored under this tag: an edited round never
    serves a file made before the edit."""
    before = round_results(known_round).version_tag
    for key, value in change.items():
        setattr(known_round, key, value)
    assert round_results(known_round).version_tag != before


@pytest.mark.parametrize("anonymous", [True, False])
def test_an_anonymous_round_never_names_a_group_of_one_unit_however_many_answer(
    make_round, anonymous
):
    from sqlalchemy import select

    from survey import invitations
    from survey.models import RespondentGroup, Unit

    # Six departments and six mayors' offices, and six people of the single CPPCC office.
    round_ = make_round(anonymous=anonymous)
    k = 0
    for group, n_units in (("departments", 6), ("mayors", 6), ("cppcc", 1)):
        units = db.session.scalars(
            select(Unit).join(RespondentGroup).where(RespondentGroup.code == group).limit(n_units)
        ).all()
        for unit in units * (6 // len(units)):
            invitation = invitations.issue(round_, unit, f"Person {k}", f"p{k}@office.test")
            db.session.commit()
            responses.submit(invitation, {"doc_timeliness": 4}, {}, f"one-unit-{k}", utcnow())
            k += 1
    groups = round_results(round_).groups.set_index("group")["suppressed"].to_dict()
    # Named, six respondents are enough; anonymous, the CPPCC's six are its one office's.
    assert bool(groups["cppcc"]) == anonymous
    assert not all(groups.values())


def test_raising_an_earlier_rounds_threshold_reaches_the_later_rounds_history(make_round, rate):
    # Found by review: the later round's cached history kept the earlier round's category
    # with an item it now withholds; minus its own page's category, that item's 6 answers.
    from datetime import timedelta

    earlier = make_round(status="closed", name="2004 spring",
                         opens_at=utcnow() - timedelta(days=200),
                         closes_at=utcnow() - timedelta(days=170))  # fmt: skip
    rate(earlier, 0, 6)
    rate(earlier, 20, 20, question="doc_accuracy")
    later = make_round(status="closed")
    rate(later, 10, 10)
    rate(later, 10, 10, question="doc_accuracy")
    before = round_results(later).history
    assert before[before.round_id == earlier.id]["n"].sum() == 26
    earlier.anonymity_threshold = 7
    db.session.commit()
    own = round_results(earlier).categories["n"].sum()
    history = round_results(later).history
    assert history[history.round_id == earlier.id]["n"].sum() == own == 20


def test_no_correlation_is_published_over_fewer_pairs_than_the_threshold(make_round, answer):
    # Found by review: importance was shown for 3 to k - 1 respondents rating an item and the
    # overall item together (the item itself had enough respondents, the pairs did not).
    round_ = make_round()
    for k in range(8):
        values = {"doc_timeliness": 5 - k % 3}
        if k < 3:
            values["overall"] = 5 - k % 3
        answer(round_, "departments", values)
    for _ in range(5):
        answer(round_, "mayors", {"overall": 4})
    drivers = round_results(round_).drivers.set_index("question")
    assert drivers.loc["doc_timeliness", "pairs"] == 3
    assert pd.isna(drivers.loc["doc_timeliness", "importance"])


def test_tables_the_dashboard_does_not_show_are_computed_when_asked_for(known_round, answer):
    """group_items, unit_categories, scorecards and choices wait until asked for, and are then
    the tables computed from the same inputs as before."""
    import analysis

    answer(known_round, "departments", {"doc_timeliness": 2, "overall": 3})
    results = round_results(known_round)
    lazy = ("group_items", "unit_categories", "scorecards", "choices")
    assert not set(lazy) & set(vars(results))
    k = known_round.anonymity_threshold
    expected = {
        "group_items": analysis.by_group_question(results.disclosure),
        "unit_categories": analysis.scorecard_table(
            results.counts, results.threshold, level="category"
        ),
        "scorecards": analysis.scorecard_table(results.counts, results.threshold, level="question"),
        "choices": analysis.choice_table(results.choice_tally, k, results.unnamed_groups),
    }
    for name in lazy:
        pd.testing.assert_frame_equal(getattr(results, name), expected[name])
        assert getattr(results, name) is getattr(results, name)  # computed once


def test_the_question_table_is_read_once_per_version(known_round, answer, monkeypatch):
    """The small-delta read reuses the version's question table; the frame is the same as with
    the table read afresh."""
    from survey.results import clear_cache, frames

    kept = answers_frame(known_round)
    reads = []
    real = frames._read_question_table
    monkeypatch.setattr(
        frames,
        "_read_question_table",
        lambda version_id: reads.append(version_id) or real(version_id),
    )
    answer(known_round, "departments", {"doc_timeliness": 1})
    again = answers_frame(known_round)
    assert reads == []
    clear_cache()
    pd.testing.assert_frame_equal(answers_frame(known_round), again)
    assert reads == [known_round.version_id]
    assert len(again) > len(kept)


def test_results_are_computed_with_one_blas_thread(known_round, answer, monkeypatch):
    """The web workers share the cores: a multithreaded BLAS waits for its threads' turns
    (``analysis.threads``), so the results' products run on one thread, and the limit is
    lifted after."""
    from threadpoolctl import threadpool_info

    import analysis
    from survey.results import clear_cache

    clear_cache()
    seen = []
    real = analysis.driver_table

    def recording(*args, **kwargs):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "driver_table", recording)
    before = {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
    round_results(known_round)
    assert seen == [{1}]
    assert {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"} == before


def test_after_a_new_response_the_trend_equals_a_fresh_one_and_reuses_the_closed_rounds(
    make_round, rate, monkeypatch
):
    """The earlier (closed) rounds' rows of the trend are kept while their responses and
    settings stay; this round's change is the comparison's. After a new response the trend
    and the comparison equal those computed from nothing."""
    from datetime import timedelta

    import analysis
    from survey.results import clear_cache

    oldest = make_round(status="closed", name="2003 spring",
                        opens_at=utcnow() - timedelta(days=400),
                        closes_at=utcnow() - timedelta(days=370))  # fmt: skip
    rate(oldest, 12, 20)
    rate(oldest, 15, 20, question="doc_accuracy")
    earlier = make_round(status="closed", name="2004 spring",
                         opens_at=utcnow() - timedelta(days=200),
                         closes_at=utcnow() - timedelta(days=170))  # fmt: skip
    rate(earlier, 14, 20)
    rate(earlier, 10, 20, question="doc_accuracy")
    current = make_round(status="open")
    rate(current, 16, 20)
    rate(current, 9, 20, question="doc_accuracy")
    clear_cache()
    first = round_results(current)
    assert first.history["round_id"].tolist().count(oldest.id) > 0
    compared = []
    real = analysis.compare_rounds

    def recording(before, after, **kwargs):
        compared.append(kwargs.get("by"))
        return real(before, after, **kwargs)

    monkeypatch.setattr(analysis, "compare_rounds", recording)
    rate(current, 1, 3)
    grown = round_results(current)
    assert grown is not first
    # The comparison's two tables only: neither the earlier rounds' changes nor this
    # round's change by category again.
    assert sorted(compared, key=repr) == sorted([("category",), None], key=repr)
    clear_cache()
    fresh = round_results(current)
    pd.testing.assert_frame_equal(grown.history, fresh.history)
    pd.testing.assert_frame_equal(grown.comparison.categories, fresh.comparison.categories)
    pd.testing.assert_frame_equal(grown.comparison.items, fresh.comparison.items)
    assert not grown.history.equals(first.history)


def test_the_headline_follows_the_questionnaires_category_order_unknown_codes_last():
    import pandas as pd

    from survey.results.labels import Labels
    from survey.results.tables import _in_order

    table = pd.DataFrame(
        {"category": pd.Categorical(["b", "zz", None, "a", "c", "ab"]), "n": range(6)}
    )
    labels = Labels("en", {}, {}, {}, {}, (), ("c", "a", "b"))
    ordered = _in_order(table, labels)
    assert ordered["category"].tolist()[:5] == ["c", "a", "b", "ab", "zz"]
    assert pd.isna(ordered["category"].iloc[5])  # a missing code after every known one
    assert ordered["n"].tolist() == [4, 3, 0, 5, 1, 2]
    assert ordered.index.tolist() == list(range(6))
    assert ordered["category"].dtype == table["category"].dtype
