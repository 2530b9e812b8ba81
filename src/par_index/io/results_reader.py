"""Re-read results written by ``par-index score`` (.xlsx, .json, .csv or .parquet with their
sidecars), so that last year's published results compare without re-scoring."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from ..errors import DataError, Issue, ParIndexError, data_error
from ..results import (
    DETAIL_COLUMNS,
    RANKING_LEAD,
    UNCERTAINTY_RANK_COLUMNS,
    UNIT_NODE_COLUMNS,
    Results,
    Uncertainty,
)
from ..spec.checks import area_rank_column
from ..spec.index import IndexSpec
from ..spec.loader import parse_yaml, spec_from_data
from .readers import file_format
from .writers import sidecar, unescape_cell

TEXT_COLUMNS = (
    *UNIT_NODE_COLUMNS,
    "parent_id",
    "status",
    "action",
    "tier",
    "tier_nominal",
    "flags",
)


def read_results(path: str | Path) -> Results:
    """Results as written by :func:`par_index.io.writers.write_results`, with their rank
    uncertainty when ``par-index score`` drew it (tables ``uncertainty``,
    ``uncertainty_survey`` and ``uncertainty_removal``)."""
    file = Path(path)
    return _guarded(file, "results", lambda: _read_results(file))


def _read_results(file: Path) -> Results:
    tables, run, criteria = _read_parts(file, RESULTS_TABLES, RESULTS_UNCERTAINTY)
    results = _assemble(file, tables["ranking"], tables["detail"], run, criteria)
    if RESULTS_UNCERTAINTY[0] not in tables:
        return results
    parts = dict(zip(UNCERTAINTY_TABLES, (tables[n] for n in RESULTS_UNCERTAINTY), strict=True))
    spread = _uncertainty(file, results.spec, parts, run)
    return dataclasses.replace(results, uncertainty=spread)


def read_uncertainty(path: str | Path) -> Uncertainty:
    """Rank uncertainty as written by ``par-index uncertainty`` (its three tables, run record
    and criteria). The draws themselves are not written, so ``score_draws`` and
    ``rank_draws`` come back empty (no draws × units)."""
    file = Path(path)

    def read() -> Uncertainty:
        tables, run, criteria = _read_parts(file, UNCERTAINTY_TABLES)
        return _uncertainty(file, _spec(file, criteria), tables, run)

    return _guarded(file, "uncertainty output", read)


def _uncertainty(
    file: Path, spec: IndexSpec, tables: dict[str, pd.DataFrame], run: dict[str, Any]
) -> Uncertainty:
    units = tables["units"]
    absent = [c for c in UNCERTAINTY_UNIT_COLUMNS if c not in units.columns]
    if absent:
        raise DataError(
            f"{file}: cannot read this uncertainty output",
            [
                Issue(
                    "not_results",
                    f"{file.name}, units",
                    f"columns {absent} are missing: this is not a file written by "
                    "par-index uncertainty.",
                )
            ],
        )
    for column in UNCERTAINTY_RANK_COLUMNS:
        if column in units.columns:  # (the group ones came in 2026-12)
            units[column] = pd.to_numeric(units[column]).astype("Int64")
    # booleans as booleans, however the file gave them back ("True", 1, True)
    for name, column in (
        ("units", "flagged"),
        ("survey", "flag_n"),
        ("survey", "flag_margin"),
        ("removal", "is_leaf"),
    ):
        if column in tables[name].columns:
            tables[name][column] = _booleans(tables[name][column])
    for frame in tables.values():
        _text_to_object(frame)
    empty = np.empty((0, len(units)))
    return Uncertainty(
        spec=spec,
        units=units,
        survey=tables["survey"],
        removal=tables["removal"],
        score_draws=empty,
        rank_draws=empty.copy(),
        unit_ids=[str(u) for u in units["unit_id"]],
        run=run,
    )


T = TypeVar("T")

RESULTS_TABLES = ("ranking", "detail")
"""The tables of a results output, the first at the path, each other a sheet or sidecar."""
RESULTS_UNCERTAINTY = ("uncertainty", "uncertainty_survey", "uncertainty_removal")
"""The tables of the rank uncertainty in a results output (when ``score`` drew it)."""
UNCERTAINTY_TABLES = ("units", "survey", "removal")
UNCERTAINTY_UNIT_COLUMNS = (
    "unit_id",
    "unit_name",
    "level",
    "score_nominal",
    "rank_nominal",
    "rank_median",
    "rank_p05",
    "rank_p95",
    "flagged",
)


def _guarded(file: Path, what: str, read: Callable[[], T]) -> T:
    """``read()``, with any error a damaged file causes (a parser's, a value that is not a
    number, …) turned into a message that names the file, never a traceback."""
    try:
        return read()
    except (ParIndexError, MemoryError):
        raise
    except Exception as exc:
        raise data_error("not_results", str(file), f"cannot read this {what}: {exc}") from None


def _read_parts(
    file: Path, names: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[dict[str, pd.DataFrame], dict[str, Any], str | None]:
    """The named tables (and those of ``optional`` that are there), the run record and the
    criteria text of an output written by :func:`par_index.io.writers.write_tables`, whatever
    its format."""
    suffix = file.suffix.lower()
    if suffix == ".json":
        if not file.exists():
            raise data_error("not_found", str(file), "the file does not exist.")
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise data_error("not_results", str(file), f"not a results file: {exc}") from None
        if not isinstance(document, dict):
            raise data_error("not_results", str(file), "not a results file.")
        tables = {name: pd.DataFrame(document.get(name) or []) for name in names}
        for name in optional:
            if name in document:
                tables[name] = pd.DataFrame(document[name] or [])
        return tables, document.get("run") or {}, document.get("criteria")
    kind = file_format(file)
    if kind == "xlsx":
        return _read_xlsx(file, names, optional)
    tables = {
        name: _read_table(file if i == 0 else sidecar(file, name), kind)
        for i, name in enumerate(names)
    }
    for name in optional:
        if sidecar(file, name).exists():
            tables[name] = _read_table(sidecar(file, name), kind)
    run = _read_json(sidecar(file, "run", ".json"))
    criteria_path = sidecar(file, "criteria", ".yaml")
    criteria = criteria_path.read_text("utf-8") if criteria_path.exists() else None
    return tables, run, criteria


def _read_xlsx(
    file: Path, names: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[dict[str, pd.DataFrame], dict[str, Any], str | None]:
    from python_calamine import CalamineWorkbook

    try:
        from .readers import _check_xlsx

        _check_xlsx(file)  # the same pre-flight as any input workbook
        sheets = CalamineWorkbook.from_path(str(file)).sheet_names
    except Exception as exc:
        raise data_error("unreadable", str(file), f"cannot open the workbook: {exc}") from None
    missing = [s for s in names if s not in sheets]
    if missing:
        quoted = [f"'{s}'" for s in names]
        expected = ", ".join(quoted[:-1]) + " and " + quoted[-1]
        what = "a results" if names == RESULTS_TABLES else "an uncertainty"
        raise data_error(
            "not_results",
            str(file),
            f"{what} workbook has sheets {expected}. Missing: {missing}; sheets present: {sheets}.",
        )
    text = dict.fromkeys(TEXT_COLUMNS, str)
    # keep_default_na=False: a unit may be called "NA" or "None"
    tables = {
        name: pd.read_excel(
            file,
            sheet_name=name,
            engine="calamine",
            dtype=text,
            keep_default_na=False,
            na_values=[""],
        )
        for name in [*names, *(n for n in optional if n in sheets)]
    }
    run: dict[str, Any] = {}
    if "run" in sheets:
        for key, value in pd.read_excel(
            file, sheet_name="run", engine="calamine", dtype=str
        ).itertuples(index=False):
            run[str(key)] = _run_value(value)
    criteria = None
    if "criteria" in sheets:
        lines = pd.read_excel(
            file, sheet_name="criteria", engine="calamine", dtype=str, keep_default_na=False
        )
        criteria = "\n".join(lines.iloc[:, 0].tolist()) + "\n"
    return tables, run, criteria


def _run_value(value: Any) -> Any:
    """A run-record cell: a nested record (written as JSON text) is decoded again."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _booleans(column: pd.Series) -> pd.Series:
    return column.astype(str).str.lower().isin(["true", "1"])


def _text_to_object(frame: pd.DataFrame) -> None:
    """Text columns as Python strings with None (not NaN) where missing."""
    for column in TEXT_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)


def _spec(file: Path, criteria: str | None) -> IndexSpec:
    if criteria is None:
        raise DataError(
            f"{file}: cannot read this file",
            [
                Issue(
                    "no_criteria",
                    str(file),
                    "the file does not carry the criteria it was computed with (written by "
                    "an older par-index?).",
                )
            ],
        )
    data, lines, _ = parse_yaml(criteria, f"{file} (criteria)")
    return spec_from_data(data, f"{file} (criteria)", lines)


def _read_table(file: Path, kind: str) -> pd.DataFrame:
    if not file.exists():
        raise data_error(
            "not_found",
            str(file),
            "this part of the results is missing (results "
            "written as .csv/.parquet keep the detail and run record beside the "
            "ranking).",
        )
    if kind == "parquet":
        return pd.read_parquet(file)
    frame = pd.read_csv(
        file,
        encoding="utf-8-sig",
        dtype=dict.fromkeys(TEXT_COLUMNS, str),
        keep_default_na=False,
        na_values=[""],
    )
    return _unescape(frame)


def _unescape(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo the apostrophe that CSV output puts before text a spreadsheet would evaluate."""
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype(object).map(unescape_cell)
    return frame


def _read_json(file: Path) -> dict[str, Any]:
    if not file.exists():
        return {}
    try:
        loaded = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise data_error(
            "not_results", str(file), f"the run record is not valid JSON: {exc}"
        ) from None
    return loaded if isinstance(loaded, dict) else {}


def _assemble(
    file: Path,
    ranking: pd.DataFrame,
    detail: pd.DataFrame,
    run: dict[str, Any],
    criteria: str | None,
) -> Results:
    issues = []
    for name, frame, needed in (
        ("ranking", ranking, RANKING_LEAD),
        ("detail", detail, DETAIL_COLUMNS),
    ):
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            issues.append(
                Issue(
                    "not_results",
                    f"{file.name}, {name}",
                    f"columns {absent} are missing: this is not a results file "
                    "written by par-index score.",
                )
            )
    if criteria is None:
        issues.append(
            Issue(
                "no_criteria",
                str(file),
                "the results do not carry the criteria "
                "they were scored with (written by an older par-index?).",
            )
        )
    if issues:
        raise DataError(f"{file}: cannot read these results", issues)
    spec = _spec(file, criteria)
    area_ranks = [area_rank_column(a.id) for a in spec.criteria]
    for frame in (ranking, detail):
        for column in ("rank", "rank_in_group", *area_ranks):
            if column in frame.columns:  # (area ranks came in 2026-12)
                frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        _text_to_object(frame)
    detail["is_leaf"] = _booleans(detail["is_leaf"])
    return Results(spec=spec, ranking=ranking, detail=detail[DETAIL_COLUMNS], run=run)
