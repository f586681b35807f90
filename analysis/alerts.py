"""Low-score rules: a round's satisfaction tables -> candidates for corrective action.

Each rule is a ``Rule`` registered in ``RULES`` (house style §7): adding one is one function and
one registry entry. ``run_rules`` evaluates the enabled rules per item, i.e. per (question,
served_unit), on the whole round (``group`` None), and again per (question, served_unit,
group) for every group cell with at least ``anonymity_threshold`` respondents: a suppressed
group never gets a candidate of its own, though its answers count in the whole-round rows.

Threshold comparisons are exact (``analysis.metrics.below``): with a rate threshold of 0.80,
799 of 1000 fires and 800 of 1000 (or 4 of 5) does not.

The drop rule tests each row's change from the previous round as ``analysis.trends`` does:
only rows with at least ``anonymity_threshold`` respondents in both rounds, Fisher's exact
test where an expected count is below 5, else the pooled z-test, and the Benjamini-Hochberg
correction across all the round's drop tests (the items and the shown group cells together):
it fires when the rate fell and the adjusted p-value (``p_adjusted``) is below alpha.

``evidence`` says how sure the finding is:

- rate and mean below the threshold: ``confirmed`` when the whole 95% interval lies below the
  threshold and the row has at least ``anonymity_threshold`` respondents, else ``possible``;
- significant drop: ``confirmed`` when, besides the corrected test, the 95% interval of the
  change (Newcombe's hybrid score interval, which takes both rounds' uncertainty into
  account) lies wholly below zero, else ``possible``;
- a rating at the bottom of the scale with a comment: always ``possible``; it is a note on the
  item for the quality lead, not evidence of a nonconformity by itself.

``severity`` ranks the candidates on one scale, the size of the gap times how certain it is:
``gap`` is the shortfall on a 0..1 scale (threshold - rate; (threshold - mean) / the scale's
range; previous rate - rate) and ``certainty`` the confidence that the true figure is below
(the normal probability of the distance from the threshold in standard errors: (t - rate) /
sqrt(t (1 - t) / n) for a rate, (t - mean) / (sd / sqrt n) for a mean; 1 - p_adjusted for a
drop). A comment on an item that meets the threshold has gap 0. ``comments`` holds the
comments given with dissatisfied ratings of that item (and group: the bottom two points of its
scale, or as the scale declares, see ``analysis.metrics``), ordered by response_id.

The same item can fire several rules and appear once for the round and once per group; an
item needs at most one open corrective action, so callers keep one candidate per
``action_key`` (question, served_unit): ``one_per_action_key`` keeps the first whole-round
candidate (else the first group one), and ``run_rules`` lists the most severe first (see its
docstring).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.counts import RatingCounts, aggregate, as_counts
from analysis.disclosure import ANONYMITY_THRESHOLD, Disclosure, disclose
from analysis.keys import key_tuples, plain_keys
from analysis.metrics import ITEM_KEYS, Z95, below, metrics_of, ratio
from analysis.trends import adjust_bh, newcombe_intervals, proportion_tests

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
    # The drop rule's Benjamini-Hochberg adjusted p-value, the test that gave p_value ("z" or
    # "fisher") and the 95% Newcombe interval of the change (this round - the previous one).
    p_adjusted: float | None = None
    test: str | None = None
    difference_ci: tuple[float, float] | None = None
    # severity = gap x certainty (see the module docstring); respondents of the row.
    gap: float = math.nan
    certainty: float = math.nan
    respondents: int = 0


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees: one row per item (group NaN) and per shown group cell, with metrics
    (``analysis.metrics.METRIC_COLUMNS``), ``mean_ci_low``/``mean_ci_high``, ``lowest_commented``
    (ratings at scale_min with a comment), ``comments``, and the previous round's ``prev_*``
    columns (NaN when there is no previous round or row) with the test of the change
    (``p_value``, ``test``, ``p_adjusted``, ``diff_low``/``diff_high``). A rule returns
    ``candidates(...)`` for the rows it fires on."""

    rows: pd.DataFrame
    thresholds: Thresholds
    anonymity_threshold: int = ANONYMITY_THRESHOLD
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
    """Rate below threshold t: satisfied / n < t. Gap t - rate; certainty the normal
    probability of (t - rate) / sqrt(t (1 - t) / n), the score test's distance from t."""
    t, n = context.thresholds.rate, context.values("n")
    fired = below(context.values("satisfied"), n, t)
    gap = t - context.values("rate")
    certainty = _certainty(gap, np.sqrt(t * (1 - t) / _positive(n)))
    return candidates(
        context, "rate_below", fired, "rate", "ci_low", "ci_high", t, gap, certainty,
        evidence=_interval_below(context, "ci_high", t),
    )  # fmt: skip


def _mean_below(context: RuleContext) -> list[ActionCandidate]:
    """Mean below threshold t: sum / n < t. Gap (t - mean) / (scale_max - scale_min);
    certainty the normal probability of (t - mean) / (sd / sqrt n) (0 for n < 2: one answer
    says nothing of the spread). The interval is mean ± 1.96 sd / sqrt(n) (NaN for n < 2, so
    such a row is only ever ``possible``)."""
    t, n = context.thresholds.mean, context.values("n")
    fired = below(context.values("total"), n, t)
    shortfall = t - context.values("mean")
    span = context.values("scale_max").astype("float64") - context.values("scale_min")
    gap = shortfall / np.where(span > 0, span, 1.0)
    certainty = _certainty(shortfall, context.values("sd") / np.sqrt(_positive(n)))
    return candidates(
        context, "mean_below", fired, "mean", "mean_ci_low", "mean_ci_high", t, gap, certainty,
        evidence=_interval_below(context, "mean_ci_high", t),
    )  # fmt: skip


def _significant_drop(context: RuleContext) -> list[ActionCandidate]:
    """Rate lower than the previous round's for the same question, served unit (and group),
    with the Benjamini-Hochberg adjusted p-value of the change below alpha (Fisher's exact
    test or the z-test, rows with enough respondents in both rounds only). Threshold = the
    previous rate; gap previous rate - rate; certainty 1 - p_adjusted; ``confirmed`` when the
    Newcombe interval of the change lies wholly below 0."""
    rate, before = context.values("rate"), context.values("prev_rate")
    q = context.values("p_adjusted")
    fired = (rate < before) & (np.nan_to_num(q, nan=1.0) < context.thresholds.alpha)
    evidence = np.where(context.values("diff_high") < 0, "confirmed", "possible")
    return candidates(
        context, "significant_drop", fired, "rate", "ci_low", "ci_high", before, before - rate,
        1 - q, evidence=evidence,
    )  # fmt: skip


def _single_low_with_comment(context: RuleContext) -> list[ActionCandidate]:
    """Any rating at scale_min (1 of 5) given with a non-empty comment. Observed is the item's
    rate with its interval; threshold NaN; gap and certainty those of the rate against the
    rate threshold, the gap never below 0 (a comment on an item that meets the threshold
    weighs nothing); evidence always ``possible``: one respondent's word is a note on the
    item, not a confirmed finding."""
    t, n = context.thresholds.rate, context.values("n")
    gap = t - context.values("rate")
    certainty = _certainty(gap, np.sqrt(t * (1 - t) / _positive(n)))
    return candidates(
        context, "single_low_with_comment", context.values("lowest_commented") > 0, "rate",
        "ci_low", "ci_high", math.nan, np.clip(gap, 0.0, None), certainty, evidence="possible",
    )  # fmt: skip


def _positive(n: np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype="float64")
    return np.where(n > 0, n, np.nan)


def _normal_cdf(x: float) -> float:
    """The standard normal distribution function at ``x``, as ``scipy.special.ndtr`` computes
    it (Cephes: from erf near 0, from erfc in the tails, where 1 - erf loses the digits), with
    the math module's erf and erfc: importing scipy.special for it took 15 MB of every process
    of the app (``analysis`` is imported by all of them), a worker's PDF report included."""
    if x != x:
        return math.nan
    scaled = x * _SQRT1_2
    if abs(scaled) < _SQRT1_2:
        return 0.5 + 0.5 * math.erf(scaled)
    tail = 0.5 * math.erfc(abs(scaled))
    return 1.0 - tail if scaled > 0 else tail


_SQRT1_2 = math.sqrt(0.5)


def _ndtr(x: np.ndarray) -> np.ndarray:
    """``_normal_cdf`` of each value (one per row of a rule)."""
    x = np.asarray(x, dtype="float64")
    return np.array([_normal_cdf(v) for v in x.ravel().tolist()], dtype="float64").reshape(x.shape)


def _certainty(shortfall: np.ndarray, se: np.ndarray) -> np.ndarray:
    """The normal probability of shortfall / se: how sure the true figure is below the
    threshold. se = 0 (all answers alike): 1 when below; se NaN (too few answers): 0."""
    shortfall, se = np.asarray(shortfall, dtype="float64"), np.asarray(se, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        certainty = _ndtr(shortfall / se)
    certainty = np.where(se == 0, (shortfall > 0).astype("float64"), certainty)
    return np.nan_to_num(certainty, nan=0.0)


def _interval_below(context: RuleContext, high: str, threshold: float) -> np.ndarray:
    """``confirmed`` where the interval's high end is below the threshold and the row has at
    least the anonymity threshold's respondents, else ``possible``."""
    enough = context.values("respondents") >= context.anonymity_threshold
    return np.where((context.values(high) < threshold) & enough, "confirmed", "possible")


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
    frame: pd.DataFrame | RatingCounts | Disclosure,
    thresholds: Thresholds = Thresholds(),
    previous: pd.DataFrame | RatingCounts | Disclosure | None = None,
    anonymity_threshold: int = ANONYMITY_THRESHOLD,
    enabled: Iterable[str] | None = None,
) -> list[ActionCandidate]:
    """Evaluate the enabled rules (all of ``RULES`` by default) on one round.

    ``previous`` is the previous round (frame or counts) for ``significant_drop``; without it
    that rule never fires. Candidates are ordered by severity (gap x certainty, largest
    first, whatever the rule), then whole-round rows before group rows, the rules in registry
    order (or the order of ``enabled``), question, served unit and group. An empty round gives
    no candidates.
    """
    codes = list(RULES) if enabled is None else list(enabled)
    unknown = [code for code in codes if code not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(unknown)}; known: {', '.join(RULES)}")
    rows = _rule_rows(_published(frame, anonymity_threshold))
    old = None if previous is None else _previous_rows(_published(previous, anonymity_threshold))
    rows = _with_previous(rows, old, anonymity_threshold)
    context = RuleContext(rows=rows, thresholds=thresholds, anonymity_threshold=anonymity_threshold)
    result: list[ActionCandidate] = []
    for code in codes:
        result.extend(RULES[code].check(context))
    return _ordered(result, codes)


def action_key(candidate: ActionCandidate) -> tuple[str, str | None]:
    """The key of the corrective action a candidate belongs to: (question, served_unit)."""
    return candidate.question, candidate.served_unit


def one_per_action_key(candidates: Iterable[ActionCandidate]) -> list[ActionCandidate]:
    """One candidate per ``action_key``, in the order of each key's first candidate: the
    first whole-round candidate of the key, else its first group candidate (``source_of``).
    With the order of ``run_rules``, the most severe finding on the whole item: an action on
    the item is verified on the whole item unless only a group cell fired."""
    found: dict[tuple[str, str | None], list[ActionCandidate]] = {}
    for candidate in candidates:
        found.setdefault(action_key(candidate), []).append(candidate)
    return [source_of(group) for group in found.values()]


def source_of(candidates: list[ActionCandidate]) -> ActionCandidate:
    """Of one item's candidates (in ``run_rules`` order), the one an action starts from: the
    first whole-round candidate, else the first."""
    return next((c for c in candidates if c.group is None), candidates[0])


def _ordered(candidates: list[ActionCandidate], codes: list[str]) -> list[ActionCandidate]:
    rank = {code: i for i, code in enumerate(codes)}
    return sorted(
        candidates,
        key=lambda c: (
            -c.severity if c.severity == c.severity else 0.0, c.group is not None,
            rank[c.rule], c.question, c.served_unit or "", c.group or "",
        ),
    )  # fmt: skip


def _published(data: pd.DataFrame | RatingCounts | Disclosure, k: int) -> Disclosure:
    """What a round may publish: given as such (with its own threshold and unnamed groups, as
    the app passes each round's), or disclosed at ``k``."""
    return data if isinstance(data, Disclosure) else disclose(as_counts(data), k)


def _rule_rows(published: Disclosure) -> pd.DataFrame:
    """Whole-round item rows (group None) and the group cells that may be shown on their own.

    The frame is built once from numpy columns, keys as plain strings (None when missing):
    pandas' concat, astype and column-by-column assignment on these few hundred rows cost more
    than every rule together. Only what the round may publish is seen (``analysis.disclosure``):
    a candidate is shown to the lead with its figures, so withheld items and hidden group
    cells get none."""
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
    row_of_cell, _ = counts.cell_groups(keys)
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


def _previous_rows(published: Disclosure) -> dict[tuple, tuple]:
    """The previous round's (n, satisfied, respondents) per (question, served_unit, None) and per shown
    group cell (question, served_unit, group): matched without the category, which a new
    questionnaire version may rename. Missing keys are None. The keys are unique: ``aggregate``
    gives one row per combination, and a group row's group is never missing."""
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
    """Each row's (n, satisfied, respondents)."""
    return zip(table["n"].tolist(), table["satisfied"].tolist(), table["respondents"].tolist())


def _with_previous(
    rows: pd.DataFrame, previous: dict[tuple, tuple] | None, anonymity_threshold: int
) -> pd.DataFrame:
    """Add prev_n, prev_satisfied, prev_respondents, prev_rate (NaN without a previous row)
    and the test of the change: p_value and test (rows with at least ``anonymity_threshold``
    respondents in both rounds only), p_adjusted (Benjamini-Hochberg over all the rows'
    tests) and the Newcombe interval diff_low, diff_high. Missing keys match each other."""
    # The frame stores the key strings as pandas' str dtype, whose missing value is NaN.
    keys = zip(*(rows[key].tolist() for key in MATCH_KEYS))
    missing = (math.nan, math.nan, math.nan)
    found = [
        (previous or {}).get(tuple(None if v != v else v for v in key), missing) for key in keys
    ]
    prev = np.array(found, dtype="float64").reshape(len(rows), 3)
    rows = rows.copy()
    rows["prev_n"], rows["prev_satisfied"] = prev[:, 0], prev[:, 1]
    rows["prev_respondents"] = prev[:, 2]
    rows["prev_rate"] = ratio(prev[:, 1], prev[:, 0])
    tested = (np.nan_to_num(prev[:, 2]) >= anonymity_threshold) & (
        rows["respondents"].to_numpy() >= anonymity_threshold
    )
    x0, n0, x1, n1 = rows["prev_satisfied"], rows["prev_n"], rows["satisfied"], rows["n"]
    _, p, test = proportion_tests(x0, n0, x1, n1, tested)
    rows["p_value"], rows["test"], rows["p_adjusted"] = p, test, adjust_bh(p)
    low, high = newcombe_intervals(x0, n0, x1, n1)
    rows["diff_low"], rows["diff_high"] = (
        np.where(tested, low, np.nan),
        np.where(tested, high, np.nan),
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
    gap: np.ndarray,
    certainty: np.ndarray,
    evidence: str | np.ndarray | None = None,
) -> list[ActionCandidate]:
    """The candidates of ``rule`` for the rows where ``fired`` is True: the observed figure and
    its interval from the columns ``observed``, ``low`` and ``high``; ``threshold`` (one value
    or one per row), ``gap`` and ``certainty`` (one per row; severity is their product);
    ``evidence`` (one value or one per row) confirmed when the interval's high end is below
    the threshold, unless given. A drop candidate carries the test of the change."""
    n_rows = len(context.rows)
    thresholds = np.broadcast_to(np.asarray(threshold, dtype="float64"), (n_rows,))
    gaps = np.broadcast_to(np.asarray(gap, dtype="float64"), (n_rows,))
    certainties = np.broadcast_to(np.asarray(certainty, dtype="float64"), (n_rows,))
    given = None if evidence is None else np.broadcast_to(np.asarray(evidence), (n_rows,))
    drop = rule == "significant_drop"
    # Whole columns as Python lists, made once for every rule: per-row access to the frame
    # costs more than all the rule arithmetic.
    column = context.column
    result = []
    for i in np.flatnonzero(fired).tolist():
        limit = float(thresholds[i])
        ci_high = float(column(high)[i])
        size, sure = float(gaps[i]), float(certainties[i])
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
                severity=size * sure,
                evidence=str(given[i]) if given is not None else (
                    "confirmed" if ci_high < limit else "possible"
                ),
                comments=tuple(column("comments")[i]),
                p_value=float(column("p_value")[i]) if drop else None,
                p_adjusted=float(column("p_adjusted")[i]) if drop else None,
                test=column("test")[i] if drop else None,
                difference_ci=(float(column("diff_low")[i]), float(column("diff_high")[i]))
                if drop else None,
                gap=size,
                certainty=sure,
                respondents=int(column("respondents")[i]),
            )
        )  # fmt: skip
    return result


def _code(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
