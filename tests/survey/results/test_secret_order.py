"""Lists of a round's answers one by one come in an order keyed by the app's secret."""

from __future__ import annotations

import numpy as np
from sqlalchemy import literal, select

from survey.extensions import db
from survey.results import exports
from survey.results.comments import comments_query
from survey.results.secret_order import PRIME, keyed_order, round_key


def _listed(round_) -> list[int]:
    return [a.id for a in db.session.scalars(comments_query(round_))]


def _round_with_comments(make_round, answer, count: int = 12):
    round_ = make_round(anonymous=True)
    for n in range(count):
        answer(round_, "departments", {"doc_timeliness": 1}, {"doc_timeliness": f"太慢 {n}"})
    round_.status = "closed"
    db.session.commit()
    return round_


def test_comments_are_not_listed_in_the_order_they_came(app, make_round, answer):
    round_ = _round_with_comments(make_round, answer)

    listed = _listed(round_)

    assert len(listed) == 12
    assert listed != sorted(listed)
    assert listed != sorted(listed, reverse=True)
    # Nor in the order of the fixed formula the list used before, which anyone who has read
    # the code could undo.
    assert listed != sorted(listed, key=lambda i: ((i * 7919) % 10007, i))


def test_the_comment_order_depends_on_the_app_secret(app, make_round, answer):
    round_ = _round_with_comments(make_round, answer)
    first = _listed(round_)
    assert _listed(round_) == first  # stable from one view (or page) to the next

    app.config["SECRET_KEY"] = "another office's secret"

    assert sorted(_listed(round_)) == sorted(first)
    assert _listed(round_) != first


def test_each_round_has_its_own_key(app):
    assert round_key("comment-order", 1) != round_key("comment-order", 2)
    assert round_key("comment-order", 1) != round_key("raw-order", 1)


def test_the_keyed_order_is_a_permutation_of_ids(app):
    ids = list(range(1, 3000)) + [PRIME - 1, 2**31 - 2]
    keys = [
        db.session.scalar(select(keyed_order(literal(i), "comment-order", 7))) for i in ids[:50]
    ]
    assert len(set(keys)) == 50
    assert all(0 <= k < PRIME for k in keys)
    # In SQL's 64-bit integers: the largest id's key is computed without overflow.
    assert db.session.scalar(select(keyed_order(literal(ids[-1]), "comment-order", 7))) >= 0


def test_the_raw_order_keeps_its_key(app):
    # The raw export's order is unchanged by sharing the key derivation: the CSV and the
    # workbook downloaded before list their rows as those downloaded after.
    ids = np.arange(1, 6, dtype=np.int64)
    assert exports.shuffle_keys(ids, 3).tolist() == exports.shuffle_keys(ids, 3).tolist()
    app.config["SECRET_KEY"] = "x"
    assert exports.shuffle_keys(ids, 3).tolist() != exports.shuffle_keys(ids, 4).tolist()


def test_list_neighbours_are_not_a_few_id_steps_apart(app):
    """Answers to a question come in with ids a near-constant step apart. Under an affine key
    (id * a + b mod P), the three-distance theorem makes each list neighbour's id the one
    before's plus one of at most three steps: the submission ranks of two or three comments
    (one's own, or those of units seen turning "submitted") give the steps, and walking
    the list from them gives every comment's place in the order the answers came."""
    ids = list(range(1000, 1600, 7))  # a comment every seventh answer
    keys = {i: db.session.scalar(select(keyed_order(literal(i), "comment-order", 7))) for i in ids}
    listed = sorted(ids, key=keys.get)
    steps = {b - a for a, b in zip(listed, listed[1:])}
    assert len(steps) > 10
