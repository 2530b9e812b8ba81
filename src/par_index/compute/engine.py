"""Score a criteria tree over prepared inputs: leaves by measure and rule, inner nodes by
aggregation, with applicability and missing-data policies kept apart, then ranks and tiers.

Everything is float64 and vectorised over units; the only Python loops run over nodes.

A :class:`Batch` scores many draws at once (rank uncertainty): every per-unit array may then
carry a leading axis of draws, shape (D, U) instead of (U,). Rules work elementwise, relative
rules and imputation reduce over the last axis, and aggregation stacks children on a new
axis 0, so one pass over the tree scores the whole batch. A batch keeps no per-unit status,
action or issues: those belong to the nominal run, which :func:`score_nominal` does alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, Issue
from ..spec.index import IndexSpec
from ..spec.measures import AppraisalMeasure, RatioMeasure
from ..spec.nodes import Aggregation, MissingPolicy, Node
from ..spec.rules import IdentityRule, Rule
from ..tables import InputData
from .measures import MeasureValues, check_range, measure_values, unit_codes
from .rank import competition_rank, group_keys, round_half_up
from .rules import apply_rule, first_match

OK, NOT_APPLICABLE, MISSING = "ok", "not_applicable", "missing"


@dataclass
class NodeScores:
    """One node's results, one entry per unit."""

    node: Node
    depth: int
    parent: str | None
    applicable: np.ndarray
    score: np.ndarray
    maximum: np.ndarray
    status: np.ndarray
    action: np.ndarray
    raw: np.ndarray | None = None
    self_assessed: np.ndarray | None = None
    n_valid: np.ndarray | None = None
    children: list[NodeScores] = field(default_factory=list)
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    """Each child's additive term in this node's aggregation (for contributions)."""
    points: np.ndarray | None = None
    rank: np.ndarray | None = None
    rank_in_group: np.ndarray | None = None


NO_FLAGS = np.empty(0, dtype=object)
"""``status`` and ``action`` of a node scored in a batch: a batch keeps no per-unit flags."""


@dataclass
class Batch:
    """A batch of ``draws`` variations of the nominal scoring, scored in one pass.

    Arrays indexed by draw have ``draws`` rows; a node or leaf not named keeps its nominal
    method and values. ``measured`` (a leaf's raw values, read once) and ``nominal`` (each
    node's nominal result) come from the nominal run.
    """

    draws: int
    measured: dict[str, MeasureValues]
    nominal: dict[str, NodeScores]
    raw: dict[str, np.ndarray] = field(default_factory=dict)
    """Leaf id → (D, U) raw values replacing the measured ones (survey resamples)."""
    rules: dict[str, tuple[list[Rule], np.ndarray]] = field(default_factory=dict)
    """Leaf id → (candidate rules, (D,) index of the candidate each draw uses)."""
    aggregations: dict[str, tuple[list[tuple[Aggregation, float | None]], np.ndarray]] = field(
        default_factory=dict
    )
    """Inner node id → (candidate (aggregation, zero_floor) pairs, (D,) index per draw)."""
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    """Inner node id → (C, D) multipliers of its C children's weights (maxima under sum)."""
    dropped: dict[str, np.ndarray] = field(default_factory=dict)
    """Node id → (D,) True where the node is left out, as if it applied to no unit."""
    fallbacks: dict[str, int] = field(default_factory=dict)
    """Node id → how many unit × draw values were missing under policy 'error' (which would
    stop a run) and took the node's nominal score instead."""


class _Scorer:
    def __init__(self, spec: IndexSpec, data: InputData, batch: Batch | None = None) -> None:
        self.spec = spec
        self.data = data
        self.batch = batch
        self.measured: dict[str, MeasureValues] = {} if batch is None else batch.measured
        self.units = data.units
        self.n = len(data.units)
        self.level = data.units["level"].to_numpy(dtype=object)
        self.group = data.units["group"].to_numpy(dtype=object)
        self.level_codes = pd.factorize(data.units["level"])[0]
        self.all_codes = np.zeros(self.n, dtype=np.int64)
        self.missing_issues: list[Issue] = []
        self.warnings: list[Issue] = []
        self.varying = set() if batch is None else _varying(spec.as_root(), batch)

    # -- applicability -------------------------------------------------------------------
    def applies(self, node: Node) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        rule = node.applies_to
        if rule is None:
            return mask
        ids = self.units["unit_id"].to_numpy(dtype=object)
        self._check_known(node, rule.levels, self.level, "levels")
        self._check_known(node, rule.groups, self.group, "groups")
        self._check_known(node, rule.units, ids, "units")
        self._check_known(node, rule.except_units, ids, "except_units")
        if rule.levels is not None:
            mask &= np.isin(self.level, rule.levels)
        if rule.groups is not None:
            mask &= np.isin(self.group, rule.groups)
        if rule.units is not None:
            mask &= np.isin(ids, rule.units)
        if rule.except_units is not None:
            mask &= ~np.isin(ids, rule.except_units)
        return mask

    def _check_known(
        self, node: Node, listed: list[str] | None, present: np.ndarray, key: str
    ) -> None:
        """A name in applies_to that matches no unit may be a typo that makes the node apply to
        nobody: it is not an error (a run may cover only some levels) but it is reported."""
        if listed is None:
            return
        known = {str(v) for v in present if isinstance(v, str)}
        unknown = [v for v in listed if v not in known]
        if unknown:
            shown = sorted(known)[:20]
            self.warnings.append(
                Issue(
                    "unknown_applies_to",
                    f"node '{node.id}', applies_to.{key}",
                    f"{unknown} match no unit. Values present: {shown}"
                    + (" …" if len(known) > 20 else "")
                    + ".",
                )
            )

    # -- tree ----------------------------------------------------------------------------
    def score_node(
        self, node: Node, depth: int, parent: str | None, inside: np.ndarray, policy: MissingPolicy
    ) -> NodeScores:
        policy = node.missing or policy
        if self.batch is not None and node.id not in self.varying:
            nominal = self.batch.nominal[node.id]
            return _batch_scores(
                node, depth, parent, nominal.applicable, nominal.score, nominal.maximum
            )
        applicable = inside & self.applies(node)
        if node.children is None:
            result = self._leaf(node, depth, parent, applicable)
        else:
            children = [
                self.score_node(c, depth + 1, node.id, applicable, policy) for c in node.children
            ]
            result = self._inner(node, depth, parent, applicable, children)
        if node.missing_when is not None:
            self._missing_when(result)
        self._apply_missing(result, policy)
        return result

    def _leaf(
        self, node: Node, depth: int, parent: str | None, applicable: np.ndarray
    ) -> NodeScores:
        assert node.measure is not None and node.max is not None
        values = self.measured.get(node.id)
        if values is None:
            table = self.spec.inputs[node.measure.table]
            weight_column = getattr(table, "weight_column", None)
            values = measure_values(node.measure, self.data, weight_column)
            self.measured[node.id] = values
        maximum = float(node.max)
        raw = np.where(applicable, values.raw, np.nan)
        rule = node.effective_rule
        if self.batch is not None:
            return self._leaf_batch(node, depth, parent, applicable, values, raw)
        if isinstance(node.measure, AppraisalMeasure):
            check_range(
                raw,
                0.0,
                maximum,
                node.id,
                "appraised points",
                self.data,
                node.measure.table,
                self.units,
            )
            if values.self_assessed is not None:
                check_range(
                    np.where(applicable, values.self_assessed, np.nan),
                    0.0,
                    maximum,
                    node.id,
                    "self-assessed points",
                    self.data,
                    node.measure.table,
                    self.units,
                )
        if isinstance(rule, IdentityRule):
            low, high = rule.range if rule.range is not None else (0.0, maximum)
            check_range(
                raw,
                low,
                high,
                node.id,
                "values scored as they are",
                self.data,
                node.measure.table,
                self.units,
            )
        groups = self.level_codes if getattr(rule, "across", "level") == "level" else self.all_codes
        score = apply_rule(rule, raw, maximum, groups)
        action = np.full(self.n, None, dtype=object)
        zero = values.zero_denominator
        if zero is not None and zero.any():
            when = getattr(node.measure, "when_zero", "missing")
            hit = zero & applicable
            if when == "full":
                score = np.where(hit, maximum, score)
                action[hit] = "full_credit_no_cases"
            elif when == "zero":
                score = np.where(hit, 0.0, score)
                action[hit] = "zero_no_cases"
        return NodeScores(
            node=node,
            depth=depth,
            parent=parent,
            applicable=applicable,
            score=score,
            maximum=np.where(applicable, maximum, np.nan),
            status=self._status(applicable, score),
            action=action,
            raw=raw,
            self_assessed=None
            if values.self_assessed is None
            else np.where(applicable, values.self_assessed, np.nan),
            n_valid=None
            if values.n_valid is None
            else np.where(applicable, values.n_valid, np.nan),
        )

    def _leaf_batch(
        self,
        node: Node,
        depth: int,
        parent: str | None,
        applicable: np.ndarray,
        values: MeasureValues,
        raw: np.ndarray,
    ) -> NodeScores:
        """A leaf in every draw of the batch: resampled raw values, the rule each draw picks."""
        assert self.batch is not None and node.max is not None and node.measure is not None
        maximum = float(node.max)
        replaced = self.batch.raw.get(node.id)
        if replaced is not None:
            raw = np.where(applicable, replaced, np.nan)
        choice = self.batch.rules.get(node.id)
        if choice is None:
            score = self._rule(node.effective_rule, raw, maximum)
        else:
            candidates, pick = choice
            score = np.full((self.batch.draws, self.n), np.nan)
            for i, rule in enumerate(candidates):
                rows = pick == i
                if rows.any():
                    part = raw[rows] if raw.ndim == 2 else raw
                    score[rows] = self._rule(rule, part, maximum)
        zero = values.zero_denominator
        if zero is not None and zero.any():
            when = getattr(node.measure, "when_zero", "missing")
            hit = zero & applicable
            if when == "full":
                score = np.where(hit, maximum, score)
            elif when == "zero":
                score = np.where(hit, 0.0, score)
        return _batch_scores(
            node, depth, parent, applicable, score, np.where(applicable, maximum, np.nan)
        )

    def _rule(self, rule: Rule, raw: np.ndarray, maximum: float) -> np.ndarray:
        groups = self.level_codes if getattr(rule, "across", "level") == "level" else self.all_codes
        return apply_rule(rule, raw, maximum, groups)

    def _status(self, applicable: np.ndarray, score: np.ndarray) -> np.ndarray:
        return np.where(~applicable, NOT_APPLICABLE, np.where(np.isnan(score), MISSING, OK)).astype(
            object
        )

    def _inner(
        self,
        node: Node,
        depth: int,
        parent: str | None,
        inside: np.ndarray,
        children: list[NodeScores],
    ) -> NodeScores:
        if self.batch is not None:
            return self._inner_batch(node, depth, parent, inside, children)
        applicable = inside & np.any([c.applicable for c in children], axis=0)
        scores = np.array([c.score for c in children])
        maxima = np.array([np.where(c.applicable, c.maximum, 0.0) for c in children])
        score, maximum, terms, included = self._aggregate(
            node, node.effective_aggregation, node.zero_floor, applicable, scores, maxima, children
        )
        result = NodeScores(
            node=node,
            depth=depth,
            parent=parent,
            applicable=applicable,
            score=score,
            maximum=np.where(applicable, maximum, np.nan),
            status=self._status(applicable, score),
            action=np.full(self.n, None, dtype=object),
            children=children,
        )
        assert terms is not None
        result.terms = {
            c.node.id: np.where(included[i], terms[i], 0.0) for i, c in enumerate(children)
        }
        return result

    def _inner_batch(
        self,
        node: Node,
        depth: int,
        parent: str | None,
        inside: np.ndarray,
        children: list[NodeScores],
    ) -> NodeScores:
        """An inner node in every draw: children left out, weights scaled, the aggregation
        each draw picks. The children's arrays are not kept (memory stays one level deep)."""
        batch = self.batch
        assert batch is not None
        applicable_c, scores_c, maxima_c = [], [], []
        for child in children:
            app, score = child.applicable, child.score
            drop = batch.dropped.get(child.node.id)
            if drop is not None:
                keep = ~drop[:, None]
                app = app & keep
                score = np.where(keep, score, np.nan)
            applicable_c.append(app)
            scores_c.append(score)
            maxima_c.append(np.where(app, child.maximum, 0.0))
        applicable = inside & np.any(_stack(applicable_c), axis=0)
        # children × draws × units; an axis of one where the values are the same in every draw
        scores = _stack(scores_c).reshape(len(children), -1, self.n)
        maxima = _stack(maxima_c).reshape(len(children), -1, self.n)
        factors = batch.factors.get(node.id)
        factor = None if factors is None else factors[:, :, None]
        choice = batch.aggregations.get(node.id)
        if choice is None:
            score, maximum, _, _ = self._aggregate(
                node,
                node.effective_aggregation,
                node.zero_floor,
                applicable,
                scores,
                maxima,
                children,
                factor,
            )
        else:
            candidates, pick = choice
            shape = (batch.draws, self.n)
            score, maximum = np.full(shape, np.nan), np.full(shape, np.nan)
            every = np.broadcast_to(applicable, shape)
            for i, (aggregation, floor) in enumerate(candidates):
                rows = pick == i
                if not rows.any():
                    continue
                part, part_max = _rows(scores, rows), _rows(maxima, rows)
                part_factor = None if factor is None else factor[:, rows]
                score[rows], maximum[rows], _, _ = self._aggregate(
                    node, aggregation, floor, every[rows], part, part_max, children, part_factor
                )
        return _batch_scores(
            node, depth, parent, applicable, score, np.where(applicable, maximum, np.nan)
        )

    def _aggregate(
        self,
        node: Node,
        aggregation: Aggregation,
        zero_floor: float | None,
        applicable: np.ndarray,
        scores: np.ndarray,
        maxima: np.ndarray,
        children: list[NodeScores],
        factor: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """(score, maximum, each child's additive term, which children count) of an inner node.

        ``scores`` and ``maxima`` stack the children on axis 0; ``factor`` (children first,
        broadcasting like a score) scales each child's weight, or its points and maximum under
        ``sum``/``share_of_max``. Terms are only made outside a batch.
        """
        included = ~np.isnan(scores)
        filled = np.where(included, scores, 0.0)
        # without a max: a sum node scored by an alternative aggregation (its children's total)
        top = float(node.max) if node.max is not None else node.declared_max() or math.nan
        terms: np.ndarray | None = None
        with np.errstate(invalid="ignore", divide="ignore"):
            if aggregation in ("sum", "share_of_max"):
                if factor is not None:
                    filled = filled * factor
                    maxima = maxima * factor
                applicable_max = maxima.sum(axis=0)
                included_max = np.where(included, maxima, 0.0).sum(axis=0)
                total = filled.sum(axis=0)
                # Multiply before dividing and skip a no-op rescale, so 58 of 100 is exactly 58.
                if aggregation == "sum":
                    score = np.where(
                        included_max == applicable_max,
                        total,
                        total * applicable_max / included_max,
                    )
                    maximum = applicable_max
                else:
                    score = total * top / included_max
                    maximum = np.full(self.n, top)
                terms = filled
            else:
                # children first, then an axis of one for each axis of a child's scores
                weights = self._weights(node, children).reshape((-1,) + (1,) * (scores.ndim - 1))
                if factor is not None:
                    weights = weights * factor
                shares = np.where(included, filled / np.where(maxima > 0, maxima, 1.0), 0.0)
                used = np.where(included, weights, 0.0)
                if aggregation == "weighted_mean":
                    terms = used * shares
                    score = terms.sum(axis=0) / used.sum(axis=0) * top
                else:
                    shares = self._geometric_floor(node, children, shares, included, zero_floor)
                    logs = np.where(included, np.log(np.where(included, shares, 1.0)), 0.0)
                    score = np.exp((used * logs).sum(axis=0) / used.sum(axis=0)) * top
                    if self.batch is None:
                        terms = used.astype("float64") * np.ones_like(shares)
                maximum = np.full(self.n, top)
            score = np.where(applicable & included.any(axis=0), score, np.nan)
        return score, maximum, terms, included

    @staticmethod
    def _weights(node: Node, children: list[NodeScores]) -> np.ndarray:
        """Each child's weight under a mean, as a column. A sum node averaged (an alternative
        aggregation) weights its children by their maxima, as the sum does."""
        if node.effective_aggregation in ("sum", "share_of_max"):
            return np.array([[c.node.declared_max() or 1.0] for c in children])
        return np.array([[c.node.weight or 1.0] for c in children])

    def _geometric_floor(
        self,
        node: Node,
        children: list[NodeScores],
        shares: np.ndarray,
        included: np.ndarray,
        zero_floor: float | None,
    ) -> np.ndarray:
        if zero_floor is not None:  # every share below the floor is raised to it
            return np.where(included & (shares < zero_floor), zero_floor, shares)
        zero = included & (shares <= 0)
        if not zero.any():
            return shares
        cells = np.argwhere(zero)
        shown = ", ".join(
            f"{self.units['unit_id'].iat[cell[-1]]} in '{children[cell[0]].node.id}'"
            for cell in cells[:5]
        )
        if self.batch is not None:
            raise DataError(
                f"node '{node.id}': a geometric mean of a zero",
                [
                    Issue(
                        "geometric_zero",
                        f"uncertainty alternative of node '{node.id}'",
                        f"a geometric mean needs positive child scores. Got a zero for {shown}.",
                        "Declare zero_floor on the alternative (e.g. zero_floor: 0.01).",
                    )
                ],
            )
        raise DataError(
            f"node '{node.id}': a geometric mean of a zero",
            [
                Issue(
                    "geometric_zero",
                    f"node '{node.id}'",
                    f"a geometric mean needs positive child scores. Got a zero for {shown}.",
                    "Declare zero_floor on the node (e.g. 0.01) or use weighted_mean.",
                )
            ],
        )

    # -- missing data --------------------------------------------------------------------
    def _missing_when(self, result: NodeScores) -> None:
        when = result.node.missing_when
        assert when is not None
        frame = self.data.tables[when.table]
        values = np.full(self.n, np.nan)
        values[unit_codes(frame, self.units)] = frame[when.column].to_numpy(dtype="float64")
        hit = result.applicable & np.isin(values, when.values)
        result.score = np.where(hit, np.nan, result.score)
        if self.batch is None:
            result.status = self._status(result.applicable, result.score)

    def _apply_missing(self, result: NodeScores, policy: MissingPolicy) -> None:
        missing = result.applicable & np.isnan(result.score)
        if not missing.any():
            return
        if self.batch is not None:
            self._apply_missing_batch(result, policy, missing)
            return
        if policy == "error":
            for u in np.flatnonzero(missing)[:20]:
                self.missing_issues.append(
                    Issue(
                        "missing_value",
                        f"unit '{self.units['unit_id'].iat[u]}' "
                        f"({self.units['unit_name'].iat[u]}), node '{result.node.id}'",
                        "has no data" + self._where_from(result.node),
                    )
                )
            if missing.sum() > 20:
                self.missing_issues.append(
                    Issue(
                        "missing_value",
                        f"node '{result.node.id}'",
                        f"and {int(missing.sum()) - 20} more units have no data.",
                    )
                )
            result.action[missing] = "error"
        elif policy == "zero":
            result.score = np.where(missing, 0.0, result.score)
            result.action[missing] = "zero"
        elif policy == "reweight":
            result.action[missing] = "reweight"
        else:
            keys = (
                self.level
                if policy == "impute_level_mean"
                else np.array(
                    [f"{lv}\0{g}" for lv, g in zip(self.level, self.group, strict=True)],
                    dtype=object,
                )
            )
            donors = result.applicable & ~np.isnan(result.score)
            frame = pd.DataFrame({"key": keys, "score": np.where(donors, result.score, np.nan)})
            means = frame.groupby("key")["score"].transform("mean").to_numpy(dtype="float64")
            fill = missing & ~np.isnan(means)
            result.score = np.where(fill, means, result.score)
            result.action[fill] = "imputed_" + policy.removeprefix("impute_")
            unfilled = missing & ~fill
            for u in np.flatnonzero(unfilled)[:20]:
                self.missing_issues.append(
                    Issue(
                        "missing_value",
                        f"unit '{self.units['unit_id'].iat[u]}', node '{result.node.id}'",
                        "has no data and no other unit to impute from.",
                    )
                )
        result.status = np.where(missing, MISSING, result.status).astype(object)

    def _apply_missing_batch(
        self, result: NodeScores, policy: MissingPolicy, missing: np.ndarray
    ) -> None:
        """The missing-data policy in every draw at once. Where a run would stop (policy
        'error', or nobody to impute from), a draw keeps the node's nominal score and the
        batch counts it: a resample can leave a small unit without a valid answer."""
        batch = self.batch
        assert batch is not None
        if policy == "zero":
            result.score = np.where(missing, 0.0, result.score)
            return
        if policy == "reweight":
            return
        score = result.score
        if policy in ("impute_level_mean", "impute_group_mean"):
            codes = self.level_codes if policy == "impute_level_mean" else self._group_codes()
            donors = result.applicable & ~np.isnan(score)
            values = np.where(donors, score, 0.0)
            means = np.full(values.shape, np.nan)
            for code in np.unique(codes):
                columns = codes == code
                count = donors[..., columns].sum(axis=-1, keepdims=True)
                total = values[..., columns].sum(axis=-1, keepdims=True)
                with np.errstate(invalid="ignore", divide="ignore"):
                    means[..., columns] = np.where(count > 0, total / count, np.nan)
            fill = missing & ~np.isnan(means)
            score = np.where(fill, means, score)
            missing = missing & ~fill
        if missing.any():
            score = np.where(missing, batch.nominal[result.node.id].score, score)
            batch.fallbacks[result.node.id] = batch.fallbacks.get(result.node.id, 0) + int(
                missing.sum()
            )
        result.score = score

    def _group_codes(self) -> np.ndarray:
        keys = [f"{lv}\0{g}" for lv, g in zip(self.level, self.group, strict=True)]
        return np.asarray(pd.factorize(pd.Series(keys, dtype=object))[0])

    def _where_from(self, node: Node) -> str:
        if node.measure is None:
            return " in any of its children"
        tables = [node.measure.table]
        if isinstance(node.measure, RatioMeasure) and node.measure.denominator_table:
            tables.append(node.measure.denominator_table)  # the gap may be in either
        paths = [self.data.sources.get(t, {}).get("path") or t for t in tables]
        return " in " + " or ".join(f"'{path}'" for path in paths)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """Stack per-child arrays on a new axis 0, broadcasting (U,) and (D, U) together."""
    return np.stack(np.broadcast_arrays(*arrays))


def _rows(stacked: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The draws ``rows`` of children stacked as (C, D, U); (C, 1, U) holds for every draw."""
    return stacked if stacked.shape[1] == 1 else stacked[:, rows]


def _varying(root: Node, batch: Batch) -> set[str]:
    """The nodes whose scores differ between the draws of ``batch``: those it changes and
    their ancestors. Every other node keeps its nominal result."""
    changed = set(batch.raw) | set(batch.rules) | set(batch.aggregations) | set(batch.factors)
    out: set[str] = set()
    _mark_varying(root, changed, set(batch.dropped), out)
    return out


def _mark_varying(node: Node, changed: set[str], dropped: set[str], out: set[str]) -> bool:
    # a plain function, not a closure over the batch: a self-referencing closure would keep
    # the batch's arrays alive until the garbage collector breaks the cycle
    varies = node.id in changed
    for child in node.children or []:
        child_varies = _mark_varying(child, changed, dropped, out)
        varies = varies or child_varies or child.id in dropped
    if varies:
        out.add(node.id)
    return varies


def _batch_scores(
    node: Node,
    depth: int,
    parent: str | None,
    applicable: np.ndarray,
    score: np.ndarray,
    maximum: np.ndarray,
) -> NodeScores:
    """A node's result in a batch of draws: no status or action flags are kept per draw."""
    return NodeScores(
        node=node,
        depth=depth,
        parent=parent,
        applicable=applicable,
        score=score,
        maximum=maximum,
        status=NO_FLAGS,
        action=NO_FLAGS,
    )


def contributions(result: NodeScores, points: np.ndarray) -> None:
    """Split a node's points among its children in proportion to their aggregation terms, so
    the points of a node's children add up to its own (the basis of "explain a change")."""
    result.points = points
    if not result.children:
        return
    total = np.sum(list(result.terms.values()), axis=0)
    for child in result.children:
        term = result.terms[child.node.id]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total != 0, term / np.where(total != 0, total, 1.0), 0.0)
        child_points = np.where(np.isnan(points), np.nan, points * share)
        child_points = np.where(child.applicable & ~np.isnan(child.score), child_points, np.nan)
        # an imputed (or missing_when) node's score did not come from its children
        child_points = np.where(result.status == MISSING, np.nan, child_points)
        contributions(child, child_points)


def flatten(result: NodeScores) -> list[NodeScores]:
    out = [result]
    for child in result.children:
        out += flatten(child)
    return out


def assign_tiers(spec: IndexSpec, scores: np.ndarray) -> np.ndarray:
    tiers = spec.tiers or []
    if not tiers:
        return np.full(scores.shape, None, dtype=object)
    edged = [t for t in tiers if t.at_least is not None or t.above is not None]
    from ..spec.rules import Threshold

    edges = [Threshold(at_least=t.at_least, above=t.above) for t in edged]
    index = first_match(scores, edges)
    names = [t.name for t in edged] + [tiers[-1].name if len(edged) < len(tiers) else None]
    return np.array([None if i < 0 else names[i] for i in index], dtype=object)


Nominal = tuple[list["NodeScores"], np.ndarray, list[Issue], dict[str, "MeasureValues"]]
"""What :func:`score_nominal` gives: nodes (root first), the root's tiers, warnings, and each
leaf's measured raw values."""


def score_nominal(spec: IndexSpec, data: InputData) -> Nominal:
    """Score every node: the flattened results (root first), the root's tiers, warnings
    (things that are not errors but a reader should see), and each leaf's measured raw values
    (for a :class:`Batch`)."""
    scorer = _Scorer(spec, data)
    root = scorer.score_node(spec.as_root(), 0, None, np.ones(scorer.n, dtype=bool), spec.missing)
    if scorer.missing_issues:
        issues = list(scorer.missing_issues)
        if any(i.code == "missing_value" for i in issues):
            issues.append(
                Issue(
                    "missing_policy",
                    "criteria file",
                    "declare what missing data means with missing: zero | reweight | "
                    "impute_level_mean | impute_group_mean (on the index or on the node).",
                )
            )
        raise DataError("the data cannot be scored as the criteria file says", issues)
    contributions(root, root.score)
    nodes = flatten(root)
    has_group = data.units["group"].notna().to_numpy()
    keys = group_keys(scorer.level, scorer.group) if spec.ranking.within_group else None
    for result in nodes:
        basis = ranking_basis(spec, result.score)
        result.terms = {}
        result.rank = competition_rank(basis, scorer.level)
        result.rank_in_group = np.full(scorer.n, np.nan)
        if keys is not None:
            ranks = competition_rank(basis, keys)
            result.rank_in_group = np.where(has_group, ranks, np.nan)
    tiers = assign_tiers(spec, ranking_basis(spec, root.score))
    return nodes, tiers, scorer.warnings, scorer.measured


def score_batch(spec: IndexSpec, data: InputData, batch: Batch) -> np.ndarray:
    """The index total of every unit in every draw of ``batch``, shape (D, U) (NaN: no score).

    A node that nothing in the batch changes keeps its nominal score, so a batch that changes
    nothing gives the nominal total in every draw, exactly.
    """
    scorer = _Scorer(spec, data, batch)
    root = scorer.score_node(spec.as_root(), 0, None, np.ones(scorer.n, dtype=bool), spec.missing)
    return np.broadcast_to(root.score, (batch.draws, scorer.n))


NOISE_DECIMALS = 9


def ranking_basis(spec: IndexSpec, scores: np.ndarray) -> np.ndarray:
    """What ranks and tiers compare: the score rounded as the file declares (``round_to``), or
    else to 9 decimals, so that floating-point noise (0.1 + 0.2 vs 0.3) never splits a tie
    and a total of 89.9999999999 still reaches a tier edge at 90."""
    decimals = spec.ranking.round_to
    return round_half_up(scores, NOISE_DECIMALS if decimals is None else decimals)
