"""Low-score rules: a round's satisfaction tables -> candidates for corrective action.

Each rule is a ``Rule`` registered in ``RULES`` (house style §7): adding one is one function and
one registry entry. ``run_rules`` evaluates the enabled rules per item, i.e. per (question,
served_unit), on the whole round (``group`` None), and again per (question, served_unit,
group) for every group cell with at least ``anonymity_threshold`` respondents: a suppressed
group never gets a candidate of its own, though its answers count in the whole-round rows.

Threshold comparisons are exact (``analysis.metrics.below``): with a rate threshold of 0.80,
799 of 1000 fires and 800 of 1000 (or 4 of 5) does not.

``evidence`` is ``confirmed`` when the whole 95% interval lies below the threshold and
``possible`` when only the point estimate does. ``comments`` holds the comments given with
dissatisfied ratings of that item (and group: the bottom two points of its scale, or as the
scale declares, see ``analysis.metrics``), ordered by response_id.

The same item can fire several rules and appear once for the round and once per group; an
item needs at most one open corrective action, so callers keep one candidate per
``action_key`` (question, served_unit): ``one_per_action_key`` keeps the first, and
``run_rules`` lists the most important first (see its docstring).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, aggregate, as_counts
from analysis.disclosure import ANONYMITY_THRESHOLD, disclose
from analysis.keys import group_ids, key_tuples, plain_keys
from analysis.metrics import ITEM_KEYS, Z95, below, metrics_of, ratio
from analysis.trends import two_proportion_z_tests

ROW_KEYS = (*ITEM_KEYS, "group")
MATCH_KEYS = ("question", "served_unit", "group")


@dataclass(frozen=True)
class Thresholds:
    """Rule thresholds of a round: rate on 0..1, mean on the item's own (default 1..5) scale,
    alpha the significance level of the round-over-round drop."""

    rate: float = 0.80
    mean: float = 3.5
    alpha: float = 0.05


@dataclass(frozen=True)
class ActionCandidate:
    """One fired rule for one item (and group), with the evidence a quality lead needs."""

    rule: str
    question: str
    category: str | None
    served_unit: str | None
    group: str | None
    observed: float
    n: int
    ci_low: float
    ci_high: float
    threshold: float
    severity: float
    evidence: str
    comments: tuple[str, ...] = ()
    p_value: float | None = None


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: one row per item (group NaN) and per shown group cell, with metrics
    (``analysis.metrics.METRIC_COLUMNS``), ``mean_ci_low``/``mean_ci_high``, ``lowest_commented``
    (ratings at scale_min with a comment), ``comments``, and the previous round's ``prev_*``
    columns (NaN when there is no previous round or row). A rule returns ``candidates(...)``
    for the rows it fires on."""

    rows: pd.DataFrame
    thresholds: Thresholds
    _lists: dict[str, list] = field(default_factory=dict, init=False, repr=False, compare=False)

    def values(self, name: str) -> np.ndarray:
        """A column as a numpy array."""
        return self.rows[name].to_numpy()

    def column(self, name: str) -> list:
        """A column as a Python list, made once for all the rules."""
        if name not in self._lists:
            self._lists[name] = self.rows[name].tolist()
        return self._lists[name]


@dataclass(frozen=True)
class Rule:
    """A low-score rule: ``check`` returns the candidates for the rows that fire; ``measures``
    says what its observed figure and interval are: a satisfaction ``rate`` (0..1) or a
    ``mean`` on the item's scale, which is how pages, exports and the API show them."""

    code: str
    description: str
    check: Callable[[RuleContext], list[ActionCandidate]]
    measures: str = "rate"


def _rate_below(context: RuleContext) -> list[ActionCandidate]:
    """Rate below threshold t: satisfied / n < t. Severity (t - rate) * sqrt(n)."""
    t, n = context.thresholds.rate, context.values("n")
    fired = below(context.values("satisfied"), n, t)
    severity = (t - context.values("rate")) * np.sqrt(n)
    return candidates(context, "rate_below", fired, "rate", "ci_low", "ci_high", t, severity)


def _mean_below(context: RuleContext) -> list[ActionCandidate]:
    """Mean below threshold t: sum / n < t. Severity (t - mean) * sqrt(n); the interval is
    mean ± 1.96 sd / sqrt(n) (NaN for n < 2, so such a row is only ever ``possible``)."""
    t, n = context.thresholds.mean, context.values("n")
    fired = below(context.values("total"), n, t)
    severity = (t - context.values("mean")) * np.sqrt(n)
    return candidates(
        context, "mean_below", fired, "mean", "mean_ci_low", "mean_ci_high", t, severity
    )


def _significant_drop(context: RuleContext) -> list[ActionCandidate]:
    """Rate lower than the previous round's for the same question, served unit (and group)
    with two-sided pooled z-test p < alpha. Threshold = the previous rate; severity
    (previous rate - rate) * sqrt(n)."""
    rate, before = context.values("rate"), context.values("prev_rate")
    fired = (rate < before) & (context.values("p_value") < context.thresholds.alpha)
    severity = (before - rate) * np.sqrt(context.values("n"))
    return candidates(
        context, "significant_drop", fired, "rate", "ci_low", "ci_high", before, severity
    )


def _single_low_with_comment(context: RuleContext) -> list[ActionCandidate]:
    """Any rating at scale_min (1 of 5) given with a non-empty comment. Observed is the item's
    rate with its interval; threshold NaN; severity the number of such ratings; evidence is
    always ``confirmed`` (a respondent said what went wrong)."""
    lowest = context.values("lowest_commented")
    return candidates(
        context, "single_low_with_comment", lowest > 0, "rate", "ci_low", "ci_high", math.nan,
        lowest.astype("float64"), evidence="confirmed",
    )  # fmt: skip


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("rate_below", "item satisfaction rate below the threshold", _rate_below),
        Rule("mean_below", "item mean score below the threshold", _mean_below, "mean"),
        Rule("significant_drop", "significant drop from the previous round", _significant_drop),
        Rule(
            "single_low_with_comment",
            "a rating at the bottom of the scale with a comment",
            _single_low_with_comment,
        ),
    )
}


def measures(rule: str) -> str:
    """What a rule's observed figure is: ``rate`` or ``mean`` (``rate`` for a rule no longer
    registered, as every rule but ``mean_below`` measures a rate)."""
    return RULES[rule].measures if rule in RULES else "rate"


def run_rules(
    frame: pd.DataFrame | RatingCounts,
    thresholds: Thresholds = Thresholds(),
    previous: pd.DataFrame | RatingCounts | None = None,
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
    enabled: Iterable[str] | None = None,
) -> list[ActionCandidate]:
    """Evaluate the enabled rules (all of ``RULES`` by default) on one round.

    ``previous`` is the previous round (frame or counts) for ``significant_drop``; without it
    that rule never fires. Candidates are ordered by rule (registry order, or the order of
    ``enabled``), whole-round rows before group rows, then by severity (largest first), then
    by question, served unit and group. An empty round gives no candidates.
    """
    codes = list(RULES) if enabled is None else list(enabled)
    unknown = [code for code in codes if code not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(unknown)}; known: {', '.join(RULES)}")
    rows = _rule_rows(as_counts(frame), anonymity_threshold)
    old = None if previous is None else _previous_rows(as_counts(previous), anonymity_threshold)
    rows = _with_previous(rows, old)
    context = RuleContext(rows=rows, thresholds=thresholds)
    result: list[ActionCandidate] = []
    for code in codes:
        result.extend(_ordered(RULES[code].check(context)))
    return result


def action_key(candidate: ActionCandidate) -> tuple[str, str | None]:
    """The key of the corrective action a candidate belongs to: (question, served_unit)."""
    return candidate.question, candidate.served_unit


def one_per_action_key(candidates: Iterable[ActionCandidate]) -> list[ActionCandidate]:
    """The first candidate of each ``action_key``, in the given order (so, with the order of
    ``run_rules``, the first enabled rule that fired, preferring the whole-round row)."""
    seen: set[tuple[str, str | None]] = set()
    kept = []
    for candidate in candidates:
        if action_key(candidate) not in seen:
            seen.add(action_key(candidate))
            kept.append(candidate)
    return kept


def _ordered(candidates: list[ActionCandidate]) -> list[ActionCandidate]:
    return sorted(
        candidates,
        key=lambda c: (
            c.group is not None, -c.severity if c.severity == c.severity else 0.0,
            c.question, c.served_unit or "", c.group or "",
        ),
    )  # fmt: skip


def _rule_rows(counts: RatingCounts, anonymity_threshold: int) -> pd.DataFrame:
    """Whole-round item rows (group None) and the group cells that may be shown on their own.

    The frame is built once from numpy columns, keys as plain strings (None when missing):
    pandas' concat, astype and column-by-column assignment on these few hundred rows cost more
    than every rule together. Only what the round may publish is seen (``analysis.disclosure``):
    a candidate is shown to the lead with its figures, so withheld items and hidden group
    cells get none."""
    published = disclose(counts, anonymity_threshold)
    counts = published.counts
    whole, groups = metrics_of(counts, ITEM_KEYS), metrics_of(counts, ROW_KEYS)
    shown = np.flatnonzero(~published.hidden(ROW_KEYS))
    texts = counts.comments["comment"].to_numpy(dtype=object)
    whole_comments, whole_lowest = _comments_per_row(counts, ITEM_KEYS, len(whole), texts)
    group_comments, group_lowest = _comments_per_row(counts, ROW_KEYS, len(groups), texts)
    data: dict[str, np.ndarray | list] = {}
    for name in whole.columns:
        if name in ITEM_KEYS:
            parts = [plain_keys(whole[name]), plain_keys(groups[name]).take(shown)]
        else:
            parts = [whole[name].to_numpy(), groups[name].to_numpy().take(shown)]
        data[name] = np.concatenate(parts)
    data["group"] = np.concatenate(
        [np.full(len(whole), None, dtype=object), plain_keys(groups["group"]).take(shown)]
    )
    data["comments"] = whole_comments + [group_comments[i] for i in shown]
    data["lowest_commented"] = np.concatenate([whole_lowest, group_lowest.take(shown)])
    half = Z95 * data["sd"] / np.sqrt(data["n"])
    data["mean_ci_low"], data["mean_ci_high"] = data["mean"] - half, data["mean"] + half
    return pd.DataFrame(data)


def _comments_per_row(
    counts: RatingCounts, keys: tuple[str, ...], n_rows: int, texts: np.ndarray
) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Each row's comments given with dissatisfied ratings (a tuple, by response_id) and the
    count of its lowest ratings (scale_min) that came with a comment; the rows are those of
    ``aggregate(counts, keys)``, in the order of the cells' groupby over ``keys``. ``texts``:
    the comments' texts."""
    row_of_cell, _ = group_ids(counts.cells, keys)
    comments = counts.comments
    row = row_of_cell[comments["cell"].to_numpy()]
    if n_rows < 2**15:
        row = row.astype(np.int16)  # a stable sort of small integers is a radix sort
    order = np.argsort(row, kind="stable")  # stable: keeps the response_id order
    ordered = texts[order].tolist()  # slicing a list into tuples is quicker than an array
    bounds = np.searchsorted(row[order], np.arange(n_rows + 1)).tolist()
    per_row = [tuple(ordered[bounds[i] : bounds[i + 1]]) for i in range(n_rows)]
    lowest = (comments["value"] == comments["scale_min"]).to_numpy()
    return per_row, np.bincount(row[lowest], minlength=n_rows).astype("int64")


def _previous_rows(counts: RatingCounts, anonymity_threshold: int) -> dict[tuple, tuple]:
    """The previous round's (n, satisfied) per (question, served_unit, None) and per shown
    group cell (question, served_unit, group): matched without the category, which a new
    questionnaire version may rename. Missing keys are None. The keys are unique: ``aggregate``
    gives one row per combination, and a group row's group is never missing."""
    published = disclose(counts, anonymity_threshold)
    counts = published.counts
    whole = aggregate(counts, MATCH_KEYS[:2])
    groups = aggregate(counts, ROW_KEYS)
    shown = ~published.hidden(ROW_KEYS)
    figures = {(*key, None): figure for key, figure in
               zip(key_tuples(whole, MATCH_KEYS[:2]), _figures(whole))}  # fmt: skip
    figures.update(
        (key, figure)
        for key, figure, keep in zip(key_tuples(groups, MATCH_KEYS), _figures(groups), shown)
        if keep
    )
    return figures


def _figures(table: pd.DataFrame) -> zip:
    """Each row's (n, satisfied)."""
    return zip(table["n"].tolist(), table["satisfied"].tolist())


def _with_previous(rows: pd.DataFrame, previous: dict[tuple, tuple] | None) -> pd.DataFrame:
    """Add prev_n, prev_satisfied, prev_rate (NaN without a previous row) and the z-test
    p_value of the change. Missing keys match each other."""
    # The frame stores the key strings as pandas' str dtype, whose missing value is NaN.
    keys = zip(*(rows[key].tolist() for key in MATCH_KEYS))
    found = [
        (previous or {}).get(tuple(None if v != v else v for v in key), (math.nan, math.nan))
        for key in keys
    ]
    prev = np.array(found, dtype="float64").reshape(len(rows), 2)
    rows = rows.copy()
    rows["prev_n"], rows["prev_satisfied"] = prev[:, 0], prev[:, 1]
    rows["prev_rate"] = ratio(prev[:, 1], prev[:, 0])
    _, rows["p_value"] = two_proportion_z_tests(
        rows["prev_satisfied"], rows["prev_n"], rows["satisfied"], rows["n"]
    )
    return rows


def candidates(
    context: RuleContext,
    rule: str,
    fired: np.ndarray,
    observed: str,
    low: str,
    high: str,
    threshold: float | np.ndarray,
    severity: np.ndarray,
    evidence: str | None = None,
) -> list[ActionCandidate]:
    """The candidates of ``rule`` for the rows where ``fired`` is True: the observed figure and
    its interval from the columns ``observed``, ``low`` and ``high``; ``threshold`` (one value
    or one per row) and ``severity`` (one per row); ``evidence`` confirmed when the interval's
    high end is below the threshold, unless given."""
    n_rows = len(context.rows)
    thresholds = np.broadcast_to(np.asarray(threshold, dtype="float64"), (n_rows,))
    severities = np.asarray(severity, dtype="float64")
    # Whole columns as Python lists, made once for every rule: per-row access to the frame
    # costs more than all the rule arithmetic.
    column = context.column
    result = []
    for i in np.flatnonzero(fired).tolist():
        limit = float(thresholds[i])
        ci_high = float(column(high)[i])
        result.append(
            ActionCandidate(
                rule=rule,
                question=column("question")[i],
                category=_code(column("category")[i]),
                served_unit=_code(column("served_unit")[i]),
                group=_code(column("group")[i]),
                observed=float(column(observed)[i]),
                n=int(column("n")[i]),
                ci_low=float(column(low)[i]),
                ci_high=ci_high,
                threshold=limit,
                severity=float(severities[i]),
                evidence=evidence or ("confirmed" if ci_high < limit else "possible"),
                comments=tuple(column("comments")[i]),
                p_value=float(column("p_value")[i]) if rule == "significant_drop" else None,
            )
        )
    return result


def _code(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
