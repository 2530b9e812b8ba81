"""Re-read results written by ``par-index score`` (.xlsx, .json, .csv or .parquet with their
sidecars), so that last year's published results compare without re-scoring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, Issue, ParIndexError, data_error
from ..results import DETAIL_COLUMNS, RANKING_LEAD, Results
from ..spec.loader import parse_yaml, spec_from_data
from .readers import file_format
from .writers import sidecar, unescape_cell

TEXT_COLUMNS = (
    "unit_id",
    "unit_name",
    "level",
    "group",
    "node_id",
    "node_name",
    "parent_id",
    "status",
    "action",
    "tier",
)


def read_results(path: str | Path) -> Results:
    """Results as written by :func:`par_index.io.writers.write_results`."""
    try:
        return _read_results(Path(path))
    except (ParIndexError, MemoryError):
        raise
    except Exception as exc:  # a damaged file: any parser error is a message, not a traceback
        raise data_error("not_results", str(path), f"cannot read these results: {exc}") from None


def _read_results(file: Path) -> Results:
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
        ranking = pd.DataFrame(document.get("ranking") or [])
        detail = pd.DataFrame(document.get("detail") or [])
        run, criteria = document.get("run") or {}, document.get("criteria")
    else:
        kind = file_format(file)
        if kind == "xlsx":
            ranking, detail, run, criteria = _read_xlsx(file)
        else:
            ranking, detail = _read_table(file, kind), _read_table(sidecar(file, "detail"), kind)
            run = _read_json(sidecar(file, "run", ".json"))
            criteria_path = sidecar(file, "criteria", ".yaml")
            criteria = criteria_path.read_text("utf-8") if criteria_path.exists() else None
    return _assemble(file, ranking, detail, run, criteria)


def _read_xlsx(file: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], str | None]:
    from python_calamine import CalamineWorkbook

    try:
        from .readers import _check_xlsx

        _check_xlsx(file)  # the same pre-flight as any input workbook
        sheets = CalamineWorkbook.from_path(str(file)).sheet_names
    except Exception as exc:
        raise data_error("unreadable", str(file), f"cannot open the workbook: {exc}") from None
    missing = [s for s in ("ranking", "detail") if s not in sheets]
    if missing:
        raise data_error(
            "not_results",
            str(file),
            f"a results workbook has sheets 'ranking' "
            f"and 'detail'. Missing: {missing}; sheets present: {sheets}.",
        )
    text = dict.fromkeys(TEXT_COLUMNS, str)
    # keep_default_na=False: a unit may be called "NA" or "None"
    ranking = pd.read_excel(
        file,
        sheet_name="ranking",
        engine="calamine",
        dtype=text,
        keep_default_na=False,
        na_values=[""],
    )
    detail = pd.read_excel(
        file,
        sheet_name="detail",
        engine="calamine",
        dtype=text,
        keep_default_na=False,
        na_values=[""],
    )
    run: dict[str, Any] = {}
    if "run" in sheets:
        for key, value in pd.read_excel(
            file, sheet_name="run", engine="calamine", dtype=str
        ).itertuples(index=False):
            run[str(key)] = value
    criteria = None
    if "criteria" in sheets:
        lines = pd.read_excel(
            file, sheet_name="criteria", engine="calamine", dtype=str, keep_default_na=False
        )
        criteria = "\n".join(lines.iloc[:, 0].tolist()) + "\n"
    return ranking, detail, run, criteria


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
    assert criteria is not None
    data, lines, _ = parse_yaml(criteria, f"{file} (criteria)")
    spec = spec_from_data(data, f"{file} (criteria)", lines)
    for frame in (ranking, detail):
        for column in ("rank", "rank_in_group"):
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
        for column in TEXT_COLUMNS:
            if column in frame.columns:
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    detail["is_leaf"] = detail["is_leaf"].astype(str).str.lower().isin(["true", "1"])
    return Results(spec=spec, ranking=ranking, detail=detail[DETAIL_COLUMNS], run=run)
