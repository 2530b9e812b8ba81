"""Survey sampling error: each unit's respondents resampled, and the analytic margin of error.

The bootstrap: in every draw, each unit's n respondents are drawn again, n times with
replacement (the classical n-out-of-n bootstrap, each unit a stratum), every respondent
keeping their weight, and each survey statistic is computed again on the resample, just as
:func:`par_index.compute.measures.measure_values` computes it. All the survey leaves of one
survey table share the resample, so a unit's indicators stay as correlated as its
respondents' answers are.

Why not the Poisson bootstrap (an independent Poisson(1) count per respondent and draw)? It
is vectorised as easily, but its sample size is random: a unit of 2 respondents would have
none at all in 13.5 % of the draws, and its share could be 1/3 or 2/5. The small units are
exactly those whose uncertainty matters, so the resample here keeps each unit's n:

- 32 random bits per respondent slot and draw give the respondent drawn into that slot
  (slot s of unit u draws respondent ⌊bits · n_u / 2³²⌋ of u), D × R of them in passes of
  fixed size, no loop over respondents or draws;
- ``np.bincount`` turns the picks into counts per draw and respondent, and one batched
  matrix product (counts @ per-respondent columns) gives every unit's weighted sums.

Units are processed in batches of similar size (sorted by n, zero-padded to the largest of
the batch), so memory stays within a fixed number of cells whatever the survey's size. The
multiply-shift pick is uniform to within n/2³² (below 10⁻⁵ for any survey unit).

The margin of error at 95 % is analytic, not read off the draws: the Taylor linearisation
of the weighted ratio Σ hits / Σ valid over a unit's respondents,

    var = n/(n−1) · Σ_r z_r²,   z_r = (hits_r − p · valid_r) / Σ valid,   margin = 1.96 √var

with n the unit's respondents with a valid answer. For a single question and equal weights
it is the textbook √(p(1−p)/(n−1)); with weights it is p(1−p)/n_eff with Kish's effective n
when the weights do not depend on the answer, and it accounts for respondents answering
several questions of one indicator. It does not depend on the seed or the number of draws
(so a flag does not flicker between runs) and exists when the survey is not resampled;
1.96 × the standard deviation of the resampled values is reported beside it as a check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec.index import IndexSpec
from ..spec.measures import SurveyMeasure
from ..spec.nodes import Node
from ..tables import InputData
from .measures import SurveyColumns, survey_columns, unit_codes

Z95 = 1.959963984540054
"""The 97.5 % quantile of the standard normal."""

CELLS = 1 << 17
"""Cells (draws × padded respondent slots) handled at once: some 130 000, i.e. a few MB of
temporaries that stay in cache, whatever the number of draws or respondents."""


@dataclass(frozen=True)
class _UnitBatch:
    """Units of similar sample size, resampled together."""

    units: np.ndarray  # (B,) positions in the units table
    width: int  # the largest sample of the batch; smaller ones are zero-padded
    slot_unit: np.ndarray  # (S,) the batch position of each respondent slot's unit
    slot_size: np.ndarray  # (S,) uint64: the slot's unit's sample size
    values: np.ndarray  # (B, width, K) float64: per-respondent columns, zero-padded


@dataclass(frozen=True)
class _Survey:
    """One survey table: its leaves, in column order (2 i: weighted hits, 2 i + 1: valid)."""

    leaves: list[str]
    batches: list[_UnitBatch]


@dataclass(frozen=True)
class SurveyPrecision:
    """Per unit, for one survey leaf: valid respondents, Kish's effective n and the margin."""

    n_valid: np.ndarray
    n_effective: np.ndarray
    margin_95: np.ndarray


class SurveyBootstrap:
    """Resample the survey leaves ``leaves`` of ``spec``; ``chunk`` is the largest number of
    draws asked of :meth:`draw` at once (it sizes the unit batches)."""

    def __init__(self, spec: IndexSpec, data: InputData, leaves: list[Node], chunk: int) -> None:
        self.n = len(data.units)
        self.precision: dict[str, SurveyPrecision] = {}
        self.surveys: list[_Survey] = []
        tables: dict[str, list[Node]] = {}
        for leaf in leaves:
            assert isinstance(leaf.measure, SurveyMeasure)
            tables.setdefault(leaf.measure.table, []).append(leaf)
        for table, members in tables.items():
            frame = data.tables[table]
            weight_column = getattr(spec.inputs[table], "weight_column", None)
            codes = unit_codes(frame, data.units)
            columns = []
            for leaf in members:
                assert isinstance(leaf.measure, SurveyMeasure)
                survey = survey_columns(frame, leaf.measure, weight_column)
                self.precision[leaf.id] = _precision(codes, survey, self.n)
                columns += [survey.hits, survey.valid]
            values = np.column_stack(columns)
            self.surveys.append(
                _Survey([leaf.id for leaf in members], _batches(codes, values, self.n, chunk))
            )

    def draw(self, rng: np.random.Generator, draws: int) -> dict[str, np.ndarray]:
        """Each survey leaf's raw value in ``draws`` resamples: leaf id → (draws, units)."""
        out: dict[str, np.ndarray] = {}
        for survey in self.surveys:
            sums = np.zeros((2 * len(survey.leaves), draws, self.n))
            for batch in survey.batches:
                _resample(rng, batch, draws, sums)
            with np.errstate(invalid="ignore", divide="ignore"):
                for i, leaf in enumerate(survey.leaves):
                    hits, valid = sums[2 * i], sums[2 * i + 1]
                    out[leaf] = np.where(valid > 0, hits / valid, np.nan)
        return out


def _precision(codes: np.ndarray, survey: SurveyColumns, n: int) -> SurveyPrecision:
    hits, valid, answered = survey.hits, survey.valid, survey.answered
    numerator = np.bincount(codes, weights=hits, minlength=n)
    denominator = np.bincount(codes, weights=valid, minlength=n)
    n_valid = np.bincount(codes, weights=answered.astype("float64"), minlength=n)
    weights = np.where(answered, survey.weights, 0.0)
    sum_w = np.bincount(codes, weights=weights, minlength=n)
    sum_w2 = np.bincount(codes, weights=weights * weights, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(denominator > 0, numerator / denominator, np.nan)
        z = (hits - share[codes] * valid) / denominator[codes]
        z = np.where(answered, z, 0.0)
        squares = np.bincount(codes, weights=z * z, minlength=n)
        variance = np.where(n_valid > 1, n_valid / (n_valid - 1) * squares, np.nan)
        n_effective = np.where(sum_w2 > 0, sum_w * sum_w / sum_w2, np.nan)
    return SurveyPrecision(
        n_valid=n_valid,
        n_effective=np.where(n_valid > 0, n_effective, np.nan),
        margin_95=Z95 * np.sqrt(variance),
    )


def _batches(codes: np.ndarray, values: np.ndarray, n: int, chunk: int) -> list[_UnitBatch]:
    """Group the units with respondents into batches of similar size, largest first, each
    holding at most ``CELLS // chunk`` padded slots (at least one unit)."""
    order = np.argsort(codes, kind="stable")
    codes, values = codes[order], values[order]
    sizes = np.bincount(codes, minlength=n)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    units = np.argsort(-sizes, kind="stable")
    units = units[sizes[units] > 0]
    room = max(1, CELLS // max(1, chunk))
    batches: list[_UnitBatch] = []
    i = 0
    while i < len(units):
        width = int(sizes[units[i]])
        count = max(1, room // width)
        members = units[i : i + count]
        i += len(members)
        member_sizes = sizes[members]
        padded = np.zeros((len(members), width, values.shape[1]))
        slot_unit = np.repeat(np.arange(len(members)), member_sizes)
        within = np.arange(len(slot_unit)) - np.repeat(
            np.cumsum(member_sizes) - member_sizes, member_sizes
        )
        rows = np.repeat(starts[members], member_sizes) + within
        padded[slot_unit, within] = values[rows]
        batches.append(
            _UnitBatch(
                units=members,
                width=width,
                slot_unit=slot_unit.astype(np.int64),
                slot_size=np.repeat(member_sizes, member_sizes).astype(np.uint64),
                values=padded,
            )
        )
    return batches


def _resample(rng: np.random.Generator, batch: _UnitBatch, draws: int, sums: np.ndarray) -> None:
    """Add the batch's units' resampled weighted sums to ``sums`` (columns × draws × units)."""
    count, width = len(batch.units), batch.width
    slots = len(batch.slot_unit)
    step = max(1, CELLS // max(slots, count * width))
    for first in range(0, draws, step):
        rows = min(step, draws - first)
        cells = rows * slots
        # 32 random bits per slot and draw; slot s of a unit of n draws respondent
        # ⌊bits · n / 2³²⌋ (Lemire's multiply-shift: uniform to within n / 2³²)
        bits = rng.bit_generator.random_raw((cells + 1) // 2).view(np.uint32)[:cells]
        pick = bits.reshape(rows, slots).astype(np.uint64)
        pick *= batch.slot_size
        pick >>= np.uint64(32)
        cell = pick.view(np.int64)  # (unit b, draw d, respondent j) in a (B, rows, width) array
        cell += batch.slot_unit * (rows * width)
        cell += (np.arange(rows, dtype=np.int64) * width)[:, None]
        counts = np.bincount(cell.ravel(), minlength=count * rows * width)
        weighted = np.matmul(
            counts.reshape(count, rows, width).astype(np.float64), batch.values
        )  # (B, rows, K)
        sums[:, first : first + rows, batch.units] = weighted.transpose(2, 1, 0)
