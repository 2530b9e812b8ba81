"""Read every input a criteria file names and prepare it for scoring.

Nothing is lost silently: every problem in every table is collected and raised together as one
:class:`DataError`; rows that are skipped (blank rows, units excluded by the file's policy) and
answers that do not count ("don't know", blank) are counted in ``InputData.accounting``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import progress
from ..errors import DataError, Issue, did_you_mean
from ..spec.index import IndexSpec, SurveyInput, TableInput
from ..spec.measures import (
    AppraisalMeasure,
    ColumnMeasure,
    RatioMeasure,
    SurveyMeasure,
    YesNoMeasure,
)
from ..tables import UNIT, InputData
from .readers import ROW, Source, nfc, read_raw_table
from .values import MAX_EXAMPLES, bad_cells_issue, parse_numbers, parse_yes_no

TableSource = str | Path | pd.DataFrame


@dataclass
class _Needs:
    """What a criteria file reads from one table."""

    numbers: set[str] = field(default_factory=set)
    counts: set[str] = field(default_factory=set)
    yes_no: dict[str, YesNoMeasure] = field(default_factory=dict)
    answers: set[str] = field(default_factory=set)
    one_row_per_unit: bool = False
    ratios: list[RatioMeasure] = field(default_factory=list)
    text: set[str] = field(default_factory=set)


def _needs(spec: IndexSpec) -> dict[str, _Needs]:
    needs = {name: _Needs() for name in spec.inputs}
    for leaf in spec.leaves():
        m = leaf.measure
        if isinstance(m, ColumnMeasure):
            needs[m.table].numbers.add(m.column)
            needs[m.table].one_row_per_unit |= m.reduce == "one"
        elif isinstance(m, RatioMeasure):
            needs[m.table].counts.update(m.numerator)
            needs[m.denominator_source].counts.update(m.denominator)
            if m.denominator_table is None:  # checked row by row; else per unit (_ratio_units)
                needs[m.table].ratios.append(m)
        elif isinstance(m, SurveyMeasure):
            needs[m.table].answers.update(m.questions)
        elif isinstance(m, AppraisalMeasure):
            needs[m.table].numbers.add(m.appraised)
            if m.self_assessed:
                needs[m.table].numbers.add(m.self_assessed)
            needs[m.table].one_row_per_unit = True
        elif isinstance(m, YesNoMeasure):
            needs[m.table].yes_no[m.column] = m
            needs[m.table].one_row_per_unit = True
    for node, _, _ in spec.iter_nodes():
        if node.missing_when is not None:
            needs[node.missing_when.table].numbers.add(node.missing_when.column)
            needs[node.missing_when.table].one_row_per_unit = True
    units_table = units_table_name(spec)
    u = spec.units
    needs[units_table].text.update(
        c for c in (u.name_column, u.level_column, u.group_column) if c is not None
    )
    for name, table in spec.inputs.items():
        if isinstance(table, SurveyInput):
            if table.weight_column:
                needs[name].numbers.add(table.weight_column)
            if table.respondent_column:
                needs[name].text.add(table.respondent_column)
    return needs


def units_table_name(spec: IndexSpec) -> str:
    return spec.units.table or next(iter(spec.inputs))


def read_inputs(spec: IndexSpec, sources: Mapping[str, TableSource]) -> InputData:
    """Read and prepare the inputs of ``spec``.

    ``sources`` maps each input name of the criteria file to a path (.csv, .xlsx, .parquet) or
    to a pandas DataFrame. Raises :class:`DataError` listing every problem found.
    """
    missing = [name for name in spec.inputs if name not in sources]
    unknown = [name for name in sources if name not in spec.inputs]
    if missing or unknown:
        issues = [
            Issue(
                "missing_input",
                name,
                f"input '{name}' is required by the criteria file and was not given.",
            )
            for name in missing
        ]
        issues += [
            Issue(
                "unknown_input",
                name,
                f"'{name}' is not an input of the criteria file (inputs: {sorted(spec.inputs)}).",
                did_you_mean(name, spec.inputs),
            )
            for name in unknown
        ]
        raise DataError("the inputs do not match the criteria file", issues)

    needs = _needs(spec)
    issues = []
    frames: dict[str, pd.DataFrame] = {}
    infos: dict[str, Source] = {}
    for name, table in spec.inputs.items():
        try:
            frame, source = _read_one(name, table, sources[name], spec)
        except DataError as exc:
            issues.extend(exc.issues or [Issue(exc.summary.split(":")[0], "", exc.summary)])
            continue
        issues += _check_columns(frame, source, table, needs[name], spec, name)
        frames[name], infos[name] = frame, source
    if issues:
        raise DataError("the input data cannot be scored", issues)

    accounting: list[dict[str, object]] = []
    typed: dict[str, pd.DataFrame] = {}
    for name, table in spec.inputs.items():
        prepared, table_issues, counts = _prepare(frames[name], infos[name], table, needs[name])
        issues += table_issues
        typed[name] = prepared
        accounting += counts
    if issues:
        raise DataError("the input data cannot be scored", issues)

    units, unit_issues = _units(spec, frames[units_table_name(spec)], infos[units_table_name(spec)])
    issues += unit_issues
    if not issues and spec.units.score_levels is not None:
        units, typed, left_out = _score_levels_only(units, typed, spec.units.score_levels)
        accounting += left_out
    if not issues:
        typed, excluded, unknown_issues = _match_units(spec, typed, infos, units)
        issues += unknown_issues
        accounting += excluded
    if not issues:
        issues += _ratio_units(spec, typed, infos, units)
    if issues:
        raise DataError("the input data cannot be scored", issues)
    for name, frame in typed.items():
        accounting.insert(0, {"table": name, "what": "rows used", "count": len(frame)})
    return InputData(
        units=units,
        tables=typed,
        sources={
            name: {
                "table": name,
                "path": s.path,
                "sheet": s.sheet,
                "sha256": s.sha256,
                "header_row": s.header_row,
                "rows_read": len(frames[name]),
            }
            for name, s in infos.items()
        },
        accounting=accounting,
    )


def _read_one(
    name: str, table: TableInput | SurveyInput, source: TableSource, spec: IndexSpec
) -> tuple[pd.DataFrame, Source]:
    text_columns = [table.unit_column]
    if name == units_table_name(spec):
        u = spec.units
        text_columns += [
            c for c in (u.name_column, u.level_column, u.group_column) if c is not None
        ]
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = pd.Index([nfc(str(c)) for c in frame.columns])
        frame[ROW] = range(2, 2 + len(frame))
        info = Source(name, f"<DataFrame {name}>", None, None, 1)
        for column in text_columns:
            if column in frame.columns:
                from .readers import _as_id_text

                frame[column] = frame[column].astype(object).map(_as_id_text)
        return frame.reset_index(drop=True), info
    progress.stage(f"reading {name} ({Path(source).name})")
    return read_raw_table(
        source,
        name,
        table.unit_column,
        sheet=table.sheet,
        header_row=table.header_row,
        header_rows=table.header_rows,
        encoding=table.encoding,
        text_columns=tuple(text_columns),
        typed_numbers=table.decimal == ".",
    )


def _check_columns(
    frame: pd.DataFrame,
    source: Source,
    table: TableInput | SurveyInput,
    needs: _Needs,
    spec: IndexSpec,
    name: str,
) -> list[Issue]:
    wanted = {
        table.unit_column,
        *needs.numbers,
        *needs.counts,
        *needs.yes_no,
        *needs.answers,
        *needs.text,
    }
    present = [c for c in frame.columns if c != ROW and not c.startswith("__blank_")]
    issues = []
    for column in sorted(wanted):
        if column not in frame.columns:
            issues.append(
                Issue(
                    "missing_column",
                    source.where(column=column),
                    f"the criteria file needs column '{column}' in input '{name}', which is not "
                    f"there. Columns present: {present}.",
                    did_you_mean(column, present),
                )
            )
    return issues


def _prepare(
    frame: pd.DataFrame, source: Source, table: TableInput | SurveyInput, needs: _Needs
) -> tuple[pd.DataFrame, list[Issue], list[dict[str, object]]]:
    """Type the needed columns; drop entirely blank rows (counted)."""
    issues: list[Issue] = []
    counts: list[dict[str, object]] = []
    content = [c for c in frame.columns if c != ROW]
    blank_rows = np.array(frame[content].isna().all(axis=1), dtype=bool)
    no_unit = np.flatnonzero(np.array(frame[table.unit_column].isna(), dtype=bool) & ~blank_rows)
    if no_unit.size:  # a row of spaces is a blank row too
        cells = frame.iloc[no_unit][content].astype(object)
        spaces = cells.apply(
            lambda row: all(
                v is None
                or (isinstance(v, float) and np.isnan(v))
                or (isinstance(v, str) and not v.strip())
                for v in row
            ),
            axis=1,
        )
        blank_rows[no_unit[np.array(spaces, dtype=bool)]] = True
    if blank_rows.any():
        counts.append(
            {"table": source.table, "what": "blank rows skipped", "count": int(blank_rows.sum())}
        )
        frame = frame.loc[~blank_rows].reset_index(drop=True)
    totals = _totals_rows(frame, table.unit_column)
    if totals.any():
        counts.append(
            {"table": source.table, "what": "totals rows skipped", "count": int(totals.sum())}
        )
        frame = frame.loc[~totals].reset_index(drop=True)
    out = pd.DataFrame({UNIT: frame[table.unit_column].astype(object), ROW: frame[ROW]})
    no_id = out[UNIT].isna().to_numpy()
    if no_id.any():
        issues.append(
            bad_cells_issue(
                "missing_unit_id",
                frame,
                table.unit_column,
                no_id,
                source,
                "every row with data must name its unit",
            )
        )
    for column in sorted(needs.text):
        out[column] = frame[column]
    decimal = table.decimal
    for column in sorted(needs.numbers | needs.counts):
        values, bad = parse_numbers(frame[column], decimal)
        if bad.any():
            issues.append(
                bad_cells_issue(
                    "not_a_number",
                    frame,
                    column,
                    bad,
                    source,
                    "values must be numbers",
                    hint="Numbers with a decimal comma need decimal: ',' in the criteria file."
                    if decimal == "."
                    else None,
                )
            )
        if column in needs.counts:
            negative = values < 0
            if negative.any():
                issues.append(
                    bad_cells_issue(
                        "negative_count",
                        frame,
                        column,
                        negative,
                        source,
                        "counts must be zero or more",
                    )
                )
        out[column] = values
    for column, measure in sorted(needs.yes_no.items()):
        values, bad = parse_yes_no(frame[column], measure.yes_words, measure.no_words)
        if bad.any():
            issues.append(
                bad_cells_issue(
                    "not_yes_no",
                    frame,
                    column,
                    bad,
                    source,
                    f"values must be yes or no ({', '.join(measure.yes_words[:3])} / "
                    f"{', '.join(measure.no_words[:3])})",
                )
            )
        out[column] = values
    if isinstance(table, SurveyInput):
        issues += _prepare_survey(frame, source, table, needs, out, counts)
    for ratio in needs.ratios:
        issues += _ratio_rows(out, frame, source, ratio)
    if needs.one_row_per_unit and not no_id.any():
        dup = out[UNIT].duplicated(keep=False).to_numpy()
        if dup.any():
            issues.append(
                bad_cells_issue(
                    "duplicate_unit",
                    frame,
                    table.unit_column,
                    dup,
                    source,
                    "each unit must have one row in this table (its values are read one per unit)",
                )
            )
    return out, issues, counts


TOTAL_WORDS = frozenset({"tổng cộng", "tổng", "cộng", "tổng số", "total", "grand total", "sum"})


def _totals_rows(frame: pd.DataFrame, unit_column: str) -> np.ndarray:
    """Rows that are a spreadsheet's totals line ("Tổng cộng"): their unit cell is empty or a
    totals word, and a text cell in the row says so. They are skipped and counted, not read as
    a unit."""
    ids = frame[unit_column]
    candidate = np.array(
        ids.isna() | ids.map(lambda v: isinstance(v, str) and v.strip().lower() in TOTAL_WORDS),
        dtype=bool,
    )
    if not candidate.any():
        return candidate
    text = frame.loc[candidate].drop(columns=[ROW]).astype(object)
    says_total = text.apply(
        lambda row: any(
            isinstance(v, str) and v.strip().lower().rstrip(":") in TOTAL_WORDS for v in row
        ),
        axis=1,
    )
    out = np.zeros(len(frame), dtype=bool)
    out[np.flatnonzero(candidate)[np.array(says_total, dtype=bool)]] = True
    return out


def _prepare_survey(
    frame: pd.DataFrame,
    source: Source,
    table: SurveyInput,
    needs: _Needs,
    out: pd.DataFrame,
    counts: list[dict[str, object]],
) -> list[Issue]:
    issues: list[Issue] = []
    low, high = table.scale.min, table.scale.max
    dont_know = np.array(table.dont_know, dtype="float64")
    for column in sorted(needs.answers):
        values, bad = parse_numbers(frame[column], table.decimal)
        blank = np.isnan(values) & ~bad
        unknown = np.isin(values, dont_know)
        valid = (values >= low) & (values <= high) & (values == np.round(values))
        outside = ~(valid | unknown | blank)
        if outside.any():
            codes = f"; don't-know codes {table.dont_know}" if table.dont_know else ""
            issues.append(
                bad_cells_issue(
                    "answer_out_of_scale",
                    frame,
                    column,
                    outside,
                    source,
                    f"answers must be whole numbers {low}–{high}{codes} or blank",
                )
            )
        values = np.where(valid, values, np.nan)
        out[column] = values
        counts.append(
            {"table": source.table, "what": f"answers {column}: valid", "count": int(valid.sum())}
        )
        counts.append(
            {
                "table": source.table,
                "what": f"answers {column}: don't know (excluded)",
                "count": int(unknown.sum()),
            }
        )
        counts.append(
            {
                "table": source.table,
                "what": f"answers {column}: blank (excluded)",
                "count": int(blank.sum()),
            }
        )
    if table.respondent_column:
        respondents = frame[table.respondent_column]
        repeated = np.array(respondents.duplicated(keep=False) & respondents.notna(), dtype=bool)
        if repeated.any():
            issues.append(
                bad_cells_issue(
                    "duplicate_respondent",
                    frame,
                    table.respondent_column,
                    repeated,
                    source,
                    "each respondent must appear once",
                )
            )
    if table.weight_column:
        weights = out[table.weight_column].to_numpy()
        bad = ~(weights > 0)
        if bad.any():
            issues.append(
                bad_cells_issue(
                    "bad_weight",
                    frame,
                    table.weight_column,
                    bad,
                    source,
                    "respondent weights must be positive numbers",
                )
            )
    return issues


def _ratio_rows(
    out: pd.DataFrame, frame: pd.DataFrame, source: Source, ratio: RatioMeasure
) -> list[Issue]:
    numerator = out[ratio.numerator].sum(axis=1, min_count=1).to_numpy()
    denominator = out[ratio.denominator].sum(axis=1, min_count=1).to_numpy()
    first = ratio.numerator[0]
    issues = []
    orphan = ~np.isnan(numerator) & np.isnan(denominator)
    if orphan.any():  # a count with nothing to divide it by would vanish from the ratio
        issues.append(
            bad_cells_issue(
                "blank_denominator",
                frame,
                ratio.denominator[0],
                orphan,
                source,
                f"{' + '.join(ratio.denominator)} must be given where "
                f"{' + '.join(ratio.numerator)} is",
                values=pd.Series([f"{n:g} over a blank" for n in numerator]),
            )
        )
    if not ratio.bounded:
        return issues
    over = numerator > denominator + 1e-9
    if not over.any():
        return issues
    shown = pd.Series([f"{n:g} > {d:g}" for n, d in zip(numerator, denominator, strict=True)])
    return [
        *issues,
        bad_cells_issue(
            "numerator_exceeds_denominator",
            frame,
            first,
            over,
            source,
            f"{' + '.join(ratio.numerator)} must not exceed {' + '.join(ratio.denominator)}",
            values=shown,
            hint="If this ratio may exceed 1, declare bounded: false on the measure.",
        ),
    ]


def _unit_sums(frame: pd.DataFrame, columns: list[str], ids: pd.Index) -> np.ndarray:
    """Per unit of ``ids``, the sum over its rows of ``columns`` (NaN: no value at all), added
    in the order the scoring adds them (so the check sees the numbers that are scored)."""
    values = frame[columns].sum(axis=1, min_count=1).to_numpy(dtype="float64")
    codes = np.array(ids.get_indexer(pd.Index(frame[UNIT])), dtype=np.int64)
    present = ~np.isnan(values) & (codes >= 0)
    sums = np.bincount(codes[present], weights=values[present], minlength=len(ids))
    counts = np.bincount(codes[present], minlength=len(ids))
    return np.where(counts > 0, sums, np.nan)


def _ratio_units(
    spec: IndexSpec, typed: dict[str, pd.DataFrame], infos: dict[str, Source], units: pd.DataFrame
) -> list[Issue]:
    """``bounded`` for a ratio whose denominator is in another table: its rows do not pair up
    with the numerator's, so a unit's numerator sum may not exceed its denominator sum."""
    ids = pd.Index(units["unit_id"])
    issues: list[Issue] = []
    seen: set[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = set()
    for leaf in spec.leaves():
        m = leaf.measure
        if not isinstance(m, RatioMeasure) or m.denominator_table is None or not m.bounded:
            continue
        key = (m.table, tuple(m.numerator), m.denominator_table, tuple(m.denominator))
        if key in seen:
            continue
        seen.add(key)
        top = _unit_sums(typed[m.table], m.numerator, ids)
        bottom = _unit_sums(typed[m.denominator_table], m.denominator, ids)
        over = np.flatnonzero(top > bottom + 1e-9)  # NaN on either side compares False
        if not over.size:
            continue
        shown = ", ".join(
            f"unit '{ids[u]}': {top[u]:.15g} > {bottom[u]:.15g}" for u in over[:MAX_EXAMPLES]
        )
        more = f" (and {over.size - MAX_EXAMPLES} more)" if over.size > MAX_EXAMPLES else ""
        num, den = " + ".join(m.numerator), " + ".join(m.denominator)
        issues.append(
            Issue(
                "numerator_exceeds_denominator",
                f"{infos[m.table].where(column=m.numerator[0])}, node '{leaf.id}'",
                f"a unit's {num} (summed over its rows of table '{m.table}') must not exceed "
                f"its {den} (table '{m.denominator_table}'). Got {shown}{more} instead.",
                "If this ratio may exceed 1, declare bounded: false on the measure.",
            )
        )
    return issues


def _units(
    spec: IndexSpec, frame: pd.DataFrame, source: Source
) -> tuple[pd.DataFrame, list[Issue]]:
    u = spec.units
    table = spec.inputs[units_table_name(spec)]
    id_column = table.unit_column
    issues: list[Issue] = []
    missing = [c for c in (id_column,) if c not in frame.columns]
    if missing:
        return pd.DataFrame(columns=["unit_id", "unit_name", "level", "group"]), [
            Issue(
                "missing_column",
                source.where(column=id_column),
                f"the unit column '{id_column}' is not in the units table.",
                did_you_mean(id_column, list(frame.columns)),
            )
        ]
    content = [c for c in frame.columns if c != ROW]
    rows = frame.loc[~frame[content].isna().all(axis=1)]
    rows = rows.loc[~_totals_rows(rows, id_column)]
    ids = rows[id_column]
    names = rows[u.name_column] if u.name_column else ids
    if u.level_column:
        levels = rows[u.level_column]
    else:
        levels = pd.Series([u.level or "all"] * len(rows), index=rows.index, dtype=object)
    groups = (
        rows[u.group_column]
        if u.group_column
        else pd.Series([None] * len(rows), index=rows.index, dtype=object)
    )
    units = pd.DataFrame(
        {
            "unit_id": ids.to_numpy(dtype=object),
            "unit_name": names.where(names.notna(), ids)
            .map(lambda v: nfc(str(v)))
            .to_numpy(dtype=object),
            "level": levels.map(lambda v: None if pd.isna(v) else nfc(str(v))).to_numpy(
                dtype=object
            ),
            "group": groups.map(lambda v: None if v is None or v != v else nfc(str(v))).to_numpy(
                dtype=object
            ),
        }
    )
    if units["level"].isna().any():
        bad = units["level"].isna().to_numpy()
        issues.append(
            bad_cells_issue(
                "missing_level",
                rows.reset_index(drop=True),
                u.level_column or "level",
                bad,
                source,
                "every unit needs a level",
            )
        )
    if spec.levels is not None:
        bad = ~units["level"].isin(spec.levels).to_numpy() & units["level"].notna().to_numpy()
        if bad.any():
            issues.append(
                bad_cells_issue(
                    "unknown_level",
                    rows.reset_index(drop=True),
                    u.level_column or "level",
                    bad,
                    source,
                    f"levels must be one of {spec.levels}",
                )
            )
    if units["unit_id"].isna().any():
        pass  # already reported as missing_unit_id by _prepare
    dup = units["unit_id"].duplicated(keep=False).to_numpy() & units["unit_id"].notna().to_numpy()
    if dup.any():
        issues.append(
            bad_cells_issue(
                "duplicate_unit",
                rows.reset_index(drop=True),
                id_column,
                dup,
                source,
                "unit ids must be unique in the units table",
            )
        )
    return units.reset_index(drop=True), issues


def _score_levels_only(
    units: pd.DataFrame, typed: dict[str, pd.DataFrame], levels: list[str]
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], list[dict[str, object]]]:
    keep = units["level"].isin(levels).to_numpy()
    if not keep.any():
        present = sorted({str(v) for v in units["level"] if v is not None})
        raise DataError(
            "nothing to score",
            [
                Issue(
                    "no_units",
                    "units.score_levels",
                    f"no unit has a level in {levels}. Levels present: {present}.",
                )
            ],
        )
    dropped = set(units.loc[~keep, "unit_id"])
    counts: list[dict[str, object]] = [
        {
            "table": "units",
            "what": f"units left out: level not in {levels}",
            "count": int((~keep).sum()),
        }
    ]
    out = {}
    for name, frame in typed.items():
        other = frame[UNIT].isin(dropped).to_numpy()
        if other.any():
            counts.append(
                {
                    "table": name,
                    "what": "rows excluded: unit's level not scored",
                    "count": int(other.sum()),
                }
            )
        out[name] = frame.loc[~other].reset_index(drop=True)
    return units.loc[keep].reset_index(drop=True), out, counts


def _match_units(
    spec: IndexSpec, typed: dict[str, pd.DataFrame], infos: dict[str, Source], units: pd.DataFrame
) -> tuple[dict[str, pd.DataFrame], list[dict[str, object]], list[Issue]]:
    known = pd.Index(units["unit_id"])
    issues: list[Issue] = []
    excluded: list[dict[str, object]] = []
    out = {}
    for name, frame in typed.items():
        unknown = ~frame[UNIT].isin(known).to_numpy()
        if unknown.any():
            if spec.units.unknown_units == "exclude":
                excluded.append(
                    {
                        "table": name,
                        "what": "rows excluded: unit not registered",
                        "count": int(unknown.sum()),
                    }
                )
                frame = frame.loc[~unknown].reset_index(drop=True)
            else:
                ids = frame.loc[unknown, UNIT].unique().tolist()
                rows = frame.loc[unknown, ROW].tolist()
                shown = ", ".join(f"'{i}'" for i in ids[: MAX_EXAMPLES * 2])
                more = f" (and {len(ids) - 2 * MAX_EXAMPLES} more)" if len(ids) > 10 else ""
                issues.append(
                    Issue(
                        "unknown_unit",
                        infos[name].where(rows[0], spec.inputs[name].unit_column),
                        f"{int(unknown.sum())} row(s) name units that are not in the units table "
                        f"'{units_table_name(spec)}': {shown}{more}.",
                        "Fix the ids, add the units, or declare units.unknown_units: exclude.",
                    )
                )
        out[name] = frame
    return out, excluded, issues
